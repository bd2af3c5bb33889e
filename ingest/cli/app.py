"""`dashscope-logs app`: start the Streamlit dashboard on log files, or on the bundled samples."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

#: the paths of ``--follow``, for app/live.py
FOLLOW_ENV = "DASHSCOPE_LOGS_FOLLOW"


def app_script() -> Path:
    """The installed dashboard entry script (``app/streamlit_app.py``)."""
    import app as app_package

    return Path(app_package.__file__).resolve().parent / "streamlit_app.py"


def streamlit_argv(script: Path, paths: tuple[str, ...], host: str, port: int) -> list[str]:
    """The command that runs the dashboard; log paths go after ``--`` to the script."""
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(script),
        "--server.headless",
        "true",
        "--server.address",
        host,
        "--server.port",
        str(port),
        "--browser.gatherUsageStats",
        "false",
        "--server.fileWatcherType",
        "none",
        "--server.maxUploadSize",
        "1024",
        "--",
        *paths,
    ]


@click.command()
@click.argument("paths", nargs=-1)
@click.option("--port", default=8501, show_default=True, type=click.IntRange(1, 65535))
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--follow",
    is_flag=True,
    help="Live mode: a Live page re-reads what is appended to PATH... every few seconds, "
    "with the last N minutes, an alert banner (default watch rules) and the alert history.",
)
def app(paths: tuple[str, ...], port: int, host: str, follow: bool) -> None:
    """Open the dashboard on PATH... (files, directories, globs).

    Without PATH it opens on the bundled sample logs; files can also be uploaded in the browser
    (up to 1 GB each). Serves on http://HOST:PORT until interrupted.
    """
    missing = [p for p in paths if not Path(p).exists() and not any(c in p for c in "*?[")]
    if missing:
        raise click.ClickException(f"no such file or directory: {', '.join(missing)}")
    resolved = tuple(str(Path(p).resolve()) if Path(p).exists() else p for p in paths)
    if follow and not resolved:
        raise click.ClickException("--follow needs the PATH of a log to follow")
    argv = streamlit_argv(app_script(), resolved, host, port)
    click.echo(f"dashboard on http://{host}:{port}  (Ctrl+C stops it)", err=True)
    if follow:
        click.echo(f"live mode: the Live page follows {', '.join(resolved)}", err=True)
    # read by app/live.py (the Live page); paths are absolute, joined like PATH entries
    before = os.environ.get(FOLLOW_ENV)
    if follow:
        os.environ[FOLLOW_ENV] = os.pathsep.join(resolved)
    try:
        os.execv(argv[0], argv)
    finally:  # only reached when execv is replaced (tests): leave the environment as it was
        if before is None:
            os.environ.pop(FOLLOW_ENV, None)
        else:
            os.environ[FOLLOW_ENV] = before
