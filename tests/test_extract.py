"""ingest.extract: balanced bodies in free text, tolerant parsing, key aliases, key=value pairs."""

from __future__ import annotations

import json

import pytest

from ingest.extract import balanced_objects, fields_from_object, kv_pairs, parse_object

RID = "8c9d0e1f-2a3b-4c4d-9e5f-6a7b8c9d0e1f"


def objects(text: str) -> list[str]:
    return [text[a:b] for a, b in balanced_objects(text)]


# -- balanced_objects ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('before {"a": 1} after', ['{"a": 1}']),
        ('{"a": {"b": {"c": 1}}} tail', ['{"a": {"b": {"c": 1}}}']),
        ('x {"a": "}{"} y', ['{"a": "}{"}']),  # braces inside strings
        ('x {"a": "\\"}"} y', ['{"a": "\\"}"}']),  # escaped quote inside a string
        ('x {"a": "\\\\"} y', ['{"a": "\\\\"}']),  # an escaped backslash ends before the quote
        ("e {'message': \"don't }\", 'x': None}", ["{'message': \"don't }\", 'x': None}"]),
        ("it's {'a': 1} and don't {'b': 2}", ["{'a': 1}", "{'b': 2}"]),  # apostrophes in prose
        ('{"a": 1}{"b": 2}', ['{"a": 1}', '{"b": 2}']),
        ("no braces at all", []),
        ("} stray closing {", []),
    ],
)
def test_balanced_objects(text: str, expected: list[str]) -> None:
    assert objects(text) == expected


def test_a_truncated_object_does_not_hide_later_ones() -> None:
    # the outer object never closes: the scan restarts after its brace
    text = 'truncated {"a": 1, "b": {"c": 2} and then {"ok": 1}'
    assert objects(text) == ['{"c": 2}', '{"ok": 1}']
    assert objects('cut {"status_code": 429, "message": "Requests rate') == []


def test_balanced_objects_start_offset() -> None:
    text = '{"a": 1} {"b": 2}'
    assert [text[a:b] for a, b in balanced_objects(text, start=1)] == ['{"b": 2}']


# -- parse_object ----------------------------------------------------------------------------------

SDK_STR = (
    '{"status_code": 429, "request_id": "' + RID + '", "code": "Throttling.RateQuota", '
    '"message": "Requests rate limit exceeded, please try again later.", '
    '"output": null, "usage": null}'
)
SDK_REPR = (
    "{'status_code': 401, 'request_id': '" + RID + "', 'code': 'InvalidApiKey', "
    "'message': 'Invalid API-key provided.', 'output': None, 'usage': None}"
)
OPENAI_REPR = (
    "{'error': {'message': 'Incorrect API key provided. ', 'type': 'invalid_request_error', "
    "'param': None, 'code': 'invalid_api_key'}, 'request_id': '" + RID + "'}"
)


def test_parse_json() -> None:
    assert parse_object(SDK_STR) == json.loads(SDK_STR)


def test_parse_python_repr() -> None:
    obj = parse_object(SDK_REPR)
    assert obj is not None
    assert obj["status_code"] == 401
    assert obj["output"] is None
    obj = parse_object(OPENAI_REPR)
    assert obj is not None
    assert obj["error"]["code"] == "invalid_api_key"
    assert obj["error"]["message"] == "Incorrect API key provided. "


def test_parse_escaped_json() -> None:
    escaped = SDK_STR.replace('"', '\\"')
    assert parse_object(escaped) == json.loads(SDK_STR)
    double = SDK_STR.replace('"', '\\\\"')
    assert parse_object(double) == json.loads(SDK_STR)


def test_parse_markdown_escaped_brackets() -> None:
    body = '{"code": "InvalidParameter", "message": "Range should be \\[1, 30720\\]"}'
    assert parse_object(body) == {
        "code": "InvalidParameter",
        "message": "Range should be [1, 30720]",
    }


def test_parse_terminal_wrapped_json() -> None:
    body = '{"code": "Throttling", "message": "Requests throttling trig\n      gered."}'
    assert parse_object(body) == {"code": "Throttling", "message": "Requests throttling triggered."}


@pytest.mark.parametrize(
    "body",
    ["not an object", "{broken", "[1, 2]", '"a string"', "{'a': __import__('os')}", "", "{}x"],
)
def test_parse_gives_none_for_non_objects(body: str) -> None:
    assert parse_object(body) is None


def test_parse_empty_object() -> None:
    assert parse_object("{}") == {}


def test_parse_refuses_huge_bodies() -> None:
    from ingest.extract import MAX_OBJECT_CHARS

    body = '{"a": "' + "x" * MAX_OBJECT_CHARS + '"}'
    assert parse_object(body) is None


# -- fields_from_object ----------------------------------------------------------------------------


def test_fields_of_the_native_body() -> None:
    assert fields_from_object(json.loads(SDK_STR)) == {
        "status": 429,
        "request_id": RID,
        "code": "Throttling.RateQuota",
        "message": "Requests rate limit exceeded, please try again later.",
    }


def test_fields_of_the_compat_body() -> None:
    obj = {
        "error": {
            "message": "m",
            "type": "limit_requests",
            "param": None,
            "code": "limit_requests",
        },
        "id": f"chatcmpl-{RID}",
        "request_id": "",
    }
    fields = fields_from_object(obj)
    assert fields["code"] == "limit_requests"
    assert fields["message"] == "m"
    assert fields["error_type"] == "limit_requests"
    # "" is skipped, the compat id is used (chatcmpl- is stripped later, by normalize)
    assert fields["request_id"] == f"chatcmpl-{RID}"


def test_a_bare_id_is_not_a_request_id() -> None:
    assert "request_id" not in fields_from_object({"id": "12345", "code": "X"})


def test_request_id_inside_error() -> None:
    assert fields_from_object({"error": {"code": "X", "request_id": RID}})["request_id"] == RID


def test_java_status_and_case_insensitive_keys() -> None:
    java = {
        "statusCode": 429,
        "message": "m",
        "code": "Throttling",
        "isJson": True,
        "requestId": RID,
    }
    assert fields_from_object(java) == {
        "status": 429,
        "code": "Throttling",
        "message": "m",
        "request_id": RID,
    }
    assert fields_from_object({"RequestId": "R", "Code": "C", "Message": "M"}) == {
        "request_id": "R",
        "code": "C",
        "message": "M",
    }


def test_websocket_frame_fields() -> None:
    frame = {
        "header": {
            "task_id": RID,
            "event": "task-failed",
            "error_code": "InvalidParameter",
            "error_message": "bad",
        },
        "payload": {},
    }
    fields = fields_from_object(frame)
    assert fields["request_id"] == RID
    assert fields["code"] == "InvalidParameter"
    assert fields["message"] == "bad"
    assert fields["event"] == "task-failed"


# -- kv_pairs --------------------------------------------------------------------------------------


def test_kv_message_with_commas_runs_to_the_next_key() -> None:
    line = (
        f"status_code=429, request_id={RID}, code=Throttling.RateQuota, "
        "message=Requests rate limit exceeded, please try again later., model=qwen-plus"
    )
    assert kv_pairs(line) == {
        "status_code": "429",
        "request_id": RID,
        "code": "Throttling.RateQuota",
        "message": "Requests rate limit exceeded, please try again later.",
        "model": "qwen-plus",
    }


def test_kv_quoted_values_and_colons() -> None:
    line = "code: \"InvalidApiKey\" message: 'Invalid, really \\' quoted' request_id: abc"
    assert kv_pairs(line) == {
        "code": "InvalidApiKey",
        "message": "Invalid, really \\' quoted",
        "request_id": "abc",
    }


def test_kv_non_message_values_stop_at_whitespace() -> None:
    assert kv_pairs("code=Throttling extra words model=qwen-max)") == {
        "code": "Throttling",
        "model": "qwen-max",
    }


def test_kv_first_occurrence_wins_and_unknown_keys_are_ignored() -> None:
    pairs = kv_pairs("code=A foo=bar code=B latency_ms=12")
    assert pairs == {"code": "A"}


def test_kv_keys_need_a_boundary() -> None:
    # "errcode" / "x.code" are not the key "code"
    assert kv_pairs("errcode=1 x.code=2") == {}


def test_kv_message_stops_at_end_of_line() -> None:
    assert kv_pairs("message=first line,\nnext line")["message"] == "first line"


def test_a_python_set_or_tuple_is_no_field_value() -> None:
    """repr() bodies are Python literals: {'x'} is a set (found by the fuzzer: it crashed the
    de-duplication of events, which hashes the fields)."""
    from ingest import load_events

    text = (
        "openai.RateLimitError: Error code: 429 - {'error': {'merequests'}, 'code':"
        " 'limit_requests', 'request_id': '3debb1e7-9381-4ab3-bafd-27b6a26bfef5'}\n"
    )
    assert fields_from_object({"error": {"x"}, "message": ("a", "b"), "code": "X"}) == {"code": "X"}
    events, report = load_events([("set.log", text.encode())])
    assert events["request_id"].tolist() == ["3debb1e7-9381-4ab3-bafd-27b6a26bfef5"]
    assert report.files[0].balanced
