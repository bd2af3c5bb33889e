"""The fast lane: lines that one log statement writes a million times, parsed as columns.

../shared/reference/performance.md: "the cheapest byte is one never parsed in Python". Lines of
one template (``ingest.recipes``) differ only in digits and hex ids. For a template seen twice
in a chunk, the real matcher and normalizer parse its first and last line; when a recipe cut
from them gives back the slow path's events for both exactly, every line of the template is cut
by position with numpy and normalized once per distinct (status, code, message), never line by
line. Records the slow path still reads (tracebacks, retry notices) get the same treatment one
at a time (``FastLane.known``): the matcher reads two of a template, a recipe cuts the rest.

Everything the lane does not take goes the normal way, in line order, so the merge rules of
``ingest.events`` still hold:

- a line joins the fast lane only if it opens a record and the next line opens one too;
- a transport line (an httpx 200) only when the next line is the success it announces: the pair
  is one outcome with two mentions, as ``EventCollector`` absorbs it;
- no fast event within the collector's line window after a transport line still waiting to be
  absorbed (the slow path decides what that line belongs to);
- a request_id seen before is merged at the end (``merge_by_request_id``), as the collector
  merges a repeated mention: it never absorbs a transport line.

``tests/test_fastlane.py`` holds both ways to the same events on any mix of records.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import pairwise
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from ingest.catalog import Catalogue
from ingest.context import CONTEXT_FIELDS, context_table
from ingest.events import (
    FILLED_FIELDS,
    WINDOW_LINES,
    WINDOW_SECONDS,
    EventCollector,
    _plausible_date,
)
from ingest.lane_ids import RequestIds, ToldIds, is_in
from ingest.matcher import RecordMatcher
from ingest.normalize import clean_fields, normalize
from ingest.recipes import (
    IGNORE,
    POSITIONS,
    TEMPLATE,
    Recipe,
    Span,
    TsLayout,
    cut_one,
    first_layout,
    recipe_from,
    relative,
)
from ingest.records import (
    BRACE_LINES,
    CONTINUATION,
    EXCEPTION_LINE,
    HTTP_LINES,
    HTTP_STATUS_LINE,
    LEADING_TS,
    MAX_RECORD_LINES,
    OPENING_CHARS,
    Record,
    RecordGrouper,
)
from ingest.report import FileReport
from ingest.schema import EVENT_COLUMNS, EVENT_DTYPES, empty_events
from ingest.sources import AsciiText
from ingest.timestamps import PLAUSIBLE, looks_iso, normal_offset, to_utc_raw

Array = npt.NDArray[Any]

#: a template needs this many lines in a chunk before it is worth a recipe
MIN_LINES = 2
MAX_RECIPES = 20_000
#: longer records are read by the matcher every time (a template of megabytes is no key)
MAX_RECORDTEMPLATE = 64 << 10
_UNSEEN: Any = object()
_FIRST_TS_CHARS = frozenset(b"0123456789" + OPENING_CHARS.encode())
_NEITHER_CHARS = frozenset(b"0123456789{[")
_NEW_LINE = 10
_CR = 13
#: records.py's patterns, which RE2 accepts as they are (its \d and \w are ASCII only, so it
#: matches a subset of what Python matches: the lane may take fewer lines, never other ones)
_CONTINUATION_RE2 = CONTINUATION.pattern
#: a date and time anywhere: where records.EMBEDDED_TS may open a record mid-line (more lines
#: than it: RE2 has no look-ahead)
_DATE_TIME_RE2 = r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}"
_EXCEPTION_RE2 = EXCEPTION_LINE.pattern


def _leading_ts_re2() -> str:
    """records.LEADING_TS without its verbose layout (RE2 has no verbose flag): whitespace
    outside character classes dropped, escaped spaces kept."""
    out: list[str] = []
    in_class = escaped = False
    for ch in LEADING_TS.pattern:
        if escaped:
            out.append(ch)
            escaped = False
        elif ch == "\\":
            out.append(ch)
            escaped = True
        elif in_class:
            out.append(ch)
            in_class = ch != "]"
        elif ch == "[":
            out.append(ch)
            in_class = True
        elif not ch.isspace():
            out.append(ch)
    return "".join(out)


Group = list[tuple[Array, Recipe]]
#: EventCollector.knows_request_ids: ids (Arrow strings) and their is_error -> known or not
_Known = Callable[[Any, Array], Array]


def _grouped(items: Group, key: Callable[[Recipe], Any]) -> list[tuple[Array, Group]]:
    """Recipes (with their lines) grouped by ``key``; the lines of each group together."""
    groups: dict[Any, Group] = {}
    for members, recipe in items:
        groups.setdefault(key(recipe), []).append((members, recipe))
    return [(np.concatenate([m for m, _r in g]), g) for g in groups.values()]


def _span_length(name: str) -> Callable[[Recipe], int]:
    def length(recipe: Recipe) -> int:
        span: Span = getattr(recipe, name)
        return span.length

    return length


def _per_line(group: Group, values: list[Any]) -> Any:
    """The value of each recipe (``values``, in group order) for each of its lines (an int
    when the group has one recipe)."""
    if len(group) == 1:
        return values[0]
    return np.repeat(np.array(values, dtype=np.int64), [len(m) for m, _r in group])


@dataclass
class RecipeBook:
    """What a lane has learned: recipes by template, of lines and of records. Byte ranges of
    one file parsed by one process share it (ingest.parallel): the second range would learn
    the same templates again, 6-8% of its time."""

    recipes: dict[bytes, Recipe | None] = field(default_factory=dict)
    record_recipes: dict[bytes, Recipe | None] = field(default_factory=dict)
    #: the first record of a template, waiting for a second to learn from
    pending: dict[bytes, tuple[str, str | None]] = field(default_factory=dict)
    checked_layouts: set[tuple[str, Any]] = field(default_factory=set)


class FastLane:
    """Cuts the recipe-able lines of each chunk out of the slow path (see the module doc)."""

    def __init__(
        self,
        matcher: RecordMatcher,
        catalogue: Catalogue,
        *,
        tz: str,
        source: str,
        report: FileReport,
        looks_like_event: Callable[[str], bool],
        book: RecipeBook | None = None,
    ) -> None:
        self.matcher = matcher
        self.catalogue = catalogue
        self.tz = tz
        self.source = source
        self.report = report
        self.looks_like_event = looks_like_event
        self.book = book if book is not None else RecipeBook()
        self.recipes = self.book.recipes
        self.frames: list[pd.DataFrame] = []
        self.context: list[pd.DataFrame] = []  # API key / client host of error rows
        self.lines = 0  # lines this lane parsed (the rest went the slow way)
        self.records = 0  # records of the slow way cut by a recipe instead of the matcher
        self._lead = _leading_ts_re2()
        self.timestamped: bool | None = None
        self._checked_layouts = self.book.checked_layouts
        self.record_recipes = self.book.record_recipes
        self.pending = self.book.pending
        self.told = ToldIds(RequestIds(0), np.zeros(0, dtype=bool))  # this chunk's, for _tell

    # -- one chunk -------------------------------------------------------------------------------

    def run_chunk(
        self,
        text: str | AsciiText,
        grouper: RecordGrouper,
        collector: EventCollector,
        handle: Callable[[Record], None],
    ) -> None:
        """Parse ``text`` (whole lines; or an ASCII chunk as read): fast lines here, the rest
        through ``handle`` in order."""
        self.timestamped = grouper.timestamped
        collector.track_new_ids = True
        if isinstance(text, AsciiText):
            data, size = text.data, text.size
        else:
            data = text.encode("utf-8")
            size = len(data)
        lines = _Chunk(data, first_line=grouper.line_no + 1, size=size)
        if lines.n == 0:
            collector.remember_external(ToldIds(RequestIds(0), np.zeros(0, dtype=bool)))
            return
        # from here on a "line" of the chunk is a unit: a record of one line or, in a
        # timestamped log, of several (a traceback) whose grouping no earlier line can change
        carry = max(grouper.brace_left if grouper.open_braces > 0 else 0, grouper.http_left)
        chunk, fast = self._eligible(lines, bool(self.timestamped), carry)
        rows = self._rows(chunk, fast)
        self.told = ToldIds(rows.request_id, rows.is_error)
        collector.remember_external(self.told)
        fast &= rows.valid
        # a mention of a row without a time that the collector can still merge into goes the
        # slow way: merged there, the row takes the time of its next mention, in line order
        fast &= ~_held(rows, collector.untimed)
        # a failure without a request_id merges with the same failure told again by the next
        # record or the one before (EventCollector.add): the collector must see both
        fast &= ~(rows.is_error & (rows.kind == _K_DETAIL) & (rows.request_id.code < 0))
        fast = _pair(rows, fast, collector.knows_request_ids)
        self.told.expect_questions(chunk.n - int(fast.sum()))
        emitted = np.zeros(chunk.n, dtype=bool)
        # runs of lines that go the same way, found once; inside a fast run, lines may still be
        # demoted to the slow way (_window_cut), so the run is walked again from there
        flips = np.flatnonzero(np.diff(fast.astype(np.int8))) + 1
        edges = [0, *flips.tolist(), chunk.n]
        for a, b in pairwise(edges):
            i = a
            while i < b:
                local = fast[i:b]
                if not local[0]:
                    nxt = np.flatnonzero(local)
                    j = i + int(nxt[0]) if len(nxt) else b
                    for rec in grouper.feed(chunk.text(i, j)):
                        handle(rec)
                    i = j
                    continue
                stop = np.flatnonzero(~local)
                j = i + int(stop[0]) if len(stop) else b
                for rec in grouper.flush():
                    handle(rec)
                cut = self._window_cut(collector, chunk, rows, fast, span=(i, j))
                if cut == i:
                    continue  # the first lines now go the slow way
                emitted[i:cut] = True
                self._tell(rows, i, cut)
                skipped = int(chunk.n_lines[i:cut].sum())
                grouper.skip(skipped, self._last_own_ts(chunk, i, cut, grouper))
                if (rows.kind[i:cut] != _K_IGNORE).any():
                    collector.barrier()
                i = cut
        self._emit(chunk, rows, emitted)

    # -- which lines may go fast -----------------------------------------------------------------

    def _eligible(self, chunk: _Chunk, timestamped: bool, carry: int = 0) -> tuple[_Chunk, Array]:
        """The chunk's units and which may go fast: units that open a record whose next unit
        opens one too (a one-line record may also be followed by a blank line). ``carry``:
        lines a JSON object left open before the chunk may still continue over."""
        lines = chunk.arrow()
        first = chunk.first_bytes()
        blank = chunk.lengths() == 0
        if not timestamped:
            # a line that starts with "{", "[" or a digit (a JSON-lines log: all) can neither
            # continue a record nor be an exception line: the patterns are not run on it
            tried = np.flatnonzero(~blank & ~np.isin(first, list(_NEITHER_CHARS)))
            opens = ~blank
            for pattern in (_CONTINUATION_RE2, _EXCEPTION_RE2):
                opens[tried] &= ~_matches(lines, tried, pattern)
            opens &= ~_after_open_braces(lines, first, blank, carry)
            next_ok = np.ones(chunk.n, dtype=bool)
            next_ok[:-1] = opens[1:] | blank[1:]
            next_ok[-1] = False  # the next chunk's first line is unknown
            result: Array = opens & next_ok & ~blank
            return chunk, result
        # the pattern only where the first byte can begin it (on no line of a JSON-lines log)
        leading = np.isin(first, list(_FIRST_TS_CHARS))
        tried = np.flatnonzero(leading)
        tried = tried[~_iso_start(chunk, tried)]  # those surely open a record
        leading[tried] = _matches(lines, tried, self._lead)
        opens = leading | (first == ord("{"))
        units = chunk.grouped(np.flatnonzero(~_continues(chunk, lines, first, opens, blank)))
        at = units.first_index
        single = units.n_lines == 1
        next_ok = np.zeros(units.n, dtype=bool)
        next_ok[:-1] = opens[at[1:]] | (blank[at[1:]] & single[:-1])
        # a traceback may hold blank lines: after one, only an opener surely ends it
        whole = single | (chunk.text_ends[at] == chunk.ends[at])  # no CR inside the record
        whole &= (units.n_lines < MAX_RECORD_LINES) & (units.lengths() <= MAX_RECORDTEMPLATE)
        units_ok: Array = opens[at] & next_ok & whole
        return units, units_ok

    def _window_cut(
        self,
        collector: EventCollector,
        chunk: _Chunk,
        rows: _Rows,
        fast: Array,
        *,
        span: tuple[int, int],
    ) -> int:
        """End of the run [i, j) that no waiting transport line can reach; demotes the rest."""
        i, j = span
        fresh = collector.take_new_request_ids()
        if fresh:
            # a pair whose success repeats an id the slow path just saw goes the slow way too
            paired = np.flatnonzero(rows.paired[i:j]) + i
            if len(paired):
                rids = rows.request_id.python(paired)
                again = np.array([r in fresh for r in rids], dtype=bool)
                fast[paired[again]] = False
                fast[paired[again] - 1] = False
        if collector.untimed:  # rows without a time the slow way made since the chunk began
            untimed = collector.untimed
            rids = rows.request_id.python(np.arange(i, j))
            again = np.flatnonzero([r in untimed for r in rids]) + i
            fast[again] = False
            paired = again[rows.paired[again]]
            fast[paired - 1] = False
        waiting_any, waiting_ok = collector.waiting_transport_lines()
        if waiting_any is not None:
            lines = chunk.line_no[i:j]
            reach_any = lines <= waiting_any + WINDOW_LINES
            reach_ok = lines <= (waiting_ok if waiting_ok is not None else -1) + WINDOW_LINES
            errs = rows.is_error[i:j]
            is_detail = rows.kind[i:j] == _K_DETAIL
            hit = is_detail & np.where(errs, reach_any, reach_ok)
            # demote every reached event, and the transport line of a demoted pair
            hit_idx = np.flatnonzero(hit) + i
            fast[hit_idx] = False
            paired_t = hit_idx[rows.paired[hit_idx]] - 1
            fast[paired_t[paired_t >= 0]] = False
        # the run ends at its first demoted line, whatever demoted it
        stop = np.flatnonzero(~fast[i:j])
        return i + int(stop[0]) if len(stop) else j

    def _last_own_ts(self, chunk: _Chunk, i: int, j: int, grouper: RecordGrouper) -> str | None:
        for k in range(j - 1, max(i, j - 50) - 1, -1):
            # a unit's own time is on its first line (a date further down is not its own)
            ts = grouper.opening_ts(chunk.line(k).split("\n", 1)[0])
            if ts is not None:
                return ts
        return None

    # -- recipes ---------------------------------------------------------------------------------

    def _rows(self, chunk: _Chunk, fast: Array) -> _Rows:
        """Every eligible line of a template with a recipe, cut into event columns."""
        rows = _Rows(chunk.n)
        idx = np.flatnonzero(fast)
        if not len(idx):
            return rows
        codes, templates = chunk.templates(idx)
        # a radix sort for 16-bit numbers (numpy's stable sort of int64 merges: 1.5 ms a chunk)
        small = codes.astype(np.int16) if len(templates) < (1 << 15) else codes
        order = np.argsort(small, kind="stable")
        bounds = np.concatenate([[0], np.cumsum(np.bincount(codes, minlength=len(templates)))])
        # templates that differ only after their fields share a recipe: one pass for them all
        by_recipe: dict[Recipe, list[Array]] = {}
        for k, tmpl in enumerate(templates):
            if bounds[k] == bounds[k + 1]:
                continue
            members = idx[order[bounds[k] : bounds[k + 1]]]
            recipe = self._recipe(tmpl, chunk, members)
            if recipe is not None:
                by_recipe.setdefault(recipe, []).append(members)
        items = [(np.concatenate(parts), recipe) for recipe, parts in by_recipe.items()]
        rows.fill(self, chunk, items)
        return rows

    def _recipe(self, tmpl: bytes, chunk: _Chunk, members: Array) -> Recipe | None:
        if tmpl in self.recipes:
            return self.recipes[tmpl]
        if len(members) < MIN_LINES:
            return None
        examples = (int(members[0]), int(members[-1]))
        recipe = self._learn(chunk, examples)
        if recipe is not None and len(members) > 2:
            # a third line, from the middle, must agree too (cheap insurance for a template)
            middle = self._slow_event(chunk.line(int(members[len(members) // 2])))
            if middle is None or not self._agrees(recipe, *middle):
                recipe = None
        if len(self.recipes) >= MAX_RECIPES:
            self.recipes.clear()
        self.recipes[tmpl] = recipe
        return recipe

    def _slow_event(self, line: str) -> tuple[str, str | None] | None:
        """The record that one line makes on its own (text and time), as the grouper reads it."""
        recs = list(RecordGrouper(self.timestamped).feed(line + "\n", final=True))
        if len(recs) != 1:
            return None
        return recs[0].text, recs[0].ts

    def _learn(self, chunk: _Chunk, examples: tuple[int, int]) -> Recipe | None:
        """A recipe from two example lines, or None when they cannot be cut by position."""
        records = [self._slow_event(chunk.line(k)) for k in examples]
        if records[0] is None or records[1] is None:
            return None
        return self.learn(records[0], records[1])

    def learn(self, a: tuple[str, str | None], b: tuple[str, str | None]) -> Recipe | None:
        """A recipe from two records (text, time) of one template, or None."""
        parsed: list[tuple[dict[str, Any], bytes] | None] = []
        for text, ts in (a, b):
            raws = self.matcher.match(text, ts)
            if not raws:
                if self.looks_like_event(text):
                    return None
                parsed.append(None)
                continue
            if len(raws) != 1:
                return None
            parsed.append((raws[0], text.encode("utf-8")))
        first, last = parsed
        if first is None and last is None:
            return IGNORE
        if first is None or last is None:
            return None
        (raw_a, line_a), (raw_b, line_b) = first, last
        recipe = recipe_from(raw_a, line_a, raw_b, line_b, self.catalogue)
        if recipe is None:
            return None
        # the recipe must give back exactly what the slow path gives for both examples
        pair = _Chunk.of([line_a, line_b])
        check = _Rows(2)
        check.fill(self, pair, [(np.arange(2), recipe)])
        for pos, raw in enumerate((raw_a, raw_b)):
            want = self._expected(raw, recipe.ts)
            got = check.event(pos)
            if "timestamp" not in want:
                del got["timestamp"]
            if got != want:
                return None
            again = normalize(cut_one(recipe, pair.line_bytes(pos), ""), self.catalogue)
            if {c: _plain(again.get(c)) for c in _EVENT_FIELDS} != {
                c: want[c] for c in _EVENT_FIELDS
            }:
                return None
        self._checked_layouts.add((self.tz, recipe.ts and relative(recipe.ts)))
        return recipe

    def _agrees(self, recipe: Recipe, text: str, ts: str | None) -> bool:
        """The recipe gives the slow path's event for one more record of its template."""
        raws = self.matcher.match(text, ts)
        if recipe is IGNORE:
            return not raws and not self.looks_like_event(text)
        if len(raws) != 1:
            return False
        data = text.encode("utf-8")
        want = normalize(dict(raws[0]), self.catalogue)
        got = normalize(cut_one(recipe, data, text), self.catalogue)
        return all(_plain(got.get(c)) == _plain(want.get(c)) for c in (*_EVENT_FIELDS, "ts"))

    # -- records the slow path groups ------------------------------------------------------------

    def known(self, text: str, ts: str | None, own_ts: bool) -> Recipe | dict[str, Any] | None:
        """The raw event of a record whose template has a recipe (IGNORE for a record that is
        no event), or None: then the matcher reads it. Two records of a template teach it."""
        if not own_ts or len(text) > MAX_RECORDTEMPLATE:
            return None  # a record that inherits its time: the matcher needs the context
        data = text.encode("utf-8")
        tmpl = data.translate(TEMPLATE)
        recipe = self.record_recipes.get(tmpl, _UNSEEN)
        if recipe is _UNSEEN:
            first = self.pending.pop(tmpl, None)
            if first is None:
                if len(self.pending) >= MAX_RECIPES:
                    self.pending.clear()
                self.pending[tmpl] = (text, ts)
                return None
            recipe = self.learn(first, (text, ts))
            if len(self.record_recipes) >= MAX_RECIPES:
                self.record_recipes.clear()
            self.record_recipes[tmpl] = recipe
        if recipe is None or recipe is IGNORE:
            return recipe
        assert isinstance(recipe, Recipe)
        self.records += 1
        return cut_one(recipe, data, text)

    def _expected(self, raw: dict[str, Any], layout: TsLayout | None) -> dict[str, Any]:
        """The slow path's event for ``raw`` (the timestamp only the first time a layout of
        timestamps is seen: converting one value through pandas costs milliseconds)."""
        ev = normalize(dict(raw), self.catalogue)
        out = {c: _plain(ev.get(c)) for c in _EVENT_FIELDS}
        key = (self.tz, layout and relative(layout))
        if key not in self._checked_layouts:
            ts = ev.get("ts")
            ts = (ts if _plausible_date(ts) else None) if looks_iso(ts) else None
            stamp = to_utc_raw([ts], self.tz).iloc[0]
            out["timestamp"] = None if pd.isna(stamp) else stamp.value
        return out

    # -- output ----------------------------------------------------------------------------------

    def _emit(self, chunk: _Chunk, rows: _Rows, emitted: Array) -> None:
        n_lines = chunk.n_lines
        self.lines += int(n_lines[emitted].sum())
        ignored = emitted & (rows.kind == _K_IGNORE)
        self.report.ignored += int(n_lines[ignored].sum())
        events = emitted & (rows.kind != _K_IGNORE)
        if not events.any():
            return
        self.report.lines_in_events += int(n_lines[events].sum())
        fmt_of = rows.table("format")
        for k, count in _counts(rows.outcome[events]):
            self.report.formats[str(fmt_of[k])] += count
        # a transport line and the success that follows it are one outcome, and so are a
        # failed attempt's status line and the retry notice after it (the line of the first)
        keep = events & ~((rows.kind == _K_TRANSPORT) & ~rows.claimed) & (rows.kind != _K_RETRY)
        self.frames.append(rows.frame(chunk, keep, self.source))
        if rows.context is not None:
            self.context.append(rows.context)
        zones = rows.zone[keep & rows.valid]
        for k, count in _counts(zones[zones >= 0]):
            self.report.utc_offsets[rows.zones[k]] += count

    def _tell(self, rows: _Rows, i: int, j: int) -> None:
        """Let the collector know the ids of lines i..j-1 (see EventCollector.external)."""
        self.told.tell(i, j)

    def take_frames(self) -> list[pd.DataFrame]:
        """The lane's events: one frame per chunk, in line order (the lane keeps none)."""
        frames, self.frames = self.frames, []
        return frames


# ------------------------------------------------------------------------------------------------
_K_IGNORE, _K_DETAIL, _K_TRANSPORT, _K_RETRY = 1, 2, 3, 4  # 0: no recipe
_NO_TIME = np.iinfo(np.int64).min
_KINDS = {"ignore": _K_IGNORE, "detail": _K_DETAIL, "transport": _K_TRANSPORT, "retry": _K_RETRY}
#: the columns a recipe decides (time, source, line and mentions come from the lane)
_EVENT_FIELDS = (
    *(c for c in EVENT_COLUMNS if c not in ("timestamp", "source", "line", "mentions")),
    *CONTEXT_FIELDS,  # not columns: the report's side table (ingest.context)
)
#: the fields a transport line lends to the detail that absorbs it (ids and times apart)
_FILLED = tuple(k for k in FILLED_FIELDS if k not in ("request_id", "ts"))


def _plain(value: Any) -> Any:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    if isinstance(value, np.generic):
        return value.item()
    return value


def _continues(chunk: _Chunk, lines: Any, first: Array, opens: Array, blank: Array) -> Array:
    """Lines of a timestamped log that continue the record above, whatever came before them
    (records.RecordGrouper: no time they could open a record with, not blank, not a JSON
    object). A line that may not (a blank line, a CR, a date mid-line) starts a unit of its
    own, which the lane does not take."""
    indented = (first == ord(" ")) | (first == ord("\t"))
    cont: Array = ~opens & ~blank & (chunk.text_ends == chunk.ends)
    maybe = np.flatnonzero(cont & ~indented)  # EMBEDDED_TS could open a record there
    cont[maybe[_matches(lines, maybe, _DATE_TIME_RE2)]] = False
    cont[0] = False  # the record above may be the last chunk's
    return cont


#: "2026-11-20 10:00:02" or "2026-11-20T10:00:02" at the start of a line: records.LEADING_TS
#: matches every such line (all it may add after is optional)
_ISO_SHAPE = b"0000-00-00 00:00:00"


def _iso_start(chunk: _Chunk, at: Array) -> Array:
    """Which lines of ``at`` start with an ISO date and time (the usual opener of a
    timestamped log), told by comparing bytes: the pattern need not run on them."""
    out = np.zeros(len(at), dtype=bool)
    width = len(_ISO_SHAPE)
    room = np.flatnonzero(chunk.lengths()[at] >= width)
    if not len(room):
        return out
    block = chunk.block(at[room], Span(0, width))
    shape = np.frombuffer(_ISO_SHAPE, dtype=np.uint8)
    digit = shape == ord("0")
    fixed = ~digit & (shape != ord(" "))  # the separators "-" and ":"
    ok = ((block[:, digit] - ord("0")) <= 9).all(axis=1)  # uint8: below "0" wraps past 9
    ok &= (block[:, fixed] == shape[fixed]).all(axis=1)
    middle = block[:, 10]
    ok &= (middle == ord(" ")) | (middle == ord("T"))
    out[room] = ok
    return out


def _after_open_braces(lines: Any, first: Array, blank: Array, carry: int) -> Array:
    """Lines that may continue a record through braces a line above left open, or an HTTP
    response's head above
    (records.RecordGrouper._count_braces): the BRACE_LINES lines after any line that is no
    JSON line and opens more braces (or <html> elements) than it closes, and the first
    ``carry`` lines. More lines than the grouper joins (it stops where the braces balance):
    the lane takes fewer, never other ones. Only lines that do not start with "{" or "[" are
    counted (none in a JSON-lines log)."""
    import pyarrow.compute as pc

    out = np.zeros(len(first), dtype=bool)
    out[:carry] = True
    counted = np.flatnonzero(~blank & (first != ord("{")) & (first != ord("[")))
    if not len(counted):
        return out
    subset = lines if len(counted) == len(lines) else lines.take(counted)

    def count(what: str) -> Array:
        return np.asarray(pc.count_substring(subset, what).to_numpy(), dtype=np.int64)

    opened = count("{") + count("<html")
    closed = count("}") + count("</html>")
    for i in counted[opened > closed].tolist():
        out[i + 1 : i + 1 + BRACE_LINES] = True
    # and the HTTP_LINES lines after an HTTP status line (curl -i / -v: head and body are one
    # record)
    status = counted[(first[counted] == ord("H")) | (first[counted] == ord("<"))]
    if len(status):
        for i in status[_matches(lines, status, "^" + HTTP_STATUS_LINE.pattern)].tolist():
            out[i + 1 : i + 1 + HTTP_LINES] = True
    return out


def _matches(lines: Any, at: Array, pattern: str) -> Array:
    """Whether each of the lines ``at`` (Arrow strings of the chunk) matches ``pattern``: the
    pattern is run on those lines only."""
    import pyarrow.compute as pc

    if not len(at):
        return np.zeros(0, dtype=bool)
    subset = lines if len(at) == len(lines) else lines.take(at)
    return _np_mask(pc.match_substring_regex(subset, pattern))


def _np_mask(arr: Any) -> Array:
    return np.asarray(arr.fill_null(False).to_numpy(zero_copy_only=False), dtype=bool)


class _Chunk:
    """The lines of one chunk as offsets into its UTF-8 bytes."""

    def __init__(self, data: bytes, first_line: int, size: int | None = None) -> None:
        self.data = data  # the chunk's lines are its first ``size`` bytes
        self.size = len(data) if size is None else size
        self.buf = np.frombuffer(data, dtype=np.uint8, count=self.size)
        self.first_line = first_line
        nl = np.flatnonzero(self.buf == _NEW_LINE)
        last_nl = self.size and self.buf[-1] == _NEW_LINE
        ends = nl if last_nl else np.append(nl, self.size)
        self.n = len(ends)
        self.ends = ends.astype(np.int64, copy=False)  # the newline (or the end of the data)
        self.starts = np.empty(self.n, dtype=np.int64)
        self.starts[:1] = 0
        np.add(self.ends[:-1], 1, out=self.starts[1:])
        self.text_ends = self.ends
        if data.find(b"\r", 0, self.size) >= 0:
            # a line's text ends before a CR that precedes its newline (records.py strips it)
            cr = (self.ends > self.starts) & (self.buf[np.maximum(self.ends - 1, 0)] == _CR)
            self.text_ends = self.ends - cr
        self._lines_are_units()

    def _lines_are_units(self) -> None:
        self.n_lines = np.ones(self.n, dtype=np.int64)  # lines of each unit
        self.first_index = np.arange(self.n, dtype=np.int64)  # its first line in the chunk
        self.line_no = self.first_line + self.first_index  # its first line in the file

    def grouped(self, first: Array) -> _Chunk:
        """The same bytes as units of lines: each unit runs from a line in ``first`` (sorted,
        starting with 0) to the line before the next one."""
        if len(first) == self.n:
            return self
        units = _Chunk.__new__(_Chunk)
        units.data, units.buf, units.first_line = self.data, self.buf, self.first_line
        units.size = self.size
        last = np.append(first[1:], self.n) - 1
        units.n = len(first)
        units.starts = self.starts[first]
        units.ends = self.ends[last]
        units.text_ends = self.text_ends[last]
        units.n_lines = last - first + 1
        units.first_index = first.astype(np.int64)
        units.line_no = self.first_line + units.first_index
        return units

    @classmethod
    def of(cls, texts: list[bytes]) -> _Chunk:
        """A chunk whose units are ``texts`` (records that may span several lines)."""
        chunk = cls.__new__(cls)
        chunk.first_line = 1
        chunk.data = b"\n".join(texts) + b"\n"
        chunk.size = len(chunk.data)
        chunk.buf = np.frombuffer(chunk.data, dtype=np.uint8)
        lengths = np.array([len(t) for t in texts], dtype=np.int64)
        chunk.starts = np.concatenate([[0], np.cumsum(lengths + 1)[:-1]]).astype(np.int64)
        chunk.ends = chunk.text_ends = chunk.starts + lengths
        chunk.n = len(texts)
        chunk._lines_are_units()
        return chunk

    def lengths(self) -> Array:
        result: Array = self.text_ends - self.starts
        return result

    def first_bytes(self) -> Array:
        out = np.zeros(self.n, dtype=np.uint8)
        nonempty = self.lengths() > 0
        out[nonempty] = self.buf[self.starts[nonempty]]
        return out

    def arrow(self) -> Any:
        import pyarrow as pa

        offsets = np.append(self.starts, self.size).astype(np.int64)
        return pa.Array.from_buffers(
            pa.large_string(), self.n, [None, pa.py_buffer(offsets), pa.py_buffer(self.data)]
        )

    def line_bytes(self, k: int) -> bytes:
        return self.data[self.starts[k] : self.text_ends[k]]

    def line(self, k: int) -> str:
        return self.line_bytes(k).decode("utf-8")

    def text(self, i: int, j: int) -> str:
        """Lines i..j-1 with their newlines, as the slow path reads them."""
        end = self.ends[j - 1] + 1 if j > 0 else 0
        return self.data[self.starts[i] : end].decode("utf-8")

    def templates(self, idx: Array) -> tuple[Array, list[bytes]]:
        """For each line in ``idx``: the number of its template, and the templates."""
        import pyarrow as pa
        import pyarrow.compute as pc

        translated = self.data.translate(TEMPLATE)
        offsets = np.append(self.starts, self.size).astype(np.int64)
        arr = pa.Array.from_buffers(
            pa.large_binary(), self.n, [None, pa.py_buffer(offsets), pa.py_buffer(translated)]
        )
        enc = pc.dictionary_encode(arr)
        codes = np.asarray(enc.indices.to_numpy(zero_copy_only=False), dtype=np.int64)[idx]
        return codes, enc.dictionary.to_pylist()

    def block(self, idx: Array, span: Span) -> Array:
        """The bytes at ``span`` of each line in ``idx``, one row each."""
        if span.length == 0 or not len(self.buf):
            return np.zeros((len(idx), 0), dtype=np.uint8)
        # every offset of the buffer as one record of ``length`` bytes: a fancy index then
        # copies each line's bytes with one memcpy (a sliding_window_view copied them one
        # byte at a time, 3.5x slower)
        cells = np.ndarray(
            shape=(max(len(self.buf) - span.length + 1, 0),),
            dtype=f"V{span.length}",
            buffer=self.buf,
            strides=(1,),
        )
        rows: Array = cells[self.starts[idx] + span.offset]
        return rows.view(np.uint8).reshape(len(idx), span.length)

    def cut(self, idx: Array, span: Span) -> Array:
        """The bytes at ``span`` of each line in ``idx``, as a fixed-width bytes array."""
        if span.length == 0:
            return np.full(len(idx), b"", dtype="S1")
        result: Array = self.block(idx, span).view(f"S{span.length}").ravel()
        return result


class _Rows:
    """Per line of a chunk: the event its recipe makes (only where ``valid``).

    What normalization decides (status, code, message, category, ...) is stored once per
    distinct outcome in ``outcomes``; a line holds the number of its outcome, of its model in
    ``models``, its request id and its time.
    """

    def __init__(self, n: int) -> None:
        self.valid = np.zeros(n, dtype=bool)
        self.kind = np.zeros(n, dtype=np.int8)
        self.is_error = np.zeros(n, dtype=bool)
        self.paired = np.zeros(n, dtype=bool)  # a detail that absorbs the line before it
        self.claimed = np.zeros(n, dtype=bool)  # a failed attempt the next line retries
        self.ts = np.full(n, _NO_TIME, dtype=np.int64)  # ns UTC
        self.request_id = RequestIds(n)
        self.outcome = np.full(n, -1, dtype=np.int64)
        self.model = np.full(n, -1, dtype=np.int64)
        self.outcomes: list[dict[str, Any]] = []
        self.models: list[str | None] = []
        self.zone = np.full(n, -1, dtype=np.int64)
        self.zones: list[str] = []
        self.context: pd.DataFrame | None = None  # of the rows ``frame`` made (ingest.context)

    def event(self, k: int) -> dict[str, Any]:
        ts = int(self.ts[k])
        out: dict[str, Any] = {"timestamp": None if ts == _NO_TIME else ts}
        fields = self.outcomes[self.outcome[k]] if self.outcome[k] >= 0 else {}
        for c in _EVENT_FIELDS:
            out[c] = _plain(fields.get(c))
        out["request_id"] = self.request_id.get(k)
        out["model"] = self.models[self.model[k]] if self.model[k] >= 0 else None
        return out

    def table(self, column: str) -> Array:
        """``column`` of every outcome, indexable by ``self.outcome`` (-1: None)."""
        return np.array([*(_plain(o.get(column)) for o in self.outcomes), None], dtype=object)

    def fill(self, lane: FastLane, chunk: _Chunk, items: Group) -> None:
        """Cut the lines of each recipe; each kind of span is cut for all recipes at once."""
        for idx, group in _grouped(items, Recipe.outcome_key):
            self._outcomes(lane, chunk, idx, group)
        for name in ("rid", "model"):
            with_span = [(m, r) for m, r in items if getattr(r, name) is not None]
            for idx, group in _grouped(with_span, _span_length(name)):
                spans = [getattr(r, name) for _m, r in group]
                span = Span(_per_line(group, [sp.offset for sp in spans]), spans[0].length)
                if name == "rid":
                    self._ids(chunk, idx, span)
                else:
                    self._models(chunk, idx, span)
        timed = [(m, r) for m, r in items if r.ts is not None]
        for idx, group in _grouped(timed, lambda r: r.ts and relative(r.ts)):
            first = group[0][1].ts
            assert first is not None
            places = {p: _per_line(group, [getattr(r.ts, p) for _m, r in group]) for p in POSITIONS}
            layout = TsLayout(**places, frac_len=first.frac_len, zone_kind=first.zone_kind)
            self.ts[idx], zones = _timestamps(chunk, idx, layout, lane.tz)
            self._zones(idx, layout, zones)

    def _zones(self, idx: Array, layout: TsLayout, cut: Array | None) -> None:
        """The UTC offset each line's timestamp is written with (FileReport.utc_offsets):
        ``cut`` is the offsets' text (fixed-width bytes) where the layout has one."""
        if not layout.zone_kind:
            return
        if cut is None:  # "Z"
            texts, inverse = ["Z"], np.zeros(len(idx), dtype=np.int64)
        else:
            uniq, inverse, _firsts = _factorize(cut)
            texts = [u.decode("ascii", "replace") for u in uniq]
        base = len(self.zones)
        self.zones.extend(normal_offset(t) for t in texts)
        self.zone[idx] = base + inverse

    def _outcomes(self, lane: FastLane, chunk: _Chunk, idx: Array, group: Group) -> None:
        """Normalize once per distinct combination of the fields that are not per line."""
        recipe = group[0][1]
        self.valid[idx] = True
        self.kind[idx] = _KINDS[recipe.role]
        if recipe.role == "ignore":
            return
        blocks = [
            chunk.block(
                idx, Span(_per_line(group, [r.fields[k][1].offset for _m, r in group]), span.length)
            )
            for k, (_key, span, _is_int) in enumerate(recipe.fields)
        ]
        if blocks and sum(b.shape[1] for b in blocks):
            joined = np.hstack(blocks)
            keys = joined.view(f"S{joined.shape[1]}").ravel()
            _u, inverse, firsts = _factorize(keys)
        else:
            inverse = np.zeros(len(idx), dtype=np.int64)
            firsts = np.zeros(1, dtype=np.int64)
        base = len(self.outcomes)
        for first in firsts.tolist():
            raw: dict[str, Any] = dict(recipe.constants)
            for (key, _span, is_int), block in zip(recipe.fields, blocks, strict=True):
                value = block[first].tobytes().decode("utf-8")
                raw[key] = int(value) if is_int else value
            self.outcomes.append(normalize(raw, lane.catalogue))
        self.outcome[idx] = base + inverse
        errors = [bool(o.get("is_error")) for o in self.outcomes[base:]]
        self.is_error[idx] = np.array(errors, dtype=bool)[inverse]

    def _models(self, chunk: _Chunk, idx: Array, span: Span) -> None:
        uniq, inv, _firsts = _factorize(chunk.cut(idx, span))
        base = len(self.models)
        for m in uniq:
            self.models.append(clean_fields({"model": m.decode("utf-8")}, ("model",))["model"])
        self.model[idx] = base + inv

    def _ids(self, chunk: _Chunk, idx: Array, span: Span) -> None:
        rids = chunk.cut(idx, span)
        self.request_id.put(idx, rids, placeholder=rids == (b"0" * span.length))

    def _absorb(self, idx: Array, lent_idx: Array, *, its_time: bool) -> None:
        """Rows at ``idx`` take in the line at ``lent_idx`` (events.EventCollector): their empty
        fields come from it. ``its_time``: the row takes the time of that line when it has one
        (a detail absorbing the transport line before it; the caller moves its line number);
        else only when the row has none (a failed attempt claimed by the retry notice after
        it)."""
        uniq, inverse = _distinct_pairs(self.outcome[idx], self.outcome[lent_idx])
        base = len(self.outcomes)
        for own, lent in uniq:
            merged = dict(self.outcomes[own])
            for key in _FILLED:
                if merged.get(key) is None:
                    merged[key] = self.outcomes[lent].get(key)
            self.outcomes.append(merged)
        self.outcome[idx] = base + inverse
        self.model[idx] = np.where(self.model[idx] < 0, self.model[lent_idx], self.model[idx])
        rid = self.request_id.code
        rid[idx] = np.where(rid[idx] < 0, rid[lent_idx], rid[idx])
        lent_ts = self.ts[lent_idx]
        take = (lent_ts != _NO_TIME) if its_time else (self.ts[idx] == _NO_TIME)
        self.ts[idx] = np.where(take, lent_ts, self.ts[idx])
        self.zone[idx] = np.where(take, self.zone[lent_idx], self.zone[idx])

    def frame(self, chunk: _Chunk, keep: Array, source: str) -> pd.DataFrame:
        idx = np.flatnonzero(keep)
        if not len(idx):
            return empty_events()
        lines = chunk.line_no[idx]
        mentions = np.ones(len(idx), dtype=np.int32)
        paired = self.paired[idx]
        if paired.any():
            self._absorb(idx[paired], idx[paired] - 1, its_time=True)
            lines[paired] = chunk.line_no[idx[paired] - 1]
            mentions[paired] = 2
        claimed = self.claimed[idx]
        if claimed.any():
            self._absorb(idx[claimed], idx[claimed] + 1, its_time=False)
            mentions[claimed] = 2
        # int64 minimum is NaT: the nanoseconds are the column as they are
        stamps = pd.DatetimeIndex(self.ts[idx].view("M8[ns]")).tz_localize("UTC")
        outcome = self.outcome[idx]
        data: dict[str, Any] = {"timestamp": stamps}
        for col in EVENT_DTYPES:
            if col == "timestamp":
                continue
            if col == "request_id":
                data[col] = self.request_id.column(idx)
            elif col == "model":
                data[col] = _categorical(self.model[idx], self.models)
            elif col == "source":
                data[col] = _categorical(np.zeros(len(idx), dtype=np.int64), [source])
            elif col == "line":
                data[col] = lines.astype(np.int64)
            elif col == "mentions":
                data[col] = mentions
            elif col == "is_error":
                data[col] = self.is_error[idx]
            elif EVENT_DTYPES[col] == "category":
                data[col] = _categorical(outcome, self.table(col)[:-1].tolist())
            else:
                data[col] = _masked(self.table(col), outcome, EVENT_DTYPES[col])
        self.context = self._context(outcome, lines, source)
        return pd.DataFrame(data, copy=False)  # the columns are new: no second copy

    def _context(self, outcome: Array, lines: Array, source: str) -> pd.DataFrame | None:
        """The API key / client host of the error rows whose outcome names one."""
        named = np.array(
            [
                bool(o.get("is_error")) and any(o.get(f) for f in CONTEXT_FIELDS)
                for o in self.outcomes
            ]
            + [False],
            dtype=bool,
        )
        at = np.flatnonzero(named[outcome])
        if not len(at):
            return None
        keys, hosts = self.table("api_key"), self.table("client_host")
        return context_table(source, lines[at], keys[outcome[at]], hosts[outcome[at]])


def _factorize(keys: Array) -> tuple[list[bytes], Array, Array]:
    """The distinct values of a fixed-width bytes array (numpy "S<n>"), the number of each
    value's entry, and each entry's first position: a hash table (Arrow's dictionary_encode)
    where np.unique sorted the strings, 1.8x slower on a chunk's models or outcomes."""
    import pyarrow as pa
    import pyarrow.compute as pc

    width = keys.dtype.itemsize
    fixed = np.ascontiguousarray(keys)
    arr = pa.Array.from_buffers(pa.binary(width), len(fixed), [None, pa.py_buffer(fixed)])
    enc = pc.dictionary_encode(arr)
    inverse = np.asarray(enc.indices.to_numpy(zero_copy_only=False), dtype=np.int64)
    distinct = [v.rstrip(b"\0") for v in enc.dictionary.to_pylist()]  # as numpy's S reads
    firsts = np.zeros(len(distinct), dtype=np.int64)
    firsts[inverse[::-1]] = np.arange(len(inverse) - 1, -1, -1)  # the earliest is written last
    return distinct, inverse, firsts


def _masked(table: Array, codes: Array, dtype: str) -> Any:
    """``table[code]`` for each code as a nullable integer or boolean array."""
    missing = np.array([v is None for v in table.tolist()], dtype=bool)
    if dtype == "boolean":
        values = np.array([bool(v) for v in table.tolist()], dtype=bool)
        return pd.arrays.BooleanArray(values[codes], missing[codes])
    numbers = np.array([0 if v is None else int(v) for v in table.tolist()], dtype=dtype.lower())
    return pd.arrays.IntegerArray(numbers[codes], missing[codes])


def _categorical(codes: Array, table: list[Any]) -> pd.Categorical:
    """``table[code]`` for each code (-1 or a None entry: missing), with string categories
    like schema.coerce_events makes (sorted: the same few in every chunk make one dtype)."""
    texts = [None if value is None else str(value) for value in table]
    cats = sorted({t for t in texts if t is not None})
    number = {t: k for k, t in enumerate(cats)}
    table_codes = np.array([-1 if t is None else number[t] for t in texts] + [-1], dtype=np.int64)
    if len(cats) > _FEW_CATEGORIES:
        return pd.Categorical.from_codes(
            table_codes[codes], categories=pd.Index(cats, dtype="string"), validate=False
        )
    return pd.Categorical.from_codes(
        table_codes[codes], dtype=_dtype_of(tuple(cats)), validate=False
    )


_FEW_CATEGORIES = 64


@lru_cache(maxsize=1024)
def _dtype_of(categories: tuple[str, ...]) -> pd.CategoricalDtype:
    """The categorical dtype of a few string categories, made once (each chunk's frame has
    the same few models and outcomes: an Index and a dtype per column and chunk was 80 us)."""
    return pd.CategoricalDtype(pd.Index(list(categories), dtype="string"))


def _pair(rows: _Rows, fast: Array, known: _Known) -> Array:
    """Keep a fast transport line only when the next line is the success it announces, or
    the retry notice of its failed attempt (which claims it: events.EventCollector).

    Not when that success repeats a request_id seen before (in this chunk, or ``known`` to the
    collector): the collector merges a repeated mention into the first one without letting it
    absorb the transport line, which stays a call of its own. A retry notice goes fast only as
    the second line of such a pair: alone, it claims some earlier attempt."""
    n = len(fast)
    transport = fast & (rows.kind == _K_TRANSPORT)
    retry = fast & (rows.kind == _K_RETRY)
    t_idx = np.flatnonzero(transport)
    if not len(t_idx):
        alone: Array = fast & ~retry
        return alone
    d_idx = t_idx + 1
    inside = d_idx < n
    t_idx, d_idx = t_idx[inside], d_idx[inside]
    rid = rows.request_id
    t_ts, d_ts = rows.ts[t_idx], rows.ts[d_idx]
    far = (t_ts != _NO_TIME) & (d_ts != _NO_TIME) & (np.abs(t_ts - d_ts) > WINDOW_SECONDS * 1e9)
    ok = fast[d_idx] & (rows.kind[d_idx] == _K_DETAIL)
    success = ~rows.is_error[d_idx] & ~rows.is_error[t_idx]
    status = rows.table("logged_status")[rows.outcome[t_idx]]
    success &= np.array([s is not None and 200 <= s < 300 for s in status.tolist()], dtype=bool)
    # the error of a failed attempt (a traceback after its httpx line) absorbs its status line
    # when their statuses agree (EventCollector.compatible)
    ok &= success | (rows.is_error[d_idx] & _compatible(rows, t_idx, d_idx))
    ok &= (rid.code[t_idx] < 0) | (rid.code[d_idx] < 0) | rid.same(t_idx, d_idx)
    ok &= ~far
    ok &= ~_repeated(rows, d_idx, known)
    # without ids: an id would make the collector merge the line with an earlier mention
    retried = fast[d_idx] & (rows.kind[d_idx] == _K_RETRY) & rows.is_error[t_idx] & ~far
    retried &= (rid.code[t_idx] < 0) & (rid.code[d_idx] < 0)
    out: Array = fast & ~transport & ~retry
    out[t_idx[ok | retried]] = True
    out[d_idx[retried]] = True
    # a detail right after a transport line that goes the slow way may be absorbed by it
    lonely = t_idx[~ok & ~retried]
    out[lonely + 1] = False
    # ... and when that was the transport line of a pair, the pair goes the slow way whole
    broken = (ok | retried) & ~out[t_idx]
    out[d_idx[broken]] = False
    ok &= ~broken
    retried &= ~broken
    rows.paired[d_idx[ok]] = True
    rows.claimed[t_idx[retried]] = True
    return out


def _compatible(rows: _Rows, t_idx: Array, d_idx: Array) -> Array:
    """For each transport line and the detail after it: the collector lets the detail absorb
    it (decided once per pair of outcomes; the request ids are compared by the caller)."""
    if not len(t_idx):
        return np.zeros(0, dtype=bool)
    uniq, inverse = _distinct_pairs(rows.outcome[t_idx], rows.outcome[d_idx])
    verdicts = np.array(
        [
            t >= 0 and d >= 0 and EventCollector.compatible(rows.outcomes[t], rows.outcomes[d])
            for t, d in uniq
        ],
        dtype=bool,
    )
    result: Array = verdicts[inverse]
    return result


def _distinct_pairs(a: Array, b: Array) -> tuple[list[tuple[int, int]], Array]:
    """The distinct pairs (a[k], b[k]) of two arrays of outcome numbers (-1 or more), and
    the number of each k's pair: one hash of an int64 key. np.unique(axis=0) sorted the pairs
    as void records, a fifth of an openai traceback log's time."""
    width = int(b.max(initial=-1)) + 2
    codes, keys = pd.factorize((a + 1) * width + (b + 1))
    pairs = [(int(k // width) - 1, int(k % width) - 1) for k in keys.tolist()]
    return pairs, np.asarray(codes, dtype=np.int64)


def _counts(codes: Array) -> list[tuple[int, int]]:
    """(code, how many) of each code present in ``codes`` (numbers 0 or more)."""
    counts = np.bincount(codes)
    present = np.flatnonzero(counts)
    return list(zip(present.tolist(), counts[present].tolist(), strict=True))


def _held(rows: _Rows, held: set[str]) -> Array:
    """Lines whose request_id is one of ``held`` (usually none: then no ids are gathered)."""
    if not held:
        return np.zeros(len(rows.valid), dtype=bool)
    return is_in(rows.request_id.strings(np.arange(len(rows.valid))), list(held))


def _repeated(rows: _Rows, idx: Array, known: _Known) -> Array:
    """Lines of ``idx`` whose request_id an earlier line of the chunk (or the collector) has."""
    valid = np.flatnonzero(rows.valid)
    numbers, distinct = rows.request_id.numbers()
    codes = numbers[valid]
    first = np.full(distinct + 1, -1, dtype=np.int64)
    order = np.arange(len(valid))[::-1]
    first[codes[order]] = valid[order]  # the earliest line of each id wins (written last)
    pos = np.minimum(np.searchsorted(valid, idx), len(valid) - 1)
    code = np.where(rows.valid[idx], codes[pos], -1)
    earlier = (code >= 0) & (first[code] < idx)
    told = known(rows.request_id.strings(idx), rows.is_error[idx])
    result: Array = earlier | told
    return result


_DAYS_IN_MONTH = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int64)


def _timestamps(chunk: _Chunk, idx: Array, lay: TsLayout, tz: str) -> tuple[Array, Array | None]:
    """Epoch nanoseconds (UTC) of the timestamps at ``lay`` in each line, as to_utc_raw reads
    them (impossible or implausible times are the ``int64`` minimum: no time), and the text
    of their UTC offsets (fixed-width bytes, taken from the same cut; None without one)."""
    rel = relative(first_layout(lay))
    ends = [rel[5] + lay.frac_len if lay.frac_len else rel[4] + 2]
    if lay.zone_kind:
        ends.append(rel[7] + len(lay.zone_kind))
    # one contiguous row per character, as int32 (a date and a time of day fit): the digits
    # are then whole-row operations (a column of the line-by-line block is strided, and the
    # int64 copy of it was most of the time)
    block = chunk.block(idx, Span(lay.year, max(ends)))
    rows = np.ascontiguousarray(block.T).astype(np.int32) - 48

    def digits(at: int, width: int) -> Array:
        value: Array = rows[at]
        for k in range(1, width):
            value = value * 10 + rows[at + k]
        return value

    year = digits(0, 4)
    month, day, hour = digits(rel[0], 2), digits(rel[1], 2), digits(rel[2], 2)
    minute, second = digits(rel[3], 2), digits(rel[4], 2)
    leap = ((year % 4 == 0) & (year % 100 != 0)) | (year % 400 == 0)
    mdays = _DAYS_IN_MONTH[np.clip(month - 1, 0, 11)] + ((month == 2) & leap)
    valid = (month >= 1) & (month <= 12) & (day >= 1) & (day <= mdays)
    valid &= (hour < 24) & (minute < 60) & (second < 60)
    valid &= (year >= 1971) & (year < 2100)  # events._plausible_date
    date = (year * 100 + month) * 100 + day
    if len(date) and (date == date[0]).all():  # usually one day: its number is found once
        year, month, day = year[:1], month[:1], day[:1]
    # days from the civil date (H. Hinnant's algorithm)
    y = year - (month <= 2)
    era = y // 400
    yoe = y - era * 400
    mp = (month + 9) % 12
    doy = (153 * mp + 2) // 5 + day - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    days = era * 146097 + doe - 719468
    seconds = hour * 3600 + minute * 60 + second
    zones = None
    if lay.zone_kind in ("+hh:mm", "+hhmm"):
        sign = np.where(rows[rel[7]] == ord("-") - 48, -1, 1)
        zh = digits(rel[7] + 1, 2)
        zm = digits(rel[7] + (4 if lay.zone_kind == "+hh:mm" else 3), 2)
        seconds -= sign * (zh * 3600 + zm * 60)
        text = np.ascontiguousarray(block[:, rel[7] : rel[7] + len(lay.zone_kind)])
        zones = text.view(f"S{len(lay.zone_kind)}").ravel()  # their text, for the report
    ns = (days.astype(np.int64) * 86400 + seconds) * 1_000_000_000
    if lay.frac_len:
        width = min(lay.frac_len, 6)
        ns += digits(rel[5], width).astype(np.int64) * (10 ** (6 - width) * 1000)
    if lay.zone_kind == "":
        ns, valid = _localized(ns, valid, tz)
    low, high = PLAUSIBLE[0].value, PLAUSIBLE[1].value
    valid &= (ns >= low) & (ns < high)
    result: Array = np.where(valid, ns, _NO_TIME)
    return result, zones


_MINUTE_NS = 60 * 1_000_000_000


def _localized(ns: Array, valid: Array, tz: str) -> tuple[Array, Array]:
    """Wall-clock nanoseconds of zone ``tz`` -> UTC, as pandas' ``tz_localize(ambiguous="NaT",
    nonexistent="shift_forward")`` gives them; ``valid`` loses the rows that are NaT there.

    Zones change their offset at whole minutes, so the offset is found once per distinct
    minute (a chunk spans a few hundred; pandas per row was a third of the timestamps' time).
    Only the rows of a minute that the local clock skips (a spring-forward gap, where every
    time moves to the gap's end) are localized one by one."""

    def localize(wall_ns: Array) -> pd.DatetimeIndex:
        stamps = pd.DatetimeIndex(wall_ns.astype("datetime64[ns]"))
        return stamps.tz_localize(tz, ambiguous="NaT", nonexistent="shift_forward")

    minute = np.where(valid, ns, 0) // _MINUTE_NS
    uniq, inverse = _distinct_small(minute)
    wall = uniq * _MINUTE_NS
    utc = localize(wall)
    missing = np.asarray(utc.isna(), dtype=bool)
    back = np.where(missing, 0, utc.tz_convert(tz).tz_localize(None).asi8)
    skipped = ~missing & (back != wall)  # shifted forward: not a time on the local clock
    out: Array = ns + (np.where(missing, 0, utc.asi8) - wall)[inverse]
    valid = valid & ~missing[inverse]
    odd = np.flatnonzero(valid & skipped[inverse])
    if len(odd):
        one = localize(ns[odd])
        gone = np.asarray(one.isna(), dtype=bool)
        out[odd] = np.where(gone, 0, one.asi8)
        valid[odd] &= ~gone
    return out, valid


def _distinct_small(values: Array) -> tuple[Array, Array]:
    """np.unique(values, return_inverse=True) for integers that span a short range (the
    minutes of a chunk): marks in a table of the range instead of a sort."""
    if not len(values):
        return values[:0], np.zeros(0, dtype=np.int64)
    low, high = int(values.min()), int(values.max())
    if high - low > 4 * len(values) + 1024:
        uniq, inverse = np.unique(values, return_inverse=True)
        return uniq, inverse.ravel()
    at = values - low
    present = np.zeros(high - low + 1, dtype=bool)
    present[at] = True
    number = np.cumsum(present) - 1
    result: Array = np.flatnonzero(present) + low
    return result, number[at]
