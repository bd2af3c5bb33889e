"""What to hand to Alibaba Cloud support: a request_id CSV and a Markdown ticket summary.

Both are pure functions of an (already filtered) events frame, so the dashboard's downloads and
``dashscope-logs export-ids`` produce the same bytes.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass

import pandas as pd

from ingest.queries import errors_only, failures_without_request_id, format_time
from ingest.redact import redact

CSV_COLUMNS: tuple[str, ...] = (
    "request_id",
    "time_utc",
    "time_local",
    "status",
    "code",
    "message",
    "model",
    "source_line",
)
#: a cell starting with one of these is a formula to Excel / LibreOffice / Google Sheets
FORMULA_PREFIXES: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r")
#: request_ids listed per code in the ticket before "and N more"
TICKET_IDS_PER_CODE = 20
CSV_NAME = "request_ids.csv"
#: log text columns redacted again on export (ingest.normalize already redacts messages)
REDACTED_COLUMNS: tuple[str, ...] = ("message", "model", "code", "raw_code", "request_id")


def redact_frame(events: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``events`` with its log text columns redacted (a second line of defence).

    Each distinct value is redacted once: a categorical column maps its categories.
    """
    out = events.copy()
    for col in REDACTED_COLUMNS:
        if col not in out:
            continue
        s = out[col]
        if isinstance(s.dtype, pd.CategoricalDtype):
            cats = [redact(str(c)) for c in s.cat.categories]
            if len(set(cats)) == len(cats):
                out[col] = s.cat.rename_categories(cats)
            else:
                out[col] = s.astype("string").map(redact, na_action="ignore").astype("category")
        else:
            out[col] = s.map(lambda v: redact(v) if isinstance(v, str) else v)
    return out


def neutralise_cell(value: str) -> str:
    """Prefix a leading formula character with ``'`` so a spreadsheet shows it as text."""
    return "'" + value if value.startswith(FORMULA_PREFIXES) else value


def _iso(ts: pd.Series, tz: str) -> pd.Series:
    """ISO 8601 with milliseconds and a ``+hh:mm`` offset, vectorised."""
    local = ts.dt.tz_convert(tz)
    body = local.dt.strftime("%Y-%m-%dT%H:%M:%S.%f").str[:-3]
    offset = local.dt.strftime("%z")
    out: pd.Series = body + offset.str[:3] + ":" + offset.str[3:]
    return out


def request_id_rows(events: pd.DataFrame, tz: str) -> pd.DataFrame:
    """The CSV's rows as a frame (strings, redacted, not yet neutralised), oldest first."""
    errs = redact_frame(errors_only(events))
    errs = errs.loc[errs["request_id"].notna().to_numpy(dtype=bool)]
    errs = errs.sort_values(["timestamp", "source", "line"], kind="stable")
    status = errs["status_code"].astype("Int32").astype("string").fillna("")
    return pd.DataFrame(
        {
            "request_id": errs["request_id"].astype("string"),
            "time_utc": _iso(errs["timestamp"], "UTC"),
            "time_local": _iso(errs["timestamp"], tz),
            "status": status,
            "code": errs["code"].astype("string").fillna(""),
            "message": errs["message"].astype("string").fillna(""),
            "model": errs["model"].astype("string").fillna(""),
            "source_line": errs["source"].astype("string").fillna("")
            + ":"
            + errs["line"].astype("string"),
        }
    ).reset_index(drop=True)


def request_ids_csv(events: pd.DataFrame, tz: str, *, bom: bool = False) -> bytes:
    """Error events that have a request_id as CSV (UTF-8; ``bom=True`` for Excel).

    Columns: request_id, time_utc, time_local (ISO with the zone's offset), status, code,
    message, model, source_line. Every cell a spreadsheet would execute is neutralised.
    """
    rows = request_id_rows(events, tz)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    columns = [rows[c].fillna("").tolist() for c in CSV_COLUMNS]
    for record in zip(*columns, strict=True):
        writer.writerow([neutralise_cell(str(v)) for v in record])
    data = buf.getvalue().encode("utf-8")
    return (b"\xef\xbb\xbf" + data) if bom else data


_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|~#])")


def escape_markdown(text: str) -> str:
    """Log text made inert in Markdown: specials backslash-escaped, newlines flattened."""
    flat = " ".join(str(text).split())
    return _MD_SPECIAL.sub(r"\\\1", flat)


@dataclass(frozen=True)
class CodeSummary:
    """One error code of a ticket: what ``render_ticket`` says of it."""

    code: str  # "(no code)" for errors without one
    count: int
    statuses: list[int]  # most frequent first (ties: first seen first)
    first: pd.Timestamp  # NaT when none of its events has a time
    last: pd.Timestamp
    models: list[tuple[str, int]]  # "(unknown)" for none; most frequent first
    message: str | None  # the first message logged
    ids: list[str]  # the first ``ids_per_code`` distinct request_ids, oldest first
    id_count: int  # distinct request_ids


@dataclass(frozen=True)
class TicketSummary:
    """What the support ticket says of a selection (log text already redacted)."""

    errors: int
    with_id: int
    distinct_ids: int
    first: pd.Timestamp
    last: pd.Timestamp
    codes: list[CodeSummary]  # most frequent first (ties: first seen first)
    without_id: pd.DataFrame  # queries.failures_without_request_id


def ticket_summary(
    events: pd.DataFrame, *, ids_per_code: int = TICKET_IDS_PER_CODE
) -> TicketSummary:
    """The ticket's figures for ``events`` (in pandas; a dataset computes them in SQL)."""
    events = redact_frame(events)
    errs = errors_only(events)
    with_id = errs.loc[errs["request_id"].notna().to_numpy(dtype=bool)]
    codes = []
    code = errs["code"].astype("string").fillna("(no code)")
    for name, count in code.value_counts().items():
        group = errs.loc[(code == name).to_numpy(dtype=bool)]
        statuses = group["status_code"].dropna().astype(int).value_counts()
        models = group["model"].astype("string").fillna("(unknown)").value_counts()
        message = group["message"].astype("string").dropna()
        ids = (
            group.loc[group["request_id"].notna().to_numpy(dtype=bool)]
            .sort_values("timestamp", kind="stable")["request_id"]
            .drop_duplicates()
            .astype(str)
            .tolist()
        )
        codes.append(
            CodeSummary(
                code=str(name),
                count=int(count),
                statuses=[int(s) for s in statuses.index],
                first=group["timestamp"].min(),
                last=group["timestamp"].max(),
                models=[(str(m), int(n)) for m, n in models.items()],
                message=str(message.iloc[0]) if len(message) else None,
                ids=ids[:ids_per_code],
                id_count=len(ids),
            )
        )
    return TicketSummary(
        errors=len(errs),
        with_id=len(with_id),
        distinct_ids=int(with_id["request_id"].nunique()),
        first=errs["timestamp"].min(),
        last=errs["timestamp"].max(),
        codes=codes,
        without_id=failures_without_request_id(errs),
    )


def _window(first: pd.Timestamp, last: pd.Timestamp, tz: str) -> str:
    return f"{format_time(first, tz)} — {format_time(last, tz)}"


def ticket_markdown(
    events: pd.DataFrame,
    tz: str,
    filters_description: str,
    *,
    ids_per_code: int = TICKET_IDS_PER_CODE,
) -> str:
    """A support-ticket summary grouped by error code, ready to paste into an Alibaba Cloud ticket.

    For each code (most frequent first): count, HTTP status, time window in ``tz`` with its
    offset, models, a sample message and the request_ids (at most ``ids_per_code``, then
    "and N more" pointing at the CSV). Failures without a request_id get their own section
    saying what to send instead. Log text is escaped; request_ids sit in code blocks.
    """
    summary = ticket_summary(events, ids_per_code=ids_per_code)
    return render_ticket(summary, tz, filters_description)


def render_ticket(summary: TicketSummary, tz: str, filters_description: str) -> str:
    """The ticket Markdown of ``summary`` (see ``ticket_markdown``)."""
    lines: list[str] = [
        "# DashScope API 调用失败摘要 / DashScope API failure summary",
        "",
        f"- 筛选条件 / Filters: {escape_markdown(filters_description)}",
        f"- 时区 / Time zone: {tz}",
    ]
    if not summary.errors:
        lines += ["", "没有失败的调用。 / No failed calls in this selection.", ""]
        return "\n".join(lines)
    lines += [
        f"- 时间范围 / Time window: {_window(summary.first, summary.last, tz)}",
        f"- 失败调用 / Failed calls: {summary.errors} "
        f"({summary.with_id} with request_id, {summary.errors - summary.with_id} without)",
        f"- 不同的 request_id / Distinct request_ids: {summary.distinct_ids}",
        "",
        "## 按错误码 / By error code",
    ]
    for group in summary.codes:
        status_text = ", ".join(str(s) for s in group.statuses) or "?"
        model_text = ", ".join(f"{escape_markdown(m)} ({n})" for m, n in group.models)
        lines += [
            "",
            f"### {escape_markdown(group.code)} (HTTP {status_text}): {group.count}",
            "",
            f"- 时间 / Window: {_window(group.first, group.last, tz)}",
            f"- 模型 / Models: {model_text}",
        ]
        if group.message is not None:
            lines.append(f"- 错误信息 / Message: {escape_markdown(group.message)}")
        if group.ids:
            shown = group.ids
            lines += [f"- request_id ({len(shown)} / {group.id_count}):", "", "```"]
            lines += [i.replace("`", "'") for i in shown]
            lines.append("```")
            if group.id_count > len(shown):
                more = group.id_count - len(shown)
                lines.append(
                    f"…and {more} more (另有 {more} 个): see the attached CSV ({CSV_NAME})."
                )
        else:
            lines.append("- request_id: none logged (see below)")
    missing = summary.without_id
    if not missing.empty:
        lines += [
            "",
            "## 没有 request_id 的失败 / Failures without a request_id",
            "",
            "Support cannot look these calls up by id. For each row send the time window "
            "(with the time zone), the model, the count, your account UID / workspace and the "
            "endpoint region (Beijing or Singapore). "
            "这些调用没有 request_id：请提供时间范围（含时区）、模型、次数、账号 UID / 业务空间"
            "以及调用的地域（北京或新加坡）。",
            "",
            "| code | HTTP | model | count | first | last |",
            "|---|---|---|---|---|---|",
        ]
        for row in missing.itertuples(index=False):
            lines.append(
                f"| {escape_markdown(str(row.code))} | {row.status} "
                f"| {escape_markdown(str(row.model))} | {row.count} "
                f"| {format_time(pd.Timestamp(str(row.first_seen)), tz)} "
                f"| {format_time(pd.Timestamp(str(row.last_seen)), tz)} |"
            )
    lines += [
        "",
        f"完整列表见附件 {CSV_NAME}。 / The full list is in the attached {CSV_NAME}.",
        "",
    ]
    return "\n".join(lines)
