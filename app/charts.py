"""Pure figure builders: an aggregated frame in, a Plotly figure out (no Streamlit here).

Times are converted to the display zone before plotting and the zone is named on the axis:
Plotly writes tz-aware timestamps as wall-clock strings and drops the offset. Text that comes
from logs (codes, models, messages) is HTML-escaped, since Plotly renders a subset of HTML in
labels and hover text.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping, Sequence

import pandas as pd
import plotly.graph_objects as go

from ingest.queries import Spike, TimeSeries

#: one colour per catalogue category (throttling kinds in warm tones)
CATEGORY_COLORS: dict[str, str] = {
    "request-rate": "#e4572e",
    "token-rate": "#f3a712",
    "burst": "#a8201a",
    "free-tier": "#f28482",
    "billing": "#6a4c93",
    "auth": "#1982c4",
    "permission": "#4267ac",
    "moderation": "#8ac926",
    "bad-request": "#52a675",
    "not-found": "#7b8cde",
    "server-error": "#444444",
    "timeout": "#8d99ae",
    "client-side": "#b5838d",
    "unknown": "#bbbbbb",
}
RATE_COLOR = "#111111"
HEIGHT = 360
#: fixed margins of the time charts (px): y tick labels left, the rate axis right, two lines of
#: date ticks and the axis title below. Plotly's automargin (on in the default template) draws
#: every axis twice; on a stacked time chart that was most of the browser's redraw time.
TIME_MARGIN = {"l": 50, "r": 50, "t": 10, "b": 72}


def esc(text: object) -> str:
    """Log text made inert for Plotly's HTML-ish labels."""
    return html.escape(str(text), quote=False)


def zone_label(tz: str, when: pd.Timestamp | None = None) -> str:
    """``Asia/Shanghai, UTC+08:00``: the zone and its offset (at ``when``, default now)."""
    ts = (when if when is not None else pd.Timestamp.now(tz="UTC")).tz_convert(tz)
    offset = ts.strftime("%z")
    return f"{tz}, UTC{offset[:3]}:{offset[3:]}"


def local_index(index: pd.Index, tz: str) -> pd.DatetimeIndex:
    """A UTC DatetimeIndex as naive wall-clock times in ``tz`` (what Plotly shows)."""
    return pd.DatetimeIndex(index).tz_convert(tz).tz_localize(None)


def _layout(fig: go.Figure, *, title: str | None = None, height: int = HEIGHT) -> go.Figure:
    fig.update_layout(
        title=title,
        height=height,
        margin={"l": 10, "r": 10, "t": 40 if title else 10, "b": 10},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0},
        hovermode="x unified",
        bargap=0.05,
    )
    return fig


def _fixed_margins(fig: go.Figure, *, right: int = TIME_MARGIN["r"]) -> go.Figure:
    """Explicit margins, no axis automargin: one layout pass per redraw instead of several."""
    fig.update_layout(margin={**TIME_MARGIN, "r": right})
    fig.update_xaxes(automargin=False)
    fig.update_yaxes(automargin=False)
    return fig


def _stacked_bars(series: TimeSeries, x: pd.DatetimeIndex, labels: Mapping[str, str]) -> go.Figure:
    """A figure with one bar trace per column of ``series.counts`` (category or kind colours)."""
    fig = go.Figure()
    for column in series.counts.columns:
        fig.add_bar(
            x=x,
            y=series.counts[column].to_numpy(),
            name=esc(labels.get(column, column)),
            marker_color=CATEGORY_COLORS.get(str(column), "#999999"),
        )
    return fig


def errors_over_time(
    series: TimeSeries,
    tz: str,
    *,
    labels: Mapping[str, str] | None = None,
    rate_label: str = "error rate",
    time_label: str = "Time",
) -> go.Figure:
    """Stacked bars of errors per bucket by category, with the error-rate line on a right axis."""
    labels = labels or {}
    x = local_index(series.counts.index, tz)
    fig = _stacked_bars(series, x, labels)
    rate = series.totals["error_rate"]
    if rate.notna().any():
        fig.add_scatter(
            x=x,
            y=rate.to_numpy(),
            name=esc(rate_label),
            yaxis="y2",
            mode="lines",
            line={"color": RATE_COLOR, "width": 1.5},
            hovertemplate="%{y:.1%}",
        )
    when = series.counts.index[0] if len(series.counts.index) else None
    fig.update_layout(
        barmode="stack",
        xaxis={"title": f"{time_label} ({zone_label(tz, when)})"},
        yaxis={"title": None, "rangemode": "tozero"},
        yaxis2={
            "overlaying": "y",
            "side": "right",
            "tickformat": ".0%",
            "rangemode": "tozero",
            "showgrid": False,
        },
        dragmode="select",
        selectdirection="h",
    )
    return _fixed_margins(_layout(fig))


def throttling_over_time(
    series: TimeSeries,
    tz: str,
    spikes: Sequence[Spike] = (),
    *,
    labels: Mapping[str, str] | None = None,
    time_label: str = "Time",
    spike_text: Callable[[Spike], str] | None = None,
) -> go.Figure:
    """Stacked 429s per bucket split by kind, each spike shaded and annotated with its peak."""
    labels = labels or {}
    x = local_index(series.counts.index, tz)
    fig = _stacked_bars(series, x, labels)
    for spike in spikes:
        start = spike.start.tz_convert(tz).tz_localize(None)
        end = spike.end.tz_convert(tz).tz_localize(None)
        share = "" if spike.share is None else f", {spike.share:.0%}"
        text = spike_text(spike) if spike_text else f"{spike.total} ({spike.peak} peak{share})"
        fig.add_vrect(
            x0=start,
            x1=end,
            fillcolor="#e4572e",
            opacity=0.12,
            line_width=0,
        )
        fig.add_annotation(
            x=spike.peak_time.tz_convert(tz).tz_localize(None),
            y=spike.peak,
            text=esc(text),
            showarrow=True,
            arrowhead=2,
            ay=-30,
        )
    when = series.counts.index[0] if len(series.counts.index) else None
    fig.update_layout(
        barmode="stack",
        xaxis={"title": f"{time_label} ({zone_label(tz, when)})"},
        yaxis={"title": None, "rangemode": "tozero"},
    )
    return _fixed_margins(_layout(fig), right=15)


def top_codes(
    frame: pd.DataFrame,
    *,
    labels: Mapping[str, str] | None = None,
    count_label: str = "Count",
) -> go.Figure:
    """Horizontal bars of errors per code (most frequent on top); meaning and share on hover."""
    labels = labels or {}
    data = frame.iloc[::-1]
    categories = [str(c) for c in data["category"]]
    fig = go.Figure(
        go.Bar(
            x=data["count"].to_numpy(),
            y=[esc(c) for c in data["code"]],
            orientation="h",
            marker_color=[CATEGORY_COLORS.get(c, "#999999") for c in categories],
            customdata=[
                [esc(labels.get(c, c)), f"{s:.1%}", esc(m or "")]
                for c, s, m in zip(categories, data["share"], data["meaning"], strict=True)
            ],
            hovertemplate="<b>%{y}</b>: %{x}<br>%{customdata[0]} · %{customdata[1]}"
            "<br>%{customdata[2]}<extra></extra>",
        )
    )
    fig.update_layout(xaxis={"title": count_label}, hovermode="closest")
    return _layout(fig, height=max(220, 28 * len(frame) + 60))


def status_distribution(frame: pd.DataFrame, *, count_label: str = "Count") -> go.Figure:
    """Bars of errors per reconciled HTTP status (4xx blue, 429 orange, 5xx grey)."""
    statuses = [int(s) for s in frame["status"]]
    colors = [
        "#e4572e" if s == 429 else "#444444" if s >= 500 else "#1982c4" if s >= 400 else "#bbbbbb"
        for s in statuses
    ]
    fig = go.Figure(
        go.Bar(
            x=[str(s) for s in statuses],
            y=frame["count"].to_numpy(),
            marker_color=colors,
            customdata=frame["corrected"].to_numpy(),
            hovertemplate="HTTP %{x}: %{y}<br>corrected: %{customdata}<extra></extra>",
        )
    )
    fig.update_layout(xaxis={"type": "category", "title": "HTTP"}, yaxis={"title": count_label})
    fig.update_layout(hovermode="closest")
    return _layout(fig, height=300)


def per_model(
    frame: pd.DataFrame,
    *,
    errors_label: str = "Errors",
    throttled_label: str = "Throttled",
) -> go.Figure:
    """Errors and throttled calls per model, side by side."""
    models = [esc(m) for m in frame["model"]]
    fig = go.Figure()
    fig.add_bar(x=models, y=frame["errors"].to_numpy(), name=esc(errors_label))
    fig.add_bar(
        x=models,
        y=frame["throttled"].to_numpy(),
        name=esc(throttled_label),
        marker_color=CATEGORY_COLORS["request-rate"],
    )
    fig.update_layout(barmode="group", hovermode="closest", xaxis={"type": "category"})
    return _layout(fig, height=300)
