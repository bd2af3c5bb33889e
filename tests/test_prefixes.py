"""Logs pasted from a multiplexer (docker compose, honcho / foreman, kubectl --prefix, stern,
grep, journalctl, aws logs tail) read like the application's own lines: each line keeps its own
time, a multi-line record is grouped within its own stream even when another stream's lines
come between its lines, and line numbers point into the pasted file."""

from __future__ import annotations

import random
import re
import shutil
import subprocess
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest

from ingest import load_events, parallel
from ingest.envelopes import detect
from ingest.records import RecordGrouper

DATA = Path(__file__).resolve().parent / "data" / "prefixes"

# the brief's four lines: a Java SDK failure with its stack frame, and an httpx status line
OPEN = "2024-08-12 10:11:12,345 ERROR [worker-3] com.example.Chat - call failed"
JAVA = (
    'com.alibaba.dashscope.exception.ApiException: {"statusCode":429,"message":"Requests rate'
    ' limit exceeded, please try again later.","code":"Throttling.RateQuota","isJson":true,'
    '"requestId":"aa11bb22-cc33-dd44-ee55-ff6677889900"}'
)
FRAME = (
    "\tat com.alibaba.dashscope.protocol.okhttp.OkHttpHttpClient.handleError"
    "(OkHttpHttpClient.java:123)"
)
HTTPX = (
    "2024-08-12 10:11:13,001 INFO httpx - HTTP Request: POST https://dashscope.aliyuncs.com/"
    'compatible-mode/v1/chat/completions "HTTP/1.1 429 Too Many Requests"'
)
JAVA_LOG = [OPEN, JAVA, FRAME, HTTPX]

COLS = ["timestamp", "status_code", "code", "request_id", "line", "mentions"]


def _events(text: str, name: str = "pasted.log") -> tuple[pd.DataFrame, object]:
    events, report = load_events([(name, text.encode())], tz="Asia/Shanghai", workers=1)
    return events, report.files[0]


def _rows(events: pd.DataFrame) -> list[list[object]]:
    return [
        [None if pd.isna(v) else v for v in row]
        for row in events[COLS].astype(object).values.tolist()
    ]


PREFIXES = {
    "grep -rn": ("logs/app.log:1234:", "grep-n"),
    "grep -r": ("logs/app.log:", "grep"),
    "docker compose v2": ("chat-api-1  | ", "docker-compose"),
    "docker compose v1": ("chat_api_1  | ", "docker-compose"),
    "docker compose, no padding": ("web.1 | ", "docker-compose"),
    "docker compose --timestamps": (
        "chat-api-1  | 2024-08-12T02:11:12.000000000Z ",
        "docker-compose",
    ),
    "honcho / foreman": ("10:11:12 web.1  | ", "procfile-runner"),
    "heroku local (12-hour clock)": ("10:11:12 AM web.1 | ", "procfile-runner"),
    "kubectl logs --prefix": ("[pod/chat-7d9f/app] ", "kubectl-prefix"),
    "kubectl logs --prefix --timestamps": (
        "[pod/chat-7d9f/app] 2024-08-12T02:11:12.123456789Z ",
        "kubectl-prefix",
    ),
    "stern": ("chat-7d9f8b6c5-x2k4p app ", "stern"),
    "stern, coloured": ("\x1b[32mchat-7d9f8b6c5-x2k4p\x1b[0m \x1b[34mapp\x1b[0m ", "stern"),
    "journalctl": ("Aug 12 10:11:12 web-3 java[812]: ", "journald-short"),
    "aws logs tail --format short": ("2024-08-12T02:11:12 ", "aws-logs-tail-short"),
}


@pytest.mark.parametrize("name", list(PREFIXES))
def test_a_prefixed_log_reads_like_the_lines_inside(name: str) -> None:
    """The Java exception inherits the time of the line that opened its record, its frame
    continues the record, and nothing is unparsed: as without the prefix."""
    prefix, envelope = PREFIXES[name]
    plain, plain_report = _events("\n".join(JAVA_LOG) + "\n")
    events, report = _events("".join(prefix + line + "\n" for line in JAVA_LOG))
    assert report.envelope == envelope  # type: ignore[attr-defined]
    assert report.unparsed == 0 == plain_report.unparsed  # type: ignore[attr-defined]
    assert _rows(events) == _rows(plain)
    assert _rows(events) == [
        [
            pd.Timestamp("2024-08-12 10:11:12.345+08:00"),
            429,
            "Throttling.RateQuota",
            "aa11bb22-cc33-dd44-ee55-ff6677889900",
            1,
            1,
        ],
        [pd.Timestamp("2024-08-12 10:11:13.001+08:00"), 429, None, None, 4, 1],
    ]


def test_a_line_without_its_own_time_takes_the_prefix_time_unless_it_continues_a_record() -> None:
    """kubectl --timestamps, compose --timestamps: an application line without a time (print
    output) takes the prefix's; a traceback's frames and exception line do not (they continue
    the record of the line above)."""
    pod = "[pod/chat-7d9f/app] 2024-08-12T02:11:1"
    lines = [
        f"{pod}2.000000000Z chat ok status_code=200"
        " request_id=0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
        f"{pod}3.000000000Z qwen call failed",
        f"{pod}3.000000000Z Traceback (most recent call last):",
        f'{pod}3.000000000Z   File "/app/chat.py", line 9, in ask',
        f"{pod}4.000000000Z openai.RateLimitError: Error code: 429 - {{'error': {{'message':"
        " 'Requests rate limit exceeded, please try again later.', 'type': 'limit_requests',"
        " 'code': 'limit_requests'}, 'request_id': '5e6f7a8b-1c2d-4e3f-9a0b-1c2d3e4f5a6b'}",
    ]
    events, report = _events("\n".join(lines) + "\n")
    assert report.envelope == "kubectl-prefix"  # type: ignore[attr-defined]
    assert report.unparsed == 0  # type: ignore[attr-defined]
    got = events.sort_values("line")
    assert got["request_id"].tolist() == [
        "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
        "5e6f7a8b-1c2d-4e3f-9a0b-1c2d3e4f5a6b",
    ]
    assert got["status_code"].tolist() == [200, 429]
    assert got["code"].tolist()[1] == "Throttling.RateQuota"
    # the traceback is one record from line 2: its time is line 2's, not line 5's
    assert got["line"].tolist() == [1, 2]
    assert [t.tz_convert("UTC").strftime("%H:%M:%S") for t in got["timestamp"]] == [
        "02:11:12",
        "02:11:13",
    ]


# -- interleaved streams ---------------------------------------------------------------------

PY_FAIL = [
    "2026-11-20 10:00:02,000 ERROR app.chat: qwen call failed",
    "Traceback (most recent call last):",
    '  File "/app/chat.py", line 42, in ask',
    "    resp = client.chat.completions.create(model='qwen-plus', messages=messages)",
    "openai.RateLimitError: Error code: 429 - {'error': {'message': 'Requests rate limit"
    " exceeded, please try again later.', 'type': 'limit_requests', 'param': None, 'code':"
    " 'limit_requests'}, 'request_id': '5e6f7a8b-1c2d-4e3f-9a0b-1c2d3e4f5a6b'}",
]


def _ok(k: int) -> str:
    return (
        f"2026-11-20 10:00:0{k},500 INFO worker: chat ok"
        f" request_id=095e5de8-8634-42f4-8417-6130b7a470{k:02d} model=qwen-plus"
    )


def _interleaved(prefix_a: str, prefix_b: str) -> tuple[str, str]:
    """Service A's traceback with a line of service B after each of its lines; and A's lines
    alone (what A's own log says)."""
    out = []
    for k, line in enumerate(PY_FAIL):
        out.append(prefix_a + line)
        out.append(prefix_b + _ok(k))
    return "\n".join(out) + "\n", "\n".join(PY_FAIL) + "\n"


STREAMS = {
    "docker-compose": ("chat-api-1  | ", "worker-1    | "),
    "procfile-runner": ("10:00:02 web.1    | ", "10:00:02 worker.1 | "),
    "kubectl-prefix": ("[pod/chat-7d9f/app] ", "[pod/chat-7d9f/sidecar] "),
    "stern": ("chat-7d9f8b6c5-x2k4p app ", "chat-7d9f8b6c5-q8r2m app "),
    "grep-n": ("logs/chat.log:12:", "logs/worker.log:40:"),
    "journald-short": ("Nov 20 10:00:02 web-3 chat[812]: ", "Nov 20 10:00:02 web-3 worker[813]: "),
}


@pytest.mark.parametrize("kind", list(STREAMS))
def test_a_record_is_grouped_within_its_stream_when_another_streams_lines_interleave(
    kind: str,
) -> None:
    prefix_a, prefix_b = STREAMS[kind]
    text, alone = _interleaved(prefix_a, prefix_b)
    events, report = _events(text)
    assert report.envelope == kind  # type: ignore[attr-defined]
    assert report.unparsed == 0  # type: ignore[attr-defined]
    assert report.lines_read == 2 * len(PY_FAIL)  # type: ignore[attr-defined]
    errors = events[events["is_error"]]
    assert len(errors) == 1
    error = errors.iloc[0]
    assert (error["status_code"], error["code"], error["request_id"]) == (
        429,
        "Throttling.RateQuota",
        "5e6f7a8b-1c2d-4e3f-9a0b-1c2d3e4f5a6b",
    )
    # the record opened on line 1 (its exception is on line 9, past four lines of B)
    assert error["line"] == 1
    assert error["timestamp"] == pd.Timestamp("2026-11-20 10:00:02+08:00")
    # the same outcome as in A's own log
    own, _ = _events(alone)
    assert _rows(errors) == _rows(own)
    # and B's five calls, each on its own line
    oks = events[~events["is_error"]].sort_values("line")
    assert oks["line"].tolist() == [2, 4, 6, 8, 10]
    assert oks["timestamp"].dt.second.tolist() == [0, 1, 2, 3, 4]


def test_a_stream_that_goes_quiet_hands_on_its_record() -> None:
    """A stream's record is kept open while other streams write (it may go on), and handed on
    at the end: nothing is lost, and the lines add up."""
    grouper = RecordGrouper(timestamped=True)
    lines = ["a", "b", "a", "b"]
    text = "\n".join(
        ["2026-11-20 10:00:00 ERROR one", "2026-11-20 10:00:01 INFO two", "  x", "  y"]
    )
    records = [*grouper.feed(text, streams=lines), *grouper.close()]  # type: ignore[arg-type]
    assert [(r.first_line, r.n_lines) for r in records] == [(1, 2), (2, 2)]
    assert records[0].text == "2026-11-20 10:00:00 ERROR one\n  x"


# -- real tools' output ------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["honcho-2.0.0.log", "honcho-2.0.0-tty.log"])
def test_a_real_honcho_capture(name: str) -> None:
    """tests/data/prefixes/honcho/README.md: honcho 2.0.0 running a web process that logs a
    429 with its traceback, line by line, and a worker logging a success every 0.1 s between
    the traceback's lines (the tty capture has honcho's colours and CRLF line ends)."""
    events, report = load_events(str(DATA / name), tz="UTC", workers=1)
    lines = (DATA / name).read_text(encoding="utf-8").splitlines()
    file = report.files[0]
    assert file.envelope == "procfile-runner"
    assert file.unparsed == 0
    assert file.lines_read == len(lines)
    errors = events[events["is_error"]]
    assert len(errors) == 1
    error = errors.iloc[0]
    assert (error["status_code"], error["code"], error["request_id"]) == (
        429,
        "Throttling.RateQuota",
        "5e6f7a8b-1c2d-4e3f-9a0b-1c2d3e4f5a6b",
    )
    # the traceback's lines have the worker's between them: one record, as in web.1's own log
    exception = next(k for k, ln in enumerate(lines) if "openai.RateLimitError: Error" in ln)
    opener = next(k for k, ln in enumerate(lines) if "qwen call failed" in ln)
    assert any("worker.1" in ln for ln in lines[opener:exception])
    # the httpx 429 line of the same attempt is absorbed into it, as in a plain log: the
    # outcome is first mentioned there, with that line's own time
    httpx = next(k for k, ln in enumerate(lines) if "HTTP/1.1 429" in ln)
    assert error["line"] == httpx + 1
    assert error["mentions"] == 2
    stamp = re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}", lines[httpx])
    assert stamp is not None
    assert error["timestamp"] == pd.Timestamp(stamp.group().replace(",", "."), tz="UTC")
    oks = events[~events["is_error"]]
    told = [m.group(1) for m in map(re.compile(r"chat ok request_id=(\S+)").search, lines) if m]
    assert len(told) >= 5
    assert oks["request_id"].tolist() == told
    assert oks["timestamp"].notna().all()


GREP = shutil.which("grep")


def _grep_files(tmp_path: Path) -> Path:
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "chat.log").write_text(
        "\n".join([_ok(0), *PY_FAIL, _ok(1), _ok(2)]) + "\n", encoding="utf-8"
    )
    (logs / "worker-2.log").write_text(
        "\n".join([_ok(3), "2026-11-20 10:00:05,000 DEBUG worker: idle", *JAVA_LOG]) + "\n",
        encoding="utf-8",
    )
    return logs


@pytest.mark.skipif(GREP is None, reason="no grep")
@pytest.mark.parametrize(
    ("args", "envelope"),
    [
        (["-rn", "-A4", "ERROR"], "grep-n"),
        (["-rn", "-B1", "-A4", "ERROR"], "grep-n"),
        (["-rn", "-C4", "ERROR"], "grep-n"),
        (["-rn", "-e", "ERROR", "-e", "Error", "-e", "Exception"], "grep-n"),
        (["-r", "-e", "ERROR", "-e", "Error", "-e", "Exception"], "grep"),
    ],
)
def test_real_grep_output(args: list[str], envelope: str, tmp_path: Path) -> None:
    """grep -rn (with -A/-B/-C context lines and '--' between groups) and grep -r over two
    files: the failures read as in the files themselves."""
    logs = _grep_files(tmp_path)
    out = subprocess.run(
        [str(GREP), *args, "logs"], cwd=tmp_path, capture_output=True, check=True, text=True
    ).stdout
    lines = sorted(out.splitlines(), key=lambda ln: "worker" in ln)  # file order is the FS's
    events, report = _events("\n".join(lines) + "\n", "grep.txt")
    assert report.envelope == envelope  # type: ignore[attr-defined]
    assert report.unparsed == 0  # type: ignore[attr-defined]
    assert events["timestamp"].notna().all()
    # (the httpx 429 after the Java failure is an event of its own, as in the file itself)
    errors = events[events["is_error"] & events["request_id"].notna()].sort_values("line")
    assert errors[["status_code", "code", "request_id"]].astype(object).values.tolist() == [
        [429, "Throttling.RateQuota", "5e6f7a8b-1c2d-4e3f-9a0b-1c2d3e4f5a6b"],
        [429, "Throttling.RateQuota", "aa11bb22-cc33-dd44-ee55-ff6677889900"],
    ]
    assert errors["timestamp"].tolist() == [
        pd.Timestamp("2026-11-20 10:00:02+08:00"),
        pd.Timestamp("2024-08-12 10:11:12.345+08:00"),
    ]
    # line numbers point into the pasted grep output
    for line_no, rid in zip(errors["line"], errors["request_id"], strict=True):
        assert "ERROR" in lines[line_no - 1]
        assert rid in "\n".join(lines[line_no - 1 :])
    both, _ = load_events(str(logs), tz="Asia/Shanghai", workers=1)
    assert set(both["request_id"].dropna()) >= set(errors["request_id"])


def test_journalctl_short_takes_the_year_of_today_and_groups_a_traceback() -> None:
    """journalctl's default output writes no year: it is the latest one that does not put the
    day ahead of today (the current date; a paste has no file time). A traceback written as
    journal lines of its own (each with the prefix) is one record; lines without a time of
    their own take the journal's."""
    day = date.today() - timedelta(days=3)
    stamp = day.strftime("%b %d").replace(" 0", "  ")
    lines = [f"{stamp} 10:00:0{k // 2} web-3 chat[812]: " + ln for k, ln in enumerate(PY_FAIL)]
    lines = [
        "-- Boot 6c1f0e2a9b7d4c3e8f5a1b2c3d4e5f60 --",
        *[ln.replace("2026-11-20 10:00:02,000 ", "") for ln in lines],
    ]
    events, report = _events("\n".join(lines) + "\n")
    assert report.envelope == "journald-short"  # type: ignore[attr-defined]
    assert report.unparsed == 0  # type: ignore[attr-defined]
    assert len(events) == 1
    event = events.iloc[0]
    assert event["request_id"] == "5e6f7a8b-1c2d-4e3f-9a0b-1c2d3e4f5a6b"
    assert event["line"] == 2
    assert event["timestamp"] == pd.Timestamp(f"{day.isoformat()} 10:00:00", tz="Asia/Shanghai")


def test_aws_logs_tail_short_times_are_utc() -> None:
    lines = [
        "2026-11-20T02:00:00 2026-11-20 10:00:00,123 INFO app.chat: chat ok status_code=200"
        " request_id=095e5de8-8634-42f4-8417-6130b7a470bd model=qwen-plus",
        "2026-11-20T02:00:02 qwen call failed status_code=429 code=Throttling.RateQuota"
        " request_id=8c1e4b2a-0b9e-9f2d-a1c3-5e6f7a8b9c0d",
    ]
    events, report = _events("\n".join(lines) + "\n")
    assert report.envelope == "aws-logs-tail-short"  # type: ignore[attr-defined]
    assert events["timestamp"].tolist() == [
        pd.Timestamp("2026-11-20 02:00:00.123", tz="UTC"),
        pd.Timestamp("2026-11-20 02:00:02", tz="UTC"),
    ]


def test_docker_compose_own_lines_are_skipped_and_line_numbers_kept() -> None:
    lines = [  # docker compose up: its progress, then the services' lines
        "[+] Running 2/2",
        " ✔ Network chat_default    Created                                           0.1s",
        " ✔ Container chat-api-1    Created                                           0.1s",
        "Attaching to chat-api-1, worker-1",
        *[f"chat-api-1  | {ln}" for ln in JAVA_LOG],
        "chat-api-1 exited with code 1",
    ]
    events, report = _events("\n".join(lines) + "\n")
    assert report.envelope == "docker-compose"  # type: ignore[attr-defined]
    assert report.unparsed == 0  # type: ignore[attr-defined]
    assert events["line"].tolist() == [5, 8]
    assert events["timestamp"].notna().all()


# -- what is not a prefix ------------------------------------------------------------------------

NOT_PREFIXED = {
    "python logging's default": [
        "ERROR:app.chat:qwen call failed: Error code: 429",
        'INFO:httpx:HTTP Request: POST https://dashscope.aliyuncs.com/ "HTTP/1.1 200 OK"',
    ],
    "exception lines": [
        "openai.RateLimitError: Error code: 429 - {'error': {'code': 'limit_requests'}}",
        "openai.RateLimitError: Error code: 429 - {'error': {'code': 'limit_requests'}}",
    ],
    "a logger name and a colon": ["app.chat: call failed status_code=429", "app.chat: retry"],
    "a level and a bar": ["INFO | chat ok", "ERROR | qwen call failed status_code=429"],
    "loguru": [
        "2026-11-20 10:00:02.000 | ERROR    | app.chat:ask:42 - qwen call failed status_code=429",
        "2026-11-20 10:00:03.000 | INFO     | app.chat:ask:40 - chat ok",
    ],
    "time-only lines": ["10:11:12 ERROR qwen call failed status_code=429", "10:11:13 INFO ok"],
    "time-only lines, an hour apart": ["10:59:59 ERROR call failed", "11:00:00 INFO ok"],
    "ISO dates": ["2026-11-20 10:00:02 ERROR call failed", "2026-11-20 10:00:03 INFO ok"],
    "ISO time, then the message": [
        "2026-11-20T10:00:02 qwen call failed status_code=429",
        "2026-11-20T10:00:03 chat ok",
    ],
    "ISO time, then the level": [
        "2026-11-20T10:00:02 ERROR qwen call failed status_code=429",
        "2026-11-20T10:00:03 INFO chat ok",
    ],
    "lowercase words": ["call-1 failed status=429", "call-2 done ok", "chat-3 started now"],
    "syslog with a level for a host": ["Nov 20 10:00:02 ERROR app: call failed status=429"],
}


@pytest.mark.parametrize("name", list(NOT_PREFIXED))
def test_an_application_log_is_no_multiplexer_output(name: str) -> None:
    assert detect("\n".join(NOT_PREFIXED[name]) + "\n") is None


def test_iso_naive_application_times_stay_in_the_given_zone() -> None:
    """Without a second time after it, a bare ISO time is the application's (read in --tz),
    not `aws logs tail --format short`'s UTC."""
    events, report = _events("\n".join(NOT_PREFIXED["ISO time, then the message"]) + "\n")
    assert report.envelope is None  # type: ignore[attr-defined]
    assert events["timestamp"].iloc[0] == pd.Timestamp("2026-11-20 10:00:02+08:00")


# -- byte ranges -----------------------------------------------------------------------------------


def _compose_log(path: Path, bursts: int, seed: int = 5) -> Path:
    """Two compose services: the API's tracebacks with the worker's lines between their lines."""
    rng = random.Random(seed)
    out = []
    for b in range(bursts):
        hh, mm, ss = 10 + b // 3600 % 10, b // 60 % 60, b % 60
        stamp = f"2026-11-20 {hh:02d}:{mm:02d}:{ss:02d}"
        rid = f"5e6f7a8b-1c2d-4e3f-9a0b-{b:012d}"
        fail = [
            f"{stamp},000 ERROR app.chat: qwen call failed",
            *PY_FAIL[1:4],
            PY_FAIL[4].replace("5e6f7a8b-1c2d-4e3f-9a0b-1c2d3e4f5a6b", rid),
        ]
        for k in range(rng.randint(3, 12)):
            out.append(
                f"worker-1    | {stamp},{k:03d} INFO worker: chat ok"
                f" request_id=095e5de8-8634-42f4-{b % 10000:04d}-{k:012d} model=qwen-plus"
            )
            if b % 4 == 0 and k < len(fail):
                out.append(f"chat-api-1  | {fail[k]}")
        if b % 4 == 0:
            out.extend(f"chat-api-1  | {line}" for line in fail[k + 1 :])
    path.write_text("\n".join(out) + "\n", encoding="utf-8")
    return path


def test_two_processes_give_the_events_of_one_on_a_prefixed_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(parallel, "PARALLEL_MIN_BYTES", 1)
    monkeypatch.setattr(parallel, "_ranges_per_worker", lambda: 4)
    path = _compose_log(tmp_path / "compose.log", 2000)
    assert len(parallel.plan_ranges(str(path), 8)) > 1  # it is split
    one, r1 = load_events(str(path), workers=1)
    many, r2 = load_events(str(path), workers=2)
    pd.testing.assert_frame_equal(
        one.reset_index(drop=True), many.reset_index(drop=True), check_categorical=False
    )
    a, b = r1.files[0], r2.files[0]
    assert a.envelope == b.envelope == "docker-compose"
    assert (a.lines_read, a.lines_in_events, a.ignored, a.unparsed) == (
        b.lines_read,
        b.lines_in_events,
        b.ignored,
        b.unparsed,
    )
    assert a.unparsed == 0
    errors = one[one["is_error"]]
    assert len(errors) == 500  # every fourth burst's traceback, each one record
    assert errors["code"].eq("Throttling.RateQuota").all()
    assert errors["timestamp"].notna().all()


def _services(path: Path, whole: bool) -> Path:
    """Two compose services taking turns: whole records (tracebacks in one piece), or the
    API's tracebacks with the worker's lines between their lines."""
    out = []
    for b in range(300):
        stamp = f"2026-11-20 10:{b // 60:02d}:{b % 60:02d}"
        out.append(f"worker-1    | {_ok(b % 10).replace('2026-11-20 10:00:0', stamp + ',5')}")
        if b % 3 == 0:
            rid = f"5e6f7a8b-1c2d-4e3f-9a0b-{b:012d}"
            fail = [f"{stamp},000 ERROR app.chat: qwen call failed", *PY_FAIL[1:]]
            fail[-1] = fail[-1].replace("5e6f7a8b-1c2d-4e3f-9a0b-1c2d3e4f5a6b", rid)
            for k, line in enumerate(fail):
                out.append(f"chat-api-1  | {line}")
                if not whole and k == 2:
                    out.append(f"worker-1    | {stamp},900 INFO worker: idle")
    path.write_text("\n".join(out) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("whole", [True, False], ids=["whole records", "interleaved records"])
def test_the_fast_lane_reads_streams_that_take_turns_by_whole_records(
    whole: bool, tmp_path: Path
) -> None:
    """Streams that interleave whole records group as a plain log does: the fast lane takes
    them, with the events of the grouping per stream; records interleaved line by line are
    grouped per stream, by the grouper alone."""
    from test_fastlane import assert_same

    path = _services(tmp_path / "compose.log", whole)
    fast_lines = assert_same(path)
    assert (fast_lines > 200) if whole else (fast_lines == 0)
    events, report = load_events(str(path), workers=1)
    assert report.files[0].unparsed == 0
    errors = events[events["is_error"]]
    assert len(errors) == 100
    assert errors["code"].eq("Throttling.RateQuota").all()
    assert errors["request_id"].nunique() == 100


@pytest.mark.skipif(GREP is None, reason="no grep")
@pytest.mark.parametrize("args", [["-n", "-A4"], ["-n", "-B1", "-A4"], ["-n", "-C4"]])
def test_real_grep_n_over_one_file(args: list[str], tmp_path: Path) -> None:
    """grep -n over one file writes no path: 'N:line', 'N-line' and '--'."""
    _grep_files(tmp_path)
    out = subprocess.run(
        [str(GREP), *args, "ERROR", "logs/chat.log"],
        cwd=tmp_path,
        capture_output=True,
        check=True,
        text=True,
    ).stdout
    assert out.split(":", 1)[0].split("-", 1)[0].isdigit()
    events, report = _events(out, "grep.txt")
    assert report.envelope == "grep-n-one-file"  # type: ignore[attr-defined]
    assert report.unparsed == 0  # type: ignore[attr-defined]
    errors = events[events["is_error"]]
    assert errors[["status_code", "code", "request_id"]].astype(object).values.tolist() == [
        [429, "Throttling.RateQuota", "5e6f7a8b-1c2d-4e3f-9a0b-1c2d3e4f5a6b"]
    ]
    assert errors["timestamp"].tolist() == [pd.Timestamp("2026-11-20 10:00:02+08:00")]
    assert "ERROR" in out.splitlines()[errors["line"].iloc[0] - 1]


@pytest.mark.parametrize(
    ("prefix", "envelope"),
    [
        ("Nov 20 10:00:02 web-3 chat[812]: ", "journald-short"),
        ("2026-11-20T10:00:02+0800 web-3 chat[812]: ", "journald-short-iso"),
    ],
)
def test_a_multi_line_journal_message_is_one_record(prefix: str, envelope: str) -> None:
    """journalctl writes the further lines of one multi-line message indented under its first
    (systemd's print_multiline): they continue its record, beside single-line entries."""
    pad = " " * len(prefix)
    lines = [
        prefix + _ok(0).replace("10:00:00", "10:00:01"),
        prefix + PY_FAIL[0],
        *[pad + line for line in PY_FAIL[1:]],
        prefix + _ok(3),
    ]
    events, report = _events("\n".join(lines) + "\n")
    assert report.envelope == envelope  # type: ignore[attr-defined]
    assert report.unparsed == 0  # type: ignore[attr-defined]
    errors = events[events["is_error"]]
    assert errors[["status_code", "code", "request_id", "line"]].astype(object).values.tolist() == [
        [429, "Throttling.RateQuota", "5e6f7a8b-1c2d-4e3f-9a0b-1c2d3e4f5a6b", 2]
    ]
    assert errors["timestamp"].dt.second.tolist() == [2]
    assert len(events) == 3


def test_indented_lines_alone_are_no_journal() -> None:
    assert detect("    at foo\n    at bar\n") is None


def _mixed_services(path: Path, seed: int, n: int = 3000) -> Path:
    """Three services in a random mix: whole tracebacks, tracebacks with other services'
    lines between their lines, print output without a time, blank lines."""
    rng = random.Random(seed)
    names = ["chat-api-1  | ", "worker-1    | ", "batch-1     | "]
    out: list[str] = []
    open_tb: dict[str, list[str]] = {}
    for b in range(n):
        stamp = f"2026-11-20 1{b // 3600 % 10}:{b // 60 % 60:02d}:{b % 60:02d}"
        name = rng.choice(names)
        if name in open_tb and rng.random() < 0.7:
            out.append(name + open_tb[name].pop(0))
            if not open_tb[name]:
                del open_tb[name]
            continue
        roll = rng.random()
        if roll < 0.04 and name not in open_tb:
            rid = f"5e6f7a8b-1c2d-4e3f-9a0b-{seed:04d}{b:08d}"
            fail = [f"{stamp},000 ERROR app.chat: qwen call failed", *PY_FAIL[1:]]
            fail[-1] = fail[-1].replace("5e6f7a8b-1c2d-4e3f-9a0b-1c2d3e4f5a6b", rid)
            out.append(name + fail[0])
            if b > n // 2:  # the second half: tracebacks written in one piece
                out.extend(name + line for line in fail[1:])
            else:
                open_tb[name] = fail[1:]
        elif roll < 0.06:
            out.append(name + "print output without a time, status_code=429")
        elif roll < 0.07:
            out.append("")
        else:
            out.append(name + _ok(b % 10).replace("2026-11-20 10:00:0", stamp + f",{b % 9}"))
    path.write_text("\n".join(out) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("seed", range(4))
def test_runs_of_streams_that_group_alike_take_the_fast_lane_with_the_same_events(
    seed: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A chunk where some records interleave line by line and others are whole: the whole
    stretches go through the fast lane, the rest per stream, with the events of reading it
    all per stream."""
    from test_fastlane import assert_same

    import ingest.records

    monkeypatch.setattr(ingest.records, "MIN_FAST_RUN", 200)
    path = _mixed_services(tmp_path / "compose.log", seed)
    lines = len(path.read_text(encoding="utf-8").splitlines())
    fast_lines = assert_same(path)
    assert 0 < fast_lines < lines


def test_a_byte_range_reads_the_envelope_of_the_files_head(tmp_path: Path) -> None:
    """A byte range (ingest.parallel, ingest.store's segments) whose own first lines lack
    the evidence a weak prefix needs (`aws logs tail --format short`: an application's own
    time after the bare UTC time) is read in the envelope of the file's head."""
    head = (
        "2026-11-20T02:00:00 2026-11-20 10:00:00,123 INFO app.chat: chat ok status_code=200"
        " request_id=095e5de8-8634-42f4-8417-6130b7a470bd model=qwen-plus\n"
    )
    tail = (
        "2026-11-20T02:00:02 qwen call failed status_code=429 code=Throttling.RateQuota"
        " request_id=8c1e4b2a-0b9e-9f2d-a1c3-5e6f7a8b9c0d\n"
    )
    path = tmp_path / "tail.log"
    path.write_text(head + tail, encoding="utf-8")
    start = len(head.encode())
    frame, report, _lines, _prints = parallel._parse_range(
        str(path),
        start,
        start + len(tail.encode()),
        fmt=None,
        tz="Asia/Shanghai",
        encoding="utf-8",
        timestamped=True,
    )
    assert report.envelope == "aws-logs-tail-short"
    assert frame["timestamp"].tolist() == [pd.Timestamp("2026-11-20 02:00:02", tz="UTC")]
