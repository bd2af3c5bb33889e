"""Lines inside a shipper's envelope (docker, containerd, SLS, journald, Filebeat) parse as the
lines themselves, one line for one line."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from ingest import load_events
from ingest.envelopes import detect, envelopes

LINES = [
    "2026-11-20 10:00:00,123 INFO httpx: HTTP Request: POST https://dashscope.aliyuncs.com/"
    'compatible-mode/v1/chat/completions "HTTP/1.1 429 Too Many Requests"',
    "2026-11-20 10:00:00,130 INFO openai._base_client: Retrying request to /chat/completions"
    " in 0.422000 seconds",
    "2026-11-20 10:00:01,200 INFO httpx: HTTP Request: POST https://dashscope.aliyuncs.com/"
    'compatible-mode/v1/chat/completions "HTTP/1.1 200 OK"',
    "2026-11-20 10:00:02,000 ERROR app: call failed",
    "Traceback (most recent call last):",
    '  File "/app/chat.py", line 42, in ask',
    "openai.RateLimitError: Error code: 429 - {'error': {'message': 'Requests rate limit"
    " exceeded, please try again later.', 'type': 'limit_requests', 'param': None, 'code':"
    " 'limit_requests'}, 'request_id': '5e6f7a8b-1c2d-4e3f-9a0b-1c2d3e4f5a6b'}",
]


def _wrap(kind: str, k: int, line: str) -> str:
    t = f"2026-11-20T02:00:0{k}.123456789Z"
    if kind == "docker-json":
        return json.dumps({"log": line + "\n", "stream": "stderr", "time": t})
    if kind == "cri":
        return f"{t} stderr F {line}"
    if kind == "sls-export":
        return json.dumps(
            {"__time__": str(1795140000 + k), "__source__": "10.0.0.1", "content": line}
        )
    if kind == "journald-json":
        return json.dumps({"__REALTIME_TIMESTAMP": str((1795140000 + k) * 10**6), "MESSAGE": line})
    return json.dumps({"@timestamp": t, "ecs": {"version": "8"}, "message": line})


KINDS = [e.name for e in envelopes()]


def _frame(text: str) -> tuple[pd.DataFrame, object]:
    events, report = load_events([("app.log", text.encode())], tz="Asia/Shanghai")
    cols = ["status_code", "code", "request_id", "line", "mentions", "timestamp"]
    return events[cols].reset_index(drop=True), report


@pytest.mark.parametrize("kind", KINDS)
def test_an_envelope_parses_like_the_lines_inside(kind: str) -> None:
    plain, _ = _frame("\n".join(LINES) + "\n")
    wrapped, report = _frame("\n".join(_wrap(kind, k, ln) for k, ln in enumerate(LINES)) + "\n")
    assert report.files[0].envelope == kind  # type: ignore[attr-defined]
    pd.testing.assert_frame_equal(wrapped, plain)
    assert plain["status_code"].tolist() == [429, 200, 429]


def test_an_application_json_log_is_not_an_envelope() -> None:
    line = json.dumps(
        {"@timestamp": "2026-11-20T02:00:00Z", "message": "call failed", "status_code": 429}
    )
    assert detect(line + "\n" + line + "\n") is None
    events, report = load_events([("app.jsonl", (line + "\n").encode())])
    assert report.files[0].envelope is None
    assert events["status_code"].tolist() == [429]


def test_a_mixed_head_is_not_unwrapped() -> None:
    docker = _wrap("docker-json", 0, LINES[0])
    assert detect(docker + "\n" + LINES[1] + "\n") is None


def test_a_big_envelope_file_takes_the_fast_lane_and_gives_the_same_events(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from test_fastlane import assert_same

    lines = []
    for k in range(3000):
        status = "429" if k % 10 == 0 else "200"
        lines.append(
            f"2026-11-20 10:{k // 60 % 60:02d}:{k % 60:02d},{k % 1000:03d} INFO llm:"
            f" status_code={status} request_id=9d0e1f2a-3b4c-4d5e-8f6a-{k:012d} model=qwen-max"
        )
    path = tmp_path / "docker.log"
    path.write_text("\n".join(_wrap("docker-json", 0, ln) for ln in lines) + "\n", "utf-8")
    assert assert_same(path) > 2500  # most lines went the fast way, with the same result


def _coloured(line: str) -> str:
    """The line as loguru or colorlog print it on a terminal: time, level and logger coloured."""
    if not line[:1].isdigit():
        return f"\x1b[31m{line}\x1b[0m"
    stamp, rest = line[:23], line[24:]
    level, _, tail = rest.partition(" ")
    return f"\x1b[32m{stamp}\x1b[0m \x1b[1m\x1b[31m{level}\x1b[0m \x1b[36m{tail}\x1b[0m"


@pytest.mark.parametrize("caret", [False, True], ids=["escape", "cat -v"])
def test_terminal_colours_are_no_part_of_the_lines(caret: bool) -> None:
    """A log captured from a terminal (or pasted with its colour codes) parses like the plain
    one: the codes before a timestamp hid it, and the records were not grouped."""
    plain, _ = _frame("\n".join(LINES) + "\n")
    text = "\n".join(_coloured(ln) for ln in LINES) + "\n"
    if caret:
        text = text.replace("\x1b", "^[")
    coloured, _report = _frame(text)
    pd.testing.assert_frame_equal(coloured, plain)
    assert coloured["timestamp"].notna().all()
