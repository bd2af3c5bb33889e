"""Epoch timestamps as logging libraries write them (ingest.timestamps)."""

from __future__ import annotations

import pandas as pd
import pytest

from ingest.timestamps import to_iso, to_utc_raw


@pytest.mark.parametrize(
    ("value", "iso"),
    [
        # zap / structlog / python-json-logger "created": float seconds, read as the decimal
        # text repr() gives (not the binary float: .123 is not .122999907)
        (1763604004.123, "2025-11-20T02:00:04.123+00:00"),
        ("1763604004.5", "2025-11-20T02:00:04.5+00:00"),
        (1763604004, "2025-11-20T02:00:04+00:00"),
        ("1763604004", "2025-11-20T02:00:04+00:00"),
        # pino "time", Log4j2 "timeMillis": milliseconds
        (1763604004123, "2025-11-20T02:00:04.123+00:00"),
        ("1763604004123", "2025-11-20T02:00:04.123+00:00"),
        (1763604004123.0, "2025-11-20T02:00:04.123+00:00"),
        # microseconds, nanoseconds (exactly), and a float's repr in e-notation
        ("1763604004123456", "2025-11-20T02:00:04.123456+00:00"),
        (1763604004123456789, "2025-11-20T02:00:04.123456789+00:00"),
        (1.763604004123e18, "2025-11-20T02:00:04.123+00:00"),
    ],
)
def test_epoch_numbers_keep_their_exact_fraction(value: object, iso: str) -> None:
    assert to_iso(value) == iso


@pytest.mark.parametrize("value", [True, float("nan"), float("inf"), -5, "2026", 12.5, "1e9"])
def test_what_is_no_epoch_time_is_none(value: object) -> None:
    assert to_iso(value) is None


def test_epoch_values_are_converted_beside_iso_strings() -> None:
    got = to_utc_raw([1763604004.123, "2026-11-20 10:00:00", None, "1763604004.5"], "UTC")
    assert [None if pd.isna(t) else t.isoformat() for t in got] == [
        "2025-11-20T02:00:04.123000+00:00",
        "2026-11-20T10:00:00+00:00",
        None,
        "2025-11-20T02:00:04.500000+00:00",
    ]


def test_a_line_that_opens_with_epoch_seconds_is_a_timestamped_record() -> None:
    """Python logging's %(created)f: the traceback under the line is its record, and the
    record's time is the epoch number."""
    from ingest import load_events

    log = (
        "1795937475.393949 INFO assistant.chat chat ok request_id=ebf9c641-5ec2-48ae-ae1d-"
        "e54a81f86784 model=qwen-plus\n"
        "1795937475.395678 ERROR assistant.chat qwen call failed model=qwen-plus\n"
        "Traceback (most recent call last):\n"
        '  File "app.py", line 63, in run\n'
        "openai.RateLimitError: Error code: 429 - You exceeded your current requests list.\n"
    )
    events, report = load_events([("created.log", log.encode())])
    assert report.unparsed == 0
    errors = events[events["is_error"]]
    assert errors["line"].tolist() == [2]
    assert errors["timestamp"].iloc[0] == pd.Timestamp("2026-11-29T07:31:15.395678Z")


def test_a_json_record_keeps_its_own_time_under_a_timestamped_line() -> None:
    """A pino line below a timestamped banner inherits the banner's time as a record, but the
    time it writes itself ("time", epoch ms) is the event's."""
    from ingest import load_events

    log = (
        "2026-11-29T05:49:16.193Z INFO capture started\n"
        '{"level":50,"time":1795931356292,"pid":2164,"hostname":"web-1","err":{"type":"Error",'
        '"message":"500 An internal error has occured, please try again later or contact '
        'service support.","stack":"Error: 500 An internal error has occured, please try again'
        ' later or contact service support.\\n    at APIError.generate (/app/error.js:63:20)"},'
        '"msg":"chat failed"}\n'
    )
    events, _report = load_events([("pino.log", log.encode())])
    assert events["status_code"].tolist() == [500]
    assert events["timestamp"].iloc[0] == pd.Timestamp("2026-11-29T05:49:16.292Z")
