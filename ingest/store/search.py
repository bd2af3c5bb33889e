"""A message search answered from the rollups and the failed-call files, not the events.

A search keeps the errors whose message contains the text; successes in scope stay
(``ingest.queries``: outcome filters select errors only). Rollups keep no message, so the two
halves are read apart and put together as rollup rows:

- the successes: the rollup rows of the scope filters (models, sources, window) that are not
  errors, cut at the window like any rollup question;
- the errors: the failed-call files (``ingest.store.failed_calls``: every error, a tenth of the
  events) filtered with the whole selection, message included, and aggregated once per
  selection into one row per dimensions (``rollup_sql(per_minute=False)``).

Time buckets need the errors' times: they are counted from the failed-call rows directly,
beside the successes' rollup rows (``bucket_sources``).
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from ingest.queries import Filters
from ingest.store.rollups import rollup_sql

if TYPE_CHECKING:
    from ingest.store.query import DatasetQuery, Source


def searchable(store: DatasetQuery, filters: Filters | None) -> bool:
    """True when ``filters`` search messages and the dataset can answer without its events."""
    return bool(filters is not None and filters.search.strip() and store.rollups and store.failed)


def _successes(store: DatasetQuery, filters: Filters, level: str) -> tuple[str, list[object]]:
    scope = dataclasses.replace(filters, codes=(), categories=(), statuses=(), search="")
    relation, params = store.rollup_rows(scope, level)
    return f"SELECT * FROM {relation} WHERE NOT is_error", params


def source(store: DatasetQuery, filters: Filters, level: str) -> Source:
    """Rollup rows of the selection: its successes' and its searched errors' (no minute)."""
    from ingest.store.query import Source, where

    ok, params = _successes(store, filters, level)
    w, p = where(filters)
    errors = store.cached_table(
        ("search", filters), rollup_sql("errors", f"{w} AND is_error", per_minute=False), p
    )
    relation = f"({ok} UNION ALL BY NAME SELECT * FROM {errors}) AS s"
    return Source(relation, "TRUE", list(params), rollup=True)


def bucket_sources(store: DatasetQuery, filters: Filters, level: str) -> list[Source]:
    """For time buckets: the successes' rollup rows of ``level``, and the searched errors."""
    from ingest.store.query import Source, where

    ok, params = _successes(store, filters, level)
    w, p = where(filters)
    return [
        Source(f"({ok}) AS s", "TRUE", list(params), rollup=True),
        Source("errors", f"{w} AND is_error", p, rollup=False, errors_only=True),
    ]
