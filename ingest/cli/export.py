"""`dashscope-logs export-ids`: failing request_ids as CSV, or a support-ticket Markdown."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import click

from ingest.catalog.model import CATEGORY_IDS

if TYPE_CHECKING:
    import pandas as pd

    from ingest.queries import Filters

DEFAULT_TZ = "Asia/Shanghai"
CSV_SUFFIXES = (".csv",)
MARKDOWN_SUFFIXES = (".md", ".markdown")


def check_tz(name: str) -> str:
    """``name`` if it is an IANA zone (or UTC), else a one-line usage error."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise click.BadParameter(
            f"unknown time zone {name!r}; use an IANA name such as Asia/Shanghai or UTC",
            param_hint="--tz",
        ) from None
    return name


def parse_time(text: str | None, tz: str, option: str) -> pd.Timestamp | None:
    """An ISO date or date-time; naive ones are read in ``tz``. Returns a UTC timestamp."""
    if text is None:
        return None
    import pandas as pd

    try:
        ts = pd.Timestamp(text)
    except ValueError:
        raise click.BadParameter(
            f"{text!r} is not an ISO date or time (e.g. 2025-03-10 or 2025-03-10T14:00+08:00)",
            param_hint=option,
        ) from None
    if pd.isna(ts):
        raise click.BadParameter(f"{text!r} is not a time", param_hint=option)
    if ts.tzinfo is None:
        ts = ts.tz_localize(tz)
    return ts.tz_convert("UTC")


def _is_dataset(path: str) -> bool:
    from ingest.store import is_dataset

    return is_dataset(path)


def _output_kind(path: Path | None) -> str:
    if path is None:
        return "csv"
    suffix = path.suffix.lower()
    if suffix in CSV_SUFFIXES:
        return "csv"
    if suffix in MARKDOWN_SUFFIXES:
        return "markdown"
    raise click.BadParameter(
        f"{path.name}: the format follows the extension; use .csv (request_ids) or .md (ticket)",
        param_hint="--output",
    )


@click.command("export-ids")
@click.argument("sources", nargs=-1, required=True)
@click.option(
    "--code",
    "codes",
    multiple=True,
    metavar="CODE",
    help="Keep only this error code (repeatable), e.g. Throttling.RateQuota.",
)
@click.option(
    "--category",
    type=click.Choice(CATEGORY_IDS),
    default=None,
    help="Keep only errors of this category.",
)
@click.option("--since", metavar="TIME", help="Start (inclusive), ISO date or time.")
@click.option("--until", metavar="TIME", help="End (exclusive), ISO date or time.")
@click.option(
    "--tz",
    default=DEFAULT_TZ,
    show_default=True,
    help="Zone for naive --since/--until and for local times in the output.",
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write here; .csv gives the request_id list, .md the ticket summary. Default: CSV on "
    "stdout.",
)
def export_ids(
    *,
    sources: tuple[str, ...],
    codes: tuple[str, ...],
    category: str | None,
    since: str | None,
    until: str | None,
    tz: str,
    output: Path | None,
) -> None:
    """Export failing request_ids (CSV) or a support-ticket summary (Markdown).

    SOURCES are log files, directories or globs, or one dataset directory made by `ingest`
    (queried with DuckDB, without loading every event). Only errors that carry a request_id go
    in the CSV; the ticket also lists failures without one and says what to send instead. Files
    written by this command start with a UTF-8 BOM so that Excel shows Chinese correctly.

    \b
    Examples:
      dashscope-logs export-ids app.log --code Throttling.RateQuota -o ids.csv
      dashscope-logs export-ids logs/ --since 2025-03-10T14:00 --until 2025-03-10T15:00 -o t.md
    """
    check_tz(tz)
    kind = _output_kind(output)
    start = parse_time(since, tz, "--since")
    end = parse_time(until, tz, "--until")
    if start is not None and end is not None and end <= start:
        raise click.BadParameter("must be after --since", param_hint="--until")

    from ingest import load_events
    from ingest.export import request_ids_csv, ticket_markdown
    from ingest.queries import Filters, apply_filters
    from ingest.sources import SourceError

    filters = Filters(
        codes=tuple(codes),
        categories=(category,) if category else (),
        start=start,
        end=end,
    )
    if len(sources) == 1 and _is_dataset(sources[0]):
        _export_dataset(sources[0], filters, tz, kind=kind, output=output)
        return
    try:
        events, report = load_events(list(sources), tz=tz)
    except (SourceError, OSError, ValueError) as exc:  # one clear line
        raise click.ClickException(str(exc)) from None
    if report.problems:
        detail = "; ".join(f"{name}: {problem}" for name, problem in report.problems)
        raise click.ClickException(f"cannot read {detail}")
    selected = apply_filters(events, filters)
    logged = set(events["code"].dropna().astype(str))
    _warn_unknown(codes, logged)
    if kind == "markdown":
        text = ticket_markdown(selected, tz, filters.describe(tz))
        assert output is not None
        output.write_text(text, encoding="utf-8")
        click.echo(f"wrote {output} ({selected['is_error'].sum()} failed calls)", err=True)
        return
    if output is None:
        click.echo(request_ids_csv(selected, tz), nl=False)
        return
    data = request_ids_csv(selected, tz, bom=True)
    output.write_bytes(data)
    rows = data.count(b"\n") - 1
    click.echo(f"wrote {output} ({rows} request_ids)", err=True)


def _warn_unknown(codes: tuple[str, ...], logged: set[str]) -> None:
    for code in codes:
        if code not in logged:
            click.echo(f"warning: no error with code {code} in these logs", err=True)


def _export_dataset(
    dataset: str, filters: Filters, tz: str, *, kind: str, output: Path | None
) -> None:
    """The exports of a dataset made by `ingest`: the CSV streamed from DuckDB in batches, the
    ticket aggregated in SQL (``ingest.store.export``); the selection never sits in pandas.
    Same bytes as the exports of the same events parsed from the logs."""
    from ingest.store import export
    from ingest.store.query import DatasetQuery

    store = DatasetQuery(dataset)
    try:
        _warn_unknown(filters.codes, store.codes_logged())
        if kind == "markdown":
            assert output is not None
            output.write_text(export.ticket_markdown(store, filters, tz), encoding="utf-8")
            errors = store.count(filters, errors_only=True)
            click.echo(f"wrote {output} ({errors} failed calls)", err=True)
            return
        if output is None:
            for chunk in export.request_ids_csv_chunks(store, filters, tz):
                click.echo(chunk, nl=False)
            return
        newlines = 0
        with output.open("wb") as fh:
            for chunk in export.request_ids_csv_chunks(store, filters, tz, bom=True):
                fh.write(chunk)
                newlines += chunk.count(b"\n")
        click.echo(f"wrote {output} ({newlines - 1} request_ids)", err=True)
    finally:
        store.close()
