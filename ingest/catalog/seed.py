"""The user's original reference table, vendored verbatim beside the catalogue.

Only the table under the header is parsed (25 rows); the example body and the field table that
follow it in the file are not error codes.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

SEED_PATH = Path(__file__).with_name("seed-dashscope-error-codes.txt")


class SeedRow(NamedTuple):
    status: int
    code: str
    message: str
    meaning_zh: str


def read_seed_rows(path: str | Path = SEED_PATH) -> tuple[SeedRow, ...]:
    """Rows of the table: ``status | code | message | meaning |``, until the first other line."""
    rows: list[SeedRow] = []
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    for line in lines[1:]:  # line 0 is the header
        cells = line.strip().removesuffix("|").rstrip().split(" | ")
        if len(cells) != 4 or not cells[0].strip().isdigit():
            break
        status, code, message, meaning = (c.strip() for c in cells)
        rows.append(SeedRow(int(status), code, message, meaning))
    return tuple(rows)
