"""The dataset's manifest: which files were ingested up to where, and which parts hold them.

One JSON file (``manifest.json``) at the root of the dataset, rewritten atomically by the
coordinator after every finished part. A file is known by its fingerprint: absolute path, size,
mtime and a SHA-256 of its head (the first ``HEAD_BYTES`` bytes, or fewer for a smaller file).
Its bytes are cut into segments that start on record boundaries; each segment remembers the
line number it starts at, whether it is done and the Parquet parts (and rollups, see
``ingest.store.rollups``) it produced. Queries read only the files listed here, so a
half-finished run is invisible to them.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

MANIFEST = "manifest.json"
REPORT = "report.json"
LOCK = ".ingest.lock"
HEAD_BYTES = 64 << 10
VERSION = 1

#: how a file is read: ``range`` = byte ranges of a plain file; ``whole`` = in one piece
#: (gzip, zip, UTF-16: their bytes cannot be cut on line boundaries)
RANGE = "range"
WHOLE = "whole"


class StoreError(Exception):
    """A problem with the dataset directory, phrased as advice for the CLI."""


def head_hash(path: str, length: int) -> str:
    with open(path, "rb") as fh:
        return hashlib.sha256(fh.read(length)).hexdigest()


@dataclass
class Segment:
    start: int  # byte offset (a record starts here)
    end: int  # exclusive; just after a newline for plain files
    line0: int  # lines of the file before ``start``
    part_id: str
    lines: int = -1  # lines in the segment (-1: not counted yet)
    done: bool = False
    parts: list[str] = field(default_factory=list)  # relative paths of the Parquet files
    events: int = 0
    #: the segment's rollups, one file per level (``ingest.store.rollups``), and its failed-call
    #: files (``ingest.store.failed_calls``); what a segment committed before they existed
    #: lacks, the next ingest writes; empty for a segment without events
    rollups: list[str] = field(default_factory=list)
    reports: list[dict[str, Any]] = field(default_factory=list)  # FileReport.to_dict() each


@dataclass
class FileEntry:
    path: str
    size: int  # size when last planned
    mtime_ns: int
    head_len: int
    head_hash: str
    kind: str = RANGE
    encoding: str = "utf-8"
    timestamped: bool = True
    segments: list[Segment] = field(default_factory=list)

    @property
    def planned_end(self) -> int:
        return self.segments[-1].end if self.segments else 0

    @property
    def done(self) -> bool:
        return all(s.done for s in self.segments)

    @property
    def events(self) -> int:
        return sum(s.events for s in self.segments)

    def same_head(self) -> bool:
        """True when the file on disk still starts with the bytes fingerprinted."""
        try:
            return head_hash(self.path, self.head_len) == self.head_hash
        except OSError:
            return False


def entry_id(path: str, digest: str) -> str:
    return hashlib.sha1(f"{path}\0{digest}".encode()).hexdigest()[:16]


def part_id(eid: str, start: int, end: int) -> str:
    return hashlib.sha1(f"{eid}:{start}:{end}".encode()).hexdigest()[:20]


@dataclass
class Manifest:
    tz: str
    files: dict[str, FileEntry] = field(default_factory=dict)
    trash: list[str] = field(default_factory=list)  # parts to delete (replaced whole files)
    version: int = VERSION

    # ----------------------------------------------------------------- persistence

    @staticmethod
    def path_in(dataset: Path) -> Path:
        return dataset / MANIFEST

    @classmethod
    def load(cls, dataset: Path) -> Manifest | None:
        path = cls.path_in(dataset)
        if not path.exists():
            return None
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise StoreError(f"{path}: unreadable manifest ({exc})") from exc
        if data.get("version") != VERSION:
            raise StoreError(f"{path}: manifest version {data.get('version')}, expected {VERSION}")
        files = {}
        for key, raw in data["files"].items():
            segments = [Segment(**s) for s in raw.pop("segments")]
            files[key] = FileEntry(**raw, segments=segments)
        return cls(tz=data["tz"], files=files, trash=list(data.get("trash", [])))

    def save(self, dataset: Path) -> None:
        data = {
            "version": self.version,
            "tz": self.tz,
            "files": {k: asdict(v) for k, v in self.files.items()},
            "trash": self.trash,
        }
        write_json(self.path_in(dataset), data)

    # ----------------------------------------------------------------- views

    def parts(self) -> list[str]:
        """Relative paths of every committed Parquet part, in a stable order."""
        return sorted({p for e in self.files.values() for s in e.segments for p in s.parts})

    def rollup_parts(self) -> list[str]:
        """Relative paths of every committed rollup file (all levels), in a stable order."""
        return sorted({p for e in self.files.values() for s in e.segments for p in s.rollups})

    def has_rollups(self, kinds: Iterable[str]) -> bool:
        """True when every committed segment with events has a rollup file of each kind (the
        directory under ``rollups/``: a level, or a kind of failed-call file)."""
        wanted = set(kinds)
        return all(
            wanted <= {rel.split("/")[1] for rel in s.rollups}
            for e in self.files.values()
            for s in e.segments
            if s.done and s.parts
        )

    @property
    def events(self) -> int:
        return sum(e.events for e in self.files.values())


def write_json(path: Path, data: Any) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
    os.replace(tmp, path)


def is_dataset(path: str | Path) -> bool:
    """True for a directory made by ``dashscope-logs ingest`` (it holds a manifest)."""
    p = Path(path)
    return p.is_dir() and (p / MANIFEST).is_file()


class Lock:
    """One ingest at a time per dataset (a lock file holding the owner's pid)."""

    def __init__(self, dataset: Path) -> None:
        self.path = dataset / LOCK

    def __enter__(self) -> Lock:
        try:
            fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            if _alive(self.path):
                raise StoreError(
                    f"another ingest is writing to {self.path.parent} (lock {self.path}); "
                    "wait for it, or delete the lock if that process is gone"
                ) from None
            self.path.unlink(missing_ok=True)  # left by a killed run
            fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        with os.fdopen(fd, "w") as fh:
            fh.write(str(os.getpid()))
        return self

    def __exit__(self, *_exc: object) -> None:
        self.path.unlink(missing_ok=True)


def _alive(lock: Path) -> bool:
    try:
        pid = int(lock.read_text().strip() or "0")
    except (OSError, ValueError):
        return False
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
