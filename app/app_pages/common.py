"""Pieces several pages share: the filtered view of the dataset, the KPI row, labels."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import streamlit as st

from app import data, filters
from app.i18n import lang, t
from ingest import queries
from ingest.queries import Filters


@dataclass(frozen=True)
class View:
    """The dataset after the sidebar filters, with the display zone."""

    dataset: data.Dataset
    events: pd.DataFrame
    filters: Filters
    tz: str


def filtered(dataset: data.Dataset) -> View:
    """Draw the sidebar filters (inside the page's fragment) and apply them."""
    options = data.options(dataset.key, dataset.events)
    chosen, tz = filters.render(dataset, options)
    return View(dataset, queries.apply_filters(dataset.events, chosen), chosen, tz)


def category_labels() -> dict[str, str]:
    return {c.id: c.label(lang()) for c in data.catalogue().categories.values()}


def local_times(frame: pd.DataFrame, columns: list[str], tz: str) -> pd.DataFrame:
    """Copy of ``frame`` with the timestamp ``columns`` shown as naive local times in ``tz``."""
    out = frame.copy()
    for col in columns:
        out[col] = pd.to_datetime(out[col], utc=True).dt.tz_convert(tz).dt.tz_localize(None)
    return out


def kpi_row(events: pd.DataFrame, tz: str) -> queries.Kpis:
    k = queries.kpis(events)
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
