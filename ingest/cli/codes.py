"""`dashscope-logs codes`: print the DashScope error catalogue as a table or as JSON."""

from __future__ import annotations

import unicodedata

import click


def _width(text: str) -> int:
    """Terminal columns taken by ``text`` (CJK and full-width characters take two)."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * max(0, width - _width(text))


def _table(rows: list[list[str]]) -> str:
    widths = [max(_width(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for row in rows:
        cells = [_pad(cell, w) for cell, w in zip(row[:-1], widths, strict=False)]
        lines.append("  ".join([*cells, row[-1]]).rstrip())
    return "\n".join(lines)


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array of all entry fields.")
@click.option("--category", metavar="ID", help="Only this category (e.g. token-rate, billing).")
@click.option(
    "--lang",
    type=click.Choice(["en", "zh"]),
    default="en",
    show_default=True,
    help="Language of the labels and meanings in the table.",
)
def codes(as_json: bool, category: str | None, lang: str) -> None:
    """Print the DashScope error catalogue: status, code, category, meaning, retry.

    Rows are grouped by category (throttling first), then sorted by status.
    """
    from ingest.catalog import load_catalogue

    catalogue = load_catalogue()
    entries = list(catalogue.entries)
    if category is not None:
        if category not in catalogue.categories:
            raise click.BadParameter(
                f"unknown category {category!r}; valid ids: {', '.join(catalogue.categories)}",
                param_hint="'--category'",
            )
        entries = [e for e in entries if e.category == category]

    if as_json:
        import json

        click.echo(json.dumps([e.to_dict() for e in entries], ensure_ascii=False, indent=2))
        return

    order = {cid: i for i, cid in enumerate(catalogue.categories)}
    entries.sort(key=lambda e: (order[e.category], e.status is None, e.status or 0))
    zh = lang == "zh"
    header = (
        ["状态", "错误码", "类别", "重试", "含义"]
        if zh
        else ["STATUS", "CODE", "CATEGORY", "RETRY", "MEANING"]
    )
    rows = [header]
    for e in entries:
        retry = ("是" if e.retryable else "否") if zh else e.retry
        rows.append(
            [
                "-" if e.status is None else str(e.status),
                e.code,
                catalogue.categories[e.category].label(lang),
                retry,
                e.meaning(lang),
            ]
        )
    click.echo(_table(rows))
    n = len(entries)
    click.echo(f"\n{n} 条" if zh else f"\n{n} entr{'y' if n == 1 else 'ies'}")
