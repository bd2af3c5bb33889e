"""Shared set-up for the wrapper captures: the loopback fake server, the log, the truth.

A capture script runs in a throwaway venv that has the wrapper library installed (CI does not
install these libraries; see README.md here). It starts :class:`FakeDashScope` on 127.0.0.1 in
its own process, points the library at it, and sends the process's stdout and stderr (file
descriptors 1 and 2, so ``print``, ``logging`` and whatever the library writes by itself) to
``tests/data/wild/<name>.log``. The server's record of every answered request is written next
to it as ``<name>.truth.json``.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))

from tests.clients.fake_dashscope import FakeDashScope, Outcome  # noqa: E402
from tests.clients.harness import dump_truth, wrapper_truth  # noqa: E402

WILD = ROOT / "tests" / "data" / "wild"
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def versions(*packages: str) -> dict[str, str]:
    out = {}
    for p in packages:
        try:
            out[p] = metadata.version(p)
        except metadata.PackageNotFoundError:
            out[p] = "not installed"
    return out


@contextmanager
def capture(
    name: str, packages: tuple[str, ...], notes: str = "", level: int = logging.INFO
) -> Iterator[FakeDashScope]:
    """Run the body with the fake server up and fds 1/2 going to tests/data/wild/<name>.log."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, default=WILD)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    log_path = args.out / f"{name}.log"
    os.environ["TZ"] = "Asia/Shanghai"
    time.tzset()
    for k in list(os.environ):
        if k.lower() in ("http_proxy", "https_proxy", "all_proxy"):
            del os.environ[k]
    os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"
    saved = os.dup(1), os.dup(2)
    with FakeDashScope() as server, log_path.open("wb") as fh:
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(fh.fileno(), 1)
        os.dup2(fh.fileno(), 2)
        sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
        logging.basicConfig(level=level, format=LOG_FORMAT, stream=sys.stderr, force=True)
        try:
            yield server
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
        answered = list(server.answered)
    truth = wrapper_truth(
        name,
        Path(sys.argv[0]).resolve().relative_to(ROOT).as_posix(),
        versions(*packages),
        notes,
        answered,
    )
    (args.out / f"{name}.truth.json").write_text(dump_truth(truth), encoding="utf-8")
    print(f"{log_path}: {len(answered)} requests, {truth['failed_requests']} failed")


def plan(server: FakeDashScope, outcomes: list[Outcome]) -> None:
    """Queue outcomes without clearing the record (plan() would clear it between steps)."""
    with server._lock:
        server._queue.extend(outcomes)


def dump(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, default=str)
