"""Find structured bodies inside free text and read fields from them by key aliases.

The principle (../shared/reference/client-log-formats.md, section 6.3): scan for balanced braces,
then try JSON, then a Python literal (``repr`` of an SDK response or of an openai error body),
then an unescape-and-retry loop, then a field regex. Field names come from ``fields.toml``, so a
new key spelling is a data change.
"""

from __future__ import annotations

import ast
import re
import tomllib
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

import orjson

MAX_OBJECT_CHARS = 1 << 20
#: balanced_objects scans at most this many times the text (see there)
SCAN_BUDGET_FACTOR = 8
_SPECIAL = re.compile(r"""[{}"'\\]""")


def balanced_objects(text: str, start: int = 0) -> Iterator[tuple[int, int]]:
    """Yield (begin, end) spans of top-level balanced ``{...}`` objects in ``text``.

    Quotes of either kind are honoured (JSON and Python repr), backslash escapes too. An object
    that never closes ends the scan at its opening brace + 1 (a truncated paste).

    Every failed opening brace costs a scan to the end of the text, so the characters scanned
    in all are capped at SCAN_BUDGET_FACTOR times the text (plus 4 KiB): 100,000
    unclosed braces stay linear instead of 10^10 steps; past the budget no more objects are
    looked for in this text.
    """
    pos = text.find("{", start)
    n = len(text)
    budget = SCAN_BUDGET_FACTOR * (n - start) + 4096
    while pos != -1 and pos < n:
        depth = 0
        quote = ""
        end = -1
        last = pos
        for m in _SPECIAL.finditer(text, pos):
            ch = m.group()
            i = m.start()
            last = i
            if i - pos > MAX_OBJECT_CHARS or i - pos > budget:
                break
            if quote:
                if ch == "\\":
                    continue  # handled by skipping via regex below
                if ch == quote and not _escaped(text, i):
                    quote = ""
                continue
            if ch in "\"'":
                # an apostrophe inside unquoted text (e.g. "don't") must not open a string
                if ch == "'" and i > 0 and text[i - 1].isalnum():
                    continue
                quote = ch
            elif ch == "{":
                depth += 1
            elif ch == "}":
                depth -= 1
                if depth == 0:
                    end = i + 1
                    break
        budget -= (end if end != -1 else last) - pos
        if end == -1:
            if budget <= 0:
                return
            pos = text.find("{", pos + 1)
            continue
        yield pos, end
        pos = text.find("{", end)


def _escaped(text: str, i: int) -> bool:
    k = i - 1
    count = 0
    while k >= 0 and text[k] == "\\":
        count += 1
        k -= 1
    return count % 2 == 1


_PY_LITERAL_HINT = re.compile(r"'|\bNone\b|\bTrue\b|\bFalse\b")


def parse_object(body: str) -> dict[str, Any] | None:
    """Parse a JSON object or Python dict literal tolerantly; None when nothing works."""
    if len(body) > MAX_OBJECT_CHARS:
        return None
    for candidate in _candidates(body):
        try:
            value = orjson.loads(candidate)
        except orjson.JSONDecodeError:
            value = None
            if _PY_LITERAL_HINT.search(candidate):
                try:
                    value = ast.literal_eval(candidate)
                except (ValueError, SyntaxError, MemoryError, RecursionError, TypeError):
                    value = None
        if isinstance(value, dict):
            return value
    if _JS_KEY.search(body):
        try:
            value = ast.literal_eval(js_literal(body))
        except (ValueError, SyntaxError, MemoryError, RecursionError, TypeError):
            value = None
        if isinstance(value, dict):
            return value
    return None


# ---------------------------------------------------------------------------------------------
# Node's util.inspect (console.error(err), console.log(obj), `${obj}` never): unquoted keys,
# single-quoted strings, null/undefined, class-name prefixes ('Headers {'), placeholders for
# what is too deep or not data ('[Object]', '[Array]', '[Function: f]', '[Circular *1]'),
# '[Symbol(x)]' keys. openai-node's error dump (status, headers, error, code, request_id) and
# the AI SDK's APICallError (statusCode, responseHeaders, responseBody) are printed so
# (client-log-formats.md section 3). Turned into a Python literal token by token.

#: an unquoted key after "{" or ",": the body is no JSON and no Python literal, maybe inspect
_JS_KEY = re.compile(r"[{,]\s*[A-Za-z_$][\w$]*:\s")
_JS_TOKEN = re.compile(
    r"""(?P<str>'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*"|`(?:[^`\\]|\\.)*`)"""
    r"""|(?P<holder>\[(?:Object|Array|Circular\ \*\d{1,6}|Getter(?:/Setter)?|Setter"""
    r"""|(?:Async)?(?:Generator)?Function(?::\ [\w$.]{1,200}|\ \(anonymous\))?"""
    r"""|class\ [\w$]{1,200}(?:\ extends\ [\w$.]{1,200})?|Symbol\([^)\n]{0,200}\))\])"""
    r"""|(?P<ref><ref\ \*\d{1,6}>|\.\.\.\ \d{1,12}\ more\ items?)"""
    r"""|(?P<word>[A-Za-z_$][\w$]*)(?P<count>\(\d{1,12}\))?(?P<after>\s*[:{\[]?)"""
    r"""|(?P<other>[^'"`A-Za-z_$\[<.]+|.)""",
    re.DOTALL,
)
_JS_VALUES = {"null": "None", "undefined": "None", "true": "True", "false": "False"}


def js_literal(body: str) -> str:
    """A util.inspect object as a Python literal (ast.literal_eval reads the result)."""
    out: list[str] = []
    for m in _JS_TOKEN.finditer(body):
        if m.group("str") is not None:
            text = m.group("str")
            out.append(repr(text[1:-1]) if text[0] == "`" else text)  # a template string
        elif m.group("holder") is not None:
            after = body[m.end() : m.end() + 1]
            out.append(repr(m.group("holder")) if after == ":" else "None")
        elif m.group("ref") is not None:
            continue
        elif m.group("word") is not None:
            word, after = m.group("word"), m.group("after")
            mark = after.strip()
            if mark == ":":
                out.append(repr(word) + after)
            elif mark in ("{", "["):
                out.append(after)  # 'Headers {', 'Array(2) [': the class name goes
            elif word in _JS_VALUES:
                out.append(_JS_VALUES[word] + after)
            elif word in ("NaN", "Infinity"):
                out.append("None" + after)
            else:
                out.append(repr(word) + after)  # a bare word: keep it as text
        else:
            out.append(m.group())
    return "".join(out)


def _candidates(body: str) -> Iterator[str]:
    yield body
    # escaped JSON inside JSON strings or Markdown: \" -> ", \[ -> [, doubled escapes
    seen = {body}
    cur = body
    for _ in range(3):
        nxt = cur.replace('\\\\"', '\\"') if '\\\\"' in cur else cur.replace('\\"', '"')
        nxt = nxt.replace("\\[", "[").replace("\\]", "]").replace("\\_", "_")
        if nxt in seen:
            break
        seen.add(nxt)
        yield nxt
        cur = nxt
    # terminal-wrapped JSON: a newline and indentation inside a string; also when it was
    # Markdown-escaped too (a hard-wrapped Java trace pasted into an issue, section 2)
    if "\n" in body:
        yield re.sub(r"\n\s*", "", body)
        if cur != body:
            yield re.sub(r"\n\s*", "", cur)


# ---------------------------------------------------------------------------------------------
# key aliases


@lru_cache(maxsize=1)
def fields_file() -> dict[str, Any]:
    path = Path(__file__).parent / "formats" / "fields.toml"
    return tomllib.loads(path.read_text(encoding="utf-8"))


def _paths(table: dict[str, list[str]]) -> dict[str, tuple[tuple[str, ...], ...]]:
    return {field: tuple(tuple(a.split(".")) for a in aliases) for field, aliases in table.items()}


@lru_cache(maxsize=1)
def field_aliases() -> dict[str, tuple[tuple[str, ...], ...]]:
    """field -> alias paths (each a tuple of keys), from formats/fields.toml."""
    return _paths(fields_file()["aliases"])


@lru_cache(maxsize=1)
def _alias_index() -> dict[str, tuple[tuple[str, int, tuple[str, ...]], ...]]:
    """First key of an alias path (lower case) -> (field, priority, rest of the path); the
    ``[context]`` names (API key, client host: ingest.context) are read from objects too."""
    index: dict[str, list[tuple[str, int, tuple[str, ...]]]] = {}
    for field, paths in {**field_aliases(), **_paths(fields_file()["context"])}.items():
        for priority, path in enumerate(paths):
            rest = tuple(p.lower() for p in path[1:])
            index.setdefault(path[0].lower(), []).append((field, priority, rest))
    return {k: tuple(v) for k, v in index.items()}


def _descend(value: Any, rest: tuple[str, ...]) -> Any:
    for key in rest:
        if not isinstance(value, dict):
            return None
        if key in value:
            value = value[key]
            continue
        for k, v in value.items():  # RequestId, Code, Message: keys match case-insensitively
            if isinstance(k, str) and k.lower() == key:
                value = v
                break
        else:
            return None
    return value


def fields_from_object(obj: dict[str, Any], nested: bool = False) -> dict[str, Any]:
    """Read the event fields of an object by their aliases (the earliest alias present wins).

    Walks the object's own keys once (not the alias list), so a wide JSON log record costs
    one dictionary lookup per key. A field the object's own keys do not name is read from
    the containers loggers nest an app's fields in (loguru's ``record.extra``, Log4j2's
    ``contextMap``, Serilog's ``Properties``; not from a container inside a container:
    ``nested``).
    """
    index = _alias_index()
    best: dict[str, tuple[int, Any]] = {}
    for key, raw in obj.items():
        if not isinstance(key, str):
            continue
        candidates = index.get(key.lower())
        if candidates is None:
            continue
        for field, priority, rest in candidates:
            held = best.get(field)
            if held is not None and held[0] <= priority:
                continue
            value = _descend(raw, rest) if rest else raw
            if field == "timestamp" and isinstance(value, dict):
                value = _instant(value)
            if value is None or value == "" or not isinstance(value, str | int | float):
                continue  # a dict, list, set or tuple (a Python literal) is no field value
            # a bare "id" is a request id only in the compat form chatcmpl-<rid>
            if (
                field == "request_id"
                and not rest
                and key.lower() == "id"
                and not (isinstance(value, str) and value.startswith("chatcmpl-"))
            ):
                continue
            best[field] = (priority, value)
    out = {field: value for field, (_p, value) in best.items()}
    if not nested:
        for path in _containers():
            inner = _descend(obj, path)
            if isinstance(inner, dict):
                for field, value in fields_from_object(inner, nested=True).items():
                    out.setdefault(field, value)
    return out


@lru_cache(maxsize=1)
def _containers() -> tuple[tuple[str, ...], ...]:
    """Where logging libraries nest an application's own fields ([containers] of
    fields.toml), lower-cased key paths."""
    paths = fields_file().get("containers", {}).get("paths", [])
    return tuple(tuple(k.lower() for k in p.split(".")) for p in paths)


def _instant(value: dict[str, Any]) -> str | None:
    """Java's Instant as Log4j2's JsonLayout writes it, ``{"epochSecond": 1763604004,
    "nanoOfSecond": 123000000}``, as the exact decimal text of its epoch seconds."""
    seconds, nanos = value.get("epochSecond"), value.get("nanoOfSecond", 0)
    if type(seconds) is not int or type(nanos) is not int or not 0 <= nanos < 10**9:
        return None
    return f"{seconds}.{nanos:09d}"


@lru_cache(maxsize=2)
def _kv_key_pattern(chinese_labels: bool = False) -> re.Pattern[str]:
    """The known keys of key-value text; ``chinese_labels``: with the [labels] of fields.toml
    (tried only on text that is not ASCII, where they can be: the ASCII pattern is faster)."""
    keys = sorted(
        {p[-1] for paths in field_aliases().values() for p in paths}, key=len, reverse=True
    )
    alternation = "|".join(re.escape(k) for k in keys)
    # the context names end a value too, in their `key=value` form only (ingest.context)
    names = {n for ns in fields_file()["context"].values() for n in ns if "." not in n}
    context = "|".join(re.escape(k) for k in sorted(names - set(keys), key=len, reverse=True))
    # prose labels: "Status code: 429, error code: ..., Request ID: ..." (the quick-start print
    # and the many app lines copied from it, client-log-formats.md section 1) are the snake_case
    # aliases written as words, in any case, and only with a colon
    spaced = sorted({k for k in keys if "_" in k and k.replace("_", "").isalpha()}, key=len)
    labels = "|".join(r"[ ]".join(map(re.escape, k.split("_"))) for k in reversed(spaced))
    # Chinese labels ([labels] of fields.toml: '错误码：…，错误信息：…'): Chinese text has no
    # spaces, so they need no boundary before them
    chinese = "|".join(re.escape(k) for k in sorted(_chinese_labels(), key=len, reverse=True))
    zh = rf"""|(?P<zh>{chinese})\s*[:：]""" if chinese_labels and chinese else ""
    # a full-width colon too: Chinese app lines write 'request_id：…，code：…' (section 6.8);
    # not in the pattern for ASCII text, where it cannot be (a faster character class)
    colon = ":：" if chinese_labels else ":"
    return re.compile(
        rf"""(?:(?<![\w.-])["']?(?:(?P<key>{alternation})["']?\s*[={colon}]|(?P<ckey>{context})="""
        rf"""|(?i:(?P<label>{labels}))\s*[{colon}]){zh})\s*"""
    )


@lru_cache(maxsize=1)
def _chinese_labels() -> dict[str, str]:
    """Label -> the key it stands for ([labels] of fields.toml)."""
    table = fields_file().get("labels", {})
    return {label: key for key, labels in table.items() for label in labels}


#: separators after a value: ASCII, and the full-width ones of Chinese app lines ('，', '；',
#: '】', '」'; client-log-formats.md section 6.8); a closing parenthesis ends only a value that
#: is no message
_VALUE_ENDS = ",;|}]，；】」"


def kv_pairs(text: str) -> dict[str, str]:
    """``key=value`` / ``key: value`` pairs whose keys are known aliases (first occurrence wins).

    A value runs to the next known key, so unquoted messages with commas survive
    (``message=Requests rate limit exceeded, please try again later., model=qwen-plus``).
    """
    out: dict[str, str] = {}
    chinese = not text.isascii()
    matches = list(_kv_key_pattern(chinese).finditer(text))
    for i, m in enumerate(matches):
        if chinese and m.group("zh") is not None:
            key = _chinese_labels()[m.group("zh")]
        else:
            key = m.group("key") or m.group("ckey") or m.group("label").lower().replace(" ", "_")
        end = matches[i + 1].start() if i + 1 < len(matches) else len(text)
        raw = text[m.end() : end]
        if raw[:1] and raw[:1] in "\"'":  # "" is in every string: an empty value
            q = raw[0]
            close = _closing_quote(raw, q)
            val = raw[1:close] if close > 0 else raw[1:]
        else:
            val = raw.split("\n", 1)[0].rstrip().rstrip(_VALUE_ENDS).rstrip()
            if key not in ("message", "msg", "error_message", "errorMessage", "error_msg"):
                val = val.split()[0] if val.split() else ""
                # nor the quote of a string it stands in ('"message": "ok model=qwen-plus"')
                val = val.rstrip(_VALUE_ENDS + ")）\"'")
        if key not in out and val:
            out[key] = val
    return out


def _closing_quote(raw: str, q: str) -> int:
    i = 1
    while i < len(raw):
        if raw[i] == "\\":
            i += 2
            continue
        if raw[i] == q:
            return i
        i += 1
    return -1
