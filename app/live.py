"""Live mode (``dashscope-logs app --follow PATH``): a page that re-reads only what was appended.

The followed paths come from the ``DASHSCOPE_LOGS_FOLLOW`` environment variable (set by the
CLI, ``os.pathsep``-separated). One monitor per server and followed paths (``st.cache_resource``)
holds a ``Follower`` (ingest.monitor.follow), an alert ``Engine`` with the default rules, the
recent events and the alert history, so every browser tab, a reload or a new visitor sees the
same history and the log is read once. Each page refreshes itself with a fragment that runs
every few seconds: the last N minutes, an alert banner and the alert history.
"""

from __future__ import annotations

import os
import threading
import time
from typing import Any

import pandas as pd
import streamlit as st

from app.i18n import t
from ingest import queries
from ingest.monitor.engine import Engine
from ingest.monitor.follow import Follower
from ingest.monitor.rules import load_rules
from ingest.schema import coerce_events, empty_events

ENV = "DASHSCOPE_LOGS_FOLLOW"
REFRESH_SECONDS = 5
KEEP_ROWS = 200_000


def followed() -> list[str]:
    return [p for p in os.environ.get(ENV, "").split(os.pathsep) if p]


def enabled() -> bool:
    return bool(followed())


@st.cache_resource(show_spinner=False)
def _monitor(paths: tuple[str, ...]) -> dict[str, Any]:
    """The server's one monitor of ``paths``, shared by every session."""
    return {
        "follower": Follower(list(paths), "Asia/Shanghai", from_start=True),
        "engine": Engine(load_rules(), "UTC"),
        "events": empty_events(),
        "alerts": [],
        "lock": threading.Lock(),  # several tabs refresh it, each from its own thread
    }


def refresh(state: dict[str, Any]) -> None:
    """Read what was appended since the last run; evaluate the rules."""
    new = state["follower"].poll()
    engine: Engine = state["engine"]
    now = time.time()
    if not new.empty:
        frames = [f for f in (state["events"], new) if not f.empty]
        merged = pd.concat([f.astype(object) for f in frames], ignore_index=True)
        state["events"] = coerce_events(merged.tail(KEEP_ROWS))
        engine.add(new, now, context=state["follower"].context)
        state["read_at"] = now
    # log time: the newest event plus the wall-clock time since it was read (as `watch` does)
    log_now = now if engine.latest is None else engine.latest + now - state.get("read_at", now)
    for alert in engine.evaluate(log_now):
        state["alerts"].append(alert.to_dict())


def render() -> None:
    minutes = st.sidebar.number_input(t("live_minutes"), 1, 24 * 60, 30, key="live_minutes")
    st.title(t("live_title", minutes=int(minutes)))
    st.caption(t("live_following", path=", ".join(followed()), seconds=REFRESH_SECONDS))
    live_body(int(minutes))


@st.fragment(run_every=REFRESH_SECONDS)
def live_body(minutes: int) -> None:
    state = _monitor(tuple(followed()))
    with state["lock"]:
        refresh(state)
    engine: Engine = state["engine"]
    if engine.incidents:
        titles = ", ".join(sorted(k.split("|")[0] for k in engine.incidents))
        st.error(t("live_banner", n=len(engine.incidents), titles=titles))
    else:
        st.success(t("live_calm"))
    events: pd.DataFrame = state["events"]
    if not events.empty:
        end = events["timestamp"].max()
        start = end - pd.Timedelta(minutes=minutes)
        recent = queries.apply_filters(events, queries.Filters(start=start))
        k = queries.kpis(recent)
        cols = st.columns(4)
        cols[0].metric(t("kpi_calls"), f"{k.calls:,}")
        cols[1].metric(t("kpi_errors"), f"{k.errors:,}")
        cols[2].metric(
            t("kpi_rate"), t("kpi_rate_na") if k.error_rate is None else f"{k.error_rate:.1%}"
        )
        cols[3].metric(t("kpi_throttled"), f"{k.throttled:,}")
        series = queries.errors_over_time(recent, queries.choose_bucket(start, end))
        st.bar_chart(series.counts, height=240)
    else:
        st.info(t("no_events"))
    st.subheader(t("live_alerts"))
    if state["alerts"]:
        table = pd.DataFrame(state["alerts"])[["at", "kind", "severity", "title", "text"]]
        st.dataframe(table.iloc[::-1], hide_index=True, key="live_alert_table")
    else:
        st.write(t("live_no_alerts"))
