"""The events frame: one row per API call outcome. Scripts and the dashboard depend on it.

Columns and dtypes are fixed and present even when the frame is empty (issue #3, "Contract").
Low-cardinality text is categorical so that an event costs well under 100 bytes in memory
(../shared/reference/performance.md: 62 MB per million rows with categoricals).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

#: column -> pandas dtype. Order is the order of every output (jsonl keys, csv header, parquet).
EVENT_DTYPES: dict[str, Any] = {
    "timestamp": pd.DatetimeTZDtype("ns", "UTC"),
    "status_code": "Int16",  # reconciled HTTP status (see ingest.normalize.reconcile_status)
    "logged_status": "Int32",  # what the log said, artefacts (44, -1, 200 mid-stream) included
    "code": "category",  # native DashScope code (compat aliases mapped)
    "raw_code": "category",  # the code exactly as logged
    "message": "category",
    "request_id": "string",
    "model": "category",
    "category": "category",  # catalogue category, e.g. "request-rate limit"
    "retryable": "boolean",
    "is_error": "bool",
    "source": "category",  # file name (archive members as archive.zip!member)
    "line": "int64",  # 1-based line number where the record starts
    "mentions": "int32",  # how many times the log mentions this same outcome
    "format": "category",  # name of the format definition that produced the event
}

EVENT_COLUMNS: tuple[str, ...] = tuple(EVENT_DTYPES)


def empty_events() -> pd.DataFrame:
    """An events frame with no rows and the full schema."""
    return pd.DataFrame({c: pd.Series([], dtype=t) for c, t in EVENT_DTYPES.items()})


def coerce_events(frame: pd.DataFrame) -> pd.DataFrame:
    """Return ``frame`` with exactly the contract's columns, in order, with their dtypes."""
    out = {}
    n = len(frame)
    for col, dtype in EVENT_DTYPES.items():
        s = frame[col] if col in frame.columns else pd.Series([None] * n, index=frame.index)
        if col == "timestamp":
            s = pd.to_datetime(s, utc=True, errors="coerce").astype(dtype)
        elif col in ("is_error",):
            s = s.fillna(False).astype(bool)
        elif col in ("line", "mentions"):
            s = pd.to_numeric(s, errors="coerce").fillna(0 if col == "line" else 1).astype(dtype)
        elif dtype == "category":
            s = s.astype("string").astype("category")
        else:
            s = s.astype(dtype)
        out[col] = s
    return pd.DataFrame(out, index=range(n)) if n else empty_events()
