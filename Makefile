# dashscope-log-lens: `make help` lists the targets.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8501
STAMP := $(VENV)/.installed-stamp
SAMPLES ?= sample_logs

.DEFAULT_GOAL := help
.PHONY: help run test lint format bench fuzz samples screenshots clean

help: ## list the targets with what each does
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | expand -t 14

$(STAMP): pyproject.toml
	@test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	@touch $(STAMP)

run: $(STAMP) ## start the dashboard on the bundled sample logs at http://127.0.0.1:$PORT (default 8501)
	$(VENV)/bin/dashscope-logs app $(SAMPLES) --port $(PORT)

test: $(STAMP) ## run the whole suite, browser tests included (skipped loudly without chromium, fatal under CI=true)
	$(PY) -m pytest

lint: $(STAMP) ## ruff check, ruff format --check, mypy --strict on ingest/
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

format: $(STAMP) ## apply ruff's fixes and formatting
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

bench: $(STAMP) ## parse-speed and memory benchmarks on generated logs (figures go in the issue notes)
	$(PY) bench/run.py

fuzz: $(STAMP) ## coverage-guided fuzzing of the parser for FUZZ_SECONDS (default 60)
	$(PY) tests/fuzz/fuzz_ingest.py -max_total_time=$${FUZZ_SECONDS:-60} tests/fuzz/corpus

samples: $(STAMP) ## regenerate sample_logs/ with the generator (deterministic)
	$(PY) bench/generate_logs.py --out $(SAMPLES) --profile samples

screenshots: $(STAMP) ## refresh docs/screenshots/ (and the README's picture) from the browser tests
	UPDATE_SCREENSHOTS=1 $(PY) -m pytest tests/e2e -k screenshot

clean: ## remove the virtualenv and caches
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
