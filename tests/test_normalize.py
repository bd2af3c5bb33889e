"""ingest.normalize: each named step on its own, then the whole chain on raw events."""

from __future__ import annotations

from typing import Any

import pytest

from ingest.catalog import load_catalogue
from ingest.normalize import (
    STEPS,
    clean_fields,
    compat_to_native,
    doc_anchor_hint,
    inner_prefix_hint,
    normalize,
    parse_status,
    validate_request_id,
)

CAT = load_catalogue()
RID = "8c9d0e1f-2a3b-4c4d-9e5f-6a7b8c9d0e1f"
DOC = "https://help.aliyun.com/zh/model-studio/error-code"


def run(**raw: Any) -> dict[str, Any]:
    return normalize(dict(raw), CAT)


def test_the_steps_are_named_and_in_order() -> None:
    assert [s.__name__ for s in STEPS] == [
        "clean_fields",
        "parse_status",
        "inner_prefix_hint",
        "doc_anchor_hint",
        "code_from_message",
        "compat_to_native",
        "decide_error",
        "reconcile_status",
        "enrich",
        "redact_message",
        "client_context",
    ]
    # request ids are validated per row, after the (remembered) semantic steps
    assert "validate_request_id" in normalize.__code__.co_names


def test_normalize_remembers_shapes_but_not_rows() -> None:
    a = normalize({"status": "429", "code": "limit_requests", "request_id": "chatcmpl-" + RID})
    b = normalize({"status": "429", "code": "limit_requests", "request_id": "xxx", "model": "m"})
    assert (a["code"], a["request_id"], a.get("model")) == ("Throttling.RateQuota", RID, None)
    assert (b["code"], b["request_id"], b["model"]) == ("Throttling.RateQuota", None, "m")


# -- clean_fields / parse_status -------------------------------------------------------------------


def test_clean_fields_nulls() -> None:
    ev = clean_fields(
        {"code": " null ", "model": "qwen-plus ", "request_id": "", "message": "  m "},
        only=("code", "model", "request_id", "message"),
    )
    assert ev == {"code": None, "model": "qwen-plus", "request_id": None, "message": "m"}
    assert clean_fields({"message": "None"})["message"] is None


@pytest.mark.parametrize(
    ("raw", "logged"),
    [
        (429, 429),
        ("429", 429),
        ("-1", -1),
        ("44", 44),
        ("5000202", None),
        ("ok", None),
        (True, None),
    ],
)
def test_parse_status(raw: object, logged: int | None) -> None:
    assert parse_status({"status": raw})["logged_status"] == logged


def test_parse_status_failed_word_forces_an_error() -> None:
    ev = parse_status({"status": "FAILED"})
    assert ev["logged_status"] is None
    assert ev["error"] is True


def test_numeric_code_fields_are_statuses_or_success() -> None:
    assert parse_status({"code": "429"}) == {"code": None, "logged_status": 429}
    assert parse_status({"code": "0"})["code"] is None
    assert parse_status({"code": "200", "status": "500"})["logged_status"] == 500
    assert parse_status({"code": "10001"})["code"] == "10001"


# -- inner prefix, doc anchors, compat codes -------------------------------------------------------


def test_inner_prefix_gives_code_status_and_a_clean_message() -> None:
    ev = inner_prefix_hint(
        {
            "code": "invalid_parameter_error",
            "logged_status": None,
            "message": "<400> InternalError.Algo.InvalidParameter: Range of input length",
        }
    )
    assert ev["code"] == "InternalError.Algo.InvalidParameter"
    assert ev["logged_status"] == 400
    assert ev["message"] == "Range of input length"


def test_inner_prefix_keeps_a_specific_code_and_ignores_7_digit_prefixes() -> None:
    ev = inner_prefix_hint(
        {"code": "Arrearage", "logged_status": None, "message": "<5000202> InternalError: x"}
    )
    assert ev["code"] == "Arrearage"
    assert ev["logged_status"] is None
    assert ev["message"] == "x"


def test_openai_node_api_error_prefix() -> None:
    ev = run(message="[API Error: 400 <400> InternalError.Algo.DataInspectionFailed: Input text.]")
    assert ev["code"] == "DataInspectionFailed"
    assert ev["raw_code"] == "InternalError.Algo.DataInspectionFailed"
    assert ev["status_code"] == 400


def test_doc_anchor_hint_gives_the_code_and_drops_the_link() -> None:
    ev = doc_anchor_hint(
        {"code": None, "message": f"Access denied. For details, see: {DOC}#overdue-payment"}, CAT
    )
    assert ev["code"] == CAT.code_for_anchor("overdue-payment")
    assert ev["message"] == "Access denied."
    # a logged code wins over the anchor; the link is still dropped
    ev = doc_anchor_hint({"code": "X", "message": f"m For details, see: {DOC}#rate-limit"}, CAT)
    assert ev == {"code": "X", "message": "m"}


@pytest.mark.parametrize(
    ("anchor", "code"),
    [
        ("rate-limit", "Throttling.RateQuota"),
        ("apikey-error", "InvalidApiKey"),
        ("overdue-payment", "Arrearage"),
        ("inappropriate-content", "DataInspectionFailed"),
    ],
)
def test_doc_anchors_through_the_chain(anchor: str, code: str) -> None:
    ev = run(status=400, message=f"Something happened. For details, see: {DOC}#{anchor}")
    assert ev["code"] == code
    assert ev["message"] == "Something happened."


@pytest.mark.parametrize(
    ("raw", "native"),
    [
        ("limit_requests", "Throttling.RateQuota"),
        ("limit_burst_rate", "Throttling.BurstRate"),
        ("insufficient_quota", "Throttling.AllocationQuota"),
        ("invalid_api_key", "InvalidApiKey"),
        ("data_inspection_failed", "DataInspectionFailed"),
        ("internal_server_error", "InternalError"),
        ("InternalError.Algo.InvalidParameter", "InvalidParameter"),
        ("Arrearage", "Arrearage"),
        ("Brand.New.Code", "Brand.New.Code"),
    ],
)
def test_compat_to_native_keeps_the_raw_code(raw: str, native: str) -> None:
    ev = compat_to_native({"code": raw}, CAT)
    assert ev == {"code": native, "raw_code": raw}


def test_compat_error_type_stands_in_for_a_missing_code() -> None:
    assert compat_to_native({"code": None, "error_type": "Arrearage"}, CAT)["code"] == "Arrearage"
    # "..._error" types are generic, never a code
    ev = compat_to_native({"code": None, "error_type": "invalid_request_error"}, CAT)
    assert ev["code"] is None


# -- request ids -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "rid",
    ["", "xxx", "XXXX", "...", "920c6f68-...", "null", "none", "<request_id>", "{rid}", "abc"],
)
def test_placeholder_request_ids_become_null(rid: str) -> None:
    assert validate_request_id({"request_id": rid})["request_id"] is None
    assert run(status=500, code="InternalError", request_id=rid)["request_id"] is None


@pytest.mark.parametrize(
    ("rid", "clean"),
    [
        (f"chatcmpl-{RID}", RID),
        (f"'{RID}'", RID),
        (f" {RID} ", RID),
        ("task-0123456789", "task-0123456789"),
    ],
)
def test_request_ids_kept_and_cleaned(rid: str, clean: str) -> None:
    assert validate_request_id({"request_id": rid})["request_id"] == clean


# -- status reconciliation -------------------------------------------------------------------------


def test_mid_stream_throttling_logged_as_400_is_429() -> None:
    ev = run(
        status=400,
        code="Throttling.RateQuota",
        message="Requests rate limit exceeded, please try again later.",
        request_id="",
    )
    assert (ev["status_code"], ev["logged_status"]) == (429, 400)
    assert ev["request_id"] is None
    assert ev["is_error"]


def test_a_real_400_stays_400() -> None:
    ev = run(status=400, code="InvalidParameter", message="Range of input length")
    assert (ev["status_code"], ev["logged_status"]) == (400, 400)


def test_websocket_44_takes_the_catalogue_status() -> None:
    ev = run(status=44, code="Throttling.AllocationQuota", request_id=RID)
    assert (ev["status_code"], ev["logged_status"]) == (429, 44)


def test_websocket_44_with_an_unknown_code_has_no_status() -> None:
    ev = run(status=44, code="Brand.NewCode")
    assert (ev["status_code"], ev["logged_status"]) == (None, 44)


def test_client_side_minus_one_is_null() -> None:
    ev = run(status=-1, code="network error", message="IOException: closed")
    assert (ev["status_code"], ev["logged_status"]) == (None, -1)
    assert ev["category"] == "client-side"


def test_200_with_an_error_code_takes_the_catalogue_status() -> None:
    ev = run(status=200, code="InvalidApiKey", message="Invalid API-key provided.")
    assert (ev["status_code"], ev["logged_status"]) == (401, 200)
    assert ev["is_error"]


def test_an_unknown_code_keeps_the_logged_status() -> None:
    ev = run(status=418, code="Brand.NewCode", message="teapot")
    assert (ev["status_code"], ev["logged_status"]) == (418, 418)
    assert ev["code"] == "Brand.NewCode"
    assert ev["category"] == "bad-request"


def test_a_missing_status_is_filled_from_the_catalogue_but_not_logged() -> None:
    ev = run(code="Throttling.RateQuota", message="Requests rate limit exceeded")
    assert (ev["status_code"], ev["logged_status"]) == (429, None)


def test_seven_digit_prefix_is_not_a_status() -> None:
    ev = run(status="5000202", code="InternalError")
    assert ev["logged_status"] is None
    assert ev["status_code"] == 500


def test_success_rows() -> None:
    ev = run(status=200, code="", message="", request_id=RID)
    assert ev["is_error"] is False
    assert ev["status_code"] == 200
    assert ev["code"] is None
    assert ev["category"] is None
    assert ev["retryable"] is None
    # an app's "call ok" line (success format, no status): 200 inferred, nothing logged
    ev = run(request_id=RID, model="qwen-plus", error=False, success=True)
    assert (ev["status_code"], ev["logged_status"], ev["is_error"]) == (200, None, False)
    # code "success" is not an error code
    assert run(status=200, code="Success")["is_error"] is False


def test_status_without_code_decides_the_error() -> None:
    assert run(status=503)["is_error"] is True
    assert run(status=302)["is_error"] is False
    assert run(status="FAILED")["is_error"] is True
    assert run(role="retry")["is_error"] is True  # a retry notice is a failed attempt
    assert run()["is_error"] is False


def test_message_only_logs_get_the_code_from_the_catalogue() -> None:
    ev = run(message="Requests rate limit exceeded, please try again later.", error=True)
    assert ev["code"] == "Throttling.RateQuota"
    assert ev["code_from_message"] is True
    assert ev["status_code"] == 429
    assert ev["logged_status"] is None


def test_throttling_allocation_quota_meanings_by_message() -> None:
    paid = run(status=429, code="Throttling.AllocationQuota", message="Allocated quota exceeded")
    free = run(
        status=429, code="Throttling.AllocationQuota", message="Free allocated quota exceeded."
    )
    assert paid["category"] == "token-rate"
    assert free["category"] == "free-tier"


# -- enrichment ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "status", "category", "retryable"),
    [
        ("Throttling.RateQuota", 429, "request-rate", True),
        ("InvalidApiKey", 401, "auth", False),
        ("Arrearage", 400, "billing", False),
        ("DataInspectionFailed", 400, "moderation", False),
        ("InternalError", 500, "server-error", True),
        ("Brand.NewCode", 503, "server-error", True),
        ("Brand.NewCode", 404, "not-found", False),
        ("Throttling.SomethingNew", None, "request-rate", True),
    ],
)
def test_enrichment(code: str, status: int | None, category: str, retryable: bool) -> None:
    entry = CAT.resolve(code)
    if entry is not None:
        assert entry.category == category
    ev = run(status=status, code=code)
    assert ev["category"] == category
    assert ev["retryable"] is retryable
