"""The top failing request_ids of a selection, from the failed-call files, without grouping
millions of ids.

``queries.top_request_ids`` groups the selected errors by request_id and ranks the groups by
mentions, then by last seen (most recent first), then first seen, file and line. At 50 M events
that is a group-by of millions of ids (seconds) for a table that shows 5 000. Two facts make it
cheap:

- an id that occurs once among the dataset's errors (every id outside the shared-ids file,
  ``ingest.store.rollups``) is a group of one event under any filter: its row is its group;
- each ``failed-with-id`` file (``ingest.store.failed_calls``) is sorted in that ranking, its
  rows numbered by ``pos``, so the top N of a selection are among the first rows of each file
  that pass the filters.

So a question first finds, per file, where its rows that pass the filters start (a window in the
middle of the data starts deep in the newer files) and how dense they are; reads a run of rows
from there in every file (row-group statistics skip the rest), as long as the filter's density
says N rows need; adds the groups of the shared ids (a small file, grouped as the events would
be); and ranks those. The answer is exact when no row after a file's run could rank higher than
the N-th: the row just after it (unfiltered) or, failing that, the first row after it that
passes the filters is checked against the N-th. The runs of the files that fail grow and the
question is asked again; at worst every selected row is read.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd

from ingest.queries import Filters
from ingest.store.failed_calls import ROW_GROUP
from ingest.store.rollups import sql_str

if TYPE_CHECKING:
    from ingest.store.query import DatasetQuery

#: rows read first from each file (at least; more for a filter that keeps few), then GROWTH
FIRST_ROWS = 2 * ROW_GROUP
GROWTH = 8
_ORDER = "mentions DESC, last_seen DESC NULLS LAST, first_seen NULLS LAST, source, line"
_COLUMNS = """request_id, mentions, first_seen, last_seen, status, code, message, model,
    source || ':' || line AS "where", source, line"""
_GROUPS = """SELECT request_id, mentions, f.ts AS first_seen,
        coalesce(last_seen, f.ts) AS last_seen, f.status AS status, f.code AS code,
        f.message AS message, f.model AS model, f.source AS source, f.line AS line
    FROM (SELECT request_id, sum(mentions)::BIGINT AS mentions, max("timestamp") AS last_seen,
                 arg_min({{'ts': "timestamp", 'status': status_code, 'code': code,
                           'message': message, 'model': model, 'source': source,
                           'line': line}}, ("timestamp", source, line)) AS f
          FROM shared_ids WHERE {w} AND is_error GROUP BY request_id)"""
_SINGLES = """SELECT request_id, mentions::BIGINT AS mentions, "timestamp" AS first_seen,
        "timestamp" AS last_seen, status_code AS status, code, message, model, source, line
    FROM {relation} WHERE {w} AND is_error{alone}{run}"""


@dataclass
class _Run:
    """The rows read from one file: ``pos`` from ``start`` (its first selected row), ``rows``
    of them (None: to its end at ``last``)."""

    path: str
    last: int
    start: int
    rows: int | None

    @property
    def end(self) -> int | None:
        return None if self.rows is None else self.start + self.rows

    def condition(self) -> str:
        end = "" if self.end is None else f" AND pos < {int(self.end)}"
        return f" AND pos >= {int(self.start)}{end}"

    def grow(self) -> None:
        if self.rows is not None:
            self.rows *= GROWTH
            if self.start + self.rows > self.last:
                self.rows = None


def _conditions(filters: Filters | None, needle: str) -> tuple[str, list[Any]]:
    from ingest.store.query import where

    w, p = where(filters)
    if needle:
        w += " AND contains(lower(request_id), ?)"
        p.append(needle.lower())
    return w, p


def _alone(store: DatasetQuery) -> str:
    """The condition that keeps the ids seen once (nothing to exclude without shared ids)."""
    return " AND request_id NOT IN (SELECT request_id FROM shared_ids)" if store.shared_rows else ""


def _rank(mentions: int, ts_us: int | None) -> tuple[int, bool, int]:
    """Larger = ranked lower: fewer mentions, then older, then no time."""
    return (-int(mentions), ts_us is None, 0 if ts_us is None else -int(ts_us))


def ranked(
    store: DatasetQuery, filters: Filters | None, limit: int | None, needle: str = ""
) -> pd.DataFrame:
    """The columns of ``queries.top_request_ids`` plus ``source`` and ``line``, ranked, at most
    ``limit`` rows; exactly the rows the events give."""
    w, p = _conditions(filters, needle)
    alone = _alone(store)
    runs = _runs(store, limit, w, p, alone)
    while True:
        pieces, params = [], []
        for run in runs:
            relation = f"read_parquet({sql_str(run.path)})"
            pieces.append(_SINGLES.format(relation=relation, w=w, alone=alone, run=run.condition()))
            params += p
        if store.shared_rows:
            pieces.append(_GROUPS.format(w=w))
            params += p
        if not pieces:
            pieces.append(_SINGLES.format(relation="failed_with_id", w="FALSE", alone="", run=""))
        sql = f"SELECT {_COLUMNS} FROM ({' UNION ALL '.join(pieces)}) ORDER BY {_ORDER}"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        out = store.frame(sql, params)
        short = [] if limit is None else _short(store, out, limit, runs, (w, p, alone))
        if not short:
            return out
        for run in short:
            run.grow()


def _runs(store: DatasetQuery, limit: int | None, w: str, p: list[Any], alone: str) -> list[_Run]:
    """Per file with selected rows: where they start, and how many rows to read first. Files
    are taken best first (by their first selected row); each is read as deep as holds about
    1.5 ``limit`` selected rows at its density until that many are planned in all; the rest
    (usually older files) only ``FIRST_ROWS``, and deeper if the check asks."""
    sel = f"{w} AND is_error{alone}"
    files = store.fetch(
        f"""SELECT filename, max(pos), min(pos) FILTER ({sel}), count(*) FILTER ({sel}),
            arg_min({{'m': mentions, 't': epoch_us("timestamp")}}, pos) FILTER ({sel})
        FROM failed_with_id GROUP BY filename""",
        p + p + p,
    )
    found = [f for f in files if f[3]]
    found.sort(key=lambda f: (_rank(f[4]["m"], f[4]["t"]), str(f[0])))
    runs, planned = [], 0
    for path, last, start, kept, _ in found:
        rows = None
        if limit is not None:
            want = 3 * int(limit)  # twice as many selected rows as needed: 1.5 limit
            span = int(last) + 1 - int(start)
            rows = FIRST_ROWS
            if 2 * planned < want:
                rows = max(FIRST_ROWS, -(-want * span // (2 * int(kept))))
                planned += min(int(kept), want // 2)
            if int(start) + rows > int(last):
                rows = None
        runs.append(_Run(str(path), int(last), int(start), rows))
    return runs


def _short(
    store: DatasetQuery,
    out: pd.DataFrame,
    limit: int,
    runs: list[_Run],
    selection: tuple[str, list[Any], str],
) -> list[_Run]:
    """The runs after which a row could still be among the top ``limit`` (``selection``: the
    WHERE clause, its parameters and the shared-ids exclusion)."""
    w, p, alone = selection
    cut = [run for run in runs if run.end is not None]
    if not cut:
        return []
    nth = None
    if len(out) >= limit:
        row = out.iloc[limit - 1]
        ts = row["last_seen"]
        nth = _rank(int(row["mentions"]), None if pd.isna(ts) else pd.Timestamp(ts).value // 1000)
        # the row just after each run bounds every later row of its file (files are ranked)
        after = _union(
            store,
            cut,
            lambda run, file: (
                f"""SELECT mentions, epoch_us("timestamp")
                FROM {file} WHERE pos = {int(run.end or 0)}"""
            ),
            [],
        )
        cut = [run for run, (m, t) in zip(cut, after, strict=True) if _rank(m, t) <= nth]
        if not cut:
            return []
    # the first row after each run that passes the filters
    first = _union(
        store,
        cut,
        lambda run, file: (
            f"""SELECT min(pos), arg_min({{'m': mentions,
                't': epoch_us("timestamp")}}, pos)
            FROM {file} WHERE pos >= {int(run.end or 0)} AND {w} AND is_error{alone}"""
        ),
        p,
    )
    return [
        run
        for run, (at, k) in zip(cut, first, strict=True)
        if at is not None and (nth is None or _rank(k["m"], k["t"]) <= nth)
    ]


def _union(
    store: DatasetQuery,
    runs: list[_Run],
    sql: Callable[[_Run, str], str],
    params: list[Any],
) -> list[tuple[Any, ...]]:
    """One row per run: ``sql(run, its file)``, in the order of ``runs``."""
    pieces = [
        f"SELECT {k} AS k, * FROM ({sql(run, f'read_parquet({sql_str(run.path)})')})"
        for k, run in enumerate(runs)
    ]
    rows = store.fetch(" UNION ALL ".join(pieces) + " ORDER BY k", params * len(runs))
    return [tuple(r[1:]) for r in rows]


def count(store: DatasetQuery, filters: Filters | None, needle: str = "") -> int:
    """Distinct failing request_ids of the selection: its rows of ids seen once, plus the
    distinct shared ids it selects."""
    w, p = _conditions(filters, needle)
    alone = _alone(store)
    n = store.fetch(f"SELECT count(*) FROM failed_with_id WHERE {w} AND is_error{alone}", p)
    shared = 0
    if store.shared_rows:
        rows = store.fetch(
            f"SELECT count(DISTINCT request_id) FROM shared_ids WHERE {w} AND is_error", p
        )
        shared = int(rows[0][0])
    return int(n[0][0]) + shared
