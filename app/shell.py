"""The frame around every page: language, source picker, parse report, and the current dataset."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import streamlit as st

from app import data
from app.i18n import DEFAULT_LANG, LANGS, t
from ingest.export import escape_markdown
from ingest.queries import Filters

DATASET = "_dataset"
USE_SAMPLES = "_use_samples"


def language_picker() -> None:
    """The ``lang`` radio; ``?lang=zh|en`` chooses it on the first run of a session."""
    if "lang" not in st.session_state:
        wanted = st.query_params.get("lang", DEFAULT_LANG)
        st.session_state["lang"] = wanted if wanted in LANGS else DEFAULT_LANG
    st.sidebar.radio(
        "Language / 语言",
        list(LANGS),
        key="lang",
        format_func=LANGS.__getitem__,
        horizontal=True,
    )


def _open_samples() -> None:
    st.session_state[USE_SAMPLES] = True


def _uploaded() -> None:
    st.session_state[USE_SAMPLES] = False


def pick_source() -> data.Dataset | None:
    """Uploads win, then paths from the command line, then the bundled samples."""
    with st.sidebar:
        st.subheader(t("sources"))
        uploads = st.file_uploader(
            t("upload"),
            key="upload",
            accept_multiple_files=True,
            type=list(data.UPLOAD_TYPES),
            help=t("upload_help"),
            on_change=_uploaded,
        )
        paths = data.cli_paths()
        if st.session_state.get(USE_SAMPLES, False):
            source = "samples"
        elif uploads:
            source = "upload"
        elif paths:
            source = "paths"
        else:
            source = "samples"
        on_samples = source == "samples" or (
            source == "paths"
            and [f.resolve() for f in data.expand_paths(paths)]
            == [f.resolve() for f in data.expand_paths([str(data.SAMPLE_DIR)])]
        )
        if not on_samples:
            st.button(t("use_samples"), on_click=_open_samples, key="use_samples")

    def progress(done: int, total: int) -> str:
        # file names are the uploader's text: never Markdown (a name can hold ![](url) or **)
        return t(
            "parsing",
            label=escape_markdown(label),
            done=f"{done / 1e6:.0f}",
            total=f"{total / 1e6:.0f}",
        )

    if source == "upload":
        label = ", ".join(u.name for u in uploads)
        dataset = data.load_uploads(uploads, progress)
    elif source == "paths":
        label = t("source_samples") if on_samples else ", ".join(paths)
        dataset = data.load_paths(paths, label, progress)
    else:
        label = t("source_samples")
        if not data.SAMPLE_DIR.is_dir() or not data.expand_paths([str(data.SAMPLE_DIR)]):
            st.info(t("no_samples", path=str(data.SAMPLE_DIR)))
            return None
        dataset = data.load_paths([str(data.SAMPLE_DIR)], label, progress)
    st.session_state[DATASET] = dataset
    with st.sidebar:
        label_text = escape_markdown(dataset.label)
        calls = data.kpis(dataset, Filters()).calls
        st.caption(t("loaded", events=f"{calls:,}", label=label_text))
        parse_report(dataset)
    return dataset


def current() -> data.Dataset | None:
    dataset: data.Dataset | None = st.session_state.get(DATASET)
    return dataset


def parse_report(dataset: data.Dataset) -> None:
    """Formats, lines, events, ignored/unparsed lines (listed with file:line), no-id failures."""
    report = dataset.report
    with st.expander(t("report"), expanded=bool(report.problems)):
        formats = ", ".join(f"{name} ({n:,})" for name, n in report.formats.most_common())
        rows = [
            (t("report_formats"), formats or t("report_none")),
            (t("report_lines"), f"{report.lines_read:,}"),
            (t("report_events"), f"{report.events:,}"),
            (t("report_errors"), f"{report.errors:,}"),
            (t("report_ignored"), f"{report.ignored:,}"),
            (t("report_unparsed"), f"{report.unparsed:,}"),
            (t("report_no_rid"), f"{report.errors_without_request_id:,}"),
        ]
        st.dataframe(
            pd.DataFrame(rows, columns=["", " "]),
            hide_index=True,
            key="report_table",
        )
        if report.problems:
            st.caption(t("report_problems"))
            st.dataframe(
                pd.DataFrame(report.problems, columns=["file", "problem"]),
                hide_index=True,
                key="report_problems",
            )
        examples = report.unparsed_examples
        if examples:
            st.caption(t("report_unparsed_list", n=f"{report.unparsed:,}", shown=len(examples)))
            st.dataframe(
                pd.DataFrame(
                    [(f"{src}:{line}", text) for src, line, text in examples],
                    columns=["file:line", "text"],
                ),
                hide_index=True,
                key="report_unparsed",
            )


def no_data() -> None:
    st.info(t("no_source"))


def page(title_key: str, body: Callable[[data.Dataset], None]) -> None:
    """A page's frame: its title, then its body on the current logs (or the no-data notice)."""
    st.title(t(title_key))
    dataset = current()
    if dataset is None:
        no_data()
        return
    body(dataset)
