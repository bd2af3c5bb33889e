"""A synthetic events frame for tests of the queries, exports, charts and the app.

``make_events(n, seed)`` builds a day of calls (UTC) through ``ingest.schema.coerce_events``:
mostly successes, errors of several categories, codes, models and files, a throttling spike of
429s between 06:00 and 06:30 UTC (14:00-14:30 in Asia/Shanghai), and a few failures without a
request_id. Deterministic for a given seed.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ingest.schema import coerce_events

DAY_START = pd.Timestamp("2025-03-10T00:00:00Z")
SPIKE_START = DAY_START + pd.Timedelta(hours=6)
SPIKE_END = SPIKE_START + pd.Timedelta(minutes=30)

MODELS = ("qwen-max", "qwen-plus", "qwen-turbo", "qwen-vl-max")
SOURCES = ("app-a.log", "worker-b.jsonl")

#: (code, status, category, retryable, message)
ERRORS: tuple[tuple[str, int, str, bool, str], ...] = (
    (
        "Throttling.RateQuota",
        429,
        "request-rate",
        True,
        "Requests rate limit exceeded, please try again later.",
    ),
    (
        "Throttling.AllocationQuota",
        429,
        "token-rate",
        True,
        "Allocated quota exceeded, please increase your quota limit.",
    ),
    (
        "Throttling.BurstRate",
        429,
        "burst",
        True,
        "Request rate increased too quickly.",
    ),
    ("InvalidApiKey", 401, "auth", False, "Invalid API-key provided."),
    (
        "InternalError",
        500,
        "server-error",
        True,
        "An internal error has occured, please try again later or contact service support.",
    ),
    (
        "InvalidParameter",
        400,
        "bad-request",
        False,
        "Required parameter(s) missing or invalid, please check the request parameters.",
    ),
    (
        "DataInspectionFailed",
        400,
        "moderation",
        False,
        "Input or output data may contain inappropriate content.",
    ),
    ("RequestTimeOut", 408, "timeout", True, "Request timed out, please try again later."),
)
#: background weights of the error kinds above (outside the spike)
ERROR_WEIGHTS = (0.25, 0.1, 0.05, 0.05, 0.25, 0.15, 0.1, 0.05)

#: a message that would execute in a spreadsheet and inject Markdown/HTML if rendered unsafely
HOSTILE_MESSAGE = '=HYPERLINK("http://evil.example","x") <script>alert(1)</script> **bold** |'


def _request_id(rng: np.random.Generator) -> str:
    h = rng.integers(0, 16, size=32)
    s = "".join("0123456789abcdef"[i] for i in h)
    return f"{s[:8]}-{s[8:12]}-{s[12:16]}-{s[16:20]}-{s[20:]}"


def make_events(
    n: int = 4000,
    seed: int = 0,
    *,
    error_share: float = 0.12,
    spike_errors: int | None = None,
    without_request_id: int = 7,
    hostile: bool = False,
    successes: bool = True,
) -> pd.DataFrame:
    """A realistic events frame: ``n`` calls over one day plus a throttling spike.

    ``spike_errors`` 429s (default ``n // 10``) land in ``[SPIKE_START, SPIKE_END)``.
    ``without_request_id`` errors have no request_id. ``hostile=True`` adds one error whose
    message is a spreadsheet formula with HTML/Markdown in it. ``successes=False`` keeps only
    errors (as in an error-only log).
    """
    rng = np.random.default_rng(seed)
    spike_n = n // 10 if spike_errors is None else spike_errors
    base_n = max(n - spike_n, 0)
    seconds = rng.integers(0, 86_400, size=base_n)
    ts = DAY_START + pd.to_timedelta(np.sort(seconds), unit="s")
    is_err = rng.random(base_n) < error_share
    kinds = rng.choice(len(ERRORS), size=base_n, p=ERROR_WEIGHTS)
    spike_s = rng.integers(0, int((SPIKE_END - SPIKE_START).total_seconds()), size=spike_n)
    spike_ts = SPIKE_START + pd.to_timedelta(np.sort(spike_s), unit="s")
    spike_kinds = rng.choice([0, 1, 2], size=spike_n, p=[0.7, 0.2, 0.1])

    rows: list[dict[str, object]] = []
    all_ts = list(ts) + list(spike_ts)
    all_err = list(is_err) + [True] * spike_n
    all_kind = list(kinds) + list(spike_kinds)
    for i, (t, err, kind) in enumerate(zip(all_ts, all_err, all_kind, strict=True)):
        model = MODELS[int(rng.choice(4, p=[0.5, 0.25, 0.2, 0.05]))]
        source = SOURCES[i % 2]
        if not err:
            if not successes:
                continue
            rows.append(
                {
                    "timestamp": t,
                    "status_code": 200,
                    "logged_status": 200,
                    "request_id": _request_id(rng),
                    "model": model,
                    "is_error": False,
                    "source": source,
                    "line": i + 1,
                    "mentions": 1,
                    "format": "jsonl",
                }
            )
            continue
        code, status, category, retryable, message = ERRORS[int(kind)]
        rows.append(
            {
                "timestamp": t,
                "status_code": status,
                "logged_status": status,
                "code": code,
                "raw_code": code,
                "message": message,
                "request_id": _request_id(rng),
                "model": model,
                "category": category,
                "retryable": retryable,
                "is_error": True,
                "source": source,
                "line": i + 1,
                "mentions": int(rng.choice([1, 1, 1, 2, 3])),
                "format": "jsonl",
            }
        )
    errors_at = [j for j, r in enumerate(rows) if r["is_error"]]
    for j in errors_at[: min(without_request_id, len(errors_at))]:
        rows[j]["request_id"] = None
    if hostile:
        rows.append(
            {
                "timestamp": DAY_START + pd.Timedelta(hours=20),
                "status_code": 400,
                "logged_status": 400,
                "code": "InvalidParameter",
                "raw_code": "InvalidParameter",
                "message": HOSTILE_MESSAGE,
                "request_id": "=cmd|' /C calc'!A0",
                "model": "qwen-max",
                "category": "bad-request",
                "retryable": False,
                "is_error": True,
                "source": "app-a.log",
                "line": n + 1,
                "mentions": 1,
                "format": "jsonl",
            }
        )
    frame = pd.DataFrame(rows)
    frame = frame.sort_values("timestamp", kind="stable").reset_index(drop=True)
    return coerce_events(frame)


def make_big_events(n: int = 1_000_000, seed: int = 0) -> pd.DataFrame:
    """``n`` events built column-wise (fast): for timing the queries, not for asserting."""
    rng = np.random.default_rng(seed)
    ts = DAY_START + pd.to_timedelta(np.sort(rng.integers(0, 3 * 86_400, size=n)), unit="s")
    err = rng.random(n) < 0.12
    kinds = rng.choice(len(ERRORS), size=n, p=ERROR_WEIGHTS)
    table = np.array(ERRORS, dtype=object)
    code = np.where(err, table[kinds, 0], None)
    ids = pd.Series(np.arange(n)).map("{:032x}".format)
    frame = pd.DataFrame(
        {
            "timestamp": ts,
            "status_code": np.where(err, table[kinds, 1], 200).astype("int64"),
            "logged_status": np.where(err, table[kinds, 1], 200).astype("int64"),
            "code": code,
            "raw_code": code,
            "message": np.where(err, table[kinds, 4], None),
            "request_id": ids,
            "model": np.array(MODELS)[rng.integers(0, 4, size=n)],
            "category": np.where(err, table[kinds, 2], None),
            "retryable": np.where(err, table[kinds, 3], None),
            "is_error": err,
            "source": np.array(SOURCES)[rng.integers(0, 2, size=n)],
            "line": np.arange(1, n + 1),
            "mentions": 1,
            "format": "jsonl",
        }
    )
    return coerce_events(frame)
