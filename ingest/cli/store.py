"""`dashscope-logs ingest` (owned by the event-store work, issue #5)."""

from __future__ import annotations

import click


@click.command("ingest")
def ingest_cmd() -> None:
    """Ingest logs into a Parquet event store (not implemented yet)."""
    raise click.ClickException("not implemented yet")
