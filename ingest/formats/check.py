"""Verify every format's samples and derive the detection order (most specific first)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ingest.formats import FormatError, LogFormat, Sample
from ingest.matcher import RecordMatcher
from ingest.normalize import normalize
from ingest.records import RecordGrouper


def sample_events(matcher: RecordMatcher, sample: Sample) -> list[dict[str, Any]]:
    """Events a matcher produces for a sample, grouped and normalized like the pipeline does."""
    grouper = RecordGrouper()
    records = list(grouper.feed(sample.text + "\n", final=True))
    out = []
    for rec in records:
        for raw in matcher.match(rec.text, rec.ts):
            out.append(normalize(raw))
    return out


def _compare(fmt: LogFormat, i: int, sample: Sample, got: list[dict[str, Any]]) -> None:
    where = f"{fmt.name}.toml sample {i}"
    if len(got) != len(sample.events):
        found = [(e.get("format"), e.get("code"), e.get("status_code")) for e in got]
        raise FormatError(
            f"{where}: expected {len(sample.events)} event(s), got {len(got)}: {found}\n"
            f"  text: {sample.text[:300]!r}"
        )
    for k, (want, ev) in enumerate(zip(sample.events, got, strict=True), 1):
        for key, wanted in want.items():
            actual = ev.get(key)
            value = None if wanted == "__none__" else wanted  # TOML has no null
            if key == "message" and isinstance(value, str) and isinstance(actual, str):
                ok = actual.startswith(value)
            else:
                ok = actual == value
            if not ok:
                raise FormatError(
                    f"{where}, event {k}: field '{key}' is {actual!r}, expected {value!r}\n"
                    f"  text: {sample.text[:300]!r}"
                )


def check_and_order(formats: Sequence[LogFormat]) -> list[LogFormat]:
    """Check each format on its own samples, order by genericity, then check the whole registry."""
    singles = {f.name: RecordMatcher([f]) for f in formats}
    for fmt in formats:
        for i, sample in enumerate(fmt.samples, 1):
            _compare(fmt, i, sample, sample_events(singles[fmt.name], sample))
    # claims[f]: the formats whose samples f also matches (f is more generic than them)
    claims: dict[str, set[str]] = {f.name: set() for f in formats}
    for fmt in formats:
        for other in formats:
            if other is not fmt and any(
                s.events and singles[fmt.name].match(s.text) for s in other.samples
            ):
                claims[fmt.name].add(other.name)
    genericity: dict[str, int] = {}

    def rank(name: str, path: frozenset[str] = frozenset()) -> int:
        if name not in genericity:
            below = [
                rank(o, path | {name})
                for o in claims[name]
                if name not in claims[o] and o not in path
            ]
            genericity[name] = 1 + max(below, default=-1)
        return genericity[name]

    for fmt in formats:
        rank(fmt.name)
    ordered = sorted(formats, key=lambda f: (genericity[f.name], f.name))
    ordered = [
        LogFormat(**{**f.__dict__, "genericity": genericity[f.name]})  # type: ignore[arg-type]
        for f in ordered
    ]
    whole = RecordMatcher(ordered)
    for fmt in ordered:
        for i, sample in enumerate(fmt.samples, 1):
            got = sample_events(whole, sample)
            if sample.events and got and got[0].get("format") != fmt.name:
                raise FormatError(
                    f"{fmt.name}.toml sample {i} is claimed by the more specific format "
                    f"{got[0].get('format')!r}; make one of the two patterns stricter"
                )
            _compare(fmt, i, sample, got)
    return ordered
