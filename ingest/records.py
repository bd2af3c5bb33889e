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

    def feed(self, text: str, *, final: bool = False) -> Iterator[Record]:
        lines = text.split("\n")
        if text.endswith("\n"):
            lines.pop()
        if self.timestamped is None:
            # decide on the first SAMPLE_LINES lines of the file, whatever the chunk sizes
            self._lookahead.extend(lines)
            if len(self._lookahead) < SAMPLE_LINES and not final:
                return
            lines, self._lookahead = self._lookahead, []
            self.timestamped = looks_timestamped(lines)
        yield from self._consume(lines)
        if final:
            yield from self.close()

    def close(self) -> Iterator[Record]:
        if self.timestamped is None:
            lines, self._lookahead = self._lookahead, []
            self.timestamped = looks_timestamped(lines)
            yield from self._consume(lines)
        rec = self._flush()
        if rec is not None:
            yield rec
