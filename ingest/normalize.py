"""Normalization: raw fields of a matched record -> one event row, as a short list of named steps.

Each step is a small ``dict -> dict`` function (the structlog idea, ../shared/reference/style.md);
``normalize`` runs them in order. Rules cite ../shared/reference/dashscope-errors.md ("statuses
that lie", compat aliases) and client-log-formats.md (section 6, the cross-cutting checklist).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from ingest.catalog import Catalogue, load_catalogue
from ingest.context import clean_api_key, clean_client_host
from ingest.redact import redact

Fields = dict[str, Any]

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_RUST_SOME = re.compile(r"""^Some\(\s*["']?(.*?)["']?\s*\)?$""")
_NULLS = {"", "none", "null", "nil", "undefined", "n/a", "na", "-", "unknown", "xxx", "..."}
#: <400> InternalError.Algo.DataInspectionFailed: ...   (openai-node, compat messages)
_INNER_PREFIX = re.compile(
    r"^\s*(?:\[?API Error:\s*)?(?:(?P<outer>\d{3})\s+)?<(?P<status>\d{3,7})>\s*"
    r"(?P<code>[A-Za-z][\w.]*)?:?\s*"
)
_DOC_ANCHOR = re.compile(
    r"(?:For details,? see:?\s*)?https?://(?:help\.aliyun\.com|www\.alibabacloud\.com)/[^\s#]{0,300}#(?P<anchor>[\w-]+)\S*"
)
_PLACEHOLDER_ID = re.compile(
    r"^(?:x+|\.+|0+|-+|none|null|<[^>]*>|\{[^}]*\}|\w{1,8}-?\.\.\.)$|\.\.\.$"
)
_WRAP = re.compile(r"[ \t]*\r?\n[ \t]*")
#: statuses the SDKs report that are not the HTTP status of the failure
WEBSOCKET_STATUS = 44
CLIENT_STATUS = -1


_CLEANED = ("status", "code", "message", "task_status", "error_type")


def clean_fields(ev: Fields, only: tuple[str, ...] = _CLEANED) -> Fields:
    """Strings stripped; None, "null", "" and friends become None."""
    for key in only:
        value = ev.get(key)
        if value is None:
            continue
        text = str(value)
        if "\r" in text:
            # a bare CR is a terminal redraw (progress bars): what follows it overwrote the line
            text = text.split("\r", 1)[0] or text.replace("\r", " ")
        text = _CONTROL.sub(" ", text).strip()
        if text.startswith("Some("):  # Rust's Option in a Debug print (async-openai's ApiError)
            text = _RUST_SOME.sub(r"\1", text)
        ev[key] = None if text.lower() in _NULLS and key != "message" else (text or None)
    if ev.get("message") in ("None", "null"):
        ev["message"] = None
    return ev


def parse_status(ev: Fields) -> Fields:
    """Integer status; non-numeric statuses ("ok", "FAILED") and 7-digit prefixes are not HTTP."""
    raw = ev.get("status")
    status: int | None = None
    if isinstance(raw, bool):
        raw = None
    if isinstance(raw, int | float) or (isinstance(raw, str) and re.fullmatch(r"-?\d{1,7}", raw)):
        status = int(raw)
    elif isinstance(raw, str) and raw.upper() in ("FAILED", "FAILURE", "ERROR"):
        ev["error"] = True
    if status is not None and not (
        status in (CLIENT_STATUS, WEBSOCKET_STATUS) or 100 <= status < 600
    ):
        status = None  # <5000202>-style prefixes are not HTTP statuses
    ev["logged_status"] = status
    code = ev.get("code")
    # numeric "code" fields in app logs: 0/200 success, 3-digit an HTTP status
    if isinstance(code, str) and re.fullmatch(r"-?\d+", code):
        n = int(code)
        if status is None and 100 <= n < 600:
            ev["logged_status"] = n
        ev["code"] = None if n in (0, 200) or 100 <= n < 600 else code
    return ev


def inner_prefix_hint(ev: Fields) -> Fields:
    """`<400> InternalError.Algo.X: msg`: the code in the prefix is the useful one."""
    msg = ev.get("message")
    if not msg or "<" not in msg[:40]:
        return ev
    m = _INNER_PREFIX.match(msg)
    if not m:
        return ev
    inner_code = m.group("code")
    if inner_code and (not ev.get("code") or _generic_code(ev["code"])):
        ev["code"] = inner_code
    inner_status = int(m.group("status"))
    if ev.get("logged_status") is None and 100 <= inner_status < 600:
        ev["logged_status"] = inner_status
    rest = msg[m.end() :].strip()
    ev["message"] = rest or msg
    return ev


def _generic_code(code: str) -> bool:
    return code.lower() in {
        "internal_error",
        "internal_server_error",
        "invalid_request_error",
        "invalid_parameter_error",
        "internalerror",
        "internalerror.algo",
    }


def doc_anchor_hint(ev: Fields, cat: Catalogue) -> Fields:
    """` For details, see: <doc url>#rate-limit`: the anchor is a code hint; the link is dropped."""
    msg = ev.get("message")
    if not msg or "http" not in msg:
        return ev
    m = _DOC_ANCHOR.search(msg)
    if not m:
        return ev
    if not ev.get("code"):
        hinted = cat.code_for_anchor(m.group("anchor"))
        if hinted:
            ev["code"] = hinted
    ev["message"] = (msg[: m.start()] + msg[m.end() :]).strip() or msg
    return ev


def code_from_message(ev: Fields, cat: Catalogue) -> Fields:
    """Message-only logs (openai 3.x, Qwen-Agent wrappers): the catalogue's known messages."""
    if ev.get("code") or not ev.get("message"):
        return ev
    entry = cat.match_message(ev["message"])
    if entry is not None:
        ev["code"] = entry.code
        ev["code_from_message"] = True
    return ev


def compat_to_native(ev: Fields, cat: Catalogue) -> Fields:
    """limit_requests -> Throttling.RateQuota, InternalError.Algo.X -> X; the raw code is kept."""
    raw = ev.get("code")
    if not raw and ev.get("error_type") and not str(ev["error_type"]).endswith("_error"):
        raw = ev["error_type"]
    ev["raw_code"] = raw
    ev["code"] = cat.native_code(raw) if raw else None
    return ev


def validate_request_id(ev: Fields) -> Fields:
    """Placeholders ("", xxx, ..., 920c6f68-...) become null; chatcmpl-<rid> becomes <rid>."""
    rid = ev.get("request_id")
    if rid is None:
        return ev
    rid = str(rid).strip().strip("'\"")
    if "\n" in rid:  # an id hard-wrapped by a terminal or an editor (client-log-formats.md 6.1)
        rid = _WRAP.sub("", rid)
    if rid.startswith("chatcmpl-"):
        rid = rid[len("chatcmpl-") :]
    if not rid or len(rid) < 8 or len(rid) > 128 or _PLACEHOLDER_ID.search(rid) or " " in rid:
        ev["request_id"] = None
    else:
        ev["request_id"] = rid
    return ev


def _failed_task(ev: Fields) -> bool:
    if str(ev.get("task_status") or "").upper() == "FAILED":
        return True
    return str(ev.get("event") or "").lower() in ("task-failed", "task_failed", "error")


def decide_error(ev: Fields) -> Fields:
    """An outcome is an error when its status is not 2xx/3xx, or it carries an error code."""
    status = ev.get("logged_status")
    forced = ev.get("error")
    if forced is not None:
        ev["is_error"] = bool(forced)
    elif _failed_task(ev):
        ev["is_error"] = True
    elif ev.get("code"):
        ev["is_error"] = ev["code"].lower() not in ("success", "ok", "200")
        if not ev["is_error"]:
            ev["code"] = ev["raw_code"] = None
    elif status is not None:
        ev["is_error"] = not (200 <= status < 400)
    else:
        # a failure line with no status and no code (openai 3.x mid-stream, retry notices)
        ev["is_error"] = ev.get("role") in ("retry", "detail")
    if not ev["is_error"]:
        ev["code"] = ev["raw_code"] = None
        if ev.get("role") != "detail":
            ev["message"] = None
    return ev


def reconcile_status(ev: Fields, cat: Catalogue) -> Fields:
    """Keep the logged status; where it is an artefact and the catalogue knows, report the real one.

    Artefacts (dashscope-errors.md, "Statuses that lie"): 200 and 400 for errors that arrived
    mid-stream, 44 for websocket task failures, -1 for client-side failures. A missing status is
    filled from the catalogue too (logged_status stays null, so the inference is visible).
    """
    logged = ev.get("logged_status")
    status = logged
    if ev["is_error"]:
        entry = cat.resolve(ev.get("code"), ev.get("message"), logged) if ev.get("code") else None
        known = entry.status if entry is not None else None
        artefact = logged in (None, 200, WEBSOCKET_STATUS, CLIENT_STATUS) or (
            logged == 400 and known is not None and known not in (400, -1)
        )
        if artefact and known is not None and known > 0:
            status = known
        elif logged in (200, WEBSOCKET_STATUS, CLIENT_STATUS):
            status = None  # an error is never a 200; 44 and -1 are not HTTP statuses
    if status is None and ev.get("success"):
        status = 200  # an app's "call ok" line: the call succeeded, the log shows no status
    ev["status_code"] = status
    return ev


def enrich(ev: Fields, cat: Catalogue) -> Fields:
    """Category and retryability from the catalogue; unknown codes by status class."""
    if not ev["is_error"]:
        ev["category"] = None
        ev["retryable"] = None
        return ev
    status = ev["status_code"] if ev["status_code"] is not None else ev.get("logged_status")
    category, retryable, _entry = cat.classify(ev.get("code"), ev.get("message"), status)
    ev["category"] = category
    ev["retryable"] = retryable
    return ev


def redact_message(ev: Fields) -> Fields:
    """API keys, auth headers, e-mails and mobile numbers out of the message (ingest.redact)."""
    if isinstance(ev.get("message"), str):
        ev["message"] = redact(ev["message"])
    return ev


def client_context(ev: Fields) -> Fields:
    """The API key as its hash (or as the app masked it), the client host unless it is the
    API's own (ingest.context)."""
    if ev.get("api_key") is not None:
        ev["api_key"] = clean_api_key(ev["api_key"])
    if ev.get("client_host") is not None:
        ev["client_host"] = clean_client_host(ev["client_host"])
    return ev


#: the semantic steps; request ids and models are cleaned per row (see ``normalize``)
STEPS: tuple[Callable[..., Fields], ...] = (
    clean_fields,
    parse_status,
    inner_prefix_hint,
    doc_anchor_hint,
    code_from_message,
    compat_to_native,
    decide_error,
    reconcile_status,
    enrich,
    redact_message,
    client_context,
)
_NEEDS_CATALOGUE = {doc_anchor_hint, code_from_message, compat_to_native, reconcile_status, enrich}


#: fields that differ on every row and pass through the semantic steps untouched
_PER_ROW = ("request_id", "model", "ts", "shape")
_MEMO: dict[tuple[Any, ...], Fields] = {}
_MEMO_MAX = 50_000


def normalize(ev: Fields, cat: Catalogue | None = None) -> Fields:
    """Run every step on one raw event (a dict from ingest.matcher) and return it.

    The steps depend on the status, code, message and flags, not on the request id, model or
    time, so their result is remembered per distinct combination: a log repeats a handful of
    error shapes and one success shape millions of times.
    """
    cat = cat or load_catalogue()
    per_row = {k: ev.pop(k) for k in _PER_ROW if k in ev}
    key = (id(cat), *sorted(ev.items()))
    done = _MEMO.get(key)
    if done is None:
        done = dict(ev)
        for step in STEPS:
            done = step(done, cat) if step in _NEEDS_CATALOGUE else step(done)
        if len(_MEMO) >= _MEMO_MAX:
            _MEMO.clear()
        _MEMO[key] = done
    out = dict(done)
    out.update(per_row)
    return validate_request_id(clean_fields(out, only=("request_id", "model")))
