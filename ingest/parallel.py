"""Big plain files are parsed in byte ranges by several processes, then stitched together.

Ranges are cut where a record starts (a line with a leading timestamp, or a JSON object), the
encoding and the timestamped-or-not decision come from the file's head, and the outcomes that
two ranges both mention (the same request_id) are merged afterwards, so the events are the same
as with one process. ../shared/reference/performance.md: the second core gives 1.4-1.8x.
"""

from __future__ import annotations

import io
import mmap
import os
import pickle
import struct
import sys
import tempfile
import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor, wait
from functools import lru_cache
from itertools import pairwise
from multiprocessing import get_context
from typing import IO, Any

import pandas as pd

from ingest.context import concat_context, only_lines
from ingest.envelopes import Envelope, application_text, envelopes, strip_terminal_codes
from ingest.envelopes import detect as detect_envelope
from ingest.fastlane import RecipeBook
from ingest.formats import LogFormat, get_format, registry
from ingest.pipeline import looks_like_api_event
from ingest.records import LEADING_TS, OPENING_CHARS, SAMPLE_LINES, looks_timestamped
from ingest.report import FileReport
from ingest.schema import (
    Prints,
    concat_events,
    merge_by_request_id,
    outcome_prints,
    share_outcomes,
    tidy_categories,
)
from ingest.sources import Source, sniff_encoding

#: below this a file is parsed in one process. Starting spawn workers and shipping their frames
#: back costs about a second, and with the fast lane one process reads 100-200 MB/s: on 2 cores
#: one process was faster up to 200 MB and even at 300-400 MB (jsonl 100 MB: 0.8-1.1 s vs
#: 1.3 s; 200 MB: 1.4-1.8 s vs 2.0 s; 400 MB: 3.2-3.7 s vs 3.0-3.1 s; text 300 MB: even)
PARALLEL_MIN_BYTES = 320 << 20
_SCAN_BYTES = 4 << 20
_HEAD_BYTES = 256 << 10


def splittable(src: Source) -> bool:
    """A plain file on disk, big enough, in an encoding whose newlines are single bytes."""
    path = src.path or src.name
    if not src.size or src.size < PARALLEL_MIN_BYTES or (src.path is None and "!" in src.name):
        return False
    if not os.path.isfile(path):
        return False
    with open(path, "rb") as fh:
        head = fh.read(_HEAD_BYTES)
    if head[:2] == b"\x1f\x8b":
        return False
    # a CSV download or a JSON document is read from its head (the header row, the document's
    # keys): a byte range in its middle would be read as plain text
    text = head.decode(sniff_encoding(head), errors="replace")
    envelope = detect_envelope(text[: text.rfind("\n") + 1] or text)
    return envelope is None or not (envelope.csv or envelope.document)


def _is_opener(line: str, timestamped: bool) -> bool:
    """A line that opens a record whatever came before it: one with a leading timestamp, or
    a JSON object where records do not open with timestamps (where they do, a line without one
    takes the time of the record before it, and a range starting there would have none)."""
    first = line[:1]
    if first == "{" and not timestamped:
        return True
    return bool((first.isdigit() or first in OPENING_CHARS) and LEADING_TS.match(line))


def _ranges_per_worker() -> int:
    """Ranges per process: more ranges than processes keep the load balanced."""
    return 2


def _shares(parts: int, method: str) -> list[int]:
    """Range sizes. A spawned worker starts 0.4 s after this process (it imports pandas
    first), and this process's results need no trip through a file: its two ranges (at the
    back of the file) are a fifth bigger (1 GB text, 2 processes: 4.5-4.9 s equal, 4.4-4.7 s
    so, alternating runs). A forked worker starts at once: equal ranges."""
    if parts <= 2 or method == "fork":
        return [1] * parts
    return [5] * (parts - 2) + [6, 6]


@lru_cache(maxsize=1)
def _attempt_words() -> tuple[str, ...]:
    """Triggers of the formats whose lines wait to be absorbed (httpx status lines, retry
    notices: roles ``transport`` and ``retry``)."""
    return tuple(sorted({t for f in registry() if f.role != "detail" for t in f.triggers}))


def _quiet(line: str) -> bool:
    """No record after this line can be merged with it: it is not part of an attempt (a
    status line or a retry notice waits for the detail that absorbs it) and not a failure (an
    id-less failure merges with the same failure told again on the next record)."""
    return not any(w in line for w in _attempt_words()) and not looks_like_api_event(line)


def plan_ranges(
    path: str,
    parts: int,
    weights: Sequence[int] | None = None,
    facts: tuple[bool, str | None] | None = None,
) -> list[tuple[int, int]]:
    """Byte ranges [start, end) of ``path`` cut at the start of a record-opening line: about
    equal, or in proportion to ``weights`` (one per range).

    Not within a retry sequence or next to a failure: the record that follows one may be
    merged with it (ingest.events), and cut apart they would be counted twice. A cut waits for
    a stretch of quiet lines (_cut_in), and takes the longest one the scanned block offers.
    """
    size = os.path.getsize(path)
    # whether records open with a time, and the prefix envelope: the caller's head_facts
    timestamped, named = facts if facts is not None else _head(path)[1:]
    envelope = envelope_named(named) if named else None
    shares = list(weights) if weights is not None else [1] * parts
    cuts = [0]
    with open(path, "rb") as fh:
        for k in range(1, len(shares)):
            pos = size * sum(shares[:k]) // sum(shares)
            fh.seek(pos)
            block = fh.read(_SCAN_BYTES)
            cut = _cut_in(block, timestamped, envelope)
            if cut is not None and pos + cut > cuts[-1]:
                cuts.append(pos + cut)
    cuts.append(size)
    return [(a, b) for a, b in pairwise(cuts) if b > a]


#: a cut wants this many quiet lines before it (no attempt, no failure): in a log of concurrent
#: calls, the line before an opener being quiet is no sign that no other call's retry sequence
#: is still open (events.WINDOW_LINES reaches much further, but a sequence's lines come within
#: a few dozen lines in the logs seen)
_QUIET_LINES = 32
#: and the scan for such a place gives up after this many lines (then the best seen does)
_SCAN_LINES = 8_000


def _prefix_envelope(head: bytes) -> Envelope | None:
    """The prefix envelope of a file whose head is ``head`` (ingest.envelopes), else None."""
    text = head.decode(sniff_encoding(head), errors="replace")
    envelope = detect_envelope(text[: text.rfind("\n") + 1] or text)
    return envelope if envelope is not None and envelope.prefix is not None else None


def _cut_in(block: bytes, timestamped: bool, envelope: Envelope | None = None) -> int | None:
    """Offset in ``block`` of the first opener after _QUIET_LINES ``_quiet`` lines (else of the
    opener after the longest quiet stretch, counted from the block's start, whose line before
    is cut off; None without an opener).

    In a prefix envelope the lines are judged without their prefix; where the prefix names
    streams (a multiplexer's), a cut also waits until every stream seen in the block has its
    record closed: its last line a quiet opener (a stream's traceback may go on after lines
    of other streams, and cut there its lines would be read apart)."""
    best: int | None = None
    best_quiet = -1
    quiet = 0  # quiet lines right before this one
    offset = block.find(b"\n") + 1
    if not offset:
        return None
    lines = block[offset:].split(b"\n", _SCAN_LINES)[:-1]  # whole lines only
    streams = envelope is not None and envelope.has_streams
    open_streams: set[str | None] = set()  # streams whose last line may be continued
    for raw in lines[:_SCAN_LINES]:
        line = strip_terminal_codes(raw.decode("utf-8", errors="replace"))
        stream = None
        if envelope is not None and envelope.prefix is not None:
            m = envelope.prefix.match(line)
            if m is not None and streams:
                stream = m.group("stream")
            inner = envelope.unwrap_line(line)
            line = line if inner is None else inner
        opener = _is_opener(line, timestamped)
        settled = not open_streams or open_streams == {stream}
        if quiet > best_quiet and opener and settled:
            best, best_quiet = offset, quiet
            if quiet >= _QUIET_LINES:
                return offset
        quiet = quiet + 1 if _quiet(line) else 0
        if streams and line:
            if opener and _quiet(line):
                open_streams.discard(stream)
            else:
                open_streams.add(stream)
        offset += len(raw) + 1
    return best


class _Range(io.RawIOBase):
    """The bytes [start, end) of a file.

    Seekable: sources.open_raw reads two bytes and seeks back to the start, and a stream that
    cannot seek is read whole into memory first (a copy of 256 MB per range, a third of a
    worker's page faults).
    """

    def __init__(self, path: str, start: int, end: int) -> None:
        self._fh = open(path, "rb")  # noqa: SIM115 (closed by close())
        self._start, self._end = start, end
        self._fh.seek(start)
        self._left = end - start

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._end - self._left - self._start

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self.tell(), io.SEEK_END: self._end - self._start}
        pos = min(max(0, base[whence] + offset), self._end - self._start)
        self._fh.seek(self._start + pos)
        self._left = self._end - self._start - pos
        return pos

    def readinto(self, b: Any) -> int:
        if self._left <= 0:
            return 0
        view = memoryview(b).cast("B")[: self._left]
        n = self._fh.readinto(view)
        self._left -= n
        return n

    def close(self) -> None:
        self._fh.close()
        super().close()


def _parse_range(
    path: str,
    start: int,
    end: int,
    *,
    fmt: str | None,
    tz: str,
    encoding: str,
    timestamped: bool,
    name: str | None = None,
    envelope: str | None = None,
) -> tuple[pd.DataFrame, FileReport, int, Prints]:
    """Worker: parse one range; line numbers are relative to the range (the parent shifts them).
    Also returns the range's outcome_prints: the parent merges repeated request_ids only when
    two ranges share one, instead of fingerprinting and sorting every row again.

    ``envelope``: the name of the file's prefix envelope ("" for none), as the caller read it
    from the file's head; None: read here (ingest.store's segments)."""
    from ingest.pipeline import FileParser, roomy_heap

    if envelope is None and start > 0:
        with open(path, "rb") as fh:
            head = _prefix_envelope(fh.read(_HEAD_BYTES))
        envelope = head.name if head is not None else ""

    def opener() -> IO[bytes]:
        return io.BufferedReader(_Range(path, start, end), 1 << 20)

    formats = (get_format(fmt),) if fmt else registry()
    book = _book((path, fmt, tz, encoding, timestamped))
    parser = FileParser(Source(name or path, opener, end - start), formats, tz, book=book)
    if envelope:
        # the envelope of the file's head: a range's own first lines may not show the
        # evidence a weak prefix needs (ingest.envelopes._evidence)
        parser.use_envelope(envelope_named(envelope))
    with roomy_heap():
        frame = parser.run(encoding=encoding, timestamped=timestamped)
    prints = parser.prints[0] if parser.prints else outcome_prints(frame)
    return frame, parser.report, parser.report.lines_read, prints


#: the recipes this process learned on a file's earlier ranges (a worker's, or this
#: process's during parse_in_parallel), by file and options
_BOOKS: dict[tuple[Any, ...], RecipeBook] = {}


def _book(key: tuple[Any, ...]) -> RecipeBook:
    if key not in _BOOKS:
        _BOOKS.clear()  # one file at a time
        _BOOKS[key] = RecipeBook()
    return _BOOKS[key]


class _Claims:
    """Which ranges are taken (workers from the front, the parent from the back), and how many
    bytes are parsed: shared by the processes of one parse."""

    current: _Claims | None = None  # in a worker: set by install()

    def __init__(self, ctx: Any, count: int) -> None:
        self.lock = ctx.Lock()
        self.front = ctx.RawValue("q", 0)
        self.back = ctx.RawValue("q", count)
        self.done = ctx.RawValue("q", 0)

    @staticmethod
    def install(claims: _Claims) -> None:
        _Claims.current = claims

    def take(self, *, back: bool = False) -> int | None:
        """The next range nobody has (None when all are taken)."""
        with self.lock:
            if self.front.value >= self.back.value:
                return None
            if back:
                self.back.value -= 1
                return int(self.back.value)
            self.front.value += 1
            return int(self.front.value - 1)

    def take_all(self) -> None:
        with self.lock:
            self.back.value = self.front.value

    def add_bytes(self, count: int) -> None:
        with self.lock:
            self.done.value += count

    def bytes_done(self) -> int:
        with self.lock:
            return int(self.done.value)


def _spool_dir(size: int) -> str | None:
    """Where workers leave their results: shared memory when it has room for results of a
    file of ``size`` bytes (a 128 MB result took 0.06 s to write there, and 0.04-0.36 s to /tmp
    on disk, the first time the longest), else the system's temporary directory (a container's
    /dev/shm is often 64 MB)."""
    shm = "/dev/shm"
    try:
        room = os.statvfs(shm)
    except OSError:
        return None
    roomy = room.f_bavail * room.f_frsize >= size  # results are half the text, or less
    return shm if roomy and os.access(shm, os.W_OK) else None


def _drain(path: str, ranges: list[tuple[int, int]], options: dict[str, Any], spool: str) -> int:
    """Worker: parse ranges from the front until none is left. Each result is written to
    ``_result_file(spool, k)`` at once (its memory freed; no pipe to wait on), where the
    parent reads it. Returns how many ranges this worker parsed."""
    claims = _Claims.current
    assert claims is not None
    done = 0
    while (k := claims.take()) is not None:
        result = _parse_range(path, *ranges[k], **options)
        file = _result_file(spool, k)
        with open(file + ".part", "wb") as fh:
            _dump(result, fh)
        del result
        os.rename(file + ".part", file)  # whole: the parent may read it at once
        done += 1
        claims.add_bytes(ranges[k][1] - ranges[k][0])
    return done


def _result_file(spool: str, k: int) -> str:
    return os.path.join(spool, f"range-{k}.pickle")


_TRAILER = struct.Struct("<Q")
_PAGE = mmap.ALLOCATIONGRANULARITY


def _dump(result: Any, fh: IO[bytes]) -> None:
    """A range's result as its arrays' own bytes, each from a page boundary, then the pickle
    that refers to them (pickle protocol 5, out of band), then the pickled places of those
    bytes and that pickle's length: load_result maps them and the frame's columns are read where
    they lie."""
    buffers: list[pickle.PickleBuffer] = []
    header = pickle.dumps(result, protocol=5, buffer_callback=buffers.append)
    places = []
    pos = 0
    for buffer in buffers:
        raw = buffer.raw()  # numpy and Arrow give contiguous buffers only
        pad = -pos % _PAGE
        fh.write(b"\0" * pad)
        pos += pad
        fh.write(raw)
        places.append((pos, raw.nbytes))
        pos += raw.nbytes
    fh.write(header)
    index = pickle.dumps((places, pos, len(header)))
    fh.write(index)
    fh.write(_TRAILER.pack(len(index)))


def load_result(file: str) -> Any:
    """A result _dump wrote, each of its arrays over a read-only map of its own part of the
    file (a column's memory goes back when the column is let go, as the ranges are joined).
    The maps are filled at once (MAP_POPULATE: reading the columns page by page cost what
    copying them does), and the file can be removed."""
    with open(file, "rb") as fh:
        fh.seek(-_TRAILER.size, os.SEEK_END)
        (length,) = _TRAILER.unpack(fh.read(_TRAILER.size))
        fh.seek(-_TRAILER.size - length, os.SEEK_END)
        places, header_at, header_size = pickle.loads(fh.read(length))
        fh.seek(header_at)
        header = fh.read(header_size)
        buffers = [_mapped(fh, at, size) for at, size in places]
    return pickle.loads(header, buffers=buffers)


def _mapped(fh: IO[bytes], at: int, size: int) -> memoryview:
    """``size`` bytes of ``fh`` from ``at``, mapped read-only (read, where mmap has no flags:
    Windows)."""
    if not size:
        return memoryview(b"")
    if not hasattr(mmap, "MAP_SHARED"):
        fh.seek(at)
        return memoryview(fh.read(size))
    flags = mmap.MAP_SHARED | getattr(mmap, "MAP_POPULATE", 0)
    return memoryview(mmap.mmap(fh.fileno(), size, flags=flags, prot=mmap.PROT_READ, offset=at))


def start_method() -> str:
    """Fork when this process runs no other Python thread: the worker then starts parsing at
    once instead of importing pandas first (0.35-0.45 s of the second core). A thread (the
    dashboard's server, a test's fake server) may hold a lock that a forked child would
    inherit held: then spawn. The native threads of numpy's BLAS and Arrow's allocator
    handle a fork themselves. A forked pool's semaphores also leave no names behind in
    /dev/shm when the process is killed (a spawned one's are unlinked only at a clean exit)."""
    # Linux only: macOS's system libraries (Accelerate, which numpy may use) are not safe
    # to fork, and Python spawns there by default
    alone = threading.active_count() == 1
    return "fork" if alone and sys.platform.startswith("linux") else "spawn"


def _head(path: str) -> tuple[str, bool, str | None]:
    with open(path, "rb") as fh:
        return head_facts(fh.read(8 << 20))


def envelope_named(name: str) -> Envelope:
    return next(e for e in envelopes() if e.name == name)


def head_facts(head: bytes) -> tuple[str, bool, str | None]:
    """The encoding of a file, whether its records open with a timestamp, and its prefix
    envelope's name, from its first bytes: decided once, for every range."""
    encoding = sniff_encoding(head)
    # decided on the application's lines, as FileParser does (envelopes off, colours off)
    text = head.decode(encoding, errors="replace")
    envelope = detect_envelope(text)
    text = application_text(text, envelope)
    named = envelope.name if envelope is not None and envelope.prefix is not None else None
    return encoding, looks_timestamped(text.split("\n")[:SAMPLE_LINES]), named


#: one range's result: its events (lines counted from the range's start), its report, its
#: line count, and the outcome_prints of its events
RangeResult = tuple[pd.DataFrame, FileReport, int, Prints]


def parse_in_parallel(
    src: Source,
    formats: Sequence[LogFormat],
    tz: str,
    workers: int | None,
    on_bytes: Callable[[int], None] | None = None,
) -> tuple[pd.DataFrame, FileReport]:
    """Parse one big file with ``workers`` processes (default: the machine's cores), into its
    events frame (parse_ranges, then the ranges joined)."""
    path = src.path or src.name
    spooled = tempfile.TemporaryDirectory(
        prefix="dashscope-ranges-",
        dir=_spool_dir(os.path.getsize(path)),
        ignore_cleanup_errors=True,
    )
    results: dict[int, RangeResult] = {}
    with spooled as spool:
        count = parse_ranges(
            src, formats, tz, workers, on_bytes=on_bytes, spool=spool, take=results.__setitem__
        )
    report, offsets = join_reports(src, (results[k][1:3] for k in range(count)))
    frames = []
    prints = []
    for k in range(count):  # consumed from the front: each range's frame is released once copied
        frame, _part, _lines, part_prints = results.pop(k)
        prints.append(part_prints)
        if len(frame):
            frames.append(frame.assign(line=frame["line"] + offsets[k]))
        del frame
    if not frames:
        from ingest.schema import empty_events

        return empty_events(), report
    from ingest.pipeline import release_memory

    # each range is merged already: only an outcome two ranges share is left to merge (decided
    # before joining the frames: the fingerprints are gone by the peak of memory)
    shared = share_outcomes(prints)
    prints.clear()
    combined = concat_events(frames, consume=True)
    frames.clear()
    release_memory()
    # the ranges' frames are tidy (FileParser.run), and so their union; a merge drops rows
    frame = tidy_categories(merge_by_request_id(combined)) if shared else combined
    del combined
    release_memory()
    if report.context is not None:
        report.context = only_lines(report.context, frame["line"].to_numpy())
    report.count_events(frame)
    return frame, report


def parse_ranges(
    src: Source,
    formats: Sequence[LogFormat],
    tz: str,
    workers: int | None,
    *,
    on_bytes: Callable[[int], None] | None,
    spool: str,
    take: Callable[[int, Any], None],
    range_bytes: int | None = None,
    as_files: bool = False,
) -> int:
    """Parse the byte ranges of one big file with ``workers`` processes; returns how many
    ranges there are. ``take(k, result)`` receives each range's RangeResult (in the order they
    finish), or with ``as_files`` the file in ``spool`` that holds it (``load_result`` reads
    it), so that no result need stay in memory. ``range_bytes``: the largest range.

    This process is one of the workers. The others take ranges from the front of the file and
    this one from the back (it starts at once, while spawning a worker and importing pandas
    there takes 0.4 s), until they meet: a shared claim per range, so that all finish together.
    """
    n = workers or os.cpu_count() or 1
    fmt = formats[0].name if len(formats) == 1 else None
    path = src.path or src.name
    encoding, timestamped, envelope = _head(path)
    parts = _ranges_per_worker() * n  # more ranges than processes
    if range_bytes:
        parts = max(parts, -(-os.path.getsize(path) // range_bytes))
    method = start_method()
    ranges = plan_ranges(path, parts, _shares(parts, method), (timestamped, envelope))
    options: dict[str, Any] = {"fmt": fmt, "tz": tz, "encoding": encoding}
    options.update(timestamped=timestamped, name=src.name, envelope=envelope or "")
    ctx = get_context(method)
    claims = _Claims(ctx, len(ranges))
    taken: set[int] = set()
    reported = 0

    def report_progress() -> None:
        nonlocal reported
        if on_bytes is not None:
            done = claims.bytes_done()
            on_bytes(done - reported)
            reported = done

    helpers = max(1, min(n - 1, len(ranges) - 1))
    pool = ProcessPoolExecutor(
        max_workers=helpers,
        mp_context=ctx,
        initializer=_Claims.install,
        initargs=(claims,),
    )
    try:
        drains = [pool.submit(_drain, path, ranges, options, spool) for _ in range(helpers)]
        while (k := claims.take(back=True)) is not None:
            result = _parse_range(path, *ranges[k], **options)
            if as_files:
                file = _result_file(spool, k)
                with open(file, "wb") as fh:
                    _dump(result, fh)
                del result
                take(k, file)
            else:
                take(k, result)
                del result
            taken.add(k)
            claims.add_bytes(ranges[k][1] - ranges[k][0])
            report_progress()
        # a worker's results are taken as they appear: the first while it still parses
        # or writes its last (0.05 s of each is reading)
        while True:
            running = wait(drains, timeout=0.01).not_done
            for k in range(len(ranges)):
                file = _result_file(spool, k)
                if k not in taken and os.path.exists(file):
                    if as_files:
                        take(k, file)
                    else:
                        take(k, load_result(file))
                        os.unlink(file)
                    taken.add(k)
            report_progress()
            if not running:
                break
        for drain in drains:
            drain.result()  # a worker's error is raised here
        drains.clear()
    finally:
        _BOOKS.clear()
        claims.take_all()  # after an error too: the workers stop at their next range
        # the workers' exit (their interpreter's teardown) need not hold up the merge
        pool.shutdown(wait=False, cancel_futures=True)
    report_progress()
    return len(ranges)


def join_reports(
    src: Source, parts: Iterable[tuple[FileReport, int]]
) -> tuple[FileReport, list[int]]:
    """The file's report from its ranges' reports and line counts (in range order), and the
    line offset of each range. Events, errors and the time span are left to count_events;
    the context table holds every range's rows (only_lines keeps those of the final events)."""
    encoding = ""
    report = FileReport(src.name)
    named: list[pd.DataFrame] = []  # ingest.context tables of the ranges
    offsets = []
    offset = 0
    for part, lines in parts:
        offsets.append(offset)
        encoding = encoding or part.encoding
        report.bytes_read += part.bytes_read
        report.lines_read += part.lines_read
        report.lines_in_events += part.lines_in_events
        report.ignored += part.ignored
        report.unparsed += part.unparsed
        report.formats.update(part.formats)
        report.envelope = report.envelope or part.envelope
        report.utc_offsets.update(part.utc_offsets)
        if part.context is not None:
            named.append(part.context.assign(line=part.context["line"] + offset))
        for n_line, text in part.unparsed_examples:
            if len(report.unparsed_examples) < 200:
                report.unparsed_examples.append((n_line + offset, text))
        if part.problem and "no DashScope API calls" not in part.problem:
            report.problem = report.problem or part.problem
        offset += lines
    report.encoding = encoding or report.encoding
    if named:
        report.context = concat_context(named)
    return report, offsets
