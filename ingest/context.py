"""Who made a call: the API key (as a hash) and the client host, where the log names them.

The spike explainer of issue #6 ranks "model, code, source, API key hash and client host". The
events frame keeps its fixed 15 columns (the contract of issue #3), so these two live beside it:
the parse gives each error event's ``api_key`` / ``client_host`` (named by a JSON key, a
``key=value`` pair or an ``sk-`` key in the record; the names are data, ``formats/fields.toml``
section ``[context]``), and the report keeps them as a small table keyed by (source, line), the
key of an event row. ``attach`` joins them back onto any events frame that has those columns.

What the real clients write (client-log-formats.md section 7): the SDKs never log the key or the
host of a failure; application logs do (JSON logs with ``host`` / ``hostname`` / ``pod``,
``Authorization`` headers in debug lines, a masked ``api_key`` field). A key is never kept as
written: it becomes ``sk-…a1b2c3``, the salted hash ``ingest.redact`` labels keys with (issue #7).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd

from ingest.redact import API_KEY, key_label

#: the two fields, as raw event keys, event keys and column names
CONTEXT_FIELDS: tuple[str, str] = ("api_key", "client_host")

#: substrings one of which a record must hold before the key=value scan runs (it costs ~10 us)
_SCREEN = ("host", "_ip", 'ip"', "ip'", "addr", "forwarded", "pod", "key", "authorization", "sk-")
#: hosts that are the API, not a client (a request's own ``Host`` header)
_API_HOSTS = re.compile(r"(?i)(?:aliyuncs\.com|dashscope|openai\.com|bailian)")
#: a value that is already masked or hashed by the application (or by ingest.redact)
_MASKED = re.compile(r"[*…]|\.\.\.|^sk-…")
_BEARER = re.compile(r"(?i)^(?:bearer|token|basic)\s+")


@lru_cache(maxsize=1)
def context_aliases() -> dict[str, tuple[str, ...]]:
    """field -> its key names in priority order (``formats/fields.toml``, ``[context]``)."""
    from ingest.extract import fields_file

    data = fields_file()["context"]
    return {field: tuple(data[field]) for field in CONTEXT_FIELDS}


@lru_cache(maxsize=1)
def _pairs_pattern() -> re.Pattern[str]:
    names = sorted({n for names in context_aliases().values() for n in names}, key=len)
    alternation = "|".join(re.escape(n) for n in reversed(names))
    # `key=value`, or `"key": value` in a dict written inside a text line; `key: value` is prose
    return re.compile(
        rf"""(?i)(?<![\w.-])["']?(?P<key>{alternation})["']?\s*(?:=|(?<=["'])\s*:)\s*"""
        r"""["']?(?P<value>(?:(?:bearer|token)\s+)?[^\s"',;|)}\]]+)"""
    )


@lru_cache(maxsize=1)
def _priority() -> dict[str, tuple[str, int]]:
    """key name (lower case) -> (field, priority)."""
    out: dict[str, tuple[str, int]] = {}
    for field, names in context_aliases().items():
        for k, name in enumerate(names):
            out.setdefault(name.lower(), (field, k))
    return out


def context_in_text(text: str) -> dict[str, str]:
    """The raw api_key / client_host a record's text names (the highest-priority key wins; an
    ``sk-`` key anywhere is the API key when no key names one)."""
    lower = text.lower()
    if not any(s in lower for s in _SCREEN):
        return {}
    best: dict[str, tuple[int, str]] = {}
    for m in _pairs_pattern().finditer(text):
        field, priority = _priority()[m.group("key").lower()]
        held = best.get(field)
        if held is None or priority < held[0]:
            best[field] = (priority, m.group("value"))
    out = {field: value for field, (_p, value) in best.items()}
    if "api_key" not in out and "sk-" in text:
        key = API_KEY.search(text)
        if key is not None:
            out["api_key"] = key.group()
    return out


def clean_api_key(value: Any) -> str | None:
    """A key as the explainer shows it: masked values as written, secrets as their hash."""
    text = _BEARER.sub("", str(value).strip().strip("\"'"))
    if not text or text.lower() in ("none", "null", "-", "[redacted]"):
        return None
    if _MASKED.search(text):
        return text[:40]
    key = API_KEY.search(text)
    if key is not None or len(text) >= 20:
        return key_label(key.group() if key is not None else text)
    return text  # a short key name or id ("prod-2"): no secret


def clean_client_host(value: Any) -> str | None:
    text = str(value).strip().strip("\"'[]")
    if "," in text:  # X-Forwarded-For: client, proxy1, proxy2
        text = text.split(",", 1)[0].strip()
    if not text or text.lower() in ("none", "null", "-", "unknown") or _API_HOSTS.search(text):
        return None
    return text[:120]


# ---------------------------------------------------------------------------- the side table


def context_table(
    source: str, lines: Iterable[int], keys: Iterable[Any], hosts: Iterable[Any]
) -> pd.DataFrame:
    """The table of one source: a row per event line that names a key or a host."""
    frame = pd.DataFrame(
        {
            "source": source,
            "line": np.asarray(list(lines), dtype=np.int64),
            "api_key": pd.array(list(keys), dtype="string"),
            "client_host": pd.array(list(hosts), dtype="string"),
        }
    )
    return tidy(frame)


def empty_context() -> pd.DataFrame:
    return context_table("", [], [], [])


def tidy(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows that name something, one per (source, line), as categoricals (few distinct values)."""
    named = frame["api_key"].notna() | frame["client_host"].notna()
    frame = frame.loc[named.to_numpy(dtype=bool)]
    frame = frame.drop_duplicates(["source", "line"], keep="first")
    return frame.astype(
        {"source": "category", "api_key": "category", "client_host": "category"}
    ).reset_index(drop=True)


def concat_context(tables: Iterable[pd.DataFrame]) -> pd.DataFrame:
    as_text = dict.fromkeys(("source", *CONTEXT_FIELDS), "string")
    parts = [t.astype(as_text) for t in tables if len(t)]
    if not parts:
        return empty_context()
    return tidy(pd.concat(parts, ignore_index=True))


def only_lines(table: pd.DataFrame, lines: Any) -> pd.DataFrame:
    """The rows whose line is one of ``lines`` (the rows of the file's final events), in line
    order."""
    if not len(table):
        return table
    keep = np.isin(table["line"].to_numpy(), np.asarray(lines))
    return table.loc[keep].sort_values("line", kind="stable").reset_index(drop=True)


def attach(events: pd.DataFrame, context: pd.DataFrame | None) -> pd.DataFrame:
    """``events`` with the ``api_key`` and ``client_host`` columns (null where not named)."""
    out = events.copy(deep=False)
    if context is None or not len(context) or not len(events):
        for col in CONTEXT_FIELDS:
            out[col] = pd.array([None] * len(events), dtype="string")
        return out
    keys = pd.MultiIndex.from_arrays(
        [context["source"].astype("string"), context["line"].astype("int64")]
    )
    wanted = pd.MultiIndex.from_arrays(
        [events["source"].astype("string"), events["line"].astype("int64")]
    )
    at = keys.get_indexer(wanted)
    found = at >= 0
    for col in CONTEXT_FIELDS:
        values = np.asarray(context[col].astype(object).where(context[col].notna(), None))
        column = np.full(len(events), None, dtype=object)
        column[found] = values[at[found]]
        out[col] = pd.array(column, dtype="string")
    return out
