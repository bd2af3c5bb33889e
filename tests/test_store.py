"""The event store: idempotent, resumable, tail-only ingest; local engine equals one process."""

from __future__ import annotations

import contextlib
import gzip
import os
import signal
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from ingest import queries
from ingest.cli import main
from ingest.parallel import plan_ranges
from ingest.store import is_dataset
from ingest.store.ingester import STOP_AFTER_ENV, ingest_dataset
from ingest.store.manifest import Manifest
from ingest.store.query import DatasetQuery
from ingest.store.rollups import LEVELS, shared_ids_path

REPO = Path(__file__).resolve().parent.parent
SAMPLES = REPO / "sample_logs"
SEGMENT = 1 << 20  # small segments: several byte ranges per generated file


def dataset_events(dataset: Path) -> pd.DataFrame:
    store = DatasetQuery(dataset)
    try:
        return store.events().reset_index(drop=True)
    finally:
        store.close()


def assert_rollups_match(dataset: Path) -> None:
    """The rollups hold exactly the events: the files on disk are the manifest's, every level
    sums to the event count, and the answers from rollups are those from the events."""
    manifest = Manifest.load(dataset)
    assert manifest is not None
    found = sorted(
        p.relative_to(dataset).as_posix() for p in (dataset / "rollups").rglob("part-*.parquet")
    )
    assert found == manifest.rollup_parts()
    assert [p.name for p in (dataset / "rollups").glob("ids-*.parquet")] == [
        Path(shared_ids_path(manifest.parts())).name
    ]
    rolled, plain = DatasetQuery(dataset), DatasetQuery(dataset, rollups=False)
    try:
        assert rolled.rollups
        assert rolled.shared_ids
        for level in LEVELS:
            assert rolled.fetch(f"SELECT sum(n) FROM r_{level}")[0][0] == manifest.events
        assert rolled.kpis() == plain.kpis()
        k = rolled.kpis()
        bucket = queries.choose_bucket(k.first, k.last)
        for name in ("errors_over_time", "throttling_over_time"):
            a = getattr(rolled, name)(None, bucket, "Asia/Shanghai")
            b = getattr(plain, name)(None, bucket, "Asia/Shanghai")
            pd.testing.assert_frame_equal(a.totals, b.totals)
            pd.testing.assert_frame_equal(a.counts, b.counts)
        pd.testing.assert_frame_equal(rolled.top_codes(), plain.top_codes())
        pd.testing.assert_frame_equal(rolled.per_model(), plain.per_model())
        pd.testing.assert_frame_equal(rolled.status_distribution(), plain.status_distribution())
        # the request-ids page: from the failed-call files, as from the events
        assert rolled.failed
        for limit in (None, 3):
            pd.testing.assert_frame_equal(
                rolled.top_request_ids(limit=limit), plain.top_request_ids(limit=limit)
            )
        assert rolled.request_id_count() == plain.request_id_count()
        pd.testing.assert_frame_equal(
            rolled.failures_without_request_id(), plain.failures_without_request_id()
        )
        pd.testing.assert_frame_equal(
            rolled.events(errors_only=True), plain.events(errors_only=True)
        )
    finally:
        rolled.close()
        plain.close()


def assert_same_dataset(a: Path, b: Path) -> None:
    """Same events (every column), same per-file counts, same stored report; rollups that
    match the events in both."""
    assert_rollups_match(a)
    assert_rollups_match(b)
    pd.testing.assert_frame_equal(dataset_events(a), dataset_events(b), check_categorical=False)
    ma, mb = Manifest.load(a), Manifest.load(b)
    assert ma is not None
    assert mb is not None
    assert ma.events == mb.events
    assert {e.path: e.events for e in ma.files.values()} == {
        e.path: e.events for e in mb.files.values()
    }
    assert (a / "report.json").read_text() == (b / "report.json").read_text()


@pytest.fixture(scope="module")
def serial(logs: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The reference dataset: everything parsed in this process."""
    dataset = tmp_path_factory.mktemp("serial") / "ds"
    ingest_dataset([str(logs)], dataset, engine="local", workers=1, segment_bytes=SEGMENT)
    return dataset


def test_local_engine_equals_one_process_and_reingest_adds_nothing(
    logs: Path, serial: Path, tmp_path: Path
) -> None:
    dataset = tmp_path / "ds"
    first = ingest_dataset([str(logs)], dataset, workers=2, segment_bytes=SEGMENT)
    assert first.engine == "local"
    assert first.segments > len(list(logs.iterdir()))  # the big file was cut in ranges
    assert_same_dataset(dataset, serial)
    parts = {p.relative_to(dataset): p.stat().st_mtime_ns for p in dataset.rglob("*.parquet")}
    assert any(p.parts[0] == "rollups" for p in parts)
    again = ingest_dataset([str(logs)], dataset, workers=2, segment_bytes=SEGMENT)
    assert (again.events_added, again.segments) == (0, 0)
    assert len(again.unchanged_files) == len(list(logs.iterdir()))
    # nothing rewritten: parts, rollups and the shared-ids file
    assert {p.relative_to(dataset): p.stat().st_mtime_ns for p in dataset.rglob("*.parquet")} == (
        parts
    )
    assert_same_dataset(dataset, serial)


def test_the_dataset_holds_what_load_events_parses(serial: Path) -> None:
    from ingest import load_events

    expected, _ = load_events([str(p) for p in sorted(SAMPLES.iterdir())], workers=1)
    stored = dataset_events(serial)
    names = stored["source"].astype(str).map(lambda s: Path(s.split("!")[0]).name)
    by_name = expected["source"].astype(str).map(lambda s: Path(s.split("!")[0]).name)
    for name, group in expected.groupby(by_name):
        mine = stored[(names == name).to_numpy()]
        for col in ("line", "request_id", "code", "timestamp", "mentions"):
            assert mine[col].tolist() == group[col].tolist(), (name, col)


def _half(src: Path) -> int:
    """A cut near the middle of ``src`` where a record starts."""
    return plan_ranges(str(src), 2)[1][0]


@pytest.mark.parametrize("name", ["python_sdk.log", "java_service.log", "app_events.jsonl"])
def test_an_appended_file_adds_exactly_its_new_events(name: str, tmp_path: Path) -> None:
    data = (SAMPLES / name).read_bytes()
    cut = _half(SAMPLES / name)
    log = tmp_path / name
    log.write_bytes(data[:cut])
    dataset = tmp_path / "grown"
    first = ingest_dataset([str(log)], dataset, workers=1)
    with log.open("ab") as fh:
        fh.write(data[cut:])
    second = ingest_dataset([str(log)], dataset, workers=1)
    assert second.grown_files == [str(log.resolve())]
    assert second.bytes_parsed == len(data) - cut
    whole = tmp_path / "whole"
    reference = ingest_dataset([str(log)], whole, workers=1, segment_bytes=len(data) + 1)
    assert first.events_added + second.events_added == reference.events_added
    got, want = dataset_events(dataset), dataset_events(whole)
    pd.testing.assert_frame_equal(got, want, check_categorical=False)  # line numbers continue
    assert_rollups_match(dataset)  # the tail's rollups add exactly its events
    grown = Manifest.load(dataset)
    assert grown is not None
    tail = [s for e in grown.files.values() for s in e.segments][-1]
    store = DatasetQuery(dataset)
    tail_rollups = [str(dataset / p) for p in tail.rollups if "/minute/" in p]
    assert store.fetch(f"SELECT sum(n) FROM read_parquet({tail_rollups})")[0][0] == (
        second.events_added
    )
    store.close()


def test_an_unfinished_last_line_waits_for_the_rest(tmp_path: Path) -> None:
    data = (SAMPLES / "app_events.jsonl").read_bytes()
    log = tmp_path / "app.jsonl"
    log.write_bytes(data[: data.index(b"\n", len(data) // 2) + 20])  # ends mid-line
    dataset = tmp_path / "ds"
    first = ingest_dataset([str(log)], dataset, workers=1)
    assert first.held_back == {str(log.resolve()): 19}
    log.write_bytes(data)
    ingest_dataset([str(log)], dataset, workers=1)
    whole = tmp_path / "whole"
    ingest_dataset([str(log)], whole, workers=1)
    pd.testing.assert_frame_equal(
        dataset_events(dataset), dataset_events(whole), check_categorical=False
    )


def test_a_rewritten_gzip_replaces_its_events(tmp_path: Path) -> None:
    lines = (SAMPLES / "python_sdk.log").read_bytes().splitlines(keepends=True)
    log = tmp_path / "svc.log.gz"
    log.write_bytes(gzip.compress(b"".join(lines[:2000])))
    dataset = tmp_path / "ds"
    ingest_dataset([str(log)], dataset, workers=1)
    before = len(dataset_events(dataset))
    log.write_bytes(gzip.compress(b"".join(lines)))
    os.utime(log, ns=(1, 1))
    result = ingest_dataset([str(log)], dataset, workers=1)
    assert result.replaced_files == [str(log.resolve())]
    after = dataset_events(dataset)
    plain = tmp_path / "plain"
    ingest_dataset([str(log)], plain, workers=1)
    assert before < len(after) == len(dataset_events(plain))
    assert len(list(dataset.rglob("*.parquet"))) == len(list(plain.rglob("*.parquet")))
    assert_rollups_match(dataset)  # the old rollups went with the old parts


def _ingest_argv(logs: Path, dataset: Path, workers: int) -> list[str]:
    code = "import sys; from ingest.cli import main; sys.exit(main())"
    return [
        sys.executable,
        "-c",
        code,
        "ingest",
        str(logs),
        "--to",
        str(dataset),
        "--workers",
        str(workers),
        "--segment-mb",
        "1",
    ]


def test_a_killed_ingest_resumes_to_the_same_dataset(
    logs: Path, serial: Path, tmp_path: Path
) -> None:
    workers = 2
    dataset = tmp_path / "ds"
    env = {**os.environ, STOP_AFTER_ENV: "2"}
    proc = subprocess.Popen(  # files, not pipes: orphaned pool workers would hold pipes open
        _ingest_argv(logs, dataset, workers),
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=(tmp_path / "stderr").open("wb"),
    )
    try:
        proc.wait(timeout=120)
    finally:
        with contextlib.suppress(ProcessLookupError):  # the pool's orphaned workers
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == -signal.SIGKILL
    manifest = Manifest.load(dataset)
    assert manifest is not None
    done = [s for e in manifest.files.values() for s in e.segments if s.done]
    todo = [s for e in manifest.files.values() for s in e.segments if not s.done]
    assert len(done) == 2
    assert todo
    assert (dataset / ".ingest.lock").exists()  # left by the killed run, taken over below
    result = CliRunner().invoke(
        main, ["ingest", str(logs), "--to", str(dataset), "--workers", "1", "--segment-mb", "1"]
    )
    assert result.exit_code == 0, result.output
    assert "events added" in result.output
    assert not list(dataset.rglob("*.tmp"))
    assert_same_dataset(dataset, serial)


def test_cli_ingest_then_summary_and_export_on_the_dataset(serial: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    assert is_dataset(serial)
    out = runner.invoke(main, ["summary", str(serial), "--json"])
    assert out.exit_code == 0, out.output
    assert '"calls"' in out.output
    csv = tmp_path / "ids.csv"
    out = runner.invoke(
        main, ["export-ids", str(serial), "--code", "Throttling.RateQuota", "-o", str(csv)]
    )
    assert out.exit_code == 0, out.output
    events = dataset_events(serial)
    want = events[events["is_error"] & (events["code"] == "Throttling.RateQuota")]
    assert csv.read_bytes().count(b"\n") - 1 == want["request_id"].notna().sum()
    out = runner.invoke(main, ["export-ids", str(serial), "--code", "Nope.Code"])
    assert "warning: no error with code Nope.Code" in out.output


def test_cli_ingest_errors_are_one_line(tmp_path: Path) -> None:
    runner = CliRunner()
    out = runner.invoke(main, ["ingest", str(tmp_path / "missing.log"), "--to", str(tmp_path)])
    assert out.exit_code == 1
    assert "missing.log" in out.output
    out = runner.invoke(
        main, ["ingest", str(SAMPLES), "--to", str(tmp_path / "d"), "--scheduler", "tcp://x:1"]
    )
    assert out.exit_code == 2
    assert "only with --engine dask" in out.output
    ds = tmp_path / "tz"
    assert (
        runner.invoke(main, ["ingest", str(SAMPLES / "python_sdk.log"), "--to", str(ds)]).exit_code
        == 0
    )
    out = runner.invoke(
        main, ["ingest", str(SAMPLES / "python_sdk.log"), "--to", str(ds), "--tz", "UTC"]
    )
    assert out.exit_code == 1
    assert "was ingested with --tz Asia/Shanghai" in out.output
