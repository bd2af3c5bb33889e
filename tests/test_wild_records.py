"""Records as other clients print them (Node's util.inspect of an AI SDK error, Go's
go-openai): the request id outside the body, statuses in prose."""

from __future__ import annotations

from pathlib import Path

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
