"""ingest.export: the request_id CSV and the support-ticket Markdown."""

from __future__ import annotations

import csv
import io

import pandas as pd
import pytest
from fixtures_events import HOSTILE_MESSAGE, make_events

from ingest import export
from ingest import queries as q
from ingest.schema import empty_events


@pytest.fixture(scope="module")
def events() -> pd.DataFrame:
    return make_events(2000, seed=5, hostile=True)


def rows(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))


def test_csv_has_every_error_with_a_request_id(events: pd.DataFrame) -> None:
    out = rows(export.request_ids_csv(events, "Asia/Shanghai"))
    expected = events.loc[events["is_error"] & events["request_id"].notna()]
    assert len(out) == len(expected)
    assert tuple(out[0]) == export.CSV_COLUMNS
    assert all(r["request_id"] for r in out)


def test_csv_times_carry_their_offsets(events: pd.DataFrame) -> None:
    first = rows(export.request_ids_csv(events, "Asia/Shanghai"))[0]
    utc = pd.Timestamp(first["time_utc"])
    local = pd.Timestamp(first["time_local"])
    assert first["time_utc"].endswith("+00:00")
    assert first["time_local"].endswith("+08:00")
    assert utc == local
    assert ":" in first["source_line"]


def test_csv_neutralises_formulas(events: pd.DataFrame) -> None:
    out = rows(export.request_ids_csv(events, "UTC"))
    hostile = [r for r in out if "HYPERLINK" in r["message"]]
    assert len(hostile) == 1
    assert hostile[0]["message"] == "'" + HOSTILE_MESSAGE
    assert hostile[0]["request_id"].startswith("'=cmd")
    for row in out:
        for value in row.values():
            assert not value.startswith(export.FORMULA_PREFIXES)


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+cmd", "'+cmd"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("Throttling", "Throttling"),
        ("", ""),
    ],
)
def test_neutralise_cell(cell: str, expected: str) -> None:
    assert export.neutralise_cell(cell) == expected


def test_csv_bom_is_optional(events: pd.DataFrame) -> None:
    assert export.request_ids_csv(events, "UTC", bom=True).startswith(b"\xef\xbb\xbf")
    assert export.request_ids_csv(events, "UTC").startswith(b"request_id,")


def test_csv_of_nothing_is_a_header() -> None:
    assert (
        export.request_ids_csv(empty_events(), "UTC")
        == (",".join(export.CSV_COLUMNS) + "\n").encode()
    )


def test_ticket_groups_by_code(events: pd.DataFrame) -> None:
    text = export.ticket_markdown(events, "Asia/Shanghai", "none (all events)")
    top = q.top_codes(events, limit=None)
    headings = [line for line in text.splitlines() if line.startswith("### ")]
    assert len(headings) == len(top)
    for heading, (code, count) in zip(
        headings, zip(top["code"], top["count"], strict=True), strict=True
    ):
        assert export.escape_markdown(code) in heading
        assert heading.endswith(f": {count}")
    assert "+08:00" in text
    assert "Asia/Shanghai" in text


def test_ticket_caps_ids_and_points_at_the_csv(events: pd.DataFrame) -> None:
    text = export.ticket_markdown(events, "UTC", "x", ids_per_code=5)
    first_block = text.split("### ")[1]
    listed = first_block.split("```")[1].strip().splitlines()
    assert len(listed) == 5
    assert "more" in first_block
    assert export.CSV_NAME in first_block


def test_ticket_lists_failures_without_request_id(events: pd.DataFrame) -> None:
    text = export.ticket_markdown(events, "UTC", "x")
    section = text.split("## 没有 request_id 的失败 / Failures without a request_id")[1]
    assert "time window" in section
    assert "| code | HTTP | model | count | first | last |" in section
    missing = q.failures_without_request_id(events)
    assert section.count("\n| ") - 1 == len(missing)


def test_ticket_escapes_log_text(events: pd.DataFrame) -> None:
    text = export.ticket_markdown(events, "UTC", "**filters**")
    assert "<script>" not in text
    assert "**bold**" not in text
    assert "\\*\\*filters\\*\\*" in text


def test_ticket_without_errors() -> None:
    text = export.ticket_markdown(
        make_events(50, seed=1, error_share=0, spike_errors=0), "UTC", "x"
    )
    assert "No failed calls" in text


def test_ticket_follows_the_filters(events: pd.DataFrame) -> None:
    chosen = q.apply_filters(events, q.Filters(codes=("InvalidApiKey",)))
    text = export.ticket_markdown(chosen, "UTC", "codes InvalidApiKey")
    headings = [line for line in text.splitlines() if line.startswith("### ")]
    assert len(headings) == 1
    assert headings[0].startswith("### InvalidApiKey (HTTP 401)")
