"""Run one capture program (Go, Java: any command) against the loopback fake DashScope server.

    python tests/clients/loggers/run_program.py NAME 'VERSIONS' -- COMMAND...

as ``tests/clients/wrappers/node/run_node.py`` does for Node scripts: starts
:class:`FakeDashScope` on 127.0.0.1 and its control endpoint (the program queues the outcomes
of its next calls there: FAKE_BASE, FAKE_CONTROL in its environment), sends the program's
stdout and stderr to ``tests/data/wild/NAME.log`` and writes the server's record as
``NAME.truth.json`` with VERSIONS (a JSON object: library -> version), NOTES and SCRIPT (the
source of a built program; env). Both servers are stopped when the program ends.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "clients" / "wrappers" / "node"))

from run_node import capture_env, control  # noqa: E402

from tests.clients.fake_dashscope import FakeDashScope  # noqa: E402
from tests.clients.harness import dump_truth, wrapper_truth  # noqa: E402

WILD = ROOT / "tests" / "data" / "wild"


def main() -> None:
    args = sys.argv[1:]
    split = args.index("--")
    name, versions_json = args[:split]
    command = args[split + 1 :]
    versions = json.loads(versions_json)
    log_path = WILD / f"{name}.log"
    with FakeDashScope() as server:
        ctl = control(server)
        env = capture_env(server, ctl)
        try:
            with log_path.open("wb") as fh:
                proc = subprocess.run(
                    command, stdout=fh, stderr=subprocess.STDOUT, env=env, timeout=120, check=False
                )
        finally:
            ctl.shutdown()
            ctl.server_close()
        answered = list(server.answered)
    script = os.environ.get("SCRIPT") or " ".join(command)  # the source, where it was built
    truth = wrapper_truth(name, script, versions, os.environ.get("NOTES", ""), answered)
    (WILD / f"{name}.truth.json").write_text(dump_truth(truth), encoding="utf-8")
    failed = truth["failed_requests"]
    print(f"{log_path}: rc={proc.returncode}, {len(answered)} requests, {failed} failed")


if __name__ == "__main__":
    main()
