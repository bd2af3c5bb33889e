"""API key hash and client host: read where the log names them, kept beside the events, ranked
by the spike explainer (issue #6), never written as the key itself (issue #7)."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pandas as pd

from ingest import load_events
from ingest.analysis import explain_spike
from ingest.context import attach, context_in_text
from ingest.formats import registry
from ingest.parallel import parse_in_parallel
from ingest.pipeline import FileParser
from ingest.redact import key_label
from ingest.sources import iter_sources
from ingest.summary import summarise

KEY = "sk-0123456789abcdef0123456789abcdef"


def _jsonl(n: int, *, spike_host: str = "web-7", seed: int = 3) -> str:
    """An hour of calls from three hosts; minute 40-45 a 429 storm from one host."""
    rng = random.Random(seed)
    lines = []
    for k in range(n):
        minute, second = divmod(k * 3600 // n, 60)
        storm = 40 <= minute < 45
        host = spike_host if storm and rng.random() < 0.9 else rng.choice(["web-1", "web-2"])
        rec = {
            "ts": f"2026-11-20T10:{minute:02d}:{second:02d}.{k % 1000:03d}+08:00",
            "level": "INFO",
            "host": host,
            "api_key": KEY if host != "web-2" else "sk-****beef",
            "model": "qwen-max",
            "status_code": 200,
            "request_id": f"{k:08x}-0000-4000-8000-{rng.getrandbits(48):012x}",
        }
        if storm or rng.random() < 0.03:
            rec.update(status_code=429, code="Throttling.RateQuota", message="Requests rate limit")
        lines.append(json.dumps(rec))
    return "\n".join(lines) + "\n"


def test_json_fields_name_the_key_and_host_and_the_key_is_hashed() -> None:
    events, report = load_events([("app.jsonl", _jsonl(400).encode())], workers=1)
    ctx = report.context
    errors = events[events["is_error"]]
    assert len(ctx) == len(errors)  # every error row names both
    assert set(ctx["client_host"].astype(str)) <= {"web-1", "web-2", "web-7"}
    assert set(ctx["api_key"].astype(str)) <= {key_label(KEY), "sk-****beef"}
    assert not ctx["api_key"].astype(str).str.contains("0123456789").any()  # never the key


def test_both_lanes_and_byte_ranges_give_the_same_table(tmp_path: Path) -> None:
    path = tmp_path / "app.jsonl"
    path.write_text(_jsonl(6000), encoding="utf-8")
    (src,) = iter_sources(str(path))
    tables = []
    for fast in (True, False):
        parser = FileParser(src, registry(), "Asia/Shanghai", fast=fast)
        parser.run()
        assert parser.report.context is not None
        tables.append(parser.report.context)
    _frame, whole = parse_in_parallel(src, registry(), "Asia/Shanghai", workers=2)
    assert whole.context is not None
    tables.append(whole.context)
    as_text = [t.astype(str).reset_index(drop=True) for t in tables]
    pd.testing.assert_frame_equal(as_text[0], as_text[1])
    pd.testing.assert_frame_equal(as_text[0], as_text[2])
    assert len(as_text[0]) > 100


def test_text_lines_name_them_as_key_value_pairs_and_headers() -> None:
    log = (
        "2026-11-20 14:02:07,123 ERROR llm: status_code=429, request_id=8c9d0e1f-2a3b-4c4d-9e5f"
        "-6a7b8c9d0e1f, code=Throttling.RateQuota, message=Requests rate limit exceeded, please"
        " try again later., host=web-4 model=qwen-plus\n"
        "2026-11-20 14:02:08,001 DEBUG llm: headers={'Host': 'dashscope.aliyuncs.com',"
        f" 'Authorization': 'Bearer {KEY}'}} status_code=500 code=InternalError message=boom\n"
    )
    events, report = load_events([("app.log", log.encode())], workers=1)
    # the kv message ends where host= begins (a known name ends a value)
    first = events.sort_values("line").iloc[0]
    assert first["message"] == "Requests rate limit exceeded, please try again later."
    rows = {int(r.line): (r.api_key, r.client_host) for r in report.context.itertuples()}
    assert rows[1] == (None, "web-4") or (pd.isna(rows[1][0]) and rows[1][1] == "web-4")
    key, host = rows[2]
    assert key == key_label(KEY)
    assert pd.isna(host)  # the API's own Host header is not a client


def test_prose_is_not_a_field() -> None:
    assert context_in_text("ERROR failed to connect to host: dashscope, retrying") == {}
    assert context_in_text('{"hostname": "pod-a", "client_ip": "10.0.0.5"}') == {
        "client_host": "10.0.0.5"  # the more specific name wins
    }
    assert context_in_text("x_forwarded_for=1.2.3.4") == {"client_host": "1.2.3.4"}


def test_the_explainer_ranks_the_host_of_the_storm() -> None:
    events, report = load_events([("app.jsonl", _jsonl(3000).encode())], workers=1)
    start = pd.Timestamp("2026-11-20T02:40:00Z")
    ex = explain_spike(events, start, start + pd.Timedelta(minutes=5), context=report.context)
    assert not ex.skipped
    top = [(f.column, f.value) for f in ex.factors[:2]]
    assert ("client_host", "web-7") in top
    assert ex.headline is not None
    assert ex.headline.who is not None
    assert "from host web-7" in ex.sentence
    # without the table the two columns are skipped, and the sentence says nothing of them
    bare = explain_spike(events, start, start + pd.Timedelta(minutes=5))
    assert "API key hash" in bare.skipped
    assert all(f.column not in ("api_key", "client_host") for f in bare.factors)


def test_the_summary_sentence_names_the_host() -> None:
    events, report = load_events([("app.jsonl", _jsonl(3000).encode())], workers=1)
    data = summarise(events, report, tz="Asia/Shanghai")
    sentences = [p.get("explanation") or "" for p in data["throttling_peaks"]]
    assert any("from host web-7" in s for s in sentences), sentences


def test_attach_adds_the_columns_by_source_and_line() -> None:
    events, report = load_events([("app.jsonl", _jsonl(400).encode())], workers=1)
    joined = attach(events, report.context)
    assert list(joined.columns)[: len(events.columns)] == list(events.columns)
    errors = joined[joined["is_error"]]
    assert errors["client_host"].notna().all()
    assert len(load_events([("app.jsonl", _jsonl(400).encode())], workers=1)[0].columns) == 15


def test_the_summary_counts_errors_by_key_and_host() -> None:
    events, report = load_events([("app.jsonl", _jsonl(3000).encode())], workers=1)
    data = summarise(events, report, tz="Asia/Shanghai")
    by_host = data["errors_by_client_host"]
    assert next(iter(by_host)) == "web-7"
    assert sum(by_host.values()) == int(events["is_error"].sum())
    assert set(data["errors_by_api_key"]) <= {key_label(KEY), "sk-****beef"}


def test_a_dataset_keeps_the_table_across_segments(tmp_path: Path) -> None:
    """Ingested in several byte-range segments, the dataset ranks and counts the same."""
    from ingest.store.ingester import ingest_dataset
    from ingest.store.query import DatasetQuery
    from ingest.store.reports import load_report
    from ingest.summary import summarise_dataset

    log = tmp_path / "app.jsonl"
    log.write_text(_jsonl(3000), encoding="utf-8")
    ingest_dataset([str(log)], tmp_path / "ds", workers=1, segment_bytes=150_000)
    store = DatasetQuery(tmp_path / "ds")
    assert store.has_context
    events, report = load_events(str(log), workers=1)
    memory = summarise(events, report, tz="Asia/Shanghai")
    stored = summarise_dataset(store, load_report(tmp_path / "ds"), tz="Asia/Shanghai")
    for key in ("errors_by_client_host", "errors_by_api_key"):
        assert stored[key] == memory[key]
    explained = [p.get("explanation") for p in stored["throttling_peaks"]]
    assert explained == [p.get("explanation") for p in memory["throttling_peaks"]]
    assert any("from host web-7" in (s or "") for s in explained)
    window = store.events(errors_only=True, with_context=True)
    assert window["client_host"].notna().all()


def test_a_spike_alert_names_the_host(tmp_path: Path) -> None:
    """watch / live mode: the engine's explainer gets the context of the events it is fed."""
    from ingest.monitor.engine import Engine
    from ingest.monitor.rules import load_rules

    events, report = load_events([("app.jsonl", _jsonl(3000).encode())], workers=1)
    upto = pd.Timestamp("2026-11-20T02:44:00Z")  # the storm is under way at the newest event
    events = events[events["timestamp"] < upto].reset_index(drop=True)
    engine = Engine(load_rules(), tz="Asia/Shanghai")
    engine.add(events, upto.timestamp(), context=[report.context])
    alerts = engine.evaluate(upto.timestamp())
    spikes = [a for a in alerts if "spike" in a.text.lower()]
    assert spikes, [a.text for a in alerts]
    assert "from host web-7" in str(spikes[0].facts.get("explanation"))
