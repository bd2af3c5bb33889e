"""ingest.events merge rules: one row per API call outcome, each retried attempt its own row."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ingest.pipeline import load_events

INPUTS = Path(__file__).parent / "data" / "inputs"
RID = "8c9d0e1f-2a3b-4c4d-9e5f-6a7b8c9d0e1f"
RID2 = "47c44a40-f74d-4aa6-9eb3-c3478bca8477"
COMPAT = "https://dashscope.aliyuncs.com/compatible-mode/v1/chat/completions"
NATIVE = "https://dashscope.aliyuncs.com/api/v1/services/aigc/text-generation/generation"
RATE_MSG = "Requests rate limit exceeded, please try again later."


def parse(text: str) -> pd.DataFrame:
    events, report = load_events(("t.log", text.encode()))
    assert report.files[0].balanced
    return events


def col(events: pd.DataFrame, name: str) -> list[object]:
    """A column as a list with None for missing values (pd.NA does not compare)."""
    return [None if pd.isna(v) else v for v in events[name]]


def httpx(ts: str, status: str) -> str:
    return f'{ts} INFO httpx HTTP Request: POST {COMPAT} "HTTP/1.1 {status}"\n'


def retrying(ts: str) -> str:
    return f"{ts} INFO openai._base_client Retrying request to /chat/completions in 0.4 seconds\n"


def openai_traceback(ts: str, body: str, cls: str = "RateLimitError", status: int = 429) -> str:
    return (
        f"{ts} ERROR assistant chat completion failed (model=qwen-plus)\n"
        "Traceback (most recent call last):\n"
        '  File "/srv/app/assistant.py", line 48, in main\n'
        "    completion = client.chat.completions.create(model=model, messages=messages)\n"
        f"openai.{cls}: Error code: {status} - {body}\n"
    )


LIMIT_BODY = (
    "{'error': {'message': 'You exceeded your current requests list.', 'type': 'limit_requests',"
    " 'param': None, 'code': 'limit_requests'}, 'id': 'chatcmpl-%s', 'request_id': '%s'}"
)
KEY_BODY = (
    "{'error': {'message': 'Incorrect API key provided. ', 'type': 'invalid_request_error',"
    " 'param': None, 'code': 'invalid_api_key'}, 'request_id': ''}"
)


def sdk_str(ts: str, status: int, rid: str, code: str, message: str) -> str:
    return (
        f'{ts} ERROR app: call failed: {{"status_code": {status}, "request_id": "{rid}", '
        f'"code": "{code}", "message": "{message}", "output": null, "usage": null}}\n'
    )


def test_the_same_request_id_mentioned_twice_is_one_event() -> None:
    text = (
        sdk_str("2026-11-20 10:00:00,000", 429, RID, "Throttling.RateQuota", RATE_MSG)
        + "2026-11-20 10:00:00,100 INFO app: unrelated\n"
        + f"2026-11-20 10:00:00,200 ERROR app: giving up request_id={RID} status_code=429"
        f" code=Throttling.RateQuota message={RATE_MSG}\n"
    )
    events = parse(text)
    assert len(events) == 1
    row = events.iloc[0]
    assert (row["request_id"], row["mentions"], row["line"]) == (RID, 2, 1)
    assert row["code"] == "Throttling.RateQuota"


def test_a_later_mention_fills_what_the_first_lacked() -> None:
    text = (
        f"2026-11-20 10:00:00,000 ERROR app: Request id: {RID}, Status code: 429,"
        f" error code: Throttling.RateQuota, error message: {RATE_MSG}\n"
        f"2026-11-20 10:00:01,000 ERROR app: request_id={RID} code=Throttling.RateQuota"
        f" message={RATE_MSG} model=qwen-max\n"
    )
    events = parse(text)
    assert len(events) == 1
    assert events.iloc[0]["model"] == "qwen-max"
    assert events.iloc[0]["mentions"] == 2


def test_openai_retry_sequence_is_three_attempts() -> None:
    """httpx 429, Retrying, httpx 429, Retrying, httpx 429, traceback with the body."""
    events, report = load_events(INPUTS / "openai_retries.log")
    assert report.files[0].balanced
    errors = events[events["is_error"]].reset_index(drop=True)
    assert len(errors) == 3
    assert list(errors["status_code"]) == [429, 429, 429]
    assert list(errors["line"]) == [3, 5, 7]
    # each retried attempt: its httpx line + its Retrying notice
    assert list(errors["mentions"]) == [2, 2, 2]
    assert errors["request_id"].iloc[:2].isna().all()
    assert errors["code"].iloc[:2].isna().all()
    last = errors.iloc[2]
    assert last["request_id"] == RID2
    assert last["code"] == "Throttling.RateQuota"
    assert last["raw_code"] == "limit_requests"
    assert last["model"] == "qwen-plus"
    assert last["format"] == "openai-error-body"
    # the outcome is placed where its first record (the httpx line) stands
    assert last["timestamp"] == pd.Timestamp("2026-11-29 05:16:46.988+08:00")


def test_a_success_httpx_line_and_the_apps_ok_line_are_one_success() -> None:
    text = httpx("2026-11-29 05:16:46,960", "200 OK") + (
        "2026-11-29 05:16:46,963 INFO assistant completion ok"
        " id=chatcmpl-281ce28d-1e00-4e86-85cf-a18d3285d7ce model=qwen-plus tokens=21\n"
    )
    events = parse(text)
    assert len(events) == 1
    row = events.iloc[0]
    assert not row["is_error"]
    assert row["request_id"] == "281ce28d-1e00-4e86-85cf-a18d3285d7ce"
    assert row["model"] == "qwen-plus"
    assert row["status_code"] == 200
    assert (row["mentions"], row["line"]) == (2, 1)


def test_retrying_without_an_httpx_line_is_an_attempt_without_response() -> None:
    text = retrying("2026-11-29 05:16:46,965") + retrying("2026-11-29 05:16:47,500")
    events = parse(text)
    assert len(events) == 2
    assert events["is_error"].all()
    assert events["status_code"].isna().all()
    assert list(events["format"]) == ["openai-retrying", "openai-retrying"]


def test_tenacity_retries_are_attempts() -> None:
    warn = (
        "{ts} WARNING langchain_community.llms.tongyi: Retrying langchain_community.llms.tongyi"
        ".generate_with_retry.<locals>._generate_with_retry in 4.0 seconds as it raised"
        " HTTPError: HTTP error occurred: status_code: 429 \n"
        " code: Throttling.RateQuota \n"
        f" message: {RATE_MSG}.\n"
    )
    final = (
        "2026-04-02 11:20:35,884 ERROR app: chain failed\n"
        "Traceback (most recent call last):\n"
        '  File "/srv/app/chain.py", line 51, in run\n'
        "    return llm.invoke(prompt)\n"
        "requests.exceptions.HTTPError: HTTP error occurred: status_code: 429 \n"
        " code: Throttling.RateQuota \n"
        f" message: {RATE_MSG}\n"
    )
    text = (
        warn.format(ts="2026-04-02 11:20:27,512")
        + warn.format(ts="2026-04-02 11:20:31,512")
        + final
    )
    events = parse(text)
    assert len(events) == 3
    assert list(events["format"]) == ["tenacity-retry", "tenacity-retry", "langchain-tongyi"]
    assert list(events["line"]) == [1, 4, 7]
    assert (events["code"] == "Throttling.RateQuota").all()
    assert (events["status_code"] == 429).all()
    assert (events["mentions"] == 1).all()


def test_two_calls_failing_alike_without_request_id_far_apart_are_two_events() -> None:
    text = sdk_str("2026-11-20 10:00:00,000", 429, "", "Throttling.RateQuota", RATE_MSG) + sdk_str(
        "2026-11-20 10:00:40,000", 429, "", "Throttling.RateQuota", RATE_MSG
    )
    events = parse(text)
    assert len(events) == 2
    assert list(events["mentions"]) == [1, 1]


def test_two_calls_of_different_models_failing_alike_are_two_events() -> None:
    text = (
        f"2026-11-20 10:00:00,000 ERROR app: status_code=429 code=Throttling.RateQuota"
        f" message={RATE_MSG} model=qwen-plus\n"
        f"2026-11-20 10:00:00,500 ERROR app: status_code=429 code=Throttling.RateQuota"
        f" message={RATE_MSG} model=qwen-max\n"
    )
    events = parse(text)
    assert list(events["model"]) == ["qwen-plus", "qwen-max"]


def test_two_openai_calls_failing_alike_without_request_id_are_two_events() -> None:
    """Each call: its httpx line, then its traceback (401 bodies carry no request id).

    Fixed bug (ingest/events.py, EventCollector.add): for a ``detail`` without request_id the
    "same failure re-logged" check looks at ``self.rows[-2:]`` BEFORE trying to absorb the
    transport line of the same attempt. The second traceback finds the first call's detail two
    rows back (behind the second call's httpx line) and merges into it. Actual: row 1 (line 1)
    mentions 3, row 2 (line 7) is the bare httpx line with code null and mentions 1. Expected:
    two events, each code InvalidApiKey and mentions 2 (httpx line + traceback), at lines 1 and 7.
    """
    text = (
        httpx("2026-11-29 05:16:47,004", "401 Unauthorized")
        + openai_traceback("2026-11-29 05:16:47,004", KEY_BODY, "AuthenticationError", 401)
        + httpx("2026-11-29 05:16:48,004", "401 Unauthorized")
        + openai_traceback("2026-11-29 05:16:48,004", KEY_BODY, "AuthenticationError", 401)
    )
    events = parse(text)
    assert len(events) == 2
    assert list(events["line"]) == [1, 7]
    assert col(events, "code") == ["InvalidApiKey", "InvalidApiKey"]
    assert col(events, "mentions") == [2, 2]
    assert events["request_id"].isna().all()


def test_an_error_line_and_its_re_raise_are_one_event() -> None:
    """The same failure written twice within a few seconds (ERROR line, then a wrapper)."""
    text = sdk_str("2026-11-20 10:00:00,000", 400, "", "Throttling.RateQuota", RATE_MSG) + (
        "2026-11-20 10:00:00,010 ERROR agent: RuntimeError: Failed to get response from DashScope"
        ' API: {"status_code": 400, "request_id": "", "code": "Throttling.RateQuota",'
        f' "message": "{RATE_MSG}", "output": null, "usage": null}}\n'
    )
    events = parse(text)
    assert len(events) == 1
    row = events.iloc[0]
    assert row["mentions"] == 2
    assert (row["status_code"], row["logged_status"]) == (429, 400)


def test_sdk_request_failed_line_and_the_response_are_one_event() -> None:
    text = (
        f"2026-11-20 10:00:00,000 - dashscope - http_request.py - call - 120 - ERROR - Request: "
        f"{NATIVE} failed, status: 429, message: {RATE_MSG}\n"
    ) + sdk_str("2026-11-20 10:00:00,001", 429, RID, "Throttling.RateQuota", RATE_MSG)
    events = parse(text)
    assert len(events) == 1
    row = events.iloc[0]
    assert (row["request_id"], row["mentions"], row["line"]) == (RID, 2, 1)


def test_a_success_and_an_error_with_the_same_request_id_stay_apart() -> None:
    text = (
        f"2026-11-20 10:00:00,000 INFO app: call ok request_id={RID} model=qwen-plus\n"
        + sdk_str("2026-11-20 10:00:01,000", 500, RID, "InternalError", "boom")
    )
    events = parse(text)
    assert list(events["is_error"]) == [False, True]


def test_java_error_line_and_uncaught_trace_with_the_same_request_id() -> None:
    events, report = load_events(INPUTS / "java_stack.log")
    assert report.files[0].balanced
    errors = events[events["is_error"]]
    assert len(errors) == 1  # the "; status body:" copy is the same failure
    row = errors.iloc[0]
    assert row["request_id"] == "1e0ad821-87c4-f4ae-97b8-ccb2a536ba92"
    assert row["code"] == "Throttling.RateQuota"
    assert row["mentions"] == 1
    assert row["line"] == 3
    assert (~events["is_error"]).sum() == 1


def test_a_transport_line_far_from_the_detail_is_not_absorbed() -> None:
    text = httpx("2026-11-29 05:16:00,000", "429 Too Many Requests") + openai_traceback(
        "2026-11-29 05:17:00,000", LIMIT_BODY % (RID, RID)
    )
    events = parse(text)
    assert len(events) == 2
    assert list(events["mentions"]) == [1, 1]


def test_a_burst_of_alike_id_less_stream_errors_is_one_event_per_call() -> None:
    """Two calls failing alike, logged by the same statement, are two outcomes."""
    text = sdk_str("2026-11-20 10:00:00,000", 400, "", "Throttling.RateQuota", RATE_MSG) + sdk_str(
        "2026-11-20 10:00:00,020", 400, "", "Throttling.RateQuota", RATE_MSG
    )
    events = parse(text)
    assert len(events) == 2
    assert list(events["mentions"]) == [1, 1]
