"""The JSON lines writer builds its lines a column at a time: each line must be exactly what
``json.dumps(record, ensure_ascii=False)`` gives for the event's record."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from ingest import load_events
from ingest.output import write_jsonl
from ingest.schema import EVENT_COLUMNS, coerce_events

SAMPLES = Path(__file__).resolve().parent.parent / "sample_logs"


def _reference(events: pd.DataFrame, tz: str) -> str:
    """One line per event the slow, obvious way: a record per row, json.dumps."""
    lines = []
    for _i, row in events.iterrows():
        rec: dict[str, Any] = {}
        for col in EVENT_COLUMNS:
            value = row[col]
            if pd.isna(value):
                rec[col] = None
            elif col == "timestamp":
                rec[col] = value.tz_convert(tz).isoformat(timespec="milliseconds")
            elif hasattr(value, "item"):
                rec[col] = value.item()
            else:
                rec[col] = value
        lines.append(json.dumps(rec, ensure_ascii=False) + "\n")
    return "".join(lines)


def _written(events: pd.DataFrame, tz: str) -> str:
    out = io.StringIO()
    write_jsonl(events, out, tz)
    return out.getvalue()


@pytest.mark.parametrize("tz", ["Asia/Shanghai", "UTC", "America/St_Johns"])
def test_the_sample_logs_are_written_as_json_dumps_writes_them(tz: str) -> None:
    events, _ = load_events(str(SAMPLES), tz="Asia/Shanghai")
    assert len(events) > 1000
    assert _written(events, tz) == _reference(events, tz)


def test_awkward_values_are_written_as_json_dumps_writes_them() -> None:
    rows = [
        {
            "timestamp": "2026-03-08T06:59:59.9996Z",  # milliseconds cut, not rounded
            "status_code": 429,
            "logged_status": None,
            "code": 'Quote"d\\code',
            "raw_code": "限流\u2028",
            "message": "line one\nline two\t\x01 😀",
            "request_id": 'id-"1"\\',
            "model": None,
            "category": "",
            "retryable": None,
            "is_error": True,
            "source": "dir/app.log",
            "line": 12,
            "mentions": 3,
            "format": "x",
        },
        {
            "timestamp": "1890-01-01T00:00:00Z",  # Shanghai's local mean time: +08:05:43
            "status_code": None,
            "logged_status": -1,
            "code": None,
            "raw_code": None,
            "message": None,
            "request_id": None,
            "model": "qwen-plus",
            "category": None,
            "retryable": False,
            "is_error": False,
            "source": "b.log",
            "line": 1,
            "mentions": 1,
            "format": None,
        },
        {"timestamp": None, "is_error": True, "source": "c.log", "line": 7, "retryable": True},
    ]
    events = coerce_events(pd.DataFrame(rows))
    for tz in ("Asia/Shanghai", "Asia/Kolkata", "America/New_York", "UTC"):
        assert _written(events, tz) == _reference(events, tz)


def test_no_events_write_nothing() -> None:
    assert _written(coerce_events(pd.DataFrame(columns=list(EVENT_COLUMNS))), "UTC") == ""


def test_slices_of_rows_make_the_same_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    from ingest import output

    events, _ = load_events(str(SAMPLES / "python_sdk.log"), tz="Asia/Shanghai")
    whole = _written(events, "UTC")
    monkeypatch.setattr(output, "JSONL_ROWS", 7)
    assert _written(events, "UTC") == whole == _reference(events, "UTC")


def _reference_csv(events: pd.DataFrame, tz: str) -> str:
    """The CSV the slow, obvious way: records of Python values, integer columns as Int64."""
    rows = []
    for _i, row in events.iterrows():
        rec = {c: (None if pd.isna(row[c]) else row[c]) for c in EVENT_COLUMNS}
        if rec["timestamp"] is not None:
            rec["timestamp"] = rec["timestamp"].tz_convert(tz).isoformat(timespec="milliseconds")
        rows.append(rec)
    frame = pd.DataFrame(rows, columns=list(EVENT_COLUMNS), dtype=object)
    ints = [c for c in EVENT_COLUMNS if str(events[c].dtype).lower().startswith("int")]
    out = io.StringIO()
    frame.astype(dict.fromkeys(ints, "Int64")).to_csv(out, index=False)
    return out.getvalue()


@pytest.mark.parametrize("tz", ["Asia/Shanghai", "America/St_Johns"])
def test_csv_is_written_as_records_would_be(tz: str) -> None:
    from ingest.output import _write_csv

    events, _ = load_events(str(SAMPLES), tz="Asia/Shanghai")
    awkward = coerce_events(
        pd.DataFrame(
            [
                {"timestamp": None, "message": 'a "quoted", two\\nlines', "is_error": True},
                {"timestamp": "2026-01-01T00:00:00Z", "retryable": False, "status_code": 429},
            ]
        )
    )
    for frame in (events, awkward):
        out = io.StringIO()
        _write_csv(frame, out, tz, header=True)
        assert out.getvalue() == _reference_csv(frame, tz)
