"""Request IDs: the failing request_ids to hand to support, failures without one, the exports."""

from __future__ import annotations

import streamlit as st

from app import data, shell
from app.app_pages.common import filtered, local_times
from app.i18n import t
from ingest import export

#: rows sent to the browser table; the CSV always has all of them
MAX_ROWS = 5000


def render() -> None:
    shell.page("page_request_ids", body)


@st.fragment
def body(dataset: data.Dataset) -> None:
    view = filtered(dataset)
    tz = view.tz

    st.subheader(t("rid_title"))
    st.caption(t("rid_help"))
    needle = st.text_input(t("rid_search"), key="rid_search").strip()
    ids, total = view.top_request_ids(needle, MAX_ROWS)
    shown = local_times(ids, ["first_seen", "last_seen"], tz)
    st.dataframe(
        shown,
        hide_index=True,
        key="request_ids_table",
        column_config={
            "request_id": t("col_request_id"),
            "mentions": t("col_mentions"),
            "first_seen": st.column_config.DatetimeColumn(f"{t('col_first')} ({tz})"),
            "last_seen": st.column_config.DatetimeColumn(f"{t('col_last')} ({tz})"),
            "status": t("col_status"),
            "code": t("col_code"),
            "message": t("col_message"),
            "model": t("col_model"),
            "where": t("col_where"),
        },
    )
    st.caption(t("rid_shown", shown=f"{len(shown):,}", total=f"{total:,}"))

    st.subheader(t("no_rid"))
    missing = view.failures_without_request_id()
    if missing.empty:
        st.write(t("no_rid_none"))
    else:
        st.caption(t("no_rid_help"))
        st.dataframe(
            local_times(missing, ["first_seen", "last_seen"], tz),
            hide_index=True,
            key="no_request_id_table",
            column_config={
                "code": t("col_code"),
                "status": t("col_status"),
                "model": t("col_model"),
                "count": t("col_count"),
                "first_seen": st.column_config.DatetimeColumn(f"{t('col_first')} ({tz})"),
                "last_seen": st.column_config.DatetimeColumn(f"{t('col_last')} ({tz})"),
                "where": t("col_where"),
            },
        )

    st.subheader(t("export"))
    st.caption(t("export_note"))
    ticket = view.ticket()
    left, right = st.columns([1, 2])
    with left:
        st.download_button(
            t("export_csv"),
            data=view.request_ids_csv,
            file_name=export.CSV_NAME,
            mime="text/csv",
            key="export_request_ids",
            on_click="ignore",
        )
        st.download_button(
            t("export_ticket"),
            data=ticket,
            file_name="dashscope-ticket.md",
            mime="text/markdown",
            key="export_ticket",
            on_click="ignore",
        )
    with right:
        st.caption(t("ticket_preview"))
        st.code(ticket, language="markdown", height=320)


render()
