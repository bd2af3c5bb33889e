"""Benchmark of the event store (issue #5): ingest throughput, memory, disk, query latency.

    python bench/store_bench.py                     # 4 x 50 MB of generated logs, 50 M events
    python bench/store_bench.py --size 1GB          # per log kind (jsonl, text, openai, mixed)
    python bench/store_bench.py --skip-ingest --events 5000000

1. Ingest the same generated logs three ways, each in a fresh process: ``load_events`` in one
   process (the parse every engine runs), ``dashscope-logs ingest --engine local`` (process pool)
   and ``--engine dask`` (a LocalCluster of 2 worker processes, started by the command, startup
   included). Wall time, MB/s, and the peak RSS of each process of the tree (sampled every
   0.1 s with psutil).
2. Dataset size on disk against the raw logs.
3. Query latency at ``--events`` (default 50 M) events: a dataset synthesised directly with
   numpy/pyarrow in the events schema (14 days, one segment each, 10 % errors, 12 models,
   20 sources) and its rollups and failed-call files (``ingest.store.rollups.complete``, as an
   ingest writes them),
   then the aggregations a dashboard filter change runs (ingest.store.query), median of 3
   runs, read from the events (``rollups=False``, what every query did before rollups) and
   from the rollups: per page, and per aggregation.
4. Exports of a selection (``--skip-exports`` to skip): the request_id CSV and the ticket, as
   they were made (the selection's errors loaded into pandas) and streamed from DuckDB
   (``ingest.store.export``), each in a fresh process: wall time and peak RSS.
5. The dashboard on that dataset (``--skip-app`` to skip): streamlit's AppTest (in this
   process, no browser) opens each page and changes the sidebar filters (models, codes,
   statuses, the time window, a message search) one at a time; seconds per rerun, answers
   cached as in the app.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import psutil

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

KINDS = ("jsonl", "text", "openai", "mixed")


# --------------------------------------------------------------------------- process trees


class TreeSampler:
    """Peak RSS per process of a process tree (the root and every descendant)."""

    def __init__(self, pid: int, interval: float = 0.1) -> None:
        self.root = psutil.Process(pid)
        self.peaks: dict[int, tuple[str, int]] = {}
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                procs = [self.root, *self.root.children(recursive=True)]
            except psutil.Error:
                return
            for p in procs:
                try:
                    rss = p.memory_info().rss
                    name = " ".join(p.cmdline()[1:4])[:60]
                except psutil.Error:
                    continue
                old = self.peaks.get(p.pid, (name, 0))
                self.peaks[p.pid] = (old[0] or name, max(old[1], rss))
            self._stop.wait(self.interval)

    def stop(self) -> dict[int, tuple[str, int]]:
        self._stop.set()
        self._thread.join()
        return self.peaks


def timed(argv: list[str]) -> tuple[float, dict[int, tuple[str, int]], str]:
    t0 = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    sampler = TreeSampler(proc.pid)
    out, _ = proc.communicate()
    seconds = time.perf_counter() - t0
    peaks = sampler.stop()
    if proc.returncode:
        raise SystemExit(f"{argv} failed:\n{out.decode()[-2000:]}")
    return seconds, peaks, out.decode()


def mem_summary(peaks: dict[int, tuple[str, int]], root_pid: int | None = None) -> str:
    values = sorted((rss for _name, rss in peaks.values()), reverse=True)
    big = [v for v in values if v > 80 << 20]  # skip tiny helpers (resource trackers)
    return ", ".join(f"{v / 2**20:.0f}" for v in big) + " MB"


def du(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


# --------------------------------------------------------------------------- ingest


def bench_ingest(size: str, work: Path, workers: int) -> list[dict[str, Any]]:
    logs = work / "logs"
    if not logs.exists():
        subprocess.run(
            [
                sys.executable,
                str(REPO / "bench/generate_logs.py"),
                "--out",
                str(logs),
                "--profile",
                "bench",
                "--size",
                size,
                "--kind",
                "all",
            ],
            check=True,
        )
    raw = du(logs)
    cli = [sys.executable, "-c", "import sys; from ingest.cli import main; sys.exit(main())"]
    single = (
        "import sys, glob; from ingest import load_events; "
        f"ev, r = load_events(sorted(glob.glob({str(logs / '*')!r})), workers=1); "
        "print(len(ev), 'events')"
    )
    runs = [
        ("single process (load_events, workers=1)", [sys.executable, "-c", single], None),
        (
            f"local engine ({workers} processes)",
            [
                *cli,
                "ingest",
                str(logs),
                "--to",
                str(work / "ds-local"),
                "--engine",
                "local",
                "--workers",
                str(workers),
            ],
            work / "ds-local",
        ),
        (
            f"dask engine (LocalCluster, {workers} workers)",
            [
                *cli,
                "ingest",
                str(logs),
                "--to",
                str(work / "ds-dask"),
                "--engine",
                "dask",
                "--workers",
                str(workers),
            ],
            work / "ds-dask",
        ),
    ]
    rows = []
    for label, argv, dataset in runs:
        if dataset is not None and dataset.exists():
            shutil.rmtree(dataset)
        seconds, peaks, out = timed(argv)
        row = {
            "run": label,
            "seconds": round(seconds, 1),
            "mb_per_s": round(raw / 1e6 / seconds, 2),
            "peak_rss_mb": mem_summary(peaks),
            "raw_mb": round(raw / 1e6, 1),
            "output": out.strip().splitlines()[-1][:160],
        }
        if dataset is not None:
            row["dataset_mb"] = round(du(dataset) / 1e6, 1)
        rows.append(row)
        print(json.dumps(row), flush=True)
    return rows


# --------------------------------------------------------------------------- 50 M events


def synthesise(dataset: Path, n_events: int, days: int = 14, seed: int = 7) -> None:
    """A dataset of ``n_events`` in the events schema, written directly (no parsing)."""
    import pyarrow as pa

    from ingest.store.manifest import FileEntry, Manifest, Segment
    from ingest.store.writer import ARROW_SCHEMA, write_atomically

    rng = np.random.default_rng(seed)
    models = np.array(
        [f"qwen-{m}" for m in ("plus", "max", "turbo", "long", "vl-plus")]
        + [
            "qwen3-coder",
            "qwen2.5-72b",
            "deepseek-v3",
            "deepseek-r1",
            "glm-4.5",
            "kimi-k2",
            "text-embedding-v3",
        ]
    )
    sources = np.array([f"/logs/svc-{k:02d}/app.log" for k in range(20)])
    codes = [
        ("Throttling.RateQuota", 429, "request-rate", 0.35),
        ("Throttling.AllocationQuota", 429, "token-rate", 0.12),
        ("Throttling.BurstRate", 429, "burst", 0.08),
        ("Throttling", 429, "request-rate", 0.05),
        ("InternalError", 500, "server-error", 0.12),
        ("InvalidParameter", 400, "bad-request", 0.1),
        ("DataInspectionFailed", 400, "moderation", 0.06),
        ("InvalidApiKey", 401, "auth", 0.04),
        ("ModelNotFound", 404, "not-found", 0.03),
        ("RequestTimeOut", 500, "timeout", 0.05),
    ]
    c_names = np.array([c[0] for c in codes])
    c_status = np.array([c[1] for c in codes], dtype="int16")
    c_cat = np.array([c[2] for c in codes])
    c_p = np.array([c[3] for c in codes])
    c_p = c_p / c_p.sum()
    start = np.datetime64("2026-11-01T00:00:00", "us").astype("int64")
    per_day = n_events // days
    manifest = Manifest(tz="Asia/Shanghai")
    for d in range(days):
        n = per_day if d < days - 1 else n_events - per_day * (days - 1)
        ts = np.sort(start + d * 86_400_000_000 + rng.integers(0, 86_400_000_000, n))
        is_error = rng.random(n) < 0.10
        ci = rng.choice(len(codes), n, p=c_p)
        err = is_error
        status = np.where(err, c_status[ci], 200).astype("int16")
        code = np.where(err, c_names[ci], None)
        cat = np.where(err, c_cat[ci], None)
        rid_n = rng.integers(0, 2**62, n)
        has_rid = err & (rng.random(n) < 0.9)
        rid = pa.array(rid_n).cast(pa.string())
        rid = pa.compute.if_else(pa.array(has_rid), rid, pa.scalar(None, pa.string()))
        table = pa.table(
            {
                "timestamp": pa.array(ts, type=pa.timestamp("us", tz="UTC")),
                "status_code": pa.array(status),
                "logged_status": pa.array(status.astype("int32")),
                "code": pa.array(code, type=pa.string()),
                "raw_code": pa.array(code, type=pa.string()),
                "message": pa.array(
                    np.where(err, "Requests rate limit exceeded", None), type=pa.string()
                ),
                "request_id": rid,
                "model": pa.array(models[rng.integers(0, len(models), n)]),
                "category": pa.array(cat, type=pa.string()),
                "retryable": pa.array(np.where(err, status == 429, None), type=pa.bool_()),
                "is_error": pa.array(is_error),
                "source": pa.array(sources[rng.integers(0, len(sources), n)]),
                "line": pa.array(np.arange(1, n + 1, dtype="int64")),
                "mentions": pa.array(np.ones(n, dtype="int32")),
                "format": pa.array(np.full(n, "python-sdk-response")),
            },
            schema=ARROW_SCHEMA,
        )
        day = str(np.datetime64(int(start + d * 86_400_000_000), "us"))[:10]
        part_id = f"synthetic-{day}"
        rel = f"day={day}/part-{part_id}.parquet"
        write_atomically(table, dataset / rel)
        entry = FileEntry(f"/synthetic/{day}.log", 0, 0, 0, "", "range", "utf-8", True)
        entry.segments = [Segment(0, 0, 0, part_id, done=True, parts=[rel], events=n)]
        manifest.files[part_id] = entry
    manifest.save(dataset)


def add_rollups(dataset: Path) -> dict[str, Any]:
    """The rollups, failed-call files and shared-ids file of a synthesised dataset (what an
    ingest writes with each segment, and at its end); their cost and size."""
    from ingest.store.manifest import Manifest
    from ingest.store.rollups import complete

    manifest = Manifest.load(dataset)
    assert manifest is not None
    t0 = time.perf_counter()
    if complete(dataset, manifest):
        manifest.save(dataset)
    seconds = time.perf_counter() - t0
    kinds = ("minute", "hour", "failed-with-id", "failed-without-id")
    sizes = {k: du(dataset / "rollups" / k) for k in kinds if (dataset / "rollups" / k).is_dir()}
    import duckdb

    rows = {
        kind: duckdb.sql(
            f"SELECT count(*) FROM read_parquet('{dataset}/rollups/{kind}/*.parquet')"
        ).fetchall()[0][0]
        for kind in sizes
    }
    return {
        "rollup_build_s": round(seconds, 1),
        "rollup_rows": rows,
        "rollup_mb": {k: round(v / 1e6, 1) for k, v in sizes.items()},
    }


def _median(fn: Callable[[], Any], runs: int = 3) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def bench_queries(dataset: Path) -> list[dict[str, Any]]:
    import pandas as pd

    from ingest import queries
    from ingest.queries import Filters
    from ingest.store import export as store_export
    from ingest.store.query import DatasetQuery

    stores = {"events": DatasetQuery(dataset, rollups=False), "rollups": DatasetQuery(dataset)}
    assert stores["rollups"].rollups
    k = stores["rollups"].kpis()
    assert k.first is not None
    day = k.first + pd.Timedelta(days=6)
    cases = {
        "no filter": Filters(),
        "1 model": Filters(models=("qwen-plus",)),
        "1 day window": Filters(start=day, end=day + pd.Timedelta(days=1)),
        "1 code + 3 days": Filters(
            codes=("Throttling.RateQuota",), start=day, end=day + pd.Timedelta(days=3)
        ),
        "box-selected 5 days (off the minute)": Filters(
            start=day + pd.Timedelta(hours=3, minutes=17, seconds=41),
            end=day + pd.Timedelta(days=5, hours=1, minutes=2, seconds=13),
        ),
        "2 models + 429 + 6 days": Filters(
            models=("qwen-max", "deepseek-r1"),
            statuses=(429,),
            start=day - pd.Timedelta(days=3),
            end=day + pd.Timedelta(days=3),
        ),
        "message search": Filters(search="rate limit"),
    }
    rows = []
    for mode, q in stores.items():
        t_opts = _median(q.filter_options, 1)
        rows.append(
            {
                "mode": mode,
                "query": "filter_options (once per dataset)",
                "filters": "-",
                "s": t_opts,
            }
        )
    for label, f in cases.items():
        for mode, q in stores.items():

            def overview(f: Filters = f, q: DatasetQuery = q) -> None:
                kk = q.kpis(f)
                bucket = queries.choose_bucket(kk.first, kk.last)
                q.errors_over_time(f, bucket, "Asia/Shanghai")
                q.top_codes(f)
                q.status_distribution(f)
                q.per_model(f)

            def throttling(f: Filters = f, q: DatasetQuery = q) -> None:
                kk = q.kpis(f)
                bucket = queries.choose_bucket(kk.first, kk.last)
                series = q.throttling_over_time(f, bucket, "Asia/Shanghai")
                queries.detect_spikes(series.counts.sum(axis=1), calls=series.totals["calls"])
                q.per_model(f)

            def request_ids(f: Filters = f, q: DatasetQuery = q) -> None:
                q.top_request_ids(f, limit=5000)
                q.request_id_count(f)
                q.failures_without_request_id(f)
                store_export.ticket_markdown(q, f, "Asia/Shanghai")

            pages = [
                ("overview page (kpis, errors/time, codes, statuses, models)", overview),
                ("throttling page (kpis, 429s/time, spikes, models)", throttling),
                ("request-ids page (top 5000 ids, count, no-id failures, ticket)", request_ids),
            ]
            for name, fn in pages:
                rows.append({"mode": mode, "query": name, "filters": label, "s": _median(fn)})
                print(json.dumps(rows[-1]), flush=True)
            kk = q.kpis(f)
            bucket = queries.choose_bucket(kk.first, kk.last)
            single: list[tuple[str, Callable[[], Any]]] = [
                ("kpis", lambda f=f, q=q: q.kpis(f)),
                (
                    f"errors_over_time ({bucket})",
                    lambda f=f, q=q, b=bucket: q.errors_over_time(f, b, "Asia/Shanghai"),
                ),
                (
                    f"throttling_over_time ({bucket})",
                    lambda f=f, q=q, b=bucket: q.throttling_over_time(f, b, "Asia/Shanghai"),
                ),
                ("top_codes", lambda f=f, q=q: q.top_codes(f)),
                ("status_distribution", lambda f=f, q=q: q.status_distribution(f)),
                ("per_model", lambda f=f, q=q: q.per_model(f)),
                ("filter_options", lambda f=f, q=q: q.filter_options(f)),
            ]
            for name, fn in single:
                rows.append(
                    {"mode": mode, "query": "  " + name, "filters": label, "s": _median(fn)}
                )
                print(json.dumps(rows[-1]), flush=True)
    for q in stores.values():
        q.close()
    return rows


EXPORT_SELECTIONS = ("1 code + 3 days", "1 day window")
EXPORT_RUNS = (
    ("csv", "loaded (before)"),
    ("csv", "streamed"),
    ("ticket", "loaded (before)"),
    ("ticket", "SQL"),
)


def export_child(dataset: str, kind: str, mode: str, selection: str, target: str) -> None:
    """One export, in this (fresh) process: prints its wall time."""
    import pandas as pd

    from ingest import export
    from ingest.queries import Filters
    from ingest.store import export as streamed
    from ingest.store.query import DatasetQuery

    tz = "Asia/Shanghai"
    q = DatasetQuery(dataset)
    first = q.kpis().first
    assert first is not None
    day = first + pd.Timedelta(days=6)
    f = {
        "1 code + 3 days": Filters(
            codes=("Throttling.RateQuota",), start=day, end=day + pd.Timedelta(days=3)
        ),
        "1 day window": Filters(start=day, end=day + pd.Timedelta(days=1)),
    }[selection]
    t0 = time.perf_counter()
    if (kind, mode) == ("csv", "loaded (before)"):
        Path(target).write_bytes(
            export.request_ids_csv(q.events(f, errors_only=True), tz, bom=True)
        )
    elif kind == "csv":
        with open(target, "wb") as fh:
            for chunk in streamed.request_ids_csv_chunks(q, f, tz, bom=True):
                fh.write(chunk)
    elif mode == "loaded (before)":
        errors = q.events(f, errors_only=True)
        Path(target).write_text(export.ticket_markdown(errors, tz, f.describe(tz)))
    else:
        Path(target).write_text(streamed.ticket_markdown(q, f, tz))
    print(round(time.perf_counter() - t0, 2))


def bench_exports(dataset: Path) -> list[dict[str, Any]]:
    """Exports of two selections, loaded (as before) and streamed, each in a fresh process."""
    out = Path("/tmp") / "store_bench_export"
    out.mkdir(exist_ok=True)
    rows = []
    for selection in EXPORT_SELECTIONS:
        written: dict[str, bytes] = {}
        for kind, mode in EXPORT_RUNS:
            target = out / f"{kind}-{mode.split()[0]}"
            argv = [sys.executable, __file__, "--export-child", str(dataset), kind, mode]
            seconds, peaks, text = timed([*argv, selection, str(target)])
            written.setdefault(kind, target.read_bytes())
            row = {
                "export": kind,
                "mode": mode,
                "filters": selection,
                "export_s": float(text.strip().splitlines()[-1]),
                "process_s": round(seconds, 1),
                "peak_rss_mb": round(max(rss for _n, rss in peaks.values()) / 2**20),
                "bytes": target.stat().st_size,
                "same_bytes": target.read_bytes() == written[kind],
            }
            rows.append(row)
            print(json.dumps(row), flush=True)
    return rows


APP_CHANGES: tuple[tuple[str, Any], ...] = (
    ("models", ["qwen-plus"]),
    ("models", ["qwen-plus", "deepseek-r1"]),
    ("codes", ["Throttling.RateQuota"]),
    ("statuses", [500]),
    ("codes", []),
    ("statuses", []),
    ("models", []),
    ("window", (6, timedelta(days=1))),
    ("window", (6, timedelta(days=3, hours=5, minutes=7))),
    ("window", None),
    ("search", "rate limit"),
    ("search", ""),
)


def bench_app(dataset: Path) -> list[dict[str, Any]]:
    """Seconds per rerun of the dashboard on ``dataset`` as filters change (AppTest)."""
    from streamlit.testing.v1 import AppTest

    from app import data

    data.cli_paths = lambda argv=None: [str(dataset)]  # what `dashscope-logs app DIR` passes
    at = AppTest.from_file(str(REPO / "app" / "streamlit_app.py"), default_timeout=900)
    rows: list[dict[str, Any]] = []

    def rerun(page: str, change: str) -> None:
        t0 = time.perf_counter()
        at.run()
        seconds = time.perf_counter() - t0
        if at.exception:
            raise SystemExit(f"{page} {change}: {at.exception}")
        rows.append({"page": page, "change": change, "s": round(seconds, 3)})
        print(json.dumps(rows[-1]), flush=True)

    rerun("overview", "first load (opens the dataset, filter options)")
    for page in ("overview", "throttling", "request_ids"):
        at.switch_page(f"app_pages/{page}.py")
        rerun(page, "open")
        lo, hi = at.slider(key="window").value
        for key, value in APP_CHANGES:
            if key == "window":
                days, span = value or (0, None)
                start = lo + timedelta(days=days)
                at.slider(key="window").set_value(
                    (lo, hi) if span is None else (start, start + span)
                )
                rerun(page, "window = all" if span is None else f"window = {span}")
            elif key == "search":
                at.text_input(key=key).set_value(value)
                rerun(page, f"{key} = {value!r}")
            else:
                at.multiselect(key=key).set_value(value)
                rerun(page, f"{key} = {value}")
    return rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size", default="50MB", help="generated log size per kind (4 kinds)")
    ap.add_argument("--events", type=int, default=50_000_000, help="events for the query part")
    ap.add_argument("--work", type=Path, default=REPO / "bench" / "data" / "store")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--skip-ingest", action="store_true")
    ap.add_argument("--skip-queries", action="store_true")
    ap.add_argument("--skip-exports", action="store_true")
    ap.add_argument("--skip-app", action="store_true")
    ap.add_argument("--export-child", nargs=5, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.export_child:
        export_child(*args.export_child)
        return 0
    args.work.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {"cores": os.cpu_count()}
    if not args.skip_ingest:
        results["ingest"] = bench_ingest(args.size, args.work, args.workers)
    if not (args.skip_queries and args.skip_exports and args.skip_app):
        synth = args.work / f"synthetic-{args.events}"
        if not (synth / "manifest.json").exists():
            t0 = time.perf_counter()
            synthesise(synth, args.events)
            print(f"synthesised {args.events:,} events in {time.perf_counter() - t0:.0f} s")
        results["rollups"] = add_rollups(synth)
        print(json.dumps(results["rollups"]), flush=True)
        results["synthetic_dataset_mb"] = round(du(synth) / 1e6, 1)
        results["events"] = args.events
        if not args.skip_queries:
            results["queries"] = bench_queries(synth)
        if not args.skip_exports:
            results["exports"] = bench_exports(synth)
        if not args.skip_app:
            results["app"] = bench_app(synth)
    print()
    for row in results.get("ingest", []):
        print(
            f"{row['run']:<45} {row['seconds']:>7.1f} s {row['mb_per_s']:>7.2f} MB/s  "
            f"peak RSS {row['peak_rss_mb']}"
            + (
                f"  dataset {row['dataset_mb']} MB / raw {row['raw_mb']} MB"
                if "dataset_mb" in row
                else ""
            )
        )
    if "queries" in results:
        r = results["rollups"]
        print(
            f"\nqueries on {results['events']:,} events "
            f"({results['synthetic_dataset_mb']} MB of Parquet with rollups; rollups "
            f"{r['rollup_rows']} rows, {r['rollup_mb']} MB, built in {r['rollup_build_s']} s), "
            "median of 3, events vs rollups:"
        )
        by = {(row["query"], row["filters"], row["mode"]): row["s"] for row in results["queries"]}
        seen: dict[tuple[str, str], None] = {}
        for row in results["queries"]:
            seen[(row["query"], row["filters"])] = None
        for query, filters in seen:
            before, after = by.get((query, filters, "events")), by.get((query, filters, "rollups"))
            cells = [f"{v:>7.3f} s" if v is not None else "      - " for v in (before, after)]
            print(f"  {cells[0]} {cells[1]}  {query:<62} [{filters}]")
    if "app" in results:
        print(f"\ndashboard on {results['events']:,} events, seconds per rerun (AppTest):")
    for row in results.get("app", []):
        print(f"  {row['s']:>7.2f} s  {row['page']:<12} {row['change']}")
    for row in results.get("exports", []):
        print(
            f"  {row['export']:<7} {row['mode']:<16} {row['export_s']:>7.2f} s "
            f"peak RSS {row['peak_rss_mb']:>5} MB  {row['bytes']:>10} bytes "
            f"same={row['same_bytes']}  [{row['filters']}]"
        )
    out = REPO / "bench" / "out" / "store.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
