"""Records as other clients print them (Node's util.inspect of an AI SDK error, Go's
go-openai): the request id outside the body, statuses in prose."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from ingest import load_events

WILD = Path(__file__).parent / "data" / "wild"


def test_an_error_object_printed_by_node_keeps_its_request_id() -> None:
    """Vercel AI SDK APICallError: the id is in a response header and in the responseBody
    string, not in the parsed error object."""
    events, report = load_events(str(WILD / "vercel-ai-sdk.log"))
    assert len(events) == 1
    ev = events.iloc[0]
    assert ev["status_code"] == 429
    assert ev["code"] == "Throttling.RateQuota"
    assert ev["request_id"] == "7f3c1d52-9a1b-4b8e-a2c3-5d6e7f8a9b0c"
    assert ev["model"] == "qwen-plus"
    assert report.unparsed == 0


def test_two_different_ids_in_one_record_name_none() -> None:
    log = (
        "2026-11-20 10:00:01,000 ERROR call failed: Error code: 429 - {'error': {'message':"
        " 'Requests rate limit exceeded, please try again later.', 'type': 'limit_requests'}}"
        " previous request_id=aaaaaaaa-1111-4111-8111-111111111111 next request_id="
        "bbbbbbbb-2222-4222-8222-222222222222\n"
    )
    events, _ = load_events([("two.log", log.encode())])
    assert len(events) == 1
    assert events["request_id"].isna().all()


def test_go_openai_errors_are_events() -> None:
    events, report = load_events(str(WILD / "go-openai.log"))
    assert events["status_code"].tolist() == [429, 400]
    assert events["code"].tolist() == ["Throttling.RateQuota", "InvalidParameter"]
    assert report.unparsed == 0
    assert report.ignored == 0


def test_dotnet_exceptions_keep_the_message_under_their_header() -> None:
    """OpenAI .NET writes 'HTTP 429 (...)', a blank line, then the message; Semantic Kernel
    writes the response body under 'Content:'. Both stay one record in a timestamped log."""
    events, report = load_events(str(WILD / "dotnet-serilog.log"))
    errors = events[events["is_error"]].sort_values("line")
    assert errors["status_code"].tolist() == [429, 400]
    assert errors["code"].tolist() == ["Throttling.RateQuota", "DataInspectionFailed"]
    assert errors["message"].iloc[0] == "Requests rate limit exceeded, please try again later."
    assert errors["request_id"].iloc[1] == "1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e"
    assert report.unparsed == 0


def test_rust_option_values_are_unwrapped() -> None:
    events, _ = load_events(str(WILD / "rust-async-openai.log"))
    assert events["raw_code"].tolist() == ["limit_requests"]
    assert events["code"].tolist() == ["Throttling.RateQuota"]
    assert events["status_code"].tolist() == [429]


# ---------------------------------------------------------------------------------------------
# Third-party wrappers, captured against the loopback fake server by the scripts in
# tests/clients/wrappers/ (run by hand in a throwaway venv; CI does not install the wrappers).
# Each <name>.log comes with <name>.truth.json: the server's record of every answered request.

#: error events each capture must give: one per failed attempt the log shows at all. LiteLLM's
#: own retry (num_retries) leaves nothing of the second failed attempt of the openai client
#: inside it but LiteLLM's help banner, so 6 of its 7 failures are visible.
WRAPPER_ERRORS = {
    "langchain-tongyi": 9,
    "langchain-openai": 8,
    "litellm": 6,
    "llama-index-dashscope": 4,
    "qwen-agent": 6,
    "agentscope": 5,
    # Node clients (tests/clients/wrappers/node/): the SDKs' silent retries leave nothing
    "node-openai-v4": 8,  # 11 failed: one 429 and two 500s retried by openai-node unseen
    "node-openai": 8,  # the same script on openai-node 7.x (Headers object, requestID)
    "node-ai-sdk": 8,  # 10 failed: two 429s retried by the AI SDK before an answer
    # 6 failed: ChatAlibabaTongyi's new Error(body.message) is the message alone, and the
    # 'Range of input length ...' one names nothing an API failure could be told by
    "node-langchain": 4,
}
#: codes the server sends that the catalogue names otherwise (none since LimitRequests became
#: Throttling.RateQuota, as its compat code limit_requests is)
SAME_CODE: dict[str, str] = {}


def _wrapper(name: str) -> tuple[Any, dict[str, Any], str]:
    log = WILD / f"{name}.log"
    truth = json.loads((WILD / f"{name}.truth.json").read_text(encoding="utf-8"))
    events, _report = load_events(str(log))
    return events, truth, log.read_text(encoding="utf-8")


@pytest.mark.parametrize("name", sorted(WRAPPER_ERRORS))
def test_wrapper_capture_matches_the_server_record(name: str) -> None:
    events, truth, text = _wrapper(name)
    errors = events[events["is_error"]]
    failed = [a for a in truth["answered"] if a["is_error"]]
    succeeded = {a["request_id"] for a in truth["answered"] if not a["is_error"]}
    # every failed attempt the log shows is one event: no mention counted twice
    assert len(errors) == WRAPPER_ERRORS[name]
    assert len(errors) <= len(failed)
    # a failure whose request id the log shows has it, with the server's status and code
    by_rid = {
        r["request_id"]: r for r in errors.to_dict("records") if isinstance(r["request_id"], str)
    }
    for a in failed:
        if a["request_id"] in text:
            ev = by_rid[a["request_id"]]
            assert (ev["status_code"], ev["code"]) == (a["status"], a["code"])
    # no success became an error, and no id was given to the wrong failure
    assert not set(by_rid) & succeeded
    assert set(by_rid) <= {a["request_id"] for a in failed}
    # the statuses and codes the log names are the server's, failure for failure
    truth_status = Counter(a["status"] for a in failed)
    got_status = Counter(s for s in errors["status_code"] if not pd.isna(s))
    assert not got_status - truth_status
    truth_codes = Counter(a["code"] for a in failed)
    got_codes = Counter(SAME_CODE.get(c, c) for c in errors["code"] if not pd.isna(c))
    assert not got_codes - truth_codes


def test_token_counts_are_not_suspect_lines() -> None:
    """Qwen-Agent's "ALL tokens: 5, Available tokens: 58000" lines name qwen and hold "ail":
    they are no failure nobody could read."""
    _events, report = load_events(str(WILD / "qwen-agent.log"))
    assert report.files[0].unparsed == 0


def test_one_failure_told_by_message_traceback_and_reraise_is_one_event() -> None:
    """langchain-openai: logger.exception("...: %s", e) writes the error in the message, as
    openai's exception and as LangChain's re-raise: one failure, four mentions with the httpx
    line of the attempt."""
    events, _truth, _text = _wrapper("langchain-openai")
    auth = events[events["status_code"] == 401]
    assert len(auth) == 1
    assert auth["code"].iloc[0] == "InvalidApiKey"
    assert auth["mentions"].iloc[0] == 4


def test_printed_failures_glued_to_a_retry_warning_are_their_own_events() -> None:
    """print(e) lines have no timestamp, so they join the tenacity WARNING above them in one
    record: the retried attempt and the two printed final failures are three events, and the
    request id printed with the 400 stays with it."""
    events, truth, _text = _wrapper("langchain-tongyi")
    tail = events[events["line"] >= 120].sort_values("line")
    assert tail["format"].tolist() == ["tenacity-retry", "langchain-tongyi", "langchain-tongyi"]
    assert tail["code"].tolist() == [
        "Throttling.AllocationQuota",
        "Throttling.AllocationQuota",
        "InvalidParameter",
    ]
    last = truth["answered"][-1]
    assert tail["request_id"].iloc[:2].isna().all()
    assert tail["request_id"].iloc[2] == last["request_id"]


def test_openai_3_retry_notices_count_the_retried_attempt() -> None:
    """openai 3.x writes 'Retrying request in 0.01 seconds (retry 1 of 1)' (no path)."""
    events, _truth, _text = _wrapper("litellm")
    retries = events[events["format"] == "openai-retrying"]
    assert len(retries) == 1
    assert retries["is_error"].all()


def test_the_same_failure_in_the_message_and_the_traceback_is_one_event() -> None:
    log = (
        "2026-11-20 10:00:01,000 ERROR app: call failed: Error code: 429 - Requests rate limit"
        " exceeded, please try again later.\n"
        "Traceback (most recent call last):\n"
        '  File "app.py", line 9, in <module>\n'
        "openai.RateLimitError: Error code: 429 - Requests rate limit exceeded, please try again"
        " later.\n"
        "2026-11-20 10:00:02,000 INFO app: ok\n"
    )
    events, _ = load_events([("told-twice.log", log.encode())])
    assert len(events) == 1
    assert events["mentions"].iloc[0] == 2
    assert events["code"].iloc[0] == "Throttling.RateQuota"


def test_two_different_failures_in_one_record_stay_two() -> None:
    log = (
        "2026-11-20 10:00:01,000 INFO httpx: HTTP Request: POST https://dashscope.aliyuncs.com"
        '/compatible-mode/v1/chat/completions "HTTP/1.1 400 Bad Request"\n'
        "LLM error: Error code: 429 - Requests rate limit exceeded, please try again later.\n"
        "LLM error: Error code: 401 - Invalid API-key provided.\n"
    )
    events, _ = load_events([("two.log", log.encode())])
    assert sorted(events["status_code"].tolist()) == [400, 401, 429]


def test_agentscope_retry_warnings_are_retried_attempts_with_their_model() -> None:
    """'Attempt 1 failed for model qwen-plus: Error code: 429 - ... Retrying in 0.1s...' joins
    the httpx line of that attempt and names the model; the message keeps no retry text."""
    events, _truth, _text = _wrapper("agentscope")
    retried = events[events["model"] == "qwen-plus"].sort_values("line")
    assert retried["status_code"].tolist() == [429, 500]
    assert retried["mentions"].tolist() == [2, 2]
    assert not events["message"].dropna().str.contains("Retrying").any()


def test_syslog_and_common_log_format_times_are_read() -> None:
    """journalctl / /var/log/syslog lines carry no year (the latest year not ahead of now is
    taken); the common log format carries its offset."""
    from ingest.timestamps import to_iso

    text = (
        "Nov 20 10:00:02 web-7 chat[812]: Request id: 0a1b2c3d-1111-2222-3333-444455556668,"
        " Status code: 429, error code: Throttling.RateQuota, error message: Requests rate"
        " limit exceeded, please try again later.\n"
        "20/Nov/2026:10:00:05 +0800 ERROR Request id: 0a1b2c3d-1111-2222-3333-44445555666c,"
        " Status code: 401, error code: InvalidApiKey, error message: Invalid API-key provided.\n"
    )
    events, _report = load_events([("syslog.log", text.encode())], tz="UTC")
    stamps = dict(zip(events["status_code"], events["timestamp"], strict=True))
    year = to_iso("Nov 20 10:00:02")[:4]  # type: ignore[index]
    assert stamps[429] == pd.Timestamp(f"{year}-11-20 10:00:02", tz="UTC")
    assert stamps[401] == pd.Timestamp("2026-11-20 02:00:05", tz="UTC")


# ---------------------------------------------------------------------------------------------
# Node clients: util.inspect dumps, pino's err, the AI SDK's RetryError


def test_a_node_error_line_and_its_inspect_dump_are_one_event_with_the_request_id() -> None:
    """console.error(err) of openai-node: 'AuthenticationError: 401 ...', the stack, then the
    error's properties from ' {' after the last frame to '}' at column 0 (request_id or
    requestID, headers['x-request-id'], error.code): one record, one event, two mentions."""
    for name in ("node-openai-v4", "node-openai"):
        events, truth, _text = _wrapper(name)
        auth = events[events["line"] == 4]
        assert len(auth) == 1
        rid = next(a["request_id"] for a in truth["answered"] if a["status"] == 401)
        assert auth["request_id"].iloc[0] == rid
        assert auth["code"].iloc[0] == "InvalidApiKey"
        assert auth["mentions"].iloc[0] == 2


def test_pino_err_and_winston_keys_are_read() -> None:
    """pino nests the error under "err" (err.status, err.error.code, err.requestID);
    openai-node 5+ headers are a Headers object that JSON writes as {}."""
    events, truth, _text = _wrapper("node-openai")
    by_line = events.set_index("line")
    rid500 = next(a["request_id"] for a in reversed(truth["answered"]) if a["status"] == 500)
    assert by_line.loc[65, "request_id"] == rid500
    assert (by_line.loc[65, "status_code"], by_line.loc[65, "code"]) == (500, "InternalError")
    assert by_line.loc[67, "code"] == "Throttling.RateQuota"
    assert by_line.loc[68, "code"] == "Arrearage"  # '400 <message>', a DashScope doc link


def test_an_ai_sdk_retry_error_is_one_event_per_attempt() -> None:
    """AI_RetryError prints every attempt's APICallError in errors: [...] (responseHeaders
    collapsed to [Object]; the id is in responseBody) and the last again as lastError."""
    events, truth, _text = _wrapper("node-ai-sdk")
    retry = events[events["line"] == 58]
    rids = [a["request_id"] for a in truth["answered"] if a["status"] == 500]
    assert sorted(retry["request_id"]) == sorted(rids)
    assert set(retry["status_code"]) == {500}
    assert set(retry["code"]) == {"InternalError"}


def test_a_native_body_printed_by_node_is_an_event() -> None:
    """The npm 'dashscope' package returns the body whatever the status: console.log(result)
    prints { code: '...', message: '...', request_id: '...' }. The body pino nests under an
    app's own key ("result") is not read yet."""
    events, truth, _text = _wrapper("node-dashscope")
    errors = events[events["is_error"]]
    failed = {a["request_id"]: a for a in truth["answered"] if a["is_error"]}
    assert len(errors) == 3
    for ev in errors.to_dict("records"):
        assert ev["code"] == failed[ev["request_id"]]["code"]
    assert not events[~events["is_error"]]["request_id"].isin(list(failed)).any()


def test_util_inspect_literals_parse() -> None:
    from ingest.extract import parse_object

    body = (
        "{\n  status: 429,\n  headers: Headers { 'x-request-id': 'abc' },\n  cause: undefined,"
        "\n  data: [Object],\n  list: Array(2) [ 1, 2 ],\n  ok: false,\n"
        "  [Symbol(vercel.ai.error)]: true\n}"
    )
    assert parse_object(body) == {
        "status": 429,
        "headers": {"x-request-id": "abc"},
        "cause": None,
        "data": None,
        "list": [1, 2],
        "ok": False,
        "[Symbol(vercel.ai.error)]": True,
    }
