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

So a question reads the rows with ``pos < P`` of every file (row-group statistics skip the
rest), adds the groups of the shared ids (a small file, grouped as the events would be), and
ranks those. The answer is exact when no row beyond ``P`` could rank higher than the N-th: each
file's first row at ``P`` (unfiltered) or, failing that, its first row at ``P`` or beyond that
passes the filters, is checked against the N-th. Otherwise ``P`` grows and the question is asked
again; past the longest file the whole selection has been read.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from ingest.queries import Filters
from ingest.store.failed_calls import ROW_GROUP

if TYPE_CHECKING:
    from ingest.store.query import DatasetQuery

#: rows per file read first (two row groups; or twice the rows asked for), then times GROWTH
FIRST_ROWS = 2 * ROW_GROUP
GROWTH = 8
_ORDER = "mentions DESC, last_seen DESC NULLS LAST, first_seen NULLS LAST, source, line"
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
    FROM failed_with_id WHERE {w} AND is_error{deep}{alone}"""


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
    depth, deepest = _first_depth(store, limit, w, p, alone)
    while True:
        if depth is not None and depth > deepest:
            depth = None  # every row of every file
        pieces = [_SINGLES.format(w=w, deep="" if depth is None else " AND pos < ?", alone=alone)]
        params = p + ([] if depth is None else [depth])
        if store.shared_rows:
            pieces.append(_GROUPS.format(w=w))
            params += p
        sql = f"""SELECT request_id, mentions, first_seen, last_seen, status, code, message,
                model, source || ':' || line AS "where", source, line
            FROM ({" UNION ALL ".join(pieces)}) ORDER BY {_ORDER}"""
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        out = store.frame(sql, params)
        if depth is None or _complete(store, out, limit, depth, (w, p, alone)):
            return out
        depth *= GROWTH


def _first_depth(
    store: DatasetQuery, limit: int | None, w: str, p: list[Any], alone: str
) -> tuple[int | None, int]:
    """How deep to read first (None: everything), and the deepest ``pos``. A filter that keeps
    one row in k needs about k times ``limit`` rows of the file with the best ones."""
    rows, deepest, kept = store.fetch(
        f"""SELECT count(*), coalesce(max(pos), -1), count(*) FILTER ({w} AND is_error{alone})
        FROM failed_with_id""",
        p,
    )[0]
    if limit is None:
        return None, int(deepest)
    depth = max(2 * int(limit), FIRST_ROWS)
    if kept:
        depth = max(depth, -(-3 * int(limit) * int(rows) // (2 * int(kept))))
    return depth, int(deepest)


def _complete(
    store: DatasetQuery,
    out: pd.DataFrame,
    limit: int | None,
    depth: int,
    selection: tuple[str, list[Any], str],
) -> bool:
    """True when no row at ``pos >= depth`` of any file could be among the top ``limit``
    (``selection``: the WHERE clause, its parameters and the shared-ids exclusion)."""
    w, p, alone = selection
    if limit is not None and len(out) >= limit:
        last = out.iloc[limit - 1]
        ts = last["last_seen"]
        nth = _rank(int(last["mentions"]), None if pd.isna(ts) else pd.Timestamp(ts).value // 1000)
        # each file's row at ``depth`` bounds every later row of it (files are ranked)
        edge = store.fetch(
            'SELECT mentions, epoch_us("timestamp") FROM failed_with_id WHERE pos = ?', [depth]
        )
        if all(_rank(m, t) > nth for m, t in edge):
            return True
    else:
        nth = None
    # the first row at ``depth`` or beyond that passes the filters, per file
    edge = store.fetch(
        f"""SELECT arg_min({{'m': mentions, 't': epoch_us("timestamp")}}, pos) AS k
        FROM failed_with_id WHERE pos >= ? AND {w} AND is_error{alone} GROUP BY filename""",
        [depth, *p],
    )
    if nth is None:
        return not edge
    return all(_rank(k["m"], k["t"]) > nth for (k,) in edge)


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
