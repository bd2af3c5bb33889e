"""`dashscope-logs watch` end to end: a subprocess follows temporary logs that grow and rotate,
a loopback HTTP receiver checks that each alert arrives exactly once, in every webhook format."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

SECRET = "SEC-test-secret"
CLI = "from ingest.cli import main; main()"
HTTPX_429 = (
    "{ts} - httpx - INFO - HTTP Request: POST https://dashscope.aliyuncs.com/compatible-mode/v1/"
    'chat/completions "HTTP/1.1 429 Too Many Requests"'
)
OK = "{ts} INFO app.chat: call ok request_id={rid} model=qwen-plus latency_ms=900"
NEW_CODE = (
    '{ts} ERROR app.chat: Generation.call failed model=qwen-max: {{"status_code": 400, '
    '"request_id": "{rid}", "code": "DataInspectionFailed", "message": "Input data may contain '
    'inappropriate content.", "output": null, "usage": null}}'
)

RULES = """
[[rule]]
name = "error-rate"
type = "error_rate"
threshold = 50
window = "5m"
min_calls = 14  # reached only with the lines written after the rotation
severity = "warning"
cooldown = "1h"
resolve_after = "3s"

[[rule]]
name = "new-code"
type = "new_code"
severity = "info"
"""


class Receiver:
    """A webhook endpoint on 127.0.0.1: records every POST (path, query, JSON body)."""

    def __init__(self) -> None:
        self.posts: list[dict[str, Any]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                n = int(self.headers.get("Content-Length", "0"))
                body = json.loads(self.rfile.read(n))
                url = urllib.parse.urlsplit(self.path)
                outer.posts.append(
                    {"path": url.path, "query": urllib.parse.parse_qs(url.query), "body": body}
                )
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"errcode": 0, "errmsg": "ok"}')

            def log_message(self, *_args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


def _ts() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S,%f")[:-3]


def _write(path: Path, lines: list[str]) -> None:
    with path.open("a", encoding="utf-8") as fh:
        for line in lines:
            fh.write(line + "\n")


def _start(tmp: Path, log: Path, hook: str, kind: str, *extra: str) -> subprocess.Popen[str]:
    argv = [
        sys.executable,
        "-c",
        CLI,
        "watch",
        str(log),
        "--rules",
        str(tmp / "rules.toml"),
        "--state",
        str(tmp / "state"),
        "--webhook",
        hook,
        "--webhook-type",
        kind,
        "--secret",
        SECRET,
        "--interval",
        "0.2",
        "--tz",
        "UTC",
        *extra,
    ]
    proc = subprocess.Popen(argv, stderr=subprocess.PIPE, text=True, cwd=tmp)
    _wait((tmp / "state" / "state.json").exists, 60)
    return proc


def _stop(proc: subprocess.Popen[str]) -> str:
    proc.send_signal(signal.SIGTERM)
    _out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    return err


def _wait(cond: Any, timeout: float) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return
        time.sleep(0.1)
    raise AssertionError("timed out waiting")


def _text_of(kind: str, body: dict[str, Any]) -> str:
    if kind == "json":
        return str(body["text"])
    if kind in ("dingtalk", "wecom"):
        md = body["markdown"]
        return str(md.get("text") or md.get("content"))
    if kind == "feishu":
        return json.dumps(body["card"], ensure_ascii=False)
    return str(body["text"]) + json.dumps(body["blocks"])


def _check_signature(kind: str, post: dict[str, Any]) -> None:
    if kind == "dingtalk":
        ts = post["query"]["timestamp"][0]
        sign = post["query"]["sign"][0]  # parse_qs already url-decoded it
        digest = hmac.new(SECRET.encode(), f"{ts}\n{SECRET}".encode(), hashlib.sha256).digest()
        assert sign == base64.b64encode(digest).decode()
        assert abs(int(ts) / 1000 - time.time()) < 600
        assert post["body"]["msgtype"] == "markdown"
    elif kind == "feishu":
        body = post["body"]
        key = f"{body['timestamp']}\n{SECRET}".encode()
        assert (
            body["sign"] == base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()
        )
        assert body["msg_type"] == "interactive"
    elif kind == "wecom":
        assert post["body"]["msgtype"] == "markdown"
    elif kind == "slack":
        assert set(post["body"]) == {"text", "blocks"}
    else:
        assert post["body"]["rule"] in ("error-rate", "new-code")


@pytest.mark.parametrize("kind", ["json", "dingtalk", "feishu", "wecom", "slack"])
def test_watch_alerts_once_through_rotation_and_restart(
    tmp_path: Path, receiver: Receiver, kind: str
) -> None:
    (tmp_path / "rules.toml").write_text(RULES, encoding="utf-8")
    log = tmp_path / "app.log"
    _write(log, [OK.format(ts=_ts(), rid=f"ok-{i}") for i in range(3)])  # before: not re-read
    hook = f"{receiver.url}/hook/{kind}?access_token=abc"
    proc = _start(tmp_path, log, hook, kind)
    try:
        # a storm of 429s: 12 failures among 16 calls, half before the rotation, half after
        _write(log, [OK.format(ts=_ts(), rid=f"a-{i}") for i in range(4)])
        _write(log, [HTTPX_429.format(ts=_ts()) for _ in range(6)])
        time.sleep(0.6)
        log.rename(tmp_path / "app.log.1")
        _write(log, [HTTPX_429.format(ts=_ts()) for _ in range(6)])
        _wait(lambda: any("Error rate" in _text_of(kind, p["body"]) for p in receiver.posts), 60)
        time.sleep(0.8)
    finally:
        err = _stop(proc)
    firing = [p for p in receiver.posts if "Error rate" in _text_of(kind, p["body"])]
    assert len(firing) == 1, (receiver.posts, err)
    assert "75%" in _text_of(kind, firing[0]["body"])  # 12 of 16 calls
    assert "12 of 16" in _text_of(kind, firing[0]["body"])
    for post in receiver.posts:
        assert post["path"] == f"/hook/{kind}"
        _check_signature(kind, post)

    # restart: a line written while stopped arrives once; nothing already sent comes again
    before = len(receiver.posts)
    _write(log, [NEW_CODE.format(ts=_ts(), rid="11111111-2222-3333-4444-555555555555")])
    proc = _start(tmp_path, log, hook, kind)
    try:
        _wait(lambda: len(receiver.posts) > before, 60)
        time.sleep(1.0)
    finally:
        _stop(proc)
    new = receiver.posts[before:]
    texts = [_text_of(kind, p["body"]) for p in new]
    assert sum("DataInspectionFailed" in t for t in texts) == 1, texts
    assert not any("Error rate" in t and "Resolved" not in t for t in texts), texts

    log_lines = (tmp_path / "state" / "alerts.jsonl").read_text(encoding="utf-8").splitlines()
    records = [json.loads(x) for x in log_lines]
    assert [r["rule"] for r in records if r["kind"] == "firing"].count("error-rate") == 1
    assert all(d["ok"] for r in records for d in r["deliveries"])
    assert all("access_token" not in d["url"] for r in records for d in r["deliveries"])


def test_watch_rejects_a_bad_rules_file(tmp_path: Path) -> None:
    rules = tmp_path / "rules.toml"
    rules.write_text('[[rule]]\nname = "x"\ntype = "error_rate"\nthreshold = "lots"\n')
    log = tmp_path / "app.log"
    log.write_text("")
    proc = subprocess.run(
        [sys.executable, "-c", CLI, "watch", str(log), "--rules", str(rules), "--once"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ},
        check=False,
    )
    assert proc.returncode == 1
    assert f"{rules}:4: rule 'x': threshold must be a non-negative number" in proc.stderr
