"""ingest.queries: filters, KPIs, buckets, spikes and tables on the synthetic events frame."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from fixtures_events import DAY_START, SPIKE_END, SPIKE_START, make_events

from ingest import queries as q
from ingest.catalog.model import CATEGORY_IDS
from ingest.schema import empty_events


@pytest.fixture(scope="module")
def events() -> pd.DataFrame:
    return make_events(4000, seed=1)


def test_categories_are_the_catalogues() -> None:
    assert q.CATEGORIES == CATEGORY_IDS
    assert set(q.THROTTLING_KINDS) <= set(CATEGORY_IDS)


def test_no_filter_returns_everything(events: pd.DataFrame) -> None:
    assert q.apply_filters(events, q.Filters()) is events


def test_outcome_filters_keep_successes_as_denominator(events: pd.DataFrame) -> None:
    out = q.apply_filters(events, q.Filters(codes=("InvalidApiKey",)))
    errors = out.loc[out["is_error"]]
    assert set(errors["code"].astype(str)) == {"InvalidApiKey"}
    assert (~out["is_error"]).sum() == (~events["is_error"]).sum()


@pytest.mark.parametrize(
    ("filters", "column", "expected"),
    [
        (q.Filters(models=("qwen-plus",)), "model", {"qwen-plus"}),
        (q.Filters(sources=("app-a.log",)), "source", {"app-a.log"}),
    ],
)
def test_scope_filters_apply_to_every_event(
    events: pd.DataFrame, filters: q.Filters, column: str, expected: set[str]
) -> None:
    out = q.apply_filters(events, filters)
    assert set(out[column].astype(str)) == expected
    assert (~out["is_error"]).any()


def test_status_category_and_search(events: pd.DataFrame) -> None:
    out = q.apply_filters(events, q.Filters(statuses=(429,)))
    assert set(out.loc[out["is_error"], "status_code"].astype(int)) == {429}
    out = q.apply_filters(events, q.Filters(categories=("server-error", "timeout")))
    assert set(out.loc[out["is_error"], "category"].astype(str)) == {"server-error", "timeout"}
    out = q.apply_filters(events, q.Filters(search="TIMED OUT"))
    assert set(out.loc[out["is_error"], "code"].astype(str)) == {"RequestTimeOut"}


def test_time_window_is_half_open(events: pd.DataFrame) -> None:
    out = q.apply_filters(events, q.Filters(start=SPIKE_START, end=SPIKE_END))
    assert out["timestamp"].min() >= SPIKE_START
    assert out["timestamp"].max() < SPIKE_END


def test_kpis(events: pd.DataFrame) -> None:
    k = q.kpis(events)
    assert k.calls == len(events)
    assert k.errors == int(events["is_error"].sum())
    assert k.error_rate == pytest.approx(k.errors / k.calls)
    throttled = events["category"].astype(str).isin(q.THROTTLING_KINDS) & events["is_error"]
    assert k.throttled == int(throttled.sum())
    assert k.errors_without_request_id == 7
    errs = events.loc[events["is_error"]]
    assert k.failing_request_ids == errs["request_id"].nunique()
    assert k.first == events["timestamp"].min()
    assert k.span is not None
    assert k.span < pd.Timedelta(days=1)


def test_error_rate_is_none_without_successes() -> None:
    k = q.kpis(make_events(500, seed=2, successes=False))
    assert k.errors == k.calls
    assert k.error_rate is None


def test_kpis_of_nothing() -> None:
    k = q.kpis(empty_events())
    assert (k.calls, k.errors, k.error_rate, k.first, k.span) == (0, 0, None, None, None)


@pytest.mark.parametrize(
    ("span", "bucket"),
    [
        (pd.Timedelta(minutes=2), "1s"),
        (pd.Timedelta(minutes=30), "10s"),
        (pd.Timedelta(hours=3), "1min"),
        (pd.Timedelta(days=1), "5min"),
        (pd.Timedelta(days=3), "15min"),
        (pd.Timedelta(days=30), "3h"),
        (pd.Timedelta(days=3650), "1D"),
    ],
)
def test_choose_bucket(span: pd.Timedelta, bucket: str) -> None:
    assert q.choose_bucket(DAY_START, DAY_START + span) == bucket


@pytest.mark.parametrize("days", [0.01, 0.1, 1, 2, 7, 30, 60])
def test_choose_bucket_gives_50_to_300_buckets(days: float) -> None:
    span = pd.Timedelta(days=days)
    n = span / pd.Timedelta(q.choose_bucket(DAY_START, DAY_START + span))
    assert 50 <= n <= 300


def test_errors_over_time(events: pd.DataFrame) -> None:
    series = q.errors_over_time(events, "5min", "Asia/Shanghai")
    assert int(series.counts.to_numpy().sum()) == int(events["is_error"].sum())
    assert int(series.totals["calls"].sum()) == len(events)
    assert series.counts.index.tz is not None
    assert list(series.counts.columns)[:2] == ["request-rate", "token-rate"]
    idx = series.counts.index
    assert (np.diff(idx.asi8) == pd.Timedelta("5min").value).all()  # full range, no gaps
    rate = series.totals["error_rate"].dropna()
    assert ((rate >= 0) & (rate <= 1)).all()


def test_day_buckets_start_at_local_midnight(events: pd.DataFrame) -> None:
    series = q.errors_over_time(events, "1D", "Asia/Shanghai")
    local = series.counts.index.tz_convert("Asia/Shanghai")
    assert (local.hour == 0).all()


def test_throttling_over_time_has_the_four_kinds(events: pd.DataFrame) -> None:
    series = q.throttling_over_time(events, "5min")
    assert list(series.counts.columns) == list(q.THROTTLING_KINDS)
    assert int(series.counts["free-tier"].sum()) == 0
    assert int(series.counts.to_numpy().sum()) == q.kpis(events).throttled


def test_detect_spikes_finds_the_burst(events: pd.DataFrame) -> None:
    series = q.throttling_over_time(events, "5min")
    spikes = q.detect_spikes(series.counts.sum(axis=1), calls=series.totals["calls"], bucket="5min")
    assert len(spikes) == 1
    spike = spikes[0]
    assert spike.start == SPIKE_START
    assert spike.end == SPIKE_END
    assert SPIKE_START <= spike.peak_time < SPIKE_END
    assert spike.total >= 380  # 400 injected 429s, minus the odd one of another kind
    assert spike.share is not None
    assert 0.5 < spike.share <= 1


def test_detect_spikes_on_a_known_series() -> None:
    idx = pd.date_range("2025-01-01", periods=120, freq="1min", tz="UTC")
    rng = np.random.default_rng(3)
    values = rng.poisson(2, size=120)
    values[60:64] = [30, 45, 40, 25]
    spikes = q.detect_spikes(pd.Series(values, index=idx))
    assert [(s.start, s.end, s.peak, s.peak_time) for s in spikes] == [
        (idx[60], idx[64], 45, idx[61])
    ]
    assert spikes[0].total == 140
    assert spikes[0].share is None


def test_flat_zero_baseline_needs_the_floor_and_min_count() -> None:
    idx = pd.date_range("2025-01-01", periods=60, freq="1min", tz="UTC")
    values = np.zeros(60)
    values[30] = 4  # below min_count: not a spike
    values[45] = 6
    spikes = q.detect_spikes(pd.Series(values, index=idx))
    assert [s.start for s in spikes] == [idx[45]]


def test_no_spikes_in_noise_or_empty() -> None:
    idx = pd.date_range("2025-01-01", periods=200, freq="1min", tz="UTC")
    noise = np.random.default_rng(4).poisson(20, size=200)
    assert q.detect_spikes(pd.Series(noise, index=idx)) == []
    assert q.detect_spikes(pd.Series([], dtype="int64")) == []


def test_top_codes(events: pd.DataFrame) -> None:
    top = q.top_codes(events, {"InternalError": "内部错误"})
    assert top.iloc[0]["code"] == "Throttling.RateQuota"
    assert top["count"].is_monotonic_decreasing
    assert int(top["count"].sum()) == int(events["is_error"].sum())
    row = top.set_index("code").loc["InternalError"]
    assert (row["meaning"], row["status"], row["category"]) == ("内部错误", 500, "server-error")
    assert len(q.top_codes(events, limit=3)) == 3


def test_status_distribution(events: pd.DataFrame) -> None:
    dist = q.status_distribution(events).set_index("status")
    assert set(dist.index) == {400, 401, 408, 429, 500}
    assert int(dist["count"].sum()) == int(events["is_error"].sum())
    assert int(dist["corrected"].sum()) == 0


def test_per_model(events: pd.DataFrame) -> None:
    table = q.per_model(events).set_index("model")
    assert int(table["calls"].sum()) == len(events)
    assert int(table["errors"].sum()) == int(events["is_error"].sum())
    assert table.loc["qwen-max", "top_code"] == "Throttling.RateQuota"
    assert table["error_rate"].between(0, 1).all()


def test_top_request_ids(events: pd.DataFrame) -> None:
    ids = q.top_request_ids(events)
    errs = events.loc[events["is_error"] & events["request_id"].notna()]
    assert len(ids) == errs["request_id"].nunique()
    assert ids["mentions"].is_monotonic_decreasing
    first = ids.iloc[0]
    source, line = first["where"].rsplit(":", 1)
    row = events.loc[(events["source"] == source) & (events["line"] == int(line))].iloc[0]
    assert row["request_id"] == first["request_id"]


def test_top_request_ids_merges_repeated_ids(events: pd.DataFrame) -> None:
    errs = events.loc[events["is_error"] & events["request_id"].notna()].head(3).copy()
    errs["timestamp"] = errs["timestamp"] + pd.Timedelta(hours=1)
    doubled = pd.concat([events, errs], ignore_index=True)
    ids = q.top_request_ids(doubled).set_index("request_id")
    rid = errs.iloc[0]["request_id"]
    assert ids.loc[rid, "mentions"] == 2 * errs.iloc[0]["mentions"]
    assert ids.loc[rid, "last_seen"] - ids.loc[rid, "first_seen"] == pd.Timedelta(hours=1)


def test_failures_without_request_id(events: pd.DataFrame) -> None:
    missing = q.failures_without_request_id(events)
    assert int(missing["count"].sum()) == 7
    assert (missing["first_seen"] <= missing["last_seen"]).all()
    assert missing["where"].str.contains(":").all()


def test_filter_options(events: pd.DataFrame) -> None:
    opts = q.filter_options(events)
    assert list(opts.codes["code"])[:3] == [
        "Throttling.RateQuota",
        "Throttling.AllocationQuota",
        "Throttling.BurstRate",
    ]
    assert sum(opts.statuses.values()) == int(events["is_error"].sum())
    assert set(opts.models) == {"qwen-max", "qwen-plus", "qwen-turbo", "qwen-vl-max"}
    assert next(iter(opts.categories)) == "request-rate"


def test_describe() -> None:
    f = q.Filters(codes=("A",), start=pd.Timestamp("2025-03-10T06:00Z"), search=" x ")
    assert f.describe("Asia/Shanghai") == (
        'codes A; from 2025-03-10 14:00:00+08:00; message contains "x"'
    )
    assert q.Filters().describe() == "none (all events)"


def test_empty_frame_everywhere() -> None:
    e = empty_events()
    assert q.errors_over_time(e, "1min").counts.empty
    assert q.throttling_over_time(e, "1min").counts.empty
    assert q.top_codes(e).empty
    assert q.status_distribution(e).empty
    assert q.per_model(e).empty
    assert q.top_request_ids(e).empty
    assert q.failures_without_request_id(e).empty
