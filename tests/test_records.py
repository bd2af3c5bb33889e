"""ingest.records: physical lines -> records (an opening line plus its continuation lines)."""

from __future__ import annotations

from collections.abc import Iterable

import pytest

from ingest.records import Record, RecordGrouper, looks_timestamped


def group(chunks: Iterable[str]) -> tuple[list[Record], int]:
    grouper = RecordGrouper()
    out: list[Record] = []
    for chunk in chunks:
        out.extend(grouper.feed(chunk))
    out.extend(grouper.close())
    return out, grouper.line_no


def spans(records: list[Record]) -> list[tuple[int, int]]:
    return [(r.first_line, r.n_lines) for r in records]


def line_chunkings(text: str) -> list[list[str]]:
    """The same text cut into line-aligned chunks of several sizes (what iter_text_chunks gives)."""
    lines = text.splitlines(keepends=True)
    out = [[text]]
    for size in (1, 2, 3, 7):
        out.append(["".join(lines[i : i + size]) for i in range(0, len(lines), size)])
    return out


PY_TRACE = """\
2026-11-20 10:00:00,000 INFO app: starting
2026-11-20 10:00:01,000 ERROR app: chain failed
Traceback (most recent call last):
  File "/srv/app/chain.py", line 51, in run
    return llm.invoke(prompt)
ValueError: boom

During handling of the above exception, another exception occurred:

Traceback (most recent call last):
  File "/srv/app/chain.py", line 55, in run
    raise RuntimeError("Failed to get response from DashScope API")
RuntimeError: Failed to get response from DashScope API
2026-11-20 10:00:02,000 INFO app: next
2026-11-20 10:00:03,000 INFO app: more
2026-11-20 10:00:04,000 INFO app: more
"""

JAVA_TRACE = """\
2026-11-20T00:03:09.101+08:00  INFO 1 --- [main] c.e.q.Application : Started
2026-11-20T00:03:09.649+08:00 ERROR 1 --- [exec-1] c.e.q.QwenClient : qwen call failed
com.alibaba.dashscope.exception.ApiException: {"statusCode":429,"code":"Throttling"}
\tat com.alibaba.dashscope.protocol.okhttp.OkHttpHttpClient.send(OkHttpHttpClient.java:112)
\tat com.example.qwen.QwenClient.ask(QwenClient.java:41)
Caused by: java.io.IOException: closed
\t... 3 more
2026-11-20T00:03:10.000+08:00  INFO 1 --- [exec-2] c.e.q.QwenClient : ok
2026-11-20T00:03:11.000+08:00  INFO 1 --- [exec-3] c.e.q.QwenClient : ok
2026-11-20T00:03:12.000+08:00  INFO 1 --- [exec-4] c.e.q.QwenClient : ok
"""

LANGCHAIN_NO_TS = (
    "ValueError: request_id: 6f7a8b9c-0d1e-4f2a-8b3c-4d5e6f7a8b9c \n"
    " status_code: 400 \n"
    " code: InvalidParameter \n"
    " message: Range of input length should be [1, 30720]\n"
    "plain line after\n"
)


def test_python_traceback_with_chained_exceptions_is_one_record() -> None:
    records, n = group([PY_TRACE])
    assert n == 16
    assert spans(records) == [(1, 1), (2, 12), (14, 1), (15, 1), (16, 1)]
    assert records[1].text.endswith("RuntimeError: Failed to get response from DashScope API")
    assert "\n\nDuring handling" in records[1].text


def test_java_at_frames_and_caused_by_join_the_opening_record() -> None:
    records, _ = group([JAVA_TRACE])
    assert spans(records) == [(1, 1), (2, 6), (8, 1), (9, 1), (10, 1)]
    assert "ApiException" in records[1].text
    assert records[1].text.endswith("\t... 3 more")


def test_java_frames_continue_the_exception_line_in_a_file_without_timestamps() -> None:
    text = "\n".join(
        ln.split(" : ", 1)[1] if ln.startswith("2026") else ln for ln in JAVA_TRACE.splitlines()
    )
    assert not looks_timestamped(text.splitlines())
    records, _ = group([text + "\n"])
    exception = next(r for r in records if "ApiException" in r.text)
    assert exception.n_lines == 5
    assert exception.text.endswith("\t... 3 more")


def test_langchain_space_newline_space_continuation_without_timestamps() -> None:
    records, _ = group([LANGCHAIN_NO_TS])
    assert spans(records) == [(1, 4), (5, 1)]
    assert records[0].text.split("\n")[-1] == " message: Range of input length should be [1, 30720]"


def test_langchain_continuation_in_a_timestamped_file() -> None:
    text = (
        "2026-04-02 11:20:31,884 ERROR app: "
        + LANGCHAIN_NO_TS
        + "2026-04-02 11:20:32,001 INFO app: next call\n"
    )
    records, _ = group([text])
    # a timestamped file (the indented lines are not openers, so 2 of 3 openers have a time):
    # every line up to the next timestamp continues the record, "plain line after" included
    assert spans(records) == [(1, 5), (6, 1)]


def test_timestamped_vs_not() -> None:
    assert looks_timestamped(["2026-11-20 10:00:00,000 INFO a", "2026-11-20 10:00:01 b"])
    assert looks_timestamped(["[2026-11-20 10:00:00] x", "INFO: 2026-11-20T10:00:00Z y"])
    assert looks_timestamped(["10:00:00.123 x", "plain", "plain"])
    assert not looks_timestamped(["plain", "plain", "2026-11-20 10:00:00 x", "plain"])
    assert not looks_timestamped(["", "   "])
    # in a file without timestamps a plain line is a record of its own
    records, _ = group(["one\ntwo\n  indented\nthree\n"])
    assert spans(records) == [(1, 1), (2, 2), (4, 1)]
    # in a timestamped file it continues the record above
    text = "2026-11-20 10:00:00 a\nwrapped tail\n2026-11-20 10:00:01 b\n2026-11-20 10:00:02 c\n"
    records, _ = group([text])
    assert spans(records) == [(1, 2), (3, 1), (4, 1)]


def test_json_lines_mixed_into_a_timestamped_file_are_records_of_their_own() -> None:
    text = (
        "2026-11-20 10:00:00 a\n"
        '{"status_code": 429, "code": "Throttling"}\n'
        "2026-11-20 10:00:01 b\n"
        "2026-11-20 10:00:02 c\n"
    )
    records, _ = group([text])
    assert spans(records) == [(1, 1), (2, 1), (3, 1), (4, 1)]


def test_records_inherit_the_last_timestamp() -> None:
    text = "2026-11-20 10:00:00,000 first\n{}\n2026-11-20 10:00:05,000 second\n{}\n"
    records, _ = group([text])
    assert [(r.ts, r.own_ts) for r in records] == [
        ("2026-11-20 10:00:00,000", True),
        ("2026-11-20 10:00:00,000", False),
        ("2026-11-20 10:00:05,000", True),
        ("2026-11-20 10:00:05,000", False),
    ]
    # nothing to inherit at the start of a file
    records, _ = group(["{}\n2026-11-20 10:00:00 a\n2026-11-20 10:00:01 b\n"])
    assert records[0].ts is None


@pytest.mark.parametrize(
    ("line", "ts"),
    [
        ("2026-11-20 10:00:00,123 INFO x", "2026-11-20 10:00:00,123"),
        ("2026-11-20T00:03:09.649+08:00  INFO x", "2026-11-20T00:03:09.649+08:00"),
        ("2026/11/20 10:00:00 x", "2026/11/20 10:00:00"),
        ("[2026-11-20 10:00:00] x", "2026-11-20 10:00:00"),
        ("INFO: 2026-11-20T10:00:00Z x", "2026-11-20T10:00:00Z"),
        ("2024-12-27 02:26:50,448.448 dify", "2024-12-27 02:26:50,448.448"),
        # BSD syslog (/var/log/syslog, journalctl), the common log format, RFC 5424
        ("Nov 20 10:00:02 web-7 chat[812]: x", "Nov 20 10:00:02"),
        ("Nov  5 10:00:02 web-7 chat[812]: x", "Nov  5 10:00:02"),
        ("20/Nov/2026:10:00:05 +0800 ERROR x", "20/Nov/2026:10:00:05 +0800"),
        ("[20/Nov/2026:10:00:05 +0800] x", "20/Nov/2026:10:00:05 +0800"),
        ("<27>1 2026-11-20T10:00:02.003Z web-7 chat 812 - - x", "2026-11-20T10:00:02.003Z"),
    ],
)
def test_leading_timestamp_forms(line: str, ts: str) -> None:
    text = f"{line}\n{line}\n"
    records, _ = group([text])
    assert records[0].ts == ts
    assert records[0].own_ts


def test_crlf_line_ends_are_stripped_and_do_not_change_records() -> None:
    records_lf, n_lf = group([PY_TRACE])
    records_crlf, n_crlf = group([PY_TRACE.replace("\n", "\r\n")])
    assert n_lf == n_crlf
    assert spans(records_lf) == spans(records_crlf)
    assert [r.text for r in records_lf] == [r.text for r in records_crlf]
    assert not any("\r" in r.text for r in records_crlf)


def test_line_numbers_are_one_based_and_cover_every_line() -> None:
    records, n = group([PY_TRACE])
    assert records[0].first_line == 1
    covered = [ln for r in records for ln in range(r.first_line, r.first_line + r.n_lines)]
    assert covered == list(range(1, n + 1))


def test_a_last_line_without_newline_is_a_record() -> None:
    records, n = group(["2026-11-20 10:00:00 a\n2026-11-20 10:00:01 b"])
    assert n == 2
    assert records[-1].text == "2026-11-20 10:00:01 b"


def test_no_input() -> None:
    # (feed("") counts one empty line; the pipeline never feeds an empty chunk)
    assert group([]) == ([], 0)


def test_blank_lines_end_a_plain_record_but_stay_inside_a_traceback() -> None:
    text = "2026-11-20 10:00:00 a\n\n2026-11-20 10:00:01 b\n2026-11-20 10:00:02 c\n"
    records, _ = group([text])
    assert spans(records) == [(1, 1), (2, 1), (3, 1), (4, 1)]


def test_huge_records_are_cut() -> None:
    from ingest.records import MAX_RECORD_LINES

    text = "2026-11-20 10:00:00 a\n" + "  more\n" * (MAX_RECORD_LINES + 10)
    records, n = group([text])
    assert records[0].n_lines == MAX_RECORD_LINES
    assert sum(r.n_lines for r in records) == n


@pytest.mark.parametrize(
    "text",
    [PY_TRACE, LANGCHAIN_NO_TS, JAVA_TRACE],
    # java: its first 7 lines hold 2 timestamps, see the next test (the same bug)
    ids=["python-traceback", "langchain", "java-stack"],
)
def test_chunk_boundaries_do_not_change_records(text: str) -> None:
    expected = [(r.first_line, r.n_lines, r.text, r.ts) for r in group([text])[0]]
    for chunks in line_chunkings(text):
        got = [(r.first_line, r.n_lines, r.text, r.ts) for r in group(chunks)[0]]
        assert got == expected, [len(c) for c in chunks]


def test_chunk_boundaries_do_not_change_records_when_the_first_chunk_is_small() -> None:
    """The timestamped/not decision must not depend on how much text the first chunk holds.

    Fixed bug (ingest/records.py, RecordGrouper.feed): ``self.timestamped`` was decided once,
    from the lines of the FIRST chunk only. Fed whole, this file (3 of 8 lines timestamped)
    counts as timestamped and lines 5-7 continue the record of line 4; when the first chunk
    holds only the first 7 lines (2 of 7 timestamped) it counts as not timestamped and lines 5,
    6, 7 become records of their own. Expected: the same records whatever the chunking (e.g.
    decide on the first N lines, buffering until they are seen).
    (It bit the pipeline with small chunks: tests/clients/captured/ds_stream.log gives 9
    events with 37-byte chunks and 8 with the default, see tests/test_pipeline.py.)
    """
    text = (
        "2026-11-20 10:00:00,000 ERROR app: failed\n"
        "Traceback (most recent call last):\n"
        '  File "x.py", line 1, in <module>\n'
        "2026-11-20 10:00:01,000 INFO app: ok\n"
        "plain untimestamped line\n"
        "another plain line\n"
        "third plain line\n"
        "2026-11-20 10:00:02,000 INFO app: ok\n"
    )
    expected = spans(group([text])[0])
    for chunks in line_chunkings(text):
        assert spans(group(chunks)[0]) == expected, [len(c) for c in chunks]


def test_a_record_that_starts_mid_line_after_streamed_text() -> None:
    """Streamed output has no newline, so a log record can start in the middle of a line.

    Fixed bug (ingest/records.py): LEADING_TS was anchored at the start of the line, so in a
    timestamped file ``你好！我是通2026-11-29 05:16:46,344 - worker - ERROR - ...`` is taken as a
    continuation of the record above. In tests/clients/captured/ds_stream.log this glues the
    failure of line 3 onto the success record of line 2 (whose ``exclude`` regex then drops the
    success: 8 events instead of the 9 the server answered) and reports three failures of lines
    7, 8, 9 all at line 7. Expected: a record starts at line 3 (its text may keep the streamed
    prefix).
    """
    text = (
        "2026-11-29 05:16:46,340 - worker - INFO - stream done model=qwen-plus\n"
        "你好！我是通2026-11-29 05:16:46,344 - worker - ERROR - stream failed\n"
        "2026-11-29 05:16:46,348 - worker - INFO - stream done model=qwen-plus\n"
        "2026-11-29 05:16:46,352 - worker - INFO - stream done model=qwen-plus\n"
    )
    records, _ = group([text])
    assert spans(records) == [(1, 1), (2, 1), (3, 1), (4, 1)]
    assert records[1].ts == "2026-11-29 05:16:46,344"


def test_a_traceback_under_a_syslog_line_is_one_record() -> None:
    text = (
        "Nov 20 10:00:02 web-7 chat[812]: ERROR call failed\n"
        "Traceback (most recent call last):\n"
        '  File "/app/chat.py", line 42, in ask\n'
        "openai.RateLimitError: Error code: 429 - {'error': {'code': 'limit_requests'}}\n"
        "Nov 20 10:00:03 web-7 chat[812]: INFO ok\n"
    )
    for chunks in line_chunkings(text):
        records, _ = group(chunks)
        assert spans(records) == [(1, 4), (5, 1)]


# ------------------------------------------------------------------- pastes without timestamps
# (tests/data/pastes: short pastes are judged not timestamped, so only these rules join lines)

WRAPPED_JSON = """\
com.alibaba.dashscope.exception.ApiException: {"statusCode":400,"message":"bad","code":"X",
"isJson":true,"requestId":"119a72d1-74c9-df6a-cc01-1cdd94740
31b"}
next: a record of its own
"""

CURL_I = """\
$ curl -si https://dashscope.aliyuncs.com/compatible-mode/v1/chat/completions
HTTP/2 400
content-type: application/json
x-request-id: 2e3c5a0f-88d1-9f3e-a1b2-6c7d8e9f0a1b

{"error":{"code":"Arrearage","message":"Access denied."}}
done
"""

QWEN_AGENT = (
    "Traceback (most recent call last):\n"
    '  File "run.py", line 33, in <module>\n'
    "qwen_agent.llm.base.ModelServiceError: \n"  # str(e) starts with a line break
    "Error code: DataInspectionFailed. Error message: Input data may be inappropriate.\n"
)


@pytest.mark.parametrize(
    ("text", "want"),
    [
        (WRAPPED_JSON, [(1, 3), (4, 1)]),  # braces left open continue the record
        (CURL_I, [(1, 1), (2, 5), (7, 1)]),  # status line, headers, blank line, body
        (QWEN_AGENT, [(1, 4)]),  # an exception whose message starts on the next line
    ],
)
def test_pastes_without_timestamps_keep_their_bodies(
    text: str, want: list[tuple[int, int]]
) -> None:
    for chunks in line_chunkings(text):
        records, _ = group(chunks)
        assert spans(records) == want


def test_an_open_brace_joins_at_most_brace_lines() -> None:
    from ingest.records import BRACE_LINES

    text = "config {\n" + "".join(f"line {i}\n" for i in range(40))
    records, _ = group([text])
    assert spans(records)[0] == (1, 1 + BRACE_LINES)
