"""DashScope log lens: the router. Language, log source and parse report live in the sidebar.

Run it with ``dashscope-logs app [PATH...]`` (or ``make run``); paths after ``--`` are read from
``sys.argv``. Pages are in ``app_pages/``; each draws the shared filters in the sidebar.
"""

from __future__ import annotations


def main() -> None:
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
            st.Page(
                "app_pages/request_ids.py", title=t("page_request_ids"), url_path="request_ids"
            ),
            st.Page("app_pages/catalogue.py", title=t("page_catalogue"), url_path="catalogue"),
        ]
    )
    shell.pick_source()
    page.run()


# The processes that parse a big log (ingest.parallel, multiprocessing "spawn") run the parent's
# __main__ again, as __mp_main__: under Streamlit that is this script. They only parse: without
# this guard each one imported the app and drew it in bare mode (on the command-line paths, so a
# big log given there spawned workers of its own and failed).
if __name__ != "__mp_main__":
    main()
