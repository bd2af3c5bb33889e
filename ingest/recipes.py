"""Recipes: how to cut the event out of a log line (or record) by position.

A log repeats a handful of statements; their lines differ only in digits and hex ids. A byte
translation that maps every digit and hex letter to ``0`` keeps positions, so it gives each line
a *template*: lines of one template have the same length and the same text around the same
variable spans. From two lines of a template and the events the real matcher made of them,
``recipe_from`` finds where each raw field sits (the same place in both); ``cut_one`` then makes
the raw event of any other line of the template without running the matcher. Used by
``ingest.fastlane``, which checks every recipe against the slow path before trusting it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from ingest.catalog import Catalogue
from ingest.normalize import normalize
from ingest.timestamps import ARROW_ISO, looks_iso

TEMPLATE = bytes.maketrans(b"0123456789abcdefABCDEF", b"0" * 22)
#: fields of a raw event that say which format spoke, not what the line says
FORMAT_KEYS = frozenset({"format", "role", "error", "success", "shape"})
#: the timestamp parts as to_utc_raw reads them (its own pattern, compiled for Python)
ISO_PARTS = re.compile(ARROW_ISO)


@dataclass(frozen=True)
class Span:
    offset: Any  # an int; one per line when recipes that differ only by place are stacked
    length: int


@dataclass(frozen=True)
class TsLayout:
    """Where the parts of an ISO-like timestamp sit inside the line."""

    # offsets in the line (ints; one per line when stacked, see Span)
    year: Any
    month: Any
    day: Any
    hour: Any
    minute: Any
    second: Any
    frac: Any
    frac_len: int
    zone: Any  # -1: naive; else the offset of "Z" or of the sign
    zone_kind: str  # "", "Z", "+hh:mm", "+hhmm"


@dataclass(frozen=True)
class Recipe:
    """How to turn every line of one template into its event, by position."""

    role: str  # "detail", "transport", "retry" or "ignore"
    constants: tuple[tuple[str, Any], ...] = ()
    fields: tuple[tuple[str, Span, bool], ...] = ()  # raw key, span, value was an int
    rid: Span | None = None
    model: Span | None = None
    ts: TsLayout | None = None
    ts_span: Span | None = None  # the timestamp as written (for records cut one at a time)

    def outcome_key(self) -> tuple[Any, ...]:
        """What decides the outcomes, without the places of the spans: recipes alike but for
        the length of some number before a field are normalized together."""
        return (
            self.role,
            self.constants,
            tuple((key, span.length, is_int) for key, span, is_int in self.fields),
        )


IGNORE = Recipe("ignore")
POSITIONS = ("year", "month", "day", "hour", "minute", "second", "frac", "zone")


def cut_one(recipe: Recipe, data: bytes, text: str) -> dict[str, Any]:
    """The raw event of one record (bytes ``data``) by its recipe, as the matcher gives it."""
    raw: dict[str, Any] = dict(recipe.constants)
    for key, span, is_int in recipe.fields:
        value = data[span.offset : span.offset + span.length].decode("utf-8")
        raw[key] = int(value) if is_int else value
    for key, where in (("request_id", recipe.rid), ("model", recipe.model), ("ts", recipe.ts_span)):
        if where is not None:
            raw[key] = data[where.offset : where.offset + where.length].decode("utf-8")
    if recipe.rid is not None and set(raw["request_id"]) == {"0"}:
        raw["request_id"] = None  # the placeholder test _Rows._ids applies
    raw["shape"] = text[:160]
    return raw


def recipe_from(
    raw_a: dict[str, Any], line_a: bytes, raw_b: dict[str, Any], line_b: bytes, cat: Catalogue
) -> Recipe | None:
    """Spans of the raw fields, the same in both example lines, or None."""
    role = raw_a.get("role", "detail")
    if role not in ("detail", "transport", "retry") or raw_a.get("status_from_class"):
        return None
    if set(raw_a) != set(raw_b):
        return None
    constants: list[tuple[str, Any]] = []
    fields: list[tuple[str, Span, bool]] = []
    rid: Span | None = None
    model: Span | None = None
    ts: TsLayout | None = None
    ts_span: Span | None = None
    for key in sorted(raw_a):
        va, vb = raw_a[key], raw_b[key]
        if key in FORMAT_KEYS or isinstance(va, bool) or va is None or va == "":
            if key == "shape":
                continue
            if va != vb:
                return None
            constants.append((key, va))
            continue
        if not isinstance(va, str | int) or type(va) is not type(vb):
            return None
        span = _span(str(va), line_a, str(vb), line_b)
        if span is None:
            return None
        if key == "ts":
            ts, ts_span = _ts_layout(str(va), span), span
            if ts is None:
                return None
        elif key == "request_id":
            rid = _rid_span(raw_a, span, cat)
            if rid is None:
                return None
        elif key == "model":
            model = span
        else:
            fields.append((key, span, isinstance(va, int)))
    if ts is None:
        return None  # a line without its own time inherits one: the slow path knows which
    return Recipe(role, tuple(constants), tuple(fields), rid, model, ts, ts_span)


def _span(va: str, line_a: bytes, vb: str, line_b: bytes) -> Span | None:
    """The place of ``va`` in ``line_a`` where ``line_b`` holds ``vb``."""
    needle_a, needle_b = va.encode("utf-8"), vb.encode("utf-8")
    if len(needle_a) != len(needle_b):
        return None
    start = line_a.find(needle_a)
    while start != -1:
        if line_b[start : start + len(needle_b)] == needle_b:
            return Span(start, len(needle_a))
        start = line_a.find(needle_a, start + 1)
    return None


def _rid_span(raw: dict[str, Any], span: Span, cat: Catalogue) -> Span | None:
    """The part of the raw request id that normalization keeps (``chatcmpl-`` and quotes off)."""
    rid = str(raw["request_id"])
    ev = normalize({"request_id": rid, "format": raw.get("format")}, cat)
    kept = ev.get("request_id")
    if kept is None:
        return None
    at = rid.encode("utf-8").find(kept.encode("utf-8"))
    if at < 0 or kept != kept.strip() or not kept.isascii():
        return None
    return Span(span.offset + at, len(kept.encode("utf-8")))


def _ts_layout(ts: str, span: Span) -> TsLayout | None:
    m = ISO_PARTS.match(ts)
    if m is None or not looks_iso(ts) or not ts.isascii():
        return None
    base = span.offset
    d, t = m.start("d") + base, m.start("t") + base
    frac = m.start("f") + base if m.group("f") else -1
    zone_text = m.group("z") or ""
    zone = m.start("z") + base if zone_text else -1
    kind = (
        ""
        if not zone_text
        else "Z"
        if zone_text == "Z"
        else ("+hh:mm" if ":" in zone_text else "+hhmm")
    )
    return TsLayout(
        year=d,
        month=d + 5,
        day=d + 8,
        hour=t,
        minute=t + 3,
        second=t + 6,
        frac=frac,
        frac_len=len(m.group("f") or ""),
        zone=zone,
        zone_kind=kind,
    )


def first_layout(lay: TsLayout) -> TsLayout:
    """The layout of the first line (a stacked layout holds one offset per line)."""
    first = {p: int(np.ravel(getattr(lay, p))[0]) for p in POSITIONS}
    return TsLayout(**first, frac_len=lay.frac_len, zone_kind=lay.zone_kind)


def relative(lay: TsLayout) -> tuple[Any, ...]:
    """A layout without its place in the line."""
    y = lay.year
    return (
        lay.month - y,
        lay.day - y,
        lay.hour - y,
        lay.minute - y,
        lay.second - y,
        lay.frac - y if lay.frac >= 0 else -1,
        lay.frac_len,
        lay.zone - y if lay.zone >= 0 else -1,
        lay.zone_kind,
    )
