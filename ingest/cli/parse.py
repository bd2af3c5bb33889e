"""`dashscope-logs parse|summary|formats`: the ingest core on the command line."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click

TZ_HELP = "Zone for log times without an offset, and for the times written (default Asia/Shanghai)."


def _zone(_ctx: click.Context, _param: click.Parameter, value: str) -> str:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise click.BadParameter(f"unknown time zone {value!r}; try Asia/Shanghai or UTC") from exc
    return value


def load_or_exit(sources: Any, tz: str, fmt: str | None = None) -> tuple[Any, Any]:
    """load_events, turning every input problem into one line of advice and exit status 1."""
    from ingest.pipeline import load_events

    with _advice():
        events, report = load_events(list(sources), tz=tz, format=fmt)
    check_read(report)
    return events, report


@contextmanager
def _advice() -> Iterator[None]:
    """Input problems (a missing file, an unknown format) as one line of advice, exit 1."""
    from ingest.formats import FormatError
    from ingest.sources import SourceError

    try:
        yield
    except (SourceError, FormatError) as exc:
        raise click.ClickException(str(exc)) from exc


def check_read(report: Any) -> None:
    """Exit 1 with advice when the input was not read: no files, or no API call in them."""
    if not report.files:
        raise click.ClickException("no input files; pass log files, folders, globs or - (stdin)")
    if report.events == 0 and report.unparsed == 0:
        problems = "; ".join(p for _s, p in report.problems) or "no DashScope API calls found"
        raise click.ClickException(problems)


def report_to_stderr(report: Any) -> None:
    """One line per file, and the first unparsed lines with their numbers."""
    for f in report.files:
        line = (
            f"{f.source}: {f.lines_read} lines, {f.events} events ({f.errors} errors), "
            f"{f.ignored} ignored, {f.unparsed} unparsed"
        )
        if f.problem:
            line += f" - {f.problem}"
        click.echo(line, err=True)
    examples = report.unparsed_examples
    if examples:
        click.echo(f"unparsed lines ({report.unparsed}), first ones:", err=True)
        for source, n, text in examples[:10]:
            click.echo(f"  {source}:{n}: {text[:160]}", err=True)


@click.command()
@click.argument("sources", nargs=-1, required=True)
@click.option(
    "--output", "-o", default="-", show_default=True, help="PATH.jsonl|.csv|.parquet or -"
)
@click.option(
    "--all", "all_events", is_flag=True, help="Include successful calls, not only errors."
)
@click.option("--format", "fmt", default=None, help="Use only this format (see `formats`).")
@click.option("--tz", default="Asia/Shanghai", callback=_zone, help=TZ_HELP)
def parse(
    sources: tuple[str, ...], output: str, all_events: bool, fmt: str | None, tz: str
) -> None:
    """Parse SOURCES (files, folders, globs, .gz/.zip, - for stdin) into API events."""
    from ingest.output import OutputError, output_kind, write_event_batches, write_events

    try:
        output_kind(output)
    except OutputError as exc:
        raise click.BadParameter(str(exc), param_hint="--output") from exc
    from ingest import bounded
    from ingest.sources import iter_sources

    with _advice():
        srcs = list(iter_sources(list(sources)))
    try:
        if bounded.text_size(srcs) >= bounded.BOUNDED_MIN_BYTES:
            # big inputs a part at a time: memory bounded whatever their size
            with (
                _advice(),
                bounded.PartedEvents(srcs, tz=tz, format=fmt, errors_only=not all_events) as parted,
            ):
                check_read(parted.report)
                write_event_batches(parted.batches(), output, tz, stdout=sys.stdout)
                report = parted.report
        else:
            events, report = load_or_exit(srcs, tz, fmt)
            if not all_events:
                events = events[events["is_error"]]
            write_events(events, output, tz, stdout=sys.stdout)
    except (OutputError, OSError, bounded.SortError) as exc:
        raise click.ClickException(str(exc)) from exc
    report_to_stderr(report)


@click.command()
@click.argument("sources", nargs=-1, required=True)
@click.option("--tz", default="Asia/Shanghai", callback=_zone, help=TZ_HELP)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable summary.")
@click.option("--top", default=10, show_default=True, help="How many codes and request_ids.")
def summary(sources: tuple[str, ...], tz: str, as_json: bool, top: int) -> None:
    """Summarise SOURCES: error rate, codes, statuses, throttling peaks, time span.

    SOURCES may also be one dataset directory made by `ingest`: it is queried with DuckDB.
    """
    from ingest.summary import summarise, summary_text

    if len(sources) == 1:
        from ingest.store import is_dataset

        if is_dataset(sources[0]):
            from ingest.store.query import DatasetQuery
            from ingest.store.reports import load_report
            from ingest.summary import summarise_dataset

            store = DatasetQuery(sources[0])
            data = summarise_dataset(store, load_report(store.dataset), tz=tz, top=top)
            store.close()
            click.echo(
                json.dumps(data, ensure_ascii=False, indent=2) if as_json else summary_text(data)
            )
            return
    events, report = load_or_exit(sources, tz)
    data = summarise(events, report, tz=tz, top=top)
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        click.echo(summary_text(data))


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable list.")
def formats(as_json: bool) -> None:
    """List the log formats this tool reads, most specific first, with a sample of each."""
    from ingest.formats import registry

    rows = [
        {
            "name": f.name,
            "kind": f.kind,
            "role": f.role,
            "description": f.description,
            "reference": f.reference,
            "sample": f.samples[0].text,
        }
        for f in registry()
    ]
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for r in rows:
        click.echo(f"{r['name']}  [{r['kind']}, {r['role']}]")
        click.echo(f"  {r['description']}")
        first = r["sample"].splitlines()[0] if r["sample"] else ""
        click.echo(f"  e.g. {first[:150]}{'...' if len(first) > 150 else ''}")
