"""Run a client app as a subprocess against the fake server and collect its log and the truth."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from .fake_dashscope import Answered, FakeDashScope
from .scenarios import AppSpec

HERE = Path(__file__).resolve().parent
APPS_DIR = HERE / "apps"
CAPTURED = HERE / "captured"
APP_TIMEOUT_S = 20
LOG_TZ = "Asia/Shanghai"  # the apps' local time zone (and load_events' default)


@dataclass
class AppRun:
    spec: AppSpec
    log: Path
    answered: list[Answered]
    returncode: int
    pending: int  # planned outcomes the app never consumed (0 when the script matched)
    stdout: str
    stderr: str

    def truth(self) -> dict[str, Any]:
        """The server's record of this run, as stored in captured/<app>.truth.json."""
        return {
            "app": self.spec.name,
            "script": f"tests/clients/apps/{self.spec.script}",
            "log_timezone": LOG_TZ,
            "sdk_versions": {p: metadata.version(p) for p in ("dashscope", "openai", "httpx")},
            "shows_every_attempt": self.spec.shows_every_attempt,
            "notes": self.spec.notes,
            "calls": self.spec.calls,
            "failed_requests": sum(a.is_error for a in self.answered),
            "answered": [
                {
                    **a.to_json(),
                    "time_utc": datetime.fromtimestamp(a.time, UTC).isoformat(
                        timespec="milliseconds"
                    ),
                }
                for a in self.answered
            ],
        }


def _env() -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DASHSCOPE_", "OPENAI_"))
        and k.lower() not in ("http_proxy", "https_proxy", "all_proxy")
    }
    env.update(
        TZ=LOG_TZ,
        PYTHONUTF8="1",
        PYTHONIOENCODING="utf-8",
        PYTHONDONTWRITEBYTECODE="1",
        NO_PROXY="127.0.0.1,localhost",
        no_proxy="127.0.0.1,localhost",
    )
    return env


def run_app(spec: AppSpec, server: FakeDashScope, workdir: Path) -> AppRun:
    """Plan the server, run ``spec``'s app to completion, return its log and the record."""
    workdir.mkdir(parents=True, exist_ok=True)
    log = workdir / f"{spec.name}.log"
    log.unlink(missing_ok=True)  # apps log in append mode: one run per log
    calls = workdir / f"{spec.name}.calls.json"
    calls.write_text(json.dumps(spec.calls, ensure_ascii=False), encoding="utf-8")
    base = server.native_base if spec.api == "native" else server.compat_base
    cmd = [
        sys.executable,
        str(APPS_DIR / spec.script),
        "--base-url",
        base,
        "--log",
        str(log),
        "--calls",
        str(calls),
    ]
    env = {**_env(), **spec.env}
    server.plan(spec.plan)
    if spec.output == "file":
        proc = subprocess.run(
            cmd, env=env, capture_output=True, timeout=APP_TIMEOUT_S, check=False, cwd=workdir
        )
        out, errs = proc.stdout, proc.stderr
    else:
        with log.open("wb") as fh:
            proc = subprocess.run(
                cmd,
                env=env,
                stdout=fh if spec.output == "stdout" else subprocess.PIPE,
                stderr=fh if spec.output in ("stdout", "stderr") else subprocess.PIPE,
                timeout=APP_TIMEOUT_S,
                check=False,
                cwd=workdir,
            )
        out, errs = proc.stdout or b"", proc.stderr or b""
    return AppRun(
        spec=spec,
        log=log,
        answered=list(server.answered),
        returncode=proc.returncode,
        pending=server.pending,
        stdout=out.decode("utf-8", "replace"),
        stderr=errs.decode("utf-8", "replace"),
    )


def save_captured(run: AppRun, dest: Path = CAPTURED) -> None:
    """Copy one run's log and truth into captured/ (only when REGENERATE_CAPTURED=1)."""
    dest.mkdir(parents=True, exist_ok=True)
    (dest / f"{run.spec.name}.log").write_bytes(run.log.read_bytes())
    (dest / f"{run.spec.name}.truth.json").write_text(dump_truth(run.truth()), encoding="utf-8")


def wrapper_truth(
    name: str, script: str, versions: dict[str, str], notes: str, answered: list[Answered]
) -> dict[str, Any]:
    """The truth file of a wrapper-library capture (tests/clients/wrappers: Python and Node)."""
    return {
        "library": name,
        "script": script,
        "log_timezone": "Asia/Shanghai",
        "versions": versions,
        "notes": notes,
        "failed_requests": sum(a.is_error for a in answered),
        "answered": [
            {
                "request_id": a.request_id,
                "status": a.status,
                "http_status": a.http_status,
                "code": a.code,
                "wire_code": a.wire_code,
                "streamed": a.streamed,
                "mid_stream": a.mid_stream,
                "is_error": a.is_error,
                "model": a.model,
                "path": a.path,
                "time_utc": datetime.fromtimestamp(a.time, UTC).isoformat(timespec="milliseconds"),
            }
            for a in answered
        ],
    }


def dump_truth(truth: dict[str, Any]) -> str:
    """JSON with one line per call / answered request (readable diffs, small files)."""
    lines = ["{"]
    items = list(truth.items())
    for i, (key, value) in enumerate(items):
        comma = "," if i < len(items) - 1 else ""
        if isinstance(value, list) and value and isinstance(value[0], dict):
            rows = [json.dumps(v, ensure_ascii=False) for v in value]
            lines.append(f' "{key}": [')
            lines.extend(f"  {r}," for r in rows[:-1])
            lines.append(f"  {rows[-1]}")
            lines.append(f" ]{comma}")
        else:
            lines.append(f" {json.dumps(key)}: {json.dumps(value, ensure_ascii=False)}{comma}")
    lines.append("}")
    return "\n".join(lines) + "\n"
