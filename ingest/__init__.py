"""dashscope-log-lens core: DashScope API log files -> one pandas frame of API events.

Never imports Streamlit. The public surface:

- ``load_events(sources, tz=..., format=..., progress=...) -> (events, IngestReport)``
- ``EVENT_COLUMNS`` / ``EVENT_DTYPES``: the events frame contract
- ``load_catalogue()``: the DashScope error catalogue
"""

from __future__ import annotations

from ingest.pipeline import DEFAULT_TZ, load_events
from ingest.report import FileReport, IngestReport
from ingest.schema import EVENT_COLUMNS, EVENT_DTYPES, empty_events

__all__ = [
    "DEFAULT_TZ",
    "EVENT_COLUMNS",
    "EVENT_DTYPES",
    "FileReport",
    "IngestReport",
    "empty_events",
    "load_events",
]
