"""`dashscope-logs export-ids` (owned by the dashboard/export work)."""

from __future__ import annotations

import click


@click.command("export-ids")
def export_ids() -> None:
    """Export failing request_ids as CSV or a support-ticket Markdown."""
    raise click.ClickException("not implemented yet")
