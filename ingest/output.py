"""Write an events frame as JSON lines, CSV or Parquet (chosen by the file extension)."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from ingest.schema import EVENT_COLUMNS, empty_events

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


def _local_iso(ts: pd.Series, tz: str) -> npt.NDArray[np.object_]:
    """Each time in ``tz`` as ISO 8601 with milliseconds and offset (None where there is none):
    the wall-clock digits by numpy's datetime_as_string, the offset text once per distinct
    offset (a per-row isoformat() took 18% of writing a million errors)."""
    out = np.full(len(ts), None, dtype=object)
    present = ts.notna().to_numpy()
    if not present.any():
        return out
    utc = ts[present].dt.tz_convert("UTC").dt.tz_localize(None).to_numpy("datetime64[ns]")
    wall = ts[present].dt.tz_convert(tz).dt.tz_localize(None).to_numpy("datetime64[ns]")
    digits = np.datetime_as_string(wall.astype("datetime64[ms]"), unit="ms")
    seconds = ((wall - utc) // np.timedelta64(1, "s")).astype(np.int64)
    offsets, which = np.unique(seconds, return_inverse=True)
    texts = np.array([_offset_text(int(m)) for m in offsets], dtype=object)
    out[present] = digits.astype(object) + texts[which]
    return out


def _offset_text(seconds: int) -> str:
    """As datetime.isoformat writes a UTC offset: +08:00, -03:30 (+00:17:30: seconds too)."""
    sign = "-" if seconds < 0 else "+"
    hours, rest = divmod(abs(seconds), 3600)
    text = f"{sign}{hours:02d}:{rest // 60:02d}"
    return text + f":{rest % 60:02d}" if rest % 60 else text


#: rows turned into JSON text at once (a slice's text, about 25 MB, is one Arrow array)
JSONL_ROWS = 64 << 10


def write_jsonl(events: pd.DataFrame, fh: IO[str], tz: str) -> None:
    """One JSON object per event; keys exactly the column names; times ISO 8601 with offset.

    Each line is what ``json.dumps(record, ensure_ascii=False)`` writes for the event's record
    (tests/test_output.py), built a column at a time by Arrow's string kernels: a category's
    value is encoded once, not once per row, and the lines are joined in C++ (one process
    wrote 60 k lines a second by json.dumps of records, about 1 M now)."""
    for start in range(0, len(events), JSONL_ROWS):
        fh.write(_json_lines(events.iloc[start : start + JSONL_ROWS], tz))


def _json_lines(events: pd.DataFrame, tz: str) -> str:
    import pyarrow.compute as pc

    args: list[Any] = []
    for n, col in enumerate(EVENT_COLUMNS):
        args.append(("{" if n == 0 else ", ") + json.dumps(col) + ": ")
        args.append(_json_texts(events[col], tz))
    args.append("}\n")
    import pyarrow as pa

    lines = pc.binary_join_element_wise(*args, "")  # the last argument: the separator
    if isinstance(lines, pa.ChunkedArray):
        lines = lines.combine_chunks()
    wide = pa.types.is_large_string(lines.type)
    offsets = np.frombuffer(lines.buffers()[1], dtype=np.int64 if wide else np.int32)
    offsets = offsets[lines.offset :]
    data = lines.buffers()[2]
    return "" if data is None else data.to_pybytes()[offsets[0] : offsets[len(lines)]].decode()


def _json_texts(values: pd.Series, tz: str) -> Any:
    """The JSON text of each value of one events column (``null`` for a missing one), as an
    Arrow string array."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if values.name == "timestamp":
        return _json_times(values, tz)
    if isinstance(values.dtype, pd.CategoricalDtype):
        encoded = [
            json.dumps(c, ensure_ascii=False, default=_jsonable) for c in values.cat.categories
        ]
        codes = values.cat.codes.to_numpy()
        return pa.array([*encoded, "null"]).take(np.where(codes < 0, len(encoded), codes))
    if values.dtype == bool or str(values.dtype) == "boolean":
        flags = pa.array(values.to_numpy(dtype=object), type=pa.bool_(), from_pandas=True)
        return pc.if_else(flags, "true", "false").fill_null("null")
    if pd.api.types.is_integer_dtype(values.dtype):
        ints = pa.array(values.to_numpy(dtype=object), type=pa.int64(), from_pandas=True)
        return pc.cast(ints, pa.string()).fill_null("null")
    if isinstance(values.dtype, pd.StringDtype):
        text = pa.array(values.array, type=pa.string(), from_pandas=True)
        quoted = pc.binary_join_element_wise('"', text, '"', "")
        # json.dumps escapes only quotes, backslashes and control characters (ensure_ascii off)
        awkward = pc.match_substring_regex(text, r'["\\\x00-\x1f]').fill_null(False)
        if pc.any(awkward).as_py():
            where = np.flatnonzero(awkward.to_numpy(zero_copy_only=False))
            escaped = [json.dumps(v, ensure_ascii=False) for v in values.iloc[where]]
            quoted = pc.replace_with_mask(quoted, awkward, pa.array(escaped, type=pa.string()))
        return quoted.fill_null("null")
    return pa.array(
        [
            "null"
            if v is None or v is pd.NA
            else json.dumps(v, ensure_ascii=False, default=_jsonable)
            for v in values.to_numpy(dtype=object)
        ],
        type=pa.string(),
    )


def _json_times(ts: pd.Series, tz: str) -> Any:
    """Each time as a JSON string in ``tz`` (``_local_iso``), ``null`` where there is none."""
    import pyarrow as pa

    texts = _local_iso(ts, tz)
    present = texts != None  # noqa: E711 - elementwise
    texts[present] = '"' + texts[present] + '"'
    texts[~present] = "null"
    return pa.array(texts, type=pa.string())


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=_jsonable)


def _jsonable(value: Any) -> Any:
    if hasattr(value, "item"):
        return value.item()
    return str(value)


def write_events(events: pd.DataFrame, path: str, tz: str, stdout: IO[str] | None = None) -> None:
    """Write to ``path`` (``-``: stdout as JSON lines)."""
    write_event_batches([events], path, tz, stdout)


def write_event_batches(
    batches: Iterable[pd.DataFrame], path: str, tz: str, stdout: IO[str] | None = None
) -> None:
    """Write the events that come in ``batches`` (ingest.bounded) to ``path`` (``-``: stdout
    as JSON lines), one batch at a time: the file is what write_events gives for their
    concatenation."""
    kind = output_kind(path)
    if path == "-":
        assert stdout is not None
        for events in batches:
            write_jsonl(events, stdout, tz)
        return
    target = Path(path)
    if target.parent and not target.parent.exists():
        raise OutputError(f"{path}: folder {target.parent} does not exist; create it first")
    if kind == "jsonl":
        with target.open("w", encoding="utf-8") as fh:
            for events in batches:
                write_jsonl(events, fh, tz)
    elif kind == "csv":
        with target.open("w", encoding="utf-8", newline="") as fh:
            header = True
            for events in batches:
                _write_csv(events, fh, tz, header=header)
                header = False
            if header:  # no batch: the header alone
                _write_csv(empty_events(), fh, tz, header=True)
    else:
        _write_parquet(batches, target)


def _write_csv(events: pd.DataFrame, fh: IO[str], tz: str, *, header: bool) -> None:
    """The columns as pandas writes them (integers stay integers where a row has none: 429,
    not 429.0), the times as ISO 8601 with offset in ``tz``."""
    frame = events.loc[:, list(EVENT_COLUMNS)].copy()
    frame["timestamp"] = pd.Series(_local_iso(events["timestamp"], tz), index=frame.index)
    frame.to_csv(fh, index=False, header=header)


def _write_parquet(batches: Iterable[pd.DataFrame], target: Path) -> None:
    """One frame as pandas writes it; several through one writer, the categorical columns
    as dictionaries with 32-bit indices (each batch's categories are its own)."""
    batches = iter(batches)
    first = next(batches, None)
    second = next(batches, None)
    if second is None:
        events = empty_events() if first is None else first
        events.loc[:, list(EVENT_COLUMNS)].to_parquet(target, index=False)
        return
    import pyarrow as pa
    import pyarrow.parquet as pq

    assert first is not None
    schema: pa.Schema | None = None
    writer: pq.ParquetWriter | None = None
    try:
        for events in itertools.chain((first, second), batches):
            table = pa.Table.from_pandas(events.loc[:, list(EVENT_COLUMNS)], preserve_index=False)
            if schema is None:
                fields = [
                    pa.field(f.name, pa.dictionary(pa.int32(), f.type.value_type))
                    if pa.types.is_dictionary(f.type)
                    else f
                    for f in table.schema
                ]
                schema = pa.schema(fields, metadata=table.schema.metadata)
                writer = pq.ParquetWriter(target, schema)
            assert writer is not None
            writer.write_table(table.cast(schema))
    finally:
        if writer is not None:
            writer.close()
