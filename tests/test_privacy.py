"""Privacy end to end: what the app shows and what is exported carries no key, header, e-mail or
mobile number; keys keep a stable short hash; log text and file names are never Markdown."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from streamlit.testing.v1 import AppTest

from ingest import load_events
from ingest.cli import main
from ingest.export import request_ids_csv, ticket_markdown
from ingest.redact import key_label

APP = Path(__file__).resolve().parent.parent / "app" / "streamlit_app.py"
KEY = "sk-0123456789abcdef0123456789abcdef"
KEY2 = "sk-fedcba9876543210fedcba9876543210"
RID = "8c9d0e1f-2a3b-4c4d-9e5f-6a7b8c9d0e1f"
LOG = "\n".join(
    [
        f"2026-11-20 10:00:00,000 ERROR app: Request id: {RID}, Status code: 401, error code: "
        f"InvalidApiKey, error message: Invalid API-key provided: {KEY} (owner ops@example.com)",
        f"2026-11-20 10:00:01,000 ERROR app: Request id: {RID[:-1]}2, Status code: 401, error "
        f"code: InvalidApiKey, error message: Invalid API-key provided: {KEY2} call 13812345678",
        f"2026-11-20 10:00:02,000 ERROR app: Request id: {RID[:-1]}3, Status code: 401, error "
        f"code: InvalidApiKey, error message: Invalid API-key provided: {KEY}",
        "2026-11-20 10:00:03,000 DEBUG dashscope: Request body: {'model': 'qwen-plus', 'input': "
        "{'messages': [{'role': 'user', 'content': 'my private prompt'}]}}",
        f"2026-11-20 10:00:04,000 ERROR dashscope failed Authorization: Bearer {KEY} status_code "
        "weird InternalError.Algo whatever",
        "",
    ]
).encode()
SECRETS = (KEY, KEY2, "ops@example.com", "13812345678", "my private prompt")


@pytest.fixture(autouse=True)
def clear_caches(fresh_caches: None) -> None:
    """Every test here starts and ends with empty Streamlit caches (conftest.fresh_caches)."""


def _no_secret(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text, secret


def test_events_report_and_exports_are_redacted() -> None:
    events, report = load_events(("app.log", LOG))
    messages = events["message"].dropna().astype(str).tolist()
    assert len(messages) == 3
    _no_secret(" ".join(messages))
    _no_secret(" ".join(t for _s, _n, t in report.unparsed_examples))
    csv = request_ids_csv(events, "Asia/Shanghai").decode()
    ticket = ticket_markdown(events, "Asia/Shanghai", "all")
    _no_secret(csv)
    _no_secret(ticket)
    # per-key breakdown: the same key gives the same label, another key another one
    labels = [m.split("provided: ")[1].split()[0] for m in messages]
    assert labels.count(key_label(KEY)) == 2
    assert labels.count(key_label(KEY2)) == 1


def test_prompt_bodies_are_not_events() -> None:
    events, _ = load_events(("app.log", LOG))
    assert not events["message"].astype(str).str.contains("Request body", regex=False).any()


def test_cli_output_is_redacted(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    log.write_bytes(LOG)
    out = tmp_path / "events.csv"
    result = CliRunner().invoke(main, ["parse", str(log), "-o", str(out)])
    assert result.exit_code == 0, result.output
    _no_secret(out.read_text() + result.output)
    result = CliRunner().invoke(main, ["export-ids", str(log)])
    _no_secret(result.output)


def test_app_shows_no_secret_and_no_markup_from_a_file_name() -> None:
    name = "**bold** ![x](http://127.0.0.1:9/p.png) <b>x</b>.log"
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.run()
    at.file_uploader(key="upload").set_value((name, LOG, "text/plain")).run()
    assert not at.exception
    shown = []
    for kind in ("markdown", "caption", "text", "code", "info", "warning", "error"):
        shown += [str(e.value) for e in getattr(at, kind)]
    for df in at.dataframe:
        shown.append(df.value.to_csv())
    _no_secret(" ".join(shown))
    captions = [str(c.value) for c in at.sidebar.caption if "events" in str(c.value)]
    assert captions
    assert all("![x](" not in c and "**bold**" not in c for c in captions), captions
