"""`dashscope-logs watch`: follow growing logs, evaluate alert rules, send notifications."""

from __future__ import annotations

import signal
from typing import Any

import click

from ingest.cli.parse import TZ_HELP, _zone

WEBHOOK_TYPES = ("auto", "json", "dingtalk", "feishu", "wecom", "slack")


@click.command()
@click.argument("sources", nargs=-1, required=True)
@click.option(
    "--rules", "rules_path", default=None, help="Rules file (TOML); default rules without."
)
@click.option(
    "--state",
    "state_dir",
    default=".dashscope-watch",
    show_default=True,
    help="Directory for offsets, rule state and the alert log (alerts.jsonl).",
)
@click.option("--webhook", "webhooks", multiple=True, help="Send alerts to this URL (repeatable).")
@click.option(
    "--webhook-type",
    type=click.Choice(WEBHOOK_TYPES),
    default="auto",
    show_default=True,
    help="Message format of the --webhook URLs; auto guesses from the host.",
)
@click.option("--secret", default=None, help="Signing secret for DingTalk / Feishu --webhook URLs.")
@click.option("--interval", default=2.0, show_default=True, help="Seconds between two polls.")
@click.option("--duration", type=float, default=None, help="Stop after this many seconds.")
@click.option("--once", is_flag=True, help="Read what is there, evaluate once, exit.")
@click.option(
    "--from-start",
    is_flag=True,
    help="On the first run, read existing files from the start (default: from their end).",
)
@click.option("--tz", default="Asia/Shanghai", callback=_zone, help=TZ_HELP)
@click.option("--quiet", "-q", is_flag=True, help="Do not print alerts on stderr.")
def watch(  # noqa: PLR0917 (click passes every option positionally by name)
    sources: tuple[str, ...],
    rules_path: str | None,
    state_dir: str,
    webhooks: tuple[str, ...],
    webhook_type: str,
    secret: str | None,
    interval: float,
    duration: float | None,
    once: bool,
    from_start: bool,
    tz: str,
    quiet: bool,
) -> None:
    """Follow SOURCES (files, directories, globs; quote globs) like tail -F and alert.

    Rotation, truncation and new files matching a glob are followed; offsets live in --state,
    so a restart neither misses lines nor alerts twice. See docs/monitoring.md for the rules.
    """
    from ingest.monitor.notify import Webhook, guess_type
    from ingest.monitor.rules import RulesError, load_rules
    from ingest.monitor.watcher import Watcher

    try:
        ruleset = load_rules(rules_path)
    except RulesError as exc:
        raise click.ClickException(str(exc)) from exc
    hooks = [Webhook(t.type, t.url, t.secret) for t in ruleset.notify]
    for url in webhooks:
        if not url.startswith(("http://", "https://")):
            raise click.BadParameter(f"{url!r} is not an http(s) URL", param_hint="--webhook")
        kind = guess_type(url) if webhook_type == "auto" else webhook_type
        hooks.append(Webhook(kind, url, secret))

    def echo(alert: Any, results: list[dict[str, Any]]) -> None:
        if quiet:
            return
        from ingest.monitor.notify import plain_text

        failed = [r for r in results if not r["ok"]]
        note = f"  (delivery failed: {failed[0]['answer']})" if failed else ""
        click.echo(plain_text(alert).replace("\n", " | ") + note, err=True)

    stopping = {"flag": False}

    def stop(_signum: int, _frame: Any) -> None:
        stopping["flag"] = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    watcher = Watcher(
        sources, ruleset, state_dir, hooks, tz=tz, from_start=from_start, on_alert=echo
    )
    if not quiet:
        names = ", ".join(r.name for r in ruleset.rules)
        click.echo(
            f"watching {' '.join(sources)}: rules {names} ({ruleset.source}); "
            f"{len(hooks)} webhook(s); state in {state_dir}",
            err=True,
        )
    watcher.run(interval, duration=duration, once=once, stop=lambda: stopping["flag"])
