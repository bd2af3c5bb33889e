"""The dashboard's live mode: the Live page follows a log and shows alerts (AppTest)."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parent.parent / "app" / "streamlit_app.py")
LINE = (
    "2026-03-10 14:00:{s:02d},000 - httpx - INFO - HTTP Request: POST https://dashscope.aliyuncs."
    'com/compatible-mode/v1/chat/completions "HTTP/1.1 429 Too Many Requests"\n'
)


def test_live_page_follows_the_log_and_raises_the_banner(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = tmp_path / "app.log"
    log.write_text("".join(LINE.format(s=s) for s in range(30)))
    monkeypatch.setenv("DASHSCOPE_LOGS_FOLLOW", str(log))
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    assert not at.exception
    assert any("Live" in t.value for t in at.title)
    assert at.error  # the error-rate / spike banner
    assert "alert" in at.error[0].value
    assert at.dataframe  # the alert history


def test_every_tab_sees_the_same_alert_history(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One monitor per server: a second tab (or a reload) gets the history, even when the log
    has been rotated away since, instead of a fresh replay of what is on disk now."""
    log = tmp_path / "app.log"
    log.write_text("".join(LINE.format(s=s) for s in range(30)))
    monkeypatch.setenv("DASHSCOPE_LOGS_FOLLOW", str(log))
    first = AppTest.from_file(APP, default_timeout=60)
    first.run()
    history = first.dataframe[0].value
    assert len(history)
    log.write_text("")  # rotated: the storm is no longer in the file
    second = AppTest.from_file(APP, default_timeout=60)
    second.run()
    assert not second.exception
    again = second.dataframe[0].value
    assert len(again) == len(history)  # the same alerts, not each one twice
    assert list(again["title"]) == list(history["title"])
