"""The catalogue's value types: categories, code entries, and the load error."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

#: Category ids, in display order. Fixed: the parser, the dashboard and scripts use these strings.
CATEGORY_IDS: tuple[str, ...] = (
    "request-rate",
    "token-rate",
    "burst",
    "free-tier",
    "billing",
    "auth",
    "permission",
    "moderation",
    "bad-request",
    "not-found",
    "server-error",
    "timeout",
    "client-side",
    "unknown",
)

#: The category of anything the catalogue cannot place.
UNKNOWN_CATEGORY = "unknown"

#: Who has to act: the developer calling the API, Alibaba Cloud, or whoever pays the bill.
ACTORS: tuple[str, ...] = ("caller", "alibaba", "billing")

#: Where an entry comes from: the user's reference table, Alibaba's public error page, or an SDK.
SOURCES: tuple[str, ...] = ("reference", "docs", "sdk")


class CatalogueError(ValueError):
    """The catalogue file is malformed. The message names the file, the entry and the field."""

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        index: int | None = None,
        code: str | None = None,
        field: str | None = None,
    ) -> None:
        where = []
        if path:
            where.append(path)
        if index is not None:
            where.append(f"codes[{index}]" + (f" ({code})" if code else ""))
        elif code:
            where.append(code)
        if field:
            where.append(f"field '{field}'")
        super().__init__(": ".join([*where, message]))
        self.path = path
        self.index = index
        self.code = code
        self.field = field


@dataclass(frozen=True, slots=True)
class Category:
    """A kind of failure, as a user thinks of it ("token rate limit", "billing")."""

    id: str
    label_en: str
    label_zh: str
    description_en: str
    description_zh: str
    throttling: bool = False

    def label(self, lang: str = "en") -> str:
        return self.label_zh if lang == "zh" else self.label_en

    def description(self, lang: str = "en") -> str:
        return self.description_zh if lang == "zh" else self.description_en

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "label_en": self.label_en,
            "label_zh": self.label_zh,
            "description_en": self.description_en,
            "description_zh": self.description_zh,
            "throttling": self.throttling,
        }


@dataclass(frozen=True, slots=True)
class CodeEntry:
    """One DashScope error: a code, and for codes with several meanings, one of its messages.

    ``messages`` holds every known message, the primary (table) one first; it is empty for the
    few documented codes whose message text varies by model and is not worth pinning.
    """

    code: str
    status: int | None
    message: str
    messages: tuple[str, ...]
    meaning_zh: str
    meaning_en: str
    category: str
    retryable: bool
    retry: str
    actor: str
    advice_zh: str
    advice_en: str
    aliases: tuple[str, ...] = ()
    reference: bool = False
    source: str = "docs"
    #: other statuses the same code is documented or observed with (e.g. 400 in the newer docs)
    other_statuses: tuple[int, ...] = ()

    def meaning(self, lang: str = "en") -> str:
        return self.meaning_zh if lang == "zh" else self.meaning_en

    def advice(self, lang: str = "en") -> str:
        return self.advice_zh if lang == "zh" else self.advice_en

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "status": self.status,
            "message": self.message,
            "messages": list(self.messages),
            "meaning_zh": self.meaning_zh,
            "meaning_en": self.meaning_en,
            "category": self.category,
            "retryable": self.retryable,
            "retry": self.retry,
            "actor": self.actor,
            "advice_zh": self.advice_zh,
            "advice_en": self.advice_en,
            "aliases": list(self.aliases),
            "reference": self.reference,
            "source": self.source,
            "other_statuses": list(self.other_statuses),
        }
