"""Load: N browser sessions (one chromium, N contexts) each upload their own log at once.

Every session must show its own result (the sidebar's "K events from <name>" and the calls KPI
equal to the K DashScope failures written into its file); the server must stay up; its memory
(the streamlit process and its children) is sampled every 0.5 s. Not a CI test: it takes minutes.

    .venv/bin/python bench/load_test.py --sessions 10 --mb 20
    .venv/bin/python bench/load_test.py --sessions 10 --mb 2

Prints one JSON object (also written to bench/out/load_<sessions>x<mb>MB.json).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil
from playwright.sync_api import expect, sync_playwright

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests" / "e2e"))
from e2e_support import CHROMIUM, CHROMIUM_ARGS, VIEWPORT, start_server, stop  # noqa: E402

LINE_ERROR = (
    "2026-11-20 {t} ERROR app.client: Request id: {rid}, Status code: 429, error code: "
    "Throttling.RateQuota, error message: Requests rate limit exceeded, please try again later."
)
LINE_INFO = "2026-11-20 {t} INFO app.worker: handled job {n} in 12 ms, queue depth 3, user {u}"


def make_log(path: Path, size: int, session: int) -> int:
    """A log of about ``size`` bytes: one failure every 6 lines; returns the failures written."""
    failures = 0
    n = 0
    with path.open("w", encoding="utf-8") as fh:
        written = 0
        while written < size:
            secs = n // 10
            t = f"{secs // 3600 % 24:02d}:{secs // 60 % 60:02d}:{secs % 60:02d},{n % 1000:03d}"
            if n % 6 == 0:
                rid = f"{session:04x}{failures:04x}-2a3b-4c4d-9e5f-6a7b8c9d0e1f"
                line = LINE_ERROR.format(t=t, rid=rid)
                failures += 1
            else:
                line = LINE_INFO.format(t=t, n=n, u=session)
            fh.write(line + "\n")
            written += len(line) + 1
            n += 1
    return failures


class MemorySampler(threading.Thread):
    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.proc = psutil.Process(pid)
        self.peak = 0
        self.samples: list[tuple[float, int]] = []
        self.stop_flag = threading.Event()
        self.t0 = time.monotonic()

    def run(self) -> None:
        while not self.stop_flag.is_set():
            try:
                procs = [self.proc, *self.proc.children(recursive=True)]
                rss = sum(p.memory_info().rss for p in procs)
            except psutil.Error:
                break
            self.peak = max(self.peak, rss)
            self.samples.append((round(time.monotonic() - self.t0, 1), rss >> 20))
            time.sleep(0.5)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sessions", type=int, default=10)
    ap.add_argument("--mb", type=float, default=20)
    ap.add_argument("--timeout-min", type=float, default=30)
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="load_test_"))
    files = []
    for s in range(args.sessions):
        path = tmp / f"session{s:02d}.log"
        files.append((path, make_log(path, int(args.mb * (1 << 20)), s)))
    server = start_server([str(REPO / "sample_logs")], tmp / "server.log")
    sampler = MemorySampler(server.proc.pid)
    sampler.start()
    idle_mb = psutil.Process(server.proc.pid).memory_info().rss >> 20
    results: dict[str, object] = {
        "sessions": args.sessions,
        "mb_per_upload": args.mb,
        "server_rss_idle_mb": idle_mb,
    }
    done_at: list[float | None] = [None] * args.sessions
    ok = [False] * args.sessions
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            pages = []
            for _ in range(args.sessions):
                ctx = browser.new_context(base_url=server.url, viewport=VIEWPORT)  # type: ignore[arg-type]
                page = ctx.new_page()
                page.goto("/")
                expect(page.locator('[data-testid="stApp"]')).to_have_attribute(
                    "data-test-connection-state", "CONNECTED", timeout=60_000
                )
                expect(page.locator('[data-testid="stFileUploaderDropzoneInput"]')).to_be_attached(
                    timeout=60_000
                )
                pages.append(page)
            start = time.monotonic()
            for page, (path, _n) in zip(pages, files, strict=True):
                page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(
                    str(path)
                )
            results["all_uploads_sent_s"] = round(time.monotonic() - start, 1)
            deadline = start + args.timeout_min * 60
            pending = set(range(args.sessions))
            while pending and time.monotonic() < deadline:
                for i in sorted(pending):
                    path, n = files[i]
                    sidebar = pages[i].locator('[data-testid="stSidebar"]')
                    text = sidebar.inner_text(timeout=60_000)
                    if f"{n:,} events from {path.name}" in text:
                        done_at[i] = round(time.monotonic() - start, 1)
                        kpi = (
                            pages[i]
                            .locator('[data-testid="stMetric"]')
                            .first.locator('[data-testid="stMetricValue"]')
                        )
                        pending.discard(i)
                        try:  # the KPI row is redrawn just after the caption: wait for it
                            expect(kpi).to_have_text(f"{n:,}", timeout=120_000)
                            ok[i] = True
                        except AssertionError:
                            ok[i] = False
                if server.proc.poll() is not None:
                    break
                time.sleep(1)
            exceptions = sum(p.locator('[data-testid="stException"]').count() for p in pages)
            browser.close()
    finally:
        sampler.stop_flag.set()
        alive = server.proc.poll() is None
        stop(server.proc)
    finished = [t for t in done_at if t is not None]
    results.update(
        {
            "failures_per_upload": [n for _p, n in files],
            "correct_sessions": sum(ok),
            "finished_sessions": len(finished),
            "first_done_s": min(finished) if finished else None,
            "last_done_s": max(finished) if finished else None,
            "per_session_done_s": done_at,
            "exceptions_shown": exceptions,
            "server_alive_at_end": alive,
            "server_rss_peak_mb": sampler.peak >> 20,
            "total_mb": round(args.mb * args.sessions, 1),
            "throughput_mb_s": round(args.mb * len(finished) / max(finished), 2)
            if finished
            else None,
        }
    )
    out = REPO / "bench" / "out" / f"load_{args.sessions}x{args.mb:g}MB.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
