"""`dashscope-logs app` (owned by the dashboard work)."""

from __future__ import annotations

import click


@click.command()
def app() -> None:
    """Open the dashboard."""
    raise click.ClickException("not implemented yet")
