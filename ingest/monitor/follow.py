"""Follow growing log files like ``tail -F`` and parse only what was appended.

Each file keeps an open handle (it follows the inode through a rename), its byte offset and line
count. A poll reads the complete new lines of every file; when the path now names another inode
(rotation by rename + create) the old handle is read to its end first, then the new file from
the start; a file shorter than the offset was truncated and is read again from the start; paths
that newly match a glob are picked up.

The bytes go through the ingest pipeline's own ``FileParser`` (records, formats, normalization,
merge rules) one appended block at a time. An event is released once a few more records have
followed it (the merge rules may still join it to the next line) or when the file is idle; the
checkpoint is the offset of the first line not yet released, so a restart re-reads only that.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import pandas as pd

from ingest.events import EventCollector, _Row
from ingest.formats import registry
from ingest.pipeline import FileParser
from ingest.records import RecordGrouper, looks_timestamped
from ingest.schema import empty_events
from ingest.sources import Source, sniff_encoding

#: rows kept back for the merge rules (a transport line joins the detail that follows it)
HOLD_ROWS = 8
#: rows kept after release so that later mentions of the same failure merge into them
KEEP_ROWS = 400
READ_BYTES = 4 << 20


def _has_magic(pattern: str) -> bool:
    return any(c in pattern for c in "*?[")


@dataclass
class FileState:
    """What a restart needs: the file's identity and where to resume."""

    path: str
    inode: int
    dev: int
    offset: int  # checkpoint: start of the first line whose events are not released
    lines: int  # lines before ``offset``

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "inode": self.inode,
            "dev": self.dev,
            "offset": self.offset,
            "lines": self.lines,
        }


@dataclass
class _Tail:
    path: str
    fh: IO[bytes]
    inode: int
    dev: int
    read_offset: int  # bytes consumed into complete lines
    line_no: int  # lines consumed
    parser: FileParser
    grouper: RecordGrouper
    encoding: str
    partial: bytes = b""
    released: set[int] = field(default_factory=set)  # id() of released rows
    line_offsets: dict[int, int] = field(default_factory=dict)  # line number -> byte offset
    checkpoint: tuple[int, int] | None = None  # (byte offset, lines before it)


class Follower:
    """Polls a set of paths/globs; ``poll()`` returns the newly released events."""

    def __init__(
        self,
        patterns: Iterable[str],
        tz: str,
        saved: dict[str, dict[str, Any]] | None = None,
        *,
        from_start: bool = False,
    ) -> None:
        self.patterns = list(patterns)
        self.tz = tz
        self.formats = registry()
        self.tails: dict[str, _Tail] = {}
        self.saved = dict(saved or {})
        self.from_start = from_start
        self.first_scan = True
        self.rotations = 0
        self.truncations = 0
        self._pending_drain: list[_Tail] = []

    # ------------------------------------------------------------------ files

    def _paths(self) -> list[str]:
        out: list[str] = []
        for pattern in self.patterns:
            if os.path.isdir(pattern):
                out += sorted(str(p) for p in Path(pattern).iterdir() if p.is_file())
            elif _has_magic(pattern):
                out += sorted(glob.glob(pattern))
            elif os.path.exists(pattern):
                out.append(pattern)
        return [p for p in dict.fromkeys(out) if os.path.isfile(p)]

    def _open(self, path: str, offset: int, lines: int) -> _Tail | None:
        try:
            fh = open(path, "rb")  # noqa: SIM115 (kept open to follow the inode)
        except OSError:
            return None
        st = os.fstat(fh.fileno())
        head = fh.read(1 << 16)
        encoding = sniff_encoding(head) if head else "utf-8"
        if encoding == "utf-16":
            encoding = "utf-8"  # a growing UTF-16 file cannot be split on b"\n"; unsupported
        timestamped = looks_timestamped(head.decode(encoding, errors="replace").split("\n")[:-1])
        if offset > st.st_size:
            offset, lines = 0, 0
            self.truncations += 1
        fh.seek(offset)
        parser = FileParser(Source(path, lambda: fh), self.formats, self.tz)
        grouper = RecordGrouper(timestamped if head.count(b"\n") >= 1 else None)
        grouper.line_no = lines
        tail = _Tail(path, fh, st.st_ino, st.st_dev, offset, lines, parser, grouper, encoding)
        tail.line_offsets[lines + 1] = offset
        return tail

    def _discover(self) -> None:
        for path in self._paths():
            if path in self.tails:
                continue
            saved = self.saved.pop(path, None)
            offset = lines = 0
            if saved is not None:
                try:
                    st = os.stat(path)
                except OSError:
                    continue
                if (st.st_ino, st.st_dev) == (saved["inode"], saved["dev"]):
                    offset, lines = int(saved["offset"]), int(saved["lines"])
                else:
                    self._drain_rotated(path, saved)
            elif self.first_scan and not self.from_start:
                # a new watch starts at the end of what is already there, like tail -F
                offset = os.path.getsize(path)
                lines = _count_lines(path, offset)
            tail = self._open(path, offset, lines)
            if tail is not None:
                self.tails[path] = tail
        self.first_scan = False

    def _drain_rotated(self, path: str, saved: dict[str, Any]) -> None:
        """The file was rotated while we were stopped: finish the old inode if it is nearby."""
        folder = os.path.dirname(path) or "."
        for name in sorted(os.listdir(folder)):
            candidate = os.path.join(folder, name)
            try:
                st = os.stat(candidate)
            except OSError:
                continue
            if (st.st_ino, st.st_dev) == (saved["inode"], saved["dev"]):
                old = self._open(candidate, int(saved["offset"]), int(saved["lines"]))
                if old is not None:
                    old.path = path  # events keep the name they were watched under
                    self._pending_drain.append(old)
                    self.rotations += 1
                return

    # ------------------------------------------------------------------ polling

    def poll(self, *, flush: bool = False) -> pd.DataFrame:
        """Read what was appended everywhere; the events released by this poll (their API
        keys / client hosts: ``self.context``, ingest.context)."""
        self.context: list[pd.DataFrame] = []
        self._discover()
        frames: list[pd.DataFrame] = []
        for old in self._pending_drain:
            self._read(old)
            frames.append(self._release(old, everything=True))
            old.fh.close()
        self._pending_drain = []
        for path, current in list(self.tails.items()):
            tail = current
            got = self._read(tail)
            try:
                st = os.stat(path)
            except OSError:
                st = None
            rotated = st is not None and (st.st_ino, st.st_dev) != (tail.inode, tail.dev)
            truncated = not rotated and st is not None and st.st_size < tail.read_offset
            if rotated or truncated:
                # rotated: finish the old inode first; either way, follow the file from its start
                if rotated:
                    self._read(tail)
                    self.rotations += 1
                else:
                    self.truncations += 1
                frames.append(self._release(tail, everything=True))
                tail.fh.close()
                new = self._open(path, 0, 0)
                if new is None:
                    del self.tails[path]
                    continue
                self.tails[path] = tail = new
                got = self._read(tail)
            frames.append(self._release(tail, everything=flush or not got))
        frames = [f for f in frames if not f.empty]
        if not frames:
            return empty_events()
        return pd.concat(frames, ignore_index=True)

    def _read(self, tail: _Tail) -> bool:
        """Feed the complete new lines of ``tail``; True when there were any."""
        got = False
        while True:
            data = tail.fh.read(READ_BYTES)
            if not data:
                break
            buf = tail.partial + data
            cut = buf.rfind(b"\n") + 1
            tail.partial = buf[cut:]
            if not cut:
                continue
            got = True
            block = buf[:cut]
            self._index_lines(tail, block)
            tail.read_offset += len(block)
            text = tail.parser.unwrap(block.decode(tail.encoding, errors="replace"))
            collector = tail.parser.collector
            before = {id(r) for r in collector.rows if r.absorbed}
            for rec in tail.grouper.feed(text, streams=tail.parser.streams):
                tail.parser.handle(rec)
            self._carry_release(collector, before, tail.released)
        return got

    @staticmethod
    def _index_lines(tail: _Tail, block: bytes) -> None:
        pos = tail.read_offset
        line = tail.grouper.line_no + len(tail.grouper._lookahead) + 1
        start = 0
        while True:
            nl = block.find(b"\n", start)
            if nl < 0:
                break
            start = nl + 1
            line += 1
            tail.line_offsets[line] = pos + start

    @staticmethod
    def _carry_release(collector: EventCollector, before: set[int], released: set[int]) -> None:
        """A released transport row absorbed by a new detail: the detail counts as released."""
        newly = [r for r in collector.rows if r.absorbed and id(r) not in before]
        if not any(id(r) in released for r in newly):
            return
        n = sum(1 for r in newly if id(r) in released)
        fresh = [r for r in collector.rows if not r.absorbed and id(r) not in released]
        for r in fresh[-n:]:
            released.add(id(r))

    def _release(self, tail: _Tail, *, everything: bool) -> pd.DataFrame:
        collector = tail.parser.collector
        if everything:
            for rec in tail.grouper.close():
                tail.parser.handle(rec)
            grouper = RecordGrouper(tail.grouper.timestamped)
            grouper.line_no = tail.grouper.line_no
            grouper.last_ts = tail.grouper.last_ts
            tail.grouper = grouper
        live = [r for r in collector.rows if not r.absorbed]
        cut = len(live) if everything else max(0, len(live) - HOLD_ROWS)
        out: list[_Row] = []
        for r in live[:cut]:
            if id(r) not in tail.released:
                tail.released.add(id(r))
                out.append(r)
        self._checkpoint(tail, live[cut:])
        self._prune(tail)
        if not out:
            return empty_events()
        part = EventCollector(tail.path, rows=out)
        frame = part.frame(self.tz)
        self.context.extend(part.context)
        return frame

    def _checkpoint(self, tail: _Tail, held: list[_Row]) -> None:
        first = tail.grouper.line_no + 1
        if tail.grouper._pending:
            first = min(first, tail.grouper._pending_start)
        first -= len(tail.grouper._lookahead)
        for r in held:
            first = min(first, int(r.fields["line"]))
        tail.line_offsets = {k: v for k, v in tail.line_offsets.items() if k >= first}
        offset = tail.line_offsets.get(first)
        if offset is None:  # nothing indexed that early: keep the previous checkpoint
            offset = min(tail.line_offsets.values(), default=tail.read_offset)
            first = min(tail.line_offsets, default=tail.line_no + 1)
        tail.checkpoint = (offset, first - 1)

    @staticmethod
    def _prune(tail: _Tail) -> None:
        collector = tail.parser.collector
        if len(collector.rows) <= KEEP_ROWS * 2:
            return
        dropped = collector.rows[:-KEEP_ROWS]
        collector.rows = collector.rows[-KEEP_ROWS:]
        gone = {id(r) for r in dropped}
        collector._by_rid = {k: v for k, v in collector._by_rid.items() if id(v) not in gone}
        tail.released -= gone

    # ------------------------------------------------------------------ state

    def state(self) -> dict[str, dict[str, Any]]:
        out = dict(self.saved)
        for path, tail in self.tails.items():
            offset, lines = tail.checkpoint or (tail.read_offset, tail.line_no)
            out[path] = FileState(path, tail.inode, tail.dev, offset, lines).to_dict()
        return out

    def close(self) -> None:
        for tail in self.tails.values():
            tail.fh.close()


def _count_lines(path: str, limit: int) -> int:
    n = 0
    with open(path, "rb") as fh:
        left = limit
        while left > 0:
            data = fh.read(min(left, 1 << 20))
            if not data:
                break
            n += data.count(b"\n")
            left -= len(data)
    return n
