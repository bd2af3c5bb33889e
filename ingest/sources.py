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
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

CHUNK_BYTES = 8 << 20


def _env_int(name: str, default: int) -> int:
    try:
        return int(os.environ.get(name, default))
    except ValueError:
        return default


#: gzip / zip bombs: a compressed input may inflate to at most MAX_RATIO times its size (logs
#: compress 5-30x), but always to MIN_ALLOWANCE, and never past MAX_DECOMPRESSED. Set the
#: DASHSCOPE_LOGS_MAX_RATIO / _MIN_ALLOWANCE_MB / _MAX_DECOMPRESSED_MB variables to change them.
MAX_RATIO = _env_int("DASHSCOPE_LOGS_MAX_RATIO", 100)
MIN_ALLOWANCE = _env_int("DASHSCOPE_LOGS_MIN_ALLOWANCE_MB", 64) << 20
MAX_DECOMPRESSED = _env_int("DASHSCOPE_LOGS_MAX_DECOMPRESSED_MB", 4096) << 20
#: what the report says of a compressed file that ends before its end-of-stream marker
TRUNCATED = "the compressed stream is truncated; parsed what was readable"
#: archives inside archives are read (in memory, never extracted to disk) this deep
MAX_ARCHIVE_DEPTH = 3
#: members of one zip archive read at most (each one is a file of the report)
MAX_ZIP_MEMBERS = 10_000
#: a line longer than this keeps only its first characters (memory stays bounded)
MAX_LINE_CHARS = 16 << 20


def decompressed_cap(compressed: int | None) -> int:
    """How many bytes a compressed input of ``compressed`` bytes may inflate to."""
    ratio_cap = MAX_RATIO * compressed if compressed else MAX_DECOMPRESSED
    return min(MAX_DECOMPRESSED, max(MIN_ALLOWANCE, ratio_cap))


def _mib(n: int) -> str:
    return f"{n / (1 << 20):,.0f} MiB"


def bomb_message(compressed: int | None, cap: int) -> str:
    """The line a user sees for a gzip/zip bomb (or a legitimately huge archive)."""
    size = f" (compressed: {_mib(compressed)})" if compressed else ""
    return (
        f"inflates to more than {_mib(cap)}{size}, over {MAX_RATIO}x its size: refused as a "
        "possible decompression bomb. If it is a real log, unpack it yourself (gunzip -k / "
        "unzip) and pass the unpacked file, or raise DASHSCOPE_LOGS_MAX_RATIO"
    )


LOG_SUFFIXES = {".log", ".txt", ".jsonl", ".json", ".ndjson", ".csv", ".out", ".err", ".gz", ".zip"}


class SourceError(Exception):
    """A source that cannot be read at all; the message says what to do."""


@dataclass
class Source:
    """One logical input file: a name for reports and a way to open its raw bytes."""

    name: str
    open: Callable[[], IO[bytes]]
    size: int | None = None
    #: the plain file on disk holding the bytes, when it is not ``name`` (an upload saved to a
    #: temporary file keeps its own name): lets ``ingest.parallel`` split it in byte ranges
    path: str | None = None


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


def _bytes_source(name: str, data: bytes, depth: int = 0) -> Iterator[Source]:
    head = data[:4]
    if _is_zip(head):
        yield from _zip_sources(name, lambda: io.BytesIO(data), depth)
    else:
        yield Source(name, lambda: io.BytesIO(data), len(data))


def _refused(message: str) -> Callable[[], IO[bytes]]:
    def open_refused() -> IO[bytes]:
        raise SourceError(message)

    return open_refused


#: what a corrupt, encrypted or exotic zip member raises (fuzzing found ValueError in open)
_ZIP_ERRORS = (
    zipfile.BadZipFile,
    OSError,
    EOFError,
    ValueError,
    zlib.error,
    NotImplementedError,
    RuntimeError,
    KeyError,
    IndexError,
)


def _zip_sources(name: str, opener: Callable[[], IO[bytes]], depth: int = 0) -> Iterator[Source]:
    """One Source per member; the archive is opened once (thousands of members stay linear).

    Member names are only labels: nothing is ever written to disk, so ``../`` names are harmless.
    A member that would inflate past the bomb cap is reported, not read; a zip inside the zip
    is read in memory down to MAX_ARCHIVE_DEPTH.
    """
    try:
        zf = zipfile.ZipFile(opener())
        # an empty member name makes ZipInfo.is_dir() raise IndexError (found by fuzzing)
        infos = [i for i in zf.infolist() if i.filename and not i.is_dir()]
    except _ZIP_ERRORS as exc:
        raise SourceError(f"{name}: not a readable zip archive ({exc})") from exc
    if len(infos) > MAX_ZIP_MEMBERS:
        raise SourceError(
            f"{name}: {len(infos):,} members, more than {MAX_ZIP_MEMBERS:,}; "
            "unpack it and pass the folder (or the files you need)"
        )
    for info in infos:
        label = f"{name}!{info.filename}"
        cap = decompressed_cap(info.compress_size)
        if info.file_size > cap:
            yield Source(label, _refused(bomb_message(info.compress_size, cap)), 0)
            continue
        if info.file_size >= 4 and _is_zip(_peek(zf, info)):
            if depth + 1 >= MAX_ARCHIVE_DEPTH:
                message = (
                    f"archives nested more than {MAX_ARCHIVE_DEPTH} deep are not read; "
                    "unpack the outer ones and pass the inner archive"
                )
                yield Source(label, _refused(message), 0)
                continue
            data = _read_member(zf, info, label)
            yield from _bytes_source(label, data, depth + 1)
            continue

        def open_member(info: zipfile.ZipInfo = info) -> IO[bytes]:
            try:
                return _SafeMember(zf.open(info))  # type: ignore[return-value]
            except _ZIP_ERRORS as exc:
                raise SourceError(f"not a readable zip member ({exc})") from exc

        yield Source(label, open_member, info.file_size)


class _SafeMember(io.RawIOBase):
    """A zip member whose read errors (bad CRC, corrupt deflate data) are OSErrors: the text
    read before the error is kept and the report says the member is damaged."""

    def __init__(self, fh: IO[bytes]) -> None:
        self._fh = fh

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        try:
            data = self._fh.read(len(b))
        except _ZIP_ERRORS as exc:
            raise OSError(f"damaged zip member ({exc})") from exc
        b[: len(data)] = data
        return len(data)

    def close(self) -> None:
        try:
            self._fh.close()
        finally:
            super().close()


def _peek(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    try:
        with zf.open(info) as fh:
            return fh.read(4)
    except _ZIP_ERRORS:
        return b""


def _read_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, label: str) -> bytes:
    try:
        with zf.open(info) as fh:
            return fh.read(info.file_size + 1)
    except _ZIP_ERRORS as exc:
        raise SourceError(f"{label}: not a readable zip member ({exc})") from exc


def iter_sources(sources: Any) -> Iterator[Source]:
    """Expand what the caller gave into Sources; raises SourceError for what cannot be found."""
    if isinstance(sources, str | Path | bytes | bytearray) or (
        isinstance(sources, tuple) and len(sources) == 2 and isinstance(sources[0], str)
    ):
        sources = [sources]
    for item in sources:
        if isinstance(item, Source):
            yield item
        elif isinstance(item, tuple):
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

    def __init__(self, raw: IO[bytes], name: str, compressed: int | None = None) -> None:
        self._gz = gzip.GzipFile(fileobj=raw)
        self._name = name
        self._out = 0
        self._compressed = compressed
        self._cap = decompressed_cap(compressed)
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
        if self._out > self._cap:
            raise SourceError(bomb_message(self._compressed, self._cap))
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
        return _CappedGzip(fh, source.name, source.size)  # type: ignore[return-value]
    return fh


def sniff_encoding(head: bytes) -> str:
    """Choose a decoder from the first bytes: BOMs first, then UTF-8, then GB18030.

    When neither decodes cleanly (a stray byte), the one with fewer replacement characters wins,
    so one bad byte does not turn a whole Chinese log into U+FFFD.
    """
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) and (
        len(head) < 8 or b"\x00" in head[2:4096]
    ):
        # UTF-16 text always has NULs (ASCII digits, newlines); \xff\xfe then none is binary
        return "utf-16"
    sample = head[: 1 << 20]
    utf16 = _utf16_without_bom(sample[:4096])
    if utf16:
        return utf16
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


def _utf16_without_bom(sample: bytes) -> str | None:
    """UTF-16 written without a BOM: NULs on one byte parity only (ASCII in UTF-16)."""
    if len(sample) < 16 or sample.count(0) * 3 < len(sample):
        return None
    even, odd = sample[0::2].count(0), sample[1::2].count(0)
    if odd * 2 >= len(sample) // 2 and even * 10 < odd:
        return "utf-16-le"
    if even * 2 >= len(sample) // 2 and odd * 10 < even:
        return "utf-16-be"
    return None


def _first_break_is_lone_cr(text: str) -> bool | None:
    """True when the first line break of ``text`` is a CR without an LF; None: not known yet."""
    lf, cr = text.find("\n"), text.find("\r")
    if cr == -1 or (lf != -1 and lf < cr):
        return False if lf != -1 else None
    if cr + 1 == len(text):
        return None  # a CR at the end of the chunk: the next one tells
    return text[cr + 1] != "\n"


@dataclass(frozen=True, slots=True)
class AsciiText:
    """An ASCII chunk of a UTF-8 file as it was read (iter_text_chunks' ``ascii_bytes``): its
    lines are the first ``size`` bytes of ``data`` (the rest begins the next chunk; cutting
    them off would copy 8 MB)."""

    data: bytes
    size: int

    def __len__(self) -> int:
        return self.size

    def text(self) -> str:
        return self.data[: self.size].decode("ascii")

    def has(self, needle: bytes) -> bool:
        return self.data.find(needle, 0, self.size) >= 0


def iter_text_chunks(
    raw: IO[bytes],
    *,
    chunk_bytes: int = CHUNK_BYTES,
    on_bytes: Callable[[int], None] | None = None,
    encoding: str | None = None,
    ascii_bytes: bool = False,
) -> Iterator[tuple[str, Any]]:
    """Yield (encoding, text) chunks that end on a line boundary (the last may not).

    ``ascii_bytes``: a chunk of a UTF-8 file that is all ASCII comes as the bytes it was
    read as (an AsciiText), not decoded: the fast lane reads bytes, and decoding 8 MB to encode
    it again, with the copies on the way, was a twentieth of a JSON-lines parse.

    ``encoding`` is sniffed from the first chunk unless given (a byte range of a big file is
    decoded with the encoding sniffed from the file's head). A file whose first line break is a
    lone CR (old Mac line ends) is read with CR as the line end. A line longer than
    MAX_LINE_CHARS keeps its first MAX_LINE_CHARS characters: it is still one line of the
    accounting, and memory stays bounded.
    """
    try:
        first = raw.read(chunk_bytes)
    except (OSError, EOFError, zlib.error) as exc:
        raise SourceError(f"cannot be read ({exc}); is the archive truncated?") from exc
    encoding = encoding or sniff_encoding(first)
    decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
    carry = ""
    data = first
    cr_lines: bool | None = None
    skipping = False  # inside the rest of an over-long line
    while data:
        if on_bytes is not None:
            on_bytes(len(data))
        if (
            ascii_bytes
            and cr_lines is False
            and not skipping
            and encoding == "utf-8"
            and data.isascii()
            and carry.isascii()
            and not decoder.getstate()[0]  # no part of a character left over
        ):
            whole = carry.encode("ascii") + data
            cut = whole.rfind(b"\n") + 1
            carry = whole[cut:].decode("ascii")
            if cut:
                yield encoding, AsciiText(whole, cut)
        else:
            piece = decoder.decode(data)
            if cr_lines is None:
                # decided at the file's first line break, whatever the chunk size: a lone CR
                cr_lines = _first_break_is_lone_cr(carry + piece)
                if cr_lines:
                    carry = carry.replace("\r", "\n")
            if cr_lines:
                piece = piece.replace("\r", "\n")
            if skipping:
                nl = piece.find("\n")
                piece = "" if nl == -1 else piece[nl:]
                skipping = nl == -1
            text = carry + piece
            cut = text.rfind("\n") + 1
            if cut:
                carry = text[cut:]
                yield encoding, text[:cut]
            else:
                carry = text
        if len(carry) > MAX_LINE_CHARS:
            carry = carry[:MAX_LINE_CHARS]
            skipping = True
        try:
            data = raw.read(chunk_bytes)
        except (OSError, EOFError, zlib.error) as exc:
            # a truncated archive: keep what was read, the report says the rest is missing
            data = b""
            carry += "" if skipping else decoder.decode(b"", final=True)
            if carry:
                yield encoding, carry
            raise SourceError(TRUNCATED) from exc
    tail = decoder.decode(b"", final=True)
    if not skipping:
        carry += tail
    if cr_lines:
        carry = carry.replace("\r", "\n")
    if carry:
        yield encoding, carry
