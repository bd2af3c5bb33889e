"""read -> group records -> match formats -> normalize -> events frame, one file at a time."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd

from ingest.catalog import load_catalogue
from ingest.context import concat_context, only_lines
from ingest.envelopes import Envelope, application_lines
from ingest.envelopes import detect as detect_envelope
from ingest.events import EventCollector
from ingest.fastlane import FastLane, RecipeBook
from ingest.formats import LogFormat, get_format, registry
from ingest.matcher import RecordMatcher
from ingest.normalize import normalize
from ingest.recipes import IGNORE
from ingest.records import SAMPLE_LINES, Record, RecordGrouper, looks_timestamped
from ingest.redact import redact_line
from ingest.report import FileReport, IngestReport
from ingest.schema import (
    Prints,
    concat_events,
    empty_events,
    in_line_order,
    merge_by_request_id,
    sort_in_place,
    tidy_categories,
)
from ingest.sources import (
    AsciiText,
    Source,
    SourceError,
    iter_sources,
    iter_text_chunks,
    open_raw,
)

DEFAULT_TZ = "Asia/Shanghai"

ProgressFn = Callable[[int, int], None]

#: cheap substring screen before the suspect regex (most non-event lines fail it); "fail" in
#: its cases, not "ail": Qwen-Agent's "Available tokens: 58000" is no failure
_FAILURE_WORDS = (
    "rror",
    "xception",
    "fail",
    "Fail",
    "FAIL",
    "hrottl",
    "enied",
    "nvalid",
    "imeout",
    "efused",
)
_SIGNALS = re.compile(
    r"(?i:dashscope|tongyi|bailian|qwen|compatible-mode|aliyuncs|status[_ ]?code|request_?id"
    r"|error code|http/1\.1 [45]\d\d)"
)


@lru_cache(maxsize=1)
def _code_words() -> re.Pattern[str]:
    """Catalogue codes that are specific enough to flag a line nobody could parse."""
    cat = load_catalogue()
    codes = {e.code for e in cat.entries if "." in e.code or len(e.code) > 12}
    codes |= {a for e in cat.entries for a in e.aliases if "_" in a}
    alternation = "|".join(sorted((re.escape(c) for c in codes), key=len, reverse=True))
    return re.compile(rf"(?<![\w.])(?:{alternation})(?![\w])")


def looks_like_api_event(text: str) -> bool:
    """True for a record that smells of a DashScope failure (counted as unparsed, not ignored)."""
    if not any(w in text for w in _FAILURE_WORDS):
        return False
    return bool(_SIGNALS.search(text) or _code_words().search(text))


class FileParser:
    """Parses one source: records in, events and the file's report out."""

    def __init__(
        self,
        source: Source,
        formats: Iterable[LogFormat],
        tz: str,
        *,
        fast: bool = True,
        book: RecipeBook | None = None,
    ) -> None:
        self.source = source
        self.fast = fast  # the fast lane (ingest.fastlane) for lines it can cut by position
        self.book = book  # what an earlier lane on the same file learned (ingest.parallel)
        self.lane: FastLane | None = None
        self.tz = tz
        self.matcher = RecordMatcher(tuple(formats))
        self.report = FileReport(source.name)
        self.collector = EventCollector(source.name, tz=tz)
        self.catalogue = load_catalogue()
        #: schema.outcome_prints of the events, when run() found them on the way
        self.prints: list[Prints] = []
        self.envelope: Envelope | None = None  # docker / CRI / SLS ... around the lines
        self._envelope_decided = False
        self._carets: bool | None = None  # the file shows colour codes as ^[[ (decided once)
        #: a Markdown paste (an issue, a ticket): its first chunk has a ``` fence line; then
        #: whether the record being read is inside a fenced block
        self._markdown: bool | None = None
        self._in_fence = False
        #: the stream of each line of the last chunk unwrapped, when the envelope names them
        #: (a multiplexer's prefix: ingest.envelopes); None otherwise
        self.streams: list[str | None] | None = None

    def use_envelope(self, envelope: Envelope) -> None:
        """Read the lines in ``envelope`` (decided on the file's head: ingest.parallel)."""
        self._envelope_decided = True
        self.envelope = envelope
        self.report.envelope = envelope.name

    def unwrap(self, chunk: str) -> str:
        """The application's lines of ``chunk`` (ingest.envelopes; decided on the first one)."""
        if not self._envelope_decided:
            self._envelope_decided = True
            envelope = detect_envelope(chunk)
            self.envelope = envelope
            self.report.envelope = envelope.name if envelope is not None else None
        if self._carets is None:  # colour codes shown as ^[[31m: pasted so throughout or never
            self._carets = "^[[" in chunk
        if self._markdown is None:
            self._markdown = _has_fence(chunk)
        text, self.streams = application_lines(chunk, self.envelope, carets=self._carets)
        return text

    def _as_read(self, data: AsciiText, grouper: RecordGrouper) -> bool:
        """The application's lines are ``data`` as read: no envelope, no colour codes, and the
        grouping decided (what unwrap and _decide_grouping would do to its text is nothing)."""
        return (
            self._envelope_decided
            and self.envelope is None
            and self._carets is False
            and grouper.timestamped is not None
            and not data.has(b"\x1b")
        )

    def _fast_lane(self) -> FastLane:
        return FastLane(
            self.matcher,
            self.catalogue,
            tz=self.tz,
            source=self.source.name,
            report=self.report,
            looks_like_event=looks_like_api_event,
            book=self.book,
        )

    def handle(self, rec: Record) -> None:
        text = rec.text
        known = self.lane.known(text, rec.ts, rec.own_ts) if self.lane is not None else None
        if known is IGNORE:
            self.report.ignored += rec.n_lines
            return
        # a record of a template with a recipe is cut by position (ingest.fastlane)
        raw_events = [known] if isinstance(known, dict) else self.matcher.match(text, rec.ts)
        if raw_events:
            self.report.lines_in_events += rec.n_lines
            for raw in raw_events:
                ev = normalize(raw, self.catalogue)
                self.report.formats[ev["format"]] += 1
                self.collector.add(ev, rec.first_line)
        elif looks_like_api_event(text) and not self._prose(text):
            self.report.unparsed += rec.n_lines
            for k, line in enumerate(text.split("\n")[:3]):
                if len(self.report.unparsed_examples) < 200:
                    self.report.unparsed_examples.append(
                        (rec.first_line + k, redact_line(line[:1000])[:500])
                    )
        else:
            self.report.ignored += rec.n_lines
        if self._markdown:
            self._in_fence ^= sum(1 for ln in text.split("\n") if ln.startswith("```")) % 2 == 1

    def _prose(self, text: str) -> bool:
        """A record of a Markdown paste that lies wholly outside its fenced blocks: the user's
        words about the log ("calls fail with 400 since yesterday"), not a log line. It is
        still matched (an error quoted in prose is read); unread, it is not flagged unparsed."""
        return bool(self._markdown) and not self._in_fence and not _has_fence(text)

    def run(
        self,
        on_bytes: Callable[[int], None] | None = None,
        *,
        encoding: str | None = None,
        timestamped: bool | None = None,
    ) -> pd.DataFrame:
        grouper = RecordGrouper(timestamped)
        lane = self.lane = self._fast_lane() if self.fast else None
        try:
            raw = open_raw(self.source)
            with raw:
                chunks = iter_text_chunks(
                    raw, on_bytes=on_bytes, encoding=encoding, ascii_bytes=lane is not None
                )
                for used, read in chunks:
                    self.report.encoding = used
                    self.report.bytes_read += len(read)
                    # an ASCII chunk comes as read: the lane takes its bytes
                    if (
                        isinstance(read, AsciiText)
                        and lane is not None
                        and self._as_read(read, grouper)
                    ):
                        lane.run_chunk(read, grouper, self.collector, self.handle)
                        continue
                    text = read.text() if isinstance(read, AsciiText) else read
                    chunk = self.unwrap(text)
                    streams = self.streams
                    if lane is not None and _decide_grouping(grouper, chunk):
                        if streams is None or grouper.alone_in(streams):
                            lane.run_chunk(chunk, grouper, self.collector, self.handle)
                        else:
                            self._run_streams(chunk, streams, grouper, lane)
                        continue
                    for rec in grouper.feed(chunk, streams=streams):
                        self.handle(rec)
        except SourceError as exc:
            self.report.problem = f"{self.source.name}: {exc}"
        except OSError as exc:
            self.report.problem = f"{self.source.name}: cannot be read ({exc})"
        for rec in grouper.close():
            self.handle(rec)
        self.report.lines_read = grouper.line_no
        frame = self.collector.frame(self.tz)
        self.report.utc_offsets.update(self.collector.offsets)
        named = [*self.collector.context, *(lane.context if lane is not None else [])]
        fast = lane.take_frames() if lane is not None else []
        if fast:
            # in line order first: merging keeps the order, and which mention is the earliest
            # does not depend on it (merge_by_request_id sorts its candidates by line)
            frame = merge_by_request_id(in_line_order(frame, fast), prints_out=self.prints)
            del fast
            release_memory()
        if named:  # of the rows that are still events after the merges
            self.report.context = only_lines(concat_context(named), frame["line"].to_numpy())
        frame = tidy_categories(frame)  # here: in each worker of a parallel parse
        self._summarise(frame)
        return frame

    def _run_streams(
        self, chunk: str, streams: list[str | None], grouper: RecordGrouper, lane: FastLane
    ) -> None:
        """A chunk of several streams' lines (a multiplexer's): the runs that group as a plain
        log's go through the fast lane, the rest through the grouper, per stream."""
        lines = chunk.split("\n")
        whole = chunk.endswith("\n")
        if whole:
            lines.pop()
        streams = streams[: len(lines)]
        for a, b, alike in grouper.pieces(lines, streams):
            text = "\n".join(lines[a:b])
            if whole or b < len(lines):
                text += "\n"
            if alike:
                for rec in grouper.enter_plain(streams[a:b]):
                    self.handle(rec)
                lane.run_chunk(text, grouper, self.collector, self.handle)
            else:
                for rec in grouper.feed(text, streams=streams[a:b]):
                    self.handle(rec)

    def _summarise(self, frame: pd.DataFrame) -> None:
        r = self.report
        r.count_events(frame)
        if r.lines_read and not r.events and not r.unparsed and r.problem is None:
            r.problem = (
                f"{self.source.name}: no DashScope API calls found in {r.lines_read} lines;"
                " is this a log of an application that calls DashScope?"
            )


def _has_fence(text: str) -> bool:
    """``text`` has a Markdown fence line (```)."""
    return text.startswith("```") or "\n```" in text


def _decide_grouping(grouper: RecordGrouper, chunk: str) -> bool:
    """Make the grouper's timestamped-or-not decision from the file's first lines, as it would
    itself; False while the file has shown too few lines to decide."""
    if grouper.timestamped is not None:
        return True
    if grouper.line_no or chunk.count("\n", 0, 1 << 20) < SAMPLE_LINES:
        return False
    grouper.timestamped = looks_timestamped(chunk.split("\n", SAMPLE_LINES)[:SAMPLE_LINES])
    return True


def load_events(
    sources: Any,
    *,
    tz: str = DEFAULT_TZ,
    format: str | None = None,
    progress: ProgressFn | None = None,
    workers: int | None = None,
) -> tuple[pd.DataFrame, IngestReport]:
    """Parse ``sources`` into the events frame and the ingest report.

    ``workers``: processes for big plain files (default: all cores; 1 = this process only).
    The events are the same whatever the number (byte ranges are cut where records start).

    ``sources``: a path, directory, glob, ``-`` (stdin), bytes, a ``(name, bytes)`` pair, or a list
    of these. Raises ``SourceError`` when a named source does not exist; a file that exists but
    cannot be read is reported in ``report.problems`` and the others are still parsed.
    """
    from ingest.parallel import parse_in_parallel, splittable

    formats = (get_format(format),) if format else registry()
    srcs = list(iter_sources(sources))
    total = sum(s.size or 0 for s in srcs)
    done = 0

    def on_bytes(n: int) -> None:
        nonlocal done
        done += n
        if progress is not None:
            progress(min(done, total), total)

    report = IngestReport()
    frames = []
    for src in srcs:
        with roomy_heap():
            if workers != 1 and splittable(src):
                frame, file_report = parse_in_parallel(src, formats, tz, workers, on_bytes)
            else:
                parser = FileParser(src, formats, tz)
                frame, file_report = parser.run(on_bytes), parser.report
        report.files.append(file_report)
        if len(frame):
            frames.append(frame)
        del frame  # the list holds it: no second reference to keep its columns alive
    if not frames:
        return empty_events(), report
    # each file's frame is tidy (FileParser.run, parse_in_parallel), and so their union
    events = concat_events(frames, consume=True)
    frames.clear()
    release_memory()  # the files' own frames are gone: give their memory back before sorting
    order = _time_order(events)
    if order is not None:
        events = sort_in_place(events, order)
    release_memory()
    return events, report


def _time_order(events: pd.DataFrame) -> Any:
    """The order of the rows by time (no time last), then source name, then line; None when
    they are in that order already (the usual case for one log: sorting would copy it all)."""
    stamps = events["timestamp"].array.asi8  # NaT is the int64 minimum
    sources = events["source"].cat.codes.to_numpy()
    lines = events["line"].to_numpy()
    if len(stamps) < 2:
        return None
    if stamps[0] != np.iinfo(np.int64).min and len(events["source"].cat.categories) == 1:
        # one file whose times never go back (a NaT after a time would): then only rows of
        # the same time must be in line order
        later = stamps[1:] >= stamps[:-1]
        if later.all():
            ties = np.flatnonzero(stamps[1:] == stamps[:-1])
            if (lines[ties + 1] >= lines[ties]).all():
                return None
    stamps = stamps.copy()
    stamps[stamps == np.iinfo(np.int64).min] = np.iinfo(np.int64).max
    same_time = stamps[1:] == stamps[:-1]
    same_source = sources[1:] == sources[:-1]
    in_order = (stamps[1:] > stamps[:-1]) | (
        same_time & ((sources[1:] > sources[:-1]) | (same_source & (lines[1:] >= lines[:-1])))
    )
    if in_order.all():
        return None
    return np.lexsort((lines, sources, stamps))


#: glibc mallopt parameters (malloc.h)
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3


_roomy_depth = [0]  # roomy_heap()s open now


@contextmanager
def roomy_heap() -> Iterator[None]:
    """Keep freed memory in the C heap for reuse while a big parse runs.

    By default glibc gives every block of more than a few MB its own mmap and unmaps it when
    freed, so the next chunk's buffers (8 MB of text, its bytes, its template, the lane's
    columns) are fresh pages again: a page fault per 4 KB, a third of the CPU time of a 1 GB
    parse on this VM (sys 4.4 s of 13.8 s for jsonl; 2.4 s with this). release_memory()
    still returns the memory between the steps of load_events; afterwards glibc's default
    thresholds are set again (fixed ones: it no longer adapts them itself).

    Nested uses (a parallel parse in load_events, each byte range in it) leave the settings
    to the outermost: an inner one that set the defaults back on its way out left the next
    range and the merge with a fixed 128 KB mmap threshold, which unmaps every array of more
    than 16 k rows when freed (3,600 page faults per chunk's timestamps; 3.9x slower).
    """
    libc = _libc()
    if libc is None:
        yield
        return
    if _roomy_depth[0] == 0:
        libc.mallopt(_M_MMAP_THRESHOLD, 256 << 20)
        libc.mallopt(_M_TRIM_THRESHOLD, 1 << 30)
    _roomy_depth[0] += 1
    try:
        yield
    finally:
        _roomy_depth[0] -= 1
        if _roomy_depth[0] == 0:
            libc.mallopt(_M_MMAP_THRESHOLD, 128 << 10)
            libc.mallopt(_M_TRIM_THRESHOLD, 128 << 10)


def _libc() -> Any:
    import ctypes

    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt  # noqa: B018 (glibc only)
    except (OSError, AttributeError):
        return None
    return libc


def release_memory() -> None:
    """Return freed memory to the system (Arrow's pool and the C heap keep it otherwise), so
    that the peak of one big parse is not carried into the next step."""
    import contextlib
    import ctypes

    import pyarrow as pa

    pa.default_memory_pool().release_unused()
    with contextlib.suppress(OSError, AttributeError):  # not glibc
        ctypes.CDLL("libc.so.6").malloc_trim(0)
