"""Look-ups over the loaded catalogue: code normalisation, message matching, classification.

Every public method accepts whatever a log hands it (None, "", junk, odd types) and never raises:
logs keep producing codes and statuses nobody documented.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from ingest.catalog.model import UNKNOWN_CATEGORY, Category, CodeEntry
from ingest.catalog.seed import SEED_PATH, SeedRow, read_seed_rows

#: "<400> InternalError.Algo.DataInspectionFailed: ..." (openai-node, compat messages)
_CODE_PREFIX = re.compile(r"^\s*<\d{3}>\s*([A-Za-z][\w.\-]*)\s*:\s*")
#: "... For details, see: https://help.aliyun.com/zh/model-studio/error-code#rate-limit"
_DOC_SUFFIX = re.compile(r"\s*for details,?\s*see:?\s*\S*\s*$", re.IGNORECASE)
#: "Error code: 429 - <message>" (openai-python 3.x keeps only the message)
_OPENAI_PREFIX = re.compile(r"^\s*error code:\s*\d{3}\s*-\s*", re.IGNORECASE)
#: "xxx" and "${url}" in catalogue messages stand for the variable part of a real message
_PLACEHOLDER = re.compile(r"\bxxx\b|\$\{[^}]*\}")
_SPACE = re.compile(r"\s+")
_ALGO_PREFIX = "InternalError.Algo."

#: A catalogue message may match the start of a longer logged one only if it is this specific.
_PREFIX_MIN_CHARS = 20
_PREFIX_MIN_WORDS = 3


def norm_message(text: str) -> str:
    """Case- and whitespace-insensitive form of a message, as messages are compared."""
    return _SPACE.sub(" ", text).strip().lower()


def _strip_decorations(message: str) -> tuple[str | None, str]:
    """Split off the openai "Error code: N -" prefix, an inner "<N> Code:" prefix, the doc link."""
    text = _OPENAI_PREFIX.sub("", message, count=1)
    prefix_code = None
    m = _CODE_PREFIX.match(text)
    if m:
        prefix_code = m.group(1)
        text = text[m.end() :]
    text = _DOC_SUFFIX.sub("", text)
    return prefix_code, norm_message(text)


@dataclass(frozen=True, slots=True)
class _Pattern:
    entry: int  # index into entries
    text: str  # normalised catalogue message
    full: re.Pattern[str]  # whole logged message
    start: re.Pattern[str] | None  # start of a longer logged message (specific messages only)
    anywhere: re.Pattern[str]


def _compile(index: int, message: str) -> _Pattern:
    text = norm_message(message)
    body = ".+?".join(re.escape(part) for part in _PLACEHOLDER.split(text))
    specific = len(text) >= _PREFIX_MIN_CHARS and len(text.split()) >= _PREFIX_MIN_WORDS
    return _Pattern(
        entry=index,
        text=text,
        full=re.compile(body + r"\Z"),
        start=re.compile(body) if specific else None,
        anywhere=re.compile(body),
    )


def _as_status(status: Any) -> int | None:
    if isinstance(status, bool):
        return None
    if isinstance(status, int):
        return status
    if isinstance(status, float) and status.is_integer():
        return int(status)
    return None


def _as_text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


class Catalogue:
    """The DashScope error catalogue: entries in file order, categories by id, doc anchors."""

    def __init__(
        self,
        entries: Iterable[CodeEntry],
        categories: Mapping[str, Category],
        anchors: Mapping[str, str],
        *,
        path: Path | None = None,
    ) -> None:
        self.entries: tuple[CodeEntry, ...] = tuple(entries)
        self.categories: dict[str, Category] = dict(categories)
        self.anchors: dict[str, str] = {k.lower(): v for k, v in anchors.items()}
        self.path = path
        self._by_code: dict[str, list[int]] = {}
        self._code_ci: dict[str, str] = {}
        self._alias: dict[str, tuple[str, int]] = {}  # lowercased alias -> (code, entry index)
        self._patterns: list[_Pattern] = []
        self._entry_patterns: list[list[_Pattern]] = []
        for i, entry in enumerate(self.entries):
            self._by_code.setdefault(entry.code, []).append(i)
            self._code_ci.setdefault(entry.code.lower(), entry.code)
            for alias in entry.aliases:
                self._alias.setdefault(alias.lower(), (entry.code, i))
            own = [_compile(i, m) for m in entry.messages if m.strip()]
            self._entry_patterns.append(own)
            self._patterns.extend(own)
        self._match_cached = lru_cache(maxsize=8192)(self._match_message)

    # -- codes -----------------------------------------------------------------------------------

    @property
    def codes(self) -> tuple[str, ...]:
        """Distinct codes, in file order."""
        return tuple(self._by_code)

    def entries_for(self, code: str | None) -> tuple[CodeEntry, ...]:
        """All entries of a (raw or native) code; several when the message tells them apart."""
        native = self.native_code(code)
        return tuple(self.entries[i] for i in self._by_code.get(native or "", ()))

    def is_known(self, code: str | None) -> bool:
        native = self.native_code(code)
        return native is not None and native in self._by_code

    def native_code(self, raw: str | None) -> str | None:
        """Map a logged code to the native one: compat alias, ``InternalError.Algo.X`` prefix, case.

        Unknown codes come back stripped but otherwise unchanged; None and "" give None.
        """
        text = _as_text(raw)
        if text is None:
            return None
        code = text.strip()
        if not code:
            return None
        return self._native(code, depth=0)

    def _native(self, code: str, depth: int) -> str:
        if code in self._by_code:
            return code
        lowered = code.lower()
        alias = self._alias.get(lowered)
        if alias is not None:
            return alias[0]
        canonical = self._code_ci.get(lowered)
        if canonical is not None:
            return canonical
        if depth == 0 and lowered.startswith(_ALGO_PREFIX.lower()):
            inner = self._native(code[len(_ALGO_PREFIX) :].strip(), depth=1)
            if inner in self._by_code:
                return inner
        return code

    # -- entries ---------------------------------------------------------------------------------

    def resolve(
        self, code: str | None, message: str | None = None, status: int | None = None
    ) -> CodeEntry | None:
        """The entry for a code, the message choosing among entries that share it.

        Without a code, the message alone decides (see :meth:`match_message`). An unknown code
        gives None even if its message looks familiar: the code is the stronger evidence.
        """
        raw = _as_text(code)
        text = _as_text(message)
        native = self.native_code(raw)
        if native is None:
            return self.match_message(text) if text else None
        indexes = self._by_code.get(native)
        if not indexes:
            return None
        if len(indexes) == 1:
            return self.entries[indexes[0]]
        alias = self._alias.get((raw or "").strip().lower())
        default = alias[1] if alias is not None else indexes[0]
        return self.entries[self._choose(indexes, default, text, _as_status(status))]

    def _choose(
        self, indexes: list[int], default: int, message: str | None, status: int | None
    ) -> int:
        logged = _strip_decorations(message)[1] if message else ""
        best, best_key = default, (0, 0, 1)
        for i in indexes:
            entry = self.entries[i]
            score = 0
            if logged:
                for p in self._entry_patterns[i]:
                    if p.full.match(logged):
                        score = max(score, 3)
                    elif p.anywhere.search(logged):
                        score = max(score, 2)
                    elif len(logged) >= 8 and logged in p.text:
                        score = max(score, 1)
            status_match = int(status is not None and status == entry.status)
            key = (score, status_match, int(i == default))
            if key > best_key:
                best, best_key = i, key
        return best

    def match_message(self, message: str | None) -> CodeEntry | None:
        """The entry whose message (or an alternative) is this logged message, or None.

        Whitespace and case are normalised; an ``Error code: N -`` prefix, a ``<400> Code:``
        prefix and a trailing ``For details, see: <url>`` are ignored. A known code in the
        ``<400> Code:`` prefix wins. Conservative: short generic messages ("Access denied.")
        match only exactly; longer ones also match the start of a longer logged message.
        """
        text = _as_text(message)
        if not text or not text.strip():
            return None
        index = self._match_cached(text[:2000])
        return None if index is None else self.entries[index]

    def _match_message(self, message: str) -> int | None:
        prefix_code, logged = _strip_decorations(message)
        if prefix_code is not None:
            native = self.native_code(prefix_code)
            indexes = self._by_code.get(native or "")
            if indexes:
                return self._choose(indexes, indexes[0], logged, None)
        if not logged:
            return None
        for p in self._patterns:
            if p.full.match(logged):
                return p.entry
        best: _Pattern | None = None
        for p in self._patterns:
            specific = p.start is not None and p.start.match(logged) is not None
            if specific and (best is None or len(p.text) > len(best.text)):
                best = p
        return None if best is None else best.entry

    # -- doc anchors -----------------------------------------------------------------------------

    def code_for_anchor(self, anchor: str | None) -> str | None:
        """``rate-limit`` / ``#rate-limit`` / a doc URL ending in ``#rate-limit`` -> its code."""
        text = _as_text(anchor)
        if not text:
            return None
        key = text.strip().rsplit("#", 1)[-1].strip().lower()
        return self.anchors.get(key)

    # -- classification --------------------------------------------------------------------------

    @staticmethod
    def category_for_status(status: int | None) -> str:
        """The category of an unknown code from its HTTP status class. Never raises."""
        s = _as_status(status)
        if s is None:
            return UNKNOWN_CATEGORY
        if s == 429:
            return "request-rate"
        if s == 401:
            return "auth"
        if s == 402:
            return "billing"
        if s == 403:
            return "permission"
        if s == 404:
            return "not-found"
        if s in (408, 504):
            return "timeout"
        if 400 <= s < 500:
            return "bad-request"
        if 500 <= s < 600:
            return "server-error"
        if s == -1:
            return "client-side"
        return UNKNOWN_CATEGORY

    @staticmethod
    def retryable_for_status(status: int | None) -> bool | None:
        s = _as_status(status)
        if s is None:
            return None
        if s in (408, 429) or 500 <= s < 600:
            return True
        if 400 <= s < 500:
            return False
        return None

    def classify(
        self, code: str | None, message: str | None = None, status: int | None = None
    ) -> tuple[str, bool | None, CodeEntry | None]:
        """(category, retryable, entry) for one logged error. Never raises.

        A known code gives its entry's category. Entries whose category is ``unknown`` (the SDKs'
        catch-all codes) and unknown codes are placed by the status class; with no usable status an
        unknown dotted code falls back to its nearest known parent (``Throttling.New`` ->
        ``Throttling``), else ``unknown``.
        """
        entry = self.resolve(code, message, status)
        if entry is not None and entry.category != UNKNOWN_CATEGORY:
            return entry.category, entry.retryable, entry
        category = self.category_for_status(status)
        retryable = self.retryable_for_status(status)
        if category == UNKNOWN_CATEGORY and entry is None:
            parent = self._parent_entry(self.native_code(_as_text(code)))
            if parent is not None:
                return parent.category, parent.retryable, None
        return category, retryable, entry

    def _parent_entry(self, code: str | None) -> CodeEntry | None:
        while code and "." in code:
            code = code.rsplit(".", 1)[0]
            indexes = self._by_code.get(code)
            if indexes:
                entry = self.entries[indexes[0]]
                return None if entry.category == UNKNOWN_CATEGORY else entry
        return None

    # -- the reference table ---------------------------------------------------------------------

    @staticmethod
    def seed_rows(path: str | Path = SEED_PATH) -> tuple[SeedRow, ...]:
        """The rows of the user's original table (the vendored seed file)."""
        return read_seed_rows(path)

    def __repr__(self) -> str:
        return f"Catalogue({len(self.entries)} entries, {len(self.categories)} categories)"
