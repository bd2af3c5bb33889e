"""Smoke test of the bench profile and harness on ~1 MB logs. Shapes only; nothing is timed."""

from __future__ import annotations

import ast
import importlib.util
import json
import re
import sys
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parent.parent
SIZE = 1 << 20
PY_TS = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} ")


def _load(name: str) -> ModuleType:
    sys.path.insert(0, str(REPO / "bench"))
    try:
        spec = importlib.util.spec_from_file_location(name, REPO / "bench" / f"{name}.py")
        assert spec
        assert spec.loader
        mod = importlib.util.module_from_spec(spec)
        sys.modules[name] = mod
        spec.loader.exec_module(mod)
        return mod
    finally:
        sys.path.remove(str(REPO / "bench"))


gen = _load("generate_logs")


@pytest.fixture(scope="module")
def logs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("bench")
    return {kind: gen.write_bench(out, kind, SIZE) for kind in gen.KINDS}


@pytest.mark.parametrize("kind", ["jsonl", "text", "openai", "mixed"])
def test_size_and_determinism(kind: str, logs: dict[str, Path], tmp_path: Path) -> None:
    path = logs[kind]
    assert SIZE <= path.stat().st_size < SIZE + (1 << 20)
    again = gen.write_bench(tmp_path, kind, SIZE)
    assert again.read_bytes() == path.read_bytes()
    assert path.read_bytes().endswith(b"\n")


def test_jsonl_is_one_call_per_line_about_90_percent_ok(logs: dict[str, Path]) -> None:
    rows = [json.loads(line) for line in logs["jsonl"].read_text(encoding="utf-8").splitlines()]
    assert len(rows) > 3000
    for r in rows:
        assert {"ts", "level", "model", "status_code", "request_id", "code", "message"} <= set(r)
    ok = sum(r["status_code"] == 200 for r in rows) / len(rows)
    assert 0.85 < ok < 0.95


def test_text_lines_are_python_logging(logs: dict[str, Path]) -> None:
    lines = logs["text"].read_text(encoding="utf-8").splitlines()
    assert all(PY_TS.match(line) for line in lines)
    errors = [line for line in lines if " ERROR " in line]
    assert 0.05 < len(errors) / len(lines) < 0.15
    assert any('{"status_code": 429, "request_id": "' in line for line in errors)
    assert any("Request id: " in line for line in errors)


def test_openai_has_httpx_lines_retries_and_tracebacks(logs: dict[str, Path]) -> None:
    text = logs["openai"].read_text(encoding="utf-8")
    url = "https://dashscope.aliyuncs.com/compatible-mode/v1/chat/completions"
    assert f'HTTP Request: POST {url} "HTTP/1.1 200 OK"' in text
    assert "Retrying request to /chat/completions in 0." in text
    assert "Traceback (most recent call last):" in text
    bodies = re.findall(r"^openai\.\w+: Error code: (\d{3}) - (\{.*\})$", text, re.MULTILINE)
    assert bodies
    for status, body in bodies:
        obj = ast.literal_eval(body)
        assert obj["error"]["code"]
        assert obj["id"] == f"chatcmpl-{obj['request_id']}"
        assert 400 <= int(status) < 600


def test_mixed_holds_every_kind(logs: dict[str, Path]) -> None:
    text = logs["mixed"].read_text(encoding="utf-8")
    assert '{"ts":"' in text
    assert " INFO app.chat: call ok " in text
    assert " - httpx - INFO - HTTP Request: POST " in text


def test_harness_runs_the_cheap_methods(tmp_path: Path) -> None:
    run = _load("run")
    out = tmp_path / "results.json"
    argv = ["--size", "200KB", "--kinds", "jsonl,text", "--methods", "json.loads,grep -c"]
    assert run.main([*argv, "--data-dir", str(tmp_path), "--out", str(out)]) == 0
    doc = json.loads(out.read_text(encoding="utf-8"))
    by = {(r["kind"], r["method"]): r for r in doc["results"]}
    assert set(by) == {("jsonl", "json.loads"), ("jsonl", "grep -c"), ("text", "grep -c")}
    assert by["jsonl", "json.loads"]["events"] > 500
    assert all(r["peak_rss_mb"] > 0 and "problem" not in r for r in by.values())
