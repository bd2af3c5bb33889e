"""Dataset directories made by ``dashscope-logs ingest`` as a dashboard source.

``dashscope-logs app DATASET_DIR`` opens the Parquet dataset: DuckDB reads the committed parts
(``ingest.store.query.DatasetQuery``) and the stored parse report, without parsing any log.
The pages ask it through ``app.backend.StoreQueries``: filters become a WHERE clause pushed down
to Parquet and only aggregates reach pandas; the events are never all loaded.
"""

from __future__ import annotations

from pathlib import Path

from app.backend import StoreQueries
from ingest import IngestReport


def is_dataset(paths: list[str]) -> bool:
    """True when the app was given exactly one dataset directory."""
    from ingest.store import is_dataset as _is

    return len(paths) == 1 and _is(paths[0])


def dataset_key(path: str) -> str:
    """Changes whenever an ingest commits a part, so a reload shows the new events."""
    manifest = Path(path) / "manifest.json"
    stat = manifest.stat()
    return f"{Path(path).resolve()}:{stat.st_size}:{stat.st_mtime_ns}"


def open_store(path: str) -> tuple[StoreQueries, IngestReport]:
    """The dataset's queries (one DuckDB connection over its committed parts) and its report."""
    from ingest.store.query import DatasetQuery
    from ingest.store.reports import load_report

    store = DatasetQuery(path)
    return StoreQueries(store), load_report(store.dataset)
