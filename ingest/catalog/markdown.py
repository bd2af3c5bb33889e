"""The catalogue as a Markdown table, and the README block that shows it.

    python -m ingest.catalog.markdown README.md           # rewrite the block in place
    python -m ingest.catalog.markdown README.md --check   # exit 1 if the block is out of date

The block is the text between the lines ``<!-- catalogue:begin -->`` and ``<!-- catalogue:end -->``.
"""

from __future__ import annotations

import sys
from pathlib import Path

from ingest.catalog.catalogue import Catalogue

BEGIN = "<!-- catalogue:begin -->"
END = "<!-- catalogue:end -->"

_SOURCE = {"reference": "table", "docs": "docs", "sdk": "SDK"}


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def render_catalogue_markdown(catalogue: Catalogue) -> str:
    """All entries in file order (the reference table's rows first), one table row each."""
    lines = [
        "| Status | Code | Category | Meaning | 含义 | Retry | Source |",
        "|---:|---|---|---|---|---|---|",
    ]
    for e in catalogue.entries:
        status = "–" if e.status is None else str(e.status)
        if e.other_statuses:
            status += " (" + ", ".join(str(s) for s in e.other_statuses) + ")"
        code = f"`{e.code}`"
        if e.aliases:
            code += " (" + ", ".join(f"`{a}`" for a in e.aliases) + ")"
        lines.append(
            "| "
            + " | ".join(
                [
                    status,
                    code,
                    _cell(catalogue.categories[e.category].label_en),
                    _cell(e.meaning_en),
                    _cell(e.meaning_zh),
                    _cell(e.retry if e.retryable or e.retry == "no" else f"no; {e.retry}"),
                    _SOURCE.get(e.source, e.source),
                ]
            )
            + " |"
        )
    lines.append("")
    lines.append(
        f"{len(catalogue.entries)} entries. Code in brackets: aliases (OpenAI-compatible codes, "
        "SDK names). Status in brackets: other statuses the code is documented with. Source: "
        "table = the original reference table, docs = Alibaba's public error page, SDK = "
        "produced by a client library. Generated from `ingest/catalog/codes.toml` by "
        "`python -m ingest.catalog.markdown README.md`."
    )
    return "\n".join(lines) + "\n"


def extract_block(text: str, begin_marker: str = BEGIN, end_marker: str = END) -> str | None:
    """The text between the marker lines (exclusive), or None if either marker is missing."""
    BEGIN, END = begin_marker, end_marker  # the module's markers unless a block has its own
    lines = text.splitlines(keepends=True)
    stripped = [line.strip() for line in lines]
    if BEGIN not in stripped or END not in stripped:
        return None
    start = stripped.index(BEGIN) + 1
    end = stripped.index(END, start) if END in stripped[start:] else -1
    if end < 0:
        return None
    return "".join(lines[start:end])


def replace_block(text: str, block: str, begin_marker: str = BEGIN, end_marker: str = END) -> str:
    """``text`` with the content between the markers replaced by ``block``."""
    BEGIN, END = begin_marker, end_marker  # the module's markers unless a block has its own
    lines = text.splitlines(keepends=True)
    stripped = [line.strip() for line in lines]
    if BEGIN not in stripped or END not in stripped[stripped.index(BEGIN) :]:
        raise ValueError(f"markers not found: add the lines {BEGIN} and {END}")
    start = stripped.index(BEGIN) + 1
    end = stripped.index(END, start)
    if not block.endswith("\n"):
        block += "\n"
    if start > 0 and not lines[start - 1].endswith("\n"):
        lines[start - 1] += "\n"
    return "".join(lines[:start]) + block + "".join(lines[end:])


def main(argv: list[str] | None = None) -> int:
    """Rewrite (or ``--check``) only the catalogue block of a file; see ``ingest.docs``."""
    from ingest.docs import BLOCKS, update_file

    args = list(sys.argv[1:] if argv is None else argv)
    paths = [a for a in args if a != "--check"]
    if len(paths) != 1:
        print("usage: python -m ingest.catalog.markdown README.md [--check]", file=sys.stderr)
        return 2
    catalogue_block = tuple(b for b in BLOCKS if b[0] == BEGIN)
    return update_file(Path(paths[0]), catalogue_block, check="--check" in args)


if __name__ == "__main__":
    raise SystemExit(main())
