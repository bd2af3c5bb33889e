"""Events a part at a time (ingest.bounded): the same events, order, report and output files
as load_events, whatever the parts (byte ranges of a big file, several files, a gzip)."""

from __future__ import annotations

import gzip
import io
import json
import random
import shutil
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from ingest import bounded, load_events, parallel
from ingest.cli import main
from ingest.output import write_event_batches, write_events

SAMPLES = Path(__file__).resolve().parent.parent / "sample_logs"
TZ = "Asia/Shanghai"
URL = "https://dashscope.aliyuncs.com/api/v1/services/aigc/text-generation/generation"


@pytest.fixture
def tiny_ranges(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every plain file is cut into ranges of 64 KB (a real run: 128 MB)."""
    monkeypatch.setattr(parallel, "PARALLEL_MIN_BYTES", 1)
    monkeypatch.setattr(bounded, "RANGE_BYTES", 64 << 10)


def _jsonl(events: pd.DataFrame) -> str:
    out = io.StringIO()
    write_events(events, "-", TZ, stdout=out)
    return out.getvalue()


def _expected(sources: object, errors_only: bool) -> tuple[str, dict[str, object]]:
    events, report = load_events(sources, tz=TZ)
    if errors_only:
        events = events[events["is_error"]]
    return _jsonl(events), report.to_dict()


def _parted(sources: object, errors_only: bool) -> tuple[str, dict[str, object], int]:
    with bounded.PartedEvents(sources, tz=TZ, errors_only=errors_only) as parted:
        out = io.StringIO()
        write_event_batches(parted.batches(), "-", TZ, stdout=out)
        return out.getvalue(), parted.report.to_dict(), len(parted._written)


def _repeated_failures_log(path: Path, *, shuffled: bool, seed: int = 5) -> Path:
    """Failures told twice, the second time thousands of lines later (so in another range):
    an ERROR line with the response, and later a summary line of the same request_id; a
    third of the first tellings have no time (a print), some calls succeed in between; with
    ``shuffled`` the times go back and forth."""
    rng = random.Random(seed)
    start = datetime(2026, 11, 20, tzinfo=timezone(timedelta(hours=8)))
    lines: list[str] = []
    pending: list[tuple[int, str]] = []
    for n in range(8000):
        ms = rng.randint(0, 10**8) if shuffled else n * 50
        stamp = (start + timedelta(milliseconds=ms)).strftime("%Y-%m-%d %H:%M:%S,%f")[:-3]
        rid = f"{n:08x}-1111-4222-8333-{rng.getrandbits(48):012x}"
        kind = rng.random()
        if kind < 0.04:
            body = json.dumps(
                {
                    "status_code": 429,
                    "request_id": rid,
                    "code": "Throttling.RateQuota",
                    "message": "Requests rate limit exceeded, please try again later.",
                    "output": None,
                    "usage": None,
                }
            )
            if n % 3 == 0:
                lines.append(body)  # printed: no time of its own
            else:
                lines.append(f"{stamp} ERROR app.chat: call failed: {body}")
            pending.append((n + rng.randint(1500, 2500), rid))
        elif kind < 0.08:
            lines.append(f'{stamp} INFO httpx: HTTP Request: POST {URL} "HTTP/1.1 200 OK"')
        else:
            lines.append(f"{stamp} INFO app.cache: warmed {rng.randint(1, 99)} entries")
        while pending and pending[0][0] <= n:
            _due, old = pending.pop(0)
            lines.append(
                f"{stamp} WARNING app.retry: request_id={old} status_code=429 "
                "code=Throttling.RateQuota gave up"
            )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("errors_only", [True, False])
def test_the_sample_logs_part_by_part_are_load_events(errors_only: bool, tiny_ranges: None) -> None:
    """Five files (a gzip among them), whose times interleave: the parts are sorted."""
    expected, report = _expected(str(SAMPLES), errors_only)
    got, got_report, _parts = _parted(str(SAMPLES), errors_only)
    assert got == expected
    assert got_report == report


@pytest.mark.parametrize("shuffled", [False, True])
@pytest.mark.parametrize("errors_only", [True, False])
def test_outcomes_told_in_two_ranges_merge_as_in_one_frame(
    tmp_path: Path, tiny_ranges: None, shuffled: bool, errors_only: bool
) -> None:
    log = _repeated_failures_log(tmp_path / "app.log", shuffled=shuffled)
    expected, report = _expected(str(log), errors_only)
    events, _ = load_events(str(log), tz=TZ)
    assert (events["mentions"] > 1).sum() > 100  # merged across the ranges
    got, got_report, parts = _parted(str(log), errors_only)
    assert parts > 4
    assert got == expected
    assert got_report == report


def test_parts_in_time_order_are_handed_on_without_a_sort(
    tmp_path: Path, tiny_ranges: None
) -> None:
    with bounded.PartedEvents(
        str(_repeated_failures_log(tmp_path / "shuffled.log", shuffled=True)), tz=TZ
    ) as parted:
        assert not parted.in_order()
    log = _repeated_failures_log(tmp_path / "app.log", shuffled=False)
    with bounded.PartedEvents(str(log), tz=TZ) as parted:
        assert parted.in_order()
        assert len(parted._written) > 4
        frames = list(parted.batches())
    assert len(frames) == len(parted._written)  # a part a batch: no sort
    events, _ = load_events(str(log), tz=TZ)
    assert _jsonl(pd.concat(frames, ignore_index=True)) == _jsonl(events)


def test_a_gzip_and_a_plain_file_together(tmp_path: Path, tiny_ranges: None) -> None:
    log = _repeated_failures_log(tmp_path / "b.log", shuffled=False, seed=9)
    packed = tmp_path / "a.log.gz"
    with gzip.open(packed, "wb") as fh:
        fh.write(_repeated_failures_log(tmp_path / "raw.log", shuffled=True).read_bytes())
    sources = [str(packed), str(log)]
    assert _parted(sources, True)[:2] == _expected(sources, True)


@pytest.mark.parametrize("suffix", [".jsonl", ".csv", ".parquet"])
def test_parse_writes_the_same_file_either_way(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tiny_ranges: None, suffix: str
) -> None:
    """`dashscope-logs parse` goes part by part from BOUNDED_MIN_BYTES on: the same file."""
    log = _repeated_failures_log(tmp_path / "app.log", shuffled=True)
    runner = CliRunner()
    whole = tmp_path / f"whole{suffix}"
    result = runner.invoke(main, ["parse", str(log), "--all", "-o", str(whole)])
    assert result.exit_code == 0, result.output
    monkeypatch.setattr(bounded, "BOUNDED_MIN_BYTES", 1)
    monkeypatch.setattr(bounded, "BATCH_ROWS", 100)  # the sort hands on several batches
    parted = tmp_path / f"parted{suffix}"
    result = runner.invoke(main, ["parse", str(log), "--all", "-o", str(parted)])
    assert result.exit_code == 0, result.output
    assert "0 unparsed" in result.output
    if suffix == ".parquet":  # written by one writer batch by batch: the same table
        a, b = pd.read_parquet(whole), pd.read_parquet(parted)
        assert len(a) > 500
        pd.testing.assert_frame_equal(a, b, check_categorical=False)
        assert isinstance(b["code"].dtype, pd.CategoricalDtype)
    else:
        assert parted.read_bytes() == whole.read_bytes()


def test_parse_part_by_part_still_says_what_it_could_not_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bounded, "BOUNDED_MIN_BYTES", 1)
    runner = CliRunner()
    result = runner.invoke(main, ["parse", str(tmp_path / "missing.log")])
    assert result.exit_code == 1
    assert "missing.log" in result.output
    notes = tmp_path / "notes.txt"
    notes.write_text("shopping list\nmilk\n")
    result = runner.invoke(main, ["parse", str(notes)])
    assert result.exit_code == 1
    assert "no DashScope API calls" in result.output


def test_the_parts_folder_is_gone_afterwards(tmp_path: Path, tiny_ranges: None) -> None:
    log = shutil.copy(SAMPLES / "python_sdk.log", tmp_path / "app.log")
    with bounded.PartedEvents(str(log), tz=TZ, folder=str(tmp_path)) as parted:
        folder = Path(parted.folder)
        assert any(folder.rglob("*.events"))
        list(parted.batches())
    assert not folder.exists()


@pytest.mark.parametrize("bucket", [1, 7, 1000, None])
def test_shared_prints_are_the_fingerprints_two_parts_hold(
    tmp_path: Path, bucket: int | None
) -> None:
    import numpy as np

    rng = np.random.default_rng(4)
    common = rng.integers(0, 2**64, 300, dtype=np.uint64)
    files = []
    for k in range(6):
        own = rng.integers(0, 2**64, rng.integers(0, 500), dtype=np.uint64)
        some = common[rng.random(len(common)) < 0.3]
        prints = np.unique(np.concatenate([own, some, np.array([k], dtype=np.uint64)]))
        files.append(str(tmp_path / f"{k}.npy"))
        np.save(files[-1], prints)
    every = np.concatenate([np.load(f) for f in files])
    values, counts = np.unique(every, return_counts=True)
    expected = values[counts > 1]
    assert len(expected) > 50
    assert bounded.shared_prints(files, bucket).tolist() == expected.tolist()
    assert not len(bounded.shared_prints(files[:1], bucket))


@pytest.mark.parametrize("truncated", [False, True])
def test_a_big_gzip_goes_in_pieces(tmp_path: Path, tiny_ranges: None, truncated: bool) -> None:
    """A compressed log cannot be cut in byte ranges: its text is parsed a piece at a time as
    it is inflated, the pieces joined like ranges (a truncated one: what came before kept)."""
    text = _repeated_failures_log(tmp_path / "raw.log", shuffled=False).read_bytes()
    packed = gzip.compress(text)
    if truncated:
        packed = packed[: len(packed) * 2 // 3]
    log = tmp_path / "app.log.gz"
    log.write_bytes(packed)
    expected, report = _expected(str(log), False)
    with bounded.PartedEvents(str(log), tz=TZ) as parted:
        assert len(parted._written) > 4  # in pieces
        out = io.StringIO()
        write_event_batches(parted.batches(), "-", TZ, stdout=out)
        got = parted.report.to_dict()
    assert out.getvalue() == expected
    assert got == report
    assert (got["files"][0]["problem"] is not None) == truncated


def test_a_gzip_counts_as_the_text_it_holds(tmp_path: Path) -> None:
    plain = tmp_path / "a.log"
    plain.write_bytes(b"x" * 1000)
    packed = tmp_path / "b.log.gz"
    packed.write_bytes(gzip.compress(b"y" * 100_000))
    from ingest.sources import iter_sources

    (a,) = iter_sources(str(plain))
    (b,) = iter_sources(str(packed))
    assert bounded.text_size([a]) == 1000
    assert bounded.text_size([a, b]) == 1000 + b.size * bounded.GZIP_TEXT_RATIO


def test_rotated_logs_are_handed_on_oldest_first_without_a_sort(
    tmp_path: Path, tiny_ranges: None
) -> None:
    """app.log.2, app.log.1, app.log: each in time order, their spans apart. Sources come in
    name order (the newest first), yet no sort is needed: the files go oldest first."""
    text = _repeated_failures_log(tmp_path / "all.log", shuffled=False).read_text()
    lines = text.splitlines(keepends=True)
    third = len(lines) // 3
    folder = tmp_path / "logs"
    folder.mkdir()
    for name, chunk in (
        ("app.log.2", lines[:third]),
        ("app.log.1", lines[third : 2 * third]),
        ("app.log", lines[2 * third :]),
    ):
        (folder / name).write_text("".join(chunk))
    with bounded.PartedEvents(str(folder), tz=TZ) as parted:
        assert parted.in_order()
    assert _parted(str(folder), False)[:2] == _expected(str(folder), False)


def test_a_sort_that_needs_more_memory_gets_it(
    tmp_path: Path, tiny_ranges: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = _repeated_failures_log(tmp_path / "app.log", shuffled=True)
    monkeypatch.setattr(bounded, "SORT_MEMORY", ("1MB",))
    with pytest.raises(bounded.SortError, match="parse the files one at a time"):
        _parted(str(log), False)
    monkeypatch.setattr(bounded, "SORT_MEMORY", ("1MB", "256MB"))
    assert _parted(str(log), False)[:2] == _expected(str(log), False)
