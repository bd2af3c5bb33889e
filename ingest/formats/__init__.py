"""The format registry: one TOML file per log format, each with mandatory sample records.

Like lnav's formats (../shared/reference/style.md): a format is data (a regex with named groups,
or the keys a structured body must have), and its samples are tests. At load time every sample
must produce the events it declares, through the same matcher and normalizer the pipeline uses;
a failure names the file, the sample and the field. Detection order is derived, not declared:
a format that also claims other formats' samples is more generic and is tried later.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

FORMATS_DIR = Path(__file__).parent
#: data files beside the formats that are not formats (key aliases, envelopes)
NOT_FORMATS = ("fields.toml", "envelopes.toml")
KINDS = ("regex", "object", "kv")
ROLES = ("detail", "transport", "retry")
_FLAGS = {"IGNORECASE": re.IGNORECASE, "DOTALL": re.DOTALL, "MULTILINE": re.MULTILINE}
_GROUPS = {"status", "code", "message", "request_id", "model", "ts", "cls", "url", "body"}


class FormatError(ValueError):
    """A format definition that is malformed or whose samples do not hold."""


@dataclass(frozen=True)
class Sample:
    text: str
    events: tuple[dict[str, Any], ...]  # expected fields of each event, in order


@dataclass(frozen=True)
class LogFormat:
    name: str
    description: str
    reference: str
    kind: str
    role: str
    triggers: tuple[str, ...]
    samples: tuple[Sample, ...]
    pattern: re.Pattern[str] | None = None
    requires: tuple[tuple[tuple[str, ...], ...], ...] = ()
    where: tuple[tuple[tuple[str, ...], str], ...] = ()
    prefix: re.Pattern[str] | None = None
    status_hint: re.Pattern[str] | None = None
    model_pattern: re.Pattern[str] | None = None
    url_pattern: re.Pattern[str] | None = None
    class_status: dict[str, int] = field(default_factory=dict)
    class_code: dict[str, str] = field(default_factory=dict)
    error: bool | None = None  # force is_error (e.g. task-failed frames)
    success: bool = False  # the format describes successful calls only
    guard: re.Pattern[str] | None = None  # must match the record for the format to apply
    exclude_words: tuple[str, ...] = ()  # none of these (any case) may appear in the record
    genericity: int = 0  # how many other formats' samples this one also claims


def _fail(path: Path, what: str) -> FormatError:
    return FormatError(f"{path.name}: {what}")


def _compile(path: Path, key: str, text: Any, flags: int = 0) -> re.Pattern[str]:
    if not isinstance(text, str):
        raise _fail(path, f"'{key}' must be a string (a regular expression)")
    try:
        return re.compile(text, flags)
    except re.error as exc:
        raise _fail(path, f"'{key}' is not a valid regular expression: {exc}") from exc


def _str(path: Path, data: dict[str, Any], key: str, default: str | None = None) -> str:
    value = data.get(key, default)
    if not isinstance(value, str) or not value:
        raise _fail(path, f"field '{key}' is missing or not a non-empty string")
    return value


def parse_format(path: Path, data: dict[str, Any]) -> LogFormat:
    """Validate one format definition (samples are checked later, with the matcher)."""
    name = _str(path, data, "name")
    if name != path.stem:
        raise _fail(path, f"'name' is {name!r} but the file is {path.stem!r}: make them equal")
    kind = _str(path, data, "kind")
    if kind not in KINDS:
        raise _fail(path, f"'kind' must be one of {', '.join(KINDS)}, not {kind!r}")
    role = data.get("role", "detail")
    if role not in ROLES:
        raise _fail(path, f"'role' must be one of {', '.join(ROLES)}, not {role!r}")
    triggers = data.get("triggers")
    if (
        not isinstance(triggers, list)
        or not triggers
        or not all(isinstance(t, str) and t for t in triggers)
    ):
        raise _fail(path, "'triggers' must be a non-empty list of literal substrings")
    flags = 0
    for f in data.get("flags", []):
        if f not in _FLAGS:
            raise _fail(path, f"unknown flag {f!r} (use {', '.join(_FLAGS)})")
        flags |= _FLAGS[f]
    pattern = None
    if kind == "regex":
        pattern = _compile(path, "pattern", data.get("pattern"), flags)
        unknown = set(pattern.groupindex) - _GROUPS
        if unknown:
            raise _fail(path, f"'pattern' has unknown named groups {sorted(unknown)}")
    requires: tuple[tuple[tuple[str, ...], ...], ...] = ()
    if kind in ("object", "kv"):
        raw_req = data.get("requires")
        if not isinstance(raw_req, list) or not raw_req:
            raise _fail(path, '\'requires\' must list key sets, e.g. [["status_code", "code"]]')
        requires = tuple(tuple(tuple(k.split(".")) for k in group) for group in raw_req)
    where = tuple((tuple(k.split(".")), str(v)) for k, v in data.get("where", {}).items())
    samples_raw = data.get("samples")
    if not isinstance(samples_raw, list) or not samples_raw:
        raise _fail(path, "a format needs at least one [[samples]] entry")
    samples = []
    for i, s in enumerate(samples_raw, 1):
        if not isinstance(s, dict) or not isinstance(s.get("text"), str):
            raise _fail(path, f"sample {i} needs a 'text' string")
        if "events" in s:
            events = tuple(dict(e) for e in s["events"])
        elif "expect" in s:
            events = (dict(s["expect"]),)
        else:
            raise _fail(path, f"sample {i} needs 'expect = {{...}}' or 'events = [...]'")
        samples.append(Sample(s["text"], events))
    return LogFormat(
        name=name,
        description=_str(path, data, "description"),
        reference=_str(path, data, "reference", "issue #3"),
        kind=kind,
        role=role,
        triggers=tuple(triggers),
        samples=tuple(samples),
        pattern=pattern,
        requires=requires,
        where=where,
        prefix=_compile(path, "prefix", data["prefix"]) if "prefix" in data else None,
        status_hint=(
            _compile(path, "status_hint", data["status_hint"]) if "status_hint" in data else None
        ),
        model_pattern=(
            _compile(path, "model_pattern", data["model_pattern"])
            if "model_pattern" in data
            else None
        ),
        url_pattern=(
            _compile(path, "url_pattern", data["url_pattern"]) if "url_pattern" in data else None
        ),
        class_status={str(k): int(v) for k, v in data.get("class_status", {}).items()},
        class_code={str(k): str(v) for k, v in data.get("class_code", {}).items()},
        error=data.get("error"),
        success=bool(data.get("success", False)),
        guard=_compile(path, "guard", data["guard"]) if "guard" in data else None,
        exclude_words=_words(path, data.get("exclude_words", [])),
    )


def _words(path: Path, words: Any) -> tuple[str, ...]:
    if not isinstance(words, list) or not all(isinstance(w, str) and w for w in words):
        raise _fail(path, "'exclude_words' must be a list of non-empty strings")
    return tuple(w.lower() for w in words)


def read_formats(directory: Path = FORMATS_DIR) -> list[LogFormat]:
    out = []
    for path in sorted(directory.glob("*.toml")):
        if path.name in NOT_FORMATS:
            continue
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise _fail(path, f"is not valid TOML: {exc}") from exc
        out.append(parse_format(path, data))
    return out


@lru_cache(maxsize=1)
def registry() -> tuple[LogFormat, ...]:
    """All formats, samples verified, most specific first."""
    from ingest.formats.check import check_and_order

    return tuple(check_and_order(read_formats()))


def get_format(name: str) -> LogFormat:
    for fmt in registry():
        if fmt.name == name:
            return fmt
    names = ", ".join(f.name for f in registry())
    raise FormatError(f"unknown format {name!r}; known formats: {names}")
