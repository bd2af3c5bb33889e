"""Unwrap the envelopes log shippers put around an application's lines (read -> **unwrap** ->
group -> match).

Logs collected from containers or a log service are rarely the application's own lines: docker
writes ``{"log": "<line>\\n", "stream": ..., "time": ...}``, containerd ``<time> stderr F
<line>``, an SLS export ``{"__time__": ..., "content": "<line>"}``. The formats are written for
the lines themselves (an httpx status line inside a JSON string has its quotes escaped), so a
file in an envelope is unwrapped first, one line for one line: line numbers still point into
the file. The envelopes are data (``formats/envelopes.toml``), each checked by its sample.

The decision is made once per file (or byte range) from its first lines: every one of them must
be in the envelope; other files cost nothing. A line keeps its own timestamp; a line without one
gets the envelope's, unless it continues a record (a traceback's frames must stay continuations).

A multiplexer (docker compose, honcho, kubectl --prefix, stern, grep) merges several streams and
its prefix names each line's stream: unwrap_streams gives the streams too, and the grouper keeps
a record in progress per stream (ingest.records), so that interleaved tracebacks stay whole.
"""

from __future__ import annotations

import csv
import io
import re
import tomllib
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from itertools import pairwise
from pathlib import Path
from typing import Any

import orjson

from ingest.records import CONTINUATION, EXCEPTION_LINE, LEADING_TS
from ingest.timestamps import to_iso

ENVELOPES_FILE = Path(__file__).parent / "formats" / "envelopes.toml"
#: lines looked at to decide (all non-blank ones among them must be in the envelope)
DECIDE_LINES = 20


#: terminal colour and cursor codes (loguru, rich, colorlog, Spring Boot's ANSI output), raw or
#: as ``cat -v`` shows them (^[[31m): no part of the text, but in front of a line's timestamp
#: they hide it from the grouper
_TERMINAL_CODES = re.compile(
    r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[@-Z\\-_])"
    r"|\^\[\[[0-?]*[ -/]*[@-~]"  # the caret form: colour codes only ("^[A-Z]" is a regex)
)


def strip_terminal_codes(text: str, *, carets: bool = True) -> str:
    """``text`` without terminal escape sequences (nothing to do, and no copy, without any).

    ``carets=False``: the caller knows there is no ``^[[`` form (a file decides on its first
    chunk): a search for ESC is memchr (0.07 ms per 8 MB), one for "^[[" 2-5 ms, and Python
    3.11 tracebacks are full of "^"."""
    if "\x1b" not in text and not (carets and "^" in text and "^[[" in text):
        return text
    return _TERMINAL_CODES.sub("", text)


def application_text(chunk: str, envelope: Envelope | None, *, carets: bool = True) -> str:
    """The application's own lines of ``chunk``: out of their envelope, without terminal
    codes (what the grouper and the matchers read; ``carets`` as for strip_terminal_codes)."""
    return application_lines(chunk, envelope, carets=carets)[0]


def application_lines(
    chunk: str, envelope: Envelope | None, *, carets: bool = True
) -> tuple[str, list[str | None] | None]:
    """application_text, and the stream each line came from when the envelope names one (a
    multiplexer's prefix: a compose service, a pod's container, a grep'd file), else None."""
    if envelope is None:
        return strip_terminal_codes(chunk, carets=carets), None
    if envelope.prefix is not None:
        # a multiplexer colours its prefix (compose, honcho, stern): the codes go first, or
        # they hide the prefix
        text, streams = envelope.unwrap_streams(strip_terminal_codes(chunk, carets=carets))
        return text, streams
    return strip_terminal_codes(envelope.unwrap(chunk), carets=carets), None


class EnvelopeError(ValueError):
    """An envelope definition that is malformed or whose sample does not hold."""


@dataclass(frozen=True)
class Envelope:
    name: str
    description: str
    payload: str = ""  # JSON envelopes: the field holding the line
    time: str = ""  # JSON envelopes: the field holding the envelope's time
    requires: tuple[str, ...] = ()
    prefix: re.Pattern[str] | None = None  # prefix envelopes
    #: the envelope's own lines, which carry no application line (journalctl's "-- Boot ... --")
    skip: re.Pattern[str] | None = None
    csv: bool = False  # a CSV download: `payload` and `time` name columns of its header row
    #: a pretty-printed JSON document (one key a line): `payload` and `time` name keys of its
    #: entries, `requires` keys that must be among the first lines
    document: bool = False
    time_format: str = ""  # strptime format of an envelope time to_iso does not read
    #: prefix envelopes whose `stream` group is weak evidence (two lowercase words): the
    #: first lines must show a stream again (a multiplexer's streams each write many lines)
    streams_repeat: bool = False
    #: prefix envelopes: the zone of a prefix time written without one (`aws logs tail
    #: --format short` prints UTC as a bare "%Y-%m-%dT%H:%M:%S")
    time_zone: str = ""
    #: prefix envelopes whose prefix alone is weak evidence (a bare ISO time): one of the
    #: first lines must hold the application's own time (or a JSON object) after it
    inner_time: bool = False
    #: prefix envelopes with an `n` group (grep -n's line number): the first lines' numbers
    #: go up (a time-only "10:11:12" or a date's "2026-" does not)
    numbers_increase: bool = False

    @property
    def has_streams(self) -> bool:
        """The prefix names the stream each line came from (records are grouped per stream)."""
        return self.prefix is not None and "stream" in self.prefix.groupindex

    def unwrap_line(self, line: str) -> str | None:
        """The application's line, or None when ``line`` is not in this envelope ("" for a
        line of the envelope's own: it stays, blank, so line numbers still point into the file)."""
        if self.skip is not None and self.skip.match(line):
            return ""
        if self.prefix is not None:
            m = self.prefix.match(line)
            if m is None:
                return None
            return _with_time(line[m.end() :], self._time(m))
        if not line.startswith("{"):
            return None
        try:
            obj = orjson.loads(line)
        except orjson.JSONDecodeError:
            return None
        if not isinstance(obj, dict) or not all(k in obj for k in self.requires):
            return None
        payload = obj.get(self.payload)
        if not isinstance(payload, str):
            return None
        # one line for one line: a payload's own line breaks become spaces
        text = payload.rstrip("\r\n").replace("\r", " ").replace("\n", " ")
        return _with_time(text, self.time_of(obj.get(self.time)))

    def _time(self, m: re.Match[str]) -> str | None:
        """The time a prefix wrote (None when it writes none)."""
        time = m.groupdict().get("time")
        return time + self.time_zone if time and self.time_zone else time

    def time_of(self, value: Any) -> str | None:
        """The envelope's time as ISO 8601 (``time_format`` when to_iso cannot read it)."""
        iso = to_iso(value)
        if iso is None and self.time_format and isinstance(value, str):
            try:
                iso = datetime.strptime(value.strip(), self.time_format).isoformat()
            except ValueError:
                return None
        return iso

    def unwrap(self, chunk: str) -> str:
        """Every line of ``chunk`` unwrapped (a line not in the envelope is kept as it is)."""
        if self.document:
            return _unwrap_document(self, chunk)
        if self.prefix is not None:
            return self.unwrap_streams(chunk)[0]
        lines = chunk.split("\n")
        out = []
        for line in lines:
            inner = self.unwrap_line(line) if line else None
            out.append(line if inner is None else inner)
        return "\n".join(out)

    def unwrap_streams(self, chunk: str) -> tuple[str, list[str | None] | None]:
        """A prefix envelope's unwrap, and each line's stream when the prefix names one (None
        for a line without: blank, the envelope's own, or not in the envelope)."""
        assert self.prefix is not None
        match, skip = self.prefix.match, self.skip
        named = self.has_streams
        streams: list[str | None] | None = [] if named else None
        out = []
        for line in chunk.split("\n"):
            stream = None
            inner = line
            if skip is not None and skip.match(line):
                inner = ""
            elif line and (m := match(line)) is not None:
                inner = _with_time(line[m.end() :], self._time(m))
                if named:
                    stream = m.group("stream")
            out.append(inner)
            if streams is not None:
                streams.append(stream)
        return "\n".join(out), streams


def _with_time(text: str, time: str | None) -> str:
    """A traceback's lines (frames, and the exception line that ends it) stay without a time,
    so that they continue their record as they do in the plain log."""
    if time is None or not text or LEADING_TS.match(text):
        return text
    if CONTINUATION.match(text) or EXCEPTION_LINE.match(text):
        return text
    return f"{time} {text}"


def _envelope(raw: dict[str, Any]) -> Envelope:
    prefix = raw.get("prefix")
    skip = raw.get("skip")
    return Envelope(
        name=raw["name"],
        description=raw.get("description", ""),
        payload=raw.get("payload", ""),
        time=raw.get("time", ""),
        requires=tuple(raw.get("requires", ())),
        prefix=re.compile(prefix) if prefix else None,
        skip=re.compile(skip) if skip else None,
        csv=bool(raw.get("csv", False)),
        document=bool(raw.get("document", False)),
        time_format=raw.get("time_format", ""),
        streams_repeat=bool(raw.get("streams_repeat", False)),
        time_zone=raw.get("time_zone", ""),
        inner_time=bool(raw.get("inner_time", False)),
        numbers_increase=bool(raw.get("numbers_increase", False)),
    )


@lru_cache(maxsize=1)
def envelopes() -> tuple[Envelope, ...]:
    """The envelopes of ``formats/envelopes.toml``, each sample checked."""
    data = tomllib.loads(ENVELOPES_FILE.read_text(encoding="utf-8"))
    out = []
    for raw in data["envelope"]:
        env = _envelope(raw)
        if env.csv and not (env.payload and env.time and env.requires):
            raise EnvelopeError(f"envelopes.toml {env.name}: needs `payload`, `time`, `requires`")
        if not env.prefix and not (env.payload and env.requires):
            raise EnvelopeError(
                f"envelopes.toml {env.name}: needs `prefix`, or `payload`+`requires`"
            )
        got: str | None
        if env.document:  # the sample is a whole document
            lines = raw["sample"].split("\n")
            if JsonDocument.of(env, lines) is None:
                raise EnvelopeError(f"envelopes.toml {env.name}: sample is not detected")
            got = "\n".join(ln for ln in env.unwrap(raw["sample"]).split("\n") if ln.strip())
        elif env.csv:  # the sample is the header row, then a row
            header, _, row = raw["sample"].partition("\n")
            table = CsvExport.of(env, header)
            got = table.unwrap_line(row) if table is not None else None
        else:
            got = env.unwrap_line(raw["sample"])
            if "stream" in raw:  # the stream the prefix names
                m = env.prefix.match(raw["sample"]) if env.prefix is not None else None
                stream = m.groupdict().get("stream") if m is not None else None
                if stream != raw["stream"]:
                    raise EnvelopeError(f"envelopes.toml {env.name}: sample's stream is {stream!r}")
        if got != raw["expect"]:
            raise EnvelopeError(f"envelopes.toml {env.name}: sample unwraps to {got!r}")
        for line in raw.get("skipped", ()):
            if env.unwrap_line(line) != "":
                raise EnvelopeError(f"envelopes.toml {env.name}: {line!r} is not skipped")
        out.append(env)
    return tuple(out)


def detect(chunk: str) -> Envelope | None:
    """The envelope every one of the first non-blank lines of ``chunk`` is in, or None."""
    head = [ln for ln in chunk.split("\n", DECIDE_LINES * 2)[: DECIDE_LINES * 2] if ln.strip()]
    head = head[:DECIDE_LINES]
    if not head:
        return None
    if head[0].strip() in ("{", "["):  # a pretty-printed JSON document
        return JsonDocument.detect(head)
    if head[0][:1] in ("[", "\x1b") or head[0][:20].isspace():
        # a console layout; a byte range of one (ingest.parallel) may open on any of its rows
        layout = ConsoleLayout.detect([strip_terminal_codes(line, carets=False) for line in head])
        if layout is not None:
            return layout
    if not head[0].startswith("{") and "," in head[0]:
        table = CsvExport.detect(head)
        if table is not None:
            return table
    # a multiplexer's prefix may be coloured (compose, honcho, stern): decided without codes
    plain = [strip_terminal_codes(line) for line in head]
    for env in envelopes():
        if env.csv or env.document:
            continue
        lines = plain if env.prefix is not None else head
        if all(env.unwrap_line(line) is not None for line in lines) and _evidence(env, lines):
            return env
    return None


def _evidence(env: Envelope, lines: list[str]) -> bool:
    """The first lines show what a weak prefix alone does not. ``streams_repeat``: a stream
    name at least twice (a multiplexer's streams write many lines; an application's first two
    words differ from line to line). ``inner_time``: an application's own time (or a JSON
    object) after the prefix on some line (an application that writes a bare ISO time and
    then its message has no second time). ``numbers_increase``: the line numbers a prefix
    writes go up from line to line (grep -n's do; the hours of a time-only log repeat)."""
    if env.prefix is None:
        return True
    found = [m for m in map(env.prefix.match, lines) if m is not None]
    if not any(m.end() for m in found):
        return False  # no line with the prefix itself (journald's indented lines alone)
    if env.numbers_increase:
        numbers = [int(m.group("n")) for m in found]
        if len(numbers) < 2 or any(b <= a for a, b in pairwise(numbers)):
            return False
    if env.streams_repeat and len(lines) > 1:
        streams = [m.group("stream") for m in found]
        if len(set(streams)) == len(streams):
            return False
    if env.inner_time:
        rests = (m.string[m.end() :] for m in found)
        return any(LEADING_TS.match(rest) or rest.startswith("{") for rest in rests)
    return True


# ---------------------------------------------------------------------------------------------
# A CSV download of a log console (Alibaba Cloud SLS, Kibana): a header row names the columns,
# each row is one log entry, the line in one column (quoted, its quotes doubled) and the time in
# another. An entry collected as several lines (a traceback) is one quoted field over several
# rows of the file: each of its lines goes back on the row it was on.


@dataclass(frozen=True)
class CsvExport(Envelope):
    """A CSV envelope of one file: the columns its header row gave (``payload``/``time`` of
    the declaration are column names)."""

    header: str = ""
    columns: tuple[str, ...] = ()
    #: a quoted field left open at the end of a chunk, carried to the next
    state: dict[str, bool] = field(default_factory=dict, compare=False, hash=False)

    @classmethod
    def of(cls, env: Envelope, header: str) -> CsvExport | None:
        """``env`` for a file whose header row is ``header``, or None when it lacks a column."""
        header = header.lstrip("\ufeff").rstrip("\r")
        columns = tuple(c.strip() for c in _csv_row(header))
        if not all(c in columns for c in env.requires):
            return None
        return cls(
            name=env.name,
            description=env.description,
            payload=env.payload,
            time=env.time,
            requires=env.requires,
            csv=True,
            time_format=env.time_format,
            header=header,
            columns=columns,
        )

    @classmethod
    def detect(cls, head: list[str]) -> CsvExport | None:
        """The CSV envelope whose columns ``head[0]`` names, when every row below is a row of
        it (or a line of a field that goes on over rows)."""
        for env in envelopes():
            table = cls.of(env, head[0]) if env.csv else None
            if table is not None and len(head) > 1 and table._all_rows(head[1:]):
                return table
        return None

    def _all_rows(self, lines: list[str]) -> bool:
        inside = False  # in a quoted field that goes on over rows
        for line in lines:
            odd = line.count('"') % 2 == 1
            if not inside and not odd and self.unwrap_line(line) is None:
                return False
            inside = inside != odd
        return True

    def unwrap_line(self, line: str) -> str | None:
        line = line.rstrip("\r")
        if line.lstrip("\ufeff") == self.header:
            return ""
        fields = _csv_row(line)
        if len(fields) != len(self.columns):
            return None
        row = dict(zip(self.columns, fields, strict=True))
        text = row[self.payload].rstrip("\r\n").replace("\r", " ").replace("\n", " ")
        return _with_time(text, self.time_of(row[self.time]))

    def unwrap(self, chunk: str) -> str:
        lines = chunk.split("\n")
        out = list(lines)
        i = 0
        if self.state.pop("open", False):
            # the rest of a field a chunk boundary cut: kept as it is, up to the row's end
            while i < len(lines):
                closes = lines[i].count('"') % 2 == 1
                i += 1
                if closes:
                    break
            else:
                self.state["open"] = True
                return chunk
        while i < len(lines):
            line = lines[i]
            if line.count('"') % 2 == 0:  # a row on one line
                inner = self.unwrap_line(line) if line else None
                if inner is not None:
                    out[i] = inner
                i += 1
                continue
            j = i + 1  # a quoted field goes on: gather the rows up to where it closes
            while j < len(lines) and lines[j].count('"') % 2 == 0:
                j += 1
            if j == len(lines):  # not closed in this chunk: left as it is
                self.state["open"] = True
                break
            self._rows(lines, i, j + 1, out)
            i = j + 1
        return "\n".join(out)

    def _rows(self, lines: list[str], start: int, end: int, out: list[str]) -> None:
        """Rows ``start``..``end`` - 1, one entry: its lines back on the rows they were on."""
        fields = _csv_row("\n".join(ln.rstrip("\r") for ln in lines[start:end]))
        if len(fields) != len(self.columns):
            return
        row = dict(zip(self.columns, fields, strict=True))
        parts = row[self.payload].rstrip("\n").split("\n")
        time = self.time_of(row[self.time])
        if len(parts) != end - start:  # another column spans rows: the line on the first one
            parts = [" ".join(parts)] + [" "] * (end - start - 1)
        out[start] = _with_time(parts[0].rstrip("\r"), time)
        out[start + 1 : end] = [p.rstrip("\r") for p in parts[1:]]


def _csv_row(text: str) -> list[str]:
    """The fields of one CSV row (``text`` may hold the line breaks of a quoted field)."""
    try:
        return next(csv.reader(io.StringIO(text, newline="")), [])
    except csv.Error:
        return []


# ---------------------------------------------------------------------------------------------
# A console layout: rich's RichHandler (Python CLIs, notebooks, logs pasted from a terminal)
# draws a table, not log lines: "[11/29/26 15:49:00] ERROR    <message>    file.py:59" with the
# time only when it changed (a blank time column below it), the message wrapped at its column
# (a token longer than the column folded without a hyphen), the caller in a right-hand column and
# a traceback drawn in a box with the exception line below it.

#: the first row of a record that writes its time: ``[%x %X]`` (the C locale's 11/29/26), the
#: level (padded to 8), the message from the column after it
_RICH_OPEN = re.compile(
    r"^\[(?P<date>\d{1,2}/\d{1,2}/\d{2}(?:\d{2})?) (?P<time>\d{1,2}:\d{2}:\d{2})\] "
    r"(?P<level>DEBUG|INFO|WARNING|ERROR|CRITICAL) +"
)
_RICH_LEVEL = re.compile(r"(?P<level>DEBUG|INFO|WARNING|ERROR|CRITICAL) +")
#: the caller column at the right edge of a record's first row
_RICH_CALLER = re.compile(r" {2,}(?P<caller>[\w.<>-]+:\d+)$")
_BOX = ("╭", "│", "╰", "┃", "┏", "┗")


@dataclass(frozen=True)
class ConsoleLayout(Envelope):
    """rich's RichHandler table undone, one line for one line (line numbers still point into
    the file): each record's first row becomes ``<date> <time> LEVEL <message>`` with the time
    it omitted filled in and its wrapped rows joined to it; the rows it took become a single
    space (an indented line: they stay in the record); a traceback box is dropped (its code
    and locals are no outcome) and the exception line below it is joined the same way."""

    time_col: int = 20
    msg_col: int = 29
    #: the last time written, carried from one chunk of the file to the next
    last: dict[str, str] = field(default_factory=dict, compare=False, hash=False)

    @classmethod
    def detect(cls, head: list[str]) -> ConsoleLayout | None:
        """The layout of ``head`` when one of its rows writes a time and all are its rows."""
        m = next((m for m in map(_RICH_OPEN.match, head) if m is not None), None)
        if m is None:
            return None
        layout = cls(
            name="rich-console",
            description="rich's RichHandler console layout",
            time_col=m.start("level"),
            msg_col=m.end(),
        )
        if all(layout._kind(line) is not None for line in head):
            return layout
        return None

    def _kind(self, line: str) -> str | None:
        """ "open" (a record's first row), "row" (a row of the message column), or None."""
        if _RICH_OPEN.match(line):
            return "open"
        if line[: self.time_col].strip():
            return None
        if _RICH_LEVEL.match(line, self.time_col):
            return "open"
        if not line[: self.msg_col].strip():
            return "row"
        return None

    def unwrap_line(self, line: str) -> str | None:
        return line if self._kind(line) is not None else None

    def unwrap(self, chunk: str) -> str:
        # a console's colours are in the way of the columns (a terminal capture, `script`)
        lines = strip_terminal_codes(chunk, carets=False).split("\n")
        out = list(lines)
        time: str | None = self.last.get("time")
        head = -1  # the output line a logical line is gathered on
        parts: list[str] = []
        width = 0  # the message column's width in this record (0: unknown)
        last = ""  # the last row joined
        boxed = False

        def close() -> None:
            if head >= 0:
                out[head] += "".join(parts)

        for i, line in enumerate(lines):
            m = _RICH_OPEN.match(line)
            kind = "open" if m else self._kind(line)
            if kind is None:
                close()
                head, parts, boxed = -1, [], False
                continue
            if kind == "open":
                close()
                if m is not None:
                    time = _rich_time(m.group("date"), m.group("time"))
                level = _RICH_LEVEL.match(line, self.time_col)
                assert level is not None
                body = line[level.end() :].rstrip()
                caller = _RICH_CALLER.search(body)
                width = 0
                if caller is not None:
                    body = body[: caller.start()].rstrip()
                    width = len(line.rstrip()) - self.msg_col - len(caller.group("caller")) - 1
                stamp = f"{time} " if time else ""
                out[i] = f"{stamp}{level.group('level')} "
                head, parts, last, boxed = i, [body], body, False
                continue
            text = line[self.msg_col :].rstrip()
            out[i] = " "
            if text[:1] in _BOX:
                boxed = True
                continue
            if boxed:
                # the exception line under a traceback's box: a line of the record of its own
                close()
                out[i] = ""
                head, parts, last, boxed = i, [text], text, False
                continue
            if head < 0:
                out[i] = line
                continue
            parts.append(("" if _folded(last, width) else " ") + text)
            last = text
        close()
        if time is not None:
            self.last["time"] = time
        return "\n".join(out)


def _folded(row: str, width: int) -> bool:
    """A row that fills the message column with one token was folded mid-token (rich folds a
    token longer than the column; a word that does not fit goes to the next row whole)."""
    return width > 0 and len(row) >= width and " " not in row


def _rich_time(date: str, clock: str) -> str:
    """``11/29/26`` (``%x`` in the C locale: month first; a first field over 12 is a day)."""
    a, b, c = (int(x) for x in date.split("/"))
    month, day = (b, a) if a > 12 else (a, b)
    year = c if c > 99 else 2000 + c
    hh, mm, ss = clock.split(":")
    return f"{year:04d}-{month:02d}-{day:02d} {int(hh):02d}:{mm}:{ss}"


# ---------------------------------------------------------------------------------------------
# A pretty-printed JSON document (`aws logs filter-log-events --output json`, `gcloud logging
# read --format=json`): one key a line, so the lines of an entry's payload key are the
# application's lines; every other line becomes a single space (an indented line: it stays in
# the record, as a traceback's lines in separate entries must).

_KEY_LINE = re.compile(r'^(?P<indent>\s*)"(?P<key>[^"\\]+)": (?P<value>.*?),?\s*$')
_BARE_OPEN = re.compile(r"^\s*\{\s*$")


class JsonDocument:
    """Detection of the document envelopes (they are Envelopes with ``document`` set)."""

    @staticmethod
    def of(env: Envelope, head: list[str]) -> Envelope | None:
        """``env`` when ``head`` (a document's first lines) has every key it requires."""
        keys = {m.group("key") for m in map(_KEY_LINE.match, head) if m is not None}
        return env if all(k in keys for k in env.requires) else None

    @staticmethod
    def detect(head: list[str]) -> Envelope | None:
        for env in envelopes():
            if env.document and JsonDocument.of(env, head) is not None:
                return env
        return None


def _unwrap_document(env: Envelope, chunk: str) -> str:
    lines = chunk.split("\n")
    out = [" " if ln.strip() else ln for ln in lines]
    at, text, time = -1, "", None  # the entry's payload (its line) and time
    indent: str | None = None  # of the entry's own keys (None: not known yet)

    def close() -> None:
        if at >= 0:
            out[at] = _with_time(text, time)

    for i, line in enumerate(lines):
        if _BARE_OPEN.match(line):  # an entry opens
            close()
            at, text, time, indent = -1, "", None, None
            continue
        m = _KEY_LINE.match(line)
        if m is None:
            continue
        if indent is None:
            indent = m.group("indent")
        key = m.group("key")
        if key == env.payload:  # at any depth (jsonPayload.message)
            value = _json_value(m.group("value"))
            if isinstance(value, str):
                at = i
                text = value.rstrip("\r\n").replace("\r", " ").replace("\n", " ")
        elif key == env.time and m.group("indent") == indent:
            time = env.time_of(_json_value(m.group("value")))
    close()
    return "\n".join(out)


def _json_value(text: str) -> Any:
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return None
