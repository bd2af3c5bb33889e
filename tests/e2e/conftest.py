"""Browser tests: Playwright drives Debian's /usr/bin/chromium against a real ``streamlit run``.

One Streamlit server per session (started with the same command line as ``dashscope-logs app``,
on the bundled sample logs); every test gets a fresh browser context, so a fresh Streamlit
session. Without chromium the tests are skipped with a banner, except under ``CI=true``, where a
missing browser stops the run (``.ci/run`` installs it). Helpers live in ``e2e_support.py``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from e2e_support import (
    CHROMIUM,
    CHROMIUM_ARGS,
    SAMPLES,
    SKIP_BANNER,
    TIMEOUT_MS,
    VIEWPORT,
    App,
    Server,
    chromium_missing,
    start_server,
    stop,
)
from playwright.sync_api import Page, expect

E2E_DIR = Path(__file__).resolve().parent
SKIPPED_KEY = pytest.StashKey[int]()


# --------------------------------------------------------------------------- skip rule


def _is_e2e(item: pytest.Item) -> bool:
    return E2E_DIR in Path(str(item.path)).resolve().parents


def pytest_report_header(config: pytest.Config) -> list[str]:
    if chromium_missing():
        return ["", "!" * 78, "!!! " + SKIP_BANNER, "!" * 78, ""]
    return [f"browser tests: {CHROMIUM}"]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    e2e = [item for item in items if _is_e2e(item)]
    if not e2e or not chromium_missing():
        return
    if os.environ.get("CI") == "true":
        raise pytest.UsageError(
            f"CI=true but {CHROMIUM} is missing: the browser tests need Debian's chromium "
            "(and fonts-noto-cjk fonts-noto-color-emoji); .ci/run installs them."
        )
    config.stash[SKIPPED_KEY] = len(e2e)
    skip = pytest.mark.skip(reason=SKIP_BANNER)
    for item in e2e:
        item.add_marker(skip)


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    if config.stash.get(SKIPPED_KEY, 0):
        n = config.stash[SKIPPED_KEY]
        terminalreporter.write_sep("!", f"{n} {SKIP_BANNER}", red=True, bold=True)


# --------------------------------------------------------------------------- server


@pytest.fixture(scope="session")
def streamlit_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    log = tmp_path_factory.mktemp("streamlit") / "server.log"
    server = start_server([str(SAMPLES)], log)
    try:
        yield server
    finally:
        stop(server.proc)


# --------------------------------------------------------------------------- browser


@pytest.fixture(scope="session")
def base_url(streamlit_server: Server) -> str:
    """pytest-playwright passes this to every context: ``page.goto("/throttling")`` works."""
    return streamlit_server.url


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    return {**browser_type_launch_args, "executable_path": str(CHROMIUM), "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    return {**browser_context_args, "viewport": VIEWPORT, "accept_downloads": True}


@pytest.fixture(scope="session", autouse=True)
def _expect_timeout() -> None:
    expect.set_options(timeout=TIMEOUT_MS)


@pytest.fixture
def app(page: Page, base_url: str) -> App:
    return App(page, base_url)
