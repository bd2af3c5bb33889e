"""Uploads through the sidebar's file input: the view follows the files; bad files get a message."""

from __future__ import annotations

import os
import re
import struct
import zlib

import pytest
from e2e_support import SAMPLES, App
from playwright.sync_api import expect

from app.i18n import STRINGS
from ingest import load_events, queries

pytestmark = pytest.mark.e2e

EN = STRINGS["en"]
SIDEBAR = '[data-testid="stSidebar"]'


def _kpis(*names: str) -> queries.Kpis:
    events, _ = load_events([str(SAMPLES / n) for n in names], tz="Asia/Shanghai")
    return queries.kpis(events)


def tiny_png() -> bytes:
    """A valid 1x1 PNG (what a user drops by mistake: a screenshot of the error)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00"))
        + chunk(b"IEND", b"")
    )


def test_upload_replaces_the_samples_and_back(app: App) -> None:
    page = app.page
    app.open("/", charts=True)
    samples = _kpis(*(p.name for p in SAMPLES.iterdir()))
    expect(app.kpi(EN["kpi_calls"])).to_have_text(f"{samples.calls:,}")
    # no "open the samples" button while the samples are shown
    expect(page.locator(".st-key-use_samples")).to_have_count(0)

    names = ("openai_compat.log", "dify_worker.log.gz")
    app.upload([str(SAMPLES / n) for n in names])
    expect(page.locator('[data-testid="stFileChip"]')).to_have_count(2)
    expected = _kpis(*names)
    assert expected.calls != samples.calls
    sidebar = page.locator(SIDEBAR)
    expect(sidebar).to_contain_text(f"{expected.calls:,} events from openai_compat.log")
    expect(sidebar).to_contain_text("dify_worker.log.gz")
    expect(app.kpi(EN["kpi_calls"])).to_have_text(f"{expected.calls:,}")
    expect(app.kpi(EN["kpi_errors"])).to_have_text(f"{expected.errors:,}")
    expect(app.kpi(EN["kpi_rids"])).to_have_text(f"{expected.failing_request_ids:,}")
    app.expect_chart()
    app.expect_no_exception()

    # the upload survives a page switch
    sidebar.get_by_role("link", name=EN["page_throttling"]).click()
    expect(page.get_by_role("heading", name=EN["page_throttling"], level=1)).to_be_visible()
    expect(app.kpi(EN["kpi_throttled"]).first).to_have_text(f"{expected.throttled:,}")

    # and the samples are one click away
    page.locator(".st-key-use_samples").get_by_role("button").click()
    expect(sidebar).to_contain_text(f"{samples.calls:,} events from")
    expect(app.kpi(EN["kpi_throttled"]).first).to_have_text(f"{samples.throttled:,}")
    app.expect_no_exception()


def test_binary_file_named_log_gets_a_message(app: App) -> None:
    page = app.page
    app.open("/", charts=True)
    junk = bytes(range(256)) * 8 + os.urandom(2048)
    app.upload([{"name": "x.log", "mimeType": "application/octet-stream", "buffer": junk}])
    main = page.locator('[data-testid="stMain"]')
    expect(main.get_by_text(EN["no_events"])).to_be_visible()
    sidebar = page.locator(SIDEBAR)
    expect(sidebar).to_contain_text("0 events from x.log")
    # the parse report opens by itself and names the file it could not read
    expect(sidebar.get_by_text(EN["report_problems"])).to_be_visible()
    # st.dataframe draws on a canvas; its accessible grid cells carry the text
    problems = sidebar.locator('[data-testid="stDataFrame"] [role=gridcell]')
    expect(problems.filter(has_text="x.log: no DashScope API calls found")).to_have_count(1)
    app.expect_no_exception()
    expect(page.locator(app.KPI)).to_have_count(0)


def test_disallowed_type_is_refused_in_the_browser(app: App) -> None:
    page = app.page
    app.open("/", charts=True)
    calls = app.kpi_text(EN["kpi_calls"])
    png = {"name": "error.png", "mimeType": "image/png", "buffer": tiny_png()}
    app.upload([png])
    chip = page.locator('[data-testid="stFileChip"]')
    expect(chip).to_contain_text(re.compile(r"image/png files are not allowed"))
    # the refused file changes nothing: still the samples, no traceback
    expect(app.kpi(EN["kpi_calls"])).to_have_text(calls)
    app.expect_no_exception()
