"""An audit corpus of incident pastes (tests/data/pastes/): what users paste into GitHub issues,
support tickets and chats, written from the descriptions in ../shared/reference/
client-log-formats.md and dashscope-errors.md (each truth file's "about" names the section).

Each ``<name>.log`` has a ``<name>.truth.json``: the error events the paste shows, each with its
status_code, code (native, after the compat aliases), request_id and timestamp (ISO with offset,
or null where the paste has none); ``successes`` where the paste also shows successful calls;
``known_limits``: fields (or a whole event, ``"found"``) the paste does not hold, with the
reason, which are not asserted; ``open``: a miss the paste holds the information for but the
parser does not yet read (the test is an expected failure until it does). Every error event
must be found once (no success and no look-alike counted as an error, one failure told twice
counted once), with the right fields, and no line that smells of an API event may be left
unparsed.

``python tests/test_pastes.py`` prints the recall over the corpus and every miss.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from ingest.pipeline import load_events  # noqa: E402

PASTES = ROOT / "tests" / "data" / "pastes"
NAMES = sorted(p.name.removesuffix(".truth.json") for p in PASTES.glob("*.truth.json"))
FIELDS = ("status_code", "code", "request_id", "timestamp")


def _value(v: Any) -> Any:
    if v is None or v is pd.NA or (not isinstance(v, str) and pd.isna(v)):
        return None
    return v.item() if hasattr(v, "item") else v


@dataclass
class Outcome:
    name: str
    expected: int = 0  # error events of the truth (known-limit "found" ones left out)
    found: int = 0
    right: dict[str, int] = field(default_factory=lambda: dict.fromkeys(FIELDS, 0))
    asked: dict[str, int] = field(default_factory=lambda: dict.fromkeys(FIELDS, 0))
    extra: int = 0  # error events the truth does not have
    unparsed: int = 0
    successes_missing: int = 0
    misses: list[str] = field(default_factory=list)


def _same(fld: str, want: Any, got: Any) -> bool:
    if fld == "timestamp":
        if want is None:
            return got is None
        return got is not None and pd.Timestamp(got) == pd.Timestamp(want)
    return bool(want == got)


def score(name: str) -> Outcome:
    truth = json.loads((PASTES / f"{name}.truth.json").read_text(encoding="utf-8"))
    events, report = load_events(PASTES / f"{name}.log", workers=1)
    out = Outcome(name)
    out.unparsed = report.files[0].unparsed
    if out.unparsed:
        out.misses.append(f"{out.unparsed} line(s) unparsed")
    rows = [{k: _value(v) for k, v in r.items()} for r in events.to_dict("records")]
    errors = [r for r in rows if r["is_error"]]
    limits: dict[int, dict[str, str]] = {}
    for lim in truth.get("known_limits", []):
        limits.setdefault(lim["event"], {})[lim["field"]] = lim["reason"]
    free = list(errors)
    for i, want in enumerate(truth["events"]):
        skip = limits.get(i, {})
        if "found" in skip:
            continue
        out.expected += 1
        hit = _pick(want, free)
        if hit is None:
            out.misses.append(f"event {i} not found: {want}")
            for fld in FIELDS:  # recall: a missed event misses its fields too
                out.asked[fld] += fld not in skip
            continue
        free.remove(hit)
        out.found += 1
        for fld in FIELDS:
            if fld in skip:
                continue
            out.asked[fld] += 1
            if _same(fld, want[fld], hit[fld]):
                out.right[fld] += 1
            else:
                out.misses.append(f"event {i} {fld}: want {want[fld]!r}, got {hit[fld]!r}")
    out.extra = len(free)
    for e in free:
        out.misses.append(
            f"extra error event line {e['line']}: {e['status_code']} {e['code']} "
            f"{e['request_id']} ({e['format']})"
        )
    successes = sum(1 for r in rows if not r["is_error"])
    if successes < truth.get("successes", 0):
        out.successes_missing = truth["successes"] - successes
        out.misses.append(f"{out.successes_missing} success(es) not read")
    return out


def _pick(want: dict[str, Any], free: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The event that tells ``want``: the same request id, else the same status and code, else
    the same status, else the first one left (in line order)."""
    if not free:
        return None
    keys = (
        lambda e: want["request_id"] is not None and e["request_id"] == want["request_id"],
        lambda e: (e["status_code"], e["code"]) == (want["status_code"], want["code"]),
        lambda e: e["status_code"] == want["status_code"],
    )
    for key in keys:
        for e in free:
            if key(e):
                return e
    return free[0]


def test_the_corpus_is_big_enough() -> None:
    assert len(NAMES) >= 60
    for name in NAMES:
        assert (PASTES / f"{name}.log").exists()


def _case(name: str) -> Any:
    truth = json.loads((PASTES / f"{name}.truth.json").read_text(encoding="utf-8"))
    if "open" in truth:
        return pytest.param(name, marks=pytest.mark.xfail(reason=truth["open"], strict=True))
    return name


@pytest.mark.parametrize("name", [_case(n) for n in NAMES])
def test_paste(name: str) -> None:
    o = score(name)
    assert o.misses == []


def main() -> None:
    total = Outcome("all")
    for name in NAMES:
        o = score(name)
        total.expected += o.expected
        total.found += o.found
        total.extra += o.extra
        total.unparsed += o.unparsed
        for f in FIELDS:
            total.right[f] += o.right[f]
            total.asked[f] += o.asked[f]
        for m in o.misses:
            print(f"{name}: {m}")
    print(
        f"\n{len(NAMES)} pastes, {total.expected} error events: found {total.found}, "
        + ", ".join(f"{f} {total.right[f]}/{total.asked[f]}" for f in FIELDS)
        + f"; extra errors {total.extra}; unparsed lines {total.unparsed}"
    )


if __name__ == "__main__":
    main()
