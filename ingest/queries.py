"""The dashboard's aggregations: pure functions of an events frame and of filter values.

Every chart and table of the dashboard (and the export CLI) goes through here, so a figure never
receives raw events. Low-cardinality columns are categoricals: group with ``observed=True`` and
match text on the categories, not on the rows, so a filter change on a million events stays well
under half a second (see ``bench`` figures in the dashboard issue notes).

Filter semantics (``apply_filters``):

- *scope* filters (models, sources, time window) apply to every event, successes included;
- *outcome* filters (codes, categories, statuses, message search) select which errors are kept;
  successes in scope stay, so an error rate keeps its denominator: "share of the calls of these
  models in this window that failed with these codes".
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ingest.catalog.model import CATEGORY_IDS

#: the catalogue's categories, in display order
CATEGORIES: tuple[str, ...] = CATEGORY_IDS
#: the categories that are throttling (HTTP 429 in practice); their sum is "throttled calls"
THROTTLING_KINDS: tuple[str, ...] = ("request-rate", "token-rate", "burst", "free-tier")

#: bucket widths offered by ``choose_bucket``, smallest first (pandas offset aliases)
BUCKETS: tuple[str, ...] = (
    "1s",
    "5s",
    "10s",
    "30s",
    "1min",
    "5min",
    "10min",
    "15min",
    "30min",
    "1h",
    "3h",
    "6h",
    "12h",
    "1D",
)
MAX_BUCKETS = 300

# Spike detection defaults (see detect_spikes)
SPIKE_WINDOW = 30
SPIKE_K = 5.0
SPIKE_MIN_COUNT = 5
SPIKE_FLOOR = 1.0
_MAD_SCALE = 1.4826  # MAD -> standard deviation for normal data


# --------------------------------------------------------------------------- filters


@dataclass(frozen=True)
class Filters:
    """What the user chose; empty tuples and None mean "no restriction"."""

    codes: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    statuses: tuple[int, ...] = ()
    models: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    start: pd.Timestamp | None = None  # inclusive, tz-aware
    end: pd.Timestamp | None = None  # exclusive, tz-aware
    search: str = ""

    @property
    def active(self) -> bool:
        return bool(
            self.codes
            or self.categories
            or self.statuses
            or self.models
            or self.sources
            or self.start is not None
            or self.end is not None
            or self.search.strip()
        )

    def describe(self, tz: str = "UTC") -> str:
        """A one-line, human description (English) used in ticket summaries."""
        parts: list[str] = []
        if self.codes:
            parts.append("codes " + ", ".join(self.codes))
        if self.categories:
            parts.append("categories " + ", ".join(self.categories))
        if self.statuses:
            parts.append("HTTP " + ", ".join(str(s) for s in self.statuses))
        if self.models:
            parts.append("models " + ", ".join(self.models))
        if self.sources:
            parts.append("files " + ", ".join(self.sources))
        if self.start is not None:
            parts.append("from " + format_time(self.start, tz))
        if self.end is not None:
            parts.append("until " + format_time(self.end, tz))
        if self.search.strip():
            parts.append(f'message contains "{self.search.strip()}"')
        return "; ".join(parts) if parts else "none (all events)"


def _category_mask(series: pd.Series, wanted: Iterable[str]) -> np.ndarray[Any, Any]:
    """Rows of a categorical column whose value is in ``wanted`` (matched on the categories)."""
    wanted_set = {str(w) for w in wanted}
    cats = series.cat.categories
    hit = np.flatnonzero(np.array([str(c) in wanted_set for c in cats], dtype=bool))
    return np.asarray(np.isin(series.cat.codes.to_numpy(), hit))


def _search_mask(series: pd.Series, text: str) -> np.ndarray[Any, Any]:
    """Rows of a categorical text column containing ``text`` (case-insensitive, literal)."""
    cats = pd.Series(series.cat.categories.astype(str))
    hit = np.flatnonzero(cats.str.contains(text, case=False, regex=False).to_numpy(dtype=bool))
    return np.asarray(np.isin(series.cat.codes.to_numpy(), hit))


def apply_filters(events: pd.DataFrame, filters: Filters) -> pd.DataFrame:
    """The events that pass ``filters`` (see the module docstring for the semantics)."""
    if not filters.active or events.empty:
        return events
    keep = np.ones(len(events), dtype=bool)
    if filters.models:
        keep &= _category_mask(events["model"], filters.models)
    if filters.sources:
        keep &= _category_mask(events["source"], filters.sources)
    if filters.start is not None or filters.end is not None:
        ts = events["timestamp"]
        if filters.start is not None:
            keep &= (ts >= filters.start).to_numpy(dtype=bool, na_value=False)
        if filters.end is not None:
            keep &= (ts < filters.end).to_numpy(dtype=bool, na_value=False)
    outcome = np.ones(len(events), dtype=bool)
    if filters.codes:
        outcome &= _category_mask(events["code"], filters.codes)
    if filters.categories:
        outcome &= _category_mask(events["category"], filters.categories)
    if filters.statuses:
        statuses = events["status_code"].to_numpy(dtype="float64", na_value=np.nan)
        outcome &= np.isin(statuses, np.array(filters.statuses, dtype="float64"))
    if filters.search.strip():
        outcome &= _search_mask(events["message"], filters.search.strip())
    is_error = events["is_error"].to_numpy(dtype=bool)
    keep &= outcome | ~is_error
    if keep.all():
        return events
    return events.loc[keep]


# --------------------------------------------------------------------------- helpers


def errors_only(events: pd.DataFrame) -> pd.DataFrame:
    """The error rows (masked a column at a time: ``.loc`` with the mask took 320 MB more
    than the 57 MB result for the 633 k errors of a 6 M-event frame, this 140 MB)."""
    mask = events["is_error"].to_numpy(dtype=bool)
    if mask.all():
        return events
    return pd.DataFrame({col: events[col][mask] for col in events.columns})


def successes_visible(events: pd.DataFrame) -> bool:
    """True when the log records successful calls, so error rates have a denominator."""
    return bool((~events["is_error"].to_numpy(dtype=bool)).any())


def format_time(ts: pd.Timestamp, tz: str) -> str:
    """ISO-like local time with its offset, e.g. ``2025-03-10 14:03:00+08:00``."""
    return str(pd.Timestamp(ts).tz_convert(tz).isoformat(sep=" ", timespec="seconds"))


def where(source: Any, line: Any) -> str:
    return f"{source}:{line}"


# --------------------------------------------------------------------------- KPIs


@dataclass(frozen=True)
class Kpis:
    calls: int
    errors: int
    error_rate: float | None  # None when the log shows no successful calls
    throttled: int
    failing_request_ids: int
    errors_without_request_id: int
    first: pd.Timestamp | None
    last: pd.Timestamp | None

    @property
    def span(self) -> pd.Timedelta | None:
        if self.first is None or self.last is None:
            return None
        return self.last - self.first


def kpis(events: pd.DataFrame) -> Kpis:
    """Calls seen, errors, error rate, throttled calls, distinct failing request_ids, span."""
    is_error = events["is_error"].to_numpy(dtype=bool)
    calls = len(events)
    errors = int(is_error.sum())
    # the errors' columns it needs, not a copy of their rows (a 6 M-event frame: 200 MB)
    throttled = int(_category_mask(events["category"][is_error], THROTTLING_KINDS).sum())
    rid = events["request_id"][is_error]
    ts = events["timestamp"]
    return Kpis(
        calls=calls,
        errors=errors,
        error_rate=(errors / calls) if errors < calls else None,
        throttled=throttled,
        failing_request_ids=int(rid.nunique(dropna=True)),
        errors_without_request_id=int(rid.isna().sum()),
        first=None if calls == 0 else pd.Timestamp(ts.min()),
        last=None if calls == 0 else pd.Timestamp(ts.max()),
    )


# --------------------------------------------------------------------------- time buckets


def choose_bucket(start: pd.Timestamp | None, end: pd.Timestamp | None) -> str:
    """A pandas offset alias giving at most ``MAX_BUCKETS`` buckets over [start, end].

    The smallest width in ``BUCKETS`` that fits; a window of a few minutes gets seconds, a day
    gets 5-minute buckets (288), a month 3-hour ones (240), i.e. about 50-300 buckets.
    """
    if start is None or end is None:
        return "1min"
    span = max((pd.Timestamp(end) - pd.Timestamp(start)).total_seconds(), 1.0)
    for alias in BUCKETS:
        width = pd.Timedelta(alias).total_seconds()
        if span / width <= MAX_BUCKETS:
            return alias
    return BUCKETS[-1]


def _bucket_index(
    ts: pd.Series, bucket: str, tz: str
) -> tuple[np.ndarray[Any, Any], int, int, pd.DatetimeIndex]:
    """Integer bucket numbers for ``ts``, aligned on the display zone's wall clock.

    Returns (bucket number per row, first bucket, width ns, the full bucket index in UTC). The
    zone offset at the first event is used for alignment, so day buckets start at local midnight.
    """
    width = int(pd.Timedelta(bucket).value)
    values = ts.array.asi8 if isinstance(ts.dtype, pd.DatetimeTZDtype) else None
    if values is None or ts.dtype.unit != "ns":  # type: ignore[union-attr]
        values = ts.to_numpy(dtype="datetime64[ns]").astype("int64")
    if len(values) == 0:
        return values, 0, width, pd.DatetimeIndex([], tz="UTC")
    first_ts = pd.Timestamp(int(values.min()), tz="UTC")
    offset_td = first_ts.tz_convert(tz).utcoffset()
    offset = int(pd.Timedelta(offset_td).value) if offset_td is not None else 0
    nums = values + offset
    nums //= width
    lo, hi = int(nums.min()), int(nums.max())
    index = pd.DatetimeIndex(
        pd.to_datetime(np.arange(lo, hi + 1, dtype="int64") * width - offset, utc=True),
        name="time",
    )
    nums -= lo
    return nums, lo, width, index


@dataclass(frozen=True)
class TimeSeries:
    """Per-bucket counts (wide: one column per category/kind) and per-bucket totals."""

    bucket: str
    counts: pd.DataFrame  # index: bucket start (UTC); columns: categories / kinds
    totals: pd.DataFrame  # index: same; columns: calls, errors, error_rate (NaN: no successes)


def _timed(events: pd.DataFrame) -> pd.DataFrame:
    """Events that have a time (a time-only or out-of-range stamp leaves it null)."""
    has_ts = events["timestamp"].notna()
    return events if bool(has_ts.all()) else events[has_ts]


def errors_over_time(events: pd.DataFrame, bucket: str, tz: str = "UTC") -> TimeSeries:
    """Errors per bucket by category, plus calls, errors and the error rate per bucket."""
    events = _timed(events)
    if events.empty:
        empty = pd.DataFrame(index=pd.DatetimeIndex([], tz="UTC", name="time"))
        totals = empty.assign(calls=0, errors=0, error_rate=np.nan)
        return TimeSeries(bucket, empty, totals)
    nums, _, _, index = _bucket_index(events["timestamp"], bucket, tz)
    n = len(index)
    is_error = events["is_error"].to_numpy(dtype=bool)
    calls = np.bincount(nums, minlength=n)[:n]
    errors = np.bincount(nums[is_error], minlength=n)[:n]
    counts = _counts_by_nums(events["category"][is_error], nums[is_error], index, CATEGORIES)
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where(calls > 0, errors / np.maximum(calls, 1), np.nan)
    if not successes_visible(events):
        rate = np.full(n, np.nan)
    totals = pd.DataFrame({"calls": calls, "errors": errors, "error_rate": rate}, index=index)
    return TimeSeries(bucket, counts, totals)


def _counts_by_nums(
    values: pd.Series,
    nums: np.ndarray[Any, Any],
    index: pd.DatetimeIndex,
    order: Sequence[str],
) -> pd.DataFrame:
    n = len(index)
    cats = [str(c) for c in values.cat.categories]
    codes = values.cat.codes.to_numpy()
    names = [c for c in order if c in cats] + [c for c in cats if c not in order]
    out: dict[str, np.ndarray[Any, Any]] = {}
    for name in names:
        mask = codes == cats.index(name)
        if mask.any():
            out[name] = np.bincount(nums[mask], minlength=n)[:n]
    return pd.DataFrame(out, index=index, dtype="int64")


def throttling_over_time(events: pd.DataFrame, bucket: str, tz: str = "UTC") -> TimeSeries:
    """Throttled calls per bucket split into the four kinds (all four columns, zeros kept)."""
    events = _timed(events)
    if events.empty:
        idx = pd.DatetimeIndex([], tz="UTC", name="time")
        counts = pd.DataFrame({k: pd.Series([], dtype="int64") for k in THROTTLING_KINDS})
        counts.index = idx
        totals = pd.DataFrame({"calls": [], "errors": [], "error_rate": []}, index=idx)
        return TimeSeries(bucket, counts, totals)
    nums, _, _, index = _bucket_index(events["timestamp"], bucket, tz)
    n = len(index)
    is_error = events["is_error"].to_numpy(dtype=bool)
    calls = np.bincount(nums, minlength=n)[:n]
    throttling = events["category"][is_error]
    counts = _counts_by_nums(throttling, nums[is_error], index, THROTTLING_KINDS)
    counts = counts.reindex(columns=list(THROTTLING_KINDS), fill_value=0)
    throttled = counts.sum(axis=1).to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where(calls > 0, throttled / np.maximum(calls, 1), np.nan)
    totals = pd.DataFrame({"calls": calls, "errors": throttled, "error_rate": rate}, index=index)
    return TimeSeries(bucket, counts, totals)


# --------------------------------------------------------------------------- spikes


@dataclass(frozen=True)
class Spike:
    start: pd.Timestamp  # start of the first anomalous bucket
    end: pd.Timestamp  # end of the last anomalous bucket (exclusive)
    peak: int  # highest bucket count
    peak_time: pd.Timestamp
    total: int  # events (429s) in the spike
    calls: int | None  # all calls in the spike's window, when known
    baseline: float  # the median the spike stood out from

    @property
    def share(self) -> float | None:
        """Share of the calls in the window that were throttled (None without calls)."""
        if not self.calls:
            return None
        return self.total / self.calls


def detect_spikes(
    series: pd.Series,
    *,
    calls: pd.Series | None = None,
    bucket: str | None = None,
    window: int = SPIKE_WINDOW,
    k: float = SPIKE_K,
    min_count: int = SPIKE_MIN_COUNT,
    floor: float = SPIKE_FLOOR,
) -> list[Spike]:
    """Find bursts in a count series (index: bucket starts) with a rolling median and MAD.

    For each bucket the baseline is the median of the previous ``window`` buckets (the global
    median while fewer than 5 are available), and the spread is their median absolute deviation
    scaled to a standard deviation (x 1.4826), but never below ``floor`` so that a flat baseline
    of zeros still needs ``k * floor`` events to count. A bucket is anomalous when

        count > median + k * max(1.4826 * MAD, floor)   and   count >= min_count.

    Defaults: 30 buckets of history, k = 5, at least 5 events, floor 1. Consecutive anomalous
    buckets merge into one spike with its start, end, peak, peak time, total and (with
    ``calls``, the calls per bucket) the share of calls in the window that it represents.
    """
    if series.empty:
        return []
    values = series.to_numpy(dtype="float64")
    index = pd.DatetimeIndex(series.index)
    if bucket is not None:
        width = pd.Timedelta(bucket)
    elif len(index) > 1:
        width = pd.Timedelta(np.median(np.diff(index.as_unit("ns").asi8)), unit="ns")
    else:
        width = pd.Timedelta(minutes=1)
    s = pd.Series(values)
    hist = s.shift(1).rolling(window, min_periods=5)
    median = hist.median()
    mad = (s.shift(1) - median).abs().rolling(window, min_periods=5).median()
    global_median = float(np.median(values))
    global_mad = float(np.median(np.abs(values - global_median)))
    median = median.fillna(global_median)
    mad = mad.fillna(global_mad)
    spread = np.maximum(_MAD_SCALE * mad.to_numpy(), floor)
    threshold = median.to_numpy() + k * spread
    anomalous = (values > threshold) & (values >= min_count)
    call_values = None if calls is None else calls.reindex(series.index).fillna(0).to_numpy()

    spikes: list[Spike] = []
    i = 0
    n = len(values)
    while i < n:
        if not anomalous[i]:
            i += 1
            continue
        j = i
        while j + 1 < n and anomalous[j + 1]:
            j += 1
        seg = values[i : j + 1]
        peak_at = i + int(np.argmax(seg))
        spikes.append(
            Spike(
                start=pd.Timestamp(index[i]),
                end=pd.Timestamp(index[j]) + width,
                peak=int(seg.max()),
                peak_time=pd.Timestamp(index[peak_at]),
                total=int(seg.sum()),
                calls=None if call_values is None else int(call_values[i : j + 1].sum()),
                baseline=float(median.iloc[i]),
            )
        )
        i = j + 1
    return spikes


# --------------------------------------------------------------------------- tables

#: the columns of the tables the pages show (the DuckDB twins in ingest.store.query return the same)
TOP_CODES_COLUMNS = ["code", "category", "status", "count", "share", "meaning"]
PER_MODEL_COLUMNS = ["model", "calls", "errors", "error_rate", "throttled", "top_code"]
TOP_REQUEST_IDS_COLUMNS = [
    "request_id",
    "mentions",
    "first_seen",
    "last_seen",
    "status",
    "code",
    "message",
    "model",
    "where",
]
NO_ID_COLUMNS = ["code", "status", "model", "count", "first_seen", "last_seen", "where"]


def empty_table(cols: Sequence[str]) -> pd.DataFrame:
    """A table with these columns and no rows."""
    return pd.DataFrame({c: pd.Series([], dtype="object") for c in cols})


def top_codes(
    events: pd.DataFrame, meanings: Mapping[str, str] | None = None, limit: int | None = 20
) -> pd.DataFrame:
    """Errors per code: code, category, status (most frequent), count, share, meaning."""
    cols = TOP_CODES_COLUMNS
    errs = errors_only(events)
    if errs.empty:
        return empty_table(cols)
    code = errs["code"].astype("string").fillna("(no code)")
    frame = pd.DataFrame(
        {
            "code": code,
            "category": errs["category"].astype("string").fillna("unknown"),
            "status": errs["status_code"],
        }
    )
    counts = code.value_counts()
    firsts = frame.groupby("code", sort=False).agg(
        category=("category", _mode), status=("status", _mode)
    )
    out = firsts.loc[counts.index].reset_index()
    out["count"] = counts.to_numpy()
    out["share"] = out["count"] / len(errs)
    out["meaning"] = [(meanings or {}).get(str(c), "") for c in out["code"]]
    out = out.sort_values(["count", "code"], ascending=[False, True]).reset_index(drop=True)
    if limit is not None:
        out = out.head(limit)
    return out[cols]


def _mode(s: pd.Series) -> Any:
    m = s.mode(dropna=True)
    return m.iloc[0] if len(m) else pd.NA


def status_distribution(events: pd.DataFrame) -> pd.DataFrame:
    """Errors per reconciled HTTP status: status, count, corrected (logged status differed)."""
    errs = errors_only(events)
    if errs.empty:
        return pd.DataFrame(
            {"status": pd.Series([], dtype="Int16"), "count": [], "corrected": []}
        ).astype({"count": "int64", "corrected": "int64"})
    status = errs["status_code"].astype("Int32")
    corrected = (errs["logged_status"].astype("Int32") != status).fillna(False)
    frame = pd.DataFrame({"status": status.fillna(-1), "corrected": corrected.astype(int)})
    out = (
        frame.groupby("status", sort=True)
        .agg(count=("corrected", "size"), corrected=("corrected", "sum"))
        .reset_index()
    )
    return out.astype({"count": "int64", "corrected": "int64"})


def per_model(events: pd.DataFrame) -> pd.DataFrame:
    """Per model: calls, errors, error rate (NaN without successes), throttled, top code."""
    cols = PER_MODEL_COLUMNS
    if events.empty:
        return empty_table(cols)
    model = events["model"]
    names = [str(c) for c in model.cat.categories] + ["(unknown)"]
    mcodes = model.cat.codes.to_numpy().astype("int64")
    mcodes[mcodes < 0] = len(names) - 1
    n = len(names)
    is_error = events["is_error"].to_numpy(dtype=bool)
    error_codes = events["code"][is_error]
    throttled = _category_mask(events["category"][is_error], THROTTLING_KINDS)
    calls = np.bincount(mcodes, minlength=n)
    errors = np.bincount(mcodes[is_error], minlength=n)
    thr = np.bincount(mcodes[is_error][throttled], minlength=n)
    out = pd.DataFrame({"model": names, "calls": calls, "errors": errors, "throttled": thr})
    out["error_rate"] = out["errors"] / out["calls"] if successes_visible(events) else np.nan
    top: dict[str, Any] = {}
    if len(error_codes):
        pairs = pd.DataFrame({"m": mcodes[is_error], "c": error_codes.cat.codes.to_numpy()})
        pairs = pairs.loc[pairs["c"] >= 0]
        if not pairs.empty:
            sizes = pairs.groupby(["m", "c"]).size().sort_values(ascending=False)
            best = sizes.reset_index().drop_duplicates("m")
            code_names = error_codes.cat.categories
            top = {
                names[int(m)]: str(code_names[int(c)])
                for m, c in zip(best["m"], best["c"], strict=True)
            }
    out["top_code"] = out["model"].map(top)
    out = out.loc[out["calls"] > 0].sort_values(["errors", "calls"], ascending=False)
    return out[cols].reset_index(drop=True)


def top_request_ids(events: pd.DataFrame, limit: int | None = None) -> pd.DataFrame:
    """Failing request_ids: mentions, first/last seen, status, code, message, model, where.

    Ordered by mentions, then by last seen (most recent first). ``where`` is ``source:line`` of
    the first event carrying the id.
    """
    cols = TOP_REQUEST_IDS_COLUMNS
    errs = errors_only(events)
    errs = errs.loc[errs["request_id"].notna().to_numpy(dtype=bool)]
    if errs.empty:
        return empty_table(cols)
    errs = errs.sort_values("timestamp", kind="stable")
    rid = errs["request_id"]
    dup = rid.duplicated(keep=False).to_numpy(dtype=bool)
    first = errs.loc[~rid.duplicated(keep="first").to_numpy(dtype=bool)]
    out = pd.DataFrame(
        {
            "request_id": first["request_id"].array,
            "mentions": first["mentions"].to_numpy(dtype="int64"),
            "first_seen": first["timestamp"].array,
            "last_seen": first["timestamp"].array,
            "status": first["status_code"].array,
            "code": first["code"].array,
            "message": first["message"].array,
            "model": first["model"].array,
            "source": first["source"].array,
            "line": first["line"].array,
        }
    )
    if dup.any():  # ids seen on several events (retries logged twice, SDK + app logs)
        many = errs.loc[dup]
        g = pd.DataFrame(
            {
                "request_id": many["request_id"].to_numpy(),
                "mentions": many["mentions"].to_numpy(dtype="int64"),
                "ts": many["timestamp"].array,
            }
        ).groupby("request_id", sort=False)
        summary = g.agg(mentions=("mentions", "sum"), last_seen=("ts", "max"))
        at = out["request_id"].isin(summary.index).to_numpy(dtype=bool)
        ids = out.loc[at, "request_id"]
        out.loc[at, "mentions"] = summary["mentions"].reindex(ids).to_numpy()
        out.loc[at, "last_seen"] = summary["last_seen"].reindex(ids).to_numpy()
    out["first_seen"] = pd.to_datetime(out["first_seen"], utc=True)
    out["last_seen"] = pd.to_datetime(out["last_seen"], utc=True)
    out["where"] = out["source"].astype(str) + ":" + out["line"].astype(str)
    out = out.sort_values(["mentions", "last_seen"], ascending=[False, False], kind="stable")
    if limit is not None:
        out = out.head(limit)
    return out[cols].reset_index(drop=True)


def failures_without_request_id(events: pd.DataFrame) -> pd.DataFrame:
    """Errors with no request_id grouped by (code, status, model): count, first/last, where.

    Support cannot look these up by id: send the time window, model and count instead.
    """
    cols = NO_ID_COLUMNS
    errs = errors_only(events)
    errs = errs.loc[errs["request_id"].isna().to_numpy(dtype=bool)]
    if errs.empty:
        return empty_table(cols)
    frame = pd.DataFrame(
        {
            "code": errs["code"].astype("string").fillna("(no code)").to_numpy(),
            "status": errs["status_code"].astype("Int32").fillna(-1).to_numpy(),
            "model": errs["model"].astype("string").fillna("(unknown)").to_numpy(),
            "ts": errs["timestamp"].array,
            "where": (errs["source"].astype(str) + ":" + errs["line"].astype(str)).to_numpy(),
        }
    )
    out = (
        frame.sort_values("ts", kind="stable")
        .groupby(["code", "status", "model"], sort=False)
        .agg(
            count=("ts", "size"),
            first_seen=("ts", "min"),
            last_seen=("ts", "max"),
            where=("where", "first"),
        )
        .reset_index()
        .sort_values(["count", "code"], ascending=[False, True])
    )
    out["first_seen"] = pd.to_datetime(out["first_seen"], utc=True)
    out["last_seen"] = pd.to_datetime(out["last_seen"], utc=True)
    return out[cols].reset_index(drop=True)


# --------------------------------------------------------------------------- filter options


@dataclass(frozen=True)
class Options:
    """The values the filters can offer for a frame, with counts (errors; calls for models)."""

    codes: pd.DataFrame  # code, category, count; ordered by category, then count
    statuses: dict[int, int] = field(default_factory=dict)
    models: dict[str, int] = field(default_factory=dict)
    sources: dict[str, int] = field(default_factory=dict)
    categories: dict[str, int] = field(default_factory=dict)


def filter_options(events: pd.DataFrame) -> Options:
    """What each filter can offer for ``events``, with how many events each value has."""
    errs = errors_only(events)
    code = errs["code"].astype("string")
    category = errs["category"].astype("string").fillna("unknown")
    codes = (
        pd.DataFrame({"code": code, "category": category})
        .dropna(subset=["code"])
        .groupby(["code", "category"], sort=False)
        .size()
        .rename("count")
        .reset_index()
    )
    order = {c: i for i, c in enumerate(CATEGORIES)}
    codes["_o"] = codes["category"].map(lambda c: order.get(str(c), len(order)))
    codes = codes.sort_values(["_o", "count", "code"], ascending=[True, False, True])
    codes = codes.drop(columns="_o").drop_duplicates("code").reset_index(drop=True)
    statuses = errs["status_code"].dropna().astype(int).value_counts().sort_index()
    models = events["model"].value_counts(dropna=True)
    sources = events["source"].value_counts(dropna=True)
    cats = category.value_counts()
    return Options(
        codes=codes,
        statuses=dict(zip(statuses.index.tolist(), statuses.tolist(), strict=True)),
        models={str(k): int(v) for k, v in models.items() if v > 0},
        sources={str(k): int(v) for k, v in sources.items() if v > 0},
        categories={
            c: int(cats[c]) for c in sorted(cats.index, key=lambda c: order.get(c, len(order)))
        },
    )


def humanize_span(span: pd.Timedelta | None) -> str:
    """``12 s``, ``45 min``, ``23.9 h``, ``3.2 d``: short enough for a KPI tile."""
    if span is None:
        return "-"
    seconds = span.total_seconds()
    if seconds < 60:
        return f"{math.floor(seconds)} s"
    if seconds < 3600:
        return f"{math.floor(seconds / 60)} min"
    if seconds < 48 * 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} d"
