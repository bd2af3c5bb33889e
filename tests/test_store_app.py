"""`dashscope-logs app DATASET_DIR`: the dashboard opens a dataset without parsing a log."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from app import data
from ingest.store.ingester import ingest_dataset

REPO = Path(__file__).resolve().parent.parent
APP = REPO / "app" / "streamlit_app.py"


def test_the_dashboard_reads_a_dataset(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    dataset = tmp_path / "ds"
    ingest_dataset([str(REPO / "sample_logs" / "python_sdk.log")], dataset, workers=1)
    monkeypatch.setattr(data, "cli_paths", lambda argv=None: [str(dataset)])

    def no_parsing(*_a: object, **_k: object) -> None:
        raise AssertionError("a dataset is read, not parsed")

    monkeypatch.setattr(data, "load_events", no_parsing)
    at = AppTest.from_file(str(APP), default_timeout=30)
    at.run()
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Calls seen"] == "5,234"
    assert any(f"from {dataset}" in c.value for c in at.caption)
