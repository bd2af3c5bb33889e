"""`make bench`: parse speed and memory of ``ingest.load_events`` on big generated logs.

    python bench/run.py                      # 1 GB each of jsonl, text, openai
    python bench/run.py --quick              # 50 MB each, a smoke run
    python bench/run.py --size 200MB --kinds jsonl,text --methods ingest,grep

Logs come from bench/generate_logs.py (profile ``bench``, about 90% successful calls) and are
kept in bench/data/ (gitignored) for the next run. Every measured method runs in its own
subprocess, so the peak RSS is the method's own: VmHWM from the child's /proc/self/status
(exact), else ``ru_maxrss`` of the child from ``os.wait4`` (which has the parent's size as a
floor: Linux carries the high-water mark across exec).
Wall time is the whole process (interpreter start and imports included, as in
../shared/reference/performance.md); ``parse_s`` is the time spent inside the method alone.
Results: a Markdown table on stdout and bench/out/results.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

import generate_logs as gen  # noqa: E402 - sibling script, not a package

#: method -> the kinds of log it applies to
METHODS: dict[str, tuple[str, ...]] = {
    "ingest": ("jsonl", "text", "openai", "mixed"),
    "parse": ("jsonl", "text", "openai", "mixed"),
    "pandas.read_json": ("jsonl",),
    "json.loads": ("jsonl",),
    "orjson.loads": ("jsonl",),
    "grep -c": ("jsonl", "text", "openai", "mixed"),
}
DEFAULT_KINDS = ("jsonl", "text", "openai")

TARGET_MBPS = {"jsonl": 400.0, "text": 250.0, "openai": 250.0, "mixed": 250.0}
TARGET_RSS_MB = 1024.0
TARGET_BYTES_PER_EVENT = 100.0


# ------------------------------------------------------------------------------ worker side
def _work_ingest(path: Path) -> dict[str, Any]:
    import ingest

    t0 = time.perf_counter()
    frame, report = ingest.load_events([path])
    parse_s = time.perf_counter() - t0
    n = len(frame)
    out: dict[str, Any] = {"parse_s": parse_s, "events": n}
    if n:
        out["errors"] = int(frame["is_error"].sum()) if "is_error" in frame else None
        out["bytes_per_event"] = float(frame.memory_usage(deep=True).sum()) / n
    out["lines_read"] = getattr(report, "lines_read", None)
    return out


def _work_parse(path: Path) -> dict[str, Any]:
    """`dashscope-logs parse PATH -o out.jsonl` (errors only), as the command line runs it:
    from ingest.bounded.BOUNDED_MIN_BYTES on a part at a time. ``children_peak_mb``: the
    biggest worker process (forked ones count the pages they share with this one)."""
    import resource

    from ingest.cli import main

    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "errors.jsonl"
        main.main(["parse", str(path), "-o", str(out)], standalone_mode=False)
        errors = sum(1 for _ in out.open("rb"))
    parse_s = time.perf_counter() - t0
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {"parse_s": parse_s, "errors": errors, "children_peak_mb": round(children, 1)}


def _work_read_json(path: Path) -> dict[str, Any]:
    import pandas as pd

    t0 = time.perf_counter()
    rows = errors = 0
    with pd.read_json(path, lines=True, chunksize=200_000) as reader:
        for chunk in reader:
            rows += len(chunk)
            errors += int((chunk["status_code"] != 200).sum())
    return {"parse_s": time.perf_counter() - t0, "events": rows, "errors": errors}


def _work_json_loop(path: Path, loads: Any) -> dict[str, Any]:
    t0 = time.perf_counter()
    rows = errors = 0
    with open(path, "rb") as fh:
        for line in fh:
            obj = loads(line)
            rows += 1
            if obj.get("status_code") != 200:
                errors += 1
    return {"parse_s": time.perf_counter() - t0, "events": rows, "errors": errors}


def _vm_hwm_mb() -> float | None:
    """Peak RSS of this process image. Unlike ru_maxrss it does not inherit the parent's."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def worker(method: str, path: Path) -> dict[str, Any]:
    res = _worker(method, path)
    res["vm_hwm_mb"] = _vm_hwm_mb()
    return res


def _worker(method: str, path: Path) -> dict[str, Any]:
    if method == "ingest":
        return _work_ingest(path)
    if method == "parse":
        return _work_parse(path)
    if method == "pandas.read_json":
        return _work_read_json(path)
    if method == "json.loads":
        return _work_json_loop(path, json.loads)
    if method == "orjson.loads":
        import orjson

        return _work_json_loop(path, orjson.loads)
    raise SystemExit(f"unknown method {method!r}")


# ------------------------------------------------------------------------------ parent side
def measure(method: str, path: Path, timeout: float) -> dict[str, Any]:
    """Run ``method`` on ``path`` in a child process; wall time and peak RSS of that child."""
    if method == "grep -c":
        cmd = ["grep", "-c", "-F", "ERROR", str(path)]
    else:
        cmd = [sys.executable, str(HERE / "run.py"), "--worker", method, str(path)]
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, cwd=REPO)
        deadline = t0 + timeout
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                proc.kill()
                _, status, usage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.01)
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode("utf-8", "replace")
        stderr = err.read().decode("utf-8", "replace")
    size = path.stat().st_size
    res: dict[str, Any] = {
        "method": method,
        "file": path.name,
        "bytes": size,
        "wall_s": round(wall, 3),
        "mb_per_s": round(size / 1e6 / wall, 1) if wall else None,
        "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),  # Linux: KiB
        "exit": proc.returncode,
    }
    if wall > timeout:
        res["problem"] = f"killed after {timeout:.0f}s"
    elif method == "grep -c":
        res["events"] = int(stdout.strip() or 0) if proc.returncode in (0, 1) else None
        res["note"] = "lines containing ERROR; RSS floor is the parent's (ru_maxrss over exec)"
    elif proc.returncode == 0:
        res.update(json.loads(stdout.strip().splitlines()[-1]))
        hwm = res.pop("vm_hwm_mb", None)
        if hwm is not None:  # exact for this child; ru_maxrss has the parent's size as a floor
            res["rusage_maxrss_mb"] = res["peak_rss_mb"]
            res["peak_rss_mb"] = round(hwm, 1)
        res["parse_mb_per_s"] = round(size / 1e6 / res["parse_s"], 1) if res["parse_s"] else None
    else:
        res["problem"] = (stderr.strip().splitlines() or ["failed"])[-1][:300]
    return res


def ensure_data(kind: str, size: int, data_dir: Path, seed: int) -> Path:
    path = gen.bench_path(data_dir, kind, size)
    if path.exists():
        return path
    t0 = time.perf_counter()
    gen.write_bench(data_dir, kind, size, seed)
    dt = time.perf_counter() - t0
    mb = path.stat().st_size / 1e6
    print(
        f"generated {path.relative_to(REPO) if path.is_relative_to(REPO) else path}: "
        f"{mb:,.0f} MB in {dt:.1f}s",
        file=sys.stderr,
    )
    return path


def _fmt(v: Any, spec: str = "") -> str:
    if v is None:
        return "-"
    return format(v, spec) if spec else str(v)


def verdict(kind: str, r: dict[str, Any]) -> str:
    if r.get("problem"):
        return "FAILED: " + r["problem"]
    if r["method"] != "ingest":
        return ""
    checks = [
        f"MB/s {'ok' if (r['mb_per_s'] or 0) >= TARGET_MBPS[kind] else 'MISS'}",
        f"RSS {'ok' if r['peak_rss_mb'] <= TARGET_RSS_MB else 'MISS'}",
    ]
    bpe = r.get("bytes_per_event")
    checks.append(
        "B/event -"
        if bpe is None
        else f"B/event {'ok' if bpe <= TARGET_BYTES_PER_EVENT else 'MISS'}"
    )
    if not r.get("events"):
        checks.append("no events")
    return ", ".join(checks)


def table(results: list[dict[str, Any]]) -> str:
    head = (
        "| kind | method | MB/s (process) | MB/s (parse) | wall s | peak RSS MB | events | errors "
        "| bytes/event | target (ingest) | verdict |\n"
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---|---|"
    )
    rows = [head]
    for r in results:
        kind = r["kind"]
        target = (
            f">= {TARGET_MBPS[kind]:.0f} MB/s, <= {TARGET_RSS_MB:.0f} MB, "
            f"<= {TARGET_BYTES_PER_EVENT:.0f} B/event"
            if r["method"] == "ingest"
            else ""
        )
        rows.append(
            f"| {kind} | {r['method']} | {_fmt(r.get('mb_per_s'), ',.0f')} "
            f"| {_fmt(r.get('parse_mb_per_s'), ',.0f')} | {_fmt(r.get('wall_s'), '.2f')} "
            f"| {_fmt(r.get('peak_rss_mb'), ',.0f')} | {_fmt(r.get('events'), ',')} "
            f"| {_fmt(r.get('errors'), ',')} | {_fmt(r.get('bytes_per_event'), '.1f')} "
            f"| {target} | {verdict(kind, r)} |"
        )
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size", type=gen.parse_size, default=None, help="per log (default 1GB)")
    ap.add_argument("--quick", action="store_true", help="50MB logs: a smoke run")
    ap.add_argument(
        "--kinds", default=",".join(DEFAULT_KINDS), help=f"comma list of {', '.join(gen.KINDS)}"
    )
    ap.add_argument("--methods", default=",".join(METHODS), help=f"comma list of {list(METHODS)}")
    ap.add_argument("--data-dir", type=Path, default=HERE / "data")
    ap.add_argument("--out", type=Path, default=HERE / "out" / "results.json")
    ap.add_argument("--seed", type=int, default=gen.DEFAULT_SEED)
    ap.add_argument("--timeout", type=float, default=1800.0, help="seconds per method")
    ap.add_argument("--worker", nargs=2, metavar=("METHOD", "FILE"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    if args.worker:
        method, file = args.worker
        print(json.dumps(worker(method, Path(file))))
        return 0

    size = args.size or gen.parse_size("50MB" if args.quick else "1GB")
    kinds = [k.strip() for k in args.kinds.split(",") if k.strip()]
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    for k in kinds:
        if k not in gen.KINDS:
            ap.error(f"unknown kind {k!r}; choose from {', '.join(gen.KINDS)}")
    for m in methods:
        if m not in METHODS:
            ap.error(f"unknown method {m!r}; choose from {', '.join(METHODS)}")

    results: list[dict[str, Any]] = []
    for kind in kinds:
        path = ensure_data(kind, size, args.data_dir, args.seed)
        for method in methods:
            if kind not in METHODS[method]:
                continue
            print(f"measuring {method} on {path.name} ...", file=sys.stderr)
            r = measure(method, path, args.timeout)
            r["kind"] = kind
            results.append(r)

    print(table(results))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    doc = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "size_bytes": size,
        "targets": {
            "mb_per_s": TARGET_MBPS,
            "peak_rss_mb": TARGET_RSS_MB,
            "bytes_per_event": TARGET_BYTES_PER_EVENT,
        },
        "results": results,
    }
    args.out.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    print(f"\nwrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
