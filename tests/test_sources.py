"""ingest.sources: every way a log reaches the parser, and the bytes that must not stop it."""

from __future__ import annotations

import codecs
import functools
import gzip
import io
import zipfile
from pathlib import Path
from typing import IO

import pytest

from ingest import pipeline, sources
from ingest.pipeline import load_events
from ingest.sources import (
    Source,
    SourceError,
    iter_sources,
    iter_text_chunks,
    open_raw,
    sniff_encoding,
)

INPUTS = Path(__file__).parent / "data" / "inputs"
RID = "8c9d0e1f-2a3b-4c4d-9e5f-6a7b8c9d0e1f"
QUICKSTART = (
    "2026-11-20 10:00:00,000 ERROR app: Request id: {rid}, Status code: 429, "
    "error code: Throttling.RateQuota, error message: {msg}\n"
)
ZH_MESSAGE = "请求过于频繁，请稍后再试。"
EN_MESSAGE = "Requests rate limit exceeded, please try again later."


def quickstart(rid: str = RID, msg: str = EN_MESSAGE) -> str:
    return QUICKSTART.format(rid=rid, msg=msg)


def distinct_lines(n: int) -> str:
    """``n`` quick-start failures, each with its own request id (so none merge)."""
    return "".join(
        quickstart(rid=f"{k:08x}-2a3b-4c4d-9e5f-6a7b8c9d0e1f").replace(
            "10:00:00", f"10:{k // 60 % 60:02d}:{k % 60:02d}"
        )
        for k in range(n)
    )


def names(sources: object) -> list[str]:
    return [s.name for s in iter_sources(sources)]


def read_all(source: Source) -> str:
    with open_raw(source) as raw:
        return "".join(text for _enc, text in iter_text_chunks(raw))


# -- what the caller can pass ----------------------------------------------------------------------


def test_a_path_as_str_and_as_path(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    log.write_text(quickstart(), encoding="utf-8")
    assert names(str(log)) == [str(log)]
    assert names(log) == [str(log)]
    events, report = load_events(log)
    assert list(events["request_id"]) == [RID]
    assert report.files[0].source == str(log)


def test_a_directory_gives_only_log_like_files_and_skips_hidden_ones(tmp_path: Path) -> None:
    for rel in (
        "a.log",
        "b.jsonl",
        "c.txt",
        "d.log.gz",
        "app.log.1",  # rotated: ".log" in the name
        "nested/e.out",
        "picture.png",
        "notes.md",
        ".hidden.log",
        ".git/objects.log",
        "nested/.cache/f.log",
    ):
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x\n")
    got = sorted(Path(n).relative_to(tmp_path).as_posix() for n in names(tmp_path))
    assert got == ["a.log", "app.log.1", "b.jsonl", "c.txt", "d.log.gz", "nested/e.out"]


def test_a_directory_without_log_files_says_so(tmp_path: Path) -> None:
    (tmp_path / "picture.png").write_bytes(b"\x89PNG")
    with pytest.raises(SourceError, match="holds no log files"):
        names(tmp_path)


def test_a_glob(tmp_path: Path) -> None:
    for name in ("one.log", "two.log", "three.txt"):
        (tmp_path / name).write_text(quickstart(), encoding="utf-8")
    got = names(str(tmp_path / "*.log"))
    assert [Path(n).name for n in got] == ["one.log", "two.log"]


def test_a_recursive_glob(tmp_path: Path) -> None:
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "b" / "deep.log").write_text("x\n", encoding="utf-8")
    assert [Path(n).name for n in names(str(tmp_path / "**" / "*.log"))] == ["deep.log"]


def test_bytes_and_name_bytes_uploads() -> None:
    data = quickstart().encode()
    assert names(data) == ["<bytes>"]
    assert names(bytearray(data)) == ["<bytes>"]
    assert names(("upload.log", data)) == ["upload.log"]
    # a file-like object in the pair is read (Streamlit's UploadedFile)
    assert names([("upload.log", io.BytesIO(data))]) == ["upload.log"]
    events, _ = load_events(("upload.log", data))
    assert list(events["source"]) == ["upload.log"]
    assert list(events["request_id"]) == [RID]


def test_a_list_mixes_kinds(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    log.write_text(quickstart(), encoding="utf-8")
    assert names([str(log), b"x\n", ("up.log", b"y\n")]) == [str(log), "<bytes>", "up.log"]


class _Stdin:
    def __init__(self, data: bytes) -> None:
        self.buffer = io.BytesIO(data)


def test_stdin_dash(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", _Stdin(quickstart().encode()))
    events, report = load_events("-")
    assert report.files[0].source == "<stdin>"
    assert list(events["code"]) == ["Throttling.RateQuota"]


def test_a_missing_path_raises_with_advice(tmp_path: Path) -> None:
    missing = tmp_path / "nope.log"
    with pytest.raises(SourceError) as info:
        load_events(str(missing))
    message = str(info.value)
    assert str(missing) in message
    assert "no such file" in message
    assert "check the path" in message


def test_a_glob_that_matches_nothing_raises(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="quote the glob"):
        load_events(str(tmp_path / "*.log"))


# -- compression -----------------------------------------------------------------------------------


def test_gzip_is_transparent(tmp_path: Path) -> None:
    path = tmp_path / "app.log.gz"
    path.write_bytes(gzip.compress(quickstart().encode()))
    events, report = load_events(path)
    assert list(events["request_id"]) == [RID]
    assert report.files[0].problem is None
    # detected by magic bytes, not by name
    events, _ = load_events(("upload.bin", gzip.compress(quickstart().encode())))
    assert list(events["request_id"]) == [RID]


def _zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def test_zip_members_are_named_archive_bang_member(tmp_path: Path) -> None:
    data = _zip(
        {
            "a.log": quickstart().encode(),
            "logs/b.log": quickstart(rid="9d0e1f2a-3b4c-4d5e-8f6a-7b8c9d0e1f2a").encode(),
        }
    )
    path = tmp_path / "archive.zip"
    path.write_bytes(data)
    expected = [f"{path}!a.log", f"{path}!logs/b.log"]
    assert names(path) == expected
    events, report = load_events(path)
    assert [f.source for f in report.files] == expected
    assert sorted(events["source"].astype(str)) == expected
    # the same archive uploaded as bytes
    assert names(("archive.zip", data)) == ["archive.zip!a.log", "archive.zip!logs/b.log"]


def test_gzip_inside_zip_is_inflated_too() -> None:
    data = _zip({"a.log.gz": gzip.compress(quickstart().encode())})
    events, _ = load_events(("bundle.zip", data))
    assert list(events["request_id"]) == [RID]
    assert list(events["source"]) == ["bundle.zip!a.log.gz"]


def test_truncated_gzip_keeps_what_was_read_and_reports_the_problem() -> None:
    """A truncated .gz must give the events before the cut plus a report problem.

    Fixed bug (ingest/sources.py, open_raw + _CappedGzip): the gzip stream is wrapped in a
    BufferedReader of CHUNK_BYTES (8 MiB) and the first ``raw.read(CHUNK_BYTES)`` raises EOFError
    at the cut, discarding everything inflated in that call. Any truncated .gz whose content is
    under ~8 MiB therefore yields zero events ("cannot be read ... is the archive truncated?").
    """
    text = distinct_lines(400)
    blob = gzip.compress(text.encode())
    events, report = load_events(("app.log.gz", blob[: len(blob) * 2 // 3]))
    assert report.problems, "the truncation must be reported"
    assert "truncated" in report.problems[0][1]
    assert report.files[0].balanced
    assert len(events) > 0, "events before the cut are lost"
    assert set(events["request_id"]) <= {
        ln.split("Request id: ")[1][:36] for ln in text.splitlines()
    }


def test_truncated_gzip_beyond_the_first_chunk_keeps_earlier_chunks(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With small chunks the part before the cut survives (the documented intent)."""
    monkeypatch.setattr(sources, "CHUNK_BYTES", 4096)
    monkeypatch.setattr(
        pipeline, "iter_text_chunks", functools.partial(iter_text_chunks, chunk_bytes=4096)
    )
    text = distinct_lines(600)
    blob = gzip.compress(text.encode())
    events, report = load_events(("app.log.gz", blob[: len(blob) * 2 // 3]))
    assert report.problems
    assert "truncated" in report.problems[0][1]
    assert 0 < len(events) < 600
    assert report.files[0].balanced


def test_a_broken_zip_is_a_source_error() -> None:
    data = _zip({"a.log": b"x\n"})
    with pytest.raises(SourceError, match="not a readable zip"):
        names(("broken.zip", data[:30]))


# -- encodings -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("encoding", "prefix", "sniffed"),
    [
        ("utf-8", b"", "utf-8"),
        ("utf-8", codecs.BOM_UTF8, "utf-8-sig"),
        ("utf-16-le", codecs.BOM_UTF16_LE, "utf-16"),
        ("utf-16-be", codecs.BOM_UTF16_BE, "utf-16"),
        ("gb18030", b"", "gb18030"),
    ],
)
def test_encodings_keep_chinese_messages(encoding: str, prefix: bytes, sniffed: str) -> None:
    data = prefix + (quickstart(msg=ZH_MESSAGE) * 3).encode(encoding)
    events, report = load_events(("zh.log", data))
    assert report.files[0].encoding == sniffed
    assert list(events["message"]) == [ZH_MESSAGE]
    assert list(events["request_id"]) == [RID]
    assert events["mentions"].iloc[0] == 3


def test_the_bom_is_not_part_of_the_first_line() -> None:
    source = Source("bom.log", lambda: io.BytesIO(codecs.BOM_UTF8 + b"first\nsecond\n"))
    assert read_all(source) == "first\nsecond\n"


def test_gb18030_fixture_file() -> None:
    events, report = load_events(INPUTS / "quickstart_gb18030.log")
    assert report.files[0].encoding == "gb18030"
    assert list(events["message"]) == [ZH_MESSAGE]


def test_sniff_encoding_cuts_a_broken_multibyte_tail() -> None:
    head = ("第一行\n" * 10).encode() + "第二".encode()[:-1]
    assert sniff_encoding(head) == "utf-8"


def test_invalid_utf8_bytes_become_replacement_characters() -> None:
    data = b"garbage \x80\x81\xfe here\n" + quickstart().encode() + b"tail \xc3\x28\n"
    events, report = load_events(("bad.log", data))
    assert report.files[0].problem is None
    assert report.files[0].lines_read == 3
    assert list(events["request_id"]) == [RID]
    source = Source("bad.log", lambda: io.BytesIO(data))
    assert "\ufffd" in read_all(source)


def test_one_stray_byte_does_not_turn_a_gb18030_log_into_mojibake() -> None:
    """A GB18030 log with one invalid byte should still decode its Chinese text.

    Fixed bug (ingest/sources.py, sniff_encoding): the sample is tried as UTF-8, then strictly as
    GB18030; one byte invalid in both (0xFF here) makes it fall back to UTF-8, so every Chinese
    message of the file becomes U+FFFD. Expected: GB18030 with U+FFFD for the stray byte only.
    """
    data = (quickstart(msg=ZH_MESSAGE) + "坏字节: ").encode("gb18030") + b"\xff\n"
    events, report = load_events(("zh.log", data))
    assert list(events["message"]) == [ZH_MESSAGE]
    assert report.files[0].encoding == "gb18030"


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\x00\x00\x00",
        b"\xff\xfe",  # a UTF-16 BOM and nothing else
        b"\xff\xfe\x00",  # odd length after a UTF-16 BOM
        b"\xef\xbb\xbf",
        bytes(range(256)),
        b"\x1f\x8b",  # gzip magic, nothing else
    ],
)
def test_odd_bytes_never_crash(data: bytes) -> None:
    events, report = load_events(("odd.bin", data))
    assert all(f.balanced for f in report.files)
    assert len(events) == 0


def test_zip_magic_without_an_archive_is_a_source_error() -> None:
    with pytest.raises(SourceError, match=r"odd\.bin: not a readable zip archive"):
        load_events(("odd.bin", b"PK\x03\x04"))


# -- chunks ----------------------------------------------------------------------------------------


def test_text_chunks_end_on_line_boundaries() -> None:
    text = "".join(f"line {k} {'x' * (k % 50)} 汉字\n" for k in range(300))
    raw = io.BytesIO(text.encode())
    chunks = [t for _e, t in iter_text_chunks(raw, chunk_bytes=100)]
    assert "".join(chunks) == text
    assert len(chunks) > 10
    assert all(c.endswith("\n") for c in chunks)


def test_text_chunks_keep_a_last_line_without_newline() -> None:
    raw = io.BytesIO("a\nb\nno newline 末尾".encode())
    chunks = [t for _e, t in iter_text_chunks(raw, chunk_bytes=3)]
    assert "".join(chunks) == "a\nb\nno newline 末尾"


def test_progress_reports_bytes(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    log.write_text(distinct_lines(50), encoding="utf-8")
    seen: list[tuple[int, int]] = []
    load_events(log, progress=lambda done, total: seen.append((done, total)))
    assert seen
    assert seen[-1] == (log.stat().st_size, log.stat().st_size)


@pytest.mark.parametrize("chunk_bytes", [7, 64, 4096])
@pytest.mark.parametrize(
    "body",
    [
        b"2026-11-20 10:00:00 INFO ok request_id=a\r\n" * 40,  # CRLF
        b"ascii line\n" * 30 + "caf\u00e9 \u9519\u8bef\n".encode() * 5 + b"ascii again\n" * 30,
        b"one\rtwo\rthree\r" * 20,  # lone CR line ends
        b"x" * 300 + b"\n" + b"short\n" * 10,  # a line longer than a chunk
        b"\xff\xfebroken\n" + b"ascii\n" * 50,  # invalid bytes, then ASCII
        b"no newline at the end",
    ],
)
def test_ascii_chunks_as_bytes_are_the_text_they_decode_to(
    body: bytes, chunk_bytes: int, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The fast lane gets ASCII chunks of a UTF-8 file undecoded: what they say is what the
    decoded chunks say, line for line, whatever the chunk boundaries."""
    monkeypatch.setattr(sources, "MAX_LINE_CHARS", 200)

    file = tmp_path / "body.log"
    file.write_bytes(body)

    def read(ascii_bytes: bool, raw: IO[bytes]) -> list[str]:
        counted: list[int] = []
        chunks = sources.iter_text_chunks(
            raw,
            chunk_bytes=chunk_bytes,
            encoding="utf-8",
            ascii_bytes=ascii_bytes,
            on_bytes=counted.append,
        )
        out = [c.text() if isinstance(c, sources.AsciiText) else c for _enc, c in chunks]
        assert sum(counted) == len(body)  # progress counts every byte once
        return out

    as_text = read(False, io.BytesIO(body))
    for raw in (io.BytesIO(body), open(file, "rb")):  # noqa: SIM115 (closed below)
        with raw:
            as_read = read(True, raw)
        assert "".join(as_read) == "".join(as_text)
        assert all(c.endswith("\n") for c in as_read[:-1])
