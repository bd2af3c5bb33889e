"""Uploaded data stays in the session that uploaded it: two browser contexts (two users) against
one server each upload their own log and each sees only its own; a third, fresh session sees
neither (the bundled samples)."""

from __future__ import annotations

from typing import Any

import pytest
from e2e_support import VIEWPORT, App
from playwright.sync_api import Browser, expect

from app.i18n import STRINGS

pytestmark = pytest.mark.e2e

EN = STRINGS["en"]
SIDEBAR = '[data-testid="stSidebar"]'


def _log(n: int, marker: str) -> bytes:
    lines = [
        f"2026-11-20 10:{i // 60:02d}:{i % 60:02d},000 ERROR app: Request id: "
        f"{marker}{i:04d}-2a3b-4c4d-9e5f-6a7b8c9d0e1f, Status code: 429, error code: "
        "Throttling.RateQuota, error message: Requests rate limit exceeded."
        for i in range(n)
    ]
    return ("\n".join(lines) + "\n").encode()


def _upload(browser: Browser, base_url: str, name: str, data: bytes) -> App:
    context = browser.new_context(base_url=base_url, viewport=VIEWPORT)  # type: ignore[arg-type]
    app = App(context.new_page(), base_url)
    app.open("/", charts=True)
    app.upload([{"name": name, "mimeType": "text/plain", "buffer": data}])
    return app


def test_two_sessions_never_see_each_others_uploads(browser: Browser, base_url: str) -> None:
    alice = _upload(browser, base_url, "alice.log", _log(3, "aaaa"))
    bob = _upload(browser, base_url, "bob.log", _log(7, "bbbb"))
    for app, name, calls, other in ((alice, "alice", 3, "bob"), (bob, "bob", 7, "alice")):
        sidebar = app.page.locator(SIDEBAR)
        expect(sidebar).to_contain_text(f"{calls} events from {name}.log")
        expect(app.kpi(EN["kpi_calls"])).to_have_text(str(calls))
        expect(sidebar).not_to_contain_text(f"{other}.log")
        app.expect_no_exception()
    # after a rerun (a reload keeps nothing: a new session starts on the samples)
    alice.page.get_by_role("link", name=EN["page_request_ids"]).click()
    expect(alice.page.locator(SIDEBAR)).to_contain_text("3 events from alice.log")
    expect(alice.page.locator(SIDEBAR)).not_to_contain_text("bob.log")
    # a third user sees neither upload
    fresh_context: Any = browser.new_context(base_url=base_url, viewport=VIEWPORT)  # type: ignore[arg-type]
    fresh = App(fresh_context.new_page(), base_url).open("/", charts=True)
    sidebar = fresh.page.locator(SIDEBAR)
    expect(sidebar).not_to_contain_text("alice.log")
    expect(sidebar).not_to_contain_text("bob.log")
    for app in (alice, bob, fresh):
        app.page.context.close()
