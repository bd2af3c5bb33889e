"""Per-minute and per-hour rollups of the events, written at ingest beside the Parquet parts.

A dashboard filter change at 50 M events cannot scan the events in a second on two cores; most
of its questions (KPIs, errors and throttling over time, top codes, statuses, per model, the
filter options) need only counts per time bucket and per value of the columns it filters and
groups on. So every segment that writes event parts also writes its rollups:

    rollups/minute/part-<id>.parquet   one row per (UTC minute, dimensions) of the segment
    rollups/hour/part-<id>.parquet     the same per UTC hour (for wide windows and no window)

The dimensions are ``DIMENSIONS``; each row carries the events (``n``), their ``mentions``, the
errors without a request_id (``no_rid``), the errors whose logged status was corrected
(``corrected``) and the first and last exact timestamp (``ts_min``, ``ts_max``). ``minute`` is
the row's first minute since the epoch (NULL for events without a time).

Rollups follow their segment through the manifest (``Segment.rollups``): written by the worker
before the coordinator commits the segment, named after the segment's part id (a resumed run
overwrites them), trashed with its parts when a whole file is replaced. A dataset ingested
before rollups existed gets them on its next ingest (``complete``). ``Segment.rollups`` also
lists the segment's failed-call files (``ingest.store.failed_calls``), which travel the same way.

One thing a sum of counts cannot give is the number of *distinct* failing request_ids. For that
``rollups/ids-v2-<hash of the parts>.parquet`` holds the error events whose request_id occurs
more than once in the dataset (usually none): every other failing id is one event, so distinct ids =
errors with an id - shared rows + distinct shared ids, each filtered like the events. It is
rebuilt at the end of every ingest; a reader whose parts have no such file counts in the events.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ingest.store.manifest import Manifest

ROLLUPS = "rollups"
#: in the shared-ids file's name: v2 holds every event column (v1 only the filtered ones), so
#: a dataset with a v1 file reads the events until its next ingest writes a v2 one
SHARED_IDS_VERSION = "v2"
MINUTE_US = 60_000_000
#: level -> minutes per row, finest first
LEVELS: dict[str, int] = {"minute": 1, "hour": 60}
#: the event columns a rollup row is keyed by (besides its minute)
DIMENSIONS: tuple[str, ...] = ("is_error", "code", "category", "status_code", "model", "source")
_DIMS = ", ".join(DIMENSIONS)
#: the minute of an event (floored, also before 1970)
_MINUTE = (
    f'(epoch_us("timestamp") - ((epoch_us("timestamp") % {MINUTE_US}) + {MINUTE_US}) '
    f"% {MINUTE_US}) // {MINUTE_US}"
)


def rollup_sql(relation: str, where: str = "TRUE", *, per_minute: bool = True) -> str:
    """The minute rollup rows of the events in ``relation`` that pass ``where`` (without
    ``per_minute``: one row per dimensions, ``minute`` NULL, for questions without time)."""
    minute = _MINUTE if per_minute else "NULL::BIGINT"
    return f"""SELECT {minute} AS minute, {_DIMS},
        count(*) AS n, coalesce(sum(mentions), 0)::BIGINT AS mentions,
        count(*) FILTER (is_error AND request_id IS NULL) AS no_rid,
        count(*) FILTER (logged_status IS NOT NULL AND status_code IS NOT NULL
                         AND logged_status <> status_code) AS corrected,
        min("timestamp") AS ts_min, max("timestamp") AS ts_max
    FROM {relation} WHERE {where} GROUP BY ALL"""


def coarser_sql(relation: str, minutes: int) -> str:
    """Rollup rows of ``relation`` merged into rows of ``minutes`` minutes."""
    start = f"(minute - ((minute % {minutes}) + {minutes}) % {minutes})"
    return f"""SELECT {start} AS minute, {_DIMS},
        sum(n)::BIGINT AS n, sum(mentions)::BIGINT AS mentions,
        sum(no_rid)::BIGINT AS no_rid, sum(corrected)::BIGINT AS corrected,
        min(ts_min) AS ts_min, max(ts_max) AS ts_max
    FROM {relation} GROUP BY ALL"""


def rollup_path(level: str, part_id: str) -> str:
    return f"{ROLLUPS}/{level}/part-{part_id}.parquet"


def sql_str(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def listing(dataset: Path, parts: list[str]) -> str:
    return "[" + ", ".join(sql_str(str(dataset / p)) for p in parts) + "]"


def connect(threads: int) -> Any:
    import duckdb

    con = duckdb.connect()
    con.execute("SET TimeZone='UTC'")
    con.execute(f"SET threads={int(threads)}")
    return con


def copy_atomically(con: Any, sql: str, path: Path, options: str = "") -> None:
    """``COPY (sql) TO path`` through a temp file and a rename: readers never see half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    extra = f", {options}" if options else ""
    con.execute(f"COPY ({sql}) TO {sql_str(str(tmp))} (FORMAT parquet, COMPRESSION zstd{extra})")
    os.replace(tmp, path)


def write_rollups(dataset: Path, parts: list[str], part_id: str, *, threads: int = 1) -> list[str]:
    """Write the rollups of the event ``parts`` (one segment's); returns their relative paths.

    Read back from the Parquet parts just written, so the counts are those of the stored
    events, whoever wrote them (a worker, or ``complete`` for an older dataset).
    """
    if not parts:
        return []
    con = connect(threads)
    try:
        con.execute(
            "CREATE TEMP TABLE m AS "
            + rollup_sql(f"read_parquet({listing(dataset, parts)})")
            + " ORDER BY minute NULLS LAST"
        )
        written = []
        for level, minutes in LEVELS.items():
            sql = "SELECT * FROM m" if minutes == 1 else coarser_sql("m", minutes)
            rel = rollup_path(level, part_id)
            copy_atomically(con, sql + " ORDER BY minute NULLS LAST", dataset / rel)
            written.append(rel)
        return written
    finally:
        con.close()


def shared_ids_path(parts: list[str]) -> str:
    """Where the shared-ids file of exactly these event parts lives."""
    digest = hashlib.sha1("\n".join(sorted(parts)).encode()).hexdigest()[:16]
    return f"{ROLLUPS}/ids-{SHARED_IDS_VERSION}-{digest}.parquet"


def write_shared_ids(
    dataset: Path,
    parts: list[str],
    *,
    with_id: list[str] | None = None,
    threads: int | None = None,
) -> str:
    """Write the error events (every column, and ``day``) whose request_id occurs more than
    once among the errors of ``parts``; returns the file's relative path. ``with_id``: the
    parts' ``failed-with-id`` files (``ingest.store.failed_calls``), read instead of the events
    when given (the same error rows, a tenth of the events)."""
    rel = shared_ids_path(parts)
    con = connect(threads or os.cpu_count() or 1)
    try:
        if with_id:
            source = (
                "SELECT * EXCLUDE (pos, maybe_redacted) FROM read_parquet("
                f"{listing(dataset, with_id)})"
            )
        else:
            source = (
                f"SELECT * FROM read_parquet({listing(dataset, parts)}, hive_partitioning=true, "
                "hive_types={'day': VARCHAR})"
            )
        con.execute(f"CREATE VIEW events AS {source}")
        sql = """SELECT * FROM events WHERE is_error AND request_id IN (
                SELECT request_id FROM events WHERE is_error AND request_id IS NOT NULL
                GROUP BY 1 HAVING count(*) > 1)
            ORDER BY "timestamp" NULLS LAST"""
        copy_atomically(con, sql, dataset / rel)
    finally:
        con.close()
    return rel


def complete(dataset: Path, manifest: Manifest) -> bool:
    """Give every committed segment its rollups and failed-call files, and the parts their
    shared-ids file.

    Segments committed before rollups (or the failed-call files, ``ingest.store.failed_calls``)
    existed get what they lack from their parts; the shared-ids file of the current parts is
    written when missing and older ones are deleted. Returns True when the manifest changed
    (the caller saves it).
    """
    from ingest.store.failed_calls import KINDS, WITH_ID, kind_of, write_failed_calls

    changed = False
    for entry in manifest.files.values():
        for seg in entry.segments:
            if not (seg.done and seg.parts):
                continue
            have = {kind_of(rel) for rel in seg.rollups}
            if not set(LEVELS) <= have:
                kept = [rel for rel in seg.rollups if kind_of(rel) not in LEVELS]
                seg.rollups = write_rollups(dataset, seg.parts, seg.part_id) + kept
                changed = True
            if not set(KINDS) <= have:
                kept = [rel for rel in seg.rollups if kind_of(rel) not in KINDS]
                seg.rollups = kept + write_failed_calls(dataset, seg.parts, seg.part_id)
                changed = True
    parts = manifest.parts()
    keep = shared_ids_path(parts)
    if parts and not (dataset / keep).exists():
        with_id = [rel for rel in manifest.rollup_parts() if kind_of(rel) == WITH_ID]
        write_shared_ids(dataset, parts, with_id=with_id if manifest.has_rollups(KINDS) else None)
    for old in (dataset / ROLLUPS).glob("ids-*.parquet"):
        if old.relative_to(dataset).as_posix() != keep:
            old.unlink(missing_ok=True)
    return changed
