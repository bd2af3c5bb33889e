"""The support ticket's figures from the rollups and the first errors of each code.

``ingest.store.export`` copies the selection's errors and aggregates them: seconds for millions
of errors, at every filter change of the request-ids page (it shows the ticket). Most of the
figures are sums the rollups already hold: errors, errors with a request_id, per code its count,
first and last time, per code its statuses and models with their counts. Distinct request_ids
come from the shared-ids file like the KPIs' (``DatasetQuery._failing_ids``). What is left is
per code the first message and the first ``ids_per_code`` request_ids; those are among the
code's first errors, so they are read from the failed-call files (``ingest.store.failed_calls``)
in a window after the code's first error, widened until it holds them, then aggregated with the
same SQL as ``export._summary``.

Statuses, models and codes are ordered by count, ties by first appearance (time, file, line).
Rollups know the first time, not the file and line: when two of them have the same count and the
same first time, ``ticket_summary`` returns None and the caller aggregates the errors instead.
So do selections where redaction could change a request_id (the ticket groups them as
redacted). A message search is answered like the rest: its counts come from
``ingest.store.search``'s rows.
"""

from __future__ import annotations

import datetime as dt
import itertools
from typing import TYPE_CHECKING, Any, TypeVar

from ingest.export import CodeSummary, TicketSummary
from ingest.queries import Filters
from ingest.redact import redact

if TYPE_CHECKING:
    from ingest.store.query import DatasetQuery

#: the first window after a code's first error, then WIDEN times wider, then the whole code
FIRST_WINDOW = dt.timedelta(minutes=1)
WIDEN = 16
WIDEST = dt.timedelta(days=60)
_K = '(coalesce(epoch_us("timestamp"), 9223372036854775807), source, line)'
_CODE = "coalesce(code, '(no code)')"

#: (count, first time) of a group, for ordering: most first, then the earliest
Tally = tuple[int, Any]
K = TypeVar("K", str, int)


def _order(tallies: dict[K, Tally]) -> list[K] | None:
    """Keys by count (most first), then first time; None when two tie on both (their order
    would need the file and line of their first event)."""
    ranked = sorted(
        tallies, key=lambda k: (-tallies[k][0], tallies[k][1] is None, tallies[k][1] or 0)
    )
    for a, b in itertools.pairwise(ranked):
        if tallies[a] == tallies[b]:
            return None
    return ranked


def _add(tallies: dict[K, Tally], key: K, n: int, first: Any) -> None:
    old_n, old_first = tallies.get(key, (0, None))
    if old_first is None or (first is not None and first < old_first):
        old_first = first
    tallies[key] = (old_n + n, old_first)


def _time(value: Any) -> Any:
    from ingest.store.export import _time as as_time

    return as_time(value)


def _keys_survive_redaction(store: DatasetQuery, filters: Filters | None) -> bool:
    """``export._redaction_keeps_keys`` from the rollups and the ``maybe_redacted`` flags."""
    from ingest.store.query import where

    for column in ("code", "model"):
        if any(redact(str(v)) != str(v) for v in store.distinct(column, filters)):
            return False
    w, p = where(filters)
    rows = store.fetch(
        f"""SELECT DISTINCT request_id FROM failed_with_id
        WHERE {w} AND is_error AND maybe_redacted""",
        p,
    )
    return all(redact(str(v)) == str(v) for (v,) in rows)


def ticket_summary(
    store: DatasetQuery, filters: Filters | None, ids_per_code: int
) -> TicketSummary | None:
    """``export._summary`` of the selection, or None when it must be computed from the errors."""
    if not store.failed:  # rollups (or a search, ``ingest.store.search``) and failed calls
        return None
    if not _keys_survive_redaction(store, filters):
        return None
    s = store.selection(filters)
    groups = store.fetch(
        f"""SELECT {_CODE} AS code, status_code, coalesce(model, '(unknown)') AS model,
            {s.count()} AS n, coalesce(sum(no_rid), 0)::BIGINT AS no_rid,
            min(ts_min) AS first, max(ts_max) AS last
        {s.rows} AND is_error GROUP BY ALL""",
        s.params,
    )
    codes: dict[str, Tally] = {}
    statuses: dict[str, dict[int, Tally]] = {}
    models: dict[str, dict[str, Tally]] = {}
    with_id: dict[str, int] = {}
    last: dict[str, Any] = {}
    for name, status, model, n, no_rid, first, latest in groups:
        code = str(name)
        _add(codes, code, n, first)
        if status is not None:
            _add(statuses.setdefault(code, {}), int(status), n, first)
        _add(models.setdefault(code, {}), str(model), n, first)
        with_id[code] = with_id.get(code, 0) + n - no_rid
        if latest is not None and (last.get(code) is None or latest > last[code]):
            last[code] = latest
    order = _order(codes)
    status_order = {c: _order(t) for c, t in statuses.items()}
    model_order = {c: _order(t) for c, t in models.items()}
    if order is None or None in status_order.values() or None in model_order.values():
        return None
    shared, shared_total = _shared(store, filters)
    messages, ids = _firsts(store, filters, codes, with_id, ids_per_code)
    summaries = []
    for c in order:
        rows, distinct = shared.get(c, (0, 0))
        summaries.append(
            CodeSummary(
                code=c,
                count=codes[c][0],
                statuses=status_order.get(c) or [],
                first=_time(codes[c][1]),
                last=_time(last.get(c)),
                models=[(m, models[c][m][0]) for m in model_order.get(c) or []],
                message=messages.get(c),
                ids=ids.get(c, []),
                id_count=with_id[c] - rows + distinct,
            )
        )
    total_with_id = sum(with_id.values())
    timed = [t for _, t in codes.values() if t is not None]
    lasts = [t for t in last.values() if t is not None]
    return TicketSummary(
        errors=sum(n for n, _ in codes.values()),
        with_id=total_with_id,
        distinct_ids=total_with_id - shared_total[0] + shared_total[1],
        first=_time(min(timed) if timed else None),
        last=_time(max(lasts) if lasts else None),
        codes=summaries,
        without_id=store.failures_without_request_id(filters),
    )


def _shared(
    store: DatasetQuery, filters: Filters | None
) -> tuple[dict[str, tuple[int, int]], tuple[int, int]]:
    """Rows and distinct ids of the shared-ids file in the selection: per code, and in all."""
    from ingest.store.query import where

    if not store.shared_rows:
        return {}, (0, 0)
    w, p = where(filters)
    rows = store.fetch(
        f"""SELECT {_CODE}, count(*), count(DISTINCT request_id) FROM shared_ids
        WHERE {w} AND is_error GROUP BY 1""",
        p,
    )
    total = store.fetch(
        f"SELECT count(*), count(DISTINCT request_id) FROM shared_ids WHERE {w} AND is_error", p
    )[0]
    return {str(c): (int(n), int(d)) for c, n, d in rows}, (int(total[0]), int(total[1]))


def _firsts(
    store: DatasetQuery,
    filters: Filters | None,
    codes: dict[str, Tally],
    with_id: dict[str, int],
    ids_per_code: int,
) -> tuple[dict[str, str | None], dict[str, list[str]]]:
    """Per code its first message (redacted) and first ``ids_per_code`` distinct request_ids,
    read in a window after its first error that widens until it surely holds them."""
    from ingest.store.query import where

    w, p = where(filters)
    messages: dict[str, str | None] = {}
    ids: dict[str, list[str]] = {}
    pending = {c: first for c, (_, first) in codes.items()}
    width: dt.timedelta | None = FIRST_WINDOW
    while pending:
        conds, params = [], list(p)
        for code, first in pending.items():
            if width is None or first is None:
                conds.append(f"{_CODE} = ?")
                params.append(code)
            else:
                conds.append(f'({_CODE} = ? AND "timestamp" < ?)')
                params += [code, first + width]
        with store.scratch(
            f"""SELECT {_CODE} AS code, message, request_id, {_K} AS k
            FROM errors WHERE {w} AND is_error AND ({" OR ".join(conds)})""",
            params,
        ) as table:
            seen = _aggregate(store, table, ids_per_code)
        for code in list(pending):
            rows, id_rows, message, first_ids = seen.get(code, (0, 0, None, []))
            whole = rows == codes[code][0]
            if (message is None and not whole) or (
                len(first_ids) < ids_per_code and id_rows < with_id[code]
            ):
                continue
            messages[code] = None if message is None else redact(str(message))
            ids[code] = first_ids
            del pending[code]
        width = None if width is None or width * WIDEN > WIDEST else width * WIDEN
    return messages, ids


def _aggregate(
    store: DatasetQuery, table: str, ids_per_code: int
) -> dict[str, tuple[int, int, Any, list[str]]]:
    """Per code of ``table``: rows, rows with an id, first message, first distinct ids (the
    SQL of ``export._summary``)."""
    out: dict[str, tuple[int, int, Any, list[str]]] = {
        str(code): (int(n), int(n_ids), message, [])
        for code, n, n_ids, message in store.fetch(
            f"""SELECT code, count(*), count(request_id),
                arg_min(message, k) FILTER (message IS NOT NULL)
            FROM {table} GROUP BY code"""
        )
    }
    for code, rid in store.fetch(
        f"""SELECT code, request_id FROM {table} WHERE request_id IS NOT NULL
        GROUP BY 1, 2 QUALIFY row_number() OVER (PARTITION BY code ORDER BY min(k))
            <= {int(ids_per_code)}
        ORDER BY code, min(k)"""
    ):
        out[str(code)][3].append(str(rid))
    return out
