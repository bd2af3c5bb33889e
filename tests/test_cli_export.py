"""`dashscope-logs export-ids` and `dashscope-logs app` through click's CliRunner."""

from __future__ import annotations

import csv
import importlib
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from ingest import load_events
from ingest.cli import main

RID_OK_1 = "0f1e2d3c-0000-4000-8000-000000000001"
RID_429_A = "5ec3b993-d045-4091-90f6-b00887ba8676"
RID_429_B = "7a1c2b3d-1111-4222-8333-944455566677"
RID_401 = "b2c3d4e5-2222-4333-8444-555566667777"
RID_500 = "c3d4e5f6-3333-4444-8555-666677778888"

LINES = [
    ("2025-03-10T06:00:01+00:00", 200, "", "", RID_OK_1, "qwen-max"),
    ("2025-03-10T06:00:02+00:00", 429, "Throttling.RateQuota",
     "Requests rate limit exceeded, please try again later.", RID_429_A, "qwen-max"),
    ("2025-03-10T06:05:00+00:00", 429, "Throttling.RateQuota",
     "Requests rate limit exceeded, please try again later.", RID_429_B, "qwen-plus"),
    ("2025-03-10T07:30:00+00:00", 401, "InvalidApiKey", "Invalid API-key provided.",
     RID_401, "qwen-max"),
    ("2025-03-10T09:00:00+00:00", 500, "InternalError",
     "An internal error has occured, please try again later or contact service support.",
     RID_500, "qwen-turbo"),
]  # fmt: skip


@pytest.fixture
def log(tmp_path: Path) -> Path:
    path = tmp_path / "app.jsonl"
    with path.open("w", encoding="utf-8") as f:
        for ts, status, code, message, rid, model in LINES:
            record = {"ts": ts, "status_code": status, "code": code, "message": message}
            record |= {"request_id": rid, "model": model}
            f.write(json.dumps(record) + "\n")
    return path


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["export-ids", *args])
    return result.exit_code, result.stdout, result.stderr


def ids(text: str) -> list[str]:
    return [r["request_id"] for r in csv.DictReader(io.StringIO(text.lstrip("\ufeff")))]


def test_csv_to_stdout(log: Path) -> None:
    code, out, _ = run(str(log))
    assert code == 0, out
    assert ids(out) == [RID_429_A, RID_429_B, RID_401, RID_500]
    assert out.splitlines()[0] == (
        "request_id,time_utc,time_local,status,code,message,model,source_line"
    )
    assert "2025-03-10T14:00:02.000+08:00" in out


def test_code_filter_repeatable(log: Path) -> None:
    code, out, _ = run(str(log), "--code", "InvalidApiKey", "--code", "InternalError")
    assert code == 0
    assert ids(out) == [RID_401, RID_500]


def test_category_filter(log: Path) -> None:
    code, out, _ = run(str(log), "--category", "request-rate")
    assert code == 0
    assert ids(out) == [RID_429_A, RID_429_B]


def test_naive_times_are_in_tz(log: Path) -> None:
    code, out, _ = run(str(log), "--since", "2025-03-10T14:01", "--until", "2025-03-10T16:00")
    assert code == 0
    assert ids(out) == [RID_429_B, RID_401]
    code, out, _ = run(str(log), "--since", "2025-03-10T06:01", "--tz", "UTC")
    assert ids(out) == [RID_429_B, RID_401, RID_500]


def test_output_by_extension(log: Path, tmp_path: Path) -> None:
    csv_path = tmp_path / "ids.csv"
    code, _, err = run(str(log), "--output", str(csv_path))
    assert code == 0
    data = csv_path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    assert ids(data.decode("utf-8")) == [RID_429_A, RID_429_B, RID_401, RID_500]
    assert "4 request_ids" in err

    md = tmp_path / "ticket.md"
    code, _, _ = run(str(log), "--code", "Throttling.RateQuota", "-o", str(md))
    assert code == 0
    text = md.read_text(encoding="utf-8")
    assert "### Throttling.RateQuota (HTTP 429): 2" in text
    assert RID_429_A in text
    assert "InvalidApiKey" not in text
    assert "codes Throttling.RateQuota" in text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--output", "x.txt"], "use .csv (request_ids) or .md (ticket)"),
        (["--tz", "Mars/Olympus"], "unknown time zone 'Mars/Olympus'"),
        (["--since", "yesterday-ish"], "is not an ISO date or time"),
        (["--since", "2025-03-11", "--until", "2025-03-10"], "must be after --since"),
        (["--category", "nope"], "'nope' is not one of"),
    ],
)
def test_usage_errors_are_one_clear_line(log: Path, args: list[str], message: str) -> None:
    code, _, err = run(str(log), *args)
    assert code == 2
    assert message in err


def test_unreadable_input_exits_1(tmp_path: Path) -> None:
    code, _, err = run(str(tmp_path / "missing.log"))
    assert code == 1
    assert err.startswith("Error: ")
    assert "missing.log" in err
    assert len(err.strip().splitlines()) == 1


def test_unknown_code_warns(log: Path) -> None:
    code, out, err = run(str(log), "--code", "NoSuchCode")
    assert code == 0
    assert ids(out) == []
    assert "no error with code NoSuchCode" in err


def test_sample_logs_match_the_library(repo: Path) -> None:
    samples = repo / "sample_logs"
    events, _ = load_events([str(samples)])
    expected = events.loc[events["is_error"] & events["request_id"].notna()]
    code, out, _ = run(str(samples), "--code", "Throttling.RateQuota")
    assert code == 0
    got = ids(out)
    want = expected.loc[expected["code"] == "Throttling.RateQuota"]
    assert len(got) == len(want) > 0
    assert set(got) == set(want["request_id"])


def test_app_command_builds_the_streamlit_command(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    calls: list[list[str]] = []
    app_cli = importlib.import_module("ingest.cli.app")
    monkeypatch.setattr(app_cli.os, "execv", lambda exe, argv: calls.append(argv))
    result = CliRunner().invoke(main, ["app", str(tmp_path), "--port", "8600", "--follow"])
    assert result.exit_code == 0, result.output
    argv = calls[0]
    assert argv[1:4] == ["-m", "streamlit", "run"]
    assert argv[4].endswith("app/streamlit_app.py")
    assert Path(argv[4]).is_file()
    assert argv[argv.index("--server.port") + 1] == "8600"
    assert argv[argv.index("--server.address") + 1] == "127.0.0.1"
    assert argv[argv.index("--browser.gatherUsageStats") + 1] == "false"
    assert argv[-2:] == ["--", str(tmp_path.resolve())]
    assert "live mode: the Live page follows" in result.stderr


def test_app_command_refuses_missing_paths(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["app", str(tmp_path / "nope.log")])
    assert result.exit_code == 1
    assert "no such file or directory" in result.stderr


def test_an_event_without_a_time_is_null_in_every_output(tmp_path: Path) -> None:
    """A retry notice with no time of its own: null in JSON lines (not the invalid NaN),
    empty in CSV, and integers stay integers."""
    from ingest.output import write_events

    log = (
        '{"log":"INFO openai._base_client: Retrying request to /chat/completions in 0.4'
        ' seconds\\n","stream":"stderr"}\n'
        '{"status_code": 429, "code": "Throttling.RateQuota", "ts": "2026-11-20T10:00:00Z"}\n'
    )
    events, _ = load_events([("x.log", log.encode())])
    assert events["timestamp"].isna().any()
    out = tmp_path / "e.jsonl"
    write_events(events, str(out), "UTC")
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert None in [r["timestamp"] for r in rows]
    assert "NaN" not in out.read_text(encoding="utf-8")
    csv = tmp_path / "e.csv"
    write_events(events, str(csv), "UTC")
    assert "429.0" not in csv.read_text(encoding="utf-8")
