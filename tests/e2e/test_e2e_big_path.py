"""A log given on the command line that is big enough to be parsed by several processes.

``ingest.parallel`` starts its workers with multiprocessing "spawn", which runs the parent's
``__main__`` again in each of them (as ``__mp_main__``); under Streamlit that is the app's entry
script. Without its guard every worker drew the app in bare mode on the same command-line paths,
started workers of its own, and the page showed ``BrokenProcessPool``.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from e2e_support import REPO, VIEWPORT, App, start_server, stop
from playwright.sync_api import Browser, expect

from ingest.parallel import PARALLEL_MIN_BYTES

pytestmark = pytest.mark.e2e


def _big_log(folder: Path) -> Path:
    """A generated JSON-lines log just above the size parsed by several processes."""
    size = PARALLEL_MIN_BYTES + (1 << 20)
    generator = REPO / "bench" / "generate_logs.py"
    args = ["--out", str(folder), "--profile", "bench", "--size", str(size), "--kind", "jsonl"]
    subprocess.run(
        [sys.executable, str(generator), *args],
        check=True,
        capture_output=True,
    )
    (path,) = folder.glob("bench_jsonl_*")
    return path


def test_a_big_log_on_the_command_line_is_parsed_by_workers(
    browser: Browser, tmp_path: Path
) -> None:
    log = _big_log(tmp_path)
    assert log.stat().st_size >= PARALLEL_MIN_BYTES
    server = start_server([str(log)], tmp_path / "server.log")
    try:
        context = browser.new_context(viewport=VIEWPORT)  # type: ignore[arg-type]
        app = App(context.new_page(), server.url)
        app.page.goto(server.url + "/")
        expect(app.kpi("Calls seen")).to_have_text(re.compile(r"\d{3},\d{3}"), timeout=120_000)
        app.expect_no_exception()
        context.close()
    finally:
        stop(server.proc)
