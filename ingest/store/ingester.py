"""``dashscope-logs ingest``: plan segments, run them on an engine, commit each part.

Idempotent and resumable:

- a file whose fingerprint (path, size, mtime, head hash) is unchanged adds nothing;
- a file that grew (same head) gets new segments for its tail only, numbered from the line
  count reached; the tail starts where the last complete line ended;
- a file that cannot be cut (gzip, zip, UTF-16) and changed is parsed again whole, its old
  parts deleted;
- the manifest is rewritten after every finished segment, and parts have deterministic names,
  so a killed run, started again, parses only the segments that were not committed.
- each segment's rollups (``ingest.store.rollups``) are written with its parts and committed
  with them; at the end of a run the segments that have none (an older dataset) get them and
  the shared-ids file is rebuilt for the parts as they are now.

Plain files are ingested up to their last complete line: an unfinished last line (a writer in
the middle of a line) is held back until the file grows.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import Any

from ingest.store.engines import Engine, make_engine
from ingest.store.manifest import (
    HEAD_BYTES,
    RANGE,
    WHOLE,
    FileEntry,
    Lock,
    Manifest,
    Segment,
    StoreError,
    entry_id,
    head_hash,
    part_id,
)
from ingest.store.tasks import CountTask, ParseResult, ParseTask, count_lines, parse_segment

DEFAULT_TZ = "Asia/Shanghai"
#: bytes per segment of a big plain file (about 13 s of parsing on one core at 5 MB/s)
SEGMENT_BYTES = 64 << 20
#: test hook: SIGKILL this process after committing this many segments
STOP_AFTER_ENV = "DASHSCOPE_STORE_STOP_AFTER"

#: (segments done, segments to do) after each commit
ProgressFn = Callable[[int, int], None]


@dataclass
class IngestResult:
    dataset: Path
    engine: str
    workers: int
    new_files: list[str] = field(default_factory=list)
    grown_files: list[str] = field(default_factory=list)
    replaced_files: list[str] = field(default_factory=list)
    unchanged_files: list[str] = field(default_factory=list)
    held_back: dict[str, int] = field(default_factory=dict)  # path -> bytes of a partial line
    segments: int = 0  # parsed by this run (resumed ones included)
    events_added: int = 0
    bytes_parsed: int = 0
    events_total: int = 0


def complete_end(path: str, size: int) -> int:
    """Offset just after the last newline of the first ``size`` bytes (0 when there is none)."""
    with open(path, "rb") as fh:
        pos = size
        while pos > 0:
            step = min(1 << 20, pos)
            fh.seek(pos - step)
            block = fh.read(step)
            k = block.rfind(b"\n")
            if k >= 0:
                return pos - step + k + 1
            pos -= step
    return 0


def _kind_of(path: str) -> tuple[str, str, bool]:
    """(kind, encoding, timestamped) from the file's head."""
    from ingest.parallel import _head

    with open(path, "rb") as fh:
        magic = fh.read(4)
    if magic[:2] == b"\x1f\x8b" or magic == b"PK\x03\x04":
        return WHOLE, "utf-8", True
    encoding, timestamped, _envelope = _head(path)
    if encoding.lower().replace("_", "-").startswith(("utf-16", "utf-32")):
        return WHOLE, encoding, timestamped
    return RANGE, encoding, timestamped


def _cuts(path: str, start: int, end: int, segment_bytes: int) -> list[tuple[int, int]]:
    """Segments of [start, end) of about ``segment_bytes``, cut where records start."""
    from ingest.parallel import plan_ranges

    if end - start <= segment_bytes:
        return [(start, end)] if end > start else []
    parts = -(-os.path.getsize(path) // segment_bytes)
    inner = sorted({a for a, _ in plan_ranges(path, parts) if start < a < end})
    bounds = [start, *inner, end]
    return [(a, b) for a, b in pairwise(bounds) if b > a]


def _source_paths(sources: Iterable[str]) -> list[str]:
    """Absolute paths of the files named (dirs, globs; a zip is one file)."""
    from ingest.sources import iter_sources

    out: dict[str, None] = {}
    for src in iter_sources(list(sources)):
        if src.name.startswith("<"):
            raise StoreError("ingest reads files, not stdin or bytes; save the log to a file")
        out[str(Path(src.name.split("!", 1)[0]).resolve())] = None
    return list(out)


class Ingester:
    def __init__(
        self,
        dataset: Path,
        *,
        tz: str = DEFAULT_TZ,
        fmt: str | None = None,
        segment_bytes: int = SEGMENT_BYTES,
    ) -> None:
        self.dataset = dataset.resolve()
        self.fmt = fmt
        self.segment_bytes = segment_bytes
        existing = Manifest.load(self.dataset) if self.dataset.exists() else None
        if existing is not None and existing.tz != tz:
            raise StoreError(
                f"{dataset} was ingested with --tz {existing.tz}; use the same zone "
                "(or a new dataset directory)"
            )
        self.manifest = existing or Manifest(tz=tz)

    # ------------------------------------------------------------------ planning

    def _entries_for(self, path: str) -> list[tuple[str, FileEntry]]:
        return [(k, e) for k, e in self.manifest.files.items() if e.path == path]

    def plan(self, paths: list[str], result: IngestResult) -> None:
        for path in paths:
            st = os.stat(path)
            known = self._entries_for(path)
            whole = [(k, e) for k, e in known if e.kind == WHOLE]
            if whole:  # gzip/zip/UTF-16: a changed file is parsed again, whole
                key, entry = whole[-1]
                if (st.st_size, st.st_mtime_ns) == (entry.size, entry.mtime_ns):
                    result.unchanged_files.append(path)
                    continue
                for key, entry in whole:
                    self.manifest.trash += [p for s in entry.segments for p in s.parts + s.rollups]
                    del self.manifest.files[key]
                self._plan_new(path, st.st_size, st.st_mtime_ns, result, replaced=True)
                continue
            # a plain file with another head was rewritten (copytruncate): its old events stay
            current = [(k, e) for k, e in known if e.same_head()]
            if not current:
                self._plan_new(path, st.st_size, st.st_mtime_ns, result)
                continue
            key, entry = current[-1]
            end = complete_end(path, st.st_size)
            if end < entry.planned_end:  # shrank yet same head: rewritten, start over
                self._plan_new(path, st.st_size, st.st_mtime_ns, result, replaced=True)
                continue
            if st.st_size > end:
                result.held_back[path] = st.st_size - end
            if end == entry.planned_end:
                result.unchanged_files.append(path)
                continue
            eid = key
            for a, b in _cuts(path, entry.planned_end, end, self.segment_bytes):
                entry.segments.append(Segment(a, b, -1, part_id(eid, a, b)))
            entry.size, entry.mtime_ns = st.st_size, st.st_mtime_ns
            result.grown_files.append(path)

    def _plan_new(
        self, path: str, size: int, mtime_ns: int, result: IngestResult, *, replaced: bool = False
    ) -> None:
        kind, encoding, timestamped = _kind_of(path)
        head_len = min(size, HEAD_BYTES)
        digest = head_hash(path, head_len)
        eid = entry_id(path, f"{digest}:{mtime_ns}")
        entry = FileEntry(path, size, mtime_ns, head_len, digest, kind, encoding, timestamped)
        if kind == WHOLE:
            entry.segments.append(Segment(0, size, 0, part_id(eid, 0, size)))
        else:
            end = complete_end(path, size)
            if size > end:
                result.held_back[path] = size - end
            for a, b in _cuts(path, 0, end, self.segment_bytes):
                entry.segments.append(Segment(a, b, -1, part_id(eid, a, b)))
        self.manifest.files[eid] = entry
        (result.replaced_files if replaced else result.new_files).append(path)

    def count(self, engine: Engine) -> None:
        """Count the lines of new segments (on the engine), then number them."""
        todo = [
            s
            for e in self.manifest.files.values()
            if e.kind == RANGE
            for s in e.segments
            if s.lines < 0
        ]
        paths = {
            id(s): e.path for e in self.manifest.files.values() for s in e.segments if s.lines < 0
        }
        tasks = [CountTask(paths[id(s)], s.start, s.end) for s in todo]
        for i, n in engine.map_unordered(count_lines, tasks):
            todo[i].lines = int(n)
        for e in self.manifest.files.values():
            line0 = 0
            for s in e.segments:
                s.line0 = line0
                line0 += max(s.lines, 0)

    # ------------------------------------------------------------------ running

    def _empty_trash(self) -> None:
        live = set(self.manifest.parts()) | set(self.manifest.rollup_parts())
        for rel in self.manifest.trash:
            if rel not in live:
                (self.dataset / rel).unlink(missing_ok=True)
        self.manifest.trash = []

    def _commit(self, entry: FileEntry, seg: Segment, res: ParseResult) -> None:
        from ingest.store.reports import save_report

        seg.done = True
        seg.parts = list(res.parts)
        seg.events = res.events
        seg.reports = list(res.reports)
        seg.rollups = list(res.rollups)
        if entry.kind == WHOLE:
            seg.lines = sum(int(r.get("lines_read", 0)) for r in res.reports)
        self.manifest.save(self.dataset)
        save_report(self.dataset, self.manifest)

    def _complete_rollups(self) -> None:
        """Rollups for segments committed before they existed; the shared-ids file of the
        parts as they are now (``ingest.store.rollups``)."""
        from ingest.store.rollups import complete

        if complete(self.dataset, self.manifest):
            self.manifest.save(self.dataset)

    def run(
        self,
        sources: Iterable[str],
        engine: Engine,
        progress: ProgressFn | None = None,
    ) -> IngestResult:
        from ingest.store.writer import remove_temp_files

        self.dataset.mkdir(parents=True, exist_ok=True)
        result = IngestResult(self.dataset, engine.name, engine.workers)
        paths = _source_paths(sources)
        with Lock(self.dataset):
            remove_temp_files(self.dataset)
            self.plan(paths, result)
            self.count(engine)
            self.manifest.save(self.dataset)
            self._empty_trash()
            self.manifest.save(self.dataset)
            pending: list[tuple[FileEntry, Segment]] = [
                (e, s)
                for e in self.manifest.files.values()
                for s in e.segments
                if not s.done and os.path.exists(e.path)
            ]
            tasks = [
                ParseTask(
                    dataset=str(self.dataset),
                    path=e.path,
                    kind=e.kind,
                    start=s.start,
                    end=s.end,
                    line0=s.line0,
                    part_id=s.part_id,
                    encoding=e.encoding,
                    timestamped=e.timestamped,
                    tz=self.manifest.tz,
                    fmt=self.fmt,
                )
                for e, s in pending
            ]
            stop_after = int(os.environ.get(STOP_AFTER_ENV, "0") or 0)
            for n_done, (i, res) in enumerate(engine.map_unordered(parse_segment, tasks), 1):
                entry, seg = pending[i]
                self._commit(entry, seg, res)
                result.segments += 1
                result.events_added += res.events
                result.bytes_parsed += seg.end - seg.start
                if progress is not None:
                    progress(n_done, len(tasks))
                if stop_after and n_done >= stop_after:
                    os.kill(os.getpid(), signal.SIGKILL)
            if not tasks:
                from ingest.store.reports import save_report

                save_report(self.dataset, self.manifest)
            self._complete_rollups()
        result.events_total = self.manifest.events
        return result


def ingest_dataset(
    sources: Iterable[str],
    dataset: str | Path,
    *,
    engine: str | Engine = "local",
    scheduler: str | None = None,
    workers: int | None = None,
    tz: str = DEFAULT_TZ,
    fmt: str | None = None,
    segment_bytes: int = SEGMENT_BYTES,
    progress: ProgressFn | None = None,
) -> IngestResult:
    """Ingest ``sources`` (paths, directories, globs) into the Parquet dataset ``dataset``.

    ``engine``: ``"local"`` (a process pool, ``workers`` processes, default all cores),
    ``"dask"`` (the cluster at ``scheduler``, or a LocalCluster of ``workers`` processes), or an
    Engine object (kept open for the caller).
    """
    ingester = Ingester(Path(dataset), tz=tz, fmt=fmt, segment_bytes=segment_bytes)
    own = isinstance(engine, str)
    eng: Any = (
        make_engine(engine, workers=workers, scheduler=scheduler)
        if isinstance(engine, str)
        else engine
    )
    try:
        return ingester.run(sources, eng, progress)
    finally:
        if own:
            eng.close()
