"""A short run of the atheris fuzz target in CI: it must end without a crash (exit 0)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
TARGET = REPO / "tests" / "fuzz" / "fuzz_ingest.py"
SEEDS = REPO / "tests" / "fuzz" / "corpus"
SECONDS = int(os.environ.get("FUZZ_SMOKE_SECONDS", "12"))


@pytest.mark.slow
def test_fuzz_target_runs_without_a_crash(tmp_path: Path) -> None:
    pytest.importorskip("atheris")
    corpus = tmp_path / "corpus"
    shutil.copytree(SEEDS, corpus)  # libFuzzer adds inputs to its corpus dir: not the repo's
    proc = subprocess.run(
        [
            sys.executable,
            str(TARGET),
            f"-max_total_time={SECONDS}",
            "-rss_limit_mb=2048",
            "-timeout=20",
            str(corpus),
        ],
        cwd=tmp_path,  # crash-* artefacts land here, not in the repo
        capture_output=True,
        text=True,
        timeout=SECONDS + 120,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        check=False,
    )
    tail = proc.stderr[-3000:]
    assert proc.returncode == 0, tail
    assert "Done" in proc.stderr, tail
    assert not list(tmp_path.glob("crash-*")), tail
