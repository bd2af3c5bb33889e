"""The parse report of a dataset, rebuilt from the per-segment reports in the manifest.

Stored beside the data as ``report.json`` (the same shape as ``IngestReport.to_dict()``), so
``summary`` and the dashboard show what was read, ignored and not understood without parsing.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pandas as pd

from ingest.report import MAX_UNPARSED_EXAMPLES, FileReport, IngestReport
from ingest.store.manifest import REPORT, Manifest, write_json


def file_report(data: dict[str, Any]) -> FileReport:
    """A FileReport from its ``to_dict()``."""
    return FileReport(
        source=data["source"],
        encoding=data.get("encoding", "utf-8"),
        bytes_read=data.get("bytes_read", 0),
        lines_read=data.get("lines_read", 0),
        lines_in_events=data.get("lines_in_events", 0),
        ignored=data.get("ignored", 0),
        unparsed=data.get("unparsed", 0),
        unparsed_examples=[(e["line"], e["text"]) for e in data.get("unparsed_examples", [])],
        formats=Counter(data.get("formats", {})),
        events=data.get("events", 0),
        errors=data.get("errors", 0),
        errors_without_request_id=data.get("errors_without_request_id", 0),
        first_ts=None if data.get("first_ts") is None else pd.Timestamp(data["first_ts"]),
        last_ts=None if data.get("last_ts") is None else pd.Timestamp(data["last_ts"]),
        problem=data.get("problem"),
    )


def _merge(into: FileReport, part: FileReport) -> None:
    into.encoding = part.encoding
    for name in (
        "bytes_read",
        "lines_read",
        "lines_in_events",
        "ignored",
        "unparsed",
        "events",
        "errors",
        "errors_without_request_id",
    ):
        setattr(into, name, getattr(into, name) + getattr(part, name))
    into.formats.update(part.formats)
    room = MAX_UNPARSED_EXAMPLES - len(into.unparsed_examples)
    into.unparsed_examples += part.unparsed_examples[: max(room, 0)]
    if part.first_ts is not None:
        into.first_ts = (
            part.first_ts if into.first_ts is None else min(into.first_ts, part.first_ts)
        )
    if part.last_ts is not None:
        into.last_ts = part.last_ts if into.last_ts is None else max(into.last_ts, part.last_ts)
    into.problem = into.problem or part.problem


def build_report(manifest: Manifest) -> IngestReport:
    """One FileReport per source (a zip member counts as a source), over its done segments."""
    by_source: dict[str, FileReport] = {}
    for entry in manifest.files.values():
        for seg in entry.segments:
            if not seg.done:
                continue
            for data in seg.reports:
                part = file_report(data)
                if part.source not in by_source:
                    by_source[part.source] = FileReport(part.source, encoding=part.encoding)
                _merge(by_source[part.source], part)
    for r in by_source.values():
        if r.lines_read and not r.events and not r.unparsed and r.problem is None:
            r.problem = (
                f"{r.source}: no DashScope API calls found in {r.lines_read} lines;"
                " is this a log of an application that calls DashScope?"
            )
    return IngestReport(files=[by_source[k] for k in sorted(by_source)])


def save_report(dataset: Path, manifest: Manifest) -> IngestReport:
    report = build_report(manifest)
    write_json(dataset / REPORT, report.to_dict())
    return report


def load_report(dataset: Path) -> IngestReport:
    """The stored report (rebuilt from the manifest when the file is missing)."""
    path = dataset / REPORT
    if path.exists():
        data = json.loads(path.read_text(encoding="utf-8"))
        return IngestReport(files=[file_report(f) for f in data.get("files", [])])
    manifest = Manifest.load(dataset)
    return IngestReport() if manifest is None else build_report(manifest)
