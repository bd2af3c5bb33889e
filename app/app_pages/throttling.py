"""Throttling: 429s over time by kind, spikes with their window and share, per model, advice."""

from __future__ import annotations

import streamlit as st

from app import charts, data, shell
from app.app_pages.common import category_labels, filtered
from app.i18n import lang, t
from ingest import queries


def render() -> None:
    st.title(t("page_throttling"))
    dataset = shell.current()
    if dataset is None:
        shell.no_data()
        return
    body(dataset)


@st.fragment
def body(dataset: data.Dataset) -> None:
    view = filtered(dataset)
    if view.events.empty:
        st.info(t("no_events"))
        return
    labels = category_labels()
    k = queries.kpis(view.events)
    bucket = queries.choose_bucket(k.first, k.last)
    series = queries.throttling_over_time(view.events, bucket, view.tz)
    throttled = series.counts.sum(axis=1)
    spikes = queries.detect_spikes(throttled, calls=series.totals["calls"], bucket=bucket)

    cols = st.columns(len(queries.THROTTLING_KINDS) + 1)
    cols[0].metric(t("kpi_throttled"), f"{int(throttled.sum()):,}")
    for col, kind in zip(cols[1:], queries.THROTTLING_KINDS, strict=True):
        col.metric(labels.get(kind, kind), f"{int(series.counts[kind].sum()):,}")

    st.subheader(t("throttling_over_time"))
    if throttled.sum() == 0:
        st.info(t("no_throttling"))
    st.plotly_chart(
        charts.throttling_over_time(
            series,
            view.tz,
            spikes,
            labels=labels,
            time_label=t("col_time"),
            spike_text=lambda s: t("spike_note", total=s.total, peak=s.peak),
        ),
        key="throttling_chart",
    )
    st.caption(t("bucket", bucket=bucket, tz=view.tz))

    st.subheader(t("spikes"))
    if not spikes:
        st.write(t("no_spikes"))
    for spike in spikes:
        line = t(
            "spike_row",
            start=queries.format_time(spike.start, view.tz),
            end=queries.format_time(spike.end, view.tz),
            total=f"{spike.total:,}",
            peak=spike.peak,
            peak_time=queries.format_time(spike.peak_time, view.tz),
        )
        if spike.share is not None:
            line += " · " + t("spike_share", share=f"{spike.share:.0%}")
        st.text(line)
    st.caption(
        t(
            "spike_method",
            window=queries.SPIKE_WINDOW,
            k=queries.SPIKE_K,
            min_count=queries.SPIKE_MIN_COUNT,
        )
    )

    st.subheader(t("per_model_throttling"))
    models = queries.per_model(view.events)
    models = models.loc[models["throttled"] > 0]
    st.dataframe(
        models[["model", "calls", "throttled", "errors"]],
        hide_index=True,
        key="throttling_models",
        column_config={
            "model": t("col_model"),
            "calls": st.column_config.NumberColumn(t("col_calls"), format="localized"),
            "throttled": st.column_config.NumberColumn(t("col_throttled"), format="localized"),
            "errors": st.column_config.NumberColumn(t("col_errors"), format="localized"),
        },
    )

    st.subheader(t("advice"))
    catalogue = data.catalogue()
    for kind in queries.THROTTLING_KINDS:
        category = catalogue.categories.get(kind)
        entries = [e for e in catalogue.entries if e.category == kind]
        with st.container(border=True, key=f"advice_{kind}"):
            st.markdown(f"**{labels.get(kind, kind)}** ({int(series.counts[kind].sum()):,})")
            if category is not None:
                st.write(category.description(lang()))
            if entries:
                st.write(entries[0].advice(lang()))
                st.caption(", ".join(sorted({e.code for e in entries})))


render()
