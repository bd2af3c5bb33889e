"""Exports of a dataset stream from DuckDB and give the bytes of the loaded events.

``export-ids DATASET`` and the dashboard's downloads on a dataset used to load the selection's
errors into pandas; now the CSV comes in Arrow batches and the ticket from SQL aggregates
(``ingest.store.export``). The dataset is the one of ``test_store_rollups`` (hostile text,
repeated request_ids, events without a time).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from fixtures_events import DAY_START
from test_store_rollups import tricky_events, write_dataset

from ingest import export
from ingest.cli import main
from ingest.queries import Filters
from ingest.schema import coerce_events
from ingest.store import export as store_export
from ingest.store.query import DatasetQuery


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return tricky_events()


@pytest.fixture(scope="module")
def store(frame: pd.DataFrame, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DatasetQuery]:
    dataset = tmp_path_factory.mktemp("exports") / "ds"
    write_dataset(frame, dataset)
    out = DatasetQuery(dataset)
    yield out
    out.close()


EXPORT_FILTERS = [
    Filters(),
    Filters(codes=("Throttling.RateQuota",)),
    Filters(models=("qwen-plus",), start=DAY_START + pd.Timedelta(hours=6, seconds=3)),
    Filters(start=DAY_START + pd.Timedelta(days=9)),  # nothing
    Filters(search="HYPERLINK"),
]


@pytest.mark.parametrize("k", range(len(EXPORT_FILTERS)))
@pytest.mark.parametrize("tz", ["UTC", "Asia/Shanghai"])
def test_streamed_exports_are_the_bytes_of_the_loaded_events(
    k: int, tz: str, store: DatasetQuery
) -> None:
    f = EXPORT_FILTERS[k]
    errors = store.events(f, errors_only=True)  # what the exports loaded before
    for bom in (False, True):
        want = export.request_ids_csv(errors, tz, bom=bom)
        pieces = list(store_export.request_ids_csv_chunks(store, f, tz, bom=bom, batch_rows=97))
        assert b"".join(pieces) == want
        if want.count(b"\n") > 2 * 97:
            assert len(pieces) > 2  # streamed, not built at once
    for ids_per_code in (20, 3):
        want_md = export.ticket_markdown(errors, tz, f.describe(tz), ids_per_code=ids_per_code)
        got_md = store_export.ticket_markdown(store, f, tz, ids_per_code=ids_per_code)
        assert got_md == want_md


def test_a_request_id_redaction_changes_is_summarised_from_the_events(
    frame: pd.DataFrame, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    events = frame.head(400).astype(object)
    errs = np.flatnonzero(events["is_error"].to_numpy(dtype=bool))
    events.loc[errs[3], "request_id"] = "req 13812345678"  # a mobile number: redacted
    events.loc[errs[4], "request_id"] = "ops@example.com"
    events = coerce_events(events)
    dataset = tmp_path / "ds"
    write_dataset(events, dataset)
    store = DatasetQuery(dataset)
    loaded: list[object] = []
    original = DatasetQuery.events

    def spy(self: DatasetQuery, *a: object, **k: object) -> pd.DataFrame:
        loaded.append(a)
        return original(self, *a, **k)  # type: ignore[arg-type]

    want = export.ticket_markdown(store.events(None, errors_only=True), "UTC", "none (all events)")
    assert "[phone]" in want
    assert "[email]" in want
    monkeypatch.setattr(DatasetQuery, "events", spy)
    assert store_export.ticket_markdown(store, None, "UTC") == want
    assert loaded  # the pandas fallback
    csv_bytes = store_export.request_ids_csv(store, None, "UTC")
    assert csv_bytes == export.request_ids_csv(original(store, None, errors_only=True), "UTC")


def test_redaction_candidates_cover_what_redact_changes() -> None:
    """The SQL prefilter flags every request_id ``redact`` would change (and few others)."""
    import duckdb

    from ingest.redact import redact

    ids = [
        "13812345678",
        "+8613812345678",
        "x-13812345678",
        "a13812345678",
        "138123456789",
        "id 13812345678,",
        "sk-abcdefgh12345",
        "Bearer abcdef123",
        "api_key=abcdef123",
        "a@b.co",
        "ＡＰＩ_KEY=abcdefgh",
        "4a49af1a-35c3-315c-fa7b-94d4de79c1e4",
        "chatcmpl-13812345678",
        "req_13812345678",
        "1381234567",
    ]
    con = duckdb.connect()
    con.execute("CREATE TABLE t (request_id VARCHAR)")
    con.executemany("INSERT INTO t VALUES (?)", [(i,) for i in ids])
    flagged = {
        r[0]
        for r in con.execute(
            f"SELECT request_id FROM t WHERE {store_export.REDACTION_CANDIDATE}"
        ).fetchall()
    }
    changed = {i for i in ids if redact(i) != i}
    assert changed <= flagged
    assert "4a49af1a-35c3-315c-fa7b-94d4de79c1e4" not in flagged
    assert "1381234567" not in flagged
    assert "req_13812345678" not in flagged


def test_cli_exports_of_a_dataset_stream_the_bytes_of_the_logs(tmp_path: Path, repo: Path) -> None:
    """``export-ids DATASET`` writes what ``export-ids LOGS`` writes for the same logs."""
    from ingest.store.ingester import ingest_dataset

    samples = str((repo / "sample_logs").resolve())
    dataset = tmp_path / "ds"
    ingest_dataset([samples], dataset, workers=1)
    runner = CliRunner()
    for args in (
        [],
        ["--code", "Throttling.RateQuota"],
        ["--category", "request-rate", "--since", "2026-11-20T14:00", "--until", "2026-11-20T15"],
    ):
        a, b = tmp_path / "a.csv", tmp_path / "b.csv"
        ra = runner.invoke(main, ["export-ids", samples, *args, "-o", str(a)])
        rb = runner.invoke(main, ["export-ids", str(dataset), *args, "-o", str(b)])
        assert ra.exit_code == rb.exit_code == 0, (ra.output, rb.output)
        assert a.read_bytes() == b.read_bytes()
        assert ra.stderr == rb.stderr.replace(str(b), str(a))
        out = runner.invoke(main, ["export-ids", str(dataset), *args])
        assert out.stdout_bytes == a.read_bytes()[3:]  # no BOM on stdout
        rows = list(csv.DictReader(io.StringIO(out.stdout)))
        assert len(rows) == a.read_bytes().count(b"\n") - 1
    md = tmp_path / "t.md"
    out = runner.invoke(
        main, ["export-ids", str(dataset), "--code", "InvalidParameter", "-o", str(md)]
    )
    assert out.exit_code == 0, out.output
    store = DatasetQuery(dataset)
    f = Filters(codes=("InvalidParameter",))
    tz = "Asia/Shanghai"
    want = export.ticket_markdown(store.events(f, errors_only=True), tz, f.describe(tz))
    assert md.read_text(encoding="utf-8") == want
    assert f"({store.count(f, errors_only=True)} failed calls)" in out.stderr
