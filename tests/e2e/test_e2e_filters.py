"""Filters in the browser: the code multiselect, the URL that reproduces it, the time window."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

import pandas as pd
import pytest
from e2e_support import SAMPLES, App
from playwright.sync_api import Browser, expect

from app.i18n import STRINGS
from ingest import load_events, queries
from ingest.queries import Filters

pytestmark = pytest.mark.e2e

EN = STRINGS["en"]
CODE = "Throttling.RateQuota"


@pytest.fixture(scope="module")
def sample_events() -> pd.DataFrame:
    events, _ = load_events([str(SAMPLES)], tz="Asia/Shanghai")
    return events


def test_code_filter_goes_to_the_url_and_comes_back(
    app: App,
    sample_events: pd.DataFrame,
    browser: Browser,
    browser_context_args: dict[str, Any],
) -> None:
    page = app.page
    app.open("/", charts=True)
    expected = queries.kpis(queries.apply_filters(sample_events, Filters(codes=(CODE,))))
    app.choose("codes", CODE)
    expect(page).to_have_url(re.compile(r"[?&]code=Throttling\.RateQuota\b"))
    expect(app.kpi(EN["kpi_errors"])).to_have_text(f"{expected.errors:,}")
    expect(app.kpi(EN["kpi_rids"])).to_have_text(f"{expected.failing_request_ids:,}")
    app.expect_chart()
    assert parse_qs(urlparse(page.url).query)["code"] == [CODE]

    # the link alone reproduces the view in a new session
    context = browser.new_context(**browser_context_args)
    try:
        other = App(context.new_page(), app.url)
        other.open(page.url, charts=True)
        tags = other.page.locator(".st-key-codes [data-tag]")
        expect(tags).to_have_count(1)
        expect(tags).to_contain_text(CODE)
        expect(other.kpi(EN["kpi_errors"])).to_have_text(f"{expected.errors:,}")
        # and it follows the user to another page
        other.page.locator('[data-testid="stSidebar"]').get_by_role(
            "link", name=EN["page_request_ids"]
        ).click()
        expect(other.page.locator(".st-key-codes")).to_contain_text(CODE)
        other.expect_no_exception()
    finally:
        context.close()

    # reset clears the filter and the URL
    page.locator(".st-key-reset_filters").get_by_role("button").click()
    expect(page).not_to_have_url(re.compile(r"code="))
    expect(app.kpi(EN["kpi_errors"])).to_have_text(f"{queries.kpis(sample_events).errors:,}")
    app.expect_no_exception()


def test_unknown_code_in_the_url_is_dropped_with_a_notice(app: App) -> None:
    app.open("/?code=NoSuch.Code", charts=True)
    expect(app.page.get_by_text(EN["dropped"].format(what="NoSuch.Code")).first).to_be_visible()
    expect(app.page).not_to_have_url(re.compile(r"code=NoSuch"))
    app.expect_no_exception()


def test_time_window_from_the_url(app: App, sample_events: pd.DataFrame) -> None:
    start = pd.Timestamp("2026-11-20T10:00:00+08:00")
    end = pd.Timestamp("2026-11-20T12:00:00+08:00")
    chosen = queries.apply_filters(
        sample_events, Filters(start=start.tz_convert("UTC"), end=end.tz_convert("UTC"))
    )
    expected = queries.kpis(chosen)
    everything = queries.kpis(sample_events)
    assert 0 < expected.calls < everything.calls

    query = urlencode({"start": start.isoformat(), "end": end.isoformat()})
    app.open(f"/?{query}", charts=True)
    expect(app.kpi(EN["kpi_calls"])).to_have_text(f"{expected.calls:,}")
    expect(app.kpi(EN["kpi_errors"])).to_have_text(f"{expected.errors:,}")
    # the slider shows the window in the display zone (Asia/Shanghai)
    thumbs = app.page.locator(".st-key-window").get_by_role("slider")
    expect(thumbs.nth(0)).to_have_attribute("aria-valuetext", "11-20 10:00")
    expect(thumbs.nth(1)).to_have_attribute("aria-valuetext", "11-20 12:00")
    app.expect_no_exception()


def test_time_window_slider_changes_the_kpis(app: App, sample_events: pd.DataFrame) -> None:
    page = app.page
    app.open("/", charts=True)
    everything = queries.kpis(sample_events)
    expect(app.kpi(EN["kpi_calls"])).to_have_text(f"{everything.calls:,}")
    start_thumb = page.locator(".st-key-window").get_by_role("slider").first
    start_thumb.focus()
    page.keyboard.press("PageUp")
    expect(page).to_have_url(re.compile(r"[?&]start="))
    start = pd.Timestamp(parse_qs(urlparse(page.url).query)["start"][0])
    expected = queries.kpis(queries.apply_filters(sample_events, Filters(start=start)))
    assert expected.calls < everything.calls
    expect(app.kpi(EN["kpi_calls"])).to_have_text(f"{expected.calls:,}")
    app.expect_chart()
    app.expect_no_exception()
