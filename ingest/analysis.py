"""Deeper analysis of an events frame: why a spike happened, and what the retries cost.

Pure functions of the events frame (no I/O, no Streamlit), used by ``dashscope-logs summary``,
the Throttling page and the alerts of ``dashscope-logs watch``.

Spike explainer: the events of a spike window are compared with a baseline window; every value
of ``code``, ``model``, ``source``, ``api_key`` and ``client_host`` is ranked by its *lift*
(share in the spike / share in the baseline) among the values with enough *support* (events in
the spike). The API key hash and the client host are not event columns: they come from the
report's side table (``IngestReport.context``, see ingest.context), joined on (source, line).
The client libraries never log them (client-log-formats.md section 7); application logs often
do (``host`` / ``pod`` / ``api_key`` fields, ``Authorization`` headers).

Retries: the frame keeps one row per attempt. A *retried attempt* is a row of a ``retry`` format
(openai ``Retrying request``, tenacity's warning, dashscope 2.x ``retrying ... (attempt n/m)``),
or a failed ``transport`` row (an httpx status line) that absorbed such a notice
(``mentions >= 2``). The next attempt of the same logical call is the next row of the same file
within ``RETRY_GAP`` seconds; LangChain's tenacity retries run in threads beside other calls, so
their next attempt is the next tenacity / LangChain row instead. A retry on a code the catalogue
marks as not retryable (moderation, billing, a bad key) is *wasted*: it cannot succeed.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from ingest.context import CONTEXT_FIELDS, attach
from ingest.queries import THROTTLING_KINDS, detect_spikes, errors_only, format_time

#: the columns ranked by the explainer
EXPLAIN_COLUMNS: tuple[str, ...] = ("code", "model", "source", *CONTEXT_FIELDS)
#: what the explainer cannot rank, and why (shown with its results)
EXPLAIN_SKIPPED = "API key hash and client host: the log names neither for these failures"
#: a key or host is named in the sentence when it holds this share of the spike
WHO_SHARE = 0.5
#: a value needs this many events in the spike (and this share of it) to be ranked
MIN_SUPPORT = 3
MIN_SUPPORT_SHARE = 0.05

#: seconds between two attempts of one call (the SDKs back off 0.4 s .. 8 s; LangChain 4 s+)
RETRY_GAP = 60.0
#: formats whose next attempt is the next row of the same family, not just the next row
RETRY_LANES: dict[str, frozenset[str]] = {
    "tenacity-retry": frozenset({"tenacity-retry", "langchain-tongyi"}),
}
#: a retry storm: per-minute retried attempts that the spike detector flags
STORM_BUCKET = "1min"


# --------------------------------------------------------------------------- spike explainer


@dataclass(frozen=True)
class Factor:
    """One value of one column, ranked by over-representation in the spike."""

    column: str
    value: str
    spike_count: int
    spike_share: float
    baseline_share: float
    lift: float  # math.inf when the value never occurs in the baseline


@dataclass(frozen=True)
class Headline:
    """The most common (code, model) of a spike: what the sentence says, as data (for i18n)."""

    share: float  # of the spike's events that name a code or model
    unnamed: float  # share of the spike's events that name neither (status-only lines)
    code: str  # short form (AllocationQuota), "" when the log names none
    model: str  # "" when the log names none
    lift: float | None  # how many times its share before the spike (None: not meaningful)
    new: bool  # not seen before the spike
    #: the API key or client host most of the spike came from, when one did (else None)
    who: Factor | None = None


@dataclass(frozen=True)
class Explanation:
    start: pd.Timestamp
    end: pd.Timestamp
    spike_events: int
    baseline_events: int
    what: str  # "429s", "throttled calls" or "errors"
    factors: list[Factor]
    sentence: str
    headline: Headline | None = None  # None: no events, or none names a code or model
    skipped: str = ""  # what could not be ranked, and why ("": everything)


def _label(series: pd.Series, empty: str) -> pd.Series:
    return series.astype("string").fillna(empty)


def _focus(events: pd.DataFrame, focus: str) -> pd.DataFrame:
    errs = errors_only(events)
    if focus == "throttling":
        cat = errs["category"].astype("string")
        keep = cat.isin(THROTTLING_KINDS).fillna(False) | (errs["status_code"] == 429).fillna(False)
        return errs.loc[keep.to_numpy(dtype=bool)]
    return errs


def _window(frame: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp) -> pd.DataFrame:
    ts = frame["timestamp"]
    keep = ((ts >= start) & (ts < end)).to_numpy(dtype=bool, na_value=False)
    return frame.loc[keep]


def explain_spike(
    events: pd.DataFrame,
    start: pd.Timestamp,
    end: pd.Timestamp,
    *,
    baseline_start: pd.Timestamp | None = None,
    baseline_end: pd.Timestamp | None = None,
    focus: str = "throttling",
    tz: str = "UTC",
    columns: tuple[str, ...] = EXPLAIN_COLUMNS,
    context: pd.DataFrame | None = None,
) -> Explanation:
    """Rank the values of ``columns`` by over-representation in [start, end) and say it.

    ``focus``: "throttling" (429s / throttling categories) or "errors" (every failure). The
    baseline defaults to the six spike-lengths before the spike (the whole log before it when
    that window is empty). ``context``: the API key / client host table of the report
    (``IngestReport.context``), unless ``events`` has those columns already.
    """
    start, end = pd.Timestamp(start), pd.Timestamp(end)
    focused = _focus(events, focus)
    if not all(c in focused.columns for c in CONTEXT_FIELDS):
        focused = attach(focused, context)
    skipped = ""
    if not any(focused[c].notna().any() for c in CONTEXT_FIELDS if c in columns):
        columns = tuple(c for c in columns if c not in CONTEXT_FIELDS)
        skipped = EXPLAIN_SKIPPED
    spike = _window(focused, start, end)
    if baseline_end is None:
        baseline_end = start
    if baseline_start is None:
        baseline_start = baseline_end - 6 * (end - start)
    base = _window(focused, pd.Timestamp(baseline_start), pd.Timestamp(baseline_end))
    if base.empty:
        before = focused["timestamp"] < start
        base = focused.loc[before.to_numpy(dtype=bool, na_value=False)]
    what = _what(spike, focus)
    factors: list[Factor] = []
    n, nb = len(spike), len(base)
    for col in columns:
        if n == 0:
            break
        s_counts = _label(spike[col], "(none)").value_counts()
        b_counts = _label(base[col], "(none)").value_counts() if nb else pd.Series(dtype="int64")
        for value, count in s_counts.items():
            if count < MIN_SUPPORT or count < MIN_SUPPORT_SHARE * n or value == "(none)":
                continue
            share = count / n
            b_share = float(b_counts.get(value, 0)) / nb if nb else 0.0
            lift = share / b_share if b_share > 0 else math.inf
            factors.append(Factor(col, str(value), int(count), share, b_share, lift))
    factors.sort(key=lambda f: (-min(f.lift, 1e9), -f.spike_count, f.column, f.value))
    headline = _headline(spike, factors)
    sentence = _sentence(spike, start, end, tz, what, headline)
    return Explanation(start, end, n, nb, what, factors, sentence, headline, skipped)


def _what(spike: pd.DataFrame, focus: str) -> str:
    if focus != "throttling":
        return "errors"
    status = spike["status_code"]
    if len(spike) and bool((status == 429).fillna(False).all()):
        return "429s"
    return "throttled calls"


def _hhmm(ts: pd.Timestamp, tz: str) -> str:
    return str(ts.tz_convert(tz).strftime("%H:%M"))


def _headline(spike: pd.DataFrame, factors: list[Factor]) -> Headline | None:
    code = _label(spike["code"], "")
    model = _label(spike["model"], "")
    named = (code != "") | (model != "")
    if spike.empty or not bool(named.any()):
        return None
    pairs = pd.DataFrame({"code": code[named], "model": model[named]}).value_counts()
    top, count = next(iter(pairs.items()))
    top_code, top_model = (str(x) for x in top)  # type: ignore[attr-defined]
    lifts = [f for f in factors if f.value in (top_code, top_model) and f.lift != math.inf]
    new = any(f.value in (top_code, top_model) and f.lift == math.inf for f in factors)
    lift = lifts[0].lift if lifts and lifts[0].lift >= 2 else None
    short = _short_code(top_code) if top_code else ""
    n_named = int(named.sum())
    unnamed = 1 - n_named / len(spike)
    who = [
        f
        for f in factors
        if f.column in CONTEXT_FIELDS and f.spike_share >= WHO_SHARE and f.lift >= 2
    ]
    return Headline(
        int(count) / n_named,
        unnamed,
        short,
        top_model,
        lift,
        new and lift is None,
        max(who, key=lambda f: f.spike_share) if who else None,
    )


def who_phrase(who: Factor) -> str:
    """ "85% from host web-3" / "85% with API key sk-…a1b2c3"."""
    noun = "from host" if who.column == "client_host" else "with API key"
    return f"{who.spike_share:.0%} {noun} {who.value}"


def _sentence(  # noqa: PLR0917 (private helper)
    spike: pd.DataFrame,
    start: pd.Timestamp,
    end: pd.Timestamp,
    tz: str,
    what: str,
    headline: Headline | None,
) -> str:
    """ "78% of the 429s between 14:02 and 14:09 are AllocationQuota on qwen-max"."""
    span = f"between {_hhmm(start, tz)} and {_hhmm(end, tz)}"
    if spike.empty:
        return f"No {what} {span}."
    if headline is None:
        return f"{len(spike)} {what} {span}; the log names no code or model for them."
    parts = [headline.code] if headline.code else []
    if headline.model:
        parts.append(f"on {headline.model}")
    if headline.unnamed >= 0.5:
        # mostly httpx / SDK status lines of retried attempts: say so, then what the rest are
        text = (
            f"{headline.unnamed:.0%} of the {what} {span} name no code or model (status-only"
            f" lines such as retried attempts); of the others, {headline.share:.0%} are"
            f" {' '.join(parts)}"
        )
    else:
        share = headline.share * (1 - headline.unnamed)
        text = f"{share:.0%} of the {what} {span} are {' '.join(parts)}"
    if headline.lift is not None:
        text += f" ({headline.lift:.1f}x its share before)"
    elif headline.new:
        text += " (not seen before the spike)"
    if headline.who is not None:
        text += f"; {who_phrase(headline.who)}"
    return text + "."


def _short_code(code: str) -> str:
    """``Throttling.AllocationQuota`` -> ``AllocationQuota`` (the example's wording)."""
    head, _, tail = code.partition(".")
    return tail if head == "Throttling" and tail else code


def explain_spikes(
    events: pd.DataFrame,
    bucket: str,
    tz: str = "UTC",
    limit: int = 5,
    context: pd.DataFrame | None = None,
) -> list[Explanation]:
    """The throttling spikes of ``events`` (the dashboard's detector), each explained."""
    from ingest.queries import throttling_over_time

    if events.empty:
        return []
    series = throttling_over_time(events, bucket, tz)
    spikes = detect_spikes(series.counts.sum(axis=1), calls=series.totals["calls"], bucket=bucket)
    spikes = sorted(spikes, key=lambda s: -s.total)[:limit]
    return [explain_spike(events, s.start, s.end, tz=tz, context=context) for s in spikes]


# --------------------------------------------------------------------------- retries


@lru_cache(maxsize=1)
def _roles() -> dict[str, str]:
    from ingest.formats import registry

    return {f.name: f.role for f in registry()}


@lru_cache(maxsize=1)
def _not_retryable_codes() -> frozenset[str]:
    from ingest.catalog import load_catalogue

    return frozenset(e.code for e in load_catalogue().entries if not e.retryable)


@dataclass(frozen=True)
class RetryCall:
    """One logical call that was retried: its attempts and how it ended."""

    source: str
    first_line: int
    start: pd.Timestamp | None
    attempts: int
    outcome: str  # "succeeded", "failed" or "unknown" (the log does not say)
    codes: tuple[str, ...]  # codes (or HTTP statuses) of the failed attempts
    wasted: int  # retried attempts on codes that can never succeed
    model: str | None


@dataclass(frozen=True)
class RetryStorm:
    start: pd.Timestamp
    end: pd.Timestamp
    retries: int
    peak: int


@dataclass(frozen=True)
class RetryReport:
    calls: list[RetryCall] = field(default_factory=list)
    retried_attempts: int = 0  # failed attempts that the client retried
    storms: list[RetryStorm] = field(default_factory=list)

    @property
    def calls_with_retries(self) -> int:
        return len(self.calls)

    @property
    def succeeded_after_retries(self) -> int:
        return sum(1 for c in self.calls if c.outcome == "succeeded")

    @property
    def failed_after_retries(self) -> int:
        return sum(1 for c in self.calls if c.outcome == "failed")

    @property
    def unknown_outcome(self) -> int:
        return sum(1 for c in self.calls if c.outcome == "unknown")

    @property
    def wasted_retries(self) -> int:
        return sum(c.wasted for c in self.calls)

    def attempts_histogram(self) -> dict[int, int]:
        """attempts per call -> number of calls."""
        out: dict[int, int] = {}
        for c in self.calls:
            out[c.attempts] = out.get(c.attempts, 0) + 1
        return dict(sorted(out.items()))

    def wasted_by_code(self) -> dict[str, int]:
        out: dict[str, int] = {}
        nonretry = _not_retryable_codes()
        for c in self.calls:
            for code in c.codes[: c.attempts - 1]:
                if code in nonretry:
                    out[code] = out.get(code, 0) + 1
        return dict(sorted(out.items(), key=lambda kv: -kv[1]))


def _is_retried(fmt: str, is_error: bool, mentions: int, roles: dict[str, str]) -> bool:
    role = roles.get(fmt, "detail")
    return role == "retry" or (role == "transport" and is_error and mentions >= 2)


def _wasted(code: str | None, retryable: Any) -> bool:
    if code is not None and code in _not_retryable_codes():
        return True
    return retryable is False


def analyse_retries(events: pd.DataFrame, *, gap: float = RETRY_GAP) -> RetryReport:
    """Attempts per call, outcomes after retries, wasted retries and retry storms.

    Rows are walked in (source, line) order from each retried attempt to the next attempt of
    the same call; only the rows of a chain are turned into records (a record per event had
    taken 7 GB and a minute for the 6 M events of a 1 GB log)."""
    if events.empty:
        return RetryReport()
    rows = _Rows(events, _roles())
    calls: list[RetryCall] = []
    retried_ts: list[pd.Timestamp] = []
    for source, lo, hi in rows.sources():
        used: set[int] = set()
        for i in np.flatnonzero(rows.retried[lo:hi]) + lo:
            if i in used:
                continue
            chain = [int(i)]
            used.add(int(i))
            j = int(i)
            while rows.retried[j]:
                nxt = rows.next_attempt(j, hi, used, gap)
                if nxt is None:
                    break
                chain.append(nxt)
                used.add(nxt)
                j = nxt
            records = [rows.record(k) for k in chain]
            calls.append(_call(source, records, rows.roles))
            retried_ts += [r["ts"] for k, r in zip(chain, records, strict=True) if rows.retried[k]]
    storms = _storms(retried_ts)
    return RetryReport(calls, len(retried_ts), storms)


#: NaT as int64
_NAT = np.iinfo(np.int64).min


class _Rows:
    """The events' columns in (source, line) order, as arrays: what the retry walk reads."""

    def __init__(self, events: pd.DataFrame, roles: dict[str, str]) -> None:
        self.roles = roles
        source, self.source_names = _coded(events["source"], "")
        line = events["line"].to_numpy()
        # by source name, then line (stable): the codes ranked as their names sort
        rank = np.argsort(np.argsort(np.array(self.source_names, dtype=object), kind="stable"))
        ranked = rank[source]
        ordered = bool(
            (
                (ranked[1:] > ranked[:-1]) | ((ranked[1:] == ranked[:-1]) & (line[1:] >= line[:-1]))
            ).all()
        )
        del ranked
        #: the rows' places in the frame (None: the frame's own order, the usual case)
        self.order = None if ordered else np.lexsort((line, rank[source]))

        def arranged(values: Any) -> Any:
            return values if self.order is None else values[self.order]

        self.source = arranged(source)
        self.line = arranged(line)
        self.ts = arranged(events["timestamp"].array.asi8)
        fmt, self.fmt_names = _coded(events["format"], "")
        self.fmt = arranged(fmt)
        self.err = arranged(events["is_error"].to_numpy(dtype=bool))
        self.mentions = arranged(events["mentions"].to_numpy())
        kinds = [roles.get(f, "detail") for f in self.fmt_names]
        retry = np.array([k == "retry" for k in kinds])[self.fmt]
        transport = np.array([k == "transport" for k in kinds])[self.fmt]
        self.retried = retry | (transport & self.err & (self.mentions >= 2))
        del retry, transport
        code, self.code_names = _coded(events["code"], None)
        self.code = arranged(code)
        model, self.model_names = _coded(events["model"], None)
        self.model = arranged(model)
        # read row by row for a chain's records: plain arrays (.iloc per value was a third of
        # the time on a log of 130 k retried calls)
        status, retryable = events["status_code"], events["retryable"]
        self.status = status.to_numpy(dtype="int64", na_value=0)
        self.status_missing = status.isna().to_numpy()
        self.retryable = retryable.to_numpy(dtype=bool, na_value=False)
        self.retryable_missing = retryable.isna().to_numpy()

    def sources(self) -> Iterator[tuple[str, int, int]]:
        """Each source with the [lo, hi) of its rows."""
        starts = np.flatnonzero(np.r_[True, self.source[1:] != self.source[:-1]])
        ends = np.r_[starts[1:], len(self.source)]
        for lo, hi in zip(starts, ends, strict=True):
            yield str(self.source_names[self.source[lo]]), int(lo), int(hi)

    def next_attempt(self, j: int, hi: int, used: set[int], gap: float) -> int | None:
        """The next attempt of the call whose attempt is row ``j``: the next unused row within
        ``gap`` seconds (of its lane's formats, of the same model)."""
        lane = RETRY_LANES.get(self.fmt_names[self.fmt[j]])
        here = self.ts[j]
        model = self.model[j]  # a code: -1 none
        limit = gap * 1e9
        for k in range(j + 1, hi):
            if k in used:
                continue
            if here != _NAT and self.ts[k] != _NAT and self.ts[k] - here > limit:
                return None
            if lane is not None and self.fmt_names[self.fmt[k]] not in lane:
                continue
            if model >= 0 and self.model[k] >= 0 and self.model[k] != model:
                continue
            return k
        return None

    def record(self, k: int) -> dict[str, Any]:
        """Row ``k`` as _call reads it (None where a value is missing)."""
        at = k if self.order is None else int(self.order[k])
        ts = int(self.ts[k])
        return {
            "line": int(self.line[k]),
            "ts": pd.NaT if ts == _NAT else pd.Timestamp(ts, tz="UTC"),
            "fmt": self.fmt_names[self.fmt[k]],
            "err": bool(self.err[k]),
            "mentions": int(self.mentions[k]),
            "code": self.code_names[self.code[k]],
            "status": None if self.status_missing[at] else int(self.status[at]),
            "retryable": None if self.retryable_missing[at] else bool(self.retryable[at]),
            "model": self.model_names[self.model[k]],
        }


def _coded(values: pd.Series, missing: Any) -> tuple[npt.NDArray[np.integer[Any]], list[Any]]:
    """A column as codes into a list of its values as strings, whose last item, ``missing``,
    code -1 finds (no string per row: 6 M rows of file names took a gigabyte)."""
    cat = values if isinstance(values.dtype, pd.CategoricalDtype) else values.astype("category")
    names: list[Any] = [str(c) for c in cat.cat.categories]
    return cat.cat.codes.to_numpy(), [*names, missing]


def _call(source: str, chain: list[dict[str, Any]], roles: dict[str, str]) -> RetryCall:
    last = chain[-1]
    if _is_retried(last["fmt"], last["err"], last["mentions"], roles):
        outcome = "unknown"
    else:
        outcome = "failed" if last["err"] else "succeeded"
    failed = [r for r in chain if r["err"]]
    codes = tuple(
        str(r["code"])
        if r["code"] is not None
        else f"HTTP {r['status']}"
        if pd.notna(r["status"])
        else "(no code)"
        for r in failed
    )
    retried = [r for r in chain if _is_retried(r["fmt"], r["err"], r["mentions"], roles)]
    wasted = sum(1 for r in retried if _wasted(r["code"], r["retryable"]))
    model = next((r["model"] for r in chain if r["model"] is not None), None)
    start = chain[0]["ts"]
    return RetryCall(
        source=source,
        first_line=int(chain[0]["line"]),
        start=None if pd.isna(start) else pd.Timestamp(start),
        attempts=len(chain) + (1 if outcome == "unknown" else 0),
        outcome=outcome,
        codes=codes,
        wasted=wasted,
        model=None if model is None else str(model),
    )


def _storms(ts: list[pd.Timestamp]) -> list[RetryStorm]:
    valid = pd.DatetimeIndex([t for t in ts if pd.notna(t)])
    if len(valid) == 0:
        return []
    counts = pd.Series(np.ones(len(valid), dtype="int64"), index=valid).resample(STORM_BUCKET).sum()
    return [
        RetryStorm(s.start, s.end, s.total, s.peak)
        for s in detect_spikes(counts, bucket=STORM_BUCKET)
    ]


def retry_summary(report: RetryReport, tz: str = "UTC") -> dict[str, Any]:
    """The retry analysis as plain data (the summary's ``retries`` key)."""
    return {
        "retried_attempts": report.retried_attempts,
        "calls_with_retries": report.calls_with_retries,
        "attempts_per_call": {str(k): v for k, v in report.attempts_histogram().items()},
        "succeeded_after_retries": report.succeeded_after_retries,
        "failed_after_retries": report.failed_after_retries,
        "outcome_unknown": report.unknown_outcome,
        "wasted_retries": report.wasted_retries,
        "wasted_by_code": report.wasted_by_code(),
        "storms": [
            {
                "start": format_time(s.start, tz),
                "end": format_time(s.end, tz),
                "retries": s.retries,
                "peak_per_minute": s.peak,
            }
            for s in report.storms
        ],
    }
