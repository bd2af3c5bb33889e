"""Every regular expression of every format stays linear on adversarial input (issue #7).

Inputs come from tests/hostile/adversarial.py: each format's triggers and samples, cut and
repeated or followed by a long run of one character. For each pattern the costliest input at a
small size is found, then timed at n and 2n characters: a linear pattern takes about twice as
long (a quadratic one four times). Patterns too fast to time reliably (< 3 ms at 2n) pass.
"""

from __future__ import annotations

import re
import sys
import time
from pathlib import Path

import pytest

from ingest import normalize as normalize_module
from ingest.extract import _kv_key_pattern, balanced_objects
from ingest.formats import registry
from ingest.matcher import MODEL_HINT, RecordMatcher
from ingest.records import CONTINUATION, EMBEDDED_TS, HTTP_STATUS_LINE, LEADING_TS

sys.path.insert(0, str(Path(__file__).parent / "hostile"))
from adversarial import Target, build, growth, targets, worst_inputs

FORMATS = {f.name: f for f in registry()}
TARGETS = targets(registry())
SEARCH_SIZE = 1500
SIZE = 12_000
MAX_RATIO = 3.0
TOO_FAST = 0.003


def _check(target: Target, head: str, unit: str) -> None:
    t1, t2, ratio = growth(target, head, unit, SIZE)
    if t2 < TOO_FAST:
        return
    # retries: a busy machine can pause either measurement; a super-linear pattern fails
    # every time, a linear one only when the machine stalls
    for _ in range(3):
        if ratio < MAX_RATIO:
            break
        t1, t2, ratio = growth(target, head, unit, SIZE)
    assert ratio < MAX_RATIO, (
        f"{target.id} grows {ratio:.1f}x from {SIZE} to {2 * SIZE} characters "
        f"({t1 * 1e3:.1f} ms -> {t2 * 1e3:.1f} ms) on {head[:40]!r} + {unit[:40]!r} * k"
    )


@pytest.mark.parametrize("target", TARGETS, ids=[t.id for t in TARGETS])
def test_format_pattern_is_linear(target: Target) -> None:
    for head, unit in worst_inputs(target, FORMATS[target.fmt], SEARCH_SIZE, keep=2):
        _check(target, head, unit)


def test_there_are_patterns_to_check() -> None:
    assert len(TARGETS) >= 25
    assert {t.attr for t in TARGETS} >= {"pattern", "prefix", "guard", "url_pattern"}


class _Whole:
    """The whole matcher as the pipeline runs it on one record."""

    def __init__(self) -> None:
        self.matcher = RecordMatcher(registry())
        self.id = "RecordMatcher.match"

    def run(self, text: str) -> None:
        self.matcher.match(text)


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_the_whole_matcher_is_linear_on_each_formats_worst_input(name: str) -> None:
    fmt = FORMATS[name]
    target = next((t for t in TARGETS if t.fmt == name), None)
    if target is None:  # object formats: their samples, repeated
        heads = [("", s.text + "\n") for s in fmt.samples[:1]]
    else:
        heads = worst_inputs(target, fmt, SEARCH_SIZE, keep=1)
    whole = _Whole()
    for head, unit in heads:
        _check(whole, head, unit)  # type: ignore[arg-type]


class _Rx:
    def __init__(self, name: str, rx: re.Pattern[str], how: str = "finditer") -> None:
        self.id = name
        self.rx = rx
        self.how = how

    def run(self, text: str) -> None:
        if self.how == "finditer":
            for _m in self.rx.finditer(text):
                pass
        elif self.how == "match":
            for line in text.split("\n"):
                self.rx.match(line)
        else:
            self.rx.search(text)


CODE_REGEXES = [
    (_Rx("matcher.MODEL_HINT", MODEL_HINT, "search"), "model=", "a.-"),
    (_Rx("matcher.MODEL_HINT", MODEL_HINT, "search"), "", "model: "),
    (_Rx("extract.kv_keys", _kv_key_pattern()), "", "'message' ="),
    (_Rx("extract.kv_keys", _kv_key_pattern()), "status_code", " "),
    (_Rx("extract.kv_keys_zh", _kv_key_pattern(True)), "", "错误码 ："),
    (_Rx("records.HTTP_STATUS_LINE", HTTP_STATUS_LINE, "match"), "", "< HTTP/1.1 429 "),
    (_Rx("records.LEADING_TS", LEADING_TS, "match"), "2026-11-20 10:00:00", ",1"),
    (_Rx("records.EMBEDDED_TS", EMBEDDED_TS, "search"), "", "2026-11-20 10:00:00.1 "),
    (_Rx("records.CONTINUATION", CONTINUATION, "match"), "", "... 1 more"),
    (
        _Rx("normalize._DOC_ANCHOR", normalize_module._DOC_ANCHOR, "search"),
        "",
        "https://help.aliyun.com/x",
    ),
    (_Rx("normalize._INNER_PREFIX", normalize_module._INNER_PREFIX, "match"), "<400>", " "),
]


@pytest.mark.parametrize(
    ("target", "head", "unit"), CODE_REGEXES, ids=[c[0].id for c in CODE_REGEXES]
)
def test_code_regexes_are_linear(target: _Rx, head: str, unit: str) -> None:
    _check(target, head, unit)  # type: ignore[arg-type]


@pytest.mark.parametrize("unit", ["{", '{"', "{'", '{"a":{', "{\\"])
def test_balanced_objects_is_linear_on_unclosed_braces(unit: str) -> None:
    def cost(n: int) -> float:
        text = build("", unit, n)
        best = float("inf")
        for _ in range(3):
            start = time.perf_counter()
            list(balanced_objects(text))
            best = min(best, time.perf_counter() - start)
        return best

    t1, t2 = cost(40_000), cost(80_000)
    assert t2 < 0.01 or t2 / t1 < MAX_RATIO, (unit, t1, t2)
