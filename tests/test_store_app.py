"""`dashscope-logs app DATASET_DIR`: the dashboard opens a dataset without parsing a log, and
every page asks DuckDB (``app.backend.StoreQueries``) instead of loading the events."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from app import backend, data
from ingest import queries
from ingest.export import escape_markdown
from ingest.store.ingester import ingest_dataset
from ingest.store.query import DatasetQuery

REPO = Path(__file__).resolve().parent.parent
APP = REPO / "app" / "streamlit_app.py"
PAGES = ("overview", "throttling", "request_ids", "catalogue")


@pytest.fixture(autouse=True)
def clear_caches(fresh_caches: None) -> None:
    """Every test here starts and ends with empty Streamlit caches (conftest.fresh_caches)."""


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("store") / "ds"
    ingest_dataset([str(REPO / "sample_logs")], out, workers=1)
    return out


@pytest.fixture
def on_dataset(dataset: Path, monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, Any]]:
    """The app opens ``dataset``; parsing and loading every event fail the test. Returns the
    events the pages did read (exports, bounded analyses), with why."""
    monkeypatch.setattr(data, "cli_paths", lambda argv=None: [str(dataset)])

    def no_parsing(*_a: object, **_k: object) -> None:
        raise AssertionError("a dataset is read, not parsed")

    monkeypatch.setattr(data, "load_events", no_parsing)
    monkeypatch.setattr(queries, "apply_filters", no_parsing)  # no pandas filtering either
    read: list[tuple[str, Any]] = []
    original = DatasetQuery.events

    def events(
        self: DatasetQuery,
        filters: queries.Filters | None = None,
        *,
        errors_only: bool = False,
        limit: int | None = None,
        with_context: bool = False,
    ) -> pd.DataFrame:
        if not errors_only and limit is None:
            raise AssertionError("the whole events table was loaded")
        read.append(("errors" if errors_only else f"limit {limit}", filters))
        return original(
            self, filters, errors_only=errors_only, limit=limit, with_context=with_context
        )

    monkeypatch.setattr(DatasetQuery, "events", events)
    return read


def test_the_dashboard_reads_a_dataset(dataset: Path, on_dataset: list[Any]) -> None:
    at = AppTest.from_file(str(APP), default_timeout=30)
    at.run()
    assert not at.exception
    store = DatasetQuery(dataset)
    try:
        calls = store.kpis().calls
    finally:
        store.close()
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Calls seen"] == f"{calls:,}"
    assert any(f"from {escape_markdown(str(dataset))}" in c.value for c in at.caption)
    assert isinstance(data.load_paths([str(dataset)], "x").queries, backend.StoreQueries)
    assert on_dataset == []  # the overview is aggregates only


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_from_sql(page: str, on_dataset: list[Any]) -> None:
    at = AppTest.from_file(str(APP), default_timeout=30)
    at.run()
    at.switch_page(f"app_pages/{page}.py").run()
    assert not at.exception, at.exception
    if page == "request_ids":
        table = at.main.dataframe[0].value
        assert len(table) > 0
        # the ticket is aggregated in SQL and the CSV streamed: no events are loaded
        assert on_dataset == []
    if page == "catalogue":
        seen = at.main.dataframe[0].value
        assert seen["seen"].sum() > 0


def test_the_filters_come_from_sql_and_are_pushed_down(
    dataset: Path, on_dataset: list[Any]
) -> None:
    store = DatasetQuery(dataset)
    try:
        options = store.filter_options()
        code = str(options.codes["code"].iloc[0])
        expected = store.kpis(queries.Filters(codes=(code,)))
    finally:
        store.close()
    at = AppTest.from_file(str(APP), default_timeout=30)
    at.run()
    assert at.multiselect(key="codes").options  # offered from SQL
    at.multiselect(key="codes").set_value([code]).run()
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Errors"] == f"{expected.errors:,}"
    assert metrics["Calls seen"] == f"{expected.calls:,}"


def test_the_frame_and_the_store_answer_alike(dataset: Path) -> None:
    """The two implementations of ``app.backend.Queries`` agree on the same events."""
    store = DatasetQuery(dataset)
    try:
        sql = backend.StoreQueries(store)
        frame = backend.FrameQueries(store.events())
        for filters in (queries.Filters(), queries.Filters(categories=("request-rate",))):
            assert sql.kpis(filters) == frame.kpis(filters)
            a, n = sql.top_request_ids(filters, "", 50)
            b, m = frame.top_request_ids(filters, "", 50)
            assert n == m
            assert list(a["request_id"]) == list(b["request_id"])

            def counts(series: pd.Series) -> dict[tuple[str, str], int]:
                return {(str(c), str(k)): int(n) for (c, k), n in series.items() if n}

            assert counts(sql.code_counts(filters)) == counts(frame.code_counts(filters))
            assert sql.options().models == frame.options().models
            # the downloads: streamed / aggregated in SQL, byte for byte the frame's
            tz = "Asia/Shanghai"
            assert sql.request_ids_csv(filters, tz) == frame.request_ids_csv(filters, tz)
            assert sql.ticket(filters, tz) == frame.ticket(filters, tz)
    finally:
        store.close()


def test_a_selection_too_big_for_the_retry_analysis_is_counted_not_loaded(
    on_dataset: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The throttling page's retry analysis skips big selections; on a dataset it counts them
    from the rollups instead of loading ``RETRY_MAX_ROWS`` events to find out (3-5 s a filter
    change at 50 M events)."""
    monkeypatch.setattr(data, "RETRY_MAX_ROWS", 10)
    at = AppTest.from_file(str(APP), default_timeout=30)
    at.run()
    at.switch_page("app_pages/throttling.py").run()
    assert not at.exception, at.exception
    assert not [why for why, _ in on_dataset if why.startswith("limit")]
