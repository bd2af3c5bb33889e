"""Loading and caching: the only module of the app that caches anything.

Uploads are cached on their ``file_id`` (the bytes are passed as an underscore argument so they
are never hashed: hashing a 1 GB upload on every rerun would cost seconds); server-side paths on
``(path, size, mtime)``, so an edited file is parsed again.
"""

from __future__ import annotations

import glob
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

import app as app_package
from ingest import IngestReport, load_events
from ingest.catalog import Catalogue, load_catalogue
from ingest.queries import Options, filter_options

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


@dataclass(frozen=True)
class Dataset:
    """What the pages work on: the events, the parse report and where they came from."""

    key: str  # identifies the input (file ids or path/size/mtime), for per-dataset caches
    label: str
    events: pd.DataFrame
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


def _parse(sources: Any, text: ProgressText | None) -> tuple[pd.DataFrame, IngestReport]:
    """Parse with a progress bar. The bar is created and emptied inside the cached call, so a
    cache hit replays an empty placeholder instead of a stale bar."""
    holder = st.empty()

    def progress(done: int, total: int) -> None:
        share = min(done / total, 1.0) if total else 0.0
        holder.progress(share, text=text(done, total) if text else None)

    try:
        return load_events(sources, tz=PARSE_TZ, progress=progress)
    finally:
        holder.empty()


@st.cache_data(show_spinner=False, max_entries=4)
def _load_paths(
    key: tuple[tuple[str, int, int], ...], _text: ProgressText | None = None
) -> tuple[pd.DataFrame, IngestReport]:
    return _parse([path for path, _, _ in key], _text)


@st.cache_data(show_spinner=False, max_entries=4)
def _load_uploads(
    file_ids: tuple[str, ...],
    _files: tuple[tuple[str, bytes], ...],
    _text: ProgressText | None = None,
) -> tuple[pd.DataFrame, IngestReport]:
    return _parse(list(_files), _text)


def load_paths(paths: Sequence[str], label: str, text: ProgressText | None = None) -> Dataset:
    from app import dataset

    if dataset.is_dataset(list(paths)):  # a Parquet dataset made by `dashscope-logs ingest`
        key, events, report = dataset.load(paths[0], label)
        return Dataset(key, label, events, report)
    files = expand_paths(paths)
    key = path_key(files)
    events, report = _load_paths(key, text)
    return Dataset("paths:" + repr(key), label, events, report)


def load_uploads(uploads: Sequence[Any], text: ProgressText | None = None) -> Dataset:
    """Parse ``st.file_uploader`` results (UploadedFile: .file_id, .name, .getvalue())."""
    ids = tuple(str(getattr(u, "file_id", "")) or str(getattr(u, "name", "")) for u in uploads)
    files = tuple((str(getattr(u, "name", "upload")), _bytes_of(u)) for u in uploads)
    events, report = _load_uploads(ids, files, text)
    label = ", ".join(name for name, _ in files)
    return Dataset("upload:" + ",".join(ids), label, events, report)


def _bytes_of(upload: object) -> bytes:
    getvalue = getattr(upload, "getvalue", None)
    return bytes(getvalue()) if callable(getvalue) else b""


@st.cache_data(show_spinner=False, max_entries=8)
def options(dataset_key: str, _events: pd.DataFrame) -> Options:
    """What the filters offer for a dataset (computed once per dataset)."""
    return filter_options(_events)


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
