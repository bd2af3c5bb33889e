"""`dashscope-logs parse|summary|formats` (owned by the ingest work)."""

from __future__ import annotations

import click


@click.command()
def parse() -> None:
    """Parse logs into events."""
    raise click.ClickException("not implemented yet")


@click.command()
def summary() -> None:
    """Summarise logs."""
    raise click.ClickException("not implemented yet")


@click.command()
def formats() -> None:
    """List the log formats."""
    raise click.ClickException("not implemented yet")
