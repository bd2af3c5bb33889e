"""Per-segment copies of the failed calls, for the questions rollups cannot answer.

The request-ids page ranks the failing request_ids (most mentioned, then most recent), lists the
failures without one and exports the selection's errors. Counts per minute cannot say which id
comes first, so every segment that writes event parts also writes its error events twice
smaller than the events (errors are a tenth of the calls, or less):

    rollups/failed-with-id/part-<id>.parquet      errors that have a request_id, in ranking
                                                  order (``RANK_ORDER``), numbered by ``pos``
    rollups/failed-without-id/part-<id>.parquet   errors without one, in export order

Both hold the 15 event columns and ``day`` unchanged (the first also ``pos`` and
``maybe_redacted``, ``REDACTION_CANDIDATE`` of its request_id, for the ticket), so any question
about errors asked of them gets the events' answer (``DatasetQuery`` reads them instead of the
events for errors).
They follow their segment exactly like the rollups do (listed in ``Segment.rollups``: written
by the worker with the parts, committed with them, trashed with them, rewritten by a resumed
run, backfilled by ``ingest.store.rollups.complete`` for a dataset ingested before them).

Why ranked and numbered: within one file the ranking of request_ids that occur once in the
dataset (all but the shared-ids file's) is the row order, so the top N of a selection is among
the first rows of each file that pass its filters; ``ingest.store.top_ids`` reads the first
``pos`` of every file and goes deeper only when a later row could still rank higher.
"""

from __future__ import annotations

from pathlib import Path

from ingest.store.rollups import ROLLUPS, connect, copy_atomically, listing

WITH_ID = "failed-with-id"
WITHOUT_ID = "failed-without-id"
KINDS: tuple[str, ...] = (WITH_ID, WITHOUT_ID)
#: the ranking of ``queries.top_request_ids`` for ids seen once: mentions, then most recent
RANK_ORDER = 'mentions DESC, "timestamp" DESC NULLS LAST, source, line'
EXPORT_ORDER = '"timestamp" NULLS LAST, source, line'
#: small row groups: a top-N reads the first one or two of each file
ROW_GROUP = 16_384

#: request_ids that ``ingest.redact.redact`` may change. Exact for printable ASCII (each check of
#: ``redact`` spelled in SQL, the mobile-number look-arounds as character classes); anything
#: else is a candidate. Candidates are redacted in Python to see whether they change.
REDACTION_CANDIDATE = r"""(
    NOT regexp_matches(request_id, '^[ -~]*$')
    OR contains(request_id, 'sk-') OR contains(request_id, '@')
    OR contains(lower(request_id), 'authorization') OR contains(lower(request_id), 'bearer')
    OR contains(lower(request_id), 'key') OR contains(lower(request_id), 'secret')
    OR contains(lower(request_id), 'password')
    OR regexp_matches(request_id,
        '(^|[^A-Za-z0-9_+-])(\+?86[- ]?)?1[3-9][0-9]{9}($|[^A-Za-z0-9_-])'))"""


def failed_path(kind: str, part_id: str) -> str:
    return f"{ROLLUPS}/{kind}/part-{part_id}.parquet"


def kind_of(rel: str) -> str:
    """The rollup kind of a path under ``rollups/`` (a level, or one of ``KINDS``)."""
    return rel.split("/")[1]


def write_failed_calls(
    dataset: Path, parts: list[str], part_id: str, *, threads: int = 1
) -> list[str]:
    """Write the error events of ``parts`` (one segment's) with and without a request_id;
    returns the two relative paths (none when there are no parts)."""
    if not parts:
        return []
    con = connect(threads)
    try:
        con.execute(
            "CREATE TEMP TABLE e AS SELECT * FROM read_parquet("
            f"{listing(dataset, parts)}, hive_partitioning=true, hive_types={{'day': VARCHAR}}) "
            "WHERE is_error"
        )
        with_id = f"""SELECT *, (row_number() OVER (ORDER BY {RANK_ORDER}) - 1)::BIGINT AS pos,
                {REDACTION_CANDIDATE} AS maybe_redacted
            FROM e WHERE request_id IS NOT NULL ORDER BY pos"""
        without_id = f"SELECT * FROM e WHERE request_id IS NULL ORDER BY {EXPORT_ORDER}"
        written = []
        for kind, sql in ((WITH_ID, with_id), (WITHOUT_ID, without_id)):
            rel = failed_path(kind, part_id)
            copy_atomically(con, sql, dataset / rel, f"ROW_GROUP_SIZE {ROW_GROUP}")
            written.append(rel)
        return written
    finally:
        con.close()
