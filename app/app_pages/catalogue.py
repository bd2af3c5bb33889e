"""Error catalogue: every code with zh/en meanings, category, retry advice; seen codes counted."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app import data, shell
from app.app_pages.common import category_labels, filtered
from app.i18n import lang, t


def render() -> None:
    st.title(t("catalogue_title"))
    st.caption(t("catalogue_help"))
    body(shell.current())


@st.fragment
def body(dataset: data.Dataset | None) -> None:
    seen = pd.Series(dtype="int64")
    if dataset is not None:
        seen = filtered(dataset).code_counts()
    by_code = seen.groupby(level=0).sum() if len(seen) else pd.Series(dtype="int64")
    entries = data.catalogue().entries
    shared = {e.code for e in entries if sum(x.code == e.code for x in entries) > 1}
    labels = category_labels()
    rows = []
    for entry in entries:
        # a code with several meanings (Throttling.AllocationQuota) is counted per category
        if entry.code in shared:
            count = int(seen.get((entry.code, entry.category), 0))
        else:
            count = int(by_code.get(entry.code, 0))
        rows.append(
            {
                "seen": count,
                "code": entry.code,
                "status": "" if entry.status is None else str(entry.status),
                "category": labels.get(entry.category, entry.category),
                "meaning": entry.meaning(lang()),
                "advice": entry.advice(lang()),
                "retryable": t("yes") if entry.retryable else t("no"),
                "message": entry.message,
                "meaning_other": entry.meaning("en" if lang() == "zh" else "zh"),
            }
        )
    table = pd.DataFrame(rows)
    cols = st.columns([1, 2])
    only_seen = cols[0].toggle(t("catalogue_only_seen"), key="catalogue_only_seen")
    needle = cols[1].text_input(t("catalogue_search"), key="catalogue_search").strip()
    if only_seen:
        table = table.loc[table["seen"] > 0]
    if needle:
        text = (
            table[["code", "message", "meaning", "meaning_other"]].astype(str).agg(" ".join, axis=1)
        )
        table = table.loc[text.str.contains(needle, case=False, regex=False)]
    table = table.sort_values(["seen"], ascending=False, kind="stable")
    other = "English" if lang() == "zh" else "中文"
    st.dataframe(
        table,
        hide_index=True,
        key="catalogue_table",
        height=min(35 * (len(table) + 1) + 3, 800),
        column_config={
            "seen": st.column_config.NumberColumn(t("col_seen"), format="localized"),
            "code": t("col_code"),
            "status": t("col_status"),
            "category": t("col_category"),
            "message": t("col_message"),
            "meaning": t("col_meaning"),
            "meaning_other": f"{t('col_meaning')} ({other})",
            "retryable": t("col_retryable"),
            "advice": t("col_advice"),
        },
    )


render()
