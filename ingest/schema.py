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


def concat_events(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Concatenate event frames keeping categoricals categorical (categories are unioned).

    ``pd.concat`` turns categoricals with different categories into objects, which for millions
    of rows costs several times the memory of the result.
    """
    frames = [f for f in frames if len(f)]
    if not frames:
        return empty_events()
    if len(frames) == 1:
        return frames[0].reset_index(drop=True)
    from pandas.api.types import union_categoricals

    out: dict[str, Any] = {}
    for col, dtype in EVENT_DTYPES.items():
        if dtype == "category":
            parts = [f[col].astype("category") for f in frames]
            out[col] = pd.Series(union_categoricals(parts, ignore_order=True))
        else:
            out[col] = pd.concat([f[col] for f in frames], ignore_index=True).astype(dtype)
    return pd.DataFrame(out)


def tidy_categories(frame: pd.DataFrame) -> pd.DataFrame:
    """Only the categories in use, in sorted order: the frame does not depend on how it was
    assembled (which chunk or process saw a value first, which rows merged away)."""
    for col, dtype in EVENT_DTYPES.items():
        if dtype != "category":
            continue
        s = frame[col].cat.remove_unused_categories()
        cats = s.cat.categories
        if len(cats) > 1 and not cats.is_monotonic_increasing:
            s = s.cat.reorder_categories(cats.sort_values())
        frame[col] = s
    return frame


def _has_repeats(ids: pd.Series) -> bool:
    """Some request_id appears twice (a hash count, much cheaper than ``duplicated``)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    arr = pa.array(ids.array) if isinstance(ids.dtype, pd.StringDtype) else pa.array(ids)
    distinct = len(pc.unique(arr)) - (1 if arr.null_count else 0)
    return bool(distinct < len(arr) - arr.null_count)


def merge_by_request_id(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per (request_id, is_error): the earliest mention, mentions summed, gaps filled.

    The same outcome can be mentioned in two parts of a file parsed apart (byte ranges in
    several processes, or rows already flushed to columns while parsing a long file).
    """
    has_id = frame["request_id"].notna()
    if not has_id.any():
        return frame
    if not _has_repeats(frame["request_id"]):
        return frame
    keyed = frame[has_id]
    dup = keyed.duplicated(subset=["request_id", "is_error"], keep=False)
    if not dup.any():
        return frame
    parts = keyed[dup].sort_values("line", kind="stable")
    mentions = parts.groupby(["request_id", "is_error"], observed=True)["mentions"].transform("sum")
    parts = parts.assign(mentions=mentions.astype(frame["mentions"].dtype))
    firsts = parts.groupby(["request_id", "is_error"], observed=True, sort=False).first()
    firsts = firsts.reset_index()[list(EVENT_COLUMNS)]
    kept = frame.drop(index=parts.index)
    merged = concat_events([kept, coerce_events(firsts)])
    return merged.sort_values("line", kind="stable").reset_index(drop=True)
