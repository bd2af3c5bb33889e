"""Run one Node capture script against the loopback fake DashScope server (by hand).

    python tests/clients/wrappers/node/run_node.py NAME SCRIPT NODE_DIR PACKAGE...

starts :class:`FakeDashScope` on 127.0.0.1 and a small control endpoint beside it (also
127.0.0.1) through which the script queues the outcomes of its next calls, runs
``node SCRIPT`` with ``NODE_PATH=NODE_DIR/node_modules`` (the libraries live in a throwaway
directory outside the repo; CI installs none of them), sends the script's stdout and stderr to
``tests/data/wild/NAME.log`` and writes the server's record as ``NAME.truth.json`` with the
versions of PACKAGE... read from ``NODE_DIR/node_modules/<package>/package.json``. Both servers
are stopped when the script ends.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[4]
sys.path.insert(0, str(ROOT))

from tests.clients.fake_dashscope import FakeDashScope, Outcome  # noqa: E402
from tests.clients.harness import dump_truth, wrapper_truth  # noqa: E402

WILD = ROOT / "tests" / "data" / "wild"


def control(server: FakeDashScope) -> ThreadingHTTPServer:
    """POST /plan with [[status, code|null, mid_stream?], ...] queues outcomes in order."""

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            outcomes = [
                Outcome(status=o[0], code=o[1], mid_stream=bool(o[2:] and o[2]))
                for o in json.loads(raw)
            ]
            with server._lock:
                server._queue.extend(outcomes)
            self.send_response(204)
            self.send_header("Content-Length", "0")
            self.end_headers()

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd


def capture_env(server: FakeDashScope, ctl: ThreadingHTTPServer, **extra: str) -> dict[str, str]:
    """The environment of a capture program: no real keys or proxies, the apps' time zone,
    where the fake server and its control endpoint listen (FAKE_BASE, FAKE_CONTROL)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DASHSCOPE_", "OPENAI_", "ALIBABA_"))
        and k.lower() not in ("http_proxy", "https_proxy", "all_proxy")
    }
    env.update(
        TZ="Asia/Shanghai",
        NO_PROXY="127.0.0.1,localhost",
        no_proxy="127.0.0.1,localhost",
        FAKE_BASE=f"http://127.0.0.1:{server.port}",
        FAKE_CONTROL=f"http://127.0.0.1:{ctl.server_address[1]}/plan",
        **extra,
    )
    return env


def version(node_dir: Path, package: str) -> str:
    meta = node_dir / "node_modules" / package / "package.json"
    if not meta.exists():
        return "not installed"
    return str(json.loads(meta.read_text(encoding="utf-8"))["version"])


def main() -> None:
    name, script, node_dir_s, *packages = sys.argv[1:]
    node_dir = Path(node_dir_s).resolve()
    script_path = Path(script).resolve()
    log_path = WILD / f"{name}.log"
    versions = {p: version(node_dir, p) for p in packages}
    versions["node"] = subprocess.run(
        ["node", "--version"], capture_output=True, text=True, check=True
    ).stdout.strip()
    with FakeDashScope() as server:
        ctl = control(server)
        env = capture_env(
            server,
            ctl,
            NODE_PATH=str(node_dir / "node_modules"),
            CAPTURE_VERSIONS=json.dumps(versions),
        )
        try:
            with log_path.open("wb") as fh:
                proc = subprocess.run(
                    ["node", str(script_path)],
                    stdout=fh,
                    stderr=subprocess.STDOUT,
                    env=env,
                    cwd=node_dir,
                    timeout=120,
                    check=False,
                )
        finally:
            ctl.shutdown()
            ctl.server_close()
        answered = list(server.answered)
    notes = " ".join(
        line.split("// notes:", 1)[1].strip()
        for line in script_path.read_text(encoding="utf-8").splitlines()
        if line.startswith("// notes:")
    )
    truth = wrapper_truth(name, str(script_path.relative_to(ROOT)), versions, notes, answered)
    (WILD / f"{name}.truth.json").write_text(dump_truth(truth), encoding="utf-8")
    print(
        f"{log_path}: rc={proc.returncode}, {len(answered)} requests, "
        f"{truth['failed_requests']} failed"
    )


if __name__ == "__main__":
    main()
