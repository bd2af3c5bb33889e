"""`dashscope-logs codes` (owned by the catalogue work)."""

from __future__ import annotations

import click


@click.command()
def codes() -> None:
    """Print the DashScope error catalogue."""
    raise click.ClickException("not implemented yet")
