"""The hostile corpus (issue #7): inputs people upload by mistake or that attack the parser.

Small cases are built in memory in milliseconds; the big ones (a 50 MB line, a 1 GB gzip bomb,
a million JSON keys) are written to a directory at test time, never committed.

    python tests/hostile/make_corpus.py OUT_DIR [--big]
"""

from __future__ import annotations

import gzip
import io
import struct
import sys
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

RID = "8c9d0e1f-2a3b-4c4d-9e5f-6a7b8c9d0e1f"
#: one DashScope failure every case carries where it can, so "parses what it can" is checkable
ERROR_LINE = (
    f"2026-11-20 10:00:00,000 ERROR app: Request id: {RID}, Status code: 429, "
    "error code: Throttling.RateQuota, error message: Requests rate limit exceeded."
)
ZH_LINE = (
    "2026-11-20 10:00:01,000 ERROR 调用失败 请求ID: 1f2e3d4c-5b6a-4789-9abc-def012345678 "
    "HTTP返回码：400 错误码：InvalidParameter 错误信息：输入长度超出范围"
)
JSON_LINE = (
    '{"ts": "2026-11-20T10:00:02+08:00", "status_code": 500, "request_id": '
    '"2a2a2a2a-1b1b-4c4c-8d8d-3e3e3e3e3e3e", "code": "InternalError", "message": "boom"}'
)
PLAIN = "\n".join([ERROR_LINE, "2026-11-20 10:00:00,500 INFO app: nothing to see", ""]) + "\n"


def png() -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", 64, 64, 8, 2, 0, 0, 0)
    raw = b"".join(b"\x00" + bytes(range(192)) for _ in range(64))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def elf() -> bytes:
    head = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 8 + struct.pack("<HHI", 2, 62, 1)
    return head + bytes((i * 31) % 256 for i in range(20_000))


def nul_bytes() -> bytes:
    return (
        b"\x00" * 100
        + ERROR_LINE.encode().replace(b"ERROR", b"ERR\x00OR", 0)
        + b"\n\x00\n"
        + (ERROR_LINE.replace("10:00:00", "10:00:09").encode() + b"\x00\x00\n")
    )


def invalid_utf8() -> bytes:
    return b"\xff\xfe\xfa bad start\n" + ERROR_LINE.encode() + b"\xc3\x28\xa0\xa1\n\xed\xa0\x80\n"


def gb18030() -> bytes:
    return (ZH_LINE + "\n" + ERROR_LINE + "\n").encode("gb18030")


def utf16() -> bytes:
    return (ZH_LINE + "\r\n" + ERROR_LINE + "\r\n").encode("utf-16")  # with a BOM


def utf16_no_bom() -> bytes:
    return (ERROR_LINE + "\n").encode("utf-16-le")


def crlf() -> bytes:
    return PLAIN.replace("\n", "\r\n").encode()


def lone_cr() -> bytes:
    lines = [ERROR_LINE, ERROR_LINE.replace("10:00:00", "10:00:05"), "tail"]
    return "\r".join(lines).encode()


def truncated_gzip() -> bytes:
    body = (PLAIN * 2000).encode()
    data = gzip.compress(body)
    return data[: len(data) // 2]


def empty() -> bytes:
    return b""


def deep_json(depth: int = 100_000) -> bytes:
    braces = '{"a":' * depth + "1" + "}" * depth
    return (braces + "\n" + "{" * depth + "\n" + "[" * depth + "]" * depth + "\n").encode()


def deep_json_with_error(depth: int = 100_000) -> bytes:
    return deep_json(depth) + (ERROR_LINE + "\n").encode()


def timestamps() -> bytes:
    lines = [
        ERROR_LINE.replace("2026-11-20 10:00:00,000", "9999-12-31 23:59:59,999"),
        ERROR_LINE.replace("2026-11-20 10:00:00,000", "0001-01-01 00:00:00,000"),
        ERROR_LINE.replace("2026-11-20 10:00:00,000", "2026-13-45 25:61:61,000"),
        ERROR_LINE.replace("2026-11-20 10:00:00,000", "2262-04-12 00:00:00,000"),
        ERROR_LINE.replace("2026-11-20 10:00:00,000", "2026-11-20T10:00:00.000+08:00"),
        ERROR_LINE.replace("2026-11-20 10:00:00,000", "2026-11-20T02:00:00.000Z"),
        ERROR_LINE,
        '{"timestamp": 99999999999999999999, "status_code": 429, "code": "Throttling"}',
        '{"timestamp": -5, "status_code": 429, "code": "Throttling"}',
        '{"timestamp": "2026-11-20T10:00:00+14:00", "status_code": 500, "code": "InternalError"}',
        '{"timestamp": "2026-11-20T10:00:00-12:00", "status_code": 500, "code": "InternalError"}',
    ]
    return ("\n".join(lines) + "\n").encode()


def _zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def zip_traversal() -> bytes:
    return _zip(
        {
            "../../evil.log": PLAIN.encode(),
            "/etc/passwd.log": PLAIN.encode(),
            "..\\..\\win.log": PLAIN.encode(),
            "ok/app.log": PLAIN.encode(),
        }
    )


def zip_many(n: int = 3000) -> bytes:
    line = ERROR_LINE.encode() + b"\n"
    return _zip({f"logs/part-{i:05d}.log": line for i in range(n)})


def zip_nested(depth: int = 3) -> bytes:
    data = _zip({"inner.log": PLAIN.encode()})
    for level in range(depth):
        data = _zip({f"level{level}.zip": data, f"note{level}.log": PLAIN.encode()})
    return data


def zip_bomb_member() -> bytes:
    """A zip whose member inflates 1000x (200 MB of zeros in ~200 KB)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        with zf.open("zeros.log", "w", force_zip64=True) as fh:
            block = b"\x00" * (1 << 20)
            for _ in range(200):
                fh.write(block)
        zf.writestr("ok.log", PLAIN)
    return buf.getvalue()


SMALL: dict[str, Callable[[], bytes]] = {
    "empty.log": empty,
    "image.png.log": png,
    "program.elf.log": elf,
    "nul.log": nul_bytes,
    "invalid-utf8.log": invalid_utf8,
    "gb18030.log": gb18030,
    "utf16.log": utf16,
    "utf16-no-bom.log": utf16_no_bom,
    "crlf.log": crlf,
    "lone-cr.log": lone_cr,
    "truncated.log.gz": truncated_gzip,
    "deep-json.log": deep_json_with_error,
    "timestamps.log": timestamps,
    "traversal.zip": zip_traversal,
    "many-members.zip": lambda: zip_many(400),
    "nested.zip": zip_nested,
}

# -- big ones: written to disk at test time -----------------------------------------------------


def write_long_line(path: Path, size: int = 50 << 20) -> Path:
    """One 50 MB line (a base64 image in a request log), then a real error line."""
    with path.open("wb") as fh:
        fh.write(b'2026-11-20 10:00:00,000 DEBUG Request body: {"image": "data:image/png;base64,')
        block = b"iVBORw0KGgoAAAANSUhEUgAA" * (1 << 14)
        written = 0
        while written < size:
            fh.write(block)
            written += len(block)
        fh.write(b'"}\n' + ERROR_LINE.encode() + b"\n")
    return path


def write_gzip_bomb(path: Path, size: int = 1 << 30) -> Path:
    """1 GB of zeros gzipped to about 1 MB."""
    comp = zlib.compressobj(9, zlib.DEFLATED, 31)
    block = b"\x00" * (8 << 20)
    with path.open("wb") as fh:
        for _ in range(size // len(block)):
            fh.write(comp.compress(block))
        fh.write(comp.flush())
    return path


def write_million_keys(path: Path, keys: int = 1_000_000) -> Path:
    with path.open("wb") as fh:
        fh.write(b'{"status_code": 429, "code": "Throttling.RateQuota", ')
        fh.write(b", ".join(b'"k%d": %d' % (i, i) for i in range(keys)))
        fh.write(b"}\n" + ERROR_LINE.encode() + b"\n")
    return path


BIG: dict[str, Callable[[Path], Path]] = {
    "long-line.log": write_long_line,
    "bomb.log.gz": write_gzip_bomb,
    "million-keys.jsonl": write_million_keys,
}


def write_corpus(out: Path, *, big: bool = False) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, make in SMALL.items():
        path = out / name
        path.write_bytes(make())
        paths.append(path)
    if big:
        for name, write in BIG.items():
            paths.append(write(out / name))
    return paths


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit("usage: make_corpus.py OUT_DIR [--big]")
    for p in write_corpus(Path(sys.argv[1]), big="--big" in sys.argv):
        print(p, p.stat().st_size)
