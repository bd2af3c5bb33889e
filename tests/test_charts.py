"""app.charts: pure figure builders from aggregated frames."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from fixtures_events import SPIKE_START, make_events

from app import charts
from ingest import queries as q


@pytest.fixture(scope="module")
def events() -> pd.DataFrame:
    return make_events(3000, seed=7, hostile=True)


def test_errors_over_time_is_stacked_with_a_rate_line(events: pd.DataFrame) -> None:
    series = q.errors_over_time(events, "5min", "Asia/Shanghai")
    fig = charts.errors_over_time(series, "Asia/Shanghai", labels={"request-rate": "RPM"})
    bars = [t for t in fig.data if t.type == "bar"]
    lines = [t for t in fig.data if t.type == "scatter"]
    assert len(bars) == len(series.counts.columns)
    assert bars[0].name == "RPM"
    assert len(lines) == 1
    assert lines[0].yaxis == "y2"
    assert fig.layout.barmode == "stack"
    # one point per bucket, never one per event
    assert len(bars[0].x) == len(series.counts) < len(events)


def test_times_are_local_and_the_zone_is_named(events: pd.DataFrame) -> None:
    series = q.errors_over_time(events, "5min", "Asia/Shanghai")
    fig = charts.errors_over_time(series, "Asia/Shanghai")
    first = pd.Timestamp(fig.data[0].x[0])
    assert first.tzinfo is None
    assert first == series.counts.index[0].tz_convert("Asia/Shanghai").tz_localize(None)
    assert "Asia/Shanghai, UTC+08:00" in fig.layout.xaxis.title.text


def test_no_rate_line_without_successes() -> None:
    series = q.errors_over_time(make_events(300, seed=1, successes=False), "5min")
    fig = charts.errors_over_time(series, "UTC")
    assert all(t.type == "bar" for t in fig.data)


def test_throttling_marks_spikes(events: pd.DataFrame) -> None:
    series = q.throttling_over_time(events, "5min", "UTC")
    spikes = q.detect_spikes(series.counts.sum(axis=1), calls=series.totals["calls"], bucket="5min")
    fig = charts.throttling_over_time(series, "UTC", spikes)
    assert [t.name for t in fig.data] == list(q.THROTTLING_KINDS)
    assert len(fig.layout.shapes) == len(spikes) == 1
    assert pd.Timestamp(fig.layout.shapes[0].x0) == SPIKE_START.tz_localize(None)
    assert "peak" in fig.layout.annotations[0].text


def test_time_charts_have_fixed_margins(events: pd.DataFrame) -> None:
    """No axis automargin on the time charts: Plotly lays every axis out again for it, which
    was most of the browser's redraw time after a filter change (bench/browser_bench.py)."""
    errors = charts.errors_over_time(q.errors_over_time(events, "5min", "UTC"), "UTC")
    throttling = charts.throttling_over_time(q.throttling_over_time(events, "5min", "UTC"), "UTC")
    for fig in (errors, throttling):
        axes = [fig.layout.xaxis, fig.layout.yaxis] + ([fig.layout.yaxis2] if fig is errors else [])
        assert [axis.automargin for axis in axes] == [False] * len(axes)
        assert fig.layout.margin.l >= 40
        assert fig.layout.margin.b >= 60
    assert errors.layout.margin.r >= 40  # the error-rate axis is on the right


def test_top_codes_puts_the_most_frequent_on_top_with_meanings(events: pd.DataFrame) -> None:
    top = q.top_codes(events, {"InternalError": "<b>内部错误</b>"})
    fig = charts.top_codes(top)
    bar = fig.data[0]
    assert bar.y[-1] == top.iloc[0]["code"]
    assert list(bar.x) == list(top["count"][::-1])
    meanings = [c[2] for c in bar.customdata]
    assert "&lt;b&gt;内部错误&lt;/b&gt;" in meanings


def test_log_text_is_escaped() -> None:
    frame = pd.DataFrame(
        {"model": ["<img src=x onerror=alert(1)>"], "errors": [1], "throttled": [0]}
    )
    fig = charts.per_model(frame)
    assert fig.data[0].x[0] == "&lt;img src=x onerror=alert(1)&gt;"


def test_status_distribution(events: pd.DataFrame) -> None:
    dist = q.status_distribution(events)
    fig = charts.status_distribution(dist)
    assert list(fig.data[0].x) == [str(s) for s in dist["status"]]
    assert np.array_equal(np.asarray(fig.data[0].y), dist["count"].to_numpy())


def test_zone_label() -> None:
    assert charts.zone_label("UTC") == "UTC, UTC+00:00"
    summer = pd.Timestamp("2025-07-01", tz="UTC")
    assert charts.zone_label("Europe/Berlin", summer) == "Europe/Berlin, UTC+02:00"
