"""The hostile corpus (tests/hostile/make_corpus.py) through the CLI, the library and the app.

For each input: the CLI parses what it can or exits 1 with one clear line (never a traceback);
every file's lines balance (read = in events + ignored + unparsed); the events do not depend on
the chunk size or the number of processes; the app shows a message, not an exception; the big
ones (a 50 MB line, a 1 GB gzip bomb, a million JSON keys) run in bounded memory.
"""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from streamlit.testing.v1 import AppTest

from ingest import load_events, parallel, pipeline, sources
from ingest.cli import main
from ingest.sources import iter_text_chunks

sys.path.insert(0, str(Path(__file__).parent / "hostile"))
import make_corpus

REPO = Path(__file__).resolve().parent.parent
APP = REPO / "app" / "streamlit_app.py"
SAMPLES = sorted((REPO / "sample_logs").iterdir())

#: files that hold at least one DashScope failure the parser must still find
WITH_EVENTS = {
    "nul.log": 1,
    "invalid-utf8.log": 1,
    "gb18030.log": 2,
    "utf16.log": 2,
    "utf16-no-bom.log": 1,
    "crlf.log": 1,
    "lone-cr.log": 1,
    "truncated.log.gz": 1,
    "deep-json.log": 1,
    "timestamps.log": 3,
    "traversal.zip": 4,
    "many-members.zip": 400,
    "nested.zip": 3,
}
#: files with nothing to parse: exit 1 with one line
NOTHING = {"empty.log", "image.png.log", "program.elf.log"}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("hostile")
    return {p.name: p for p in make_corpus.write_corpus(out)}


def test_the_corpus_covers_every_case(corpus: dict[str, Path]) -> None:
    assert set(corpus) == WITH_EVENTS.keys() | NOTHING


def run_cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    assert not isinstance(result.exception, Exception) or isinstance(
        result.exception, SystemExit
    ), result.exception
    return result.exit_code, result.output


@pytest.mark.parametrize("name", sorted(WITH_EVENTS.keys() | NOTHING))
def test_cli_parses_what_it_can_or_says_one_line(
    name: str, corpus: dict[str, Path], tmp_path: Path
) -> None:
    out = tmp_path / "events.jsonl"
    code, output = run_cli("parse", str(corpus[name]), "-o", str(out))
    assert "Traceback" not in output
    assert code in (0, 1), output
    errors = [ln for ln in output.splitlines() if ln.startswith("Error:")]
    if name in NOTHING:
        assert code == 1
        assert len(errors) == 1, output
        return
    assert code == 0, output
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(rows) >= WITH_EVENTS[name], output


@pytest.mark.parametrize(
    "name",
    sorted(WITH_EVENTS.keys() | NOTHING),
)
def test_summary_never_shows_a_traceback(name: str, corpus: dict[str, Path]) -> None:
    code, output = run_cli("summary", str(corpus[name]))
    assert "Traceback" not in output
    assert code in (0, 1)


def test_zip_member_names_are_labels_never_paths(corpus: dict[str, Path], tmp_path: Path) -> None:
    before = set(tmp_path.parent.rglob("*"))
    events, report = load_events(str(corpus["traversal.zip"]))
    assert {f.source.split("!", 1)[1] for f in report.files} == {
        "../../evil.log",
        "/etc/passwd.log",
        "..\\..\\win.log",
        "ok/app.log",
    }
    assert len(events) == 4
    assert set(tmp_path.parent.rglob("*")) == before  # nothing extracted anywhere
    assert not Path("/etc/passwd.log").exists()


def test_nested_archives_are_read_in_memory_down_to_a_depth(corpus: dict[str, Path]) -> None:
    _events, report = load_events(str(corpus["nested.zip"]))
    names = [f.source for f in report.files]
    assert any(n.count("!") == 3 for n in names), names  # two archives deep, read
    too_deep = [f for f in report.files if f.problem and "nested" in f.problem]
    assert too_deep, names


def test_truncated_gzip_keeps_what_was_read(corpus: dict[str, Path]) -> None:
    events, report = load_events(str(corpus["truncated.log.gz"]))
    assert len(events) >= 1
    assert "truncated" in (report.files[0].problem or "")


def test_timestamps_out_of_range_are_null_and_mixed_zones_are_utc(
    corpus: dict[str, Path],
) -> None:
    events, report = load_events(str(corpus["timestamps.log"]))
    ts = events["timestamp"]
    assert str(ts.dtype) == "datetime64[ns, UTC]"
    present = ts.dropna()
    assert len(present) >= 1
    assert present.between(
        pd.Timestamp("1971-01-01", tz="UTC"), pd.Timestamp("2100-01-01", tz="UTC")
    ).all()
    assert report.files[0].balanced


def test_gzip_bomb_cap_is_relative_and_configurable() -> None:
    assert sources.decompressed_cap(1 << 20) == max(sources.MIN_ALLOWANCE, 100 << 20)
    assert sources.decompressed_cap(10) == sources.MIN_ALLOWANCE
    assert sources.decompressed_cap(1 << 40) == sources.MAX_DECOMPRESSED
    message = sources.bomb_message(1 << 20, 100 << 20)
    assert "gunzip" in message
    assert "DASHSCOPE_LOGS_MAX_RATIO" in message


def test_a_small_gzip_bomb_is_refused_with_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sources, "MIN_ALLOWANCE", 1 << 20)
    path = make_corpus.write_gzip_bomb(tmp_path / "small-bomb.log.gz", size=64 << 20)
    code, output = run_cli("parse", str(path), "-o", str(tmp_path / "e.jsonl"))
    assert code == 1
    (line,) = [ln for ln in output.splitlines() if ln.startswith("Error:")]
    assert "decompression bomb" in line
    assert "Traceback" not in output


def test_a_zip_bomb_member_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sources, "MIN_ALLOWANCE", 1 << 20)
    events, report = load_events(("bomb.zip", make_corpus.zip_bomb_member()))
    problems = dict(report.problems)
    assert "decompression bomb" in problems["bomb.zip!zeros.log"]
    assert len(events) == 1  # ok.log still parsed


# -- nothing lost: accounting, chunk sizes, processes ------------------------------------------


def _all_inputs(corpus: dict[str, Path]) -> list[Path]:
    return [p for n, p in sorted(corpus.items()) if n != "many-members.zip"] + SAMPLES


@pytest.mark.parametrize("chunk", [64, 4096])
def test_every_file_balances_and_ignores_the_chunk_size(
    corpus: dict[str, Path], chunk: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    for path in _all_inputs(corpus):
        expected, r1 = load_events(str(path), workers=1)
        for f in r1.files:
            assert f.balanced, (f.source, f.lines_read, f.lines_in_events, f.ignored, f.unparsed)
        with monkeypatch.context() as m:
            m.setattr(
                pipeline, "iter_text_chunks", functools.partial(iter_text_chunks, chunk_bytes=chunk)
            )
            events, r2 = load_events(str(path), workers=1)
        pd.testing.assert_frame_equal(events, expected, obj=path.name)
        assert [f.lines_read for f in r2.files] == [f.lines_read for f in r1.files], path.name
        assert all(f.balanced for f in r2.files)


PLAIN_NAMES = sorted(
    n for n, f in make_corpus.SMALL.items() if not n.endswith((".gz", ".zip")) and n != "empty.log"
)


@pytest.mark.parametrize(
    "name",
    PLAIN_NAMES,
)
def test_events_do_not_depend_on_the_number_of_processes(
    name: str, corpus: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(parallel, "PARALLEL_MIN_BYTES", 1)
    path = corpus[name]
    one, r1 = load_events(str(path), workers=1)
    two, r2 = load_events(str(path), workers=2)
    pd.testing.assert_frame_equal(
        one.reset_index(drop=True), two.reset_index(drop=True), check_categorical=False
    )
    a, b = r1.files[0], r2.files[0]
    assert (a.lines_read, a.lines_in_events, a.ignored, a.unparsed) == (
        b.lines_read,
        b.lines_in_events,
        b.ignored,
        b.unparsed,
    )
    assert b.balanced


# -- the app --------------------------------------------------------------------------------------

APP_CASES = [
    "empty.log",
    "image.png.log",
    "program.elf.log",
    "nul.log",
    "utf16.log",
    "truncated.log.gz",
    "traversal.zip",
    "nested.zip",
    "deep-json.log",
    "timestamps.log",
]


@pytest.mark.parametrize("name", APP_CASES)
def test_app_upload_shows_a_message_not_a_traceback(
    name: str, corpus: dict[str, Path], fresh_caches: None
) -> None:
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.run()
    at.file_uploader(key="upload").set_value(
        (name, corpus[name].read_bytes(), "application/octet-stream")
    ).run()
    assert not at.exception, [e.value for e in at.exception]
    sidebar = " ".join(str(c.value) for c in at.sidebar.caption)
    assert name in sidebar  # "N events from <name>": the upload, not the samples, is shown
    if name in NOTHING:
        shown = " ".join(str(x.value) for x in [*at.info, *at.warning, *at.error])
        problems = [df.value for df in at.sidebar.dataframe]
        assert shown or any("problem" in d.columns for d in problems)


# -- memory stays bounded on the big ones --------------------------------------------------------

RSS_PROBE = """
import json, resource, sys
from ingest import load_events
events, report = load_events(sys.argv[1], workers=1)
print(json.dumps({
    "events": len(events),
    "balanced": all(f.balanced for f in report.files),
    "problems": [p for _s, p in report.problems],
    "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
}))
"""


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("hostile-big")
    return {name: write(out / name) for name, write in make_corpus.BIG.items()}


@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "max_mb", "events"),
    [("long-line.log", 900, 1), ("bomb.log.gz", 700, 0), ("million-keys.jsonl", 1200, 2)],
)
def test_big_inputs_run_in_bounded_memory(
    name: str, max_mb: int, events: int, big: dict[str, Path]
) -> None:
    proc = subprocess.run(
        [sys.executable, "-c", RSS_PROBE, str(big[name])],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    result = json.loads(proc.stdout)
    assert result["balanced"]
    assert result["events"] >= events
    assert result["max_rss_mb"] < max_mb, result
    if name == "bomb.log.gz":
        assert any("decompression bomb" in p for p in result["problems"]), result


@pytest.mark.slow
def test_cli_on_the_bomb_is_one_line(big: dict[str, Path], tmp_path: Path) -> None:
    code, output = run_cli("parse", str(big["bomb.log.gz"]), "-o", str(tmp_path / "e.jsonl"))
    assert code == 1
    assert [ln for ln in output.splitlines() if ln.strip()] == [
        ln for ln in output.splitlines() if ln.startswith("Error:")
    ]
    assert "decompression bomb" in output
