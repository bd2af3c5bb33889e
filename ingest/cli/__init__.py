"""`dashscope-logs`: a thin click shell over the ingest library (one module per command group)."""

from __future__ import annotations

import signal

import click

from ingest.cli.app import app
from ingest.cli.codes import codes
from ingest.cli.export import export_ids
from ingest.cli.parse import formats, parse, summary
from ingest.cli.store import ingest_cmd
from ingest.cli.watch import watch


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="dashscope-log-lens")
def main() -> None:
    """Find what failed in DashScope / Model Studio (Qwen) API logs, and why."""
    if hasattr(signal, "SIGPIPE"):
        # `dashscope-logs parse big.log | head` ends quietly, like other Unix tools
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)


for _command in (parse, summary, formats, codes, export_ids, app, ingest_cmd, watch):
    main.add_command(_command)
