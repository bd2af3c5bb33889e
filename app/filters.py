"""The sidebar filters: widgets, their state, and the URL that reproduces them.

One plain dict in ``st.session_state`` (the *mirror*) holds the chosen filters. Widgets are
drawn from it on every run and copy their value back in ``on_change`` callbacks, so the filters
survive page switches and new datasets; the mirror is written to ``st.query_params`` so a link
reproduces the view, and read from it once per session. A value that does not fit the current
logs (a code that is not in a new file, say) is dropped with a notice, never silently.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pandas as pd
import streamlit as st

from app import data
from app.i18n import lang, t
from ingest.export import escape_markdown
from ingest.queries import Filters, Options

MIRROR = "_filters"
URL_READ = "_filters_from_url"
DEFAULT_TZ = "Asia/Shanghai"
ZONES: tuple[str, ...] = (
    "Asia/Shanghai",
    "UTC",
    "Asia/Hong_Kong",
    "Asia/Singapore",
    "Asia/Tokyo",
    "Europe/London",
    "Europe/Berlin",
    "America/New_York",
    "America/Los_Angeles",
)
#: mirror field -> query parameter
URL_KEYS: dict[str, str] = {
    "codes": "code",
    "categories": "cat",
    "statuses": "status",
    "models": "model",
    "sources": "src",
    "start": "start",
    "end": "end",
    "search": "q",
    "tz": "tz",
}
LIST_FIELDS = ("codes", "categories", "statuses", "models", "sources")


def _empty() -> dict[str, Any]:
    return {
        "codes": [],
        "categories": [],
        "statuses": [],
        "models": [],
        "sources": [],
        "start": None,
        "end": None,
        "search": "",
        "tz": DEFAULT_TZ,
    }


def mirror() -> dict[str, Any]:
    """The chosen filters (created empty, then filled from the URL once per session)."""
    state: dict[str, Any] = st.session_state.setdefault(MIRROR, _empty())
    if not st.session_state.get(URL_READ):
        st.session_state[URL_READ] = True
        state.update(_from_url())
    return state


#: offsets that are not whole hours have no Etc/GMT zone: a zone that keeps that offset all year
_PART_HOURS = {
    "+05:30": "Asia/Kolkata",
    "+05:45": "Asia/Kathmandu",
    "+06:30": "Asia/Yangon",
    "+09:30": "Australia/Darwin",
    "+03:30": "Asia/Tehran",
    "+04:30": "Asia/Kabul",
}


def offset_zone(offset: str) -> str | None:
    """A zone that is always at ``offset`` (``+08:00`` -> ``Etc/GMT-8``: POSIX signs are
    inverted), or None."""
    try:
        sign, hours, minutes = offset[0], int(offset[1:3]), int(offset[4:6])
    except (ValueError, IndexError):
        return None
    if minutes:
        return _PART_HOURS.get(offset)
    if hours == 0:
        return "UTC"
    if hours > 14:
        return None
    return f"Etc/GMT{'-' if sign == '+' else '+'}{hours}"


def log_zones(report: Any) -> list[str]:
    """The zones the log's own timestamps are written in (issue #4), most used first."""
    out: list[str] = []
    for offset, _count in getattr(report, "utc_offsets", Counter()).most_common():
        zone = offset_zone(offset)
        if zone is not None and zone not in out:
            out.append(zone)
    return out


def zone_label(zone: str, in_log: list[str]) -> str:
    """``Etc/GMT-8`` reads ``UTC+08:00``; a zone the log is written in says so."""
    label = zone
    if zone.startswith("Etc/GMT") and zone[7:]:
        hours = -int(zone[7:])
        label = f"UTC{'+' if hours >= 0 else '-'}{abs(hours):02d}:00"
    return f"{label} ({t('tz_log')})" if zone in in_log else label


def valid_tz(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _parse_ts(text: str) -> pd.Timestamp | None:
    try:
        ts = pd.Timestamp(text)
    except ValueError:
        return None
    if pd.isna(ts):
        return None
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def _from_url() -> dict[str, Any]:
    qp = st.query_params
    out: dict[str, Any] = {}
    for name in LIST_FIELDS:
        values = [v for v in qp.get_all(URL_KEYS[name]) if v]
        if name == "statuses":
            out[name] = [int(v) for v in values if v.lstrip("-").isdigit()]
        else:
            out[name] = values
    for name in ("start", "end"):
        text = qp.get(URL_KEYS[name])
        out[name] = _parse_ts(text) if text else None
    out["search"] = qp.get("q", "") or ""
    zone = qp.get("tz")
    out["tz"] = zone if zone and valid_tz(zone) else DEFAULT_TZ
    return out


def to_url(state: dict[str, Any]) -> None:
    """Write the filters (and the language) to the address bar, only when they changed."""
    wanted: dict[str, list[str]] = {}
    for name in LIST_FIELDS:
        if state[name]:
            wanted[URL_KEYS[name]] = [str(v) for v in state[name]]
    for name in ("start", "end"):
        if state[name] is not None:
            wanted[URL_KEYS[name]] = [state[name].isoformat()]
    if state["search"]:
        wanted["q"] = [state["search"]]
    if state["tz"] != DEFAULT_TZ:
        wanted["tz"] = [state["tz"]]
    wanted["lang"] = [lang()]
    current = {k: st.query_params.get_all(k) for k in st.query_params}
    if current != wanted:
        st.query_params.from_dict(wanted)


def to_filters(state: dict[str, Any]) -> Filters:
    return Filters(
        codes=tuple(state["codes"]),
        categories=tuple(state["categories"]),
        statuses=tuple(int(s) for s in state["statuses"]),
        models=tuple(state["models"]),
        sources=tuple(state["sources"]),
        start=state["start"],
        end=state["end"],
        search=state["search"],
    )


# --------------------------------------------------------------------------- callbacks


def _copy(field: str) -> None:
    mirror()[field] = st.session_state[field]


def _copy_window(bounds: tuple[datetime, datetime]) -> None:
    state = mirror()
    lo, hi = st.session_state["window"]
    tz = state["tz"]
    state["start"] = None if lo <= bounds[0] else pd.Timestamp(lo).tz_localize(tz).tz_convert("UTC")
    state["end"] = None if hi >= bounds[1] else pd.Timestamp(hi).tz_localize(tz).tz_convert("UTC")


def _reset() -> None:
    state = mirror()
    zone = state["tz"]
    state.clear()
    state.update(_empty())
    state["tz"] = zone


def on_time_select() -> None:
    """Box selection on the time chart (key ``time_chart``) -> the time window."""
    event = st.session_state.get("time_chart")
    boxes = event.get("selection", {}).get("box", []) if event else []
    if not boxes:
        return
    xs = boxes[0].get("x") or []
    if len(xs) < 2:
        return
    state = mirror()
    lo, hi = sorted(pd.Timestamp(x) for x in xs[:2])
    state["start"] = lo.tz_localize(state["tz"]).tz_convert("UTC")
    state["end"] = hi.tz_localize(state["tz"]).tz_convert("UTC")


# --------------------------------------------------------------------------- widgets


def _reconcile(state: dict[str, Any], field: str, allowed: set[Any]) -> list[str]:
    kept = [v for v in state[field] if v in allowed]
    dropped = [str(v) for v in state[field] if v not in allowed]
    state[field] = kept
    return dropped


def _bounds(
    span: tuple[pd.Timestamp, pd.Timestamp] | None, tz: str
) -> tuple[datetime, datetime] | None:
    if span is None:
        return None
    first = span[0].tz_convert(tz).floor("min").tz_localize(None)
    last = span[1].tz_convert(tz).floor("min").tz_localize(None)
    last += pd.Timedelta(minutes=1)
    return first.to_pydatetime(), last.to_pydatetime()


def render(dataset: data.Dataset, options: Options) -> tuple[Filters, str]:
    """Draw the filters in the sidebar; return what they select and the display zone."""
    state = mirror()
    labels = {c.id: c.label(lang()) for c in data.catalogue().categories.values()}
    dropped: list[str] = []
    code_counts = dict(zip(options.codes["code"], options.codes["count"], strict=True))
    code_cats = dict(zip(options.codes["code"], options.codes["category"], strict=True))
    dropped += _reconcile(state, "codes", set(code_counts))
    dropped += _reconcile(state, "categories", set(options.categories))
    dropped += _reconcile(state, "statuses", set(options.statuses))
    dropped += _reconcile(state, "models", set(options.models))
    dropped += _reconcile(state, "sources", set(options.sources))
    bounds = _bounds(data.time_bounds(dataset), state["tz"])
    for name in ("start", "end"):
        ts = state[name]
        if ts is not None and bounds is not None:
            local = ts.tz_convert(state["tz"]).tz_localize(None).to_pydatetime()
            if not bounds[0] <= local <= bounds[1]:
                dropped.append(f"{name} {ts.isoformat()}")
                state[name] = None

    with st.sidebar:
        st.subheader(t("filters"))
        if dropped:
            # the dropped values come from the URL: shown as text, never as Markdown
            message = t("dropped", what=escape_markdown(", ".join(dropped)))
            st.info(message)
            st.toast(message)
        st.session_state["codes"] = list(state["codes"])
        st.multiselect(
            t("codes"),
            options=list(code_counts),
            key="codes",
            format_func=lambda c: (
                f"{labels.get(code_cats[c], code_cats[c])} · {c} ({code_counts[c]})"
            ),
            help=t("codes_help"),
            placeholder=t("choose"),
            on_change=_copy,
            args=("codes",),
        )
        st.session_state["categories"] = list(state["categories"])
        st.multiselect(
            t("categories"),
            options=list(options.categories),
            key="categories",
            format_func=lambda c: f"{labels.get(c, c)} ({options.categories[c]})",
            placeholder=t("choose"),
            on_change=_copy,
            args=("categories",),
        )
        cols = st.columns(2)
        st.session_state["statuses"] = list(state["statuses"])
        cols[0].multiselect(
            t("statuses"),
            options=list(options.statuses),
            key="statuses",
            format_func=lambda s: f"{s} ({options.statuses[s]})",
            placeholder=t("choose"),
            on_change=_copy,
            args=("statuses",),
        )
        st.session_state["models"] = list(state["models"])
        cols[1].multiselect(
            t("models"),
            options=list(options.models),
            key="models",
            placeholder=t("choose"),
            on_change=_copy,
            args=("models",),
        )
        if len(options.sources) > 1 or state["sources"]:
            st.session_state["sources"] = list(state["sources"])
            st.multiselect(
                t("sources_filter"),
                options=list(options.sources),
                key="sources",
                placeholder=t("choose"),
                on_change=_copy,
                args=("sources",),
            )
        if bounds is not None and bounds[0] < bounds[1]:
            tz = state["tz"]
            lo = bounds[0] if state["start"] is None else _local(state["start"], tz)
            hi = bounds[1] if state["end"] is None else _local(state["end"], tz)
            st.session_state["window"] = (max(lo, bounds[0]), min(hi, bounds[1]))
            st.slider(
                t("window"),
                min_value=bounds[0],
                max_value=bounds[1],
                key="window",
                step=timedelta(minutes=1),
                format="MM-DD HH:mm",
                help=t("window_help"),
                on_change=_copy_window,
                args=(bounds,),
            )
        st.session_state["search"] = state["search"]
        st.text_input(
            t("search"), key="search", help=t("search_help"), on_change=_copy, args=("search",)
        )
        in_log = log_zones(dataset.report)
        zones = [*ZONES, *(z for z in in_log if z not in ZONES)]
        if state["tz"] not in zones:
            zones.append(state["tz"])
        st.session_state["tz"] = state["tz"]
        st.selectbox(
            t("tz"),
            zones,
            key="tz",
            on_change=_copy,
            args=("tz",),
            format_func=lambda z: zone_label(z, in_log),
        )
        st.button(t("reset"), on_click=_reset, key="reset_filters")
        st.caption(t("filters_scope"))
    to_url(state)
    return to_filters(state), state["tz"]


def _local(ts: pd.Timestamp, tz: str) -> datetime:
    out: datetime = ts.tz_convert(tz).tz_localize(None).to_pydatetime()
    return out
