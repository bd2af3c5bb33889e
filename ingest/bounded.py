"""The events of inputs of any size, a part at a time: memory bounded by a part, not the input.

``load_events`` returns every event in one frame (82 bytes an event: a 2 GB text log of 12 M
events is a 1 GB frame). ``parse --output`` has no need to hold them all: issue #3 asks for a
peak RSS of 1 GB whatever the input size. Here the events go to disk as they are parsed, and
are handed on in batches, the same events in the same order as ``load_events`` gives:

1. parse: big plain files in byte ranges of at most ``RANGE_BYTES`` (``parallel.parse_ranges``,
   each range's result left in its file, both cores at work); a compressed file, an archive
   member or stdin in pieces of as much text, cut where ranges are cut, each parsed as it is
   inflated (``_Stream``); a small source whole (``FileParser``). Each result goes to a file
   at once;
2. join: a file's ranges' reports and line offsets (``parallel.join_reports``); the outcomes
   two ranges both mention are merged as ``load_events`` merges them (the earliest mention
   kept, mentions summed, gaps filled: ``schema.merge_by_request_id`` run on those rows only);
3. order: ``load_events``' order (time, rows without one last, then source, then line). A log
   written as it happened is in that order already, part after part, and is handed on
   straight; otherwise DuckDB sorts the parts with a memory limit, spilling to disk
   (../shared/reference/performance.md: DuckDB for what does not fit).
"""

from __future__ import annotations

import io
import itertools
import os
import tempfile
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import IO, Any

import numpy as np
import pandas as pd

from ingest.envelopes import Envelope
from ingest.fastlane import RecipeBook
from ingest.formats import LogFormat, get_format, registry
from ingest.parallel import (
    join_reports,
    load_result,
    parse_ranges,
    splittable,
)
from ingest.report import FileReport, IngestReport
from ingest.schema import (
    EVENT_COLUMNS,
    Prints,
    merge_by_request_id,
    outcome_fingerprints,
    outcome_prints,
    replace_merged,
)
from ingest.sources import TRUNCATED, Source, SourceError, iter_sources, open_raw

#: inputs from this size on are parsed a part at a time by ``parse`` (below it one frame is
#: faster, and a 768 MB text log's frame and parse peak at about 600 MB)
BOUNDED_MIN_BYTES = 768 << 20
#: text per byte of a gzip file when deciding (logs compress 5-30x)
GZIP_TEXT_RATIO = 10
#: the largest byte range of a big file (a 128 MB text range: about 0.75 M events, 60 MB)
RANGE_BYTES = 128 << 20
#: DuckDB's memory while it sorts parts that are out of order (it spills the rest to disk):
#: the first, else the next when the sort cannot work within it
SORT_MEMORY = ("128MB", "512MB")
#: DuckDB's threads for that sort (each needs its own working memory within the limit)
SORT_THREADS = 1
#: fingerprints held at once while looking for outcomes two ranges share (32 MB)
BUCKET_PRINTS = 4 << 20
#: rows per batch handed on by the sort
BATCH_ROWS = 64 << 10
_NO_TIME = np.iinfo(np.int64).max


class SortError(RuntimeError):
    """Events out of time order that DuckDB could not sort within its memory limits."""


def text_size(sources: Sequence[Source]) -> int:
    """About how much text ``sources`` hold (to decide on BOUNDED_MIN_BYTES): their sizes,
    GZIP_TEXT_RATIO times that for a gzip file."""
    total = 0
    for src in sources:
        size = src.size or 0
        try:
            with src.open() as fh:
                gzipped = fh.read(2) == b"\x1f\x8b"
        except (SourceError, OSError):
            gzipped = False
        total += size * GZIP_TEXT_RATIO if gzipped else size
    return total


@dataclass
class _Part:
    """One result on disk: a byte range of a file, or a piece of a stream."""

    file: str
    report: FileReport
    lines: int
    prints: str  # a .npy file of its outcome_prints (sorted, distinct): 8 bytes an event
    index: int = 0  # its place among its file's parts
    offset: int = 0  # where its lines start in the file (set by the join)


@dataclass
class _Written:
    """A part's events as they are handed on: the file, and the part's first and last keys
    (time, source, line); ``ordered``: its rows are in key order."""

    file: str
    rows: int
    first: tuple[int, str, int] = (0, "", 0)
    last: tuple[int, str, int] = (0, "", 0)
    ordered: bool = True


class PartedEvents:
    """The events of ``sources`` parsed into parts in a temporary folder (a context manager:
    the folder goes on exit). ``report`` is the ingest report, complete after construction;
    ``batches()`` hands on the events in ``load_events``' order."""

    def __init__(
        self,
        sources: Any,
        *,
        tz: str,
        format: str | None = None,
        workers: int | None = None,
        errors_only: bool = False,
        folder: str | None = None,
    ) -> None:
        self._tmp = tempfile.TemporaryDirectory(
            prefix="dashscope-parts-", dir=folder, ignore_cleanup_errors=True
        )
        self.folder = self._tmp.name
        self.tz = tz
        self.errors_only = errors_only
        self.report = IngestReport()
        self._written: list[_Written] = []
        try:
            formats = (get_format(format),) if format else registry()
            for k, src in enumerate(iter_sources(sources)):
                spool = os.path.join(self.folder, f"source-{k}")
                os.mkdir(spool)
                parts: list[_Part] | None
                if workers != 1 and splittable(src):
                    parts = self._ranges(src, formats, workers, spool)
                else:
                    parts = self._pieces(src, formats, spool)
                if parts is None:
                    report = self._whole(src, formats, spool)
                else:
                    report = self._join(src, parts)
                self.report.files.append(report)
        except BaseException:
            self._tmp.cleanup()
            raise

    def __enter__(self) -> PartedEvents:
        return self

    def __exit__(self, *_exc: object) -> None:
        self._tmp.cleanup()

    # -- 1. parse -------------------------------------------------------------------------

    def _ranges(
        self, src: Source, formats: Sequence[LogFormat], workers: int | None, spool: str
    ) -> list[_Part]:
        from ingest.pipeline import roomy_heap

        files: dict[int, str] = {}
        with roomy_heap():
            count = parse_ranges(
                src,
                formats,
                self.tz,
                workers,
                on_bytes=None,
                spool=spool,
                take=files.__setitem__,
                range_bytes=RANGE_BYTES,
                as_files=True,
            )
        return [_result_part(files[k], None, k) for k in range(count)]

    def _pieces(self, src: Source, formats: Sequence[LogFormat], spool: str) -> list[_Part] | None:
        """A source read as a stream (compressed, an archive member, stdin, or one process
        asked for) in pieces of about ``RANGE_BYTES`` of its text (``_Stream``), each parsed
        and written as it is read: memory holds a piece's events, not its text. None when it
        is short, or its encoding's newlines are not single bytes: then it is parsed whole."""
        from ingest.parallel import envelope_named, head_facts
        from ingest.pipeline import FileParser, roomy_heap

        with open_raw(src) as raw:
            stream = _Stream(raw, src.name)
            if stream.short:
                return None
            encoding, timestamped, named = head_facts(stream.head())
            stream.timestamped = timestamped
            stream.envelope = envelope_named(named) if named else None
            if encoding.startswith(("utf-16", "utf-32")):
                return None
            book = RecipeBook()  # what the lane learns on one piece serves the next
            parts: list[_Part] = []
            while (piece := stream.next_piece()) is not None:
                parser = FileParser(Source(src.name, piece, None), formats, self.tz, book=book)
                if stream.envelope is not None:  # as parallel._parse_range: the head's
                    parser.use_envelope(stream.envelope)
                with roomy_heap():
                    frame = parser.run(encoding=encoding, timestamped=timestamped)
                prints = parser.prints[0] if parser.prints else outcome_prints(frame)
                file = os.path.join(spool, f"piece-{len(parts)}.pickle")
                result = (frame, parser.report, parser.report.lines_read, prints)
                del frame
                parts.append(_result_part(file, result, len(parts)))
                del result
        if stream.problem is not None:
            parts[-1].report.problem = stream.problem
        return parts

    def _whole(self, src: Source, formats: Sequence[LogFormat], spool: str) -> FileReport:
        """A source that is not cut in ranges (small, compressed, stdin): one part, its
        report complete as FileParser made it."""
        from ingest.pipeline import FileParser, roomy_heap

        parser = FileParser(src, formats, self.tz)
        with roomy_heap():
            frame = parser.run()
        self._keep(os.path.join(spool, "whole"), frame)
        return parser.report

    # -- 2. join --------------------------------------------------------------------------

    def _join(self, src: Source, parts: list[_Part]) -> FileReport:
        from ingest.context import concat_context, only_lines

        report, offsets = join_reports(src, ((p.report, p.lines) for p in parts))
        for part, offset in zip(parts, offsets, strict=True):
            part.offset = offset
        merged = self._shared_merge(parts)
        context = report.context
        named = []
        for part in parts:
            frame = _events_of(part)
            if merged is not None:
                frame = merged.apply(frame, part.index)
            report.add_events(frame)
            if context is not None:
                lo, hi = part.offset, part.offset + part.lines
                mine = context[(context["line"] > lo) & (context["line"] <= hi)]
                named.append(only_lines(mine, frame["line"].to_numpy()))
            self._keep(part.file, frame)
            del frame
            os.unlink(part.file)
        if context is not None:
            report.context = concat_context(named)
        return report

    @staticmethod
    def _shared_merge(parts: list[_Part]) -> _Merged | None:
        """The merge of the outcomes that two parts both mention, or None when none does."""
        shared = shared_prints([p.prints for p in parts])
        if not len(shared):
            return None
        rows = []
        for part in parts:
            frame = _events_of(part)
            pos = np.flatnonzero(np.isin(outcome_fingerprints(frame), shared))
            if len(pos):
                rows.append(frame.iloc[pos].assign(_part_no=part.index, _row=pos))
            del frame
        if not rows:
            return None
        candidates = pd.concat(rows, ignore_index=True)  # with their places: not concat_events
        # as load_events: the earliest mention (the candidates are in line order) stays
        return _Merged(candidates[["_part_no", "_row"]], merge_by_request_id(candidates))

    def _keep(self, name: str, frame: pd.DataFrame) -> None:
        """Write the events of a part that are handed on, with their keys."""
        from ingest.parallel import _dump

        if self.errors_only:
            frame = frame[frame["is_error"].to_numpy()]
        written = _Written(name + ".events", len(frame))
        if len(frame):
            written.first, written.last, written.ordered = _keys(frame)
        with open(written.file, "wb") as fh:
            _dump(frame, fh)
        self._written.append(written)

    # -- 3. order -------------------------------------------------------------------------

    def in_order(self) -> bool:
        """The parts can be handed on without a sort (``_sequence``)."""
        return self._sequence() is not None

    def _sequence(self) -> list[_Written] | None:
        """The parts in load_events' order without a sort, or None when that needs one: each
        file's parts in order, one after the other, and the files' spans apart (rotated logs:
        app.log.2, app.log.1, app.log), ordered by where each starts."""
        runs: dict[str, list[_Written]] = {}
        for w in self._written:
            if w.rows:
                runs.setdefault(w.first[1], []).append(w)
        for run in runs.values():
            if not all(w.ordered for w in run):
                return None
            if any(b.first < a.last for a, b in pairwise(run)):
                return None
        ordered = sorted(runs.values(), key=lambda run: run[0].first)
        if any(b[0].first < a[-1].last for a, b in pairwise(ordered)):
            return None
        return [w for run in ordered for w in run]

    def batches(self) -> Iterator[pd.DataFrame]:
        """The events (errors only when so constructed) in load_events' order, a part or
        ``BATCH_ROWS`` at a time."""
        sequence = self._sequence()
        if sequence is None:
            yield from self._sorted()
            return
        for w in sequence:
            yield load_result(w.file)

    def _sorted(self) -> Iterator[pd.DataFrame]:
        import duckdb
        import pyarrow as pa
        import pyarrow.parquet as pq

        from ingest.store.writer import to_arrow, to_events

        files = []
        seq = 0  # the row's place in load_events' concatenation: ties keep it (a stable sort)
        for n, w in enumerate(self._written):
            if not w.rows:
                continue
            table = to_arrow(load_result(w.file))
            table = table.append_column("_seq", pa.array(np.arange(seq, seq + w.rows)))
            seq += w.rows
            files.append(os.path.join(self.folder, f"sort-{n}.parquet"))
            pq.write_table(table, files[-1])
            del table
            os.unlink(w.file)
        if not files:
            return
        columns = ", ".join(f'"{c}"' for c in EVENT_COLUMNS)
        order = f'coalesce(epoch_us("timestamp"), {_NO_TIME}), source, line, _seq'
        sql = f"SELECT {columns} FROM read_parquet(?) ORDER BY {order}"
        for memory in SORT_MEMORY:
            con = duckdb.connect()
            try:
                con.execute(f"SET memory_limit = '{memory}'")
                con.execute(f"SET threads = {SORT_THREADS}")
                con.execute("SET preserve_insertion_order = false")
                con.execute("SET temp_directory = ?", [os.path.join(self.folder, "duckdb")])
                con.execute("SET TimeZone = 'UTC'")
                con.execute("SET enable_progress_bar = false")
                try:
                    # the sort is done before the first batch comes: a limit too tight for
                    # it fails here, and the next one is tried
                    reader = con.sql(sql, params=[files]).to_arrow_reader(BATCH_ROWS)
                    first = reader.read_next_batch()
                except duckdb.OutOfMemoryException as exc:
                    if memory == SORT_MEMORY[-1]:
                        raise SortError(
                            f"sorting the events by time needs more than {memory} ({exc});"
                            " parse the files one at a time, or use `dashscope-logs ingest`"
                        ) from exc
                    continue
                except StopIteration:
                    return
                for batch in itertools.chain([first], reader):
                    if batch.num_rows:
                        yield to_events(pa.Table.from_batches([batch]))
                return
            finally:
                con.close()


def shared_prints(files: Sequence[str], bucket: int | None = None) -> Prints:
    """The fingerprints found in two or more of ``files`` (.npy arrays, each sorted and
    distinct), sorted.

    A bucket of the fingerprints' range at a time, ``bucket`` fingerprints or so (default
    ``BUCKET_PRINTS``): each file is mapped and only its slice of the bucket read, so memory
    holds a bucket, not every fingerprint (8 bytes an event: 480 MB for 60 M events). The
    buckets' edges are quantiles of a sample of every file."""
    bucket = bucket or BUCKET_PRINTS
    arrays = [np.load(f, mmap_mode="r") for f in files]
    total = sum(len(a) for a in arrays)
    if total < 2:
        return np.zeros(0, np.uint64)
    sample = np.sort(np.concatenate([a[:: max(1, len(a) // 256)] for a in arrays if len(a)]))
    count = max(1, -(-total // bucket))
    edges = np.unique(sample[(np.arange(1, count) * len(sample)) // count])
    found = []
    bounds = [None, *edges.tolist(), None]
    del arrays
    for lo, hi in pairwise(bounds):
        pieces = []
        for f in files:
            prints = np.load(f, mmap_mode="r")
            a = 0 if lo is None else int(np.searchsorted(prints, np.uint64(lo)))
            b = len(prints) if hi is None else int(np.searchsorted(prints, np.uint64(hi)))
            pieces.append(np.array(prints[a:b]))
            del prints
        every = np.sort(np.concatenate(pieces))
        del pieces
        found.append(np.unique(every[1:][every[1:] == every[:-1]]))
    return np.concatenate(found)


def _result_part(file: str, result: Any, index: int) -> _Part:
    """A parsed range or piece as a part: its result (a RangeResult) in ``file``, written here
    when given, and its fingerprints in a .npy file beside it."""
    from ingest.parallel import _dump

    if result is None:
        result = load_result(file)
    else:
        with open(file, "wb") as fh:
            _dump(result, fh)
    _frame, report, lines, prints = result
    del _frame, result
    np.save(file + ".prints.npy", prints)
    return _Part(file, report, lines, file + ".prints.npy", index=index)


#: bytes asked of a stream at once (a gzip reader inflates what is asked in one go)
_STEP = 1 << 20


class _Stream:
    """A byte stream in pieces of about ``RANGE_BYTES``, each cut where byte ranges are cut
    (after a quiet stretch, at a record's start: parallel._cut_in), read as the parser reads
    them: no more than a scan block is held ahead (``pending``).

    ``short``: the stream ends within twice a scan block or a piece (then it is parsed
    whole); ``problem``: why it ended early (a truncated gzip, a decompression cap), the text
    before it kept."""

    def __init__(self, raw: Any, name: str) -> None:
        from ingest.parallel import _SCAN_BYTES

        self.raw = raw
        self.name = name
        self.pending = bytearray()
        self.eof = False
        self.problem: str | None = None
        #: whether records open with a time, and the prefix envelope (of the stream's head)
        self.timestamped = False
        self.envelope: Envelope | None = None
        self._fill(min(2 * _SCAN_BYTES, RANGE_BYTES) + 1)
        self.short = self.eof

    def head(self) -> bytes:
        return bytes(self.pending[: 8 << 20])

    def _fill(self, size: int) -> None:
        """Read until ``pending`` holds ``size`` bytes or the stream ends."""
        while len(self.pending) < size and not self.eof:
            try:
                data = self.raw.read(_STEP)
            except SourceError as exc:  # a decompression cap
                self.problem, data = f"{self.name}: {exc}", b""
            except (OSError, EOFError, zlib.error):  # as sources.iter_text_chunks says it
                self.problem, data = f"{self.name}: {TRUNCATED}", b""
            self.eof = not data
            self.pending += data

    def next_piece(self) -> Callable[[], IO[bytes]] | None:
        """An opener of the next piece (None at the end). Each piece is read to its end
        before the next is asked for."""
        self._fill(1)
        if not self.pending:
            return None
        piece = _Piece(self)
        return lambda: piece  # type: ignore[return-value]

    def take(self, size: int) -> bytes:
        """Up to ``size`` bytes from the stream (b"" at its end)."""
        self._fill(size)
        data = bytes(self.pending[:size])
        del self.pending[:size]
        return data

    def cut_ahead(self) -> int | None:
        """Bytes from here to where a piece past its size ends: the cut byte ranges would take
        in the next scan block (all that is left at the stream's end); None when the block has
        no place to cut (the piece reads it and looks again)."""
        from ingest.parallel import _cut_in

        block = _scan_bytes()
        self._fill(block + 1)
        if self.eof and len(self.pending) <= block:
            return len(self.pending)
        return _cut_in(bytes(self.pending[:block]), self.timestamped, self.envelope)


def _scan_bytes() -> int:
    """The block a piece looks for its cut in (as plan_ranges: a few MB, less than a piece)."""
    from ingest.parallel import _SCAN_BYTES

    return min(_SCAN_BYTES, RANGE_BYTES // 2)


class _Piece(io.RawIOBase):
    """One piece of a _Stream, as a file: ``RANGE_BYTES``, then on to the next cut. Its first
    bytes are kept, so that it can be read from the start again (sources.open_raw reads two
    bytes and seeks back)."""

    def __init__(self, stream: _Stream) -> None:
        self.stream = stream
        self.budget = RANGE_BYTES  # bytes to read before looking for the cut
        self.left: int | None = None  # bytes to the cut, once found
        self.start = stream.take(1 << 16)
        self.budget -= len(self.start)
        self.at = 0  # position in ``start`` (past its length: no more rewinding)

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence != io.SEEK_SET or offset > self.at or self.at > len(self.start):
            raise io.UnsupportedOperation("a piece of a stream rewinds within its start only")
        self.at = offset
        return offset

    def readinto(self, b: Any) -> int:
        view = memoryview(b).cast("B")
        if self.at < len(self.start):
            n = min(len(view), len(self.start) - self.at)
            view[:n] = self.start[self.at : self.at + n]
            self.at += n
            return n
        self.at = len(self.start) + 1
        if self.left is None and self.budget <= 0:
            cut = self.stream.cut_ahead()
            if cut is None:
                self.budget = _scan_bytes()  # no place to cut in the block: read it, look again
            else:
                self.left = cut
        limit = self.budget if self.left is None else self.left
        data = self.stream.take(min(len(view), limit)) if limit > 0 else b""
        if self.left is None:
            self.budget -= len(data)
        else:
            self.left -= len(data)
        view[: len(data)] = data
        return len(data)


def _events_of(part: _Part) -> pd.DataFrame:
    """A part's events with their lines counted from the file's start."""
    frame: pd.DataFrame = load_result(part.file)[0]
    if part.offset > 0:
        frame = frame.assign(line=frame["line"] + part.offset)
    return frame


class _Merged:
    """The rows of the outcomes two parts share (``where``: their part and row), and ``kept``:
    those that remain after the merge, with the merged values."""

    def __init__(self, where: pd.DataFrame, kept: pd.DataFrame) -> None:
        self.where = where
        self.kept = kept

    def apply(self, frame: pd.DataFrame, index: int) -> pd.DataFrame:
        """Part ``index``'s frame with the merge done: the rows kept get the merged values,
        the others go."""
        mine = self.where.loc[self.where["_part_no"] == index, "_row"].to_numpy()
        if not len(mine):
            return frame
        kept = self.kept[self.kept["_part_no"] == index]
        rows = kept["_row"].to_numpy()
        return replace_merged(frame, rows, kept, np.setdiff1d(mine, rows))


def _keys(frame: pd.DataFrame) -> tuple[tuple[int, str, int], tuple[int, str, int], bool]:
    """The first and last sort keys of one file's rows (time, none last; source; line), and
    whether the rows are in key order."""
    stamps = frame["timestamp"].array.asi8.copy()
    stamps[stamps == np.iinfo(np.int64).min] = _NO_TIME
    lines = frame["line"].to_numpy()
    source = str(frame["source"].iloc[0])
    later = stamps[1:] > stamps[:-1]
    same = stamps[1:] == stamps[:-1]
    ordered = bool((later | (same & (lines[1:] >= lines[:-1]))).all())
    first = (int(stamps[0]), source, int(lines[0]))
    return first, (int(stamps[-1]), source, int(lines[-1])), ordered
