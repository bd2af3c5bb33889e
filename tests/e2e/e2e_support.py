"""Shared by the browser tests and bench/browser_bench.py: the server, selectors, a page helper.

The server is started with the same command line as ``dashscope-logs app`` (bound to 127.0.0.1 on
a free port, in its own process group, killed with its parent through PR_SET_PDEATHSIG).
"""

from __future__ import annotations

import ctypes
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from playwright.sync_api import Locator, Page, expect

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "sample_logs"
#: Debian's chromium; E2E_CHROMIUM points elsewhere (a nonexistent path shows the skip rule)
CHROMIUM = Path(os.environ.get("E2E_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--disable-extensions",
]
VIEWPORT = {"width": 1400, "height": 900}
TIMEOUT_MS = 20_000
SKIP_BANNER = (
    f"BROWSER TESTS SKIPPED: {CHROMIUM} not found; install it with "
    "`apt-get install chromium fonts-noto-cjk fonts-noto-color-emoji` (.ci/run does)"
)

KPI = '[data-testid="stMetric"]'
CHART_DRAWN = '[data-testid="stPlotlyChart"] :is(.scatterlayer .trace, .barlayer .point)'
EXCEPTION = '[data-testid="stException"]'
UPLOAD_INPUT = '[data-testid="stFileUploaderDropzoneInput"]'


def chromium_missing() -> bool:
    return not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK))


# --------------------------------------------------------------------------- server


_LIBC = ctypes.CDLL("libc.so.6", use_errno=True)
PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """preexec_fn: the server gets SIGTERM when the process that started it dies."""
    _LIBC.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "/_stcore/health", timeout=1) as resp:
            return bool(resp.read().strip() == b"ok")
    except OSError:
        return False


def stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM the server's process group, SIGKILL it if it lingers."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=10)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


@dataclass
class Server:
    url: str
    proc: subprocess.Popen[bytes]
    log: Path


def start_server(
    paths: list[str], log: Path, *, env: dict[str, str] | None = None, tries: int = 3
) -> Server:
    """``streamlit run`` exactly as ``dashscope-logs app PATHS --port P`` would start it."""
    from ingest.cli.app import app_script, streamlit_argv

    last = ""
    for _ in range(tries):
        port = free_port()
        argv = streamlit_argv(app_script(), tuple(paths), "127.0.0.1", port)
        argv[0] = sys.executable
        out = log.open("wb")
        proc = subprocess.Popen(
            argv,
            cwd=REPO,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            # only prctl() runs between fork and exec (libc is loaded beforehand)
            preexec_fn=_die_with_parent,  # noqa: PLW1509
            env={**os.environ, **(env or {})},
        )
        out.close()
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None:
            if _healthy(url):
                return Server(url, proc, log)
            time.sleep(0.2)
        stop(proc)
        last = log.read_text(errors="replace")[-2000:]
    raise RuntimeError(f"streamlit did not become healthy; its output:\n{last}")


class App:
    """A page of the dashboard with the few waits and reads the tests share."""

    KPI = KPI
    CHART_DRAWN = CHART_DRAWN
    EXCEPTION = EXCEPTION
    UPLOAD_INPUT = UPLOAD_INPUT

    def __init__(self, page: Page, url: str) -> None:
        self.page = page
        self.url = url
        page.set_default_timeout(TIMEOUT_MS)

    def open(self, path: str = "/", *, charts: bool = False, kpis: bool = True) -> App:
        """Go to ``path`` (relative to the server) and wait until the page is drawn."""
        self.page.goto(path)
        expect(self.page.locator('[data-testid="stApp"]')).to_have_attribute(
            "data-test-connection-state", "CONNECTED"
        )
        if kpis:
            expect(self.page.locator(KPI).first).to_be_visible()
        if charts:
            self.expect_chart()
        return self

    def expect_chart(self) -> None:
        expect(self.page.locator(CHART_DRAWN).first).to_be_attached()

    def expect_no_exception(self) -> None:
        expect(self.page.locator(EXCEPTION)).to_have_count(0)

    def kpi(self, label: str) -> Locator:
        """The value of the KPI labelled ``label`` (a locator: assert on it with ``expect``)."""
        label_el = self.page.locator('[data-testid="stMetricLabel"]').get_by_text(label, exact=True)
        return self.page.locator(KPI).filter(has=label_el).locator('[data-testid="stMetricValue"]')

    def kpi_text(self, label: str) -> str:
        return str(self.kpi(label).inner_text()).strip()

    def choose(self, key: str, option: str) -> None:
        """Pick the option containing ``option`` in the multiselect with widget key ``key``."""
        self.page.locator(f".st-key-{key}").get_by_role("combobox").click()
        self.page.get_by_role("option").filter(has_text=option).first.click()
        self.page.keyboard.press("Escape")

    def content_height(self, *, stable_ms: int = 1200, limit_ms: int = 15_000) -> int:
        """Height of the taller of main area and sidebar, once it has stopped changing.

        Streamlit streams elements in: the last widget can be visible while the page still
        grows, so wait until the height has been the same for ``stable_ms``.
        """
        script = """() => Math.max(
            document.querySelector('[data-testid="stMain"]')?.scrollHeight ?? 0,
            document.querySelector('[data-testid="stSidebarContent"]')?.scrollHeight ?? 0)"""
        step = 300
        last, same = -1, 0
        for _ in range(limit_ms // step):
            height = int(self.page.evaluate(script))
            same = same + step if height == last else 0
            if same >= stable_ms:
                break
            last = height
            self.page.wait_for_timeout(step)
        return last

    def upload(self, files: Any) -> None:
        self.page.locator(UPLOAD_INPUT).set_input_files(files)
