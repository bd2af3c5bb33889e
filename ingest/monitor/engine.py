"""Evaluate the rules on a sliding window of events and turn conditions into alerts.

An *incident* opens when a rule's condition becomes true for a group (the whole log, or one value
of ``group_by``) and sends one ``firing`` alert; while the condition holds nothing more is sent,
so one storm is one alert. When the condition has been false for the rule's calm period
(``resolve_after``, by default the window) the incident closes with a ``resolved`` notice. A new
incident of the same rule and group within ``cooldown`` of the last alert stays silent.

Time is the log's time: ``now`` is the newest event's timestamp plus the wall-clock time since it
was read, so replaying an old log alerts at the log's moments and a quiet log still recovers.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ingest.context import concat_context, empty_context
from ingest.monitor.rules import Rule, RuleSet
from ingest.queries import THROTTLING_KINDS, detect_spikes, format_time
from ingest.schema import EVENT_COLUMNS, coerce_events, empty_events

#: API key / client host rows kept for the spike explainer (the newest; a window holds fewer)
CONTEXT_ROWS = 50_000

_STORED = (
    "timestamp",
    "status_code",
    "code",
    "message",
    "request_id",
    "model",
    "category",
    "retryable",
    "is_error",
    "source",
    "line",
    "format",
    "mentions",
)


@dataclass(frozen=True)
class Alert:
    """One notification: a rule started firing, or recovered."""

    kind: str  # "firing" or "resolved"
    rule: str
    type: str
    severity: str
    group: str  # "" for the whole log, else e.g. "model=qwen-max"
    title: str
    text: str  # one or two sentences, plain text
    at: str  # ISO time (display zone) of the evaluation
    started: str  # ISO time the incident opened
    value: float | None = None
    threshold: float | None = None
    facts: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Incident:
    started: float
    last_true: float
    value: float | None = None


def _epoch(ts: pd.Series) -> np.ndarray[Any, Any]:
    values = ts.to_numpy(dtype="datetime64[ns]").astype("int64") / 1e9
    return np.asarray(values, dtype="float64")


def _iso(seconds: float, tz: str) -> str:
    return format_time(pd.Timestamp(seconds, unit="s", tz="UTC"), tz)


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


class Engine:
    """Holds the window of recent events, the open incidents and the codes seen so far."""

    def __init__(self, ruleset: RuleSet, tz: str = "Asia/Shanghai") -> None:
        self.ruleset = ruleset
        self.tz = tz
        self.events = empty_events()
        self.context = empty_context()  # the newest CONTEXT_ROWS only
        self.incidents: dict[str, Incident] = {}
        self.last_alert: dict[str, float] = {}
        self.seen_codes: set[str] = set()
        self.latest: float | None = None  # newest event time seen (epoch seconds)

    # ------------------------------------------------------------------ input

    def add(
        self, frame: pd.DataFrame, now: float, context: list[pd.DataFrame] | None = None
    ) -> None:
        """Append newly parsed events; events without a timestamp get ``now``. ``context``:
        the API key / client host tables of their errors (ingest.context)."""
        if frame.empty:
            return
        if context:
            self.context = concat_context([self.context, *context]).tail(CONTEXT_ROWS)
        frame = frame.copy()
        missing = frame["timestamp"].isna()
        if bool(missing.any()):
            frame.loc[missing, "timestamp"] = pd.Timestamp(now, unit="s", tz="UTC")
        newest = float(_epoch(frame["timestamp"]).max())
        self.latest = newest if self.latest is None else max(self.latest, newest)
        parts = [f for f in (self.events, frame) if not f.empty]
        merged = pd.concat([p.astype(object) for p in parts], ignore_index=True)
        self.events = coerce_events(merged)

    def _trim(self, now: float) -> None:
        if self.events.empty:
            return
        keep = _epoch(self.events["timestamp"]) > now - self.ruleset.horizon
        if not keep.all():
            self.events = self.events.loc[keep].reset_index(drop=True)

    def _window(self, seconds: float, now: float) -> pd.DataFrame:
        if self.events.empty:
            return self.events
        ts = _epoch(self.events["timestamp"])
        return self.events.loc[(ts > now - seconds) & (ts <= now + 1e-6)]

    # ------------------------------------------------------------------ evaluation

    def evaluate(self, now: float) -> list[Alert]:
        """Alerts due at ``now`` (epoch seconds, log time)."""
        self._trim(now)
        alerts: list[Alert] = []
        for rule in self.ruleset.rules:
            if rule.type == "new_code":
                alerts += self._new_codes(rule, now)
                continue
            true = self._conditions(rule, now)
            for group, (value, title, text, facts) in true.items():
                key = f"{rule.name}|{group}"
                inc = self.incidents.get(key)
                if inc is not None:
                    inc.last_true, inc.value = now, value
                    continue
                if now - self.last_alert.get(key, -math.inf) < rule.cooldown:
                    continue
                self.incidents[key] = Incident(now, now, value)
                self.last_alert[key] = now
                alerts.append(
                    Alert(
                        "firing",
                        rule.name,
                        rule.type,
                        rule.severity,
                        group,
                        title,
                        text,
                        _iso(now, self.tz),
                        _iso(now, self.tz),
                        value,
                        rule.threshold if rule.type != "throttling_spike" else None,
                        facts,
                    )
                )
            for key, inc in list(self.incidents.items()):
                name, _, group = key.partition("|")
                if name != rule.name or group in true:
                    continue
                if now - inc.last_true < rule.calm:
                    continue
                del self.incidents[key]
                if rule.recovery:
                    where = f" ({group})" if group else ""
                    alerts.append(
                        Alert(
                            "resolved",
                            rule.name,
                            rule.type,
                            rule.severity,
                            group,
                            f"Resolved: {rule.name}{where}",
                            f"{rule.name}{where} is back to normal after "
                            f"{_duration(inc.last_true - inc.started + rule.calm)}.",
                            _iso(now, self.tz),
                            _iso(inc.started, self.tz),
                        )
                    )
        return alerts

    def _groups(self, rule: Rule, frame: pd.DataFrame) -> dict[str, pd.DataFrame]:
        if not rule.group_by or frame.empty:
            return {"": frame}
        cols = list(rule.group_by)
        labels = frame[cols].astype("string").fillna("(none)")
        out: dict[str, pd.DataFrame] = {}
        key = labels[cols[0]]
        for col in cols[1:]:
            key = key + "\x1f" + labels[col]
        for value in sorted(key.unique()):
            vals = str(value).split("\x1f")
            name = ", ".join(f"{c}={v}" for c, v in zip(cols, vals, strict=True))
            out[name] = frame.loc[(key == value).to_numpy(dtype=bool)]
        return out

    def _conditions(
        self, rule: Rule, now: float
    ) -> dict[str, tuple[float, str, str, dict[str, Any]]]:
        span = rule.bucket * (rule.history + 1) if rule.type == "throttling_spike" else rule.window
        frame = self._window(span, now)
        if rule.models and not frame.empty:
            frame = frame.loc[frame["model"].astype("string").isin(rule.models).fillna(False)]
        out: dict[str, tuple[float, str, str, dict[str, Any]]] = {}
        for group, part in self._groups(rule, frame).items():
            hit = self._check(rule, part, now)
            if hit is not None:
                out[group] = hit
        return out

    def _check(
        self, rule: Rule, frame: pd.DataFrame, now: float
    ) -> tuple[float, str, str, dict[str, Any]] | None:
        win = _duration(rule.window)
        errs = frame.loc[frame["is_error"].to_numpy(dtype=bool)] if not frame.empty else frame
        facts: dict[str, Any] = {"top_codes": _top_codes(errs)}
        if rule.type == "error_rate":
            calls, n_err = len(frame), len(errs)
            if calls < rule.min_calls or calls == 0:
                return None
            rate = 100.0 * n_err / calls
            if rate <= rule.threshold:
                return None
            facts |= {"calls": calls, "errors": n_err, "window_seconds": rule.window}
            text = (
                f"{rate:.0f}% of the calls in the last {win} failed ({n_err} of {calls}; "
                f"threshold {rule.threshold:g}%)." + _codes_text(facts["top_codes"])
            )
            return rate, f"Error rate {rate:.0f}% ({rule.name})", text, facts
        if rule.type == "count":
            mask = np.zeros(len(errs), dtype=bool)
            if rule.codes:
                code = errs["code"].astype("string")
                raw = errs["raw_code"].astype("string") if "raw_code" in errs else code
                mask |= (code.isin(rule.codes) | raw.isin(rule.codes)).fillna(False).to_numpy()
            if rule.categories:
                cat = errs["category"].astype("string")
                mask |= cat.isin(rule.categories).fillna(False).to_numpy(dtype=bool)
            n = int(mask.sum())
            if n < rule.threshold:
                return None
            what = ", ".join(rule.codes + rule.categories)
            facts |= {"count": n, "window_seconds": rule.window}
            text = f"{n} errors of {what} in the last {win} (threshold {rule.threshold:g})."
            return float(n), f"{n} x {what} ({rule.name})", text, facts
        if rule.type == "missing_request_id":
            n = int(errs["request_id"].isna().sum()) if not errs.empty else 0
            if n < rule.threshold:
                return None
            facts |= {"count": n, "window_seconds": rule.window}
            text = (
                f"{n} failures without a request_id in the last {win}; support cannot look "
                "them up by id: send the time window, the model and the count."
            )
            return float(n), f"{n} failures without request_id ({rule.name})", text, facts
        if rule.type == "throttling_spike":
            return self._spike(rule, errs, frame, now)
        return None

    def _spike(
        self, rule: Rule, errs: pd.DataFrame, frame: pd.DataFrame, now: float
    ) -> tuple[float, str, str, dict[str, Any]] | None:
        width = rule.bucket
        current = math.floor(now / width)
        first = current - rule.history
        nums = np.arange(first, current + 1)
        throttled = errs.loc[
            errs["category"].astype("string").isin(THROTTLING_KINDS).fillna(False).to_numpy()
        ]
        counts = np.zeros(len(nums), dtype="int64")
        calls = np.zeros(len(nums), dtype="int64")
        if not throttled.empty:
            b = np.floor(_epoch(throttled["timestamp"]) / width).astype("int64") - first
            b = b[(b >= 0) & (b < len(nums))]
            counts += np.bincount(b, minlength=len(nums))[: len(nums)]
        if not frame.empty:
            b = np.floor(_epoch(frame["timestamp"]) / width).astype("int64") - first
            b = b[(b >= 0) & (b < len(nums))]
            calls += np.bincount(b, minlength=len(nums))[: len(nums)]
        index = pd.to_datetime(nums * int(width * 1e9), utc=True)
        series = pd.Series(counts, index=index)
        bucket = f"{int(width)}s"
        spikes = detect_spikes(
            series,
            calls=pd.Series(calls, index=index),
            bucket=bucket,
            window=rule.history,
            k=rule.k,
            min_count=rule.min_count,
        )
        latest = spikes[-1] if spikes else None
        # the spike must reach the current or the previous (just completed) bucket
        if latest is None or latest.end < index[-1]:
            return None
        from ingest.analysis import explain_spike

        explanation = explain_spike(
            self.events,
            latest.start,
            latest.end,
            tz=self.tz,
            focus="throttling",
            context=self.context,
        )
        facts = {
            "throttled": latest.total,
            "peak": latest.peak,
            "baseline_per_bucket": round(latest.baseline, 2),
            "bucket_seconds": width,
            "start": format_time(latest.start, self.tz),
            "explanation": explanation.sentence,
            "top_codes": _top_codes(throttled),
        }
        share = "" if latest.share is None else f", {latest.share:.0%} of calls"
        text = (
            f"Throttling spike since {format_time(latest.start, self.tz)}: {latest.total} "
            f"throttled calls (peak {latest.peak} per {_duration(width)}, usual "
            f"{latest.baseline:.0f}{share}). {explanation.sentence}"
        )
        return float(latest.total), f"Throttling spike ({rule.name})", text, facts

    def _new_codes(self, rule: Rule, now: float) -> list[Alert]:
        frame = self._window(self.ruleset.horizon, now)
        errs = frame.loc[frame["is_error"].to_numpy(dtype=bool)] if not frame.empty else frame
        alerts = []
        for row in errs.to_dict(orient="records"):
            code = row["code"]
            if code is None or pd.isna(code) or str(code) in self.seen_codes:
                continue
            code = str(code)
            self.seen_codes.add(code)
            status = "" if pd.isna(row["status_code"]) else f" (HTTP {int(row['status_code'])})"
            model = "" if pd.isna(row["model"]) else f" on {row['model']}"
            message = "" if pd.isna(row["message"]) else f": {str(row['message'])[:200]}"
            alerts.append(
                Alert(
                    "firing",
                    rule.name,
                    rule.type,
                    rule.severity,
                    f"code={code}",
                    f"New error code {code}",
                    f"First {code}{status}{model} at {row['source']}:{row['line']}{message}",
                    _iso(now, self.tz),
                    _iso(now, self.tz),
                    facts={"code": code, "where": f"{row['source']}:{row['line']}"},
                )
            )
        return alerts

    # ------------------------------------------------------------------ persistence

    def dump(self) -> dict[str, Any]:
        events = self.events.copy()
        events["timestamp"] = events["timestamp"].map(lambda t: t.isoformat())
        rows = [
            {k: (None if _isna(v) else _plain(v)) for k, v in r.items() if k in _STORED}
            for r in events.to_dict(orient="records")
        ]
        return {
            "events": rows,
            "incidents": {k: asdict(v) for k, v in self.incidents.items()},
            "last_alert": self.last_alert,
            "seen_codes": sorted(self.seen_codes),
            "latest": self.latest,
        }

    def load(self, data: dict[str, Any]) -> None:
        rows = data.get("events") or []
        if rows:
            frame = pd.DataFrame(rows)
            for col in EVENT_COLUMNS:
                if col not in frame:
                    frame[col] = None
            self.events = coerce_events(frame)
        self.incidents = {k: Incident(**v) for k, v in (data.get("incidents") or {}).items()}
        self.last_alert = {k: float(v) for k, v in (data.get("last_alert") or {}).items()}
        self.seen_codes = set(data.get("seen_codes") or [])
        self.latest = data.get("latest")


def _isna(v: Any) -> bool:
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def _plain(v: Any) -> Any:
    if isinstance(v, np.generic):
        return v.item()
    return v


def _top_codes(errs: pd.DataFrame, n: int = 3) -> list[list[Any]]:
    if errs.empty:
        return []
    counts = errs["code"].astype("string").fillna("(no code)").value_counts().head(n)
    return [[str(k), int(v)] for k, v in counts.items()]


def _codes_text(top: list[list[Any]]) -> str:
    if not top:
        return ""
    return " Top codes: " + ", ".join(f"{c} ({n})" for c, n in top) + "."
