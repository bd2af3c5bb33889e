"""Lines inside a shipper's envelope (docker, containerd, SLS, journald, Filebeat) parse as the
lines themselves, one line for one line."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pandas as pd
import pytest

from ingest import load_events
from ingest.envelopes import detect, envelopes
from ingest.sources import iter_sources

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
    if kind == "rfc3339nano-prefix":  # kubectl logs --timestamps, docker logs -t
        return f"{t} {line}"
    if kind == "loki-logcli":  # logcli trims the line: see test_loki_logcli_output
        return f'2026-11-20T10:00:0{k}+08:00 {{app="chat", pod="chat-7d9f"}} {line}'
    if kind == "journald-short-iso":
        return f"2026-11-20T10:00:0{k}+0800 web-3 chat[812]: {line}"
    if kind == "aws-logs-tail":
        return f"2026-11-20T02:00:0{k}.123000+00:00 ecs/chat/4f1c9e0a {line}"
    # multiplexers (one stream here; several in tests/test_prefixes.py)
    if kind == "docker-compose":
        return f"chat-api-1  | {line}"
    if kind == "procfile-runner":
        return f"10:00:0{k} web.1    | {line}"
    if kind == "kubectl-prefix":
        return f"[pod/chat-7d9f8b6c5-x2k4p/app] {t} {line}"
    if kind == "stern":
        return f"chat-7d9f8b6c5-x2k4p app {line}"
    if kind == "grep-n":
        return f"logs/app.log:{k + 1}:{line}"
    if kind == "grep":
        return f"logs/app.log:{line}"
    if kind == "grep-n-one-file":
        return f"{k + 101}{':' if k == 3 else '-'}{line}"  # grep -n -B3 -A3 ERROR app.log
    if kind == "journald-short":
        return f"Nov 20 10:00:0{k} web-3 chat[812]: {line}"
    if kind == "aws-logs-tail-short":
        return f"2026-11-20T02:00:0{k} {line}"
    if kind == "gcp-logging-text":
        return json.dumps(
            {
                "insertId": f"k3l9x{k}",
                "textPayload": line,
                "resource": {"type": "k8s_container", "labels": {"cluster_name": "prod"}},
                "timestamp": t,
                "severity": "ERROR",
                "logName": "projects/chat-prod/logs/stderr",
            }
        )
    return json.dumps({"@timestamp": t, "ecs": {"version": "8"}, "message": line})


def _frame(text: str) -> tuple[pd.DataFrame, object]:
    events, report = load_events([("app.log", text.encode())], tz="Asia/Shanghai")
    cols = ["status_code", "code", "request_id", "line", "mentions", "timestamp"]
    return events[cols].reset_index(drop=True), report


# logcli trims lines, a CSV has a header row, a JSON document is one: their own tests below
@pytest.mark.parametrize(
    "kind",
    [e.name for e in envelopes() if not (e.csv or e.document) and e.name != "loki-logcli"],
)
def test_an_envelope_parses_like_the_lines_inside(kind: str) -> None:
    plain, _ = _frame("\n".join(LINES) + "\n")
    wrapped, report = _frame("\n".join(_wrap(kind, k, ln) for k, ln in enumerate(LINES)) + "\n")
    assert report.files[0].envelope == kind  # type: ignore[attr-defined]
    pd.testing.assert_frame_equal(wrapped, plain)
    assert plain["status_code"].tolist() == [429, 200, 429]


# what users export from log platforms (one success and one DashScope failure line in each)
OK = (
    "2026-11-20 10:00:00,123 INFO app.chat: chat ok status_code=200"
    " request_id=095e5de8-8634-42f4-8417-6130b7a470bd model=qwen-plus"
)
FAIL = (
    "2026-11-20 10:00:02,000 ERROR app.chat: qwen call failed: openai.RateLimitError: Error"
    " code: 429 - {'error': {'message': 'Requests rate limit exceeded, please try again later.',"
    " 'type': 'limit_requests', 'param': None, 'code': 'limit_requests'}, 'request_id':"
    " '8c1e4b2a-0b9e-9f2d-a1c3-5e6f7a8b9c0d'}"
)
EXPORTS = {
    # name: (the two lines as the platform gives them, the envelope unwrapped)
    "kubectl logs --timestamps": (
        f"2026-11-20T02:00:00.123000000Z {OK}\n2026-11-20T02:00:02.000000000Z {FAIL}\n",
        "rfc3339nano-prefix",
    ),
    "docker logs -t": (
        f"2026-11-20T02:00:00.123456789Z {OK}\n2026-11-20T02:00:02.000111222Z {FAIL}\n",
        "rfc3339nano-prefix",
    ),
    "aws logs tail": (
        f"2026-11-20T02:00:00.123000+00:00 ecs/chat/4f1c9e0a {OK}\n"
        f"2026-11-20T02:00:02+00:00 ecs/chat/4f1c9e0a {FAIL}\n",
        "aws-logs-tail",
    ),
    "logcli query": (  # newest first, as logcli prints by default
        f'2026-11-20T10:00:02+08:00 {{app="chat"}}          {FAIL}\n'
        f'2026-11-20T10:00:00+08:00 {{app="chat", pod="x"}} {OK}\n',
        "loki-logcli",
    ),
    "journalctl -o short-iso (systemd < 250)": (
        "-- Logs begin at Fri 2026-11-20 09:58:01 CST, end at Fri 2026-11-20 10:20:00 CST. --\n"
        f"2026-11-20T10:00:00+0800 web-3 chat[812]: {OK}\n"
        "-- Boot 6c1f0e2a9b7d4c3e8f5a1b2c3d4e5f60 --\n"
        f"2026-11-20T10:00:02+0800 web-3 chat[812]: {FAIL}\n",
        "journald-short-iso",
    ),
    "journalctl -o short-iso-precise": (
        f"2026-11-20T10:00:00.123456+08:00 web-3 chat[812]: {OK}\n"
        f"2026-11-20T10:00:02.000001+08:00 web-3 chat[812]: {FAIL}\n",
        "journald-short-iso",
    ),
    "GCP Cloud Logging textPayload": (
        "".join(_wrap("gcp-logging-text", 0, ln) + "\n" for ln in (OK, FAIL)),
        "gcp-logging-text",
    ),
    # jsonPayload: the application's own JSON (a record whole in its message): read as it is
    "GCP Cloud Logging jsonPayload.message": (
        "".join(
            json.dumps(
                {
                    "insertId": "k3l9x",
                    "jsonPayload": {"message": ln, "python_logger": "app.chat"},
                    "timestamp": ts,
                    "logName": "projects/chat-prod/logs/python",
                }
            )
            + "\n"
            for ts, ln in (("2026-11-20T02:00:00.123Z", OK), ("2026-11-20T02:00:02Z", FAIL))
        ),
        None,
    ),
}


def _csv(header: list[str], rows: list[list[str]], newline: str = "\n") -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator=newline).writerows([header, *rows])
    return out.getvalue()


EXPORTS["SLS console CSV download"] = (
    _csv(
        ["__source__", "__tag__:__hostname__", "__time__", "__topic__", "content"],
        [["10.0.3.7", "web-3", str(1795140000 + 2 * k), "", ln] for k, ln in enumerate((OK, FAIL))],
    ),
    "sls-console-csv",
)
EXPORTS["Kibana CSV export"] = (
    _csv(
        ["@timestamp", "host.name", "log.file.path", "message"],
        [
            [f"Nov 20, 2026 @ 10:00:0{2 * k}.000", "web-3", "/var/log/chat/app.log", ln]
            for k, ln in enumerate((OK, FAIL))
        ],
        "\r\n",
    ),
    "kibana-csv",
)


def _cloudwatch(lines: list[str]) -> str:
    """`aws logs filter-log-events --output json`: the events in a pretty-printed document."""
    events = [
        {
            "logStreamName": "ecs/chat/4f1c9e0a",
            "timestamp": 1795140000000 + 1000 * k,
            "message": ln,
            "ingestionTime": 1795140000400 + 1000 * k,
            "eventId": f"3792{k}",
        }
        for k, ln in enumerate(lines)
    ]
    return json.dumps({"events": events, "searchedLogStreams": []}, indent=4) + "\n"


def _gcloud(lines: list[str], payload: str) -> str:
    """`gcloud logging read --format=json`: newest first, keys sorted, 2-space indents."""
    entries = [
        {
            "insertId": f"k3l9x{k}",
            **({"jsonPayload": {"message": ln}} if payload == "json" else {"textPayload": ln}),
            "logName": "projects/chat-prod/logs/stderr",
            "receiveTimestamp": f"2026-11-20T02:00:0{k}.5Z",
            "resource": {"labels": {"cluster_name": "prod"}, "type": "k8s_container"},
            "timestamp": f"2026-11-20T02:00:0{k}.123456789Z",
        }
        for k, ln in enumerate(lines)
    ]
    return json.dumps(entries[::-1], indent=2, sort_keys=True) + "\n"


EXPORTS["aws logs filter-log-events --output json"] = (
    _cloudwatch([OK, FAIL]),
    "cloudwatch-json",
)
EXPORTS["gcloud logging read --format=json (textPayload)"] = (
    _gcloud([OK, FAIL], "text"),
    "gcloud-json-text",
)
EXPORTS["gcloud logging read --format=json (jsonPayload)"] = (
    _gcloud([OK, FAIL], "json"),
    "gcloud-json-message",
)


def test_cloudwatch_events_parse_like_the_lines_inside() -> None:
    """A traceback's lines are separate CloudWatch events: they still make one record."""
    plain, _ = _frame("\n".join(LINES) + "\n")
    wrapped, report = _frame(_cloudwatch(LINES))
    assert report.files[0].envelope == "cloudwatch-json"  # type: ignore[attr-defined]
    cols = ["status_code", "code", "request_id", "timestamp"]
    pd.testing.assert_frame_equal(wrapped[cols], plain[cols])
    untimed = [ln.split(" ", 2)[2] for ln in LINES[:3]]  # the events' times then
    events, _ = _frame(_cloudwatch(untimed))
    assert events["timestamp"].dt.second.tolist() == [0, 2]


@pytest.mark.parametrize("name", list(EXPORTS))
def test_a_log_platform_export_reads_with_time_status_code_and_request_id(name: str) -> None:
    text, envelope = EXPORTS[name]
    events, report = load_events([("export.log", text.encode())], tz="Asia/Shanghai")
    assert report.files[0].envelope == envelope  # type: ignore[attr-defined]
    events = events.sort_values("timestamp").reset_index(drop=True)
    got = [
        [None if pd.isna(v) else v for v in row]
        for row in events[["status_code", "code", "request_id"]].astype(object).values.tolist()
    ]
    assert got == [
        [200, None, "095e5de8-8634-42f4-8417-6130b7a470bd"],
        [429, "Throttling.RateQuota", "8c1e4b2a-0b9e-9f2d-a1c3-5e6f7a8b9c0d"],
    ]
    assert events["model"].tolist()[0] == "qwen-plus"
    stamps = [t.tz_convert("UTC").isoformat() for t in events["timestamp"]]
    assert stamps[0][:19] == "2026-11-20T02:00:00"
    assert stamps[1][:19] == "2026-11-20T02:00:02"


def test_an_application_iso_time_and_level_is_no_stream_or_host_name() -> None:
    """`aws logs tail` puts a stream name after the time, journalctl a host; an application
    that writes an isoformat time and then its level must not lose the level to them."""
    line = "2026-11-20T02:00:02.000000+00:00 ERROR app.chat: qwen call failed status_code=429"
    assert detect(line + "\n" + line + "\n") is None  # nor a journald host and identifier
    line9 = "2026-11-20T02:00:02.000111222Z ERROR app.chat: qwen call failed status_code=429"
    env = detect(line9 + "\n")
    assert env is not None
    assert env.unwrap(line9) == line9


def test_loki_logcli_output() -> None:
    """logcli trims each line (a traceback's frames lose their indent) and prints newest
    first: single-line records read right; a traceback needs `logcli query --forward`, and its
    frames still start new records (their exception line is found, the ERROR line above is
    apart)."""
    wrapped = "\n".join(_wrap("loki-logcli", k, ln.strip()) for k, ln in enumerate(LINES))
    events, report = load_events([("loki.log", wrapped.encode())])
    assert report.files[0].envelope == "loki-logcli"  # type: ignore[attr-defined]
    assert events["status_code"].tolist() == [429, 200, 429]
    assert events["request_id"].tolist()[-1] == "5e6f7a8b-1c2d-4e3f-9a0b-1c2d3e4f5a6b"


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_a_csv_download_with_multi_line_entries_parses_like_the_lines_inside(newline: str) -> None:
    """SLS collects a traceback as one entry (a multi-line first-line regex): in the CSV it is
    one quoted field over several rows, its lines back on the rows they were on; entries of
    one line each (and lines without a time of their own) get the row's time."""
    plain, _ = _frame("\n".join(LINES) + "\n")
    header = ["__source__", "__time__", "__topic__", "content", "__tag__:__path__"]
    rows = [
        ["10.0.3.7", str(1795140000 + k), "", ln, "/var/log/app.log"]
        for k, ln in enumerate(LINES[:3])
    ]
    rows.append(["10.0.3.7", "1795140003", "", "\n".join(LINES[3:]), "/var/log/app.log"])
    text = _csv(header, rows, newline)
    assert len(text.splitlines()) == len(LINES) + 1  # one row of the file for one line
    wrapped, report = _frame(text)
    assert report.files[0].envelope == "sls-console-csv"  # type: ignore[attr-defined]
    pd.testing.assert_frame_equal(wrapped.assign(line=wrapped["line"] - 1), plain)
    # the lines without a time of their own take the row's
    untimed = [ln.split(" ", 2)[2] for ln in LINES[:3]]
    rows = [["10.0.3.7", str(1795140000 + k), "", ln, "-"] for k, ln in enumerate(untimed)]
    events, _ = _frame(_csv(header, rows))
    assert events["timestamp"].dt.second.tolist() == [0, 2]


def test_a_csv_field_cut_by_a_chunk_boundary_does_not_shift_the_rows_after_it() -> None:
    table = detect(_csv(["__time__", "content"], [["1795140000", "a"]]))
    assert table is not None
    first = table.unwrap('1795140000,"INFO one\n  two')
    second = table.unwrap('  three"\n1795140002,ERROR status_code=429\n')
    assert first.split("\n")[0].startswith('1795140000,"INFO')  # left as it was
    assert second.split("\n")[1] == "2026-11-20T02:00:02+00:00 ERROR status_code=429"


def test_a_csv_without_the_columns_is_no_envelope() -> None:
    text = _csv(["timestamp", "status_code", "line"], [["2026-11-20T02:00:00Z", "429", "1"]])
    assert detect(text) is None


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


# rich's RichHandler (tests/clients/loggers/README.md): a console layout undone like an envelope
WIDTH = 100  # the console's: the message column is 100 - 29 - len(caller) - 1 = 61 wide


def _rich(msg: str, time: str = "", level: str = "", caller: str = "") -> str:
    """One row as RichHandler draws it: time, level, message columns, the caller at the edge."""
    row = (f"[{time}] " if time else " " * 20) + (f"{level:<8} " if level else " " * 9) + msg
    return (row.ljust(WIDTH - len(caller)) + caller) if caller else row.ljust(WIDTH)


RICH = [
    _rich(
        "chat ok request_id=095e5de8-8634-42f4-8417-6130b7a470bd",
        "11/29/26 15:49:00",
        "INFO",
        "app.py:50",
    ),
    _rich("model=qwen-plus"),
    _rich("qwen call failed model=qwen-plus", level="ERROR", caller="app.py:59"),
    _rich("╭──────────── Traceback (most recent call last) ───────╮"),
    _rich("│ ❱ 65 │   │   client.chat.completions.create(model= │"),
    _rich("╰──────────────────────────────────────────────────────╯"),
    _rich("BadRequestError: Error code: 400 - <400>"),
    _rich("InternalError.Algo.DataInspectionFailed: Input data may"),
    _rich("contain inappropriate content. For details, see:"),
    _rich("https://help.aliyun.com/zh/model-studio/error-code#inappropri"),
    _rich("ate-content"),
    _rich(
        "qwen call failed status_code=429 code=Throttling.RateQuota",
        "11/29/26 15:49:01",
        "ERROR",
        "app.py:74",
    ),
    _rich("request_id=66164923-588c-4907-bcc2-162e5857aacb"),
]


def test_a_rich_console_log_is_undone_one_line_for_one_line() -> None:
    text = "\n".join(RICH)
    layout = detect(text)
    assert layout is not None
    assert layout.name == "rich-console"
    lines = layout.unwrap(text).split("\n")
    assert len(lines) == len(RICH)
    assert lines[0] == (
        "2026-11-29 15:49:00 INFO chat ok request_id=095e5de8-8634-42f4-8417-6130b7a470bd"
        " model=qwen-plus"
    )
    # the time the row omitted is filled in; the box is dropped; a token folded at the
    # column's edge (its row is full and has no space) is joined without a space
    assert lines[2] == "2026-11-29 15:49:00 ERROR qwen call failed model=qwen-plus"
    assert lines[6].endswith(
        "see: https://help.aliyun.com/zh/model-studio/error-code#inappropriate-content"
    )
    assert all(line == " " for line in lines[7:11])
    events, report = load_events([("rich.log", (text + "\n").encode())], tz="UTC")
    assert report.files[0].envelope == "rich-console"  # type: ignore[attr-defined]
    errors = events[events["is_error"]].sort_values("line")
    assert errors["line"].tolist() == [3, 12]
    assert errors["code"].tolist() == ["DataInspectionFailed", "Throttling.RateQuota"]
    assert errors["request_id"].iloc[1] == "66164923-588c-4907-bcc2-162e5857aacb"
    assert errors["timestamp"].tolist() == [
        pd.Timestamp("2026-11-29 15:49:00", tz="UTC"),
        pd.Timestamp("2026-11-29 15:49:01", tz="UTC"),
    ]


def test_bracketed_logs_that_are_no_console_layout_stay_as_they_are() -> None:
    text = "[2026-11-29 15:49:00] ERROR app: x\n[INFO] 2026-11-29 15:49:01 y\n"
    assert detect(text) is None


@pytest.mark.parametrize("name", ["SLS console CSV download", "Kibana CSV export"])
def test_a_big_csv_download_is_parsed_in_one_process(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A CSV download is read from its header row: a byte range from its middle would be read
    as plain text, so such a file is never split, however big."""
    from ingest import parallel

    text, _envelope = EXPORTS[name]
    path = tmp_path / "export.csv"
    path.write_text(text, encoding="utf-8")
    monkeypatch.setattr(parallel, "PARALLEL_MIN_BYTES", 1)
    source = next(iter(iter_sources([str(path)])))
    assert not parallel.splittable(source)
    plain = tmp_path / "plain.log"
    plain.write_text("\n".join(LINES) + "\n", encoding="utf-8")
    assert parallel.splittable(next(iter(iter_sources([str(plain)]))))
