"""The dashboard under AppTest: every page, the widgets, language, the URL, uploads.

Most tests run on the synthetic events (``load_events`` is replaced in ``app.data``) so they do
not move when the parser changes; one runs the real parser on the bundled sample logs.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from fixtures_events import HOSTILE_MESSAGE, make_events
from streamlit.testing.v1 import AppTest

from app import data
from app.i18n import STRINGS
from ingest import IngestReport
from ingest.report import FileReport

APP = Path(__file__).resolve().parent.parent / "app" / "streamlit_app.py"
PAGES = ("overview", "throttling", "request_ids", "catalogue")
EVENTS = make_events(3000, seed=11, hostile=True)


@pytest.fixture(autouse=True)
def clear_caches(fresh_caches: None) -> None:
    """Every test here starts and ends with empty Streamlit caches (conftest.fresh_caches)."""


def fake_report(name: str = "synthetic.jsonl") -> IngestReport:
    f = FileReport(source=name, lines_read=len(EVENTS) + 2, lines_in_events=len(EVENTS))
    f.events = len(EVENTS)
    f.errors = int(EVENTS["is_error"].sum())
    f.formats["jsonl"] = len(EVENTS)
    f.add_unparsed(5, "**not** a <b>log</b> line")
    f.ignored = 1
    return IngestReport([f])


@pytest.fixture
def synthetic(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Every load returns the synthetic events; the calls are recorded."""
    calls: list[Any] = []

    def load(sources: Any, **kwargs: Any) -> tuple[pd.DataFrame, IngestReport]:
        calls.append(sources)
        if kwargs.get("progress"):
            kwargs["progress"](1, 2)
        return EVENTS, fake_report()

    monkeypatch.setattr(data, "load_events", load)
    return calls


def app(**params: str | list[str]) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=30)
    for key, value in params.items():
        at.query_params[key] = value
    return at


def page(at: AppTest, name: str) -> AppTest:
    return at.switch_page(f"app_pages/{name}.py").run()


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def chart(at: AppTest, key: str) -> dict[str, Any]:
    for el in at.get("plotly_chart"):
        if getattr(el, "key", None) == key or key in str(el.proto.id):
            spec: dict[str, Any] = json.loads(el.proto.spec)
            return spec
    raise AssertionError(f"no chart {key}")


def test_every_key_exists_in_both_languages() -> None:
    assert set(STRINGS["en"]) == set(STRINGS["zh"])
    assert all(v.strip() for lang in STRINGS.values() for v in lang.values())


def test_overview_on_synthetic_events(synthetic: list[Any]) -> None:
    at = app().run()
    assert not at.exception
    k = metrics(at)
    assert k["Calls seen"] == f"{len(EVENTS):,}"
    assert k["Errors"] == f"{int(EVENTS['is_error'].sum()):,}"
    assert k["Error rate"].endswith("%")
    keys = {el.key for el in at.get("plotly_chart")}
    assert {"time_chart", "top_codes_chart", "status_chart", "per_model_chart"} <= keys
    assert at.title[0].value == "Overview"


@pytest.mark.parametrize("name", PAGES)
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_every_page_in_both_languages(synthetic: list[Any], name: str, lang: str) -> None:
    at = page(app(lang=lang).run(), name)
    assert not at.exception
    key = {"overview": "page_overview", "throttling": "page_throttling"}.get(name)
    key = key or {"request_ids": "page_request_ids", "catalogue": "catalogue_title"}[name]
    assert at.title[0].value == STRINGS[lang][key]
    assert at.radio(key="lang").value == lang


def test_language_switch_by_widget(synthetic: list[Any]) -> None:
    at = app().run()
    at.radio(key="lang").set_value("zh").run()
    assert "调用次数" in metrics(at)
    assert at.query_params["lang"] == ["zh"] or at.query_params["lang"] == "zh"


def test_code_filter_changes_kpis_and_url(synthetic: list[Any]) -> None:
    at = app().run()
    at.multiselect(key="codes").set_value(["InvalidApiKey"]).run()
    assert not at.exception
    want = int((EVENTS["code"] == "InvalidApiKey").sum())
    assert metrics(at)["Errors"] == f"{want:,}"
    assert metrics(at)["Throttled calls"] == "0"
    assert at.query_params["code"] in ("InvalidApiKey", ["InvalidApiKey"])


def test_figures_are_built_once_per_selection(
    synthetic: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A rerun on the same filters, zone and language reuses the session's figures (Plotly's
    validation was half of a cached rerun); any change builds the chart again."""
    from app import charts

    built: list[str] = []
    real = charts.top_codes

    def top_codes(*args: Any, **kwargs: Any) -> Any:
        built.append("top_codes")
        return real(*args, **kwargs)

    monkeypatch.setattr(charts, "top_codes", top_codes)
    at = app().run()
    first = chart(at, "top_codes_chart")
    at.run()
    assert built == ["top_codes"]
    assert chart(at, "top_codes_chart") == first
    at.multiselect(key="codes").set_value(["InvalidApiKey"]).run()
    assert len(built) == 2
    assert chart(at, "top_codes_chart") != first
    at.selectbox(key="tz").set_value("UTC").run()
    at.radio(key="lang").set_value("zh").run()
    assert len(built) == 4
    at.multiselect(key="codes").set_value([]).run()  # back to the first selection, still zh
    assert len(built) == 5
    at.radio(key="lang").set_value("en").run()
    at.selectbox(key="tz").set_value("Asia/Shanghai").run()
    assert len(built) == 6  # en + UTC is new; en + Asia/Shanghai is the first view again
    assert chart(at, "top_codes_chart") == first


def test_query_params_restore_the_view(synthetic: list[Any]) -> None:
    at = app(code=["InvalidApiKey", "InternalError"], model="qwen-max", tz="UTC", q="api").run()
    assert not at.exception
    assert at.multiselect(key="codes").value == ["InvalidApiKey", "InternalError"]
    assert at.multiselect(key="models").value == ["qwen-max"]
    assert at.selectbox(key="tz").value == "UTC"
    assert at.text_input(key="search").value == "api"
    chosen = EVENTS.loc[EVENTS["model"] == "qwen-max"]
    want = int((chosen["code"] == "InvalidApiKey").sum())  # "api" only in InvalidApiKey's message
    assert metrics(at)["Errors"] == f"{want:,}"


def test_a_filter_that_does_not_fit_is_dropped_with_a_notice(synthetic: list[Any]) -> None:
    at = app(code=["NoSuchCode", "InvalidApiKey"]).run()
    assert at.multiselect(key="codes").value == ["InvalidApiKey"]
    notices = [i.value for i in at.sidebar.info]
    assert any("NoSuchCode" in n for n in notices)
    assert any("NoSuchCode" in str(t.proto) for t in at.toast)


def test_filters_survive_a_page_switch(synthetic: list[Any]) -> None:
    at = app().run()
    at.multiselect(key="models").set_value(["qwen-plus"]).run()
    at = page(at, "request_ids")
    assert at.multiselect(key="models").value == ["qwen-plus"]
    table = at.main.dataframe[0].value
    assert set(table["model"].astype(str)) == {"qwen-plus"}


def test_time_window_and_timezone(synthetic: list[Any]) -> None:
    at = app().run()
    lo, _ = at.slider(key="window").value
    assert lo.hour == 8  # 2025-03-10 00:00 UTC is 08:00 in Asia/Shanghai
    at.slider(key="window").set_range(lo.replace(hour=14), lo.replace(hour=15)).run()
    assert not at.exception
    assert at.query_params["start"] in ("2025-03-10T06:00:00+00:00", ["2025-03-10T06:00:00+00:00"])
    calls = int(metrics(at)["Calls seen"].replace(",", ""))
    window = EVENTS.loc[
        (EVENTS["timestamp"] >= pd.Timestamp("2025-03-10T06:00Z"))
        & (EVENTS["timestamp"] < pd.Timestamp("2025-03-10T07:00Z"))
    ]
    assert calls == len(window)
    at.selectbox(key="tz").set_value("UTC").run()
    lo, _ = at.slider(key="window").value
    assert lo.hour == 6  # same window, shown in UTC


def test_search_and_reset(synthetic: list[Any]) -> None:
    at = app().run()
    at.text_input(key="search").input("quota").run()
    assert metrics(at)["Errors"] != f"{int(EVENTS['is_error'].sum()):,}"
    at.button(key="reset_filters").click().run()
    assert at.text_input(key="search").value == ""
    assert metrics(at)["Errors"] == f"{int(EVENTS['is_error'].sum()):,}"


def test_throttling_page_shows_the_spike(synthetic: list[Any]) -> None:
    at = page(app().run(), "throttling")
    texts = [t.value for t in at.text]
    assert len(texts) == 1
    assert texts[0].startswith("2025-03-10 14:00:00+08:00 – 2025-03-10 14:30:00+08:00")
    spec = chart(at, "throttling_chart")
    assert len(spec["layout"]["shapes"]) == 1
    assert "Asia/Shanghai" in spec["layout"]["xaxis"]["title"]["text"]


def test_request_ids_page_lists_ids_and_exports(synthetic: list[Any]) -> None:
    at = page(app().run(), "request_ids")
    table = at.main.dataframe[0].value
    errs = EVENTS.loc[EVENTS["is_error"] & EVENTS["request_id"].notna()]
    assert len(table) == errs["request_id"].nunique()
    missing = at.main.dataframe[1].value
    assert int(missing["count"].sum()) == 7
    assert at.get("download_button")
    keys = {el.proto.id for el in at.get("download_button")}
    assert any("export_request_ids" in k for k in keys)
    assert any("export_ticket" in k for k in keys)
    ticket = at.code[0].value
    assert ticket.startswith("# DashScope API")
    at.text_input(key="rid_search").input(str(table.iloc[0]["request_id"])[:13]).run()
    assert len(at.main.dataframe[0].value) == 1


def test_exports_follow_the_filters(synthetic: list[Any]) -> None:
    at = app(code="InvalidApiKey").run()
    at = page(at, "request_ids")
    ticket = at.code[0].value
    assert "### InvalidApiKey (HTTP 401)" in ticket
    assert "Throttling.RateQuota" not in ticket


def test_log_text_is_never_markup(synthetic: list[Any]) -> None:
    at = page(app().run(), "request_ids")
    table = at.main.dataframe[0].value
    assert HOSTILE_MESSAGE in set(table["message"].astype(str))
    for md in at.markdown:
        assert "<script>" not in md.value
    for expander_md in at.sidebar.markdown:
        assert "**not**" not in expander_md.value


def test_catalogue_marks_seen_codes(synthetic: list[Any]) -> None:
    at = page(app().run(), "catalogue")
    table = at.main.dataframe[0].value
    seen = table.loc[table["seen"] > 0].set_index("code")["seen"]
    assert seen["InvalidApiKey"] == int((EVENTS["code"] == "InvalidApiKey").sum())
    assert len(table) > 25
    at.toggle(key="catalogue_only_seen").set_value(True).run()
    table = at.main.dataframe[0].value
    assert (table["seen"] > 0).all()
    at = page(app(lang="zh").run(), "catalogue")
    table = at.main.dataframe[0].value
    row = table.set_index("code").loc["InvalidApiKey"]
    assert any("\u4e00" <= ch <= "\u9fff" for ch in str(row["meaning"]))


def test_parse_report_lists_unparsed_lines(synthetic: list[Any]) -> None:
    at = app().run()
    unparsed = at.sidebar.dataframe[-1].value
    assert list(unparsed.iloc[0]) == ["synthetic.jsonl:5", "**not** a <b>log</b> line"]


def test_upload(synthetic: list[Any]) -> None:
    at = app().run()
    at.file_uploader(key="upload").set_value(("mine.jsonl", b"{}\n", "application/json")).run()
    assert not at.exception
    assert synthetic[-1] == [("mine.jsonl", b"{}\n")]


def test_no_events(monkeypatch: pytest.MonkeyPatch) -> None:
    from ingest.schema import empty_events

    monkeypatch.setattr(data, "load_events", lambda sources, **kw: (empty_events(), IngestReport()))
    for name in PAGES:
        at = page(app().run(), name)
        assert not at.exception, name


def test_real_sample_logs() -> None:
    at = app().run()
    assert not at.exception
    k = metrics(at)
    assert int(k["Calls seen"].replace(",", "")) > 1000
    assert int(k["Throttled calls"].replace(",", "")) > 0
    at = page(at, "throttling")
    assert at.text  # the sample logs have a throttling burst


def test_server_config_next_to_the_entry_script() -> None:
    """Streamlit reads app/.streamlit/config.toml: 1 GB uploads, and no forced full garbage
    collection after every rerun (it cost 140-230 ms of each filter change on 2 cores)."""
    import tomllib

    config = tomllib.loads((APP.parent / ".streamlit" / "config.toml").read_text())
    assert config["server"]["maxUploadSize"] == 1024
    assert config["runner"]["postScriptGC"] is False


def test_parse_workers_run_nothing_of_the_app(monkeypatch: pytest.MonkeyPatch) -> None:
    """multiprocessing "spawn" runs the parent's __main__ (under Streamlit: this entry script)
    again in every parse worker, as __mp_main__: it must draw and parse nothing there."""
    import runpy

    from app import shell

    def boom(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the app ran in a parse worker")

    monkeypatch.setattr(shell, "language_picker", boom)
    monkeypatch.setattr(shell, "pick_source", boom)
    runpy.run_path(str(APP), run_name="__mp_main__")


def test_parsed_events_are_shared_not_copied(synthetic: list[Any]) -> None:
    """A full rerun reuses the parsed frame itself (st.cache_resource): st.cache_data kept a
    pickled copy of it and unpickled the whole frame on every rerun."""
    at = app().run()
    first = at.session_state["_dataset"].queries.frame
    page(at, "throttling")
    assert at.session_state["_dataset"].queries.frame is first
    assert len(synthetic) == 1  # parsed once


def test_the_logs_own_offsets_are_offered_as_time_zones(monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue #4: "time zone (default Asia/Shanghai, UTC and the log's own offsets offered)"."""
    report = fake_report()
    report.files[0].utc_offsets.update({"-05:00": 10, "+05:30": 3, "+00:00": 2})
    monkeypatch.setattr(data, "load_events", lambda sources, **kw: (EVENTS, report))
    at = app().run()
    picker = at.selectbox(key="tz")
    assert picker.value == "Asia/Shanghai"
    # AppTest shows the labels of the options
    assert {
        "UTC-05:00 (as written in the log)",
        "Asia/Kolkata (as written in the log)",
        "UTC (as written in the log)",
        "America/New_York",
    } <= set(picker.options)
    picker.set_value("Etc/GMT+5").run()
    assert not at.exception
    assert at.query_params["tz"] in ("Etc/GMT+5", ["Etc/GMT+5"])


def test_offsets_map_to_zones_that_keep_them_all_year() -> None:
    from app.filters import offset_zone

    assert offset_zone("+08:00") == "Etc/GMT-8"
    assert offset_zone("-05:00") == "Etc/GMT+5"
    assert offset_zone("+00:00") == "UTC"
    assert offset_zone("+05:45") == "Asia/Kathmandu"
    assert offset_zone("+01:15") is None
    assert offset_zone("garbage") is None
