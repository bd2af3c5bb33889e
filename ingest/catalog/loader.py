"""Read ``codes.toml`` and validate it once, failing like a compiler: file, entry, field."""

from __future__ import annotations

import tomllib
from functools import lru_cache
from pathlib import Path
from typing import Any

from ingest.catalog.catalogue import Catalogue, norm_message
from ingest.catalog.model import (
    ACTORS,
    CATEGORY_IDS,
    SOURCES,
    CatalogueError,
    Category,
    CodeEntry,
)

DEFAULT_PATH = Path(__file__).with_name("codes.toml")

_TOP_LEVEL = {"categories", "anchors", "codes"}
_CATEGORY_TEXT = ("label_en", "label_zh", "description_en", "description_zh")
_ENTRY_REQUIRED = (
    "code",
    "message",
    "meaning_zh",
    "meaning_en",
    "category",
    "retryable",
    "retry",
    "actor",
    "advice_zh",
    "advice_en",
    "source",
)
_ENTRY_OPTIONAL = ("status", "messages", "aliases", "other_statuses")


def load_catalogue(path: str | Path | None = None) -> Catalogue:
    """The catalogue from ``path``, or the bundled one (loaded once, then cached)."""
    if path is None:
        return _load_default()
    return parse_catalogue(Path(path).read_bytes() if Path(path).is_file() else None, Path(path))


@lru_cache(maxsize=1)
def _load_default() -> Catalogue:
    return load_catalogue(DEFAULT_PATH)


def parse_catalogue(data: bytes | str | None, path: Path | None = None) -> Catalogue:
    """Validate catalogue TOML (bytes or text) into a :class:`Catalogue`."""
    where = str(path) if path is not None else "<catalogue>"
    if data is None:
        raise CatalogueError("no such file", path=where)
    text = data.decode("utf-8") if isinstance(data, bytes) else data
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CatalogueError(f"not valid TOML: {exc}", path=where) from exc
    return _Validator(where).catalogue(doc, path)


class _Validator:
    def __init__(self, where: str) -> None:
        self.where = where

    def fail(
        self,
        message: str,
        *,
        index: int | None = None,
        code: str | None = None,
        field: str | None = None,
    ) -> CatalogueError:
        return CatalogueError(message, path=self.where, index=index, code=code, field=field)

    def catalogue(self, doc: dict[str, Any], path: Path | None) -> Catalogue:
        extra = sorted(set(doc) - _TOP_LEVEL)
        if extra:
            raise self.fail(f"unknown top-level key(s) {extra}; expected {sorted(_TOP_LEVEL)}")
        categories = self.categories(doc.get("categories"))
        raw_codes = doc.get("codes")
        if not isinstance(raw_codes, list) or not raw_codes:
            raise self.fail("missing [[codes]] entries")
        entries = [self.entry(i, raw, categories) for i, raw in enumerate(raw_codes)]
        self.check_order(entries)
        self.check_duplicates(entries)
        self.check_aliases(entries)
        anchors = self.anchors(doc.get("anchors", {}), {e.code for e in entries})
        return Catalogue(entries, categories, anchors, path=path)

    def categories(self, raw: Any) -> dict[str, Category]:
        if not isinstance(raw, dict):
            raise self.fail("missing [categories] table")
        unknown = [k for k in raw if k not in CATEGORY_IDS]
        if unknown:
            raise self.fail(
                f"unknown category id '{unknown[0]}'; the ids are fixed: {', '.join(CATEGORY_IDS)}"
            )
        missing = [k for k in CATEGORY_IDS if k not in raw]
        if missing:
            raise self.fail(f"category '{missing[0]}' is not defined")
        out: dict[str, Category] = {}
        for cid in CATEGORY_IDS:  # display order is the fixed order, whatever the file's
            table = raw[cid]
            if not isinstance(table, dict):
                raise self.fail(f"category '{cid}' must be a table")
            extra = sorted(set(table) - {*_CATEGORY_TEXT, "throttling"})
            if extra:
                raise self.fail(f"category '{cid}': unknown field(s) {extra}")
            label_en, label_zh, description_en, description_zh = (
                self.text(table, f, f"category '{cid}'", None) for f in _CATEGORY_TEXT
            )
            throttling = table.get("throttling", False)
            if not isinstance(throttling, bool):
                raise self.fail(f"category '{cid}': field 'throttling' must be true or false")
            out[cid] = Category(
                cid, label_en, label_zh, description_en, description_zh, throttling=throttling
            )
        return out

    def text(self, table: dict[str, Any], field: str, what: str, index: int | None) -> str:
        if field not in table:
            raise self.fail(f"{what}: missing field '{field}'", index=index)
        value = table[field]
        if not isinstance(value, str) or not value.strip():
            raise self.fail(f"{what}: field '{field}' must be a non-empty string", index=index)
        return value

    def entry(self, index: int, raw: Any, categories: dict[str, Category]) -> CodeEntry:
        if not isinstance(raw, dict):
            raise self.fail("must be a table", index=index)
        code_value = raw.get("code")
        code = code_value if isinstance(code_value, str) else None

        def fail(message: str, field: str | None = None) -> CatalogueError:
            return self.fail(message, index=index, code=code, field=field)

        for field in _ENTRY_REQUIRED:
            if field not in raw:
                raise fail("missing", field)
        extra = sorted(set(raw) - {*_ENTRY_REQUIRED, *_ENTRY_OPTIONAL})
        if extra:
            raise fail(f"unknown field(s) {extra}")

        def string(field: str, *, allow_empty: bool = False) -> str:
            value = raw[field]
            if not isinstance(value, str):
                raise fail(f"expected a string, got {type(value).__name__} {value!r}", field)
            if value != value.strip() or (not allow_empty and not value):
                raise fail("must be a non-empty string without surrounding spaces", field)
            return value

        def strings(field: str) -> tuple[str, ...]:
            value = raw.get(field, [])
            if not isinstance(value, list) or not all(
                isinstance(v, str) and v.strip() for v in value
            ):
                raise fail("expected a list of non-empty strings", field)
            return tuple(value)

        def integer(value: Any, field: str) -> int:
            if isinstance(value, bool) or not isinstance(value, int):
                raise fail(f"expected an integer, got {type(value).__name__} {value!r}", field)
            return value

        code = string("code")
        source = string("source")
        if source not in SOURCES:
            raise fail(f"unknown source '{source}'; expected one of {', '.join(SOURCES)}", "source")
        reference = source == "reference"
        message = string("message", allow_empty=not reference)
        status = integer(raw["status"], "status") if "status" in raw else None
        if reference and status is None:
            raise fail("missing (reference-table rows have a status)", "status")
        other_statuses = raw.get("other_statuses", [])
        if not isinstance(other_statuses, list):
            raise fail("expected a list of integers", "other_statuses")
        others = tuple(integer(s, "other_statuses") for s in other_statuses)
        category = string("category")
        if category not in categories:
            raise fail(
                f"unknown category '{category}'; expected one of {', '.join(categories)}",
                "category",
            )
        retryable = raw["retryable"]
        if not isinstance(retryable, bool):
            raise fail(f"expected true or false, got {type(retryable).__name__}", "retryable")
        actor = string("actor")
        if actor not in ACTORS:
            raise fail(f"unknown actor '{actor}'; expected one of {', '.join(ACTORS)}", "actor")
        alternatives = strings("messages")
        messages = ((message,) if message else ()) + alternatives
        seen: set[str] = set()
        for m in messages:
            if norm_message(m) in seen:
                raise fail(f"message {m!r} is listed twice", "messages")
            seen.add(norm_message(m))
        return CodeEntry(
            code=code,
            status=status,
            message=message,
            messages=messages,
            meaning_zh=string("meaning_zh"),
            meaning_en=string("meaning_en"),
            category=category,
            retryable=retryable,
            retry=string("retry"),
            actor=actor,
            advice_zh=string("advice_zh"),
            advice_en=string("advice_en"),
            aliases=strings("aliases"),
            reference=reference,
            source=source,
            other_statuses=others,
        )

    def check_order(self, entries: list[CodeEntry]) -> None:
        seen_other = False
        for i, e in enumerate(entries):
            if e.reference and seen_other:
                raise self.fail(
                    "reference-table rows must come first, in table order",
                    index=i,
                    code=e.code,
                    field="source",
                )
            seen_other = seen_other or not e.reference

    def check_duplicates(self, entries: list[CodeEntry]) -> None:
        by_lower: dict[str, int] = {}
        groups: dict[str, list[int]] = {}
        for i, e in enumerate(entries):
            j = by_lower.setdefault(e.code.lower(), i)
            if entries[j].code != e.code:
                raise self.fail(
                    f"code differs only in case from codes[{j}] ({entries[j].code})",
                    index=i,
                    code=e.code,
                    field="code",
                )
            groups.setdefault(e.code, []).append(i)
        for code, members in groups.items():
            if len(members) < 2:
                continue
            owner: dict[str, int] = {}
            for i in members:
                if not entries[i].message:
                    raise self.fail(
                        "duplicate code without distinct messages: entries sharing a code "
                        f"(codes{members}) each need a message to tell them apart",
                        index=i,
                        code=code,
                        field="message",
                    )
                for m in entries[i].messages:
                    j = owner.setdefault(norm_message(m), i)
                    if j != i:
                        raise self.fail(
                            f"duplicate code without distinct messages: {m!r} is also a "
                            f"message of codes[{j}]",
                            index=i,
                            code=code,
                            field="messages",
                        )

    def check_aliases(self, entries: list[CodeEntry]) -> None:
        codes = {e.code.lower(): i for i, e in enumerate(entries)}
        owner: dict[str, int] = {}
        for i, e in enumerate(entries):
            for alias in e.aliases:
                key = alias.lower()
                j = codes.get(key)
                if j is not None and entries[j].code != e.code:
                    raise self.fail(
                        f"alias '{alias}' is the code of codes[{j}] ({entries[j].code})",
                        index=i,
                        code=e.code,
                        field="aliases",
                    )
                if key in owner:
                    k = owner[key]
                    raise self.fail(
                        f"alias '{alias}' is also declared by codes[{k}] ({entries[k].code})",
                        index=i,
                        code=e.code,
                        field="aliases",
                    )
                owner[key] = i

    def anchors(self, raw: Any, codes: set[str]) -> dict[str, str]:
        if not isinstance(raw, dict):
            raise self.fail("[anchors] must be a table of anchor = code")
        out: dict[str, str] = {}
        for anchor, code in raw.items():
            if not isinstance(code, str):
                raise self.fail(f"anchor '{anchor}': expected a code string, got {code!r}")
            if code not in codes:
                raise self.fail(
                    f"anchor '{anchor}' points to '{code}', which is not a catalogue code"
                )
            out[anchor.lstrip("#")] = code
        return out
