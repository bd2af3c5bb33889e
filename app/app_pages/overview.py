"""Overview: KPIs, errors over time by category with the error rate, top codes, statuses, models."""

from __future__ import annotations

import streamlit as st

from app import charts, data, filters, shell
from app.app_pages.common import category_labels, filtered, kpi_row
from app.i18n import t
from ingest import queries


def render() -> None:
    shell.page("page_overview", body)


@st.fragment
def body(dataset: data.Dataset) -> None:
    view = filtered(dataset)
    if view.kpis().calls == 0:
        st.info(t("no_events"))
        return
    k = kpi_row(view)
    labels = category_labels()

    st.subheader(t("errors_over_time"))
    bucket = queries.choose_bucket(k.first, k.last)
    series = view.errors_over_time(bucket)
    st.plotly_chart(
        view.figure(
            "errors_over_time",
            (bucket,),
            lambda: charts.errors_over_time(
                series, view.tz, labels=labels, rate_label=t("error_rate"), time_label=t("col_time")
            ),
        ),
        key="time_chart",
        on_select=filters.on_time_select,
        selection_mode="box",
    )
    st.caption(t("bucket", bucket=bucket, tz=view.tz) + " " + t("window_help"))

    left, right = st.columns([3, 2])
    with left:
        st.subheader(t("top_codes"))
        top = view.top_codes()
        if top.empty:
            st.info(t("no_errors"))
        else:
            st.plotly_chart(
                view.figure(
                    "top_codes",
                    (),
                    lambda: charts.top_codes(top, labels=labels, count_label=t("col_count")),
                ),
                key="top_codes_chart",
            )
    with right:
        st.subheader(t("status_distribution"))
        statuses = view.status_distribution()
        if statuses.empty:
            st.info(t("no_errors"))
        else:
            st.plotly_chart(
                view.figure(
                    "status",
                    (),
                    lambda: charts.status_distribution(statuses, count_label=t("col_count")),
                ),
                key="status_chart",
            )

    st.subheader(t("per_model"))
    models = view.per_model()
    st.plotly_chart(
        view.figure(
            "per_model",
            (),
            lambda: charts.per_model(
                models, errors_label=t("col_errors"), throttled_label=t("col_throttled")
            ),
        ),
        key="per_model_chart",
    )
    st.dataframe(
        models,
        hide_index=True,
        key="per_model_table",
        column_config={
            "model": t("col_model"),
            "calls": st.column_config.NumberColumn(t("col_calls"), format="localized"),
            "errors": st.column_config.NumberColumn(t("col_errors"), format="localized"),
            "error_rate": st.column_config.NumberColumn(t("col_rate"), format="percent"),
            "throttled": st.column_config.NumberColumn(t("col_throttled"), format="localized"),
            "top_code": t("col_top_code"),
        },
    )


render()
