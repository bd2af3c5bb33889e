"""The event store: logs ingested into a day-partitioned Parquet dataset, queried with DuckDB.

``ingest_dataset`` writes it (locally or on a dask.distributed cluster); ``DatasetQuery``
answers the dashboard's and the CLI's questions in SQL without loading the events.
"""

from __future__ import annotations

from ingest.store.manifest import StoreError, is_dataset

__all__ = ["StoreError", "is_dataset"]
