"""The API key / client host table of a dataset (ingest.context), one file per segment.

The parse gives each error event that names an API key or a client host a row (source, line,
api_key, client_host) beside the events (the 15 event columns are a contract). A segment writes
its rows to ``rollups/context/part-<id>.parquet``, listed with its rollups in the manifest, so
the file follows the segment through commit, trash and resumed runs. A segment whose log names
neither writes no file, and a dataset ingested before this has none: the explainer then says it
could not rank them. It cannot be rebuilt from the parts (the events do not carry the fields):
re-ingesting the logs into a new dataset writes it.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ingest.store.rollups import ROLLUPS

CONTEXT = "context"


def context_path(part_id: str) -> str:
    return f"{ROLLUPS}/{CONTEXT}/part-{part_id}.parquet"


def write_context(dataset: Path, tables: list[pd.DataFrame], part_id: str) -> list[str]:
    """Write one segment's context rows; returns the relative path (none without rows)."""
    import pyarrow as pa

    from ingest.context import CONTEXT_FIELDS, concat_context
    from ingest.store.writer import write_atomically

    table = concat_context(tables)
    if not len(table):
        return []
    rel = context_path(part_id)
    frame = table.astype(dict.fromkeys(("source", *CONTEXT_FIELDS), "string"))
    write_atomically(pa.Table.from_pandas(frame, preserve_index=False), dataset / rel)
    return [rel]
