"""`dashscope-logs watch` (owned by the live-monitoring work, issue #6)."""

from __future__ import annotations

import click


@click.command()
def watch() -> None:
    """Follow growing logs and alert (not implemented yet)."""
    raise click.ClickException("not implemented yet")
