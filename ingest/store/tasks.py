"""What the workers run, whatever the engine: count lines, parse a segment and write its parts.

The functions take and return small picklable values (paths, offsets, counts, report dicts), so
the same code runs in a local process pool and on a dask.distributed cluster whose workers read
the files and write the Parquet parts (and their rollups) themselves. The parse is
``ingest.parallel._parse_range`` (byte ranges cut on record boundaries) or ``FileParser`` for
files that cannot be cut.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ingest.store.manifest import RANGE

_COUNT_BLOCK = 16 << 20


@dataclass(frozen=True)
class CountTask:
    path: str
    start: int
    end: int


def count_lines(task: CountTask) -> int:
    """Newlines in bytes [start, end) of the file (= lines, since segments end after one)."""
    n = 0
    with open(task.path, "rb") as fh:
        fh.seek(task.start)
        left = task.end - task.start
        while left > 0:
            block = fh.read(min(_COUNT_BLOCK, left))
            if not block:
                break
            n += block.count(b"\n")
            left -= len(block)
    return n


@dataclass(frozen=True)
class ParseTask:
    dataset: str
    path: str
    kind: str
    start: int
    end: int
    line0: int
    part_id: str
    encoding: str
    timestamped: bool
    tz: str
    fmt: str | None = None


@dataclass
class ParseResult:
    parts: list[str] = field(default_factory=list)
    events: int = 0
    reports: list[dict[str, Any]] = field(default_factory=list)
    rollups: list[str] = field(default_factory=list)


def parse_segment(task: ParseTask) -> ParseResult:
    """Parse one segment, write its Parquet parts, their rollups and failed-call files; return
    only counts, paths and the report."""
    import pandas as pd

    from ingest.formats import get_format, registry
    from ingest.parallel import _parse_range
    from ingest.pipeline import FileParser
    from ingest.report import FileReport
    from ingest.sources import iter_sources
    from ingest.store.context import write_context
    from ingest.store.failed_calls import write_failed_calls
    from ingest.store.rollups import write_rollups
    from ingest.store.writer import write_parts

    frames = []
    reports: list[FileReport] = []
    if task.kind == RANGE:
        frame, report, _lines, _prints = _parse_range(
            task.path,
            task.start,
            task.end,
            fmt=task.fmt,
            tz=task.tz,
            encoding=task.encoding,
            timestamped=task.timestamped,
        )
        if len(frame):
            frames.append(frame.assign(line=frame["line"] + task.line0))
        report.unparsed_examples = [(n + task.line0, t) for n, t in report.unparsed_examples]
        if report.problem and "no DashScope API calls" in report.problem:
            report.problem = None  # decided for the whole file (ingest.store.reports)
        if report.context is not None:
            report.context = report.context.assign(line=report.context["line"] + task.line0)
        reports.append(report)
    else:
        formats = (get_format(task.fmt),) if task.fmt else registry()
        for src in iter_sources(task.path):
            parser = FileParser(src, formats, task.tz)
            frame = parser.run()
            if len(frame):
                frames.append(frame)
            reports.append(parser.report)
    if frames:
        events = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    else:
        events = None
    dataset = Path(task.dataset)
    parts = [] if events is None else write_parts(events, dataset, task.part_id)
    return ParseResult(
        parts=parts,
        events=0 if events is None else len(events),
        reports=[r.to_dict() for r in reports],
        rollups=write_rollups(dataset, parts, task.part_id)
        + write_failed_calls(dataset, parts, task.part_id)
        + write_context(
            dataset, [r.context for r in reports if r.context is not None], task.part_id
        ),
    )
