"""Byte-range parsing in several processes gives exactly the events of one process."""

from __future__ import annotations

import random
import threading
from datetime import datetime, timedelta, timezone
from itertools import pairwise
from pathlib import Path

import pandas as pd
import pytest

from ingest import load_events, parallel
from ingest.parallel import plan_ranges

SAMPLES = Path(__file__).resolve().parent.parent / "sample_logs"


@pytest.mark.parametrize("name", ["python_sdk.log", "openai_compat.log", "java_service.log"])
def test_two_processes_give_the_events_of_one(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # three copies with fresh ids would be ideal; one copy cut in four ranges is enough to
    # put boundaries inside tracebacks and retry sequences
    monkeypatch.setattr(parallel, "PARALLEL_MIN_BYTES", 1)
    path = SAMPLES / name
    one, r1 = load_events(str(path), workers=1)
    many, r4 = load_events(str(path), workers=2)  # four ranges
    pd.testing.assert_frame_equal(
        one.reset_index(drop=True), many.reset_index(drop=True), check_categorical=False
    )
    a, b = r1.files[0], r4.files[0]
    assert (a.lines_read, a.lines_in_events, a.ignored, a.unparsed) == (
        b.lines_read,
        b.lines_in_events,
        b.ignored,
        b.unparsed,
    )
    assert b.balanced


def test_ranges_start_where_records_start() -> None:
    path = SAMPLES / "java_service.log"
    data = path.read_bytes()
    ranges = plan_ranges(str(path), 8)
    assert ranges[0][0] == 0
    assert ranges[-1][1] == len(data)
    for (_a, b), (c, _d) in pairwise(ranges):
        assert b == c
        assert data[c - 1 : c] == b"\n"
        assert data[c : c + 4].isdigit()  # a Spring Boot timestamp opens the record


@pytest.mark.parametrize("name", ["python_sdk.log", "openai_compat.log", "app_events.jsonl"])
def test_flushing_rows_to_columns_changes_nothing(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Long files keep only a window of rows as dicts; the events must not depend on it."""
    import ingest.events

    whole, _ = load_events(str(SAMPLES / name), workers=1)
    monkeypatch.setattr(ingest.events, "FLUSH_ROWS", 50)
    flushed, report = load_events(str(SAMPLES / name), workers=1)
    pd.testing.assert_frame_equal(whole, flushed, check_categorical=False)
    assert report.files[0].balanced


def test_a_range_seeks_within_itself(tmp_path: Path) -> None:
    """sources.open_raw seeks back after sniffing: a range that could not would be read whole
    into memory first."""
    import io

    data = bytes(range(256)) * 40
    path = tmp_path / "f.bin"
    path.write_bytes(data)
    fh = io.BufferedReader(parallel._Range(str(path), 100, 5000), 1 << 10)
    assert fh.read(2) == data[100:102]
    assert fh.seek(0) == 0
    assert fh.read() == data[100:5000]
    fh.seek(10)
    assert fh.read(5) == data[110:115]
    assert fh.seek(0, io.SEEK_END) == 4900
    assert fh.read() == b""


def test_boundaries_do_not_split_a_retry_sequence(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An httpx 429 line and the retry notice or traceback that absorbs it stay in one range:
    cut apart, the status line was counted as a call of its own."""
    import sys

    sys.path.insert(0, str(SAMPLES.parent / "bench"))
    from generate_logs import write_bench  # type: ignore[import-not-found]

    path = write_bench(tmp_path, "openai", 4 << 20)
    monkeypatch.setattr(parallel, "PARALLEL_MIN_BYTES", 1)
    monkeypatch.setattr(parallel, "_ranges_per_worker", lambda: 16)
    one, _ = load_events(str(path), workers=1)
    many, _ = load_events(str(path), workers=2)  # 32 ranges
    assert len(many) == len(one)
    pd.testing.assert_frame_equal(
        one.reset_index(drop=True), many.reset_index(drop=True), check_categorical=False
    )


def test_results_go_through_the_temporary_directory_when_shared_memory_is_small(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A container's /dev/shm is often 64 MB: the workers' results then take the disk."""
    assert parallel._spool_dir(1 << 60) is None
    monkeypatch.setattr(parallel, "PARALLEL_MIN_BYTES", 1)
    monkeypatch.setattr(parallel, "_spool_dir", lambda size: None)
    path = SAMPLES / "openai_compat.log"
    one, _ = load_events(str(path), workers=1)
    many, _ = load_events(str(path), workers=2)
    pd.testing.assert_frame_equal(
        one.reset_index(drop=True), many.reset_index(drop=True), check_categorical=False
    )


def test_a_process_with_other_threads_spawns_its_workers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Forking copies only the calling thread: a lock held by another one (the dashboard's
    server) would stay held in the worker forever. Such a process spawns its workers."""
    release = threading.Event()
    other = threading.Thread(target=release.wait)
    other.start()
    try:
        assert parallel.start_method() == "spawn"
        monkeypatch.setattr(parallel, "PARALLEL_MIN_BYTES", 1)
        path = SAMPLES / "openai_compat.log"
        one, _ = load_events(str(path), workers=1)
        many, _ = load_events(str(path), workers=2)
    finally:
        release.set()
        other.join()
    pd.testing.assert_frame_equal(
        one.reset_index(drop=True), many.reset_index(drop=True), check_categorical=False
    )


def test_categories_are_the_values_in_use_sorted(monkeypatch: pytest.MonkeyPatch) -> None:
    """However the frame was assembled (ranges of one file, several files), each categorical
    column's categories are exactly its values, sorted: the parent no longer counts the codes
    of the whole frame to make them so, the parts arrive tidy."""
    monkeypatch.setattr(parallel, "PARALLEL_MIN_BYTES", 1)
    paths = [str(SAMPLES / n) for n in ("openai_compat.log", "python_sdk.log", "java_service.log")]
    for sources, workers in ((paths[0], 2), (paths, 2), (paths, 1)):
        events, _ = load_events(sources, workers=workers)
        for col in events.columns:
            if isinstance(events[col].dtype, pd.CategoricalDtype):
                cats = list(events[col].cat.categories)
                assert cats == sorted(events[col].dropna().unique()), (sources, col)


def _concurrent_calls_log(path: Path, bursts: int, seed: int = 3) -> Path:
    """Bursts of concurrent calls, each a few `429` attempts and their retry notices, then
    a 200 and its success line, the calls' lines interleaved; quiet lines between bursts."""
    rng = random.Random(seed)
    url = "https://dashscope.aliyuncs.com/compatible-mode/v1/chat/completions"
    start = datetime(2026, 11, 20, tzinfo=timezone(timedelta(hours=8)))
    ms = 0
    out: list[str] = []
    calls_made = 0
    for _ in range(bursts):
        calls = []
        for _ in range(rng.randint(2, 5)):
            calls_made += 1
            rid = f"{calls_made:08x}-0000-4000-8000-{rng.getrandbits(48):012x}"
            seq = []
            for _ in range(rng.randint(0, 2)):
                seq.append(f'INFO httpx: HTTP Request: POST {url} "HTTP/1.1 429 Too Many Requests"')
                seq.append(
                    "INFO openai._base_client: Retrying request to /chat/completions in 0.4 seconds"
                )
            seq.append(f'INFO httpx: HTTP Request: POST {url} "HTTP/1.1 200 OK"')
            seq.append(f"INFO app.chat: call ok request_id={rid} model=qwen-plus")
            calls.append(seq)
        lines = [
            f"INFO app.cache: warmed {rng.randint(1, 99)} entries"
            for _ in range(rng.randint(0, 60))
        ]
        while any(calls):
            lines.insert(0, rng.choice([c for c in calls if c]).pop(0))
        for text in reversed(lines):
            ms += rng.randint(1, 50)
            stamp = (start + timedelta(milliseconds=ms)).strftime("%Y-%m-%d %H:%M:%S,%f")[:-3]
            out.append(f"{stamp} {text}")
    path.write_text("\n".join(out) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("per_worker", [2, 16])
def test_cuts_fall_between_the_retry_sequences_of_concurrent_calls(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, per_worker: int
) -> None:
    """Concurrent calls interleave their attempts: a quiet line before an opener is no sign
    that no call's retry sequence is still open. Cut inside one, a 429 and the retry notice
    that claims it fell in two ranges and became two events."""
    path = _concurrent_calls_log(tmp_path / "concurrent.log", bursts=400)
    monkeypatch.setattr(parallel, "PARALLEL_MIN_BYTES", 1)
    monkeypatch.setattr(parallel, "_ranges_per_worker", lambda: per_worker)
    one, _ = load_events(str(path), workers=1)
    many, _ = load_events(str(path), workers=2)
    pd.testing.assert_frame_equal(
        one.reset_index(drop=True), many.reset_index(drop=True), check_categorical=False
    )


@pytest.mark.parametrize("mapped", [True, False])
def test_a_result_goes_through_its_file_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mapped: bool
) -> None:
    """A worker's result is written as its arrays' bytes and read back over maps of them
    (or read, where mmap has no flags): the same frame, report and fingerprints."""
    if not mapped:
        monkeypatch.delattr(parallel.mmap, "MAP_SHARED")
    path = SAMPLES / "openai_compat.log"
    size = path.stat().st_size
    result = parallel._parse_range(
        str(path), 0, size, fmt=None, tz="Asia/Shanghai", encoding="utf-8", timestamped=True
    )
    file = tmp_path / "range-0.pickle"
    with open(file, "wb") as fh:
        parallel._dump(result, fh)
    frame, report, lines, prints = parallel.load_result(str(file))
    pd.testing.assert_frame_equal(frame, result[0])
    assert (report.events, report.lines_read, lines) == (
        result[1].events,
        result[1].lines_read,
        result[2],
    )
    assert (prints == result[3]).all()


def test_a_range_does_not_start_at_a_line_without_a_time_in_a_timestamped_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A printed response (a JSON line) in a timestamped log takes the time of the line before
    it. A cut right before it (after a quiet stretch) left it without one in its range."""
    lines = []
    start = datetime(2026, 11, 20, tzinfo=timezone(timedelta(hours=8)))
    for n in range(1000):
        stamp = (start + timedelta(seconds=n)).strftime("%Y-%m-%d %H:%M:%S,%f")[:-3]
        # quiet stretches shorter than a cut waits for: the cut goes after the longest one
        lines.extend(f"{stamp} INFO app.cache: warmed {k} entries" for k in range(20))
        rid = f"{n:08x}-1111-4222-8333-444455556666"
        lines.append(
            f'{{"status_code": 429, "request_id": "{rid}", "code": "Throttling.RateQuota", '
            '"message": "Requests rate limit exceeded."}'
        )
    path = tmp_path / "printed.log"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    monkeypatch.setattr(parallel, "PARALLEL_MIN_BYTES", 1)
    monkeypatch.setattr(parallel, "_ranges_per_worker", lambda: 16)
    one, _ = load_events(str(path), workers=1)
    many, _ = load_events(str(path), workers=2)
    assert len(one) == 1000
    assert one["timestamp"].notna().all()
    pd.testing.assert_frame_equal(
        one.reset_index(drop=True), many.reset_index(drop=True), check_categorical=False
    )
