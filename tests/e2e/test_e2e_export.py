"""The Request IDs page's downloads are the same files `dashscope-logs export-ids` writes."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
from pathlib import Path

import pytest
from e2e_support import SAMPLES, App
from playwright.sync_api import expect

from app.i18n import STRINGS
from ingest.export import CSV_COLUMNS

pytestmark = pytest.mark.e2e

EN = STRINGS["en"]
LOG = "python_sdk.log"
CODE = "Throttling.RateQuota"
BOM = b"\xef\xbb\xbf"


def cli(*args: str, cwd: Path) -> None:
    """``dashscope-logs`` from the virtualenv that runs pytest."""
    script = Path(sys.executable).with_name("dashscope-logs")
    argv = [str(script)] if script.exists() else [sys.executable, "-m", "ingest.cli"]
    subprocess.run([*argv, *args], cwd=cwd, check=True, capture_output=True, timeout=120)


def rows(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.removeprefix(BOM).decode("utf-8"))))


def test_downloads_match_the_cli(app: App, tmp_path: Path) -> None:
    page = app.page
    app.open("/request_ids", kpis=False)
    app.upload(str(SAMPLES / LOG))
    expect(page.locator('[data-testid="stSidebar"]')).to_contain_text(f"events from {LOG}")
    app.choose("codes", CODE)
    expect(page.locator(".st-key-codes [data-tag]")).to_contain_text(CODE)
    preview = page.locator('[data-testid="stMain"] [data-testid="stCode"]')
    expect(preview).to_contain_text(f"codes {CODE}")

    with page.expect_download() as csv_download:
        page.locator(".st-key-export_request_ids").get_by_role("button").click()
    assert csv_download.value.suggested_filename == "request_ids.csv"
    browser_csv = Path(csv_download.value.path()).read_bytes()
    with page.expect_download() as md_download:
        page.locator(".st-key-export_ticket").get_by_role("button").click()
    assert md_download.value.suggested_filename.endswith(".md")
    browser_md = Path(md_download.value.path()).read_text(encoding="utf-8")
    app.expect_no_exception()

    # the CLI on the same file (named as the upload was) with the same filter
    cli("export-ids", LOG, "--code", CODE, "-o", str(tmp_path / "ids.csv"), cwd=SAMPLES)
    cli("export-ids", LOG, "--code", CODE, "-o", str(tmp_path / "ticket.md"), cwd=SAMPLES)
    cli_csv = (tmp_path / "ids.csv").read_bytes()
    cli_md = (tmp_path / "ticket.md").read_text(encoding="utf-8")

    got, want = rows(browser_csv), rows(cli_csv)
    assert got[0] == want[0] == list(CSV_COLUMNS)
    assert len(got) > 10
    assert {r[4] for r in got[1:]} == {CODE}
    assert [r[0] for r in got[1:]] == [r[0] for r in want[1:]]
    assert got == want
    assert browser_csv.startswith(BOM)  # Excel needs it for Chinese text
    assert browser_md == cli_md


def test_url_filters_export_matches_the_cli(app: App, tmp_path: Path) -> None:
    """Category and time window from a shared link, on the server's own logs (the samples)."""
    page = app.page
    query = "cat=request-rate&start=2026-11-20T10:00:00%2B08:00&end=2026-11-20T14:00:00%2B08:00"
    app.open(f"/request_ids?{query}", kpis=False)
    expect(page.locator(".st-key-categories [data-tag]")).to_have_count(1)
    with page.expect_download() as download:
        page.locator(".st-key-export_request_ids").get_by_role("button").click()
    browser_csv = Path(download.value.path()).read_bytes()
    app.expect_no_exception()

    out = tmp_path / "ids.csv"
    cli(
        "export-ids",
        str(SAMPLES),
        "--category",
        "request-rate",
        "--since",
        "2026-11-20T10:00",
        "--until",
        "2026-11-20T14:00",
        "-o",
        str(out),
        cwd=tmp_path,
    )
    got, want = rows(browser_csv), rows(out.read_bytes())
    assert len(got) > 5
    assert all("2026-11-20T10:00" <= r[2] < "2026-11-20T14:00" for r in got[1:])
    assert got == want
