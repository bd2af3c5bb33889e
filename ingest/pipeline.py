"""read -> group records -> match formats -> normalize -> events frame."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd

from ingest.report import IngestReport
from ingest.schema import empty_events

DEFAULT_TZ = "Asia/Shanghai"

ProgressFn = Callable[[int, int], None]


def load_events(
    sources: Any,
    *,
    tz: str = DEFAULT_TZ,
    format: str | None = None,
    progress: ProgressFn | None = None,
) -> tuple[pd.DataFrame, IngestReport]:
    """Parse ``sources`` into the events frame and the ingest report (stub)."""
    return empty_events(), IngestReport()
