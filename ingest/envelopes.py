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
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
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
    lines = chunk if envelope is None else envelope.unwrap(chunk)
    return strip_terminal_codes(lines, carets=carets)


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

    def unwrap_line(self, line: str) -> str | None:
        """The application's line, or None when ``line`` is not in this envelope."""
        if self.prefix is not None:
            m = self.prefix.match(line)
            if m is None:
                return None
            return _with_time(line[m.end() :], m.group("time"))
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
        return _with_time(text, to_iso(obj.get(self.time)))

    def unwrap(self, chunk: str) -> str:
        """Every line of ``chunk`` unwrapped (a line not in the envelope is kept as it is)."""
        lines = chunk.split("\n")
        out = []
        for line in lines:
            inner = self.unwrap_line(line) if line else None
            out.append(line if inner is None else inner)
        return "\n".join(out)


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
    return Envelope(
        name=raw["name"],
        description=raw.get("description", ""),
        payload=raw.get("payload", ""),
        time=raw.get("time", ""),
        requires=tuple(raw.get("requires", ())),
        prefix=re.compile(prefix) if prefix else None,
    )


@lru_cache(maxsize=1)
def envelopes() -> tuple[Envelope, ...]:
    """The envelopes of ``formats/envelopes.toml``, each sample checked."""
    data = tomllib.loads(ENVELOPES_FILE.read_text(encoding="utf-8"))
    out = []
    for raw in data["envelope"]:
        env = _envelope(raw)
        if not env.prefix and not (env.payload and env.requires):
            raise EnvelopeError(
                f"envelopes.toml {env.name}: needs `prefix`, or `payload`+`requires`"
            )
        got = env.unwrap_line(raw["sample"])
        if got != raw["expect"]:
            raise EnvelopeError(f"envelopes.toml {env.name}: sample unwraps to {got!r}")
        out.append(env)
    return tuple(out)


def detect(chunk: str) -> Envelope | None:
    """The envelope every one of the first non-blank lines of ``chunk`` is in, or None."""
    head = [ln for ln in chunk.split("\n", DECIDE_LINES * 2)[: DECIDE_LINES * 2] if ln.strip()]
    head = head[:DECIDE_LINES]
    if not head or not (head[0].startswith("{") or head[0][:1].isdigit()):
        return None
    for env in envelopes():
        if all(env.unwrap_line(line) is not None for line in head):
            return env
    return None
