"""`dashscope-logs ingest`: logs into a day-partitioned Parquet dataset (issue #5)."""

from __future__ import annotations

import click

from ingest.cli.parse import TZ_HELP, _zone


@click.command("ingest")
@click.argument("sources", nargs=-1, required=True)
@click.option(
    "--to",
    "dataset",
    required=True,
    type=click.Path(file_okay=False),
    help="Dataset directory (created if missing; ingesting again adds only what is new).",
)
@click.option(
    "--engine",
    type=click.Choice(["local", "dask"]),
    default="local",
    show_default=True,
    help="local: processes on this machine; dask: a dask.distributed cluster.",
)
@click.option(
    "--scheduler",
    metavar="ADDRESS",
    default=None,
    help="dask scheduler, e.g. tcp://10.0.0.5:8786 (default: a local cluster). The workers "
    "must see the same paths.",
)
@click.option(
    "--workers",
    type=click.IntRange(1, None),
    default=None,
    help="Processes (local engine, or the local dask cluster). Default: one per core.",
)
@click.option(
    "--segment-mb",
    type=click.IntRange(1, None),
    default=64,
    show_default=True,
    help="Big files are parsed in byte ranges of about this size.",
)
@click.option("--format", "fmt", default=None, help="Use only this format (see `formats`).")
@click.option("--tz", default="Asia/Shanghai", callback=_zone, help=TZ_HELP)
def ingest_cmd(
    *,
    sources: tuple[str, ...],
    dataset: str,
    engine: str,
    scheduler: str | None,
    workers: int | None,
    segment_mb: int,
    fmt: str | None,
    tz: str,
) -> None:
    """Ingest SOURCES (files, folders, globs, .gz/.zip) into the Parquet dataset DATASET_DIR.

    Idempotent and resumable: unchanged files add nothing, a grown file adds its new lines,
    and an interrupted run continues where it stopped. Query the dataset with `summary`,
    `export-ids` and `app`.

    \b
    Examples:
      dashscope-logs ingest /var/log/svc/*.log --to events/
      dashscope-logs ingest /mnt/logs --to /mnt/events --engine dask --scheduler tcp://sched:8786
    """
    import time

    from ingest.formats import FormatError
    from ingest.sources import SourceError
    from ingest.store.ingester import ingest_dataset
    from ingest.store.manifest import StoreError

    if scheduler and engine != "dask":
        raise click.BadParameter("only with --engine dask", param_hint="--scheduler")
    if fmt is not None:
        from ingest.formats import get_format

        try:
            get_format(fmt)
        except (FormatError, KeyError, ValueError) as exc:
            raise click.BadParameter(str(exc), param_hint="--format") from exc

    def progress(done: int, total: int) -> None:
        click.echo(f"  {done}/{total} segments", err=True)

    started = time.perf_counter()
    try:
        result = ingest_dataset(
            list(sources),
            dataset,
            engine=engine,
            scheduler=scheduler,
            workers=workers,
            tz=tz,
            fmt=fmt,
            segment_bytes=segment_mb << 20,
            progress=progress,
        )
    except (SourceError, StoreError, FormatError) as exc:
        raise click.ClickException(str(exc)) from exc
    except OSError as exc:
        raise click.ClickException(f"cannot connect or read: {exc}") from exc
    seconds = time.perf_counter() - started
    for label, paths in (
        ("new", result.new_files),
        ("grown", result.grown_files),
        ("replaced", result.replaced_files),
        ("unchanged", result.unchanged_files),
    ):
        if paths:
            click.echo(f"{label:<9} {len(paths)} file(s)", err=True)
    for path, n in result.held_back.items():
        click.echo(f"held back {n} bytes of an unfinished last line in {path}", err=True)
    mb = result.bytes_parsed / 1e6
    click.echo(
        f"{result.events_added} events added ({result.segments} segments, {mb:.1f} MB in "
        f"{seconds:.1f} s, {result.engine} engine, {result.workers} workers); "
        f"{result.events_total} events in {result.dataset}"
    )
