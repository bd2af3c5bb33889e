"""The one interface the pages ask questions through, and its two implementations.

``Queries`` is what a page can ask of the current logs (always with the sidebar's ``Filters``):
``FrameQueries`` answers from an events frame in memory (``ingest.queries``, pandas), and
``StoreQueries`` from a Parquet dataset made by ``dashscope-logs ingest`` (``ingest.store.query.
DatasetQuery``: DuckDB, filters pushed down, aggregation in SQL, only aggregates come back).
``app.data`` picks one per source and caches the answers; the pages never see which one it is.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol

import pandas as pd

from ingest import queries
from ingest.context import attach
from ingest.queries import Filters, Kpis, Options, TimeSeries

if TYPE_CHECKING:
    from ingest.store.query import DatasetQuery


class Queries(Protocol):
    """What the pages ask; every answer is an aggregate (or a bounded selection of events)."""

    def options(self) -> Options: ...

    def time_bounds(self) -> tuple[pd.Timestamp, pd.Timestamp] | None: ...

    def kpis(self, filters: Filters) -> Kpis: ...

    def count(self, filters: Filters) -> int: ...

    def errors_over_time(self, filters: Filters, bucket: str, tz: str) -> TimeSeries: ...

    def throttling_over_time(self, filters: Filters, bucket: str, tz: str) -> TimeSeries: ...

    def top_codes(
        self, filters: Filters, meanings: Mapping[str, str], limit: int | None
    ) -> pd.DataFrame: ...

    def status_distribution(self, filters: Filters) -> pd.DataFrame: ...

    def per_model(self, filters: Filters) -> pd.DataFrame: ...

    def top_request_ids(
        self, filters: Filters, needle: str, limit: int
    ) -> tuple[pd.DataFrame, int]: ...

    def failures_without_request_id(self, filters: Filters) -> pd.DataFrame: ...

    def code_counts(self, filters: Filters) -> pd.Series: ...

    def events(
        self,
        filters: Filters,
        *,
        errors_only: bool = False,
        limit: int | None = None,
        with_context: bool = False,
    ) -> pd.DataFrame: ...

    def request_ids_csv(self, filters: Filters, tz: str) -> bytes: ...

    def ticket(self, filters: Filters, tz: str) -> str: ...


def window(filters: Filters, start: pd.Timestamp | None, end: pd.Timestamp | None) -> Filters:
    """``filters`` narrowed to [start, end) (the intersection with their own window)."""
    lo = filters.start if start is None else max(start, filters.start or start)
    hi = filters.end if end is None else min(end, filters.end or end)
    return dataclasses.replace(filters, start=lo, end=hi)


class FrameQueries:
    """``Queries`` of an events frame in memory (``ingest.queries``).

    The filtered selection is kept for the last ``Filters`` only: the questions of one rerun
    share it instead of each copying the frame again (not a cache; ``app.data`` caches answers).
    """

    def __init__(self, events: pd.DataFrame, context: pd.DataFrame | None = None) -> None:
        self.frame = events
        self.context = context  # API key / client host of the errors (IngestReport.context)
        self._lock = threading.Lock()
        self._last: tuple[Filters, pd.DataFrame] | None = None

    def select(self, filters: Filters) -> pd.DataFrame:
        with self._lock:
            if self._last is not None and self._last[0] == filters:
                return self._last[1]
            selection = queries.apply_filters(self.frame, filters)
            self._last = (filters, selection)
            return selection

    def options(self) -> Options:
        return queries.filter_options(self.frame)

    def time_bounds(self) -> tuple[pd.Timestamp, pd.Timestamp] | None:
        ts = self.frame["timestamp"]
        if self.frame.empty or ts.isna().all():
            return None
        return pd.Timestamp(ts.min()), pd.Timestamp(ts.max())

    def kpis(self, filters: Filters) -> Kpis:
        return queries.kpis(self.select(filters))

    def count(self, filters: Filters) -> int:
        return len(self.select(filters))

    def errors_over_time(self, filters: Filters, bucket: str, tz: str) -> TimeSeries:
        return queries.errors_over_time(self.select(filters), bucket, tz)

    def throttling_over_time(self, filters: Filters, bucket: str, tz: str) -> TimeSeries:
        return queries.throttling_over_time(self.select(filters), bucket, tz)

    def top_codes(
        self, filters: Filters, meanings: Mapping[str, str], limit: int | None
    ) -> pd.DataFrame:
        return queries.top_codes(self.select(filters), meanings, limit)

    def status_distribution(self, filters: Filters) -> pd.DataFrame:
        return queries.status_distribution(self.select(filters))

    def per_model(self, filters: Filters) -> pd.DataFrame:
        return queries.per_model(self.select(filters))

    def top_request_ids(
        self, filters: Filters, needle: str, limit: int
    ) -> tuple[pd.DataFrame, int]:
        ids = queries.top_request_ids(self.select(filters))
        if needle:
            hit = ids["request_id"].astype(str).str.contains(needle, case=False, regex=False)
            ids = ids.loc[hit.to_numpy(dtype=bool)]
        return ids.head(limit).reset_index(drop=True), len(ids)

    def failures_without_request_id(self, filters: Filters) -> pd.DataFrame:
        return queries.failures_without_request_id(self.select(filters))

    def code_counts(self, filters: Filters) -> pd.Series:
        errs = queries.errors_only(self.select(filters))
        return errs.groupby(["code", "category"], observed=True).size()

    def events(
        self,
        filters: Filters,
        *,
        errors_only: bool = False,
        limit: int | None = None,
        with_context: bool = False,
    ) -> pd.DataFrame:
        out = self.select(filters)
        if errors_only:
            out = queries.errors_only(out)
        out = out if limit is None else out.head(limit)
        return attach(out, self.context) if with_context else out

    def request_ids_csv(self, filters: Filters, tz: str) -> bytes:
        from ingest import export

        return export.request_ids_csv(self.events(filters, errors_only=True), tz, bom=True)

    def ticket(self, filters: Filters, tz: str) -> str:
        from ingest import export

        errors = self.events(filters, errors_only=True)
        return export.ticket_markdown(errors, tz, filters.describe(tz))


class StoreQueries:
    """``Queries`` of a Parquet dataset in DuckDB. One connection, used by one thread at a time
    (a DuckDB connection is not thread-safe and Streamlit runs each session in its thread)."""

    def __init__(self, store: DatasetQuery) -> None:
        self.store = store
        self._lock = threading.Lock()

    def _ask(self, name: str, *args: Any, **kwargs: Any) -> Any:
        with self._lock:
            return getattr(self.store, name)(*args, **kwargs)

    def options(self) -> Options:
        out: Options = self._ask("filter_options")
        return out

    def time_bounds(self) -> tuple[pd.Timestamp, pd.Timestamp] | None:
        out: tuple[pd.Timestamp, pd.Timestamp] | None = self._ask("time_bounds")
        return out

    def kpis(self, filters: Filters) -> Kpis:
        out: Kpis = self._ask("kpis", filters)
        return out

    def count(self, filters: Filters) -> int:
        out: int = self._ask("count", filters)
        return out

    def errors_over_time(self, filters: Filters, bucket: str, tz: str) -> TimeSeries:
        out: TimeSeries = self._ask("errors_over_time", filters, bucket, tz)
        return out

    def throttling_over_time(self, filters: Filters, bucket: str, tz: str) -> TimeSeries:
        out: TimeSeries = self._ask("throttling_over_time", filters, bucket, tz)
        return out

    def top_codes(
        self, filters: Filters, meanings: Mapping[str, str], limit: int | None
    ) -> pd.DataFrame:
        out: pd.DataFrame = self._ask("top_codes", filters, meanings, limit)
        return out

    def status_distribution(self, filters: Filters) -> pd.DataFrame:
        out: pd.DataFrame = self._ask("status_distribution", filters)
        return out

    def per_model(self, filters: Filters) -> pd.DataFrame:
        out: pd.DataFrame = self._ask("per_model", filters)
        return out

    def top_request_ids(
        self, filters: Filters, needle: str, limit: int
    ) -> tuple[pd.DataFrame, int]:
        ids: pd.DataFrame = self._ask("top_request_ids", filters, limit, needle=needle)
        total: int = self._ask("request_id_count", filters, needle=needle)
        return ids, total

    def failures_without_request_id(self, filters: Filters) -> pd.DataFrame:
        out: pd.DataFrame = self._ask("failures_without_request_id", filters)
        return out

    def code_counts(self, filters: Filters) -> pd.Series:
        out: pd.Series = self._ask("code_counts", filters)
        return out

    def events(
        self,
        filters: Filters,
        *,
        errors_only: bool = False,
        limit: int | None = None,
        with_context: bool = False,
    ) -> pd.DataFrame:
        out: pd.DataFrame = self._ask(
            "events", filters, errors_only=errors_only, limit=limit, with_context=with_context
        )
        return out

    def request_ids_csv(self, filters: Filters, tz: str) -> bytes:
        """Streamed from DuckDB in batches (``ingest.store.export``), not loaded whole."""
        from ingest.store import export

        with self._lock:
            return export.request_ids_csv(self.store, filters, tz, bom=True)

    def ticket(self, filters: Filters, tz: str) -> str:
        """Aggregated in SQL (``ingest.store.export``), not from the loaded errors."""
        from ingest.store import export

        with self._lock:
            return export.ticket_markdown(self.store, filters, tz)
