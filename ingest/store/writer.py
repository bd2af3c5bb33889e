"""Events frame <-> Parquet parts: one file per (day, part), written atomically.

The dataset is hive-partitioned by the UTC day of the event (``day=YYYY-MM-DD/``; events without
a timestamp go to ``day=unknown/``). Categorical columns are stored as plain strings: Parquet's
dictionary encoding gives them the same compactness on disk, and readers turn them back into
categoricals (:func:`to_events`).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from ingest.schema import EVENT_DTYPES

if TYPE_CHECKING:
    import pandas as pd

UNKNOWN_DAY = "unknown"
TMP_SUFFIX = ".tmp"

#: the events schema as stored (EVENT_DTYPES with categoricals as strings, times in microseconds)
ARROW_SCHEMA = pa.schema(
    [
        ("timestamp", pa.timestamp("us", tz="UTC")),
        ("status_code", pa.int16()),
        ("logged_status", pa.int32()),
        ("code", pa.string()),
        ("raw_code", pa.string()),
        ("message", pa.string()),
        ("request_id", pa.string()),
        ("model", pa.string()),
        ("category", pa.string()),
        ("retryable", pa.bool_()),
        ("is_error", pa.bool_()),
        ("source", pa.string()),
        ("line", pa.int64()),
        ("mentions", pa.int32()),
        ("format", pa.string()),
    ]
)
assert tuple(ARROW_SCHEMA.names) == tuple(EVENT_DTYPES), "store schema out of date"
#: low-cardinality columns get Parquet dictionaries; times, line numbers and request_ids do not
#: (a dictionary of a million distinct times made DuckDB's min/max 8x slower at 50 M events)
DICTIONARY_COLUMNS: tuple[str, ...] = tuple(
    n for n in ARROW_SCHEMA.names if n not in ("timestamp", "line", "request_id")
)


def to_arrow(frame: pd.DataFrame) -> pa.Table:
    """The events frame as an Arrow table of ``ARROW_SCHEMA``."""
    arrays = []
    for field in ARROW_SCHEMA:
        col = frame[field.name]
        if field.name == "timestamp":
            arr = pa.array(col, type=pa.timestamp("ns", tz="UTC")).cast(field.type, safe=False)
        elif str(col.dtype) == "category":
            arr = pa.array(col.astype("string"), type=field.type)
        else:
            arr = pa.array(col, type=field.type, from_pandas=True)
        arrays.append(arr)
    return pa.Table.from_arrays(arrays, schema=ARROW_SCHEMA)


def to_events(table: pa.Table) -> pd.DataFrame:
    """An Arrow table of stored events back as an events frame with EVENT_DTYPES."""
    import pandas as pd

    from ingest.schema import empty_events

    if table.num_rows == 0:
        return empty_events()
    out: dict[str, Any] = {}
    for name, dtype in EVENT_DTYPES.items():
        col = table.column(name)
        if name == "timestamp":
            s = pd.Series(col.to_pandas()).astype(dtype)
        elif dtype == "category":
            s = pd.Series(col.to_pandas(), dtype="string").astype("category")
        else:
            s = pd.Series(col.to_pandas()).astype(dtype)
        out[name] = s.reset_index(drop=True)
    return pd.DataFrame(out)


def day_of(frame: pd.DataFrame) -> pd.Series:
    """The partition value of each event: its UTC day, or ``unknown``."""
    days: pd.Series = frame["timestamp"].dt.strftime("%Y-%m-%d").astype(object)
    return days.where(frame["timestamp"].notna(), UNKNOWN_DAY)


def write_atomically(table: pa.Table, path: Path) -> None:
    """Write ``table`` to ``path`` through a temp file and a rename: readers never see half."""
    import pyarrow.parquet as pq

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}{TMP_SUFFIX}")
    names = set(table.column_names)  # event parts, or a side table with some of their columns
    pq.write_table(
        table,
        tmp,
        compression="zstd",
        row_group_size=1 << 20,
        use_dictionary=[c for c in DICTIONARY_COLUMNS if c in names],
        column_encoding={c: "DELTA_BINARY_PACKED" for c in ("timestamp", "line") if c in names},
    )
    os.replace(tmp, path)


def write_parts(frame: pd.DataFrame, dataset: Path, part_id: str) -> list[str]:
    """Write ``frame`` as one Parquet file per day; returns their paths relative to ``dataset``.

    Names are deterministic (``day=D/part-<part_id>.parquet``): writing the same part again
    replaces the file, so a resumed run never duplicates what an interrupted one wrote.
    """
    if frame.empty:
        return []
    frame = frame.sort_values(["timestamp", "source", "line"], kind="stable", na_position="last")
    days = day_of(frame)
    written = []
    for day in sorted(days.unique()):
        rel = f"day={day}/part-{part_id}.parquet"
        write_atomically(to_arrow(frame.loc[(days == day).to_numpy()]), dataset / rel)
        written.append(rel)
    return written


def remove_temp_files(dataset: Path) -> int:
    """Delete the temp files an interrupted writer left behind; returns how many."""
    n = 0
    for pattern in (f"day=*/.*{TMP_SUFFIX}", f"rollups/**/.*{TMP_SUFFIX}"):
        for tmp in dataset.glob(pattern):
            tmp.unlink(missing_ok=True)
            n += 1
    return n
