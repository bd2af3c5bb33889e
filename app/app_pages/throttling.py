"""Throttling: 429s over time by kind, spikes with their window and share, per model, advice."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app import charts, data, shell
from app.app_pages.common import View, category_labels, filtered
from app.i18n import lang, t
from ingest import analysis, queries


def render() -> None:
    shell.page("page_throttling", body)


@st.fragment
def body(dataset: data.Dataset) -> None:
    view = filtered(dataset)
    k = view.kpis()
    if k.calls == 0:
        st.info(t("no_events"))
        return
    labels = category_labels()
    bucket = queries.choose_bucket(k.first, k.last)
    series = view.throttling_over_time(bucket)
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
        view.figure(
            "throttling_over_time",
            (bucket,),
            lambda: charts.throttling_over_time(
                series,
                view.tz,
                spikes,
                labels=labels,
                time_label=t("col_time"),
                spike_text=lambda s: t("spike_note", total=s.total, peak=s.peak),
            ),
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
        explain(view, spike)
    st.caption(
        t(
            "spike_method",
            window=queries.SPIKE_WINDOW,
            k=queries.SPIKE_K,
            min_count=queries.SPIKE_MIN_COUNT,
        )
    )

    retries(view)

    st.subheader(t("per_model_throttling"))
    models = view.per_model()
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


def spike_sentence(ex: analysis.Explanation, tz: str) -> str:
    """The explainer's sentence in the UI language (the library's is English)."""
    h = ex.headline
    if lang() == "en" or h is None:
        return ex.sentence
    span = (ex.start.tz_convert(tz).strftime("%H:%M"), ex.end.tz_convert(tz).strftime("%H:%M"))
    what = " ".join(p for p in (h.model, h.code) if p)
    if h.unnamed >= 0.5:
        text = t(
            "spike_sentence_unnamed",
            unnamed=f"{h.unnamed:.0%}",
            share=f"{h.share:.0%}",
            start=span[0],
            end=span[1],
            what=what,
        )
    else:
        share = f"{h.share * (1 - h.unnamed):.0%}"
        text = t("spike_sentence", share=share, start=span[0], end=span[1], what=what)
    if h.lift is not None:
        text += t("spike_sentence_lift", lift=f"{h.lift:.1f}")
    elif h.new:
        text += t("spike_sentence_new")
    if h.who is not None:
        key = "spike_sentence_host" if h.who.column == "client_host" else "spike_sentence_key"
        text += t(key, share=f"{h.who.spike_share:.0%}", value=h.who.value)
    return text


def explain(view: View, spike: queries.Spike) -> None:
    """The spike in one sentence, and the values over-represented in it."""
    ex = view.explanation(spike)
    st.caption(t("spike_explain", sentence=spike_sentence(ex, view.tz)))
    if not ex.factors:
        return
    if ex.skipped:
        st.caption(t("spike_no_who"))
    with st.expander(t("spike_factors")):
        table = pd.DataFrame(
            [
                {
                    "column": f.column,
                    "value": f.value,
                    "count": f.spike_count,
                    "share": f.spike_share,
                    "baseline": f.baseline_share,
                    "lift": None if f.lift == float("inf") else round(f.lift, 1),
                }
                for f in ex.factors[:10]
            ]
        )
        st.dataframe(
            table,
            hide_index=True,
            key=f"spike_factors_{spike.start.value}",
            column_config={
                "column": t("col_column"),
                "value": t("col_value"),
                "count": st.column_config.NumberColumn(t("col_count")),
                "share": st.column_config.NumberColumn(t("col_share"), format="percent"),
                "baseline": st.column_config.NumberColumn(
                    t("col_baseline_share"), format="percent"
                ),
                "lift": st.column_config.NumberColumn(t("col_lift")),
            },
        )
        st.caption(t("spike_factors_note"))


def retries(view: View) -> None:
    """Retried attempts, outcomes after retries, wasted retries and retry storms."""
    st.subheader(t("retries"))
    tz = view.tz
    report = view.retries()
    if report is None:
        st.write(t("retries_too_many", n=f"{data.RETRY_MAX_ROWS:,}"))
        return
    if not report.retried_attempts:
        st.write(t("retries_none"))
        return
    cols = st.columns(5)
    cols[0].metric(t("retries_attempts"), f"{report.retried_attempts:,}")
    cols[1].metric(t("retries_calls"), f"{report.calls_with_retries:,}")
    cols[2].metric(t("retries_succeeded"), f"{report.succeeded_after_retries:,}")
    cols[3].metric(t("retries_failed"), f"{report.failed_after_retries:,}")
    cols[4].metric(t("retries_wasted"), f"{report.wasted_retries:,}", help=t("retries_wasted_help"))
    hist = report.attempts_histogram()
    st.caption(t("retries_per_call") + ": " + ", ".join(f"{n} × {c}" for n, c in hist.items()))
    if report.unknown_outcome:
        st.caption(t("retries_unknown", n=report.unknown_outcome))
    if report.wasted_retries:
        st.text(", ".join(f"{c}: {n}" for c, n in report.wasted_by_code().items()))
    for storm in report.storms:
        st.text(
            t(
                "retries_storm",
                start=queries.format_time(storm.start, tz),
                end=queries.format_time(storm.end, tz),
                retries=storm.retries,
                peak=storm.peak,
            )
        )


render()
