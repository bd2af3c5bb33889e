"""Dataset directories made by ``dashscope-logs ingest`` as a dashboard source.

``dashscope-logs app DATASET_DIR`` opens the Parquet dataset: DuckDB reads the committed parts
(``ingest.store.query.DatasetQuery``) and the stored parse report, without parsing any log. The
pages still aggregate the loaded events in pandas; ``DatasetQuery`` has the same aggregations in
SQL for when the pages ask it directly (see docs/store.md, "Dashboard").
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

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


@st.cache_data(show_spinner=False, max_entries=2)
def _load(key: str, path: str) -> tuple[pd.DataFrame, IngestReport]:
    from ingest.store.query import DatasetQuery
    from ingest.store.reports import load_report

    store = DatasetQuery(path)
    try:
        return store.events(), load_report(store.dataset)
    finally:
        store.close()


def load(path: str, label: str) -> tuple[str, pd.DataFrame, IngestReport]:
    """(cache key, events, report) of the dataset at ``path``."""
    key = dataset_key(path)
    events, report = _load(key, path)
    return "dataset:" + key, events, report
