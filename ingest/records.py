"""Group physical lines into log records before matching.

A record is an opening line plus its continuation lines: Python tracebacks, Java stack traces,
LangChain's ``status_code: ... \\n code: ... \\n message: ...`` fields and terminal-wrapped JSON
(../shared/reference/client-log-formats.md, section 6.1). The principle: in a file whose lines
mostly start with a timestamp, a line that does not is a continuation of the record above; in a
file without timestamps, only indented lines and traceback markers continue a record. A record
without its own timestamp inherits the one of the last record that had one.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

#: month names as logs abbreviate them (syslog, the common log format; ingest.timestamps reads
#: them)
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_MONTH = "(?:" + "|".join(MONTHS) + ")"

#: a timestamp at the start of a line, optionally after a bracket or a level word (or a syslog
#: priority, RFC 5424 "<34>1 "): ISO-like; the common log format's 20/Nov/2026:10:00:05 +0800;
#: BSD syslog's "Nov 20 10:00:02" (/var/log/syslog, journalctl's default output); time only;
#: epoch seconds with a fraction (Python logging's %(created)f: "1795937475.393949 ERROR ...")
LEADING_TS = re.compile(
    r"""^(?:<\d{1,3}>\d?\ ?)?(?:\[?[A-Z]{3,8}\]?[ :]\s*)?\[?
    (?P<ts>
        \d{4}[-/]\d{2}[-/]\d{2}[T\ ]\d{1,2}:\d{2}:\d{2}(?:[.,]\d{1,9})*
        (?:\s?(?:Z|[+-]\d{2}:?\d{2}))?
      | \d{2}/"""
    + _MONTH
    + r"""/\d{4}:\d{2}:\d{2}:\d{2}(?:\ [+-]\d{4})?
      | """
    + _MONTH
    + r"""\ [\ \d]\d\ \d{2}:\d{2}:\d{2}(?:\.\d{1,6})?
      | \d{2}:\d{2}:\d{2}(?:[.,]\d{1,6})?
      | 1\d{9}\.\d{3,9}
    )""",
    re.VERBOSE,
)

#: besides digits, the first characters of a line LEADING_TS is tried on ("[", level words,
#: month names, a syslog priority)
OPENING_CHARS = "".join(dict.fromkeys("[IEWDFTC" + "".join(m[0] for m in MONTHS) + "<"))

#: lines that continue a record even in files without timestamps
CONTINUATION = re.compile(
    r"^(?:[ \t]|Traceback \(most recent call last\)|During handling of the above|"
    r"The above exception was|Caused by:|Suppressed:|\.\.\. \d+ (?:more|common)|"
    # Reactor's assembly trace under a 'Suppressed: ...OnAssemblyException:' (section 6.1)
    r"Error has been observed at the following site|Original Stack Trace:|"
    # the Chinese quick-start prints one field per line (client-log-formats.md section 1)
    r"(?:HTTP返回码|错误码|错误信息)[：:]|"
    # the "}" that closes an object opened above: Node's util.inspect of an error prints the
    # stack, then " {" after the last frame, the properties indented, and "}" at column 0
    # (console.error(err) of openai-node, the AI SDK; client-log-formats.md section 3)
    r"\}[\]}),;]*[ \t]*$)"
)
#: the last line of a Python traceback or a Java exception header after a stack
EXCEPTION_LINE = re.compile(r"^[A-Za-z_][\w.$]*(?:Error|Exception|Failure|Exit|Warning)\b")

_TRACE_STARTS = ("Traceback (most recent", "\tat ", "   at ", "Caused by")
_INDENTS = (" ", "\t")

MAX_RECORD_LINES = 400
#: lines a JSON object (or an HTML page) left open may continue over in a file without
#: timestamps (a hard-wrapped paste, a gateway's error page: client-log-formats.md sections 1, 2
#: and 6.1); ingest.fastlane leaves these lines alone
BRACE_LINES = 20
#: curl -i / -v output in a file without timestamps: an HTTP response's status line, headers, the
#: blank line and the body are one record (its x-request-id header names the request the body
#: tells of, client-log-formats.md sections 3 and 5); at most this many lines
HTTP_LINES = 60
HTTP_STATUS_LINE = re.compile(r"(?:< )?HTTP/\d(?:\.\d)? [1-5]\d\d\b")
_HTTP_HEADER = re.compile(r"[A-Za-z0-9][\w-]{0,80}: ")
MAX_RECORD_CHARS = 1 << 20
#: a stream (ingest.envelopes) whose record has had no line for this many lines of the file
#: is taken as done: its record is handed on, so that events come out near log order
IDLE_STREAM_LINES = 1000
#: lines of several streams that group as a plain log's are read by the fast lane in runs of
#: at least this many (RecordGrouper.pieces)
MIN_FAST_RUN = 2000

#: what a record in progress is, saved while another stream's lines are read
_State = tuple[list[str], int, "str | None", int, bool, "str | None", int, int, int, bool]
#: the RecordGrouper attributes that hold it, in _State's order
_STATE_FIELDS = (
    "_pending",
    "_pending_start",
    "_pending_ts",
    "_pending_chars",
    "_in_trace",
    "last_ts",
    "open_braces",
    "brace_left",
    "http_left",
    "_http_body",
)


@dataclass(slots=True)
class Record:
    """Lines ``first_line`` .. ``first_line + n_lines - 1`` of one file (1-based), joined."""

    first_line: int
    n_lines: int
    text: str
    ts: str | None  # the timestamp text of the record (own or inherited)
    own_ts: bool


def looks_timestamped(lines: list[str]) -> bool:
    """True when a third or more of the lines of a sample that could open a record start with
    a timestamp (stack frames and other indented lines never open one: a Java or .NET log of
    frequent failures is mostly stack frames, and still a timestamped log)."""
    sample = [ln for ln in lines[:400] if ln.strip() and not CONTINUATION.match(ln)]
    if not sample:
        return False
    hits = sum(1 for ln in sample if LEADING_TS.match(ln))
    return hits * 3 >= len(sample)


#: a log header that starts mid-line, after streamed output written without a newline
#: (client-log-formats.md section 7): a timestamp followed by a separator or a level word
EMBEDDED_TS = re.compile(
    r"(?P<ts>\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d{1,9})*(?:Z|[+-]\d{2}:?\d{2})?)"
    r"(?=\s*(?:[-|]\s|\[|(?:TRACE|DEBUG|INFO|WARN|WARNING|ERROR|FATAL|CRITICAL)\b))"
)
#: lines sampled before deciding whether a file is timestamped (same answer for any chunking)
SAMPLE_LINES = 400


class RecordGrouper:
    """Turns successive text chunks of one file into records, carrying state across chunks."""

    def __init__(self, timestamped: bool | None = None) -> None:
        self.line_no = 0  # lines consumed so far
        #: None: decide from the first SAMPLE_LINES lines; a byte range of a big file gets the
        #: decision made on the file's head, so every range groups records the same way
        self.timestamped: bool | None = timestamped
        self.last_ts: str | None = None
        self._lookahead: list[str] = []
        self._pending: list[str] = []
        self._pending_start = 0
        self._pending_ts: str | None = None
        self._pending_chars = 0
        self._in_trace = False
        #: files without timestamps: braces a line left open (the lines after it continue its
        #: record until they close, at most ``_brace_left`` more lines)
        self.open_braces = 0
        self.brace_left = 0
        #: files without timestamps: lines an HTTP response's head may still go on over, and
        #: whether its blank line came (the next line is its body)
        self.http_left = 0
        self._http_body = False
        #: streams (a multiplexer's prefix names them: ingest.envelopes): the stream whose
        #: record is the one above, the others' records in progress and where each was last
        self._stream: str | None = None
        self._others: dict[str | None, _State] = {}
        self._seen: dict[str | None, int] = {}
        self._lookahead_streams: list[str | None] = []

    def _flush(self) -> Record | None:
        if not self._pending:
            return None
        own = self._pending_ts is not None
        ts = self._pending_ts if own else self.last_ts
        rec = Record(self._pending_start, len(self._pending), "\n".join(self._pending), ts, own)
        self._pending = []
        self._pending_chars = 0
        self._pending_ts = None
        if own:
            self.last_ts = ts
        return rec

    def _is_continuation(self, line: str) -> bool:
        if not self._pending:
            return False
        if len(self._pending) >= MAX_RECORD_LINES or self._pending_chars >= MAX_RECORD_CHARS:
            return False
        if self.http_left > 0 and self._http_goes_on(line):
            return True
        if not line:
            # blank lines belong to a traceback in progress, end anything else
            return self._in_trace
        if CONTINUATION.match(line):
            return True
        if self._in_trace and EXCEPTION_LINE.match(line):
            return True
        if self.open_braces > 0:
            # a JSON object hard-wrapped by a terminal or an editor goes on (section 6.1)
            return True
        if (
            self._in_trace
            and self._pending[-1].endswith(": ")
            and EXCEPTION_LINE.match(self._pending[-1])
        ):
            # an exception whose str() starts with a line break (Qwen-Agent's ModelServiceError:
            # "\nError code: ..." section 4): its message is the next line
            return True
        if self.timestamped:
            # a line starting a JSON object is a record of its own (JSON lines mixed in)
            return not line.startswith("{")
        return False

    def flush(self) -> Iterator[Record]:
        """End the pending record here (the next line, read elsewhere, opens a record)."""
        rec = self._flush()
        if rec is not None:
            yield rec

    def skip(self, n_lines: int, last_ts: str | None) -> None:
        """``n_lines`` one-line records were parsed elsewhere (ingest.fastlane)."""
        self.line_no += n_lines
        if last_ts is not None:
            self.last_ts = last_ts
        self._in_trace = False
        self.open_braces = 0
        self.http_left = 0

    def opening_ts(self, line: str) -> str | None:
        return self._opening_ts(line)

    def _opening_ts(self, line: str) -> str | None:
        """The timestamp of a line that opens a record, or None."""
        first = line[:1]
        if first.isdigit() or first in OPENING_CHARS:
            m = LEADING_TS.match(line)
            if m:
                return m.group("ts")
        if self.timestamped and first and not first.isspace() and not self._in_trace:
            e = EMBEDDED_TS.search(line, 1, 400)
            if e:
                return e.group("ts")
        return None

    def _consume(self, lines: list[str]) -> Iterator[Record]:
        for raw in lines:
            line = raw[:-1] if raw.endswith("\r") else raw
            self.line_no += 1
            if (
                line[:1] in _INDENTS
                and self._pending
                and len(self._pending) < MAX_RECORD_LINES
                and self._pending_chars < MAX_RECORD_CHARS
            ):
                # an indented line (a stack frame, mostly) never opens a record and always
                # continues one: the checks below would say so, 3-4 times slower
                self._pending.append(line)
                self._pending_chars += len(line)
                if not self._in_trace and line.startswith(_TRACE_STARTS):
                    self._in_trace = True
                if self.timestamped is False:
                    self._count_braces(line, opens=False)
                continue
            ts = self._opening_ts(line)
            if ts is None and self._is_continuation(line):
                self._pending.append(line)
                self._pending_chars += len(line)
                if self.timestamped is False:
                    self._count_braces(line, opens=False)
                # a trace: Python's, Java's (tab), Node's (4 spaces), .NET's (3 spaces), or an
                # exception header (.NET and Java put the message, blank lines included, under it)
                if line.startswith(_TRACE_STARTS) or EXCEPTION_LINE.match(line):
                    self._in_trace = True
                continue
            rec = self._flush()
            if rec is not None:
                yield rec
            self._pending = [line]
            self._pending_start = self.line_no
            self._pending_chars = len(line)
            self._pending_ts = ts
            self._in_trace = line.startswith("Traceback (most recent")
            if self.timestamped is False:
                self._count_braces(line, opens=True)
                opens_http = line[:1] in "H<" and HTTP_STATUS_LINE.match(line) is not None
                self.http_left = HTTP_LINES if opens_http else 0
                self._http_body = False

    def _http_goes_on(self, line: str) -> bool:
        """An HTTP response's head goes on: a header line (curl -v writes '< ' before each),
        the blank line after the headers, then the body's first line."""
        self.http_left -= 1
        if self._http_body:
            self.http_left = 0
            return bool(line.strip())
        bare = line[1:].strip() if line.startswith("< ") or line.rstrip() == "<" else line
        if not bare.strip():
            self._http_body = True
            return True
        if _HTTP_HEADER.match(bare):
            return True
        self.http_left = 0
        return False

    def _count_braces(self, line: str, *, opens: bool) -> None:
        """Files without timestamps: a line (not itself a JSON line, which is whole) that
        opens more braces (or <html> elements) than it closes makes the next lines continue
        its record until they balance, a blank line comes, or BRACE_LINES lines have passed."""
        if not line:
            self.open_braces = 0
            return
        delta = line.count("{") - line.count("}")
        if "html" in line:  # a gateway's HTML error page is a body too (section 1)
            delta += line.count("<html") - line.count("</html>")
        if self.open_braces > 0 and not opens:
            self.open_braces += delta
            self.brace_left -= 1
            if self.brace_left <= 0:
                self.open_braces = 0
        elif delta > 0 and line[:1] not in "{[":
            self.open_braces, self.brace_left = delta, BRACE_LINES
        else:
            self.open_braces = 0

    def feed(
        self, text: str, *, final: bool = False, streams: list[str | None] | None = None
    ) -> Iterator[Record]:
        """Records of ``text``'s lines; ``streams``: the stream of each line (None: the one
        above), when a multiplexer's prefix names it. A record is then grouped within its own
        stream: a traceback of one service keeps its lines when another's come between them
        (client-log-formats.md section 6.1), and inherits the time of its stream's last
        record (section 6.10). A record's lines need not be adjacent then: ``first_line`` is
        its first, ``n_lines`` how many it has."""
        lines = text.split("\n")
        if text.endswith("\n"):
            lines.pop()
            if streams is not None:
                streams = streams[: len(lines)]
        if self.timestamped is None:
            # decide on the first SAMPLE_LINES lines of the file, whatever the chunk sizes
            self._lookahead.extend(lines)
            if streams is not None:
                self._lookahead_streams.extend(streams)
            if len(self._lookahead) < SAMPLE_LINES and not final:
                return
            lines, self._lookahead = self._lookahead, []
            if streams is not None:
                streams, self._lookahead_streams = self._lookahead_streams, []
            self.timestamped = looks_timestamped(lines)
        if streams is None:
            yield from self._consume(lines)
        else:
            yield from self._consume_streams(lines, streams)
        if final:
            yield from self.close()

    def close(self) -> Iterator[Record]:
        if self.timestamped is None:
            lines, self._lookahead = self._lookahead, []
            streams, self._lookahead_streams = self._lookahead_streams, []
            self.timestamped = looks_timestamped(lines)
            if streams:
                yield from self._consume_streams(lines, streams)
            else:
                yield from self._consume(lines)
        rec = self._flush()
        records = [rec] if rec is not None else []
        for key in list(self._others):
            records.extend(self._flush_other(key))
        yield from sorted(records, key=lambda r: r.first_line)

    # -- streams -----------------------------------------------------------------------------

    def _save(self) -> _State:
        return tuple(getattr(self, name) for name in _STATE_FIELDS)  # type: ignore[return-value]

    def _load(self, state: _State) -> None:
        for name, value in zip(_STATE_FIELDS, state, strict=True):
            setattr(self, name, value)

    def _enter(self, stream: str | None) -> None:
        """Make ``stream``'s record the one in progress (the current one is put aside)."""
        self._others[self._stream] = self._save()
        self._seen[self._stream] = self.line_no
        state = self._others.pop(stream, None)
        # a stream seen for the first time inherits the time of the line above it
        fresh: _State = ([], 0, None, 0, False, self.last_ts, 0, 0, 0, False)
        self._load(state if state is not None else fresh)
        self._stream = stream

    def _flush_other(self, key: str | None) -> Iterator[Record]:
        """The record in progress of the stream ``key`` (not the current one), handed on."""
        state = self._others.pop(key)
        if not state[0]:
            return
        current = self._save()
        self._load(state)
        rec = self._flush()
        self._others[key] = self._save()
        self._load(current)
        if rec is not None:
            yield rec

    def _consume_streams(self, lines: list[str], streams: list[str | None]) -> Iterator[Record]:
        i, n = 0, len(lines)
        while i < n:  # a run of lines of one stream (a line of none stays in the one above)
            stream = streams[i]
            if stream is not None and stream != self._stream:
                self._enter(stream)
            j = i + 1
            while j < n and (streams[j] is None or streams[j] == stream):
                j += 1
            yield from self._consume(lines[i:j])
            i = j
        for key, seen in list(self._seen.items()):
            if key in self._others and self.line_no - seen > IDLE_STREAM_LINES:
                yield from self._flush_other(key)
                del self._seen[key]

    def pieces(self, lines: list[str], streams: list[str | None]) -> list[tuple[int, int, bool]]:
        """``lines`` cut into runs [a, b) that group alike as a plain log's lines (True: the
        fast lane can read them) or only per stream (False).

        A run groups alike when every line in it where the stream changes opens a record with
        its own time: no line continues a record across a change of stream, the common case
        of streams that interleave whole records (each line timestamped, or a traceback
        written in one piece). A line that continues its stream's record after another
        stream's line puts that record, from its opening line, in a run read per stream."""
        last = self._stream
        opened: dict[str, int] = {}  # a stream's record in progress opened on this line
        windows: list[list[int]] = []
        for i, (line, stream) in enumerate(zip(lines, streams, strict=True)):
            if stream is None:
                continue
            first = line[:1]
            opens = (first.isdigit() or first in OPENING_CHARS) and LEADING_TS.match(line)
            if opens:
                opened[stream] = i
            elif stream != last:
                windows.append([opened.get(stream, 0), i])
            last = stream
        # windows may reach back over earlier ones, or touch: merged
        windows.sort()
        merged: list[list[int]] = []
        for start, end in windows:
            if merged and start <= merged[-1][1] + 1:
                merged[-1][1] = max(merged[-1][1], end)
            else:
                merged.append([start, end])
        out: list[tuple[int, int, bool]] = []
        at = 0
        for start, end in merged:
            if start > at:
                out.append((at, start, True))
            out.append((start, end + 1, False))
            at = end + 1
        if at < len(lines):
            out.append((at, len(lines), True))
        # a short run goes per stream too: a call of the fast lane costs milliseconds
        joined: list[tuple[int, int, bool]] = []
        for a, b, groups in out:
            alike = groups and (b - a >= MIN_FAST_RUN or len(out) == 1)
            if joined and not alike and not joined[-1][2]:
                joined[-1] = (joined[-1][0], b, False)
            else:
                joined.append((a, b, alike))
        return joined

    def enter_plain(self, streams: list[str | None]) -> list[Record]:
        """Before lines of ``streams`` are read as a plain log's (a run of ``pieces`` that
        groups alike): the records other streams have in progress end where their stream's
        next line opens one (in the run), so they are handed on (returned) first; the grouper
        is then in the stream of the run's last line."""
        present = {s for s in streams if s is not None}
        records = [
            rec
            for key in [k for k in present if k != self._stream and k in self._others]
            for rec in self._flush_other(key)
        ]
        last = next((s for s in reversed(streams) if s is not None), None)
        if last is not None:
            self._stream = last
        return sorted(records, key=lambda r: r.first_line)

    def alone_in(self, streams: list[str | None]) -> bool:
        """All of ``streams`` are one stream (or none), and no other stream has a record in
        progress: the lines can be read as a plain log's (ingest.fastlane). The grouper is
        then in that stream."""
        named = {s for s in streams if s is not None}
        if len(named) > 1:
            return False
        if named:
            (stream,) = named
            if stream != self._stream:
                self._enter(stream)
        return not any(state[0] for state in self._others.values())
