"""Apply format definitions to one record and return the raw fields of each event it shows.

Raw events are plain dicts with the keys: status, code, message, request_id, model, ts,
task_status, event, error_type, format, role, error. ``ingest.normalize`` turns them into rows.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from functools import lru_cache
from typing import Any

import orjson

from ingest.context import CONTEXT_FIELDS, context_in_text
from ingest.extract import (
    balanced_objects,
    field_aliases,
    fields_from_object,
    kv_pairs,
    parse_object,
)
from ingest.formats import LogFormat
from ingest.records import HTTP_STATUS_LINE
from ingest.timestamps import to_iso

RawEvent = dict[str, Any]
#: where a record names the model outside the error body (client-log-formats.md section 6.11)
MODEL_HINT = re.compile(
    r"""(?:\b(?:model|model_name|modelName|Model Group)["']?\s*[=:]\s*["']?|Using model:?\s+|"""
    r"""Failed to invoke model\s+|\b(?:Tongyi|ChatTongyi|Qwen|DashScope)\()"""
    r"""(?P<model>[A-Za-z][\w.\-/:]*[\w])"""
)
PREFIX_WINDOW = 300
_MODEL_WORDS = ("odel", "Tongyi(", "Qwen(", "DashScope(")
MAX_NESTING = 3


def _has_path(obj: dict[str, Any], path: tuple[str, ...]) -> bool:
    """The key path exists (the last value may be null: the SDK writes "output": null)."""
    cur: Any = obj
    for key in path[:-1]:
        cur = cur.get(key) if isinstance(cur, dict) else None
    return isinstance(cur, dict) and path[-1] in cur


def _get(obj: dict[str, Any], path: tuple[str, ...]) -> Any:
    cur: Any = obj
    for key in path:
        if not isinstance(cur, dict):
            return None
        cur = cur.get(key)
    return cur


def _object_matches(fmt: LogFormat, obj: dict[str, Any]) -> bool:
    if not any(all(_has_path(obj, p) for p in group) for group in fmt.requires):
        return False
    return all(str(_get(obj, path)) == value for path, value in fmt.where)


class ObjectSite:
    """A parsed structured body found in a record, with the text just before it; ``parent``:
    the object whose string value held it (an error's ``responseBody``)."""

    __slots__ = ("context", "obj", "parent", "prefix")

    def __init__(self, prefix: str, obj: dict[str, Any], context: dict[str, Any]) -> None:
        self.prefix = prefix
        self.obj = obj
        self.context = context
        self.parent: ObjectSite | None = None


def find_objects(text: str, depth: int = 0) -> list[ObjectSite]:
    """Top-level objects of ``text``, innermost API bodies first (nested in string values)."""
    sites: list[ObjectSite] = []
    stripped = text.strip()
    if depth == 0 and stripped[:1] == "{" and stripped[-1:] == "}" and "\n" not in stripped:
        # a JSON-lines record: one object, no scanning needed
        try:
            whole = orjson.loads(stripped)
        except orjson.JSONDecodeError:
            whole = None
        if isinstance(whole, dict):
            # a body nested in a string value shows as escaped JSON or a Python literal
            if '\\"' in stripped or "{'" in stripped:
                sites.extend(_nested_sites(whole, depth))
            sites.append(ObjectSite("", whole, {}))
            return sites
    for begin, end in balanced_objects(text):
        obj = parse_object(text[begin:end])
        if obj is None:
            if depth < MAX_NESTING and "{" in text[begin + 1 : end - 1]:
                # an object no parser reads whole may hold readable ones: Node's util.inspect
                # of an AI SDK RetryError lists each attempt's error, stack and all, in
                # `errors: [...]` (client-log-formats.md section 3)
                inner_sites = find_objects(text[begin + 1 : end - 1], depth + 1)
                if any(fields_from_object(s.obj) for s in inner_sites):
                    sites.extend(inner_sites)
                    continue
            obj = _loose_object(text[begin:end])
            if not obj:
                continue
        prefix = text[max(0, begin - PREFIX_WINDOW) : begin]
        site = ObjectSite(prefix, obj, {})
        for inner in _nested_sites(obj, depth):
            inner.parent = site
            sites.append(inner)
        sites.append(site)
    if not sites and depth < MAX_NESTING and '\\"' in text:
        # JSON escaped inside a JSON string or a proxy's message: unescape and look again
        return find_objects(text.replace('\\\\"', '\\"').replace('\\"', '"'), depth + 1)
    return sites


def _nested_sites(obj: dict[str, Any], depth: int) -> list[ObjectSite]:
    """API bodies inside string values (a JSON log whose message holds the SDK's str(resp))."""
    out: list[ObjectSite] = []
    if depth >= MAX_NESTING:
        return out
    for value in _string_values(obj):
        if "{" in value:
            for inner in find_objects(value, depth + 1):
                inner.context = {**fields_from_object(obj), **inner.context}
                out.append(inner)
    return out


def _string_values(obj: Any, depth: int = 0) -> Iterator[str]:
    if depth > MAX_NESTING:
        return
    if isinstance(obj, dict):
        for v in obj.values():
            yield from _string_values(v, depth + 1)
    elif isinstance(obj, list):
        for v in obj[:50]:
            yield from _string_values(v, depth + 1)
    elif isinstance(obj, str):
        yield obj


def _loose_object(body: str) -> dict[str, Any]:
    """Last resort for bodies no parser accepts (unescaped inner JSON, truncation): key regex."""
    pairs = kv_pairs(body)
    aliases = {p[-1] for paths in field_aliases().values() for p in paths}
    return {k: v for k, v in pairs.items() if k in aliases}


class RecordMatcher:
    """Matches records against the registry, sharing parsed objects between object formats."""

    def __init__(self, formats: Sequence[LogFormat]) -> None:
        self.formats = tuple(formats)
        #: each distinct trigger literal is looked for once per record, not once per format
        self._triggers = tuple(sorted({t for f in self.formats for t in f.triggers}))
        self._trigger_sets = tuple(frozenset(f.triggers) for f in self.formats)

    def triggers_in(self, text: str) -> set[str]:
        return {t for t in self._triggers if t in text}

    def match(self, text: str, record_ts: str | None = None) -> list[RawEvent]:
        """The events of one record, most specific format first.

        A record can tell more than one outcome: lines printed without a timestamp (``print(e)``
        on stdout, beside a timestamped stderr log) join the record above them
        (ingest.records), so a retry WARNING and a printed final failure can share one record
        (client-log-formats.md sections 6.1 and 7). So a regex format claims only the text it
        matched, and the formats after it read the rest (claimed text is blanked, offsets
        kept). A format that reads structured bodies or key=value pairs reads the whole record
        and ends the matching. The same failure told twice in one record (an ERROR line with
        ``%s`` of the exception, then its traceback) is merged by ingest.events.
        """
        present = self.triggers_in(text)
        if not present:
            return []
        out = self._match(text, present)
        if out:
            self._enrich(out, text, record_ts)
        return out

    def _match(self, text: str, present: set[str]) -> list[RawEvent]:
        """The events of one record (see match). A record that is (or ends with) a JSON object
        has a ``view`` (``json_view``): its string values as text lines, which the regex
        formats read instead of the raw JSON (in it a stack trace has its line breaks, a value
        its start of line and its end) and whose words the exclude words are looked for in
        (a key name such as loguru's ``"exception": null`` is no word of the message). It is
        made only when a regex format or an exclude word is to be tried."""
        sites: list[ObjectSite] | None = None
        pairs: dict[str, Any] | None = None  # key=value pairs, read once per record
        fields: dict[str, Any] = {}
        lower: str | None = None
        rest = text  # the text no format has claimed yet
        taken: list[tuple[int, int]] = []  # the spans claimed so far
        out: list[RawEvent] = []
        view: str | None = None
        made = text[-4:].rstrip()[-1:] != "}"  # no JSON object ends it: no view to make
        for fmt, wanted in zip(self.formats, self._trigger_sets, strict=True):
            if present.isdisjoint(wanted):
                continue
            if not made and fmt.kind == "regex":
                view, made = json_view(text), True
            # a JSON record's regex formats read its string values; the claimed text is the
            # view's, and once a text format read the record, its JSON is no other outcome's
            own = view if view is not None and fmt.kind == "regex" else rest
            if fmt.guard is not None and not fmt.guard.search(own):
                continue
            if fmt.exclude_words:
                if lower is None:
                    lower = (view if view is not None else rest).lower()
                if not made and any(w in lower for w in fmt.exclude_words):
                    view, made = json_view(text), True
                    lower = view.lower() if view is not None else lower
                if any(w in lower for w in fmt.exclude_words):
                    continue
            claimed: list[tuple[int, int]] | None = None  # None: the whole record
            if fmt.kind == "object":
                if sites is None:
                    sites = find_objects(rest)
                events = self._objects(fmt, rest, sites)
            elif fmt.kind == "regex":
                claimed = []
                events = self._regex(fmt, own, claimed, taken)
            else:
                if pairs is None:
                    pairs = kv_pairs(rest)
                    fields = fields_from_object(pairs)
                events = self._kv(fmt, rest, pairs, fields)
            if not events:
                continue
            out.extend(events)
            if claimed is None:
                break
            taken.extend(claimed)
            if view is not None:
                view = _blank(view, claimed)
                rest = _blank(rest, [(0, len(rest))])
                present = self.triggers_in(view)
            else:
                rest = _blank(rest, claimed)
                present = self.triggers_in(rest)
            if not present:
                break
            sites, pairs, lower = None, None, None
        return out

    def _enrich(self, events: list[RawEvent], text: str, record_ts: str | None) -> None:
        model: str | None = None
        head = text[:160]
        _add_context(events, text)
        if _one_failure(events):
            _add_request_id(events, text)
        own_ts: Any = None  # the record's structured timestamp, read once when needed
        # a time the record does not write at its head was inherited from a record above (a
        # JSON line under a timestamped banner): the record's own structured time beats it
        inherited = record_ts is not None and record_ts not in text[:200]
        for ev in events:
            ev["shape"] = head  # reduced to its shape only where a merge needs it
            if not ev.get("ts"):
                if (record_ts is None or inherited) and own_ts is None:
                    own_ts = structured_ts(text) or ""
                ev["ts"] = own_ts or record_ts or None
            if not ev.get("model"):
                if model is None and not any(h in text for h in _MODEL_WORDS):
                    model = ""
                if model is None:
                    model = _structured_model(text)
                if model is None:
                    hint = MODEL_HINT.search(text)
                    model = hint.group("model") if hint else ""
                if model:
                    ev["model"] = model

    # -- per kind ------------------------------------------------------------------------------

    def _regex(
        self,
        fmt: LogFormat,
        text: str,
        claimed: list[tuple[int, int]] | None = None,
        taken: list[tuple[int, int]] = [],  # noqa: B006 - read only
    ) -> list[RawEvent]:
        """Events of a regex format; the spans of the matches that made one go to ``claimed``.

        A match that touches text an earlier format claimed (``openai.RateLimitError: `` before
        the ``Error code: 429 - ...`` another format read) is a piece of that mention, not one
        of its own."""
        assert fmt.pattern is not None
        out: list[RawEvent] = []
        for m in fmt.pattern.finditer(text):
            if taken and _touches(text, m.span(), taken):
                continue
            groups = {k: v for k, v in m.groupdict().items() if v not in (None, "")}
            if fmt.url_pattern is not None and not fmt.url_pattern.search(groups.get("url", "")):
                continue
            ev: RawEvent = {}
            cls = groups.pop("cls", None)
            if cls is not None:
                short = cls.rsplit(".", 1)[-1]
                if short in fmt.class_status and "status" not in groups:
                    ev["status"] = fmt.class_status[short]
                    ev["status_from_class"] = True
                if short in fmt.class_code:
                    ev["code"] = fmt.class_code[short]
            for key in ("status", "code", "message", "request_id", "model", "ts"):
                if key in groups:
                    ev[key] = groups[key].strip()
            body = groups.get("body") or groups.get("message") or ""
            if "{" in body:
                for site in find_objects(body):
                    inner = fields_from_object(site.obj)
                    if "code" in inner or "message" in inner or "status" in inner:
                        status = ev.get("status")
                        ev.update({k: v for k, v in inner.items() if k != "timestamp"})
                        if status is not None:
                            ev["status"] = status
                        break
            if fmt.model_pattern is not None and "model" not in ev:
                mm = fmt.model_pattern.search(text)
                if mm:
                    ev["model"] = mm.group("model")
            if _has_evidence(fmt, ev):
                out.append(self._finish(fmt, ev, text))
                if claimed is not None:
                    claimed.append(m.span())
        return out

    def _objects(self, fmt: LogFormat, text: str, sites: list[ObjectSite]) -> list[RawEvent]:
        out: list[RawEvent] = []
        told: set[int] = set()  # sites whose body (a string value) already made an event
        for site in sites:
            if id(site) in told or not _object_matches(fmt, site.obj):
                continue
            ev: RawEvent = {}
            if fmt.prefix is not None:
                pm = fmt.prefix.search(site.prefix)
                if pm is None:
                    continue
                ev.update({k: v for k, v in pm.groupdict().items() if v})
            fields = fields_from_object(site.obj)
            for key, value in fields.items():
                if key == "timestamp":
                    ev["ts"] = value
                elif key not in ev:
                    ev[key] = value
            for key in ("model", "timestamp", *CONTEXT_FIELDS):
                if key in site.context and (key if key != "timestamp" else "ts") not in ev:
                    ev[key if key != "timestamp" else "ts"] = site.context[key]
            if site.parent is not None and "status" not in ev and "status" in site.context:
                # a response body held as a string by the error that carries its HTTP status
                # (the AI SDK's {statusCode, responseBody: '{"error": ...}'}): one outcome
                ev["status"] = site.context["status"]
            if _has_evidence(fmt, ev):
                out.append(self._finish(fmt, ev, text))
                if site.parent is not None:
                    told.add(id(site.parent))
        return _dedupe_within(out)

    def _kv(
        self, fmt: LogFormat, text: str, pairs: dict[str, Any], fields: dict[str, Any]
    ) -> list[RawEvent]:
        if not _object_matches(fmt, pairs):
            return []
        ev: RawEvent = {}
        for key, value in fields.items():
            if key == "timestamp" and to_iso(value) is None:
                continue  # no time: the text of a JSON key's object ("instant":{"epochSecond"...)
            ev["ts" if key == "timestamp" else key] = value
        return [self._finish(fmt, ev, text)] if _has_evidence(fmt, ev) else []

    @staticmethod
    def _finish(fmt: LogFormat, ev: RawEvent, text: str) -> RawEvent:
        if fmt.status_hint is not None and ev.get("status") in (None, "", 200, "200"):
            hm = fmt.status_hint.search(text)
            if hm:
                if ev.get("status") not in (None, ""):
                    ev["logged_status_hint"] = ev["status"]
                ev["status"] = hm.group("status")
        ev["format"] = fmt.name
        ev["role"] = fmt.role
        if fmt.error is not None:
            ev["error"] = fmt.error
        if fmt.success:
            ev["error"] = False
            ev["success"] = True

        return ev


_NOT_NEWLINE = re.compile(r"[^\n]")


def _touches(text: str, span: tuple[int, int], taken: list[tuple[int, int]]) -> bool:
    """``span`` overlaps a taken span or only whitespace lies between them."""
    begin, end = span
    for b, e in taken:
        if begin < e and b < end:
            return True
        if e <= begin and not text[e:begin].strip():
            return True
        if end <= b and not text[end:b].strip():
            return True
    return False


def _blank(text: str, spans: list[tuple[int, int]]) -> str:
    """``text`` with the spans blanked (newlines kept, so offsets and lines stay put)."""
    parts = []
    pos = 0
    for begin, end in sorted(spans):
        start = max(begin, pos)
        parts.append(text[pos:start])
        parts.append(_NOT_NEWLINE.sub(" ", text[start:end]))
        pos = max(pos, end)
    parts.append(text[pos:])
    return "".join(parts)


def line_object(text: str) -> tuple[str, dict[str, Any]] | None:
    """A one-line record that is a JSON object, or ends with one (winston's simple format:
    ``error: <message> {"timestamp": ..., ...}``): the text before the object and the object.
    None for any other record."""
    line = text.strip()
    if line[-1:] != "}" or "\n" in line:
        return None
    if line[:1] == "{":
        try:
            whole = orjson.loads(line)
        except orjson.JSONDecodeError:
            whole = None
        if isinstance(whole, dict):
            return "", whole
    last = None
    for begin, end in balanced_objects(line):
        last = (begin, end)
    if last is None or last[1] != len(line):
        return None
    obj = parse_object(line[last[0] :])
    return (line[: last[0]], obj) if isinstance(obj, dict) else None


def json_view(text: str) -> str | None:
    """A record that is (or ends with) a JSON object, as text: the text before the object,
    then the object's string values, decoded, one per line (a logger's ``"stack"``,
    ``"exception"`` or ``"error"`` value is text that a text format reads: its escaped line
    breaks are line breaks there, its quotes no delimiters). None for any other record."""
    if "}" not in text[-4:]:
        return None
    found = line_object(text)
    if found is None:
        return None
    prefix, obj = found
    values = [v for v in _string_values(obj) if v.strip()]
    return "\n".join([prefix.rstrip(), *values] if prefix.strip() else values)


def _structured_model(text: str) -> str | None:
    """The model a JSON record names in its own fields (loguru's ``record.extra.model``),
    before any text hint: a traceback's source line (``create(model=MODEL, ...)``) is code,
    not the call's model."""
    if text[:1] != "{" and "} " not in text and not text.rstrip().endswith("}"):
        return None
    found = line_object(text)
    if found is None:
        return None
    model = fields_from_object(found[1]).get("model")
    return model if isinstance(model, str) and model else None


def structured_ts(text: str) -> Any:
    """The timestamp a record's own structure names, for events read from a text format inside
    it: the timestamp alias of the JSON object that is the record or ends it (zap's
    ``"ts":1763604004.123``, pino's ``"time"``, winston's simple format) or a ``key=value``
    timestamp alias of a logfmt line (logrus ``time="..."``, slog ``time=...``), on the
    record's first line; the Date header of an HTTP response (curl -i / -v output, grouped by
    ingest.records: the time of the answer, client-log-formats.md section 6.10). None when it
    names none."""
    line = text.lstrip().split("\n", 1)[0].rstrip()
    if line[:1] in "H<" and HTTP_STATUS_LINE.match(line):
        date = _HTTP_DATE.search(text)
        return date.group("date").strip() if date else None
    found = line_object(line) if line[-1:] == "}" else None
    if found is not None:
        return fields_from_object(found[1]).get("timestamp")
    if line[:1] == "{":
        span = next(balanced_objects(line), None)
        obj = parse_object(line[span[0] : span[1]]) if span and span[0] == 0 else None
        return fields_from_object(obj).get("timestamp") if isinstance(obj, dict) else None
    m = _kv_ts_pattern().search(line)
    if m is None:
        return None
    return m.group("quoted") if m.group("quoted") is not None else m.group("bare")


_HTTP_DATE = re.compile(r"(?im)^(?:< )?date: (?P<date>[^\n]{1,64})$")


@lru_cache(maxsize=1)
def _kv_ts_pattern() -> re.Pattern[str]:
    """``<timestamp alias>=value`` (quoted or bare), the first one of a line."""
    names = {p[0] for p in field_aliases()["timestamp"] if len(p) == 1}
    alternation = "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
    return re.compile(
        rf"""(?<![\w.@-])(?:{alternation})=(?:"(?P<quoted>[^"\n]{{1,64}})"|(?P<bare>[^\s"]{{1,64}}))"""
    )


def _add_context(events: list[RawEvent], text: str) -> None:
    """The API key and client host the record names, where the format did not read them."""
    if all(ev.get(f) not in (None, "") for ev in events for f in CONTEXT_FIELDS):
        return
    found = context_in_text(text)
    for ev in events:
        for field, value in found.items():
            if ev.get(field) in (None, ""):
                ev[field] = value


@lru_cache(maxsize=1)
def _request_id_pattern() -> re.Pattern[str]:
    """``request_id: x`` / ``'x-request-id': 'x'`` / ``requestId=x`` under any request id alias
    (formats/fields.toml), anywhere in a record."""
    names = {p[-1] for p in field_aliases()["request_id"] if p[-1].lower() not in ("id", "task_id")}
    alternation = "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
    return re.compile(
        rf"""(?i)(?<![\w-])["']?(?:{alternation})["']?\s*[:=]\s*["']?"""
        r"""(?P<rid>[A-Za-z0-9][A-Za-z0-9_-]{15,79})(?![\w-])"""
    )


def _one_failure(events: list[RawEvent]) -> bool:
    """The events of a record are one failure told more than once (winston's message and
    stack of one error), none with a request id: one status at most, one code at most, no
    retried attempt among them."""
    if len(events) == 1:
        return not events[0].get("request_id")
    if any(ev.get("request_id") or ev.get("role") == "retry" for ev in events):
        return False
    statuses = {str(ev["status"]) for ev in events if ev.get("status") not in (None, "")}
    codes = {str(ev["code"]) for ev in events if ev.get("code") not in (None, "")}
    return len(statuses) <= 1 and len(codes) <= 1


def _add_request_id(events: list[RawEvent], text: str) -> None:
    """The request id a record names outside the body the format read (a response header, an
    error's ``responseBody`` string), when it names exactly one."""
    if "equest" not in text and "EQUEST" not in text and "eq_id" not in text and "eqId" not in text:
        return
    found = {m.group("rid") for m in _request_id_pattern().finditer(text)}
    if len(found) == 1:
        rid = found.pop()
        for ev in events:
            ev["request_id"] = rid


def _has_evidence(fmt: LogFormat, ev: RawEvent) -> bool:
    """An API outcome needs a status, a code, or a format that says it is a failure."""
    if fmt.error or fmt.success or fmt.role == "retry":
        return True
    status = ev.get("status")
    if isinstance(status, int) and not isinstance(status, bool):
        return True
    if isinstance(status, str) and status.strip().lstrip("-").isdigit():
        return True
    code = ev.get("code")
    if code == "undefined":
        # Node's util.inspect of an error that got no response ('status: undefined, code:
        # undefined', openai-node's APIConnectionError): no outcome of its own
        return False
    return code not in (None, "") and not isinstance(code, bool)


def _dedupe_within(events: list[RawEvent]) -> list[RawEvent]:
    """The same body printed twice in one record (Java's `; status body:` copy) is one event."""
    seen: set[tuple[Any, ...]] = set()
    out = []
    for ev in events:
        key = tuple(str(ev.get(k)) for k in ("request_id", "code", "status", "message"))
        if key in seen:
            continue
        seen.add(key)
        out.append(ev)
    return out
