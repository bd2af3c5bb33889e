"""Timestamps as logs write them -> tz-aware UTC.

Seen formats (client-log-formats.md, section 6.10): ``2025-03-28 17:40:16,632``, Dify's
``2024-12-27 02:26:50,448.448`` (msecs twice), loguru ``2026-05-10 18:21:52``, Spring Boot
``2025-11-14T21:37:32.486+08:00``, ``2026-02-06T19:08:04.327Z``, epoch seconds/milliseconds, HTTP
dates. Naive times are read in the zone the caller gives (default Asia/Shanghai: most DashScope
users' machines). Time-only stamps cannot be placed on a day and stay null.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from email.utils import parsedate_to_datetime
from typing import Any

import pandas as pd

_ISO = re.compile(
    r"(?P<date>\d{4}[-/]\d{2}[-/]\d{2})[T ](?P<time>\d{1,2}:\d{2}:\d{2})"
    r"(?:[.,](?P<frac>\d{1,9}))?(?:[.,]\d+)*\s?(?P<tz>Z|[+-]\d{2}:?\d{2}|UTC|GMT)?"
)


def to_iso(value: Any) -> str | None:
    """A timestamp value as an ISO 8601 string (offset kept when given), or None."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        v = float(value)
        if v > 1e17:
            v /= 1e9
        elif v > 1e14:
            v /= 1e6
        elif v > 1e11:
            v /= 1e3
        if not 1e8 < v < 4e9:
            return None
        return pd.Timestamp(v, unit="s", tz="UTC").isoformat()
    text = str(value).strip()
    if not text:
        return None
    if text.isdigit():
        return to_iso(int(text))
    m = _ISO.search(text[:64])
    if m:
        date = m.group("date").replace("/", "-")
        hh, mm, ss = m.group("time").split(":")
        out = f"{date}T{int(hh):02d}:{mm}:{ss}"
        if m.group("frac"):
            out += "." + m.group("frac")[:6]
        tz = m.group("tz")
        if tz:
            out += "+00:00" if tz in ("Z", "UTC", "GMT") else _colon(tz)
        return out
    if "," in text and ":" in text:
        try:
            return parsedate_to_datetime(text).isoformat()
        except (TypeError, ValueError, IndexError):
            return None
    return None


def _colon(tz: str) -> str:
    return tz if ":" in tz else f"{tz[:3]}:{tz[3:]}"


def to_utc(values: Sequence[str | None], tz: str) -> pd.Series:
    """ISO strings (some with offsets, some naive) -> a tz-aware UTC series (ns)."""
    s = pd.Series(list(values), dtype="object")
    out = pd.Series(pd.NaT, index=s.index, dtype=pd.DatetimeTZDtype("ns", "UTC"))
    present = s.notna()
    if not present.any():
        return out
    text = s[present].astype(str)
    aware = text.str.contains(r"(?:[+-]\d{2}:\d{2}|Z)$", regex=True)
    if aware.any():
        parsed = pd.to_datetime(text[aware], utc=True, errors="coerce", format="ISO8601")
        out.loc[parsed.index] = parsed.astype(out.dtype)
    naive = text[~aware]
    if len(naive):
        local = pd.to_datetime(naive, errors="coerce", format="ISO8601")
        local = local.dt.tz_localize(tz, ambiguous="NaT", nonexistent="shift_forward")
        out.loc[local.index] = local.dt.tz_convert("UTC").astype(out.dtype)
    return out
