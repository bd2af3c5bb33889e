"""Browser speed: upload -> first chart, server memory, and filter-change latency, in chromium.

    .venv/bin/python bench/browser_bench.py                       # 15 MB and 100 MB JSON lines
    .venv/bin/python bench/browser_bench.py --size 15MB --size 160MB:text --filters 3
    .venv/bin/python bench/browser_bench.py --events 1M --rounds 3  # a log of about 1 M events

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
  then "clear", ``--rounds`` times (a code's first pick asks the server new questions; later
  picks and "clear" are answered from its caches). Timed inside the page: ``performance.now()``
  at the click event, the end seen by a ``requestAnimationFrame`` poll (the harness adds no
  round trips). Split in three: click -> the rerun request leaves on the websocket (browser),
  -> the last message of the rerun reaches chromium's network thread (server: script, queries,
  figures, serialization), and the rest (browser: React and Plotly, the part of their work that
  did not overlap the server's).

Binds 127.0.0.1 only; the server runs in its own process group and is killed at the end (and
with this process, through PR_SET_PDEATHSIG). Not a test: prints a table, writes JSON with --json.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
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
from playwright.sync_api import Locator, Page, expect, sync_playwright  # noqa: E402

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
    rss_filters_mb: float = 0.0  # after the filter changes
    filter_s: list[tuple[str, float]] = field(default_factory=list)
    #: per filter change: (what, round, total, click->request, request->last message, ->drawn) s
    filter_split: list[tuple[str, int, float, float, float, float]] = field(default_factory=list)
    load: str = ""
    error: str = ""


def parse_size(text: str) -> tuple[int, str]:
    """``100MB`` or ``160MB:text`` -> (bytes, kind)."""
    size, _, kind = text.partition(":")
    m = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([KMG]?B)", size.strip().upper())
    if not m:
        raise argparse.ArgumentTypeError(f"bad size {text!r}; e.g. 100MB or 160MB:text")
    scale = {"B": 1, "KB": 1 << 10, "MB": 1 << 20, "GB": 1 << 30}[m.group(2)]
    return int(float(m.group(1)) * scale), kind or "jsonl"


def parse_events(text: str) -> tuple[int, str]:
    """``1M``, ``250k`` or ``1M:text`` -> (events, kind)."""
    count, _, kind = text.partition(":")
    m = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([KM]?)", count.strip().upper())
    if not m:
        raise argparse.ArgumentTypeError(f"bad event count {text!r}; e.g. 1M or 250k:text")
    return int(float(m.group(1)) * {"": 1, "K": 1000, "M": 1_000_000}[m.group(2)]), kind or "jsonl"


def size_for_events(events: int, kind: str, folder: Path) -> int:
    """The log size that holds about ``events`` events: bytes per event measured on a 4 MB log
    of the same kind (the generator is deterministic, so the size, and the cached log, are too)."""
    from ingest import load_events

    sample = generate(4 << 20, kind, folder)
    frame, _ = load_events([str(sample)], workers=1)
    return int(events * sample.stat().st_size / len(frame))


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


#: in the page before any script of the app: when the rerun request leaves (page clock)
TRACE_WS = """
(() => {
  const sent = (window.__benchSent = []);
  const Native = window.WebSocket;
  class Traced extends Native {
    send(data) {
      sent.push(performance.now());
      return super.send(data);
    }
  }
  window.WebSocket = Traced;
})();
"""

#: armed before a click: the time of the next click event on the page clock
ARM = """() => {
  window.__benchClick = null;
  window.__benchSent.length = 0;
  document.addEventListener('click', () => { window.__benchClick = performance.now(); },
                            {capture: true, once: true});
}"""


class Frames:
    """Websocket frames as chromium's network thread saw them (CDP timestamps): unlike the
    page's ``message`` events they are not held back while the page is busy drawing."""

    def __init__(self, page: Page) -> None:
        self.frames: list[tuple[str, float]] = []
        self.cdp = page.context.new_cdp_session(page)
        self.cdp.on("Network.webSocketFrameSent", lambda e: self._add("sent", e))
        self.cdp.on("Network.webSocketFrameReceived", lambda e: self._add("recv", e))
        self.cdp.send("Network.enable")

    def _add(self, kind: str, event: dict[str, object]) -> None:
        self.frames.append((kind, float(event["timestamp"])))  # type: ignore[arg-type]

    def server_s(self) -> float:
        """From the first frame sent to the last frame received (the rerun's last message)."""
        sent = [t for kind, t in self.frames if kind == "sent"]
        recv = [t for kind, t in self.frames if kind == "recv" and sent and t >= sent[0]]
        return recv[-1] - sent[0] if recv else 0.0


#: the end of a filter change: script idle, nothing stale, new KPIs, every chart drawn
DONE = """([before, keys]) => {
  const app = document.querySelector('[data-testid="stApp"]');
  if (!app || app.getAttribute('data-test-script-state') !== 'notRunning') return false;
  if (document.querySelector('[data-stale="true"]')) return false;
  const values = '[data-testid="stMetric"] [data-testid="stMetricValue"]';
  const kpis = [...document.querySelectorAll(values)].map((e) => e.innerText.trim());
  if (JSON.stringify(kpis) === JSON.stringify(before)) return false;
  for (const key of keys) {
    const chart = document.querySelector(`[data-testid="stMain"] .st-key-${key}`);
    if (!chart || !chart.querySelector('.scatterlayer .trace, .barlayer .point')) return false;
  }
  return performance.now();
}"""


def filter_latency(page: Page, run: Run, codes: int, rounds: int, timeout_s: float) -> None:
    """Pick the top codes one at a time (each replacing the previous), then remove the last;
    ``rounds`` times."""
    frames = Frames(page)
    combo = page.locator(".st-key-codes").get_by_role("combobox")
    combo.click()
    options = page.get_by_role("option")
    expect(options.nth(1)).to_be_visible()
    labels = [str(t) for t in options.all_inner_texts() if t != "Select all"][:codes]
    page.keyboard.press("Escape")
    for round_ in range(1, rounds + 1):
        previous: str | None = None
        for label in labels:
            if previous is not None:  # one code at a time: remove the previous one (not timed)
                _timed_click(page, frames, _remove_button(page, previous), None, timeout_s)
            combo.click()
            option = page.get_by_role("option", name=label, exact=True)
            option.wait_for()
            code = label.split(" · ")[-1]
            _timed_click(page, frames, option, (run, code, round_), timeout_s)
            previous = label
        assert previous is not None
        clear = _remove_button(page, previous)
        _timed_click(page, frames, clear, (run, "(clear)", round_), timeout_s)


def _remove_button(page: Page, label: str) -> Locator:
    return page.locator(".st-key-codes").get_by_role("button", name=f"Remove {label}")


def _timed_click(
    page: Page,
    frames: Frames,
    target: Locator,
    record: tuple[Run, str, int] | None,
    timeout_s: float,
) -> None:
    before = kpi_values(page)
    page.evaluate(ARM)
    frames.frames.clear()
    target.click()
    page.keyboard.press("Escape")  # close the dropdown, as the user would
    done = page.wait_for_function(
        DONE, arg=[before, list(CHART_KEYS)], polling="raf", timeout=timeout_s * 1000
    ).json_value()
    if record is None:
        return
    run, what, round_ = record
    click, sent = page.evaluate("[window.__benchClick, window.__benchSent]")
    total = (done - click) / 1000
    request = ([t for t in sent if t >= click] or [click])[0]
    browser_before = (request - click) / 1000
    server = frames.server_s()
    run.filter_s.append((what, total))
    run.filter_split.append(
        (what, round_, total, browser_before, server, total - browser_before - server)
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument(
        "--size",
        action="append",
        type=parse_size,
        help="log size and kind, e.g. 15MB, 100MB, 160MB:text (repeatable; default 15MB 100MB)",
    )
    ap.add_argument(
        "--events",
        action="append",
        type=parse_events,
        default=[],
        help="a log of about this many events, e.g. 1M or 1M:text (repeatable)",
    )
    ap.add_argument("--data", type=Path, help="keep generated logs here (default: a temp dir)")
    ap.add_argument("--filters", type=int, default=3, help="codes to select in turn")
    ap.add_argument("--rounds", type=int, default=1, help="times the filter sequence is played")
    ap.add_argument("--timeout", type=float, default=1800, help="seconds per step")
    ap.add_argument("--json", type=Path, help="also write the results here")
    args = ap.parse_args()
    sizes = args.size or ([] if args.events else [parse_size("15MB"), parse_size("100MB")])
    if not CHROMIUM.exists():
        sys.exit(f"{CHROMIUM} not found: apt-get install chromium")

    runs: list[Run] = []
    with tempfile.TemporaryDirectory(prefix="browser-bench-") as tmp:
        data = args.data or Path(tmp)
        empty = Path(tmp) / "empty"
        empty.mkdir()
        sizes += [(size_for_events(n, kind, data), kind) for n, kind in args.events]
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
                        page.add_init_script(TRACE_WS)
                        page.goto(server.url + "/")
                        expect(page.locator(MAIN).get_by_text("No API calls found")).to_be_visible(
                            timeout=60_000
                        )
                        upload_and_measure(page, path, run, server.proc.pid, args.timeout)
                        filter_latency(page, run, args.filters, args.rounds, args.timeout)
                        run.rss_filters_mb, run.hwm_mb = memory_mb(server.proc.pid)
                        run.load = " ".join(f"{x:.2f}" for x in os.getloadavg())
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
    print()
    print("filter change, median (min-max) in s: total = browser before + server + browser after")
    for r in runs:
        # round 1 picks each code for the first time; "(clear)" goes back to the first view
        for label, new in (("new questions", True), ("cached answers", False)):
            rows = [x for x in r.filter_split if (x[1] == 1 and x[0] != "(clear)") == new]
            if not rows:
                continue
            cols = [[x[i] for x in rows] for i in range(2, 6)]
            cells = "  ".join(
                f"{name} {statistics.median(c):.2f} ({min(c):.2f}-{max(c):.2f})"
                for name, c in zip(("total", "before", "server", "after"), cols, strict=True)
            )
            print(f"  {r.file} {label:<14} n={len(rows):<2} {cells}")
        print(f"  server RSS after the filter changes {r.rss_filters_mb:.0f}Mi; load {r.load}")


if __name__ == "__main__":
    main()
