"""Adversarial inputs for the regular expressions of every format (issue #7: "every pattern must
stay linear"). Inputs are built from each format's triggers and samples: a sample cut right after
a trigger or at a fraction of its length, repeated, or followed by a long run of one character.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass

from ingest.formats import LogFormat

FILLERS = ("a", " ", "0", '"', "'", "\\", ".", ":", "-", "{", "\n", "a ", "\r", "/", "]", ",")
ATTRS = ("pattern", "guard", "exclude", "status_hint", "model_pattern", "url_pattern", "prefix")


@dataclass(frozen=True)
class Target:
    """One regular expression of one format and how the matcher uses it."""

    fmt: str
    attr: str
    regex: re.Pattern[str]

    @property
    def id(self) -> str:
        return f"{self.fmt}.{self.attr}"

    def run(self, text: str) -> None:
        if self.attr == "pattern":
            for _m in self.regex.finditer(text):
                pass
        else:
            self.regex.search(text)


def targets(formats: tuple[LogFormat, ...]) -> list[Target]:
    out = []
    for fmt in formats:
        for attr in ATTRS:
            rx = getattr(fmt, attr, None)
            if rx is not None:
                out.append(Target(fmt.name, attr, rx))
    return out


def units(fmt: LogFormat) -> Iterator[str]:
    """Pieces that, repeated, make the format's patterns work hard."""
    seen: set[str] = set()
    texts = [s.text for s in fmt.samples]
    pieces: list[str] = []
    for t in fmt.triggers:
        pieces += [t, t + " ", t + ": "]
    for text in texts:
        for t in fmt.triggers:
            i = text.find(t)
            while i != -1:
                end = i + len(t)
                pieces += [text[i:end], text[: end + 1], text[i : end + 12], text[i : end + 40]]
                i = text.find(t, i + 1)
        for frac in (0.25, 0.5, 0.75, 0.9):
            pieces.append(text[: int(len(text) * frac)])
        pieces.append(text)
        pieces.append(text[:-1])
    for piece in pieces:
        if not piece:
            continue
        for unit in (piece, piece.replace("\n", " ")):
            if unit not in seen:
                seen.add(unit)
                yield unit


def inputs(fmt: LogFormat) -> Iterator[tuple[str, str, str]]:
    """(kind, head, tail unit): text = head * k or head + unit * k."""
    for unit in units(fmt):
        yield "repeat", "", unit
        for filler in FILLERS:
            yield "run", unit, filler


def build(head: str, unit: str, size: int) -> str:
    reps = max(1, (size - len(head)) // max(1, len(unit)))
    return head + unit * reps


def seconds(target: Target, text: str, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        target.run(text)
        best = min(best, time.perf_counter() - start)
    return best


def worst_inputs(target: Target, fmt: LogFormat, size: int, keep: int = 3) -> list[tuple[str, str]]:
    """The ``keep`` (head, unit) pairs that cost the most time at ``size`` characters."""
    timed = []
    for _kind, head, unit in inputs(fmt):
        text = build(head, unit, size)
        timed.append((seconds(target, text, repeat=1), head, unit))
    timed.sort(key=lambda x: -x[0])
    return [(h, u) for _t, h, u in timed[:keep]]


def growth(target: Target, head: str, unit: str, size: int) -> tuple[float, float, float]:
    """(time at size, time at 2*size, their ratio)."""
    t1 = seconds(target, build(head, unit, size))
    t2 = seconds(target, build(head, unit, 2 * size))
    return t1, t2, t2 / max(t1, 2e-5)
