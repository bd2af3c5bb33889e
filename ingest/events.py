"""One row per API call outcome: merge the mentions of one failure, keep each retried attempt.

The rules (client-log-formats.md sections 6.2 and 7):
- ``detail`` events (a body or an exception with code/message/request_id) with the same
  request_id are one outcome; without a request_id, the same status, code and message within a
  few seconds and a few records are one outcome (an ERROR line, its traceback, a re-raise).
- ``transport`` events (httpx / SDK status lines, one per attempt) are calls of their own. The
  last one before a ``detail`` event of a compatible status describes the same attempt and is
  absorbed into it, so the final attempt is not counted twice.
- ``retry`` notices (openai ``Retrying request``, tenacity warnings) mark a failed attempt: they
  join the transport line of that attempt when there is one, else they are the attempt.
"""

from __future__ import annotations

import re
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa

from ingest.context import CONTEXT_FIELDS, context_table
from ingest.lane_ids import ToldIds, is_in
from ingest.schema import (
    EVENT_COLUMNS,
    coerce_events,
    concat_events,
    empty_events,
    merge_by_request_id,
)
from ingest.timestamps import count_offsets, looks_iso, to_iso, to_utc_raw

WINDOW_SECONDS = 30.0
WINDOW_LINES = 400
#: rows kept as dicts before the older ones are turned into a compact columnar frame
FLUSH_ROWS = 20_000


@dataclass(eq=False)  # rows are told apart by identity (deque.remove compared every field)
class _Row:
    fields: dict[str, Any]
    role: str
    seconds: float | None  # rough epoch seconds, for windows only
    claimed: bool = False  # a transport line already joined to a retry notice
    absorbed: bool = False
    record: int = -1  # the first line of the record that told it (``line`` may move)


def _rough_seconds(iso: str) -> float | None:
    """Wall-clock seconds of an ISO prefix (offset ignored): only compared within one file."""
    try:
        return float(pd.Timestamp(iso).tz_localize(None).timestamp())
    except (ValueError, TypeError):
        return None


_DIGITS = re.compile(r"[0-9a-f]{8,}|\d+")


def shape_of(head: str | None) -> str:
    """A record's first characters without digits and ids: the log statement that wrote it."""
    return _DIGITS.sub("", head or "")


def _plausible_date(ts: Any) -> bool:
    """The date part of an ISO-like string is a real date between 1971 and 2099."""
    try:
        return 1971 <= int(ts[:4]) < 2100 and 1 <= int(ts[5:7]) <= 12 and 1 <= int(ts[8:10]) <= 31
    except (TypeError, ValueError):
        return False


def _near(a: _Row, b: _Row, line_a: int, line_b: int, seconds: float = WINDOW_SECONDS) -> bool:
    if abs(line_a - line_b) > WINDOW_LINES:
        return False
    if a.seconds is not None and b.seconds is not None:
        return abs(a.seconds - b.seconds) <= seconds
    return True


#: what a later mention (or an absorbed transport line) may fill in when the row lacks it
FILLED_FIELDS = (
    "status_code",
    "logged_status",
    "code",
    "raw_code",
    "message",
    "request_id",
    "model",
    "category",
    "retryable",
    "ts",
    *CONTEXT_FIELDS,
)


def _fill(dst: dict[str, Any], src: dict[str, Any]) -> None:
    for key in FILLED_FIELDS:
        if dst.get(key) is None and src.get(key) is not None:
            dst[key] = src[key]


def _agree(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """No field that both name differs (status, code, request id, model; the message when
    neither has a code)."""
    for key in ("status_code", "code", "request_id", "model"):
        if a.get(key) is not None and b.get(key) is not None and a[key] != b[key]:
            return False
    if a.get("code") is None and b.get("code") is None:
        ma, mb = a.get("message"), b.get("message")
        if ma and mb and ma[:80] != mb[:80]:
            return False
    return True


_SECONDS_CACHE: dict[str, float | None] = {}


def _seconds(iso: str | None) -> float | None:
    if iso is None:
        return None
    key = iso[:19]
    if key not in _SECONDS_CACHE:
        if len(_SECONDS_CACHE) > 100_000:
            _SECONDS_CACHE.clear()
        _SECONDS_CACHE[key] = _rough_seconds(key)
    return _SECONDS_CACHE[key]


@dataclass
class EventCollector:
    """Collects the normalized events of one file, in log order, applying the merge rules."""

    source: str
    rows: list[_Row] = field(default_factory=list)
    _by_rid: dict[tuple[str, bool], _Row] = field(default_factory=dict)
    _transports: deque[_Row] = field(default_factory=lambda: deque(maxlen=32))
    tz: str = "Asia/Shanghai"
    _chunks: list[pd.DataFrame] = field(default_factory=list)
    #: events were parsed elsewhere since the last add (ingest.fastlane): rows[-1] is not the
    #: event just before the next one
    _barrier: bool = False

    #: request ids of outcomes parsed elsewhere (ingest.fastlane; the last two chunks), per
    #: is_error: a later mention here is merged with them at the end, never absorbs a transport
    external: list[ToldIds] = field(default_factory=list)
    #: request ids this collector started rows for since ``take_new_request_ids``
    _new_ids: set[str] = field(default_factory=set)
    track_new_ids: bool = False
    #: UTC offsets written in the timestamps of the rows made so far (FileReport.utc_offsets)
    offsets: Counter[str] = field(default_factory=Counter)
    #: request ids of rows without a time that a later mention is still merged into (its
    #: time fills theirs: ingest.fastlane leaves such mentions to this collector)
    untimed: set[str] = field(default_factory=set)
    #: the API key / client host of the error rows made so far (ingest.context)
    context: list[pd.DataFrame] = field(default_factory=list)

    def barrier(self) -> None:
        self._barrier = True

    def remember_external(self, told: ToldIds) -> None:
        self.external = [*self.external[-1:], told]

    def knows_request_ids(self, rids: pa.Array, errors: npt.NDArray[np.bool_]) -> Any:
        """For each id (with its is_error): a row of this outcome exists here or was parsed
        elsewhere recently (a boolean array; a null id is not known)."""
        out = np.zeros(len(rids), dtype=bool)
        for flag in (False, True):
            asked = np.flatnonzero(errors == flag)
            ids = [rid for rid, err in self._by_rid if err == flag]
            if len(asked) and ids:
                out[asked] = is_in(rids.take(pa.array(asked)), ids)
        for told in self.external:
            out |= told.has_many(rids, errors)
        return out

    def _is_external(self, rid: str, is_error: bool) -> bool:
        return any(told.has(rid, is_error) for told in self.external)

    def take_new_request_ids(self) -> set[str]:
        new, self._new_ids = self._new_ids, set()
        return new

    def waiting_transport_lines(self) -> tuple[int | None, int | None]:
        """Lines of the newest transport lines a detail could still absorb: any of them, and
        those a success could absorb (2xx, or carrying a request_id)."""
        any_line: int | None = None
        ok_line: int | None = None
        for t in self._transports:
            if t.absorbed or t.claimed:
                continue
            line = int(t.fields["line"])
            any_line = line if any_line is None else max(any_line, line)
            status = t.fields.get("logged_status")
            if t.fields.get("request_id") is not None or (
                status is not None and 200 <= status < 300
            ):
                ok_line = line if ok_line is None else max(ok_line, line)
        return any_line, ok_line

    def add(self, ev: dict[str, Any], line: int) -> None:
        barrier, self._barrier = self._barrier, False
        ts = ev.get("ts")
        # ISO-like strings are converted later, all at once (to_utc_raw); the rest now. A date
        # that cannot be a log time (year 9999, month 13) is no time at all, so a later mention
        # of the same outcome can supply one (as when ranges are merged: merge_by_request_id)
        ev["ts"] = (ts if _plausible_date(ts) else None) if looks_iso(ts) else to_iso(ts)
        ev["line"] = line
        ev["mentions"] = 1
        role = ev.get("role", "detail")
        row = _Row(ev, role, _seconds(ev["ts"]), record=line)
        rid = ev.get("request_id")
        if not barrier and self._told_again_in_record(row, line):
            return
        if rid is not None:
            prior = self._by_rid.get((rid, bool(ev["is_error"])))
            if prior is not None and not prior.absorbed:
                self._merge(prior, row)
                twin = self._by_rid.get((rid, not ev["is_error"]))  # the other outcome
                if prior.fields.get("ts") is not None and (twin is None or twin.fields["ts"]):
                    self.untimed.discard(rid)
                return
        # a mention of an outcome parsed elsewhere is merged with it at the end, as here
        external = bool(
            rid is not None and self.external and self._is_external(rid, bool(ev["is_error"]))
        )
        if external:
            # its offset was counted with the outcome it joins (FileReport.utc_offsets), as for
            # a mention merged here
            ev["_told_elsewhere"] = True
        elif role == "retry":
            target = self._last_transport(row, line, unclaimed=True, want_error=True)
            if target is not None:
                target.claimed = True
                # a claimed line is no one's to absorb or claim again: out of the window of
                # the last 32, where it would push out a line still waiting (the fast lane
                # cuts retried attempts in pairs and never puts them there)
                self._transports.remove(target)
                self._merge(target, row)
                return
        elif role == "detail":
            if rid is None and ev["is_error"]:
                # only the event just before: two calls failing alike are two outcomes, and a
                # transport line in between means a new attempt
                for prior in [] if barrier else self.rows[-1:]:
                    pf = prior.fields
                    if (
                        prior.role == "detail"
                        and not prior.absorbed
                        # the same log statement twice is two calls (a burst of id-less stream
                        # errors); a different statement is the same failure told again
                        and shape_of(pf.get("shape")) != shape_of(ev.get("shape"))
                        and pf.get("request_id") is None
                        and pf.get("code") == ev.get("code")
                        and pf.get("status_code") == ev.get("status_code")
                        and (pf.get("model") is None or ev.get("model") in (None, pf.get("model")))
                        and (pf.get("message") or "")[:80] == (ev.get("message") or "")[:80]
                        and _near(prior, row, pf["line"], line, seconds=5.0)
                    ):
                        self._merge(prior, row)
                        return
            target = self._last_transport(row, line, unclaimed=True, want_error=None)
            if target is not None and self.compatible(target.fields, ev):
                target.absorbed = True
                self._transports.remove(target)
                tf = target.fields
                ev["mentions"] += tf["mentions"]
                if ev.get("status_from_class") and tf.get("logged_status") is not None:
                    # "InternalServerError" says 5xx; the transport line has the exact status
                    ev["logged_status"] = ev["status_code"] = tf["logged_status"]
                _fill(ev, tf)
                # the outcome is first mentioned where the transport line stands
                ev["line"], ev["ts"] = tf["line"], tf["ts"] or ev["ts"]
                row.seconds = target.seconds if target.seconds is not None else row.seconds
        self.rows.append(row)
        if rid is not None:
            self._by_rid[(rid, bool(ev["is_error"]))] = row
            if ev["ts"] is None:
                self.untimed.add(rid)
            if self.track_new_ids:
                self._new_ids.add(rid)
        if role == "transport" and not external:
            self._transports.append(row)
        if len(self.rows) >= FLUSH_ROWS:
            self._flush(line)

    def _told_again_in_record(self, row: _Row, line: int) -> bool:
        """One record telling the same outcome twice (``logger.exception("failed: %s", e)``
        writes the error in the message and again at the end of the traceback; a wrapper's
        re-raise adds a third copy): merged into the event the record told first. Outcomes of
        different roles (a retry notice, a transport line) are never this; nor are two
        mentions that disagree on status, code, request id or (without a code) message, which
        are two failures in one record (client-log-formats.md section 6.2)."""
        ev = row.fields
        for prior in reversed(self.rows[-8:]):
            if prior.record != line:
                return False
            pf = prior.fields
            if prior.absorbed or prior.role != row.role or pf["is_error"] != ev["is_error"]:
                continue
            if not _agree(pf, ev):
                continue
            self._merge(prior, row)
            rid = pf.get("request_id")
            if rid is not None and (rid, bool(pf["is_error"])) not in self._by_rid:
                self._by_rid[(rid, bool(pf["is_error"]))] = prior
                if self.track_new_ids:
                    self._new_ids.add(rid)
            return True
        return False

    def _flush(self, line: int) -> None:
        """Turn rows no merge rule can reach any more (beyond the line window) into columns.

        Memory stays bounded by the window, not the file: a later mention of a flushed
        request_id becomes a row of its own and is merged by ``merge_by_request_id`` at the end.
        """
        cut = 0
        horizon = line - WINDOW_LINES - 1
        while cut < len(self.rows) and self.rows[cut].fields["line"] < horizon:
            cut += 1
        if cut == 0:
            return
        done, self.rows = self.rows[:cut], self.rows[cut:]
        self._chunks.append(self._columns([r.fields for r in done if not r.absorbed]))
        self._by_rid = {
            (r.fields["request_id"], bool(r.fields["is_error"])): r
            for r in self.rows
            if r.fields.get("request_id") is not None and not r.absorbed
        }
        self.untimed = {rid for (rid, _e), r in self._by_rid.items() if r.fields.get("ts") is None}

    def _last_transport(
        self, row: _Row, line: int, *, unclaimed: bool, want_error: bool | None
    ) -> _Row | None:
        for t in reversed(self._transports):
            if t.absorbed or (unclaimed and t.claimed):
                continue
            if want_error is not None and bool(t.fields["is_error"]) != want_error:
                continue
            if not _near(t, row, t.fields["line"], line):
                return None
            return t
        return None

    @staticmethod
    def compatible(transport: dict[str, Any], detail: dict[str, Any]) -> bool:
        t_status = transport.get("logged_status")
        if transport.get("request_id") and detail.get("request_id"):
            return bool(transport["request_id"] == detail["request_id"])
        if not detail["is_error"]:
            return t_status is not None and 200 <= t_status < 300
        if t_status is None:
            return True
        if t_status in (detail.get("logged_status"), detail.get("status_code")):
            return True
        if detail.get("status_from_class") and detail.get("logged_status") is not None:
            return bool(t_status // 100 == detail["logged_status"] // 100)
        # an error that arrived mid-stream: the HTTP exchange itself said 200
        return t_status == 200 and detail.get("logged_status") in (None, 200, 400)

    @staticmethod
    def _merge(into: _Row, other: _Row) -> None:
        into.fields["mentions"] += other.fields["mentions"]
        _fill(into.fields, other.fields)

    def _columns(self, rows: list[dict[str, Any]]) -> pd.DataFrame:
        if not rows:
            return empty_events()
        data: dict[str, list[Any]] = {c: [] for c in EVENT_COLUMNS}
        for ev in rows:
            for col in EVENT_COLUMNS:
                if col == "timestamp":
                    data[col].append(ev.get("ts"))
                elif col == "source":
                    data[col].append(self.source)
                else:
                    data[col].append(ev.get(col))
        named = [
            ev for ev in rows if ev.get("is_error") and (ev.get("api_key") or ev.get("client_host"))
        ]
        if named:
            self.context.append(
                context_table(
                    self.source,
                    (ev["line"] for ev in named),
                    (ev.get("api_key") for ev in named),
                    (ev.get("client_host") for ev in named),
                )
            )
        frame = pd.DataFrame(data)
        self.offsets.update(count_offsets([ev["ts"] for ev in rows if "_told_elsewhere" not in ev]))
        frame["timestamp"] = to_utc_raw(data["timestamp"], self.tz)
        return coerce_events(frame)

    def frame(self, tz: str | None = None) -> pd.DataFrame:
        """All events of the file, in line order, one row per outcome."""
        if tz is not None:
            self.tz = tz
        last = self._columns([r.fields for r in self.rows if not r.absorbed])
        chunks, self._chunks, self.rows = [*self._chunks, last], [], []
        if len(chunks) == 1:
            return chunks[0]
        return merge_by_request_id(concat_events(chunks))
