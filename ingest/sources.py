"""Read: paths, globs, directories, stdin and in-memory uploads -> decoded text, chunk by chunk.

`.gz` and `.zip` members are opened transparently. Text is UTF-8 (with or without BOM), UTF-16
with a BOM, or GB18030 for logs from Chinese Windows machines; invalid bytes become U+FFFD and
never stop the parse.
"""

from __future__ import annotations

import codecs
import glob
import gzip
import io
import os
import sys
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

CHUNK_BYTES = 8 << 20
#: decompressed bytes allowed per compressed member before we stop (gzip bombs)
MAX_DECOMPRESSED = 8 << 30
LOG_SUFFIXES = {".log", ".txt", ".jsonl", ".json", ".ndjson", ".csv", ".out", ".err", ".gz", ".zip"}


class SourceError(Exception):
    """A source that cannot be read at all; the message says what to do."""


@dataclass
class Source:
    """One logical input file: a name for reports and a way to open its raw bytes."""

    name: str
    open: Callable[[], IO[bytes]]
    size: int | None = None


def _is_gzip(head: bytes) -> bool:
    return head[:2] == b"\x1f\x8b"


def _is_zip(head: bytes) -> bool:
    return head[:4] == b"PK\x03\x04"


def _expand_path(text: str) -> list[Path]:
    p = Path(text)
    if p.is_dir():
        files = [
            f
            for f in sorted(p.rglob("*"))
            if f.is_file()
            and not any(part.startswith(".") for part in f.relative_to(p).parts)
            and (f.suffix.lower() in LOG_SUFFIXES or ".log" in f.name.lower())
        ]
        if not files:
            raise SourceError(f"{text}: directory holds no log files (*.log, *.jsonl, *.gz, ...)")
        return files
    if p.exists():
        return [p]
    matches = sorted(glob.glob(text, recursive=True))
    if matches:
        return [Path(m) for m in matches if Path(m).is_file()]
    raise SourceError(f"{text}: no such file or directory; check the path or quote the glob")


def _bytes_source(name: str, data: bytes) -> Iterator[Source]:
    head = data[:4]
    if _is_zip(head):
        yield from _zip_sources(name, lambda: io.BytesIO(data))
    else:
        yield Source(name, lambda: io.BytesIO(data), len(data))


def _zip_sources(name: str, opener: Callable[[], IO[bytes]]) -> Iterator[Source]:
    try:
        with opener() as fh, zipfile.ZipFile(fh) as zf:
            infos = [i for i in zf.infolist() if not i.is_dir()]
    except (zipfile.BadZipFile, OSError) as exc:
        raise SourceError(f"{name}: not a readable zip archive ({exc})") from exc
    for info in infos:
        member = info.filename

        def open_member(member: str = member) -> IO[bytes]:
            zf = zipfile.ZipFile(opener())
            return zf.open(member)

        # Member names are only labels here: nothing is ever written to disk.
        yield Source(f"{name}!{member}", open_member, info.file_size)


def iter_sources(sources: Any) -> Iterator[Source]:
    """Expand what the caller gave into Sources; raises SourceError for what cannot be found."""
    if isinstance(sources, str | Path | bytes | bytearray) or (
        isinstance(sources, tuple) and len(sources) == 2 and isinstance(sources[0], str)
    ):
        sources = [sources]
    for item in sources:
        if isinstance(item, tuple):
            name, data = item
            if hasattr(data, "read"):
                data = data.read()
            yield from _bytes_source(str(name), bytes(data))
        elif isinstance(item, bytes | bytearray):
            yield from _bytes_source("<bytes>", bytes(item))
        elif str(item) == "-":
            yield from _bytes_source("<stdin>", sys.stdin.buffer.read())
        else:
            for path in _expand_path(str(item)):
                yield from _path_sources(path)


def _path_sources(path: Path) -> Iterator[Source]:
    try:
        with path.open("rb") as fh:
            head = fh.read(4)
        size = path.stat().st_size
    except OSError as exc:
        raise SourceError(f"{path}: cannot be read ({exc.strerror})") from exc
    if _is_zip(head):
        yield from _zip_sources(str(path), lambda: path.open("rb"))
    else:
        yield Source(str(path), lambda: path.open("rb"), size)


class _CappedGzip(io.RawIOBase):
    """A gzip reader that refuses to inflate past MAX_DECOMPRESSED bytes.

    It inflates in small steps, so a truncated archive loses at most one step of text: the
    end-of-stream error surfaces on the next read, after everything before the cut was returned.
    """

    STEP = 1 << 16

    def __init__(self, raw: IO[bytes], name: str) -> None:
        self._gz = gzip.GzipFile(fileobj=raw)
        self._name = name
        self._out = 0
        self._truncated: BaseException | None = None

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        view = memoryview(b).cast("B")
        total = 0
        while total < len(view) and self._truncated is None:
            try:
                data = self._gz.read1(min(self.STEP, len(view) - total))
            except (EOFError, zlib.error, OSError) as exc:
                self._truncated = exc
                break
            if not data:
                break
            view[total : total + len(data)] = data
            total += len(data)
        self._out += total
        if self._out > MAX_DECOMPRESSED:
            raise SourceError(
                f"{self._name}: decompresses to more than {MAX_DECOMPRESSED >> 30} GiB;"
                " unpack it yourself and pass the file"
            )
        if total == 0 and self._truncated is not None:
            raise EOFError(f"the compressed stream ends early ({self._truncated})")
        return total


def open_raw(source: Source) -> IO[bytes]:
    """Open the source's bytes, inflating gzip transparently."""
    fh = source.open()
    head = fh.read(2)
    try:
        fh.seek(0)
    except (OSError, io.UnsupportedOperation):
        data = head + fh.read()
        fh = io.BytesIO(data)
    if _is_gzip(head):
        return _CappedGzip(fh, source.name)  # type: ignore[return-value]
    return fh


def sniff_encoding(head: bytes) -> str:
    """Choose a decoder from the first bytes: BOMs first, then UTF-8, then GB18030.

    When neither decodes cleanly (a stray byte), the one with fewer replacement characters wins,
    so one bad byte does not turn a whole Chinese log into U+FFFD.
    """
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    sample = head[: 1 << 20]
    # cut a possibly broken multi-byte sequence at the end of the sample
    cut = sample.rfind(b"\n")
    if cut > 0:
        sample = sample[:cut]
    try:
        sample.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        sample.decode("gb18030")
        return "gb18030"
    except UnicodeDecodeError:
        pass
    bad_utf8 = sample.decode("utf-8", errors="replace").count("\ufffd")
    bad_gb = sample.decode("gb18030", errors="replace").count("\ufffd")
    return "gb18030" if bad_gb < bad_utf8 else "utf-8"


def iter_text_chunks(
    raw: IO[bytes],
    *,
    chunk_bytes: int = CHUNK_BYTES,
    on_bytes: Callable[[int], None] | None = None,
    encoding: str | None = None,
) -> Iterator[tuple[str, str]]:
    """Yield (encoding, text) chunks that end on a line boundary (the last may not).

    ``encoding`` is sniffed from the first chunk unless given (a byte range of a big file is
    decoded with the encoding sniffed from the file's head).
    """
    try:
        first = raw.read(chunk_bytes)
    except (OSError, EOFError, zlib.error) as exc:
        raise SourceError(f"cannot be read ({exc}); is the archive truncated?") from exc
    encoding = encoding or sniff_encoding(first)
    decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
    carry = ""
    data = first
    while data:
        if on_bytes is not None:
            on_bytes(len(data))
        text = carry + decoder.decode(data)
        cut = text.rfind("\n") + 1
        if cut:
            carry = text[cut:]
            yield encoding, text[:cut]
        else:
            carry = text
        try:
            data = raw.read(chunk_bytes)
        except (OSError, EOFError, zlib.error) as exc:
            # a truncated archive: keep what was read, the report says the rest is missing
            data = b""
            carry += decoder.decode(b"", final=True)
            if carry:
                yield encoding, carry
            raise SourceError(
                "the compressed stream is truncated; parsed what was readable"
            ) from exc
    carry += decoder.decode(b"", final=True)
    if carry:
        yield encoding, carry


def total_size(sources: Iterable[Source]) -> int:
    return sum(s.size or 0 for s in sources)


def file_size(path: str) -> int | None:
    try:
        return os.path.getsize(path)
    except OSError:
        return None
