"""DuckDB over the dataset answers exactly what the pandas queries answer on the same events."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from ingest import load_events, queries
from ingest.queries import Filters
from ingest.store.ingester import ingest_dataset
from ingest.store.query import DatasetQuery

SAMPLES = Path(__file__).resolve().parent.parent / "sample_logs"


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> DatasetQuery:
    dataset = tmp_path_factory.mktemp("store") / "ds"
    ingest_dataset([str(SAMPLES)], dataset, engine="local", workers=1)
    return DatasetQuery(dataset)


@pytest.fixture(scope="module")
def events(store: DatasetQuery) -> pd.DataFrame:
    return store.events()


def _filters(events: pd.DataFrame) -> list[Filters]:
    first = events["timestamp"].min()
    models = events["model"].value_counts().index[:2]
    return [
        Filters(),
        Filters(models=tuple(str(m) for m in models)),
        Filters(codes=("Throttling.RateQuota", "InvalidParameter")),
        Filters(categories=("request-rate", "server")),
        Filters(statuses=(429, 500)),
        Filters(search="LIMIT"),
        Filters(start=first + pd.Timedelta(hours=3), end=first + pd.Timedelta(hours=9)),
        Filters(
            sources=(str(SAMPLES.resolve() / "python_sdk.log"),),
            start=first + pd.Timedelta(hours=20),
            categories=("request-rate",),
        ),
        Filters(codes=("NoSuchCode",)),
    ]


def test_the_dataset_holds_the_events_load_events_gives(events: pd.DataFrame) -> None:
    sources = [str(p) for p in sorted(SAMPLES.resolve().iterdir())]
    expected, _ = load_events(sources, workers=1)
    pd.testing.assert_frame_equal(
        expected.reset_index(drop=True), events.reset_index(drop=True), check_categorical=False
    )


def _same(a: pd.DataFrame, b: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(
        a.reset_index(drop=True).astype(object).where(a.notna().to_numpy(), None),
        b.reset_index(drop=True).astype(object).where(b.notna().to_numpy(), None),
        check_dtype=False,
        check_index_type=False,
        check_column_type=False,
    )


@pytest.mark.parametrize("k", range(9))
def test_duckdb_equals_pandas(k: int, store: DatasetQuery, events: pd.DataFrame) -> None:
    f = _filters(events)[k]
    sel = queries.apply_filters(events, f)
    assert store.kpis(f) == queries.kpis(sel)
    assert store.count(f) == len(sel)
    k_ = queries.kpis(sel)
    for bucket in ("1min", queries.choose_bucket(k_.first, k_.last)):
        for tz in ("UTC", "Asia/Shanghai"):
            a, b = queries.errors_over_time(sel, bucket, tz), store.errors_over_time(f, bucket, tz)
            pd.testing.assert_frame_equal(a.counts, b.counts, check_freq=False)
            pd.testing.assert_frame_equal(a.totals, b.totals, check_freq=False, check_dtype=False)
            a, b = (
                queries.throttling_over_time(sel, bucket, tz),
                store.throttling_over_time(f, bucket, tz),
            )
            pd.testing.assert_frame_equal(a.counts, b.counts, check_freq=False)
            pd.testing.assert_frame_equal(a.totals, b.totals, check_freq=False, check_dtype=False)
    meanings = {"Throttling.RateQuota": "too many requests"}
    _same(queries.top_codes(sel, meanings), store.top_codes(f, meanings))
    _same(queries.status_distribution(sel), store.status_distribution(f))
    _same(
        queries.per_model(sel).sort_values("model").drop(columns="top_code"),
        store.per_model(f).sort_values("model").drop(columns="top_code"),
    )
    _same(queries.top_request_ids(sel), store.top_request_ids(f))
    _same(queries.top_request_ids(sel, 7), store.top_request_ids(f, 7))
    _same(queries.failures_without_request_id(sel), store.failures_without_request_id(f))
    a_opt, b_opt = queries.filter_options(sel), store.filter_options(f)
    _same(a_opt.codes, b_opt.codes)
    assert (a_opt.statuses, a_opt.models, a_opt.sources, a_opt.categories) == (
        b_opt.statuses,
        b_opt.models,
        b_opt.sources,
        b_opt.categories,
    )
    assert list(a_opt.categories) == list(b_opt.categories)
    pd.testing.assert_frame_equal(
        queries.apply_filters(events, f).reset_index(drop=True),
        store.events(f).reset_index(drop=True),
        check_categorical=False,
    )


def test_top_code_per_model_is_the_most_frequent(store: DatasetQuery, events: pd.DataFrame) -> None:
    errs = events[events["is_error"]]
    per_model = store.per_model().set_index("model")
    for model, group in errs.groupby("model", observed=True):
        counts = group["code"].value_counts()
        best = counts[counts == counts.max()].index.astype(str)
        assert per_model.loc[str(model), "top_code"] in set(best)


def test_summary_of_the_dataset_equals_the_summary_of_its_events(
    store: DatasetQuery, events: pd.DataFrame
) -> None:
    from ingest.store.reports import load_report
    from ingest.summary import summarise, summarise_dataset

    report = load_report(store.dataset)
    assert summarise(events, report, top=5) == summarise_dataset(store, report, top=5)
