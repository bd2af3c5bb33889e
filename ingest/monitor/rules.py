"""Alert rules as data: a TOML file of ``[[rule]]`` (and ``[[notify]]``) tables, validated at start.

A bad file is rejected with its line and the reason (``RulesError``): TOML syntax errors carry
the parser's line; semantic errors name the line of the offending key, or of the ``[[rule]]``
header when the key is missing. See docs/monitoring.md for the format and the default rules.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ingest.catalog.model import CATEGORY_IDS

RULE_TYPES = ("error_rate", "count", "throttling_spike", "new_code", "missing_request_id")
SEVERITIES = ("info", "warning", "critical")
NOTIFY_TYPES = ("json", "dingtalk", "feishu", "wecom", "slack")

#: the rules used when ``watch`` gets no --rules file (docs/monitoring.md repeats them)
DEFAULT_RULES_TOML = """\
[[rule]]
name = "error-rate"
type = "error_rate"
threshold = 20          # percent of calls that failed
window = "5m"
min_calls = 20
severity = "warning"
cooldown = "15m"

[[rule]]
name = "throttling-spike"
type = "throttling_spike"
bucket = "1m"           # the dashboard's detector: rolling median + k x MAD over 30 buckets
severity = "critical"
cooldown = "15m"

[[rule]]
name = "new-code"
type = "new_code"
severity = "info"
"""

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|min|h|d)?\s*$")
_UNITS = {"ms": 0.001, "s": 1.0, None: 1.0, "m": 60.0, "min": 60.0, "h": 3600.0, "d": 86400.0}


class RulesError(ValueError):
    """The rules file is malformed; the message names the file, the line and the reason."""

    def __init__(self, path: str, line: int | None, reason: str) -> None:
        where = f"{path}:{line}" if line else path
        super().__init__(f"{where}: {reason}")
        self.path = path
        self.line = line
        self.reason = reason


@dataclass(frozen=True)
class Rule:
    name: str
    type: str
    severity: str = "warning"
    window: float = 300.0  # seconds
    cooldown: float = 900.0  # seconds between two alerts of one rule and group
    resolve_after: float | None = None  # seconds of calm before the recovery notice (window)
    recovery: bool = True  # send a recovery notice when the condition has cleared
    group_by: tuple[str, ...] = ()  # one incident per value of these columns (e.g. model)
    threshold: float = 0.0  # error_rate: percent; count / missing_request_id: events
    min_calls: int = 1
    codes: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    models: tuple[str, ...] = ()
    bucket: float = 60.0  # throttling_spike: bucket width in seconds
    history: int = 30  # throttling_spike: buckets of history (the detector's window)
    k: float = 5.0
    min_count: int = 5

    @property
    def calm(self) -> float:
        if self.resolve_after is not None:
            return self.resolve_after
        return self.bucket * 2 if self.type == "throttling_spike" else self.window


@dataclass(frozen=True)
class NotifyTarget:
    type: str
    url: str
    secret: str | None = None


@dataclass(frozen=True)
class RuleSet:
    rules: tuple[Rule, ...]
    notify: tuple[NotifyTarget, ...] = field(default_factory=tuple)
    source: str = "<default rules>"

    @property
    def horizon(self) -> float:
        """Seconds of events the engine must keep to evaluate every rule."""
        spans = [60.0]
        for r in self.rules:
            spans.append(r.bucket * (r.history + 2) if r.type == "throttling_spike" else r.window)
        return max(spans)


def parse_duration(value: Any) -> float:
    """``30`` / ``"30s"`` / ``"5m"`` / ``"1h"`` -> seconds; ValueError otherwise."""
    if isinstance(value, bool):
        raise ValueError("expected a duration like 30s, 5m or 1h")
    if isinstance(value, int | float):
        if value <= 0:
            raise ValueError("a duration must be positive")
        return float(value)
    if isinstance(value, str):
        m = _DURATION.match(value)
        if m:
            seconds = float(m.group(1)) * _UNITS[m.group(2)]
            if seconds > 0:
                return seconds
    raise ValueError(f"expected a duration like 30s, 5m or 1h, got {value!r}")


def _table_lines(text: str, header: str) -> list[int]:
    pattern = re.compile(rf"^\s*\[\[\s*{header}\s*\]\]")
    return [i for i, line in enumerate(text.splitlines(), 1) if pattern.match(line)]


def _key_line(text: str, start: int | None, key: str) -> int | None:
    """The line of ``key = ...`` in the table that starts at line ``start``."""
    if start is None:
        return None
    lines = text.splitlines()
    pattern = re.compile(rf"^\s*{re.escape(key)}\s*=")
    for i in range(start, len(lines)):
        if lines[i].lstrip().startswith("["):
            break
        if pattern.match(lines[i]):
            return i + 1
    return start


_RULE_KEYS = {
    "name",
    "type",
    "severity",
    "window",
    "cooldown",
    "resolve_after",
    "recovery",
    "group_by",
    "threshold",
    "min_calls",
    "code",
    "codes",
    "category",
    "categories",
    "models",
    "bucket",
    "history",
    "k",
    "min_count",
}
_GROUP_COLUMNS = ("model", "code", "category", "source", "status_code")


def load_rules(path: str | Path | None = None, text: str | None = None) -> RuleSet:
    """Read and validate a rules file (``path``), or ``text``; the defaults when both are None."""
    name = str(path) if path is not None else "<default rules>"
    if text is None:
        if path is None:
            text = DEFAULT_RULES_TOML
        else:
            try:
                text = Path(path).read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise RulesError(name, None, f"cannot be read ({exc})") from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        at = re.search(r"\(at line (\d+)", str(exc))
        line = int(at.group(1)) if at else getattr(exc, "lineno", None)
        reason = str(exc).split(" (at ")[0]
        raise RulesError(name, line, f"not valid TOML: {reason}") from exc
    unknown = set(data) - {"rule", "notify"}
    if unknown:
        key = sorted(unknown)[0]
        raise RulesError(
            name,
            _key_line(text, 0, key),
            f"unknown table or key {key!r}; use [[rule]] and [[notify]]",
        )
    raw_rules = data.get("rule", [])
    if not isinstance(raw_rules, list) or not raw_rules:
        raise RulesError(name, None, "no [[rule]] tables; see docs/monitoring.md")
    starts = _table_lines(text, "rule")
    rules: list[Rule] = []
    seen: set[str] = set()
    for i, raw in enumerate(raw_rules):
        start = starts[i] if i < len(starts) else None
        rule = _rule(raw, name, text, start, i)
        if rule.name in seen:
            raise RulesError(
                name, _key_line(text, start, "name"), f"duplicate rule name {rule.name!r}"
            )
        seen.add(rule.name)
        rules.append(rule)
    notify = []
    nstarts = _table_lines(text, "notify")
    for i, raw in enumerate(data.get("notify", [])):
        start = nstarts[i] if i < len(nstarts) else None
        kind = raw.get("type", "json")
        if kind not in NOTIFY_TYPES:
            raise RulesError(
                name,
                _key_line(text, start, "type"),
                f"notify type {kind!r} is not one of {', '.join(NOTIFY_TYPES)}",
            )
        url = raw.get("url")
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise RulesError(name, _key_line(text, start, "url"), "notify needs an http(s) url")
        secret = raw.get("secret")
        notify.append(NotifyTarget(kind, url, str(secret) if secret else None))
    return RuleSet(tuple(rules), tuple(notify), name)


def _rule(raw: dict[str, Any], name: str, text: str, start: int | None, index: int) -> Rule:
    def fail(key: str | None, reason: str) -> RulesError:
        line = _key_line(text, start, key) if key else start
        return RulesError(name, line, f"rule {raw.get('name', index + 1)!r}: {reason}")

    for key in raw:
        if key not in _RULE_KEYS:
            raise fail(key, f"unknown key {key!r}")
    rname = raw.get("name")
    if not isinstance(rname, str) or not rname.strip():
        raise fail(None, "needs a name")
    rtype = raw.get("type")
    if rtype not in RULE_TYPES:
        raise fail(
            "type" if "type" in raw else None, f"type must be one of {', '.join(RULE_TYPES)}"
        )
    kwargs: dict[str, Any] = {"name": rname, "type": rtype}
    severity = raw.get("severity", "warning")
    if severity not in SEVERITIES:
        raise fail("severity", f"severity must be one of {', '.join(SEVERITIES)}")
    kwargs["severity"] = severity
    for key in ("window", "cooldown", "resolve_after", "bucket"):
        if key in raw:
            try:
                kwargs[key] = parse_duration(raw[key])
            except ValueError as exc:
                raise fail(key, str(exc)) from exc
    if "recovery" in raw:
        if not isinstance(raw["recovery"], bool):
            raise fail("recovery", "recovery must be true or false")
        kwargs["recovery"] = raw["recovery"]
    for key in ("threshold", "k"):
        if key in raw:
            v = raw[key]
            if isinstance(v, bool) or not isinstance(v, int | float) or v < 0:
                raise fail(key, f"{key} must be a non-negative number")
            kwargs[key] = float(v)
    for key in ("min_calls", "history", "min_count"):
        if key in raw:
            v = raw[key]
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise fail(key, f"{key} must be a whole number >= 1")
            kwargs[key] = v
    for key, plural in (("code", "codes"), ("category", "categories"), ("models", "models")):
        values: list[str] = []
        for k in {key, plural}:
            if k in raw:
                v = raw[k]
                items = [v] if isinstance(v, str) else v
                if not isinstance(items, list) or not all(isinstance(x, str) for x in items):
                    raise fail(k, f"{k} must be a string or a list of strings")
                values += items
        kwargs[plural] = tuple(values)
    for cat in kwargs["categories"]:
        if cat not in CATEGORY_IDS:
            raise fail(
                "category" if "category" in raw else "categories",
                f"unknown category {cat!r}; one of {', '.join(CATEGORY_IDS)}",
            )
    if "group_by" in raw:
        g = raw["group_by"]
        items = [g] if isinstance(g, str) else g
        if not isinstance(items, list) or any(x not in _GROUP_COLUMNS for x in items):
            raise fail("group_by", f"group_by takes columns among {', '.join(_GROUP_COLUMNS)}")
        kwargs["group_by"] = tuple(items)
    if rtype == "error_rate":
        if "threshold" not in raw:
            raise fail(None, "an error_rate rule needs threshold (percent)")
        if kwargs["threshold"] > 100:
            raise fail("threshold", "threshold is a percentage (0-100)")
    if rtype == "count":
        if "threshold" not in raw or kwargs["threshold"] < 1:
            raise fail(
                "threshold" if "threshold" in raw else None, "a count rule needs threshold >= 1"
            )
        if not kwargs["codes"] and not kwargs["categories"]:
            raise fail(None, "a count rule needs code(s) or category(ies)")
    if rtype == "missing_request_id" and "threshold" not in raw:
        kwargs["threshold"] = 1.0
    if rtype == "new_code":
        kwargs.setdefault("cooldown", 0.0001)
        kwargs["recovery"] = False
    return Rule(**kwargs)
