"""DashScope log lens: the router. Language, log source and parse report live in the sidebar.

Run it with ``dashscope-logs app [PATH...]`` (or ``make run``); paths after ``--`` are read from
``sys.argv``. Pages are in ``app_pages/``; each draws the shared filters in the sidebar.
"""

from __future__ import annotations

import streamlit as st

from app import live, shell
from app.i18n import t

st.set_page_config(page_title="DashScope log lens", page_icon="🔎", layout="wide")

shell.language_picker()
# live mode (dashscope-logs app --follow PATH): a self-refreshing page, opened first
live_pages = (
    [st.Page(live.render, title=t("page_live"), url_path="live", default=True)]
    if live.enabled()
    else []
)
page = st.navigation(
    [
        *live_pages,
        # the default page is served at "/" (Streamlit serves no other path for it)
        st.Page("app_pages/overview.py", title=t("page_overview"), default=not live_pages),
        st.Page("app_pages/throttling.py", title=t("page_throttling"), url_path="throttling"),
        st.Page("app_pages/request_ids.py", title=t("page_request_ids"), url_path="request_ids"),
        st.Page("app_pages/catalogue.py", title=t("page_catalogue"), url_path="catalogue"),
    ]
)
shell.pick_source()
page.run()
