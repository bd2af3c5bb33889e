"""What an ingest run read, recognised, ignored and could not parse: nothing is silently dropped.

For every file: lines_read == lines_in_events + ignored + unparsed (issue #7, "Nothing lost").
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

MAX_UNPARSED_EXAMPLES = 200


@dataclass
class FileReport:
    """The accounting of one input file (an archive member counts as a file)."""

    source: str
    encoding: str = "utf-8"
    bytes_read: int = 0
    lines_read: int = 0
    lines_in_events: int = 0
    ignored: int = 0
    unparsed: int = 0
    unparsed_examples: list[tuple[int, str]] = field(default_factory=list)
    formats: Counter[str] = field(default_factory=Counter)
    #: UTC offsets written in the events' timestamps (+08:00: 1234), for the zone picker
    utc_offsets: Counter[str] = field(default_factory=Counter)
    events: int = 0
    errors: int = 0
    errors_without_request_id: int = 0
    first_ts: pd.Timestamp | None = None
    last_ts: pd.Timestamp | None = None
    problem: str | None = None  # set when the file could not be read at all
    envelope: str | None = None  # the shipper's wrapping unwrapped first (ingest.envelopes)
    #: API key hash / client host of the error events that name one (ingest.context)
    context: pd.DataFrame | None = field(default=None, repr=False)

    def add_unparsed(self, line: int, text: str) -> None:
        self.unparsed += 1
        if len(self.unparsed_examples) < MAX_UNPARSED_EXAMPLES:
            self.unparsed_examples.append((line, text[:500]))

    def count_events(self, frame: pd.DataFrame) -> None:
        """Events, errors, errors without a request_id and the time span, from the file's frame."""
        self.events = self.errors = self.errors_without_request_id = 0
        self.first_ts = self.last_ts = None
        self.add_events(frame)

    def add_events(self, frame: pd.DataFrame) -> None:
        """count_events for the file's frame a part at a time (ingest.bounded)."""
        self.events += len(frame)
        errors = frame["is_error"].to_numpy(dtype=bool)  # masks only: no copy of the frame
        self.errors += int(errors.sum())
        no_id = errors & frame["request_id"].isna().to_numpy()
        self.errors_without_request_id += int(no_id.sum())
        first, last = frame["timestamp"].min(), frame["timestamp"].max()
        if not pd.isna(first):
            self.first_ts = first if self.first_ts is None else min(self.first_ts, first)
            self.last_ts = last if self.last_ts is None else max(self.last_ts, last)

    @property
    def balanced(self) -> bool:
        return self.lines_read == self.lines_in_events + self.ignored + self.unparsed

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "encoding": self.encoding,
            "bytes_read": self.bytes_read,
            "lines_read": self.lines_read,
            "lines_in_events": self.lines_in_events,
            "ignored": self.ignored,
            "unparsed": self.unparsed,
            "unparsed_examples": [{"line": n, "text": t} for n, t in self.unparsed_examples],
            "formats": dict(self.formats.most_common()),
            "utc_offsets": dict(self.utc_offsets.most_common()),
            "events": self.events,
            "errors": self.errors,
            "errors_without_request_id": self.errors_without_request_id,
            "first_ts": None if self.first_ts is None else self.first_ts.isoformat(),
            "last_ts": None if self.last_ts is None else self.last_ts.isoformat(),
            "problem": self.problem,
            "envelope": self.envelope,
        }


@dataclass
class IngestReport:
    """The accounting of a whole ``load_events`` call."""

    files: list[FileReport] = field(default_factory=list)

    def _sum(self, name: str) -> int:
        return sum(int(getattr(f, name)) for f in self.files)

    @property
    def lines_read(self) -> int:
        return self._sum("lines_read")

    @property
    def events(self) -> int:
        return self._sum("events")

    @property
    def errors(self) -> int:
        return self._sum("errors")

    @property
    def ignored(self) -> int:
        return self._sum("ignored")

    @property
    def unparsed(self) -> int:
        return self._sum("unparsed")

    @property
    def errors_without_request_id(self) -> int:
        return self._sum("errors_without_request_id")

    @property
    def formats(self) -> Counter[str]:
        total: Counter[str] = Counter()
        for f in self.files:
            total.update(f.formats)
        return total

    @property
    def utc_offsets(self) -> Counter[str]:
        total: Counter[str] = Counter()
        for f in self.files:
            total.update(f.utc_offsets)
        return total

    @property
    def context(self) -> pd.DataFrame:
        """(source, line) -> api_key, client_host for the error events that name one."""
        from ingest.context import concat_context

        return concat_context(f.context for f in self.files if f.context is not None)

    @property
    def problems(self) -> list[tuple[str, str]]:
        return [(f.source, f.problem) for f in self.files if f.problem]

    @property
    def unparsed_examples(self) -> list[tuple[str, int, str]]:
        return [(f.source, n, t) for f in self.files for n, t in f.unparsed_examples]

    def to_dict(self) -> dict[str, Any]:
        return {
            "lines_read": self.lines_read,
            "events": self.events,
            "errors": self.errors,
            "ignored": self.ignored,
            "unparsed": self.unparsed,
            "errors_without_request_id": self.errors_without_request_id,
            "formats": dict(self.formats.most_common()),
            "utc_offsets": dict(self.utc_offsets.most_common()),
            "files": [f.to_dict() for f in self.files],
        }
