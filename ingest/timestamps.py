"""Timestamps as logs write them -> tz-aware UTC.

Seen formats (client-log-formats.md, section 6.10): ``2025-03-28 17:40:16,632``, Dify's
``2024-12-27 02:26:50,448.448`` (msecs twice), loguru ``2026-05-10 18:21:52``, Spring Boot
``2025-11-14T21:37:32.486+08:00``, ``2026-02-06T19:08:04.327Z``, epoch seconds/milliseconds, HTTP
dates; BSD syslog ``Nov 20 10:00:02`` (the year inferred) and the common log format's
``20/Nov/2026:10:00:05 +0800``. Naive times are read in the zone the caller gives (default
Asia/Shanghai: most DashScope users' machines). Time-only stamps cannot be placed on a day and
stay null.
"""

from __future__ import annotations

import re
from calendar import monthrange
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from email.utils import parsedate_to_datetime
from functools import lru_cache
from typing import Any

import pandas as pd

from ingest.records import MONTHS

_ISO = re.compile(
    r"(?P<date>\d{4}[-/]\d{2}[-/]\d{2})[T ](?P<time>\d{1,2}:\d{2}:\d{2})"
    r"(?:[.,](?P<frac>\d{1,9}))?(?:[.,]\d+)*\s?(?P<tz>Z|[+-]\d{2}:?\d{2}|UTC|GMT)?"
)


def to_iso(value: Any) -> str | None:
    """A timestamp value as an ISO 8601 string (offset kept when given), or None."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        # repr() is the shortest text that reads back as the same float: 1763604004.123, not
        # the binary 1763604004.1229999 that float arithmetic would carry into the fraction
        return _from_epoch(repr(value))
    text = str(value).strip()
    if not text:
        return None
    if _EPOCH_TEXT.fullmatch(text):
        return _from_epoch(text)
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
    m = _MONTH_FIRST.match(text) or _DAY_FIRST.match(text)
    if m:
        return _from_month_name(m)
    if "," in text and ":" in text:
        try:
            return parsedate_to_datetime(text).isoformat()
        except (TypeError, ValueError, IndexError):
            return None
    return None


#: an epoch number written as text ("1763604004", "1763604004.5", "1763604004123")
_EPOCH_TEXT = re.compile(r"\d{1,20}(?:\.\d{0,20})?")
#: a float's repr beyond 1e16 ("1.7636040041234568e+18")
_EPOCH_REPR = re.compile(r"\d{1,20}(?:\.\d{0,20})?(?:e\+?\d{1,2})?")
#: the unit of an epoch number by its magnitude: ns, us, ms, else seconds
_EPOCH_UNITS = ((Decimal("1e17"), 0), (Decimal("1e14"), 3), (Decimal("1e11"), 6))


def _from_epoch(text: str) -> str | None:
    """ISO text (UTC) of an epoch number in seconds, ms, us or ns (told by its magnitude),
    read from its decimal text exactly (no float: .123 stays .123, not .122999907)."""
    if not _EPOCH_REPR.fullmatch(text):
        return None  # nan, inf, negative
    number = Decimal(text)
    scale = next((s for limit, s in _EPOCH_UNITS if number > limit), 9)
    nanos = int(number.scaleb(scale))
    if not 1e8 < nanos / 1e9 < 4e9:
        return None
    seconds, frac = divmod(nanos, 1_000_000_000)
    out = datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    if frac:
        out += "." + f"{frac:09d}".rstrip("0")
    return out + "+00:00"


_MONTH = "(?P<mon>" + "|".join(MONTHS) + ")"
#: BSD syslog "Nov 20 10:00:02" (no year) and the common log format "20/Nov/2026:10:00:05 +0800"
_MONTH_FIRST = re.compile(rf"{_MONTH} (?P<day>[ \d]\d) (?P<time>\d{{2}}:\d{{2}}:\d{{2}}(?:\.\d+)?)")
_DAY_FIRST = re.compile(
    rf"(?P<day>\d{{2}})/{_MONTH}/(?P<year>\d{{4}}):(?P<time>\d{{2}}:\d{{2}}:\d{{2}})"
    r"(?: (?P<tz>[+-]\d{4}))?"
)


def _from_month_name(m: re.Match[str], today: date | None = None) -> str | None:
    """ISO text of a syslog or common-log-format time. Syslog writes no year: the latest year
    that does not put the day more than two days ahead of ``today`` (a log read in January
    that was written in December is last year's)."""
    month, day = MONTHS.index(m.group("mon")) + 1, int(m.group("day"))
    written = m.groupdict().get("year")
    if written is not None:
        year = int(written)
    else:
        year = _syslog_year(month, day, today if today is not None else date.today())
    if not 1 <= day <= monthrange(year, month)[1]:
        return None  # Feb 30
    out = f"{year:04d}-{month:02d}-{day:02d}T{m.group('time')}"
    tz = m.groupdict().get("tz")
    return out + (_colon(tz) if tz else "")


@lru_cache(maxsize=1024)
def _syslog_year(month: int, day: int, today: date) -> int:
    """The year of a syslog day (once per day of the log: a Timestamp per candidate year made
    each syslog event cost 12 us instead of 2)."""
    horizon = pd.Timestamp(today) + pd.Timedelta(days=2)
    return next(
        (y for y in range(horizon.year, horizon.year - 5, -1) if _day(y, month, day) <= horizon),
        horizon.year,
    )


def _day(year: int, month: int, day: int) -> pd.Timestamp:
    try:
        return pd.Timestamp(year=year, month=month, day=day)
    except ValueError:
        return pd.Timestamp.max


def _colon(tz: str) -> str:
    return tz if ":" in tz else f"{tz[:3]}:{tz[3:]}"


#: times outside this span are clock garbage (year 0001, 9999, epoch 0), not log times: they
#: become null instead of overflowing nanoseconds or stretching every chart over centuries
PLAUSIBLE = (pd.Timestamp("1971-01-01", tz="UTC"), pd.Timestamp("2100-01-01", tz="UTC"))


def _plausible(parsed: pd.Series) -> pd.Series:
    """Out-of-span times -> NaT (pandas 3 parses them at a coarser unit; ns would overflow)."""
    utc = parsed.dt.tz_convert("UTC")
    kept: pd.Series = utc.where(utc.ge(PLAUSIBLE[0]) & utc.lt(PLAUSIBLE[1]))
    return kept


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
        out.loc[parsed.index] = _plausible(parsed).astype(out.dtype)
    naive = text[~aware]
    if len(naive):
        local = pd.to_datetime(naive, errors="coerce", format="ISO8601")
        local = local.dt.tz_localize(tz, ambiguous="NaT", nonexistent="shift_forward")
        out.loc[local.index] = _plausible(local).astype(out.dtype)
    return out


#: ISO-like timestamps as to_utc_raw reads them (RE2 and Python re both accept it)
ARROW_ISO = (
    r"^\[?(?P<d>\d{4}[-/]\d{2}[-/]\d{2})[T ](?P<t>\d{2}:\d{2}:\d{2})"
    r"(?:[.,](?P<f>\d{1,9}))?(?:[.,]\d+)*\s?(?P<z>Z|[+-]\d{2}:?\d{2})?"
)


def looks_iso(value: Any) -> bool:
    """A timestamp string the vectorized conversion understands (``to_utc_raw``)."""
    return (
        isinstance(value, str)
        and len(value) >= 19
        and value[4] in "-/"
        and value[10] in " T"
        and value[13] == ":"
    )


def to_utc_raw(values: Sequence[Any], tz: str) -> pd.Series:
    """Timestamps as logged (ISO-like strings with ``,`` or ``.`` fractions, or other values)
    -> tz-aware UTC. The common ISO-like strings are rewritten with one vectorized regex
    (pyarrow); anything else goes through ``to_iso`` one by one."""
    import pyarrow as pa
    import pyarrow.compute as pc

    fast = [v if looks_iso(v) else None for v in values]
    arr = pa.array(fast, type=pa.string())
    parts = pc.extract_regex(arr, ARROW_ISO)
    date = pc.replace_substring(parts.field("d"), "/", "-")
    frac = parts.field("f")
    frac = pc.if_else(pc.equal(frac, ""), "0", pc.utf8_slice_codeunits(frac, 0, 6))
    zone = parts.field("z")
    zone = pc.if_else(pc.equal(zone, "Z"), "+00:00", zone)
    zone = pc.if_else(
        pc.and_(pc.not_equal(zone, ""), pc.not_equal(pc.utf8_length(zone), 6)),
        pc.binary_join_element_wise(
            pc.utf8_slice_codeunits(zone, 0, 3), pc.utf8_slice_codeunits(zone, 3, 5), ":"
        ),
        zone,
    )
    iso = pc.binary_join_element_wise(date, "T", parts.field("t"), ".", frac, zone, "").to_pylist()
    # a value the regex did not read (an epoch number) is a null struct whose fields are not
    # null ("T.0"): go by the input, not by the joined text
    out = [
        i if f is not None and i is not None else (None if v is None else to_iso(v))
        for i, f, v in zip(iso, fast, values, strict=True)
    ]
    return to_utc(out, tz)


def count_offsets(values: Sequence[Any]) -> Counter[str]:
    """How many of ``values`` (timestamps as logged) carry each UTC offset, as ``+08:00``
    (``Z`` is ``+00:00``); naive times count for none. The dashboard offers these zones."""
    import pyarrow as pa
    import pyarrow.compute as pc

    texts = pa.array([v if isinstance(v, str) else None for v in values], type=pa.string())
    zones = pc.extract_regex(texts, r"(?P<z>Z|[+-]\d{2}:?\d{2})$").field("z")
    out: Counter[str] = Counter()
    for item in pc.value_counts(zones.drop_null()).to_pylist():
        if item["values"]:  # a row that did not match has an empty field
            out[normal_offset(item["values"])] += item["counts"]
    return out


def normal_offset(zone: str) -> str:
    """``Z`` -> ``+00:00``, ``+0800`` -> ``+08:00``."""
    return "+00:00" if zone == "Z" else _colon(zone)
