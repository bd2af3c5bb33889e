"""The dashboard's aggregations in DuckDB SQL over the Parquet dataset.

One function here per function of ``ingest.queries`` that the pages, ``summary`` and
``export-ids`` use, with the same results (tests/test_store_query.py compares them on the same
events). Filters (``ingest.queries.Filters``, same semantics: scope filters on every event,
outcome filters on errors only) become a WHERE clause that DuckDB pushes down to the Parquet
files: the ``day`` partition prunes files for a time window, row-group statistics prune the
rest, and only aggregates (a few hundred rows) come back to pandas.

Most questions are answered from the rollups written at ingest (``ingest.store.rollups``) when
the dataset has them: a rollup row stands for ``n`` events with the same minute (or hour) and
the same values of the columns filters and charts use, so a filter change sums a few hundred
thousand rows instead of scanning 50 M events. A time window is cut into whole hours (hour
rows), whole minutes (minute rows) and the partial minutes at its ends (the events themselves,
aggregated the same way), so the answers are those of the events to the event. Questions about
errors that rollups cannot answer (the request_id tables, the ticket's first messages and ids,
the errors of a message search, the rows of exports) read the failed-call files
(``ingest.store.failed_calls``: every error event, a tenth of the events); the rest (sub-minute
buckets, rows with successes) read the events. ``DatasetQuery(..., rollups=False)`` reads the
events for everything (tests compare both).

../shared/reference/performance.md: ``SET TimeZone='UTC'`` and integer epoch arithmetic for
buckets (``date_trunc`` on TIMESTAMPTZ goes through ICU and is several times slower).
"""

from __future__ import annotations

import dataclasses
import os
from collections import OrderedDict
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ingest.queries import (
    CATEGORIES,
    NO_ID_COLUMNS,
    PER_MODEL_COLUMNS,
    THROTTLING_KINDS,
    TOP_CODES_COLUMNS,
    TOP_REQUEST_IDS_COLUMNS,
    Filters,
    Kpis,
    Options,
    TimeSeries,
    empty_table,
)
from ingest.store import search
from ingest.store.context import CONTEXT
from ingest.store.failed_calls import KINDS as FAILED_KINDS
from ingest.store.failed_calls import WITH_ID, WITHOUT_ID, kind_of
from ingest.store.manifest import Manifest, StoreError
from ingest.store.rollups import LEVELS, MINUTE_US, rollup_sql, shared_ids_path, sql_str

_EMPTY_TABLE = """
CREATE TABLE events (
    "timestamp" TIMESTAMPTZ, status_code SMALLINT, logged_status INTEGER, code VARCHAR,
    raw_code VARCHAR, message VARCHAR, request_id VARCHAR, model VARCHAR, category VARCHAR,
    retryable BOOLEAN, is_error BOOLEAN, source VARCHAR, line BIGINT, mentions INTEGER,
    format VARCHAR, day VARCHAR)
"""
#: above this many errors, ``kpis`` on the events estimates the distinct failing request_ids
#: (HyperLogLog); with rollups and a shared-ids file the count is exact at any size
EXACT_DISTINCT_MAX = 1_000_000
_THR = "(" + ", ".join(f"'{k}'" for k in THROTTLING_KINDS) + ")"
#: rollup selections of unaligned windows kept (their partial minutes, aggregated)
_EDGE_CACHE = 8
#: rows per Arrow batch when streaming events out (exports)
BATCH_ROWS = 65_536


def where(filters: Filters | None) -> tuple[str, list[Any]]:
    """The WHERE clause (and its parameters) of ``ingest.queries.apply_filters``."""
    if filters is None or not filters.active:
        return "TRUE", []
    scope: list[str] = []
    params: list[Any] = []

    def member(col: str, values: Sequence[Any]) -> str:
        params.extend(values)
        return f"{col} IN ({', '.join('?' for _ in values)})"

    if filters.models:
        scope.append(member("model", [str(m) for m in filters.models]))
    if filters.sources:
        scope.append(member("source", [str(s) for s in filters.sources]))
    if filters.start is not None:
        start = pd.Timestamp(filters.start).tz_convert("UTC")
        scope += ["day >= ?", '"timestamp" >= ?']  # the day prunes whole partitions
        params += [start.strftime("%Y-%m-%d"), start.to_pydatetime()]
    if filters.end is not None:
        end = pd.Timestamp(filters.end).tz_convert("UTC")
        scope += ["day <= ?", '"timestamp" < ?']
        params += [end.strftime("%Y-%m-%d"), end.to_pydatetime()]
    outcome: list[str] = []
    if filters.codes:
        outcome.append(member("code", [str(c) for c in filters.codes]))
    if filters.categories:
        outcome.append(member("category", [str(c) for c in filters.categories]))
    if filters.statuses:
        outcome.append(member("status_code", [int(s) for s in filters.statuses]))
    if filters.search.strip():
        outcome.append("contains(lower(message), ?)")
        params.append(filters.search.strip().lower())
    if outcome:
        scope.append(f"(NOT is_error OR ({' AND '.join(outcome)}))")
    return " AND ".join(scope) or "TRUE", params


def _us(ts: pd.Timestamp) -> int:
    """Microseconds since the epoch, as ``where`` compares (``to_pydatetime`` drops ns)."""
    t = pd.Timestamp(ts).tz_convert("UTC")
    return int(t.value // 1000)


def _ts(us: int) -> pd.Timestamp:
    return pd.Timestamp(us, unit="us", tz="UTC")


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


class Source:
    """Where an aggregation reads: the events (one row per event), or rollup rows (``n``
    events each) already restricted to the selection. The aggregates are spelled through it
    so that one query text serves both."""

    def __init__(
        self, relation: str, where: str, params: list[Any], rollup: bool, errors_only: bool = False
    ) -> None:
        self.relation = relation
        self.where = where
        self.params = params
        self.rollup = rollup
        #: every row is an error (the calls of a bucket are its errors)
        self.errors_only = errors_only

    @property
    def rows(self) -> str:
        """``FROM ... WHERE ...``: add ``AND ...`` conditions after it."""
        return f"FROM {self.relation} WHERE {self.where}"

    def count(self, cond: str | None = None) -> str:
        """The number of events (meeting ``cond``)."""
        if not self.rollup:
            return "count(*)" if cond is None else f"count(*) FILTER ({cond})"
        total = "sum(n)" if cond is None else f"sum(n) FILTER ({cond})"
        return f"coalesce({total}, 0)::BIGINT"

    @property
    def weight(self) -> str:
        """Events per row (for sums in a CTE)."""
        return "n" if self.rollup else "1"

    @property
    def first(self) -> str:
        return "min(ts_min)" if self.rollup else 'min("timestamp")'

    @property
    def last(self) -> str:
        return "max(ts_max)" if self.rollup else 'max("timestamp")'

    @property
    def no_rid(self) -> str:
        """Errors without a request_id."""
        if self.rollup:
            return "coalesce(sum(no_rid) FILTER (is_error), 0)::BIGINT"
        return "count(*) FILTER (is_error AND request_id IS NULL)"

    @property
    def corrected(self) -> str:
        """Events whose logged status was corrected."""
        if self.rollup:
            return "coalesce(sum(corrected), 0)::BIGINT"
        return (
            "count(*) FILTER (logged_status IS NOT NULL AND status_code IS NOT NULL "
            "AND logged_status <> status_code)"
        )

    @property
    def timed(self) -> str:
        return "minute IS NOT NULL" if self.rollup else '"timestamp" IS NOT NULL'

    @property
    def epoch_us(self) -> str:
        """Microseconds since the epoch (of the row's minute, for rollups: buckets that are
        whole minutes only)."""
        return f"minute * {MINUTE_US}" if self.rollup else 'epoch_us("timestamp")'


class DatasetQuery:
    """A read-only DuckDB view of a dataset's committed parts (see ``manifest.parts()``) and of
    their rollups (``manifest.rollup_parts()``; not used when ``rollups=False`` or when some
    committed segment has none yet)."""

    def __init__(
        self, dataset: str | Path, *, threads: int | None = None, rollups: bool = True
    ) -> None:
        import duckdb

        self.dataset = Path(dataset)
        manifest = Manifest.load(self.dataset)
        if manifest is None:
            raise StoreError(
                f"{dataset}: not a dataset (no manifest.json); create it with "
                "`dashscope-logs ingest LOGS... --to DIR`"
            )
        self.manifest = manifest
        self.tz = manifest.tz
        self.files = [str(self.dataset / p) for p in manifest.parts()]
        self.con = duckdb.connect()
        self.con.execute("SET TimeZone='UTC'")
        self.con.execute(f"SET threads={int(threads or os.cpu_count() or 1)}")
        # a long query would draw DuckDB's progress bar into a CSV written to stdout
        self.con.execute("SET enable_progress_bar=false")
        if self.files:
            listing = ", ".join(sql_str(f) for f in self.files)
            self.con.execute(
                "CREATE VIEW events AS SELECT * FROM read_parquet("
                f"[{listing}], hive_partitioning=true, hive_types={{'day': VARCHAR}})"
            )
        else:
            self.con.execute(_EMPTY_TABLE)
        self.rollups = bool(rollups and self.files and manifest.has_rollups(LEVELS))
        by_kind: dict[str, list[str]] = {kind: [] for kind in (*LEVELS, *FAILED_KINDS)}
        for rel in manifest.rollup_parts():
            by_kind.setdefault(kind_of(rel), []).append(sql_str(str(self.dataset / rel)))
        if self.rollups:
            for level in LEVELS:
                self.con.execute(
                    f"CREATE VIEW r_{level} AS SELECT * FROM read_parquet("
                    f"[{', '.join(by_kind[level])}])"
                )
        #: the API key / client host rows of the errors (ingest.store.context), when any
        self.has_context = bool(by_kind.get(CONTEXT))
        if self.has_context:
            self.con.execute(
                "CREATE VIEW context AS SELECT * FROM read_parquet("
                f"[{', '.join(by_kind[CONTEXT])}])"
            )
        ids = self.dataset / shared_ids_path(manifest.parts())
        self.shared_ids = self.rollups and ids.is_file()
        if self.shared_ids:
            self.con.execute(
                f"CREATE VIEW shared_ids AS SELECT * FROM read_parquet({sql_str(str(ids))})"
            )
        #: errors read from the failed-call files (``ingest.store.failed_calls``) instead of
        #: the events: needs them for every segment, and the shared-ids file (for the ranking)
        self.failed = self.shared_ids and manifest.has_rollups(FAILED_KINDS)
        self.shared_rows = 0
        if self.failed:
            with_id, without_id = (", ".join(by_kind[k]) for k in (WITH_ID, WITHOUT_ID))
            self.con.execute(
                f"CREATE VIEW failed_with_id AS SELECT * FROM read_parquet([{with_id}], "
                "filename=true)"
            )
            self.con.execute(
                f"CREATE VIEW failed_without_id AS SELECT * FROM read_parquet([{without_id}])"
            )
            self.con.execute(
                "CREATE VIEW errors_with_id AS SELECT * EXCLUDE (pos, maybe_redacted, filename) "
                "FROM failed_with_id"
            )
            self.con.execute(
                "CREATE VIEW errors AS SELECT * FROM errors_with_id "
                "UNION ALL BY NAME SELECT * FROM failed_without_id"
            )
            self.shared_rows = int(self._rows("SELECT count(*) FROM shared_ids")[0][0])
        self._edges: OrderedDict[tuple[str, Filters], str] = OrderedDict()
        self._edge_seq = 0

    @property
    def key(self) -> str:
        """Changes whenever an ingest commits a part (for caches)."""
        return f"{self.dataset.resolve()}:{len(self.files)}:{self.manifest.events}"

    def close(self) -> None:
        self.con.close()

    def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return self.con.execute(sql, list(params)).fetchall()

    def _frame(self, sql: str, params: Sequence[Any] = ()) -> pd.DataFrame:
        return self.con.execute(sql, list(params)).df()

    # ------------------------------------------------------------------ sources

    def answers_from_rollups(self, filters: Filters | None) -> bool:
        """True when the aggregations of ``filters`` read rollups (no message search)."""
        return self.rollups and not (filters is not None and filters.search.strip())

    def selection(self, filters: Filters | None) -> Source:
        """The rows aggregations of ``filters`` read: rollup rows when they can, else events
        (for ``ingest.store.ticket_figures``)."""
        return self._source(filters)

    def _source(self, filters: Filters | None, level: str | None = "hour") -> Source:
        """The rows to aggregate for ``filters``: rollup rows of ``level`` or coarser (with the
        window's partial minutes from the events), or the events (``level`` None, a message
        search, no rollups)."""
        if level is not None and search.searchable(self, filters):
            return search.source(self, filters or Filters(), level)
        if level is None or not self.answers_from_rollups(filters):
            w, p = where(filters)
            return Source("events", w, p, rollup=False)
        relation, params = self.rollup_rows(filters or Filters(), level)
        return Source(relation, "TRUE", params, rollup=True)

    def rollup_rows(self, filters: Filters, level: str) -> tuple[str, list[Any]]:
        """A relation of rollup rows whose events are exactly the selection's: hour rows for
        the whole hours of the window (``level`` "hour"), minute rows for the whole minutes
        left, and the events of the partial minutes at its ends, aggregated alike."""
        dims, dims_p = where(dataclasses.replace(filters, start=None, end=None))
        lo = None if filters.start is None else _us(filters.start)
        hi = None if filters.end is None else _us(filters.end)
        first = None if lo is None else _ceil_div(lo, MINUTE_US)  # whole minutes [first, last)
        last = None if hi is None else hi // MINUTE_US
        edges: list[tuple[int, int]] = []
        ranges: list[tuple[str, int | None, int | None]] = []
        if lo is not None and hi is not None and _ceil_div(lo, MINUTE_US) >= hi // MINUTE_US:
            edges.append((lo, hi))  # not one whole minute: the events
        else:
            if lo is not None and first is not None and lo < first * MINUTE_US:
                edges.append((lo, first * MINUTE_US))
            if hi is not None and last is not None and last * MINUTE_US < hi:
                edges.append((last * MINUTE_US, hi))
            ranges = self._ranges(first, last, level)
        pieces: list[str] = []
        params: list[Any] = []
        for table, a, b in ranges:
            cond = [dims]
            params += dims_p
            if a is not None:
                cond.append("minute >= ?")
                params.append(a)
            if b is not None:
                cond.append("minute < ?")
                params.append(b)
            pieces.append(f"SELECT * FROM r_{table} WHERE {' AND '.join(cond)}")
        if edges:
            pieces.append(f"SELECT * FROM {self._edge_rows(filters, edges)}")
        return "(" + " UNION ALL ".join(pieces) + ") AS r", params

    @staticmethod
    def _ranges(
        first: int | None, last: int | None, level: str
    ) -> list[tuple[str, int | None, int | None]]:
        """(rollup level, first minute, end minute) pieces covering the minutes [first, last)."""
        if LEVELS[level] == 1:
            return [("minute", first, last)]
        step = LEVELS[level]
        h0 = None if first is None else _ceil_div(first, step) * step
        h1 = None if last is None else last // step * step
        if h0 is not None and h1 is not None and h0 >= h1:
            return [("minute", first, last)]
        out: list[tuple[str, int | None, int | None]] = [(level, h0, h1)]
        if first is not None and h0 is not None and first < h0:
            out.append(("minute", first, h0))
        if last is not None and h1 is not None and h1 < last:
            out.append(("minute", h1, last))
        return out

    def _edge_rows(self, filters: Filters, edges: list[tuple[int, int]]) -> str:
        """A temp table of the rollup rows of the events in ``edges`` (partial minutes), built
        once per ``filters`` (a page asks several questions of the same selection)."""
        sqls, params = [], []
        for a, b in edges:
            w, p = where(dataclasses.replace(filters, start=_ts(a), end=_ts(b)))
            sqls.append(rollup_sql("events", w))
            params += p
        return self.cached_table(("edges", filters), " UNION ALL ".join(sqls), params)

    def cached_table(self, key: tuple[str, Filters], select: str, params: Sequence[Any]) -> str:
        """A temp table of the rows of ``select``, built once per ``key`` while it is among the
        last few asked for (a page asks several questions of the same selection)."""
        name = self._edges.get(key)
        if name is not None:
            self._edges.move_to_end(key)
            return name
        self._edge_seq += 1
        name = f"{key[0]}_{self._edge_seq}"
        self.con.execute(f"CREATE TEMP TABLE {name} AS {select}", list(params))
        self._edges[key] = name
        while len(self._edges) > _EDGE_CACHE:
            _, old = self._edges.popitem(last=False)
            self.con.execute(f"DROP TABLE IF EXISTS {old}")
        return name

    # ------------------------------------------------------------------ rows

    def events(
        self,
        filters: Filters | None = None,
        *,
        errors_only: bool = False,
        limit: int | None = None,
        with_context: bool = False,
    ) -> pd.DataFrame:
        """The selected events as an events frame (small selections; exports stream them with
        ``event_batches``). ``with_context``: plus the ``api_key`` and ``client_host`` columns
        (ingest.context; null where the log names neither)."""
        from ingest.context import CONTEXT_FIELDS, attach
        from ingest.store.writer import to_events

        sql, p = self._events_sql(filters, errors_only=errors_only)
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        if not (with_context and self.has_context):
            frame = to_events(self.con.sql(sql, params=p).to_arrow_table())
            return attach(frame, None) if with_context else frame
        joined = (
            f"SELECT e.*, c.api_key, c.client_host FROM ({sql}) e "
            "LEFT JOIN context c USING (source, line) "
            'ORDER BY e."timestamp" NULLS LAST, e.source, e.line'
        )
        table = self.con.sql(joined, params=p).to_arrow_table()
        frame = to_events(table)
        for c in CONTEXT_FIELDS:
            frame[c] = pd.array(table.column(c).to_pylist(), dtype="string")
        return frame

    def context_counts(self, column: str, top: int) -> dict[str, int]:
        """Errors per API key hash or client host (``column``), most first."""
        if not self.has_context or column not in ("api_key", "client_host"):
            return {}
        rows = self.con.sql(
            f"SELECT {column}, count(*) AS n FROM context WHERE {column} IS NOT NULL "
            f"GROUP BY 1 ORDER BY n DESC, 1 LIMIT {int(top)}"
        ).fetchall()
        return {str(k): int(n) for k, n in rows}

    def _errors(self, *, with_request_id: bool = False) -> str:
        """The relation the error events are read from: the failed-call files when the dataset
        has them (the same rows as the events' errors, a tenth of the rows), else the events."""
        if not self.failed:
            return "events"
        return "errors_with_id" if with_request_id else "errors"

    def _events_sql(
        self, filters: Filters | None, *, errors_only: bool, with_request_id: bool = False
    ) -> tuple[str, list[Any]]:
        from ingest.schema import EVENT_COLUMNS

        w, p = where(filters)
        relation = "events"
        if errors_only:
            w += " AND is_error"
            relation = self._errors(with_request_id=with_request_id)
        if with_request_id:
            w += " AND request_id IS NOT NULL"
        cols = ", ".join(f'"{c}"' for c in EVENT_COLUMNS)
        order = '"timestamp" NULLS LAST, source, line'
        sql = f"SELECT {cols} FROM {relation} WHERE {w} ORDER BY {order}"
        return sql, p

    def event_batches(
        self,
        filters: Filters | None = None,
        *,
        errors_only: bool = False,
        with_request_id: bool = False,
        batch_rows: int = BATCH_ROWS,
    ) -> Iterator[pd.DataFrame]:
        """The rows of ``events`` (and only those with a request_id, when asked) as events
        frames of at most ``batch_rows`` rows, streamed from DuckDB: the selection is never
        whole in pandas (exports). Runs on its own cursor, so other questions may be asked
        between batches."""
        import pyarrow as pa

        from ingest.store.writer import to_events

        sql, p = self._events_sql(filters, errors_only=errors_only, with_request_id=with_request_id)
        cursor = self.con.cursor()
        try:
            cursor.execute("SET TimeZone='UTC'")
            cursor.execute("SET enable_progress_bar=false")
            for batch in cursor.sql(sql, params=p).to_arrow_reader(batch_rows):
                if batch.num_rows:
                    yield to_events(pa.Table.from_batches([batch]))
        finally:
            cursor.close()

    @contextmanager
    def scratch(self, select: str, params: Sequence[Any] = ()) -> Iterator[str]:
        """The rows of ``select`` copied once into a temp table (for several questions about
        the same rows); its name, valid inside the ``with``."""
        self._edge_seq += 1
        name = f"scratch_{self._edge_seq}"
        self.con.execute(f"CREATE TEMP TABLE {name} AS {select}", list(params))
        try:
            yield name
        finally:
            self.con.execute(f"DROP TABLE IF EXISTS {name}")

    @contextmanager
    def errors_table(self, filters: Filters | None) -> Iterator[Source]:
        """The selection's errors copied once into a temp table, for several questions about
        the same rows (the ticket: one scan of the events instead of one per question)."""
        w, p = where(filters)
        cols = 'code, status_code, model, message, request_id, "timestamp", source, line, is_error'
        select = f"SELECT {cols} FROM {self._errors()} WHERE {w} AND is_error"
        with self.scratch(select, p) as name:
            yield Source(name, "TRUE", [], rollup=False)

    def fetch(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """The rows of ``sql`` over the views (for ``ingest.store.export`` and ``top_ids``)."""
        return self._rows(sql, params)

    def frame(self, sql: str, params: Sequence[Any] = ()) -> pd.DataFrame:
        """The result of ``sql`` over the views as a frame (for ``ingest.store.top_ids``)."""
        return self._frame(sql, params)

    def distinct(self, column: str, filters: Filters | None = None) -> list[Any]:
        """The values of a rollup dimension among the selection's errors (NULL left out)."""
        if column not in ("code", "category", "status_code", "model", "source"):
            raise ValueError(column)
        s = self._source(filters)
        sql = f"SELECT DISTINCT {column} {s.rows} AND is_error AND {column} IS NOT NULL"
        return [r[0] for r in self._rows(sql, s.params)]

    def count(self, filters: Filters | None = None, *, errors_only: bool = False) -> int:
        s = self._source(filters)
        n = s.count("is_error") if errors_only else s.count()
        return int(self._rows(f"SELECT {n} {s.rows}", s.params)[0][0])

    def codes_logged(self) -> set[str]:
        s = self._source(None)
        rows = self._rows(f"SELECT DISTINCT code {s.rows} AND code IS NOT NULL", s.params)
        return {str(r[0]) for r in rows}

    # ------------------------------------------------------------------ KPIs

    def kpis(self, filters: Filters | None = None) -> Kpis:
        """``queries.kpis``. From the events, above ``EXACT_DISTINCT_MAX`` errors the number of
        distinct failing request_ids is a HyperLogLog estimate (exact counting costs seconds at
        50 M events); from rollups with a shared-ids file it is exact."""
        s = self._source(filters)
        row = self._rows(
            f"""SELECT {s.count()}, {s.count("is_error")},
                {s.count(f"is_error AND category IN {_THR}")}, {s.no_rid}, {s.first}, {s.last}
            {s.rows}""",
            s.params,
        )[0]
        calls, errors = int(row[0]), int(row[1])
        ids = self._failing_ids(filters, s, errors, int(row[3]))
        return Kpis(
            calls=calls,
            errors=errors,
            error_rate=(errors / calls) if errors < calls else None,
            throttled=int(row[2]),
            failing_request_ids=ids,
            errors_without_request_id=int(row[3]),
            first=None if row[4] is None else pd.Timestamp(row[4]).tz_convert("UTC"),
            last=None if row[5] is None else pd.Timestamp(row[5]).tz_convert("UTC"),
        )

    def _failing_ids(self, filters: Filters | None, s: Source, errors: int, no_rid: int) -> int:
        """Distinct request_ids of the selection's errors. From rollups: every id not in the
        shared-ids file is one error event, so the errors with an id, minus the shared rows
        selected, plus their distinct ids."""
        w, p = where(filters)
        if s.rollup and self.shared_ids:
            import duckdb

            try:
                rows, distinct = self._rows(
                    f"SELECT count(*), count(DISTINCT request_id) FROM shared_ids WHERE {w}", p
                )[0]
            except duckdb.Error:  # replaced by a newer ingest since this view was opened
                pass
            else:
                return errors - no_rid - int(rows) + int(distinct)
        distinct_sql = "count(DISTINCT request_id)"
        if errors > EXACT_DISTINCT_MAX:
            distinct_sql = "approx_count_distinct(request_id)"
        ids = self._rows(f"SELECT {distinct_sql} FROM events WHERE {w} AND is_error", p)[0][0]
        return int(ids or 0)

    def time_bounds(
        self, filters: Filters | None = None
    ) -> tuple[pd.Timestamp, pd.Timestamp] | None:
        s = self._source(filters)
        lo, hi = self._rows(f"SELECT {s.first}, {s.last} {s.rows}", s.params)[0]
        if lo is None:
            return None
        return pd.Timestamp(lo).tz_convert("UTC"), pd.Timestamp(hi).tz_convert("UTC")

    # ------------------------------------------------------------------ time buckets

    def _buckets(
        self, filters: Filters | None, bucket: str, tz: str
    ) -> tuple[pd.DataFrame, pd.DatetimeIndex, bool] | None:
        """Per (bucket number, category of errors): calls and errors; the dense bucket index;
        whether any success is in the selection. Aligned like ``queries._bucket_index``."""
        bounds = self.time_bounds(filters)
        if bounds is None:
            return None
        offset_td = bounds[0].tz_convert(tz).utcoffset()
        offset_us = int(pd.Timedelta(offset_td).value // 1000) if offset_td is not None else 0
        width_us = int(pd.Timedelta(bucket).value // 1000)
        level = self._bucket_level(bounds[0], offset_us, width_us)
        if level is not None and search.searchable(self, filters):
            sources = search.bucket_sources(self, filters or Filters(), level)
        else:
            sources = [self._source(filters, level)]
        frames = []
        for s in sources:
            b = f"({s.epoch_us} + {offset_us}) // {width_us}"
            if s.errors_only:  # one scan: its calls are its errors
                frames.append(
                    self._frame(
                        f"""SELECT {b} AS b, category, {s.count()} AS calls,
                            {s.count()} AS errors, 0::BIGINT AS ok
                        {s.rows} AND {s.timed} GROUP BY 1, 2""",
                        s.params,
                    )
                )
                continue
            # two narrow scans beat one GROUP BY on (bucket, category) over every call (3x)
            frames.append(
                self._frame(
                    f"""SELECT {b} AS b, NULL::VARCHAR AS category, {s.count()} AS calls,
                        0::BIGINT AS errors, {s.count("NOT is_error")} AS ok
                    {s.rows} AND {s.timed} GROUP BY 1""",
                    s.params,
                )
            )
            frames.append(
                self._frame(
                    f"""SELECT {b} AS b, category, 0::BIGINT AS calls, {s.count()} AS errors,
                        0::BIGINT AS ok
                    {s.rows} AND is_error AND {s.timed} GROUP BY 1, 2""",
                    s.params,
                )
            )
        found = [f for f in frames if len(f)]
        frame = pd.concat(found, ignore_index=True) if len(found) > 1 else (found or frames)[0]
        lo, hi = int(frame["b"].min()), int(frame["b"].max())
        width_ns, offset_ns = width_us * 1000, offset_us * 1000
        index = pd.DatetimeIndex(
            pd.to_datetime(np.arange(lo, hi + 1, dtype="int64") * width_ns - offset_ns, utc=True),
            name="time",
        )
        frame["b"] = frame["b"].astype("int64") - lo
        return frame, index, bool(frame["ok"].sum() > 0)

    @staticmethod
    def _bucket_level(first: pd.Timestamp, offset_us: int, width_us: int) -> str | None:
        """The coarsest rollup level whose rows each fall in one bucket (None: the events, for
        buckets under a minute, zones off the minute, times before 1970)."""
        if first.value < 0:
            return None  # bucket numbers truncate towards zero: floored minutes differ
        for level in sorted(LEVELS, key=lambda lv: -LEVELS[lv]):
            step = LEVELS[level] * MINUTE_US
            if width_us % step == 0 and offset_us % step == 0:
                return level
        return None

    @staticmethod
    def _wide(frame: pd.DataFrame, index: pd.DatetimeIndex, order: Sequence[str]) -> pd.DataFrame:
        errs = frame.loc[frame["category"].notna() & (frame["errors"] > 0)]
        seen = sorted({str(c) for c in errs["category"]})
        names = [c for c in order if c in seen] + [c for c in seen if c not in order]
        n = len(index)
        out: dict[str, np.ndarray[Any, Any]] = {}
        for name in names:
            part = errs.loc[errs["category"] == name]
            col = np.zeros(n, dtype="int64")
            np.add.at(col, part["b"].to_numpy(dtype="int64"), part["errors"].to_numpy("int64"))
            out[name] = col
        return pd.DataFrame(out, index=index, dtype="int64")

    @staticmethod
    def _per_bucket(frame: pd.DataFrame, n: int, column: str) -> np.ndarray[Any, Any]:
        out = np.zeros(n, dtype="int64")
        np.add.at(out, frame["b"].to_numpy(dtype="int64"), frame[column].to_numpy("int64"))
        return out

    def errors_over_time(self, filters: Filters | None, bucket: str, tz: str = "UTC") -> TimeSeries:
        """``queries.errors_over_time`` of the selection."""
        got = self._buckets(filters, bucket, tz)
        if got is None:
            empty = pd.DataFrame(index=pd.DatetimeIndex([], tz="UTC", name="time"))
            totals = empty.assign(calls=0, errors=0, error_rate=np.nan)
            return TimeSeries(bucket, empty, totals)
        frame, index, successes = got
        n = len(index)
        calls = self._per_bucket(frame, n, "calls")
        errors = self._per_bucket(frame, n, "errors")
        counts = self._wide(frame, index, CATEGORIES)
        with np.errstate(divide="ignore", invalid="ignore"):
            rate = np.where(calls > 0, errors / np.maximum(calls, 1), np.nan)
        if not successes:
            rate = np.full(n, np.nan)
        totals = pd.DataFrame({"calls": calls, "errors": errors, "error_rate": rate}, index=index)
        return TimeSeries(bucket, counts, totals)

    def throttling_over_time(
        self, filters: Filters | None, bucket: str, tz: str = "UTC"
    ) -> TimeSeries:
        """``queries.throttling_over_time`` of the selection."""
        got = self._buckets(filters, bucket, tz)
        if got is None:
            idx = pd.DatetimeIndex([], tz="UTC", name="time")
            counts = pd.DataFrame({k: pd.Series([], dtype="int64") for k in THROTTLING_KINDS})
            counts.index = idx
            totals = pd.DataFrame({"calls": [], "errors": [], "error_rate": []}, index=idx)
            return TimeSeries(bucket, counts, totals)
        frame, index, _ = got
        calls = self._per_bucket(frame, len(index), "calls")
        counts = self._wide(frame, index, THROTTLING_KINDS)
        counts = counts.reindex(columns=list(THROTTLING_KINDS), fill_value=0)
        throttled = counts.sum(axis=1).to_numpy()
        with np.errstate(divide="ignore", invalid="ignore"):
            rate = np.where(calls > 0, throttled / np.maximum(calls, 1), np.nan)
        totals = pd.DataFrame(
            {"calls": calls, "errors": throttled, "error_rate": rate}, index=index
        )
        return TimeSeries(bucket, counts, totals)

    # ------------------------------------------------------------------ tables

    def top_codes(
        self,
        filters: Filters | None = None,
        meanings: Mapping[str, str] | None = None,
        limit: int | None = 20,
    ) -> pd.DataFrame:
        """``queries.top_codes``: code, category (mode), status (mode), count, share, meaning."""
        cols = TOP_CODES_COLUMNS
        src = self._source(filters)
        out = self._frame(
            f"""WITH e AS (
                SELECT coalesce(code, '(no code)') AS code,
                       coalesce(category, 'unknown') AS category, status_code,
                       {src.weight} AS w
                {src.rows} AND is_error),
            n AS (SELECT code, sum(w)::BIGINT AS cnt FROM e GROUP BY code),
            c AS (SELECT code, category, row_number() OVER
                    (PARTITION BY code ORDER BY sum(w) DESC, category) AS rk
                  FROM e GROUP BY code, category),
            s AS (SELECT code, status_code, row_number() OVER
                    (PARTITION BY code ORDER BY sum(w) DESC, status_code) AS rk
                  FROM e WHERE status_code IS NOT NULL GROUP BY code, status_code)
            SELECT n.code, c.category, s.status_code AS status, n.cnt AS count
            FROM n JOIN c ON c.code = n.code AND c.rk = 1
            LEFT JOIN s ON s.code = n.code AND s.rk = 1
            ORDER BY count DESC, n.code""",
            src.params,
        )
        if out.empty:
            return empty_table(cols)
        out["status"] = out["status"].astype("Int16")
        out["count"] = out["count"].astype("int64")
        out["share"] = out["count"] / out["count"].sum()
        out["meaning"] = [(meanings or {}).get(str(c), "") for c in out["code"]]
        if limit is not None:
            out = out.head(limit)
        return out[cols].reset_index(drop=True)

    def status_distribution(self, filters: Filters | None = None) -> pd.DataFrame:
        """``queries.status_distribution``: status, count, corrected."""
        s = self._source(filters)
        out = self._frame(
            f"""SELECT coalesce(status_code, -1) AS status, {s.count()} AS count,
                {s.corrected} AS corrected
            {s.rows} AND is_error GROUP BY 1 ORDER BY 1""",
            s.params,
        )
        if out.empty:
            return pd.DataFrame(
                {"status": pd.Series([], dtype="Int16"), "count": [], "corrected": []}
            ).astype({"count": "int64", "corrected": "int64"})
        out["status"] = out["status"].astype("Int32")
        return out.astype({"count": "int64", "corrected": "int64"})

    def per_model(self, filters: Filters | None = None) -> pd.DataFrame:
        """``queries.per_model``: model, calls, errors, error_rate, throttled, top_code."""
        cols = PER_MODEL_COLUMNS
        s = self._source(filters)
        out = self._frame(
            f"""SELECT model, {s.count()} AS calls, {s.count("is_error")} AS errors,
                {s.count(f"is_error AND category IN {_THR}")} AS throttled,
                {s.count("NOT is_error")} AS ok
            {s.rows} GROUP BY model""",
            s.params,
        )
        if out.empty:
            return empty_table(cols)
        top = self._frame(
            f"""SELECT model, code, {s.count()} AS n
            {s.rows} AND is_error AND code IS NOT NULL GROUP BY model, code""",
            s.params,
        )
        top = top.sort_values(["n", "code"], ascending=[False, True]).drop_duplicates("model")
        best = {
            (None if pd.isna(m) else str(m)): str(c)
            for m, c in zip(top["model"], top["code"], strict=True)
        }
        out["top_code"] = [best.get(None if pd.isna(m) else str(m), np.nan) for m in out["model"]]
        out["model"] = out["model"].astype(object).where(out["model"].notna(), "(unknown)")
        successes = bool(out["ok"].sum() > 0)
        out = out.astype({"calls": "int64", "errors": "int64", "throttled": "int64"})
        out["error_rate"] = out["errors"] / out["calls"] if successes else np.nan
        out = out.sort_values(["errors", "calls", "model"], ascending=[False, False, True])
        return out[cols].reset_index(drop=True)

    def top_request_ids(
        self, filters: Filters | None = None, limit: int | None = None, *, needle: str = ""
    ) -> pd.DataFrame:
        """``queries.top_request_ids``: failing ids by mentions, then most recent (only the ids
        containing ``needle``, case-insensitive, when given)."""
        if self.failed:
            from ingest.store import top_ids

            return self._typed_ids(top_ids.ranked(self, filters, limit, needle))
        w, p = where(filters)
        if needle:
            w += " AND contains(lower(request_id), ?)"
            p.append(needle.lower())
        sql = f"""WITH e AS (
                SELECT request_id, mentions, "timestamp" AS ts, status_code, code, message,
                       model, source, line
                FROM events WHERE {w} AND is_error AND request_id IS NOT NULL),
            g AS (SELECT request_id, sum(mentions) AS mentions, max(ts) AS last_seen,
                         arg_min({{'ts': ts, 'status': status_code, 'code': code,
                                   'message': message, 'model': model, 'source': source,
                                   'line': line}}, (ts, source, line)) AS f
                  FROM e GROUP BY request_id)
            SELECT request_id, mentions, f.ts AS first_seen,
                   coalesce(last_seen, f.ts) AS last_seen, f.status AS status, f.code AS code,
                   f.message AS message, f.model AS model,
                   f.source || ':' || f.line AS "where"
            FROM g
            ORDER BY mentions DESC, last_seen DESC NULLS LAST, first_seen NULLS LAST,
                     f.source, f.line"""
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        return self._typed_ids(self._frame(sql, p))

    @staticmethod
    def _typed_ids(out: pd.DataFrame) -> pd.DataFrame:
        cols = TOP_REQUEST_IDS_COLUMNS
        if out.empty:
            return empty_table(cols)
        out["mentions"] = out["mentions"].astype("int64")
        out["status"] = out["status"].astype("Int16")
        for col in ("first_seen", "last_seen"):
            out[col] = pd.to_datetime(out[col], utc=True).dt.as_unit("ns")
        return out[cols]

    def request_id_count(self, filters: Filters | None = None, *, needle: str = "") -> int:
        """Distinct failing request_ids of the selection (containing ``needle`` when given)."""
        if self.failed:
            from ingest.store import top_ids

            return top_ids.count(self, filters, needle)
        w, p = where(filters)
        if needle:
            w += " AND contains(lower(request_id), ?)"
            p.append(needle.lower())
        rows = self._rows(
            f"""SELECT count(DISTINCT request_id) FROM events
            WHERE {w} AND is_error AND request_id IS NOT NULL""",
            p,
        )
        return int(rows[0][0])

    def code_counts(self, filters: Filters | None = None) -> pd.Series:
        """Errors per (code, category) of the selection, codes logged only (the catalogue)."""
        s = self._source(filters)
        out = self._frame(
            f"""SELECT code, category, {s.count()} AS n
            {s.rows} AND is_error AND code IS NOT NULL AND category IS NOT NULL
            GROUP BY 1, 2""",
            s.params,
        )
        series = out.set_index(["code", "category"])["n"].astype("int64")
        return series.rename(None)

    def failures_without_request_id(
        self, filters: Filters | None = None, *, source: Source | None = None
    ) -> pd.DataFrame:
        """``queries.failures_without_request_id``: (code, status, model), count, first/last
        (of the events, or of the rows of ``source``, e.g. an ``errors_table``)."""
        cols = NO_ID_COLUMNS
        s = source
        if s is None and self.failed:
            s = Source("failed_without_id", *where(filters), rollup=False)
        elif s is None:
            s = self._source(filters, None)
        out = self._frame(
            f"""SELECT coalesce(code, '(no code)') AS code, coalesce(status_code, -1) AS status,
                       coalesce(model, '(unknown)') AS model, count(*) AS count,
                       min("timestamp") AS first_seen, max("timestamp") AS last_seen,
                       arg_min(source || ':' || line, ("timestamp", source, line)) AS "where",
                       min(("timestamp", source, line)) AS o
            {s.rows} AND is_error AND request_id IS NULL
            GROUP BY 1, 2, 3 ORDER BY count DESC, code, o""",
            s.params,
        )
        if out.empty:
            return empty_table(cols)
        out["status"] = out["status"].astype("Int32")
        out["count"] = out["count"].astype("int64")
        for col in ("first_seen", "last_seen"):
            out[col] = pd.to_datetime(out[col], utc=True).dt.as_unit("ns")
        return out[cols].reset_index(drop=True)

    # ------------------------------------------------------------------ filter options

    def filter_options(self, filters: Filters | None = None) -> Options:
        """``queries.filter_options``: the values each filter offers, with their counts."""
        s = self._source(filters)
        order = {c: i for i, c in enumerate(CATEGORIES)}
        codes = self._frame(
            f"""SELECT code, coalesce(category, 'unknown') AS category, {s.count()} AS count
            {s.rows} AND is_error AND code IS NOT NULL GROUP BY 1, 2""",
            s.params,
        )
        codes["_o"] = codes["category"].map(lambda c: order.get(str(c), len(order)))
        codes = codes.sort_values(["_o", "count", "code"], ascending=[True, False, True])
        codes = codes.drop(columns="_o").drop_duplicates("code").reset_index(drop=True)
        codes["count"] = codes["count"].astype("int64")
        statuses = self._rows(
            f"""SELECT status_code, {s.count()}
            {s.rows} AND is_error AND status_code IS NOT NULL GROUP BY 1 ORDER BY 1""",
            s.params,
        )
        models = self._rows(
            f"""SELECT model, {s.count()} AS cnt {s.rows} AND model IS NOT NULL
            GROUP BY 1 ORDER BY cnt DESC, model""",
            s.params,
        )
        sources = self._rows(
            f"""SELECT source, {s.count()} AS cnt {s.rows} AND source IS NOT NULL
            GROUP BY 1 ORDER BY cnt DESC, source""",
            s.params,
        )
        cats = self._rows(
            f"""SELECT coalesce(category, 'unknown'), {s.count()}
            {s.rows} AND is_error GROUP BY 1""",
            s.params,
        )
        return Options(
            codes=codes,
            statuses={int(s): int(n) for s, n in statuses},
            models={str(m): int(n) for m, n in models},
            sources={str(s): int(n) for s, n in sources},
            categories={
                str(c): int(n)
                for c, n in sorted(cats, key=lambda cn: order.get(str(cn[0]), len(order)))
            },
        )

    # ------------------------------------------------------------------ summary pieces

    def code_summary(self, filters: Filters | None = None, top: int = 10) -> list[dict[str, Any]]:
        """Errors per code for ``summary``: count, most frequent status and category."""
        src = self._source(filters)
        rows = self._rows(
            f"""WITH e AS (SELECT coalesce(code, '(no code)') AS code, status_code, category,
                                  {src.weight} AS w
                           {src.rows} AND is_error),
            n AS (SELECT code, sum(w)::BIGINT AS cnt FROM e GROUP BY code),
            s AS (SELECT code, status_code, row_number() OVER
                    (PARTITION BY code ORDER BY sum(w) DESC, status_code) AS rk
                  FROM e WHERE status_code IS NOT NULL GROUP BY 1, 2),
            c AS (SELECT code, category, row_number() OVER
                    (PARTITION BY code ORDER BY sum(w) DESC, category) AS rk
                  FROM e WHERE category IS NOT NULL GROUP BY 1, 2)
            SELECT n.code, n.cnt, s.status_code, c.category FROM n
            LEFT JOIN s ON s.code = n.code AND s.rk = 1
            LEFT JOIN c ON c.code = n.code AND c.rk = 1
            ORDER BY n.cnt DESC, n.code LIMIT {int(top)}""",
            src.params,
        )
        return [
            {
                "code": str(code),
                "count": int(cnt),
                "status": None if status is None else int(status),
                "category": None if category is None else str(category),
            }
            for code, cnt, status, category in rows
        ]

    def value_counts(self, column: str, filters: Filters | None = None) -> dict[str, int]:
        """Errors per value of ``category`` or ``status_code`` (``(none)`` for missing)."""
        if column not in ("category", "status_code"):
            raise ValueError(column)
        s = self._source(filters)
        rows = self._rows(
            f"""SELECT coalesce(CAST({column} AS VARCHAR), '(none)') AS v, {s.count()} AS cnt
            {s.rows} AND is_error GROUP BY 1 ORDER BY cnt DESC, v""",
            s.params,
        )
        return {str(v): int(n) for v, n in rows}

    def ranked_request_ids(self, filters: Filters | None = None, top: int = 10) -> pd.DataFrame:
        """Error events with a request_id, most mentioned first, then oldest (``summary``)."""
        from ingest.schema import EVENT_COLUMNS
        from ingest.store.writer import to_events

        w, p = where(filters)
        cols = ", ".join(f'"{c}"' for c in EVENT_COLUMNS)
        sql = f"""SELECT {cols} FROM {self._errors(with_request_id=True)}
            WHERE {w} AND is_error AND request_id IS NOT NULL
            ORDER BY mentions DESC, "timestamp" NULLS LAST, source, line LIMIT {int(top)}"""
        return to_events(self.con.sql(sql, params=p).to_arrow_table())
