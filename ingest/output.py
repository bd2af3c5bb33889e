"""Write an events frame as JSON lines, CSV or Parquet (chosen by the file extension)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import IO, Any

import pandas as pd

from ingest.schema import EVENT_COLUMNS

FORMATS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl", ".csv": "csv"}
FORMATS[".parquet"] = "parquet"


class OutputError(ValueError):
    """An output path the tool cannot write."""


def output_kind(path: str) -> str:
    if path == "-":
        return "jsonl"
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        raise OutputError(
            f"{path}: unknown output type {suffix or '(none)'!r}; use .jsonl, .csv or .parquet"
        )
    return FORMATS[suffix]


def _local_iso(ts: pd.Series, tz: str) -> list[str | None]:
    local = ts.dt.tz_convert(tz)
    return [None if pd.isna(t) else t.isoformat(timespec="milliseconds") for t in local]


def _records(events: pd.DataFrame, tz: str) -> list[dict[str, Any]]:
    frame = events.loc[:, list(EVENT_COLUMNS)].astype(object)
    frame = frame.where(events.loc[:, list(EVENT_COLUMNS)].notna(), None)
    # an object column: a plain list would be inferred as pandas' str dtype, None becoming NaN
    # (written as the invalid JSON token NaN)
    frame["timestamp"] = pd.Series(
        _local_iso(events["timestamp"], tz), index=frame.index, dtype=object
    )
    return frame.to_dict(orient="records")  # type: ignore[return-value]


def write_jsonl(events: pd.DataFrame, fh: IO[str], tz: str) -> None:
    """One JSON object per event; keys exactly the column names; times ISO 8601 with offset."""
    for rec in _records(events, tz):
        fh.write(json.dumps(rec, ensure_ascii=False, default=_jsonable) + "\n")


def _jsonable(value: Any) -> Any:
    if hasattr(value, "item"):
        return value.item()
    return str(value)


def write_events(events: pd.DataFrame, path: str, tz: str, stdout: IO[str] | None = None) -> None:
    """Write to ``path`` (``-``: stdout as JSON lines)."""
    kind = output_kind(path)
    if path == "-":
        assert stdout is not None
        write_jsonl(events, stdout, tz)
        return
    target = Path(path)
    if target.parent and not target.parent.exists():
        raise OutputError(f"{path}: folder {target.parent} does not exist; create it first")
    if kind == "jsonl":
        with target.open("w", encoding="utf-8") as fh:
            write_jsonl(events, fh, tz)
    elif kind == "csv":
        frame = pd.DataFrame(_records(events, tz), columns=list(EVENT_COLUMNS))
        # integers stay integers where a row has none (429, not 429.0)
        ints = [c for c in EVENT_COLUMNS if str(events[c].dtype).lower().startswith("int")]
        frame.astype(dict.fromkeys(ints, "Int64")).to_csv(target, index=False)
    else:
        events.loc[:, list(EVENT_COLUMNS)].to_parquet(target, index=False)
