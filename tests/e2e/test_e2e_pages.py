"""Every page opens in the browser on the sample logs, in both languages, without a traceback."""

from __future__ import annotations

import re

import pytest
from e2e_support import SAMPLES, App
from playwright.sync_api import expect

from app.i18n import STRINGS
from ingest import load_events, queries

pytestmark = pytest.mark.e2e

EN = STRINGS["en"]
ZH = STRINGS["zh"]
MAIN = '[data-testid="stMain"]'
#: url path -> (title key, an element drawn once the page's body is done)
PAGES: dict[str, tuple[str, str]] = {
    "/": ("page_overview", f"{MAIN} .st-key-per_model_chart"),
    "/throttling": ("page_throttling", f"{MAIN} .st-key-advice_{queries.THROTTLING_KINDS[-1]}"),
    "/request_ids": ("page_request_ids", f"{MAIN} .st-key-export_ticket"),
    "/catalogue": ("catalogue_title", f'{MAIN} [data-testid="stDataFrame"]'),
}


@pytest.fixture(scope="module")
def sample_kpis() -> queries.Kpis:
    events, _ = load_events([str(SAMPLES)], tz="Asia/Shanghai")
    return queries.kpis(events)


def test_default_page_draws_kpis_and_charts(app: App, sample_kpis: queries.Kpis) -> None:
    app.open("/", charts=True)
    page = app.page
    expect(page.get_by_role("heading", name=EN["page_overview"], level=1)).to_be_visible()
    expect(page.locator(app.KPI)).to_have_count(6)
    expect(app.kpi(EN["kpi_calls"])).to_have_text(f"{sample_kpis.calls:,}")
    expect(app.kpi(EN["kpi_errors"])).to_have_text(f"{sample_kpis.errors:,}")
    expect(app.kpi(EN["kpi_throttled"])).to_have_text(f"{sample_kpis.throttled:,}")
    expect(app.kpi(EN["kpi_rids"])).to_have_text(f"{sample_kpis.failing_request_ids:,}")
    # all four charts of the overview are drawn, not only the first
    for key in ("time_chart", "top_codes_chart", "status_chart", "per_model_chart"):
        chart = page.locator(f".st-key-{key}")
        expect(chart.locator(".scatterlayer .trace, .barlayer .point").first).to_be_attached()
    expect(page.locator('[data-testid="stSidebar"]')).to_contain_text(
        f"{sample_kpis.calls:,} events from"
    )
    app.expect_no_exception()


@pytest.mark.parametrize("path", list(PAGES))
def test_every_page_opens(app: App, path: str) -> None:
    title, last_element = PAGES[path]
    app.open(path, kpis=False)
    expect(app.page.get_by_role("heading", name=EN[title], level=1)).to_be_visible()
    expect(app.page.locator(last_element)).to_be_visible()
    app.expect_no_exception()
    expect(app.page.locator('[data-testid="stAlert"]')).to_have_count(0)
    # an unknown path still draws the main page, under a "Page not found" dialog
    expect(app.page.get_by_role("dialog")).to_have_count(0, timeout=3000)


def test_lang_query_param_and_lang_widget(app: App) -> None:
    page = app.page
    app.open("/throttling?lang=zh", charts=True)
    expect(page.get_by_role("heading", name=ZH["page_throttling"], level=1)).to_be_visible()
    expect(page.locator(app.KPI).first).to_contain_text(ZH["kpi_throttled"])
    sidebar = page.locator('[data-testid="stSidebar"]')
    expect(sidebar.get_by_text(ZH["filters"], exact=True)).to_be_visible()
    expect(sidebar.get_by_role("link", name=ZH["page_catalogue"])).to_be_visible()
    app.expect_no_exception()

    page.locator(".st-key-lang").get_by_text("English", exact=True).click()
    expect(page.get_by_role("heading", name=EN["page_throttling"], level=1)).to_be_visible()
    expect(page.locator(app.KPI).first).to_contain_text(EN["kpi_throttled"])
    expect(sidebar.get_by_role("link", name=EN["page_catalogue"])).to_be_visible()
    expect(page).to_have_url(re.compile(r"[?&]lang=en\b"))

    page.locator(".st-key-lang").get_by_text("中文", exact=True).click()
    expect(page.get_by_role("heading", name=ZH["page_throttling"], level=1)).to_be_visible()
    expect(page).to_have_url(re.compile(r"[?&]lang=zh\b"))
    app.expect_no_exception()


def test_page_switch_keeps_language(app: App) -> None:
    page = app.page
    app.open("/?lang=zh", charts=True)
    page.locator('[data-testid="stSidebar"]').get_by_role(
        "link", name=ZH["page_request_ids"]
    ).click()
    expect(page.get_by_role("heading", name=ZH["page_request_ids"], level=1)).to_be_visible()
    expect(page.locator(".st-key-export_request_ids")).to_contain_text(ZH["export_csv"])
    expect(page).to_have_url(re.compile(r"/request_ids"))
    app.expect_no_exception()
