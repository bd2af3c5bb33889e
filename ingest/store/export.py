"""Exports of a dataset streamed from DuckDB, byte for byte what ``ingest.export`` gives for the
selected events, without loading the selection into pandas.

- the request_id CSV is written batch by batch: DuckDB sorts the selected errors that have a
  request_id and hands them over in Arrow batches of ``BATCH_ROWS``; each batch goes through
  ``ingest.export.request_ids_csv`` (every row of that CSV depends on its event only) and loses
  its header line after the first;
- the ticket's figures (``ingest.export.TicketSummary``) are aggregates computed in SQL over
  the selection's errors copied once into a DuckDB temp table, then rendered by
  ``ingest.export.render_ticket``. Their order follows pandas' ``value_counts``:
  most frequent first, ties in order of first appearance, in the export order (time, file,
  line). The ticket shows redacted text: codes, models and request_ids are grouped and counted
  as logged, which is right only when redaction leaves them unchanged; the rare selection where
  it would not (an e-mail address or a key in a code, a model or a request_id) is summarised
  from its events in pandas instead.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, cast

import pandas as pd

from ingest.export import TICKET_IDS_PER_CODE, CodeSummary, TicketSummary
from ingest.queries import Filters
from ingest.redact import redact
from ingest.store.failed_calls import REDACTION_CANDIDATE
from ingest.store.query import BATCH_ROWS, Source

if TYPE_CHECKING:
    from ingest.store.query import DatasetQuery

#: the export order as one comparable value (times first, events without one last)
_ORDER = '(coalesce(epoch_us("timestamp"), 9223372036854775807), source, line)'


def request_ids_csv_chunks(
    store: DatasetQuery,
    filters: Filters | None,
    tz: str,
    *,
    bom: bool = False,
    batch_rows: int = BATCH_ROWS,
) -> Iterator[bytes]:
    """``ingest.export.request_ids_csv`` of the selection, in pieces of ``batch_rows`` rows
    (the first holds the header)."""
    from ingest.export import request_ids_csv
    from ingest.schema import empty_events

    first = True
    batches = store.event_batches(
        filters, errors_only=True, with_request_id=True, batch_rows=batch_rows
    )
    for batch in batches:
        data = request_ids_csv(batch, tz, bom=bom and first)
        yield data if first else data[data.index(b"\n") + 1 :]
        first = False
    if first:
        yield request_ids_csv(empty_events(), tz, bom=bom)


def request_ids_csv(
    store: DatasetQuery, filters: Filters | None, tz: str, *, bom: bool = False
) -> bytes:
    """The whole CSV (the dashboard's download button wants bytes)."""
    return b"".join(request_ids_csv_chunks(store, filters, tz, bom=bom))


def ticket_markdown(
    store: DatasetQuery,
    filters: Filters | None,
    tz: str,
    *,
    ids_per_code: int = TICKET_IDS_PER_CODE,
) -> str:
    """``ingest.export.ticket_markdown`` of the selection's errors."""
    from ingest.export import render_ticket
    from ingest.export import ticket_markdown as from_events
    from ingest.store.ticket_figures import ticket_summary as from_rollups

    description = (filters or Filters()).describe(tz)
    quick = from_rollups(store, filters, ids_per_code)
    if quick is not None:
        return render_ticket(quick, tz, description)
    with store.errors_table(filters) as errors:
        if _redaction_keeps_keys(store, filters, errors):
            summary = _summary(store, errors, ids_per_code)
            return render_ticket(summary, tz, description)
    loaded = store.events(filters, errors_only=True)
    return from_events(loaded, tz, description, ids_per_code=ids_per_code)


def ticket_summary(
    store: DatasetQuery, filters: Filters | None, *, ids_per_code: int = TICKET_IDS_PER_CODE
) -> TicketSummary:
    """``ingest.export.ticket_summary`` in SQL (for selections redaction leaves unchanged)."""
    with store.errors_table(filters) as errors:
        return _summary(store, errors, ids_per_code)


def _redaction_keeps_keys(store: DatasetQuery, filters: Filters | None, errors: Source) -> bool:
    """True when redaction changes none of the codes, models and request_ids selected."""
    for column in ("code", "model"):
        if any(redact(str(v)) != str(v) for v in store.distinct(column, filters)):
            return False
    rows = store.fetch(
        f"""SELECT DISTINCT request_id {errors.rows}
        AND request_id IS NOT NULL AND {REDACTION_CANDIDATE}""",
        errors.params,
    )
    return all(redact(str(v)) == str(v) for (v,) in rows)


def _time(value: Any) -> pd.Timestamp:
    """A time from DuckDB as pandas gives it (``NaT`` for none)."""
    if value is None:
        return cast(pd.Timestamp, pd.NaT)
    return pd.Timestamp(value).tz_convert("UTC")


def _summary(store: DatasetQuery, errors: Source, ids_per_code: int) -> TicketSummary:
    """The ticket's figures of the error rows of ``errors``."""
    p = errors.params
    e = f"""(SELECT coalesce(code, '(no code)') AS code, status_code,
            coalesce(model, '(unknown)') AS model, message, request_id, "timestamp" AS ts,
            {_ORDER} AS k
        {errors.rows}) AS e"""
    total, with_id, distinct, first, last = store.fetch(
        f"SELECT count(*), count(request_id), count(DISTINCT request_id), min(ts), max(ts) "
        f"FROM {e}",
        p,
    )[0]
    statuses: dict[str, list[int]] = {}
    for code, status in store.fetch(
        f"""SELECT code, status_code FROM {e} WHERE status_code IS NOT NULL
        GROUP BY 1, 2 ORDER BY code, count(*) DESC, min(k)""",
        p,
    ):
        statuses.setdefault(str(code), []).append(int(status))
    models: dict[str, list[tuple[str, int]]] = {}
    for code, model, n in store.fetch(
        f"""SELECT code, model, count(*) FROM {e} GROUP BY 1, 2
        ORDER BY code, count(*) DESC, min(k)""",
        p,
    ):
        models.setdefault(str(code), []).append((str(model), int(n)))
    ids: dict[str, list[str]] = {}
    for code, rid in store.fetch(
        f"""SELECT code, request_id FROM {e} WHERE request_id IS NOT NULL
        GROUP BY 1, 2 QUALIFY row_number() OVER (PARTITION BY code ORDER BY min(k))
            <= {int(ids_per_code)}
        ORDER BY code, min(k)""",
        p,
    ):
        ids.setdefault(str(code), []).append(str(rid))
    codes = [
        CodeSummary(
            code=str(code),
            count=int(n),
            statuses=statuses.get(str(code), []),
            first=_time(lo),
            last=_time(hi),
            models=models.get(str(code), []),
            message=None if message is None else redact(str(message)),
            ids=ids.get(str(code), []),
            id_count=int(n_ids),
        )
        for code, n, lo, hi, message, n_ids in store.fetch(
            f"""SELECT code, count(*), min(ts), max(ts),
                arg_min(message, k) FILTER (message IS NOT NULL), count(DISTINCT request_id)
            FROM {e} GROUP BY code ORDER BY count(*) DESC, min(k)""",
            p,
        )
    ]
    return TicketSummary(
        errors=int(total),
        with_id=int(with_id),
        distinct_ids=int(distinct),
        first=_time(first),
        last=_time(last),
        codes=codes,
        without_id=store.failures_without_request_id(source=errors),
    )
