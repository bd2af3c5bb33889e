"""Browser speed: upload -> first chart, server memory, and filter-change latency, in chromium.

    .venv/bin/python bench/browser_bench.py                       # 15 MB and 100 MB JSON lines
    .venv/bin/python bench/browser_bench.py --size 15MB --size 160MB:text --filters 3

For each size a log is generated with ``bench/generate_logs.py --profile bench`` (cached in a
temporary folder unless ``--data DIR``), a fresh ``streamlit run`` is started on an empty folder
(so the page shows no chart until the upload is parsed; same command line as
``dashscope-logs app``), and the file is uploaded through the sidebar's file input in Debian's
chromium. Measured:

* upload: from ``set_input_files`` to the upload's HTTP response (browser -> server copy);
* parse: from the upload finishing to the sidebar's "N events from <file>" caption;
* first chart / all charts: from the upload finishing to the first / the fourth overview chart
  drawn (``.scatterlayer .trace`` / ``.barlayer .point``);
* server RSS (VmRSS) and peak (VmHWM) of the streamlit process from /proc, before and after;
* filter change: from the click on a code in the ``codes`` multiselect to the KPIs showing the
  new numbers and every chart redrawn (the script idle, no stale element); a few codes in turn,
  then "clear".

Binds 127.0.0.1 only; the server runs in its own process group and is killed at the end (and
with this process, through PR_SET_PDEATHSIG). Not a test: prints a table, writes JSON with --json.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests" / "e2e"))
sys.path.insert(0, str(REPO))

from e2e_support import (  # noqa: E402
    CHROMIUM,
    CHROMIUM_ARGS,
    EXCEPTION,
    KPI,
    UPLOAD_INPUT,
    start_server,
    stop,
)
from playwright.sync_api import Page, expect, sync_playwright  # noqa: E402

CHART_KEYS = ("time_chart", "top_codes_chart", "status_chart", "per_model_chart")
MAIN = '[data-testid="stMain"]'


@dataclass
class Run:
    file: str
    kind: str
    mb: float
    events: str = ""
    upload_s: float = 0.0
    parse_s: float = 0.0
    first_chart_s: float = 0.0
    all_charts_s: float = 0.0
    rss_before_mb: float = 0.0
    rss_after_mb: float = 0.0
    hwm_mb: float = 0.0
    filter_s: list[tuple[str, float]] = field(default_factory=list)
    error: str = ""


def parse_size(text: str) -> tuple[int, str]:
    """``100MB`` or ``160MB:text`` -> (bytes, kind)."""
    size, _, kind = text.partition(":")
    m = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([KMG]?B)", size.strip().upper())
    if not m:
        raise argparse.ArgumentTypeError(f"bad size {text!r}; e.g. 100MB or 160MB:text")
    scale = {"B": 1, "KB": 1 << 10, "MB": 1 << 20, "GB": 1 << 30}[m.group(2)]
    return int(float(m.group(1)) * scale), kind or "jsonl"


def generate(size: int, kind: str, folder: Path) -> Path:
    out = folder / f"{kind}_{size}"
    files = sorted(out.glob("bench_*")) if out.is_dir() else []
    if not files:
        subprocess.run(
            [
                sys.executable,
                str(REPO / "bench" / "generate_logs.py"),
                "--out",
                str(out),
                "--profile",
                "bench",
                "--size",
                str(size),
                "--kind",
                kind,
            ],
            check=True,
            capture_output=True,
        )
        files = sorted(out.glob("bench_*"))
    return files[0]


def memory_mb(pid: int) -> tuple[float, float]:
    """(VmRSS, VmHWM) of ``pid`` in MiB."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0]) / 1024
    return values.get("VmRSS", 0.0), values.get("VmHWM", 0.0)


def drawn(page: Page) -> int:
    """How many of the overview's charts are drawn and not stale."""
    count = 0
    for key in CHART_KEYS:
        chart = page.locator(f'{MAIN} .st-key-{key}:not([data-stale="true"])')
        if chart.locator(".scatterlayer .trace, .barlayer .point").count():
            count += 1
    return count


def wait_idle(page: Page, timeout_s: float) -> None:
    """The script has finished: not running, no stale element, no status widget."""
    app = page.locator('[data-testid="stApp"]')
    expect(app).to_have_attribute("data-test-script-state", "notRunning", timeout=timeout_s * 1000)
    expect(page.locator('[data-stale="true"]')).to_have_count(0, timeout=timeout_s * 1000)


def kpi_values(page: Page) -> list[str]:
    return [
        str(t).strip()
        for t in page.locator(f'{KPI} [data-testid="stMetricValue"]').all_inner_texts()
    ]


def upload_and_measure(page: Page, path: Path, run: Run, pid: int, timeout_s: float) -> None:
    run.rss_before_mb = memory_mb(pid)[0]
    upload_done = 0.0
    start = time.perf_counter()
    with page.expect_response(
        lambda r: "/_stcore/upload_file/" in r.url and r.request.method == "PUT",
        timeout=timeout_s * 1000,
    ) as response:
        page.locator(UPLOAD_INPUT).set_input_files(str(path))
    assert response.value.ok, f"upload failed: HTTP {response.value.status}"
    upload_done = time.perf_counter()
    run.upload_s = upload_done - start

    caption = page.locator('[data-testid="stSidebar"]').get_by_text(
        re.compile(rf"[\d,]+ events from {re.escape(path.name)}")
    )
    expect(caption).to_be_visible(timeout=timeout_s * 1000)
    run.parse_s = time.perf_counter() - upload_done
    run.events = str(caption.inner_text()).split(" events")[0]

    deadline = time.perf_counter() + timeout_s
    while time.perf_counter() < deadline:
        n = drawn(page)
        if n and not run.first_chart_s:
            run.first_chart_s = time.perf_counter() - upload_done
        if n == len(CHART_KEYS):
            run.all_charts_s = time.perf_counter() - upload_done
            break
        page.wait_for_timeout(50)
    else:
        raise TimeoutError("the charts were not drawn in time")
    wait_idle(page, timeout_s)
    expect(page.locator(EXCEPTION)).to_have_count(0)
    run.rss_after_mb, run.hwm_mb = memory_mb(pid)


def filter_latency(page: Page, run: Run, rounds: int, timeout_s: float) -> None:
    """Pick the top codes one at a time (each replacing the previous), then remove the last."""
    combo = page.locator(".st-key-codes").get_by_role("combobox")
    combo.click()
    options = page.get_by_role("option")
    expect(options.nth(1)).to_be_visible()
    labels = [str(t) for t in options.all_inner_texts() if t != "Select all"][:rounds]
    page.keyboard.press("Escape")
    previous: str | None = None
    for label in labels:
        if previous is not None:  # one code at a time: remove the previous one (not timed)
            before = kpi_values(page)
            page.locator(".st-key-codes").get_by_role("button", name=f"Remove {previous}").click()
            _wait_changed(page, before, timeout_s)
        before = kpi_values(page)
        start = time.perf_counter()
        combo.click()
        page.get_by_role("option", name=label, exact=True).click()
        page.keyboard.press("Escape")
        _wait_changed(page, before, timeout_s)
        run.filter_s.append((label.split(" · ")[-1], time.perf_counter() - start))
        previous = label
    before = kpi_values(page)
    start = time.perf_counter()
    page.locator(".st-key-codes").get_by_role("button", name=f"Remove {previous}").click()
    _wait_changed(page, before, timeout_s)
    run.filter_s.append(("(clear)", time.perf_counter() - start))


def _wait_changed(page: Page, before: list[str], timeout_s: float) -> None:
    deadline = time.perf_counter() + timeout_s
    while kpi_values(page) == before and time.perf_counter() < deadline:
        page.wait_for_timeout(20)
    wait_idle(page, timeout_s)
    while drawn(page) < len(CHART_KEYS) and time.perf_counter() < deadline:
        page.wait_for_timeout(20)
    if time.perf_counter() >= deadline:
        raise TimeoutError("the view did not change after the filter")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument(
        "--size",
        action="append",
        type=parse_size,
        help="log size and kind, e.g. 15MB, 100MB, 160MB:text (repeatable; default 15MB 100MB)",
    )
    ap.add_argument("--data", type=Path, help="keep generated logs here (default: a temp dir)")
    ap.add_argument("--filters", type=int, default=3, help="codes to select in turn")
    ap.add_argument("--timeout", type=float, default=1800, help="seconds per step")
    ap.add_argument("--json", type=Path, help="also write the results here")
    args = ap.parse_args()
    sizes = args.size or [parse_size("15MB"), parse_size("100MB")]
    if not CHROMIUM.exists():
        sys.exit(f"{CHROMIUM} not found: apt-get install chromium")

    runs: list[Run] = []
    with tempfile.TemporaryDirectory(prefix="browser-bench-") as tmp:
        data = args.data or Path(tmp)
        empty = Path(tmp) / "empty"
        empty.mkdir()
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            try:
                for size, kind in sizes:
                    path = generate(size, kind, data)
                    run = Run(path.name, kind, round(path.stat().st_size / 1e6, 1))
                    runs.append(run)
                    print(f"{path.name}: {run.mb} MB ...", file=sys.stderr, flush=True)
                    server = start_server([str(empty)], Path(tmp) / f"server-{size}.log")
                    try:
                        page = browser.new_page(viewport={"width": 1400, "height": 900})
                        page.set_default_timeout(args.timeout * 1000)
                        page.goto(server.url + "/")
                        expect(page.locator(MAIN).get_by_text("No API calls found")).to_be_visible(
                            timeout=60_000
                        )
                        upload_and_measure(page, path, run, server.proc.pid, args.timeout)
                        filter_latency(page, run, args.filters, args.timeout)
                        page.close()
                    except Exception as exc:  # report what was measured, and why it stopped
                        run.error = f"{type(exc).__name__}: {str(exc).splitlines()[0]}"
                    finally:
                        stop(server.proc)
            finally:
                browser.close()

    print_table(runs)
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in runs], indent=2) + "\n")


def print_table(runs: list[Run]) -> None:
    head = (
        f"{'file':<34} {'MB':>6} {'events':>10} {'upload':>7} {'parse':>7} {'1st chart':>9} "
        f"{'all 4':>7} {'RSS before':>10} {'RSS after':>9} {'peak':>7}"
    )
    print(head)
    print("-" * len(head))
    for r in runs:
        print(
            f"{r.file:<34} {r.mb:>6} {r.events:>10} {r.upload_s:>6.1f}s {r.parse_s:>6.1f}s "
            f"{r.first_chart_s:>8.1f}s {r.all_charts_s:>6.1f}s {r.rss_before_mb:>8.0f}Mi "
            f"{r.rss_after_mb:>7.0f}Mi {r.hwm_mb:>5.0f}Mi"
        )
    print()
    print("filter change (click -> KPIs and all charts redrawn):")
    for r in runs:
        cells = ", ".join(f"{code} {s:.2f}s" for code, s in r.filter_s)
        print(f"  {r.file}: {cells or '-'}")
        if r.error:
            print(f"    stopped: {r.error}")


if __name__ == "__main__":
    main()
