"""Pieces several pages share: the filtered view of the dataset, the KPI row, labels."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from app import data, filters
from app.i18n import lang, t
from ingest import queries
from ingest.analysis import Explanation, RetryReport
from ingest.queries import Filters


@dataclass(frozen=True)
class View:
    """The dataset after the sidebar filters, with the display zone: what the pages ask.

    Every question is answered (and cached) by ``app.data``, from pandas or from DuckDB
    depending on the source; a page never touches the events themselves.
    """

    dataset: data.Dataset
    filters: Filters
    tz: str

    def kpis(self) -> queries.Kpis:
        return data.kpis(self.dataset, self.filters)

    def errors_over_time(self, bucket: str) -> queries.TimeSeries:
        return data.errors_over_time(self.dataset, self.filters, bucket, self.tz)

    def throttling_over_time(self, bucket: str) -> queries.TimeSeries:
        return data.throttling_over_time(self.dataset, self.filters, bucket, self.tz)

    def top_codes(self) -> pd.DataFrame:
        return data.top_codes(self.dataset, self.filters, lang())

    def status_distribution(self) -> pd.DataFrame:
        return data.status_distribution(self.dataset, self.filters)

    def per_model(self) -> pd.DataFrame:
        return data.per_model(self.dataset, self.filters)

    def top_request_ids(self, needle: str, limit: int) -> tuple[pd.DataFrame, int]:
        return data.top_request_ids(self.dataset, self.filters, needle, limit)

    def failures_without_request_id(self) -> pd.DataFrame:
        return data.failures_without_request_id(self.dataset, self.filters)

    def code_counts(self) -> pd.Series:
        return data.code_counts(self.dataset, self.filters)

    def request_ids_csv(self) -> bytes:
        return data.request_ids_csv(self.dataset, self.filters, self.tz)

    def figure(
        self, chart: str, args: tuple[Any, ...], build: Callable[[], go.Figure]
    ) -> go.Figure:
        """The ``chart`` of this view, built once per filters, zone, language and ``args``."""
        return data.figure(self.dataset, self.filters, chart, (lang(), self.tz, *args), build)

    def ticket(self) -> str:
        return data.ticket(self.dataset, self.filters, self.tz)

    def explanation(self, spike: queries.Spike) -> Explanation:
        return data.explanation(self.dataset, self.filters, spike, self.tz)

    def retries(self) -> RetryReport | None:
        return data.retries(self.dataset, self.filters)


def filtered(dataset: data.Dataset) -> View:
    """Draw the sidebar filters (inside the page's fragment); the view they select."""
    chosen, tz = filters.render(dataset, data.options(dataset))
    return View(dataset, chosen, tz)


def category_labels() -> dict[str, str]:
    return {c.id: c.label(lang()) for c in data.catalogue().categories.values()}


def local_times(frame: pd.DataFrame, columns: list[str], tz: str) -> pd.DataFrame:
    """Copy of ``frame`` with the timestamp ``columns`` shown as naive local times in ``tz``."""
    out = frame.copy()
    for col in columns:
        out[col] = pd.to_datetime(out[col], utc=True).dt.tz_convert(tz).dt.tz_localize(None)
    return out


def kpi_row(view: View) -> queries.Kpis:
    k = view.kpis()
    tz = view.tz
    cols = st.columns(6)
    cols[0].metric(t("kpi_calls"), f"{k.calls:,}")
    cols[1].metric(t("kpi_errors"), f"{k.errors:,}")
    if k.error_rate is None:
        cols[2].metric(t("kpi_rate"), t("kpi_rate_na"), help=t("kpi_rate_na_help"))
    else:
        cols[2].metric(t("kpi_rate"), f"{k.error_rate:.1%}")
    cols[3].metric(t("kpi_throttled"), f"{k.throttled:,}")
    cols[4].metric(t("kpi_rids"), f"{k.failing_request_ids:,}")
    span_help = None
    if k.first is not None and k.last is not None:
        span_help = f"{queries.format_time(k.first, tz)} — {queries.format_time(k.last, tz)}"
    cols[5].metric(t("kpi_span"), queries.humanize_span(k.span), help=span_help)
    return k
