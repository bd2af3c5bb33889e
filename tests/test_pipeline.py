"""ingest.pipeline.load_events: accounting, the frame contract, chunking, reports, format=."""

from __future__ import annotations

import functools
import gzip
import json
from pathlib import Path

import pandas as pd
import pytest

from ingest import pipeline, sources
from ingest.formats import FormatError
from ingest.pipeline import load_events, looks_like_api_event
from ingest.schema import EVENT_DTYPES
from ingest.sources import iter_text_chunks

REPO = Path(__file__).resolve().parent.parent
INPUTS = REPO / "tests" / "data" / "inputs"
LOGS = sorted((REPO / "sample_logs").iterdir()) + sorted(
    (REPO / "tests" / "clients" / "captured").glob("*.log")
)
LOG_IDS = [f"{p.parent.name}/{p.name}" for p in LOGS]


@functools.cache
def parsed(path: Path) -> tuple[pd.DataFrame, object]:
    return load_events(path)


def physical_lines(path: Path) -> int:
    data = path.read_bytes()
    if path.suffix == ".gz":
        data = gzip.decompress(data)
    return len(data.decode("utf-8").splitlines())


def assert_contract(events: pd.DataFrame) -> None:
    assert list(events.columns) == list(EVENT_DTYPES)
    assert {c: events[c].dtype for c in events.columns} == EVENT_DTYPES


@pytest.mark.parametrize("path", LOGS, ids=LOG_IDS)
def test_every_line_is_accounted_for(path: Path) -> None:
    events, report = parsed(path)
    (f,) = report.files
    assert f.lines_read == physical_lines(path)
    assert f.lines_read == f.lines_in_events + f.ignored + f.unparsed
    assert f.balanced
    assert f.problem is None
    assert f.events == len(events) > 0
    assert f.errors == int(events["is_error"].sum())
    assert f.errors_without_request_id == int(
        (events["is_error"] & events["request_id"].isna()).sum()
    )
    assert sum(f.formats.values()) >= f.events
    assert set(events["format"].astype(str)) <= set(f.formats)


@pytest.mark.parametrize("path", LOGS, ids=LOG_IDS)
def test_the_frame_contract(path: Path) -> None:
    events, _ = parsed(path)
    assert_contract(events)
    assert (events["line"] >= 1).all()
    assert (events["mentions"] >= 1).all()
    assert events.index.equals(pd.RangeIndex(len(events)))
    # sorted by time, events without a timestamp last
    ts = events["timestamp"].dropna()
    assert ts.is_monotonic_increasing
    missing = list(events["timestamp"].isna())
    assert missing == sorted(missing)
    # successes carry no error fields
    ok = events[~events["is_error"]]
    assert ok["code"].isna().all()
    assert ok["category"].isna().all()
    # errors are always categorised
    assert events.loc[events["is_error"], "category"].notna().all()


@pytest.mark.parametrize(
    "source",
    [b"", ("empty.log", b""), ("text.txt", b"hello\nworld\n"), ("ws.log", b"\n\n  \n")],
    ids=["bytes", "named-empty", "no-calls", "whitespace"],
)
def test_the_contract_holds_for_empty_results(source: object) -> None:
    events, report = load_events(source)
    assert len(events) == 0
    assert_contract(events)
    assert all(f.balanced for f in report.files)


def test_the_contract_holds_for_several_sources(tmp_path: Path) -> None:
    events, report = load_events([LOGS[1], INPUTS / "openai_retries.log"])
    assert_contract(events)
    assert len(report.files) == 2
    assert report.events == len(events)
    assert set(events["source"].astype(str)) == {str(LOGS[1]), str(INPUTS / "openai_retries.log")}


CHUNK_SIZES = [64, 4096]


@pytest.mark.parametrize("chunk", CHUNK_SIZES)
@pytest.mark.parametrize("path", LOGS, ids=LOG_IDS)
def test_events_do_not_depend_on_the_chunk_size(
    path: Path, chunk: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The pipeline reads with iter_text_chunks(raw) and its default chunk size, bound at import.

    Patching ingest.sources.CHUNK_BYTES alone changes nothing for plain files (the default
    argument is already bound) but sizes the gzip reader's buffer; the partial on
    ingest.pipeline.iter_text_chunks sets the text chunks.

    Caught a bug for captured/ds_stream.log with 64-byte chunks (9 events vs 8): see
    tests/test_records.py::test_chunk_boundaries_do_not_change_records_when_the_first_chunk_is_small
    (RecordGrouper decides "timestamped" from the first chunk only; this file's first line is
    streamed text without a timestamp).
    """
    expected, _ = parsed(path)
    monkeypatch.setattr(sources, "CHUNK_BYTES", chunk)
    monkeypatch.setattr(
        pipeline, "iter_text_chunks", functools.partial(iter_text_chunks, chunk_bytes=chunk)
    )
    events, report = load_events(path)
    assert report.files[0].balanced
    pd.testing.assert_frame_equal(events, expected)


def test_small_chunks_really_produce_several_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[int] = []

    def spy(raw: object, **kw: object) -> object:
        for enc, text in iter_text_chunks(raw, chunk_bytes=64, **kw):  # type: ignore[arg-type]
            seen.append(len(text))
            yield enc, text

    monkeypatch.setattr(pipeline, "iter_text_chunks", spy)
    load_events(INPUTS / "openai_retries.log")
    assert len(seen) > 10


def test_unparsed_lines_are_reported_with_line_numbers() -> None:
    events, report = load_events(INPUTS / "unparsed.log")
    (f,) = report.files
    assert f.unparsed == 1
    assert f.unparsed_examples == [
        (2, "2026-11-20 10:00:00,500 ERROR dashscope call failed: Throttling.RateQuota ???")
    ]
    assert report.unparsed_examples == [(str(INPUTS / "unparsed.log"), *f.unparsed_examples[0])]
    assert f.ignored == 1
    assert f.lines_in_events == 1
    assert f.balanced
    assert f.problem is None  # one event was found
    assert list(events["line"]) == [3]


def test_a_file_with_only_unparsed_lines_has_no_problem_but_unparsed_examples() -> None:
    _, report = load_events(("x.log", b"ERROR dashscope call failed: Throttling.RateQuota ???\n"))
    (f,) = report.files
    assert (f.unparsed, f.problem) == (1, None)


@pytest.mark.parametrize(
    ("text", "smells"),
    [
        ("ERROR dashscope call failed: Throttling.RateQuota ???", True),
        ("request failed with limit_burst_rate", True),
        ("Exception in tongyi call", True),
        ("WARNING disk almost full", False),
        ("ERROR database connection failed", False),
        ("INFO dashscope client ready", False),
    ],
)
def test_looks_like_api_event(text: str, smells: bool) -> None:
    assert looks_like_api_event(text) is smells


def test_a_non_log_file_says_no_dashscope_calls_were_found() -> None:
    path = INPUTS / "not_a_log.txt"
    events, report = load_events(path)
    assert len(events) == 0
    ((source, problem),) = report.problems
    assert source == str(path)
    assert "no DashScope API calls found in 4 lines" in problem
    assert "is this a log of an application that calls DashScope?" in problem
    assert report.files[0].ignored == 4


def test_an_empty_file_is_not_a_problem() -> None:
    _, report = load_events(("empty.log", b""))
    assert report.problems == []
    assert report.files[0].lines_read == 0


def test_the_format_restriction() -> None:
    path = INPUTS / "openai_retries.log"
    all_events, _ = load_events(path)
    assert set(all_events["format"].astype(str)) == {
        "app-success-line",
        "httpx-request",
        "openai-error-body",
    }
    events, report = load_events(path, format="httpx-request")
    assert set(events["format"].astype(str)) == {"httpx-request"}
    assert list(events["line"]) == [1, 3, 5, 7]
    (f,) = report.files
    assert f.balanced
    # the traceback is not parsed now, but it still smells of a DashScope failure
    assert f.unparsed > 0
    assert dict(f.formats) == {"httpx-request": 4}


def test_an_unknown_format_name_raises() -> None:
    with pytest.raises(FormatError, match="unknown format 'nope'"):
        load_events(INPUTS / "openai_retries.log", format="nope")


def test_naive_timestamps_are_read_in_the_given_zone() -> None:
    line = (
        b"2026-11-20 10:00:00,000 ERROR app: Request id: 8c9d0e1f-2a3b-4c4d-9e5f-6a7b8c9d0e1f,"
        b" Status code: 429, error code: Throttling.RateQuota, error message: x\n"
    )
    shanghai, _ = load_events(("a.log", line))
    utc, _ = load_events(("a.log", line), tz="UTC")
    assert shanghai["timestamp"].iloc[0] == pd.Timestamp("2026-11-20 02:00:00", tz="UTC")
    assert utc["timestamp"].iloc[0] == pd.Timestamp("2026-11-20 10:00:00", tz="UTC")


def test_report_to_dict_is_json_ready() -> None:
    _, report = parsed(LOGS[0])
    data = json.loads(json.dumps(report.to_dict()))
    assert data["lines_read"] == report.lines_read
    assert data["files"][0]["source"] == str(LOGS[0])
    assert data["events"] == report.events


def test_stream_text_before_a_record_does_not_hide_the_call_above() -> None:
    """Streamed text without a newline pushes a record to mid-line (ds_stream.log line 3).

    Fixed bug (ingest/records.py, see tests/test_records.py::
    test_a_record_that_starts_mid_line_after_streamed_text): the success of line 2
    (b2b629f5-...) is lost and the failure of line 3 is reported at line 2.
    """
    path = REPO / "tests" / "clients" / "captured" / "ds_stream.log"
    truth = json.loads(path.with_suffix(".truth.json").read_text(encoding="utf-8"))
    events, _ = parsed(path)
    assert len(events) == len(truth["answered"])
    assert set(events["request_id"].dropna()) == {a["request_id"] for a in truth["answered"]}


def test_the_report_counts_the_utc_offsets_the_timestamps_are_written_with() -> None:
    """The dashboard offers the log's own offsets as time zones (issue #4)."""
    from ingest.timestamps import count_offsets

    stamps = [
        "2026-11-20 10:00:00,123",
        "2026-11-20T10:00:00.1+08:00",
        "2026-11-20T10:00:00Z",
        "2026-11-20 10:00:00.5 +0800",
        None,
    ]
    assert count_offsets(stamps) == {"+08:00": 2, "+00:00": 1}
    _events, report = load_events(REPO / "sample_logs" / "app_events.jsonl")
    assert report.utc_offsets == {"+08:00": 4518, "+00:00": 2646}
    assert report.to_dict()["utc_offsets"] == {"+08:00": 4518, "+00:00": 2646}
    _events, report = load_events(REPO / "sample_logs" / "python_sdk.log")
    assert report.utc_offsets == {}  # naive times: read in the zone the user picks


def test_events_come_in_time_order_whatever_the_order_of_the_log(tmp_path: Path) -> None:
    """load_events sorts by time (no time last), then source and line; a log already in that
    order is left as it is (no copy)."""
    log = tmp_path / "shuffled.log"
    rid = "a0000000-0000-4000-8000-00000000000"
    lines = [
        f"2026-11-20 10:00:0{s},000 INFO app.chat: call ok request_id={rid}{k} model=qwen-max"
        for k, s in enumerate((5, 1, 3))
    ]
    log.write_text("\n".join(lines) + "\n", encoding="utf-8")
    events, _ = load_events(log)
    assert events["line"].tolist() == [2, 3, 1]
    assert events["timestamp"].is_monotonic_increasing
    assert list(events.index) == [0, 1, 2]
