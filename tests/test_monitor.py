"""Rules files, the engine (incidents, grouping, cooldown, recovery), webhook payloads, follow."""

from __future__ import annotations

import base64
import hashlib
import hmac
import urllib.parse
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from ingest.monitor.engine import Engine
from ingest.monitor.follow import Follower
from ingest.monitor.notify import build, dingtalk_sign, feishu_sign, guess_type
from ingest.monitor.rules import DEFAULT_RULES_TOML, RulesError, load_rules, parse_duration
from ingest.schema import coerce_events

T0 = pd.Timestamp("2026-03-10 06:00:00", tz="UTC").timestamp()


def events(rows: list[dict[str, Any]]) -> pd.DataFrame:
    out = []
    for i, r in enumerate(rows):
        base = {
            "is_error": True,
            "status_code": 429,
            "code": "Throttling.RateQuota",
            "category": "request-rate",
            "model": "qwen-max",
            "source": "app.log",
            "line": i + 1,
            "mentions": 1,
            "format": "test",
        }
        base.update(r)
        base["timestamp"] = pd.Timestamp(base.pop("t") + T0, unit="s", tz="UTC")
        if not base["is_error"]:
            base.update(status_code=200, code=None, category=None)
        out.append(base)
    return coerce_events(pd.DataFrame(out))


# --------------------------------------------------------------------------- rules files


def test_default_rules_have_an_error_rate_and_a_spike_rule() -> None:
    rules = load_rules()
    assert {r.type for r in rules.rules} >= {"error_rate", "throttling_spike"}
    assert load_rules(text=DEFAULT_RULES_TOML) == load_rules()


@pytest.mark.parametrize(
    ("text", "line", "reason"),
    [
        ('[[rule]]\nname = "a"\ntype = "x\n', 3, "not valid TOML"),
        ('[[rule]]\nname = "a"\ntype = "ratio"\n', 3, "type must be one of"),
        ('[[rule]]\nname = "a"\ntype = "error_rate"\nthreshold = 120\n', 4, "percentage"),
        ('[[rule]]\nname = "a"\ntype = "count"\nthreshold = 3\n', 1, "needs code(s)"),
        (
            '[[rule]]\nname = "a"\ntype = "count"\ncode = "X"\nthreshold = 2\n\n'
            '[[rule]]\nname = "b"\ntype = "count"\ncategory = "rate"\nthreshold = 1\n',
            10,
            "unknown category 'rate'",
        ),
        ('[[rule]]\nname = "a"\ntype = "new_code"\nwindow = "soon"\n', 4, "duration"),
        ('[[rule]]\nname = "a"\ntype = "new_code"\ncolour = "red"\n', 4, "unknown key 'colour'"),
        (
            '[[rule]]\nname = "a"\ntype = "new_code"\n[[rule]]\nname = "a"\ntype = "new_code"\n',
            5,
            "duplicate rule name",
        ),
        (
            '[[notify]]\ntype = "teams"\nurl = "https://x"\n'
            '[[rule]]\nname = "a"\ntype = "new_code"\n',
            2,
            "notify type 'teams'",
        ),
    ],
)
def test_bad_rules_files_name_the_line_and_the_reason(text: str, line: int, reason: str) -> None:
    with pytest.raises(RulesError) as info:
        load_rules("rules.toml", text)
    assert info.value.line == line
    assert reason in str(info.value)
    assert str(info.value).startswith(f"rules.toml:{line}: ")


def test_durations() -> None:
    assert parse_duration("90s") == 90
    assert parse_duration("5m") == 300
    assert parse_duration(2) == 2
    with pytest.raises(ValueError, match="duration"):
        parse_duration("-1m")


# --------------------------------------------------------------------------- engine


RATE = """
[[rule]]
name = "rate"
type = "error_rate"
threshold = 50
window = "60s"
min_calls = 4
cooldown = "10m"
"""


def test_one_storm_is_one_alert_then_one_recovery() -> None:
    eng = Engine(load_rules(text=RATE), "UTC")
    eng.add(events([{"t": i} for i in range(5)]), T0)
    first = eng.evaluate(T0 + 5)
    assert [a.kind for a in first] == ["firing"]
    assert "100% of the calls in the last 60 s failed (5 of 5" in first[0].text
    eng.add(events([{"t": 10 + i} for i in range(20)]), T0 + 30)
    assert eng.evaluate(T0 + 30) == []  # the same storm: no second alert
    assert eng.evaluate(T0 + 60) == []  # still inside the window
    assert eng.evaluate(T0 + 100) == []  # condition false, calm period (60 s) not over
    resolved = eng.evaluate(T0 + 100 + 61)
    assert [a.kind for a in resolved] == ["resolved"]
    # a new storm inside the cooldown (10 min since the alert) stays silent
    eng.add(events([{"t": 200 + i} for i in range(5)]), T0 + 205)
    assert eng.evaluate(T0 + 205) == []
    eng.add(events([{"t": 700 + i} for i in range(5)]), T0 + 705)
    assert [a.kind for a in eng.evaluate(T0 + 705)] == ["firing"]


def test_min_calls_and_successes() -> None:
    eng = Engine(load_rules(text=RATE), "UTC")
    eng.add(events([{"t": 0}, {"t": 1}, {"t": 2}]), T0)
    assert eng.evaluate(T0 + 3) == []  # 3 calls < min_calls
    eng.add(events([{"t": 3, "is_error": False}, {"t": 4, "is_error": False}]), T0)
    assert eng.evaluate(T0 + 5)[0].value == pytest.approx(60.0)


def test_group_by_model_gives_one_incident_per_model() -> None:
    rules = load_rules(
        text='[[rule]]\nname = "c"\ntype = "count"\ncategory = "request-rate"\nthreshold = 3\n'
        'window = "60s"\ngroup_by = "model"\n'
    )
    eng = Engine(rules, "UTC")
    rows = [{"t": i, "model": "qwen-max"} for i in range(3)]
    rows += [{"t": i, "model": "qwen-plus"} for i in range(4)]
    rows += [{"t": i, "model": "qwen-turbo"} for i in range(2)]
    eng.add(events(rows), T0)
    alerts = eng.evaluate(T0 + 5)
    assert sorted(a.group for a in alerts) == ["model=qwen-max", "model=qwen-plus"]


def test_new_code_fires_once_per_code_even_after_a_restart() -> None:
    rules = load_rules(text='[[rule]]\nname = "n"\ntype = "new_code"\n')
    eng = Engine(rules, "UTC")
    eng.add(events([{"t": 0, "code": "Arrearage", "status_code": 400}]), T0)
    assert [a.title for a in eng.evaluate(T0 + 1)] == ["New error code Arrearage"]
    saved = eng.dump()
    again = Engine(rules, "UTC")
    again.load(saved)
    again.add(events([{"t": 5, "code": "Arrearage"}, {"t": 6, "code": "InvalidApiKey"}]), T0)
    assert [a.title for a in again.evaluate(T0 + 7)] == ["New error code InvalidApiKey"]


def test_missing_request_id_rule() -> None:
    rules = load_rules(
        text='[[rule]]\nname = "m"\ntype = "missing_request_id"\nthreshold = 2\nwindow = "1m"\n'
    )
    eng = Engine(rules, "UTC")
    eng.add(events([{"t": 0, "request_id": "abc"}, {"t": 1}]), T0)
    assert eng.evaluate(T0 + 2) == []
    eng.add(events([{"t": 3}]), T0)
    (alert,) = eng.evaluate(T0 + 4)
    assert "2 failures without a request_id" in alert.text


def test_throttling_spike_uses_the_dashboard_detector_and_explains_itself() -> None:
    rules = load_rules(text='[[rule]]\nname = "s"\ntype = "throttling_spike"\nbucket = "1m"\n')
    eng = Engine(rules, "UTC")
    quiet = [{"t": m * 60 + 5, "is_error": False} for m in range(20)]
    quiet += [{"t": m * 60 + 7, "model": "qwen-plus"} for m in range(0, 20, 4)]
    eng.add(events(quiet), T0)
    assert eng.evaluate(T0 + 20 * 60) == []
    storm = [{"t": 20 * 60 + i, "code": "Throttling.AllocationQuota"} for i in range(12)]
    eng.add(events(storm), T0 + 20 * 60 + 12)
    (alert,) = eng.evaluate(T0 + 20 * 60 + 15)
    assert alert.type == "throttling_spike"
    assert alert.facts["throttled"] == 12
    assert "100% of the 429s between 06:20 and 06:21 are AllocationQuota on qwen-max" in alert.text


# --------------------------------------------------------------------------- webhooks


def _alert() -> Any:
    eng = Engine(load_rules(text=RATE), "UTC")
    eng.add(events([{"t": i} for i in range(5)]), T0)
    return eng.evaluate(T0 + 5)[0]


def test_dingtalk_signature_follows_the_documented_recipe() -> None:
    url, body = build(
        "dingtalk",
        "https://oapi.dingtalk.com/robot/send?access_token=t",
        _alert(),
        "SECx",
        now=1_700_000_000.5,
    )
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
    assert query["timestamp"] == ["1700000000500"]
    mac = hmac.new(b"SECx", b"1700000000500\nSECx", hashlib.sha256).digest()
    assert query["sign"] == [base64.b64encode(mac).decode()]
    assert dingtalk_sign("SECx", 1700000000500) == urllib.parse.quote_plus(
        base64.b64encode(mac).decode()
    )
    assert body["msgtype"] == "markdown"
    assert body["markdown"]["title"].startswith("🟠 [WARNING]")


def test_feishu_signature_and_card() -> None:
    _url, body = build(
        "feishu",
        "https://open.feishu.cn/open-apis/bot/v2/hook/x",
        _alert(),
        "s3",
        now=1_700_000_000,
    )
    key = b"1700000000\ns3"
    assert body["timestamp"] == "1700000000"
    assert body["sign"] == base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()
    assert feishu_sign("s3", 1_700_000_000) == body["sign"]
    assert body["msg_type"] == "interactive"
    assert body["card"]["header"]["template"] == "orange"


def test_wecom_slack_json_payloads_and_guessing() -> None:
    alert = _alert()
    assert build("wecom", "u", alert)[1]["msgtype"] == "markdown"
    slack = build("slack", "u", alert)[1]
    assert set(slack) == {"text", "blocks"}
    plain = build("json", "u", alert)[1]
    assert plain["rule"] == "rate"
    assert plain["kind"] == "firing"
    assert guess_type("https://oapi.dingtalk.com/robot/send?access_token=x") == "dingtalk"
    assert guess_type("https://open.larksuite.com/open-apis/bot/v2/hook/x") == "feishu"
    assert guess_type("https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=x") == "wecom"
    assert guess_type("https://hooks.slack.com/services/x") == "slack"
    assert guess_type("http://127.0.0.1:9/x") == "json"


# --------------------------------------------------------------------------- follow


LINE = (
    "2026-03-10 14:00:{s:02d},000 - httpx - INFO - HTTP Request: POST https://dashscope.aliyuncs."
    'com/compatible-mode/v1/chat/completions "HTTP/1.1 429 Too Many Requests"\n'
)


def test_follow_reads_appends_truncation_and_new_glob_files(tmp_path: Path) -> None:
    log = tmp_path / "a.log"
    log.write_text(LINE.format(s=0))
    f = Follower([str(tmp_path / "*.log")], "UTC", from_start=True)
    assert len(f.poll(flush=True)) == 1
    with log.open("a") as fh:
        fh.write(LINE.format(s=1) + LINE.format(s=2)[:30])  # a partial line waits
    assert len(f.poll(flush=True)) == 1
    with log.open("a") as fh:
        fh.write(LINE.format(s=2)[30:])
    out = f.poll(flush=True)
    assert list(out["line"]) == [3]
    (tmp_path / "b.log").write_text(LINE.format(s=3))
    assert list(f.poll(flush=True)["source"]) == [str(tmp_path / "b.log")]
    log.write_text(LINE.format(s=4))  # truncated and rewritten
    out = f.poll(flush=True)
    assert list(out["line"]) == [1]
    assert f.truncations == 1
    state = f.state()
    assert state[str(log)]["offset"] == len(LINE.format(s=4).encode())
    f.close()


def test_follow_resumes_from_state_and_finishes_a_rotated_file(tmp_path: Path) -> None:
    log = tmp_path / "a.log"
    log.write_text(LINE.format(s=0))
    f = Follower([str(log)], "UTC", from_start=True)
    assert len(f.poll(flush=True)) == 1
    saved = f.state()
    f.close()
    with log.open("a") as fh:  # written while stopped, then rotated while stopped
        fh.write(LINE.format(s=1))
    log.rename(tmp_path / "a.log.1")
    log.write_text(LINE.format(s=2))
    g = Follower([str(log)], "UTC", saved)
    out = g.poll(flush=True)
    assert sorted(out["line"].tolist()) == [1, 2]
    assert len(out) == 2
    g.close()
