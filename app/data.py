"""Loading and caching: the only module of the app that caches anything.

Uploads are cached on their ``file_id`` (the bytes are passed as an underscore argument so they
are never hashed: hashing a 1 GB upload on every rerun would cost seconds); server-side paths on
``(path, size, mtime)``, so an edited file is parsed again. Parsed events are resources, shared
and never changed: ``st.cache_data`` kept a pickled copy of them (server peak 589 -> 529 MiB on a
100 MB upload) and unpickled the whole frame on every full rerun.
"""

from __future__ import annotations

import glob
import os
import sys
import tempfile
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, cast

import pandas as pd
import streamlit as st

import app as app_package
from app.backend import FrameQueries, Queries
from ingest import IngestReport, load_events
from ingest.analysis import Explanation, RetryReport, analyse_retries, explain_spike
from ingest.catalog import Catalogue, load_catalogue
from ingest.parallel import PARALLEL_MIN_BYTES
from ingest.queries import Filters, Kpis, Options, Spike, TimeSeries
from ingest.sources import Source

if TYPE_CHECKING:
    import plotly.graph_objects as go

#: (bytes done, bytes total) -> the progress bar's text
ProgressText = Callable[[int, int], str]

#: what the uploader accepts: every format ingest reads, compressed ones included
UPLOAD_TYPES: tuple[str, ...] = (
    "log",
    "txt",
    "jsonl",
    "json",
    "ndjson",
    "csv",
    "out",
    "err",
    "gz",
    "zip",
)
SAMPLE_DIR = Path(app_package.__file__).resolve().parent.parent / "sample_logs"
#: the dashboard's events are parsed in UTC; the display zone only changes how times are shown
PARSE_TZ = "Asia/Shanghai"


#: processes parsing a big upload (written to a temporary file and split in byte ranges)
UPLOAD_WORKERS = 2


@dataclass(frozen=True)
class Dataset:
    """What the pages work on: the questions they can ask, the parse report, the source."""

    key: str  # identifies the input (file ids or path/size/mtime), for per-dataset caches
    label: str
    queries: Queries  # answered by pandas (a parsed log) or DuckDB (a Parquet dataset)
    report: IngestReport


def cli_paths(argv: Sequence[str] | None = None) -> list[str]:
    """Log paths given on the command line (``streamlit run app/streamlit_app.py -- PATH...``).

    Only when the running script is this app: under pytest/AppTest ``sys.argv`` is pytest's.
    """
    args = list(sys.argv if argv is None else argv)
    if not args or Path(args[0]).name != "streamlit_app.py":
        return []
    return [a for a in args[1:] if a]


def expand_paths(paths: Sequence[str]) -> list[Path]:
    """Files named by ``paths`` (files, directories searched recursively, globs), sorted."""
    out: list[Path] = []
    for text in paths:
        p = Path(text)
        if p.is_dir():
            out += sorted(
                f
                for f in p.rglob("*")
                if f.is_file() and not any(part.startswith(".") for part in f.relative_to(p).parts)
            )
        elif p.is_file():
            out.append(p)
        else:
            out += sorted(Path(m) for m in glob.glob(text, recursive=True) if Path(m).is_file())
    return out


def path_key(files: Sequence[Path]) -> tuple[tuple[str, int, int], ...]:
    """The cache key of server-side files: (absolute path, size, mtime in ns) for each."""
    key = []
    for f in files:
        stat = f.stat()
        key.append((str(f.resolve()), stat.st_size, stat.st_mtime_ns))
    return tuple(key)


def _parse(
    sources: Any, text: ProgressText | None, workers: int | None = None
) -> tuple[pd.DataFrame, IngestReport]:
    """Parse with a progress bar. The bar is created and emptied inside the cached call, so a
    cache hit replays an empty placeholder instead of a stale bar."""
    holder = st.empty()

    def progress(done: int, total: int) -> None:
        share = min(done / total, 1.0) if total else 0.0
        holder.progress(share, text=text(done, total) if text else None)

    try:
        if workers is None:
            return load_events(sources, tz=PARSE_TZ, progress=progress)
        return load_events(sources, tz=PARSE_TZ, progress=progress, workers=workers)
    finally:
        holder.empty()


@st.cache_resource(show_spinner=False, max_entries=4)
def _load_paths(
    key: tuple[tuple[str, int, int], ...], _text: ProgressText | None = None
) -> tuple[pd.DataFrame, IngestReport]:
    return _parse([path for path, _, _ in key], _text)


def _parse_uploads(
    files: Sequence[tuple[str, bytes]], text: ProgressText | None
) -> tuple[pd.DataFrame, IngestReport]:
    """A big plain upload is written to a temporary file (deleted afterwards) and parsed by
    ``UPLOAD_WORKERS`` processes in byte ranges. The Source keeps the upload's name, so the
    events and the report are the same as the CLI's on that file (only the bytes' path differs).
    """
    if not any(_splittable(body) for _, body in files):
        return _parse(list(files), text)
    with tempfile.TemporaryDirectory(prefix="dashscope-upload-") as tmp:
        sources: list[Any] = []
        for i, (name, body) in enumerate(files):
            if _splittable(body):
                path = os.path.join(tmp, f"{i}.log")
                with open(path, "wb") as fh:
                    fh.write(body)
                sources.append(Source(name, _opener(path), len(body), path=path))
            else:
                sources.append((name, body))
        return _parse(sources, text, workers=UPLOAD_WORKERS)


def _splittable(body: bytes) -> bool:
    """Big enough for byte ranges, and not a gzip or zip archive (those are read whole)."""
    return len(body) >= PARALLEL_MIN_BYTES and body[:2] != b"\x1f\x8b" and body[:2] != b"PK"


def _opener(path: str) -> Callable[[], IO[bytes]]:
    return lambda: open(path, "rb")


@st.cache_resource(show_spinner=False, max_entries=4)
def _load_uploads(
    file_ids: tuple[str, ...],
    _files: tuple[tuple[str, bytes], ...],
    _text: ProgressText | None = None,
) -> tuple[pd.DataFrame, IngestReport]:
    return _parse_uploads(_files, _text)


def load_paths(paths: Sequence[str], label: str, text: ProgressText | None = None) -> Dataset:
    from app import dataset

    if dataset.is_dataset(list(paths)):  # a Parquet dataset made by `dashscope-logs ingest`
        key = "dataset:" + dataset.dataset_key(paths[0])
        store, report = _open_store(key, paths[0])
        return Dataset(key, label, store, report)
    files = expand_paths(paths)
    key = path_key(files)
    events, report = _load_paths(key, text)
    return Dataset("paths:" + repr(key), label, FrameQueries(events, report.context), report)


@st.cache_resource(show_spinner=False, max_entries=2)
def _open_store(key: str, path: str) -> tuple[Queries, IngestReport]:
    """One DuckDB connection per version of a dataset (the key changes when an ingest commits)."""
    from app import dataset

    return dataset.open_store(path)


def load_uploads(uploads: Sequence[Any], text: ProgressText | None = None) -> Dataset:
    """Parse ``st.file_uploader`` results (UploadedFile: .file_id, .name, .getvalue())."""
    ids = tuple(str(getattr(u, "file_id", "")) or str(getattr(u, "name", "")) for u in uploads)
    files = tuple((str(getattr(u, "name", "upload")), _bytes_of(u)) for u in uploads)
    events, report = _load_uploads(ids, files, text)
    label = ", ".join(name for name, _ in files)
    return Dataset("upload:" + ",".join(ids), label, FrameQueries(events, report.context), report)


def _bytes_of(upload: object) -> bytes:
    getvalue = getattr(upload, "getvalue", None)
    return bytes(getvalue()) if callable(getvalue) else b""


# --------------------------------------------------------------------------- answers
# Every answer is cached on small hashable inputs: the dataset's key, the question, the
# Filters and the question's own arguments; never on a frame. A filter change computes only
# what depends on it, and going back to an earlier selection is a cache hit.


@st.cache_data(show_spinner=False, max_entries=512)
def _answer(key: str, question: str, filters: Filters, args: tuple[Any, ...], _q: Queries) -> Any:
    return getattr(_q, question)(filters, *args)


@st.cache_data(show_spinner=False, max_entries=8)
def _options(key: str, _q: Queries) -> Options:
    return _q.options()


@st.cache_data(show_spinner=False, max_entries=8)
def _time_bounds(key: str, _q: Queries) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    return _q.time_bounds()


def options(dataset: Dataset) -> Options:
    """What the filters offer for a dataset (computed once per dataset)."""
    return _options(dataset.key, dataset.queries)


def time_bounds(dataset: Dataset) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    """First and last event of the whole dataset (UTC)."""
    return _time_bounds(dataset.key, dataset.queries)


def kpis(dataset: Dataset, filters: Filters) -> Kpis:
    return cast(Kpis, _answer(dataset.key, "kpis", filters, (), dataset.queries))


def errors_over_time(dataset: Dataset, filters: Filters, bucket: str, tz: str) -> TimeSeries:
    args = (bucket, tz)
    return cast(
        TimeSeries, _answer(dataset.key, "errors_over_time", filters, args, dataset.queries)
    )


def throttling_over_time(dataset: Dataset, filters: Filters, bucket: str, tz: str) -> TimeSeries:
    args = (bucket, tz)
    answer = _answer(dataset.key, "throttling_over_time", filters, args, dataset.queries)
    return cast(TimeSeries, answer)


def top_codes(dataset: Dataset, filters: Filters, lang: str, limit: int = 20) -> pd.DataFrame:
    args = (meanings(lang), limit)
    return cast(pd.DataFrame, _answer(dataset.key, "top_codes", filters, args, dataset.queries))


def status_distribution(dataset: Dataset, filters: Filters) -> pd.DataFrame:
    answer = _answer(dataset.key, "status_distribution", filters, (), dataset.queries)
    return cast(pd.DataFrame, answer)


def per_model(dataset: Dataset, filters: Filters) -> pd.DataFrame:
    return cast(pd.DataFrame, _answer(dataset.key, "per_model", filters, (), dataset.queries))


def top_request_ids(
    dataset: Dataset, filters: Filters, needle: str, limit: int
) -> tuple[pd.DataFrame, int]:
    """The ``limit`` most mentioned failing request_ids containing ``needle``, and how many
    there are in all."""
    args = (needle, limit)
    answer = _answer(dataset.key, "top_request_ids", filters, args, dataset.queries)
    return cast(tuple[pd.DataFrame, int], answer)


def failures_without_request_id(dataset: Dataset, filters: Filters) -> pd.DataFrame:
    answer = _answer(dataset.key, "failures_without_request_id", filters, (), dataset.queries)
    return cast(pd.DataFrame, answer)


def code_counts(dataset: Dataset, filters: Filters) -> pd.Series:
    """Errors per (code, category) in the selection."""
    return cast(pd.Series, _answer(dataset.key, "code_counts", filters, (), dataset.queries))


def request_ids_csv(dataset: Dataset, filters: Filters, tz: str) -> bytes:
    """The request_id CSV of the selection (built when the download is clicked)."""
    return dataset.queries.request_ids_csv(filters, tz)


@st.cache_data(show_spinner=False, max_entries=32)
def _ticket(key: str, filters: Filters, tz: str, _q: Queries) -> str:
    return _q.ticket(filters, tz)


def ticket(dataset: Dataset, filters: Filters, tz: str) -> str:
    """The support-ticket Markdown of the selection."""
    return _ticket(dataset.key, filters, tz, dataset.queries)


@st.cache_data(show_spinner=False, max_entries=64)
def _explanation(key: str, filters: Filters, spike: Spike, tz: str, _q: Queries) -> Explanation:
    from app.backend import window

    # the spike and the six spike-lengths before it (explain_spike's baseline), errors only
    before = spike.start - 6 * (spike.end - spike.start)
    # with the API key / client host of each error (ingest.context)
    frame = _q.events(window(filters, before, spike.end), errors_only=True, with_context=True)
    if not (frame["timestamp"] < spike.start).any():  # no baseline: the whole log before it
        frame = _q.events(window(filters, None, spike.end), errors_only=True, with_context=True)
    return explain_spike(frame, spike.start, spike.end, tz=tz)


def explanation(dataset: Dataset, filters: Filters, spike: Spike, tz: str) -> Explanation:
    """The spike in one sentence and the values over-represented in it."""
    return _explanation(dataset.key, filters, spike, tz, dataset.queries)


#: the retry analysis walks every event of the selection in Python: above this it is skipped
RETRY_MAX_ROWS = 1_000_000


@st.cache_data(show_spinner=False, max_entries=32)
def _retries(key: str, filters: Filters, _q: Queries) -> RetryReport | None:
    if _q.count(filters) > RETRY_MAX_ROWS:  # counted, not loaded (rollups on a dataset)
        return None
    frame = _q.events(filters, limit=RETRY_MAX_ROWS + 1)
    if len(frame) > RETRY_MAX_ROWS:
        return None
    return analyse_retries(frame)


def retries(dataset: Dataset, filters: Filters) -> RetryReport | None:
    """The retry analysis of the selection (None: too many events, narrow the filters)."""
    return _retries(dataset.key, filters, dataset.queries)


@st.cache_resource(show_spinner=False)
def catalogue() -> Catalogue:
    """The error catalogue, loaded once per process."""
    return load_catalogue()


def meanings(lang: str) -> dict[str, str]:
    """code -> meaning in ``lang`` (the first entry of a code with several meanings)."""
    out: dict[str, str] = {}
    for entry in catalogue().entries:
        out.setdefault(entry.code, entry.meaning(lang))
    return out


# --------------------------------------------------------------------------- figures
#: this session's figures: (dataset key, filters, chart, args) -> figure, most recent last
FIGURES = "_figures"
FIGURES_KEPT = 64


def figure(
    dataset: Dataset,
    filters: Filters,
    chart: str,
    args: tuple[Any, ...],
    build: Callable[[], go.Figure],
) -> go.Figure:
    """The ``chart`` of a selection, built by ``build`` once per (dataset, filters, args) in a
    session: Plotly validates every property it is given, which was half of the server's time
    of a rerun whose answers were cached. ``args`` holds everything else the figure shows (zone,
    language, bucket). Figures are kept per session (not pickled: unpickling validates again),
    and never changed after they are built (``st.plotly_chart`` copies them)."""
    memo: OrderedDict[tuple[Any, ...], go.Figure] = st.session_state.setdefault(
        FIGURES, OrderedDict()
    )
    key = (dataset.key, filters, chart, args)
    fig = memo.get(key)
    if fig is None:
        fig = memo[key] = build()
        while len(memo) > FIGURES_KEPT:
            memo.popitem(last=False)
    else:
        memo.move_to_end(key)
    return fig
