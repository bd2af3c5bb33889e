"""`dashscope-logs summary`: what failed, how often, when the throttling peaked (pure functions)."""

from __future__ import annotations

from typing import Any

import pandas as pd

from ingest.catalog import load_catalogue
from ingest.queries import (
    choose_bucket,
    detect_spikes,
    errors_only,
    kpis,
    throttling_over_time,
)
from ingest.report import IngestReport


def _iso(ts: Any, tz: str) -> str | None:
    if ts is None or pd.isna(ts):
        return None
    return str(pd.Timestamp(ts).tz_convert(tz).isoformat(timespec="seconds"))


def _counts(series: pd.Series) -> dict[str, int]:
    counts = series.astype("string").fillna("(none)").value_counts()
    ordered = sorted(counts.items(), key=lambda kv: (-int(kv[1]), str(kv[0])))
    return {str(k): int(v) for k, v in ordered}


def _peaks(series: Any, bucket: str, tz: str) -> list[dict[str, Any]]:
    throttled = series.counts.sum(axis=1)
    return [
        {
            "start": _iso(spike.start, tz),
            "end": _iso(spike.end, tz),
            "peak": spike.peak,
            "peak_time": _iso(spike.peak_time, tz),
            "throttled": spike.total,
            "share_of_calls": None if spike.share is None else round(spike.share, 4),
        }
        for spike in detect_spikes(throttled, calls=series.totals["calls"], bucket=bucket)
    ]


def _top_ids(ranked: pd.DataFrame, tz: str) -> list[dict[str, Any]]:
    return [
        {
            "request_id": r["request_id"],
            "time": _iso(r["timestamp"], tz),
            "status": None if pd.isna(r["status_code"]) else int(r["status_code"]),
            "code": None if pd.isna(r["code"]) else str(r["code"]),
            "mentions": int(r["mentions"]),
            "where": f"{r['source']}:{r['line']}",
        }
        for r in ranked.to_dict(orient="records")
    ]


def _with_meanings(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    cat = load_catalogue()
    out = []
    for row in rows:
        code = row["code"]
        entry = cat.resolve(code) if code != "(no code)" else None
        out.append(
            {
                **row,
                "meaning_en": entry.meaning_en if entry else None,
                "meaning_zh": entry.meaning_zh if entry else None,
            }
        )
    return out


def summarise(
    events: pd.DataFrame, report: IngestReport, *, tz: str = "Asia/Shanghai", top: int = 10
) -> dict[str, Any]:
    """The summary as plain data (the --json output; the text output is rendered from it)."""
    k = kpis(events)
    errs = errors_only(events)
    codes = []
    if not errs.empty:
        grouped = (
            errs.assign(code=errs["code"].astype("string").fillna("(no code)"))
            .groupby("code", observed=True)
            .agg(
                count=("is_error", "size"),
                status=("status_code", lambda s: None if s.dropna().empty else int(s.mode()[0])),
                category=("category", lambda s: None if s.dropna().empty else str(s.mode()[0])),
            )
            .reset_index()
            .sort_values(["count", "code"], ascending=[False, True])
            .head(top)
        )
        codes = [
            {
                "code": str(row["code"]),
                "count": int(row["count"]),
                "status": row["status"],
                "category": row["category"],
            }
            for _, row in grouped.iterrows()
        ]
    peaks = []
    if k.throttled:
        bucket = choose_bucket(k.first, k.last)
        peaks = _peaks(throttling_over_time(events, bucket, tz), bucket, tz)
    top_ids = []
    if not errs.empty:
        with_id = errs[errs["request_id"].notna()]
        ranked = with_id.sort_values(["mentions", "timestamp"], ascending=[False, True]).head(top)
        top_ids = _top_ids(ranked, tz)
    data = _assemble(
        report,
        tz,
        k,
        by_category=_counts(errs["category"]) if not errs.empty else {},
        by_status=_counts(errs["status_code"]) if not errs.empty else {},
        codes=codes,
        peaks=peaks,
        top_ids=top_ids,
    )
    _add_who(data, errs, report.context, top)
    _add_analysis(data, events, tz, report.context)
    return data


def _add_who(data: dict[str, Any], errs: pd.DataFrame, context: pd.DataFrame, top: int) -> None:
    """Errors by API key hash and by client host, where the log names them (ingest.context)."""
    from ingest.context import CONTEXT_FIELDS, attach

    named = attach(errs, context)  # null columns when the log names neither
    for col in CONTEXT_FIELDS:
        data[f"errors_by_{col}"] = dict(list(_counts(named[col].dropna()).items())[:top])


#: a dataset with more events than this gets no retry analysis (it needs every row in memory)
ANALYSIS_MAX_ROWS = 5_000_000


def _add_analysis(
    data: dict[str, Any], events: pd.DataFrame | Any, tz: str, context: pd.DataFrame | None = None
) -> None:
    """Issue #6: each throttling peak explained in one sentence, and the retry analysis.

    ``events``: the events frame, or a dataset query (``ingest.store.query.DatasetQuery``) whose
    rows are read window by window for the explanations and whole for the retries.
    """
    from ingest.analysis import analyse_retries, explain_spike, retry_summary
    from ingest.queries import Filters

    for peak in data["throttling_peaks"]:
        start, end = pd.Timestamp(peak["start"]), pd.Timestamp(peak["end"])
        frame = events
        if not isinstance(events, pd.DataFrame):  # the six spike-lengths before it + the spike
            window = Filters(start=start - 6 * (end - start), end=end)
            frame = events.events(window, with_context=True)
        peak["explanation"] = explain_spike(frame, start, end, tz=tz, context=context).sentence
    if not isinstance(events, pd.DataFrame):
        if events.count() > ANALYSIS_MAX_ROWS:
            data["retries"] = None
            return
        events = events.events()
    data["retries"] = retry_summary(analyse_retries(events), tz)


def summarise_dataset(
    store: Any, report: IngestReport, *, tz: str = "Asia/Shanghai", top: int = 10
) -> dict[str, Any]:
    """``summarise`` of a Parquet dataset (``ingest.store.query.DatasetQuery``), in SQL."""
    k = store.kpis()
    peaks = []
    if k.throttled:
        bucket = choose_bucket(k.first, k.last)
        peaks = _peaks(store.throttling_over_time(None, bucket, tz), bucket, tz)
    data = _assemble(
        report,
        tz,
        k,
        by_category=store.value_counts("category"),
        by_status=store.value_counts("status_code"),
        codes=store.code_summary(top=top),
        peaks=peaks,
        top_ids=_top_ids(store.ranked_request_ids(top=top), tz),
    )
    from ingest.context import CONTEXT_FIELDS

    for col in CONTEXT_FIELDS:  # ingest.store.context
        data[f"errors_by_{col}"] = store.context_counts(col, top)
    _add_analysis(data, store, tz)
    return data


def _assemble(
    report: IngestReport,
    tz: str,
    k: Any,
    *,
    by_category: dict[str, int],
    by_status: dict[str, int],
    codes: list[dict[str, Any]],
    peaks: list[dict[str, Any]],
    top_ids: list[dict[str, Any]],
) -> dict[str, Any]:
    return {
        "files": [
            {
                "source": f.source,
                "lines": f.lines_read,
                "events": f.events,
                "errors": f.errors,
                "ignored": f.ignored,
                "unparsed": f.unparsed,
                "formats": dict(f.formats.most_common()),
                "problem": f.problem,
            }
            for f in report.files
        ],
        "time_zone": tz,
        "first": _iso(k.first, tz),
        "last": _iso(k.last, tz),
        "calls": k.calls,
        "errors": k.errors,
        "error_rate": None if k.error_rate is None else round(k.error_rate, 4),
        "throttled": k.throttled,
        "failing_request_ids": k.failing_request_ids,
        "errors_without_request_id": k.errors_without_request_id,
        "by_category": by_category,
        "by_status": by_status,
        "errors_by_api_key": {},  # ingest.context, where the log names them
        "errors_by_client_host": {},
        "top_codes": _with_meanings(codes),
        "throttling_peaks": peaks,
        "top_request_ids": top_ids,
    }


def summary_text(data: dict[str, Any]) -> str:
    """The summary as a few aligned blocks of text."""
    out = []
    for f in data["files"]:
        line = f"{f['source']}: {f['lines']} lines, {f['events']} calls, {f['errors']} errors"
        if f["unparsed"]:
            line += f", {f['unparsed']} unparsed lines"
        out.append(line)
    rate = "n/a (no successful calls in the log)"
    if data["error_rate"] is not None:
        rate = f"{data['error_rate']:.2%}"
    out += [
        "",
        f"time span      {data['first']} .. {data['last']} ({data['time_zone']})",
        f"calls          {data['calls']}",
        f"errors         {data['errors']}  (error rate {rate})",
        f"throttled      {data['throttled']}",
        f"request_ids    {data['failing_request_ids']} failing; "
        f"{data['errors_without_request_id']} errors without one",
    ]
    if data["by_category"]:
        out += ["", "by category"]
        out += [f"  {k:<16} {v:>7}" for k, v in data["by_category"].items()]
    if data["top_codes"]:
        out += ["", "top codes"]
        for c in data["top_codes"]:
            status = c["status"] if c["status"] is not None else "-"
            meaning = c["meaning_en"] or ""
            out.append(f"  {c['count']:>7}  {status!s:>4}  {c['code']:<32} {meaning[:60]}")
    for col, title in (("api_key", "by API key (hash)"), ("client_host", "by client host")):
        if data.get(f"errors_by_{col}"):
            out += ["", f"errors {title}"]
            out += [f"  {k:<24} {v:>7}" for k, v in data[f"errors_by_{col}"].items()]
    if data["by_status"]:
        out += ["", "by HTTP status"]
        out += [f"  {k:<6} {v:>7}" for k, v in data["by_status"].items()]
    if data["throttling_peaks"]:
        out += ["", "throttling peaks (rolling median + MAD)"]
        for p in data["throttling_peaks"]:
            share = "" if p["share_of_calls"] is None else f", {p['share_of_calls']:.0%} of calls"
            out.append(
                f"  {p['start']} .. {p['end']}: {p['throttled']} throttled, "
                f"peak {p['peak']} at {p['peak_time']}{share}"
            )
            if p.get("explanation"):
                out.append(f"    {p['explanation']}")
    retries = data.get("retries")
    if retries and retries["retried_attempts"]:
        hist = ", ".join(f"{n} attempts: {c}" for n, c in retries["attempts_per_call"].items())
        out += [
            "",
            "retries (attempts the client retried by itself)",
            f"  retried attempts   {retries['retried_attempts']}",
            f"  calls retried      {retries['calls_with_retries']}  ({hist})",
            f"  then succeeded     {retries['succeeded_after_retries']}",
            f"  then failed        {retries['failed_after_retries']}",
            f"  outcome not logged {retries['outcome_unknown']}",
            f"  wasted retries     {retries['wasted_retries']}  (codes that cannot succeed"
            + (
                ": " + ", ".join(f"{c} {n}" for c, n in retries["wasted_by_code"].items())
                if retries["wasted_by_code"]
                else ""
            )
            + ")",
        ]
        for storm in retries["storms"]:
            out.append(
                f"  retry storm {storm['start']} .. {storm['end']}: {storm['retries']} retries, "
                f"peak {storm['peak_per_minute']}/min"
            )
    if data["top_request_ids"]:
        out += ["", "request_ids to send to Alibaba support (most mentioned first)"]
        for r in data["top_request_ids"]:
            out.append(
                f"  {r['request_id']}  {r['status'] or '-'!s:>4} {r['code'] or '-':<28} "
                f"{r['time']}  {r['where']}"
            )
    return "\n".join(out)
