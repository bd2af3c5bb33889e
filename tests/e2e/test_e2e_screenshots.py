"""Full-page screenshots of every page in both languages.

``UPDATE_SCREENSHOTS=1 pytest tests/e2e -k screenshot`` (``make screenshots``) writes them to
docs/screenshots/<page>-<lang>.png (the README shows overview-en.png); otherwise they go to a
temporary folder, so a normal run checks that every page renders without touching the tree.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from e2e_support import REPO, VIEWPORT, App
from playwright.sync_api import expect

from app.i18n import STRINGS
from ingest import queries

pytestmark = pytest.mark.e2e

SHOTS = REPO / "docs" / "screenshots"
MAIN = '[data-testid="stMain"]'
#: page name (file name and url path) -> (title key, element drawn last, has charts)
PAGES: dict[str, tuple[str, str, bool]] = {
    "overview": ("page_overview", f"{MAIN} .st-key-per_model_chart", True),
    "throttling": (
        "page_throttling",
        f"{MAIN} .st-key-advice_{queries.THROTTLING_KINDS[-1]}",
        True,
    ),
    "request_ids": ("page_request_ids", f"{MAIN} .st-key-export_ticket", False),
    "catalogue": ("catalogue_title", f'{MAIN} [data-testid="stDataFrame"]', False),
}
#: the tallest page we accept (a runaway layout would make a huge PNG)
MAX_HEIGHT = 8000


def shrink(png: bytes) -> bytes:
    """Palette PNG (256 colours): a third of the size, no visible loss on a flat UI."""
    from PIL import Image

    image = Image.open(io.BytesIO(png)).convert("RGB")
    out = io.BytesIO()
    image.quantize(colors=256, method=Image.Quantize.MEDIANCUT).save(out, "PNG", optimize=True)
    return out.getvalue()


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("name", list(PAGES))
def test_screenshot(app: App, name: str, lang: str, tmp_path: Path) -> None:
    title, last_element, charts = PAGES[name]
    page = app.page
    # the overview is the default page: its address is "/"
    path = "/" if name == "overview" else f"/{name}"
    app.open(f"{path}?lang={lang}", kpis=False, charts=charts)
    expect(page.get_by_role("heading", name=STRINGS[lang][title], level=1)).to_be_visible()
    expect(page.locator(last_element)).to_be_visible()
    app.expect_no_exception()
    expect(page.get_by_role("dialog")).to_have_count(0)

    # the app scrolls inside stMain (and the sidebar on its own): make the viewport that tall
    height = app.content_height()
    assert 0 < height < MAX_HEIGHT
    page.set_viewport_size({"width": VIEWPORT["width"], "height": height})
    if charts:
        app.expect_chart()
    app.content_height(stable_ms=600)  # plotly redraws on resize; let it settle
    png = page.screenshot(full_page=True, animations="disabled", caret="hide")

    out = SHOTS if os.environ.get("UPDATE_SCREENSHOTS") == "1" else tmp_path
    out.mkdir(parents=True, exist_ok=True)
    target = out / f"{name}-{lang}.png"
    target.write_bytes(shrink(png))
    assert target.stat().st_size > 20_000  # not a blank page
