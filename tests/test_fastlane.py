"""The fast lane (ingest.fastlane) gives exactly the slow path's events and accounting.

Every log here is parsed twice by FileParser, with and without the lane, and the two results
must be identical: the events (every column), the formats counted, and the lines in events,
ignored and unparsed. Hypothesis mixes the statements that the lane cuts by position with the
records it must leave to the slow path (tracebacks, retries, waiting transport lines, id-less
failures, continuation lines, repeated request ids, impossible dates, DST gaps).
"""

from __future__ import annotations

import functools
import random
from pathlib import Path
from unittest import mock

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest import pipeline
from ingest.formats import registry
from ingest.pipeline import FileParser
from ingest.sources import iter_sources

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = sorted((ROOT / "sample_logs").glob("*"))
MODELS = ("qwen-plus", "qwen-max", "qwen3-coder-plus", "deepseek-v3.1", "qwen-turbo")
URL = "https://dashscope.aliyuncs.com/compatible-mode/v1/chat/completions"


def parse(path: Path, *, fast: bool, tz: str = "Asia/Shanghai") -> tuple[pd.DataFrame, dict]:
    src = next(iter(iter_sources([str(path)])))
    parser = FileParser(src, registry(), tz, fast=fast)
    frame = parser.run()
    r = parser.report
    accounting = {
        "lines_read": r.lines_read,
        "lines_in_events": r.lines_in_events,
        "ignored": r.ignored,
        "unparsed": r.unparsed,
        "unparsed_examples": r.unparsed_examples,
        "formats": dict(r.formats),
        "utc_offsets": dict(r.utc_offsets),
        "fast_lines": parser.lane.lines if parser.lane is not None else 0,
    }
    frame = frame.sort_values(["line", "is_error"], kind="stable").reset_index(drop=True)
    return frame, accounting


def assert_same(path: Path, tz: str = "Asia/Shanghai") -> int:
    """Both lanes agree on ``path``; returns how many lines the fast lane took."""
    slow, slow_acc = parse(path, fast=False, tz=tz)
    fast, fast_acc = parse(path, fast=True, tz=tz)
    fast_lines = fast_acc.pop("fast_lines")
    slow_acc.pop("fast_lines")
    assert fast_acc == slow_acc
    pd.testing.assert_frame_equal(fast, slow, check_categorical=False)
    return int(fast_lines)


@pytest.mark.parametrize("path", SAMPLES, ids=[p.name for p in SAMPLES])
def test_sample_logs_parse_the_same_with_the_fast_lane(path: Path) -> None:
    assert_same(path)


def test_the_fast_lane_takes_the_repeated_statements(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    log.write_text(_preamble("text", 2000), encoding="utf-8")
    fast_lines = assert_same(log)
    assert fast_lines >= 1990  # all but the lines at chunk ends


def test_multi_line_records_are_cut_by_recipe_too(tmp_path: Path) -> None:
    """Tracebacks repeat too: the slow path cuts them by recipe once it has seen two."""
    log = _Log(7)
    lines: list[str] = []
    for _ in range(30):
        lines += log.lines("traceback") + log.lines("ok")
    path = tmp_path / "tracebacks.log"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert_same(path)
    src = next(iter(iter_sources([str(path)])))
    parser = FileParser(src, registry(), "Asia/Shanghai")
    frame = parser.run()
    assert parser.lane is not None
    assert parser.lane.records >= 28  # every traceback after the first two
    assert frame["is_error"].sum() == 30


def test_the_lane_finds_record_openers_as_the_grouper_does() -> None:
    import pyarrow as pa
    import pyarrow.compute as pc

    from ingest.fastlane import _leading_ts_re2
    from ingest.records import LEADING_TS

    lines = [
        "2026-11-20 10:00:00,123 INFO x",
        "INFO 2026-11-20 10:00:00,123 x",
        "WARN: 2026-11-20T10:00:00.5+08:00 y",
        "[2026-11-20 10:00:00] z",
        "[ERROR] 10:00:00.123 w",
        "10:00:00 v",
        "    at com.example.Foo(Foo.java:1)",
        "Traceback (most recent call last):",
        "x 2026-11-20 10:00:00",
        "",
    ]
    got = pc.match_substring_regex(pa.array(lines), _leading_ts_re2()).to_pylist()
    assert got == [bool(LEADING_TS.match(line)) for line in lines]


# -- a generator of mixed logs -------------------------------------------------------------------


class _Log:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.ms = 0
        self.rids: list[str] = []

    def ts(self) -> str:
        self.ms += self.rng.randint(1, 4000)
        s, ms = divmod(self.ms, 1000)
        m, s = divmod(s, 60)
        h, m = divmod(m, 60)
        return f"2026-11-20 {h % 24:02d}:{m:02d}:{s:02d},{ms:03d}"

    def iso(self) -> str:
        return self.ts().replace(" ", "T").replace(",", ".") + "+08:00"

    def rid(self, repeat: bool = False, *, keep: bool = True) -> str:
        """A fresh request id (kept for repeats unless ``keep`` is False), or a repeated one.

        Ids of lines whose time does not exist are never repeated: the slow path keeps the
        first mention's missing time, a merge across lanes (merge_by_request_id) takes the
        first known one, and both are fair answers."""
        if repeat and self.rids:
            return self.rng.choice(self.rids)
        a, b, c, d, e = (self.rng.getrandbits(n) for n in (32, 16, 16, 16, 48))
        rid = f"{a:08x}-{b:04x}-{c:04x}-{d:04x}-{e:012x}"
        if keep:
            self.rids.append(rid)
        return rid

    def model(self) -> str:
        return self.rng.choice(MODELS)

    def n(self) -> int:
        return self.rng.choice((7, 42, 512, 1999, 30000))

    def lines(self, kind: str) -> list[str]:
        r = self.rng
        if kind == "ok":
            return [
                f"{self.ts()} INFO app.chat: call ok request_id={self.rid()} model={self.model()}"
                f" latency_ms={self.n()}"
            ]
        if kind == "ok_repeat":
            return [
                f"{self.ts()} INFO app.chat: call ok request_id={self.rid(True)} model=qwen-max"
            ]
        if kind == "ok_zero_id":
            return [f"{self.ts()} INFO app.chat: call ok request_id={'0' * 32} model=qwen-max"]
        if kind == "httpx200":
            return [f'{self.ts()} INFO httpx: HTTP Request: POST {URL} "HTTP/1.1 200 OK"']
        if kind == "pair":
            return self.lines("httpx200") + self.lines("completion")
        if kind == "pair_then_error":
            return self.lines("httpx200") + self.lines("err")
        if kind == "httpx429":
            return [
                f'{self.ts()} INFO httpx: HTTP Request: POST {URL} "HTTP/1.1 429 Too Many Requests"'
            ]
        if kind == "retried":  # a failed attempt and the openai SDK's notice that retries it
            return self.lines("httpx429") + self.lines("retrying")
        if kind == "retried_then_error":
            return self.lines("retried") + self.lines("httpx429") + self.lines("err")
        if kind == "completion":
            return [
                f"{self.ts()} INFO assistant.llm: completion ok id=chatcmpl-{self.rid()}"
                f" model={self.model()} prompt_tokens={self.n()}"
            ]
        if kind == "err":
            code, status = r.choice(
                (("Throttling.RateQuota", 429), ("InvalidApiKey", 401), ("InternalError", 500))
            )
            return [
                f"{self.ts()} ERROR app.chat: Request id: {self.rid()}, Status code: {status},"
                f" error code: {code}, error message: something went wrong ({self.n()})."
            ]
        if kind == "err_no_id":
            return [
                f"{self.ts()} ERROR app.chat: Status code: 500, error code: InternalError,"
                " error message: An internal error has occured, please try again later."
            ]
        if kind == "err_no_id_again":  # another statement telling the same failure: merged
            return [
                f"{self.ts()} WARNING app.retry: giving up. Status code: 500, error code:"
                " InternalError, error message: An internal error has occured, please try again"
                " later."
            ]
        if kind == "retrying":
            return [
                f"{self.ts()} INFO openai._base_client: Retrying request to /chat/completions in"
                f" 0.{self.n()} seconds"
            ]
        if kind == "traceback":
            rid = self.rid()
            return [
                f"{self.ts()} ERROR assistant.llm: completion failed",
                "Traceback (most recent call last):",
                '  File "/app/llm.py", line 42, in ask',
                "    resp = client.chat.completions.create(**kwargs)",
                "openai.RateLimitError: Error code: 429 - {'error': {'message': 'Requests rate"
                " limit exceeded, please try again later.', 'type': 'limit_requests', 'param':"
                f" None, 'code': 'limit_requests'}}, 'request_id': '{rid}'}}",
            ]
        if kind == "traceback_after_429":  # the final attempt's status line, then its error
            return self.lines("httpx429") + self.lines("traceback")
        if kind == "traceback_chained":  # blank lines inside, a date in a frame, a re-raise
            rid = self.rid()
            return [
                f"{self.ts()} ERROR app.chat: call failed model=qwen-max",
                "Traceback (most recent call last):",
                '  File "/app/chat.py", line 17, in call',
                "    raise DashScopeError(resp)",
                f"app.errors.DashScopeError: Request id: {rid}, Status code: 500, error code:"
                " InternalError, error message: An internal error has occured.",
                "",
                "During handling of the above exception, another exception occurred:",
                "",
                "Traceback (most recent call last):",
                f'  File "/app/main.py", line {self.n()}, in <module> # 2026-11-20 10:00:00',
                "RuntimeError: summary failed",
            ]
        if kind == "java_trace":
            rid = self.rid()
            return [
                f"{self.ts()} ERROR 1 --- [task-{self.n() % 9}] c.e.q.Chat : chat failed",
                'com.alibaba.dashscope.exception.ApiException: {"statusCode":429,"message":'
                f'"Requests rate limit exceeded.","code":"Throttling.RateQuota",'
                f'"requestId":"{rid}"}}',
                "\tat com.alibaba.dashscope.common.ResultCallback.onError(ResultCallback.java:42)",
                f"\tat com.example.qwen.Chat.ask(Chat.java:{self.n()})",
                "Caused by: java.io.IOException: closed",
                "\t... 12 more",
            ]
        if kind == "json_ok":
            return [
                f'{{"ts":"{self.iso()}","level":"INFO","model":"{self.model()}","status_code":200,'
                f'"request_id":"{self.rid()}","code":"","message":"","latency_ms":{self.n()}}}'
            ]
        if kind == "json_err":
            return [
                f'{{"ts":"{self.iso()}","level":"ERROR","model":"{self.model()}","status_code":429,'
                f'"request_id":"{self.rid()}","code":"Throttling.RateQuota","message":"Requests'
                f' rate limit exceeded, please try again later.","latency_ms":{self.n()}}}'
            ]
        if kind == "json_no_ts":
            return [
                f'{{"level":"INFO","model":"qwen-max","status_code":200,"request_id":"{self.rid()}"}}'
            ]
        if kind == "noise":
            return [f"{self.ts()} INFO app.cache: warmed {self.n()} entries"]
        if kind == "blank":
            return [""]
        if kind == "continuation":
            return [f"    at com.example.Client.call(Client.java:{self.n()})"]
        if kind == "bad_date":
            rid = self.rid(keep=False)
            return [
                f"2026-13-45 10:00:00,000 INFO app.chat: call ok request_id={rid} model=qwen-max"
            ]
        if kind == "dst":
            # 02:30 does not exist on 2026-03-08 in New York; 01:30 on 2026-11-01 happens twice
            day, hour = r.choice((("2026-03-08", "02"), ("2026-11-01", "01")))
            rid = self.rid(keep=False)
            return [
                f"{day} {hour}:30:00,000 INFO app.chat: call ok request_id={rid} model=qwen-max"
            ]
        raise AssertionError(kind)


KINDS = (
    "ok",
    "ok_repeat",
    "ok_zero_id",
    "httpx200",
    "httpx429",
    "retried",
    "retried_then_error",
    "err_no_id_again",
    "traceback_after_429",
    "traceback_chained",
    "java_trace",
    "pair",
    "pair_then_error",
    "completion",
    "err",
    "err_no_id",
    "retrying",
    "traceback",
    "json_ok",
    "json_err",
    "json_no_ts",
    "noise",
    "blank",
    "continuation",
    "bad_date",
    "dst",
)


def _preamble(style: str, n: int, seed: int = 0) -> str:
    log = _Log(seed)
    out: list[str] = []
    while len(out) < n:
        if style == "text":
            out += log.lines(log.rng.choice(("ok", "ok", "httpx200", "noise")))
            if out[-1].endswith('200 OK"'):
                out += log.lines("completion")
        else:
            out += log.lines(log.rng.choice(("json_ok", "json_ok", "json_err")))
    return "\n".join(out) + "\n"


@settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    style=st.sampled_from(("text", "json")),
    tz=st.sampled_from(("Asia/Shanghai", "America/New_York", "UTC")),
    seed=st.integers(0, 2**16),
    kinds=st.lists(st.tuples(st.sampled_from(KINDS), st.integers(1, 30)), min_size=1, max_size=40),
    chunk=st.sampled_from((None, None, 4096, 20_000)),
)
def test_mixed_logs_parse_the_same_with_the_fast_lane(
    tmp_path: Path,
    *,
    style: str,
    tz: str,
    seed: int,
    kinds: list[tuple[str, int]],
    chunk: int | None,
) -> None:
    """Runs of each kind (a run repeats a statement, so the lane has templates to learn), read
    in the usual 8 MB chunks or in small ones (a record, a pair, a retry sequence cut by the
    chunk's end)."""
    log = _Log(seed + 1)
    body: list[str] = []
    for kind, run in kinds:
        for _ in range(run):
            body += log.lines(kind)
    path = tmp_path / f"mixed-{style}.log"
    path.write_text(_preamble(style, 450, seed) + "\n".join(body) + "\n", encoding="utf-8")
    if chunk is None:
        assert_same(path, tz=tz)
        return
    small = functools.partial(pipeline.iter_text_chunks, chunk_bytes=chunk)
    with mock.patch.object(pipeline, "iter_text_chunks", small):
        assert_same(path, tz=tz)
