"""Regenerate the README's generated blocks: `python -m ingest.docs README.md [--check]`."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

from ingest.catalog import load_catalogue
from ingest.catalog import markdown as catalogue_md
from ingest.formats import markdown as formats_md

BLOCKS: tuple[tuple[str, str, Callable[[], str]], ...] = (
    (
        catalogue_md.BEGIN,
        catalogue_md.END,
        lambda: catalogue_md.render_catalogue_markdown(load_catalogue()),
    ),
    (formats_md.BEGIN, formats_md.END, formats_md.render_formats_markdown),
)


Block = tuple[str, str, Callable[[], str]]


def regenerate(text: str, blocks: tuple[Block, ...] = BLOCKS) -> str:
    """``text`` with each generated block (between its marker lines) rendered anew."""
    for begin, end, render in blocks:
        text = catalogue_md.replace_block(text, render(), begin, end)
    return text


def update_file(path: Path, blocks: tuple[Block, ...] = BLOCKS, *, check: bool = False) -> int:
    """Rewrite the generated blocks of ``path``; with ``check``, only say whether they drifted.

    Returns 0 (up to date or rewritten), 1 (drifted under ``check``, or markers missing).
    """
    text = path.read_text(encoding="utf-8")
    try:
        updated = regenerate(text, blocks)
    except ValueError as exc:
        print(f"{path}: {exc}", file=sys.stderr)
        return 1
    if updated == text:
        return 0
    if check:
        print(f"{path}: generated blocks are out of date; run python -m ingest.docs {path}")
        return 1
    path.write_text(updated, encoding="utf-8")
    print(f"{path}: generated blocks updated")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    paths = [a for a in args if a != "--check"]
    if len(paths) != 1:
        print("usage: python -m ingest.docs README.md [--check]", file=sys.stderr)
        return 2
    return update_file(Path(paths[0]), check="--check" in args)


if __name__ == "__main__":
    raise SystemExit(main())
