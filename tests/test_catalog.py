"""The error catalogue: the user's table verbatim, newer codes, look-ups, load-time errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ingest.catalog import (
    ACTORS,
    CATEGORY_IDS,
    UNKNOWN_CATEGORY,
    Catalogue,
    CatalogueError,
    Category,
    CodeEntry,
    load_catalogue,
    parse_catalogue,
    read_seed_rows,
)
from ingest.catalog.markdown import (
    BEGIN,
    END,
    extract_block,
    main,
    render_catalogue_markdown,
    replace_block,
)

CAT = load_catalogue()
SEED = read_seed_rows()


def entry_for(code: str, message: str) -> CodeEntry:
    matches = [e for e in CAT.entries if e.code == code and e.message == message]
    assert len(matches) == 1, f"{code} / {message!r}: {len(matches)} entries"
    return matches[0]


# -- the reference table -------------------------------------------------------------------------


def test_seed_file_has_the_25_table_rows_and_nothing_after_them():
    assert len(SEED) == 25
    assert SEED[0] == (
        400,
        "InvalidParameter",
        "Required parameter(s) missing or invalid, please check the request parameters.",
        "接口調用參數不合法。",
    )
    assert SEED[-1].code == "InternalError.DataInspection"
    assert all(row.code != "InvalidApiKey" or row.status == 401 for row in SEED)
    assert CAT.seed_rows() == SEED


@pytest.mark.parametrize("row", SEED, ids=lambda r: f"{r.status}-{r.code}-{r.message[:12]}")
def test_every_seed_row_is_in_the_catalogue_verbatim(row):
    entry = entry_for(row.code, row.message)
    assert (entry.status, entry.code, entry.message, entry.meaning_zh) == tuple(row)
    assert entry.reference is True
    assert entry.source == "reference"
    assert entry.messages[0] == row.message


def test_reference_rows_come_first_in_table_order_and_are_only_the_table():
    reference = [e for e in CAT.entries if e.reference]
    assert [(e.status, e.code, e.message, e.meaning_zh) for e in reference] == [
        tuple(r) for r in SEED
    ]
    assert CAT.entries[: len(SEED)] == tuple(reference)


def test_original_spellings_are_kept():
    messages = {e.message for e in CAT.entries if e.reference}
    assert "Access denied, plesase make sure your account is in good standing." in messages
    assert "An system error has occured, please try again later." in messages
    assert any("An internal error has occured" in m for m in messages)


def test_every_entry_is_complete():
    for e in CAT.entries:
        assert all((e.meaning_en, e.meaning_zh, e.advice_en, e.advice_zh, e.retry)), e.code
        assert e.category in CAT.categories, e.code
        assert e.actor in ACTORS, e.code
        assert e.status is None or isinstance(e.status, int), e.code
        assert not e.message or e.messages[0] == e.message, e.code


# -- categories ----------------------------------------------------------------------------------


def test_categories_are_the_fixed_ids_in_order():
    assert tuple(CAT.categories) == CATEGORY_IDS
    assert UNKNOWN_CATEGORY == "unknown"
    for cid, cat in CAT.categories.items():
        assert isinstance(cat, Category)
        assert cat.id == cid
        assert cat.label_en
        assert cat.label_zh
        assert cat.description_en
        assert cat.description_zh
    throttling = [c.id for c in CAT.categories.values() if c.throttling]
    assert throttling == ["request-rate", "token-rate", "burst", "free-tier"]


@pytest.mark.parametrize(
    ("code", "message", "category", "status"),
    [
        ("Throttling.RateQuota", None, "request-rate", 429),
        ("Throttling", None, "request-rate", 429),
        ("Throttling.AllocationQuota", "Allocated quota exceeded", "token-rate", 429),
        ("Throttling.BurstRate", None, "burst", 429),
        ("Throttling.AllocationQuota", "Free allocated quota exceeded.", "free-tier", 429),
        ("AllocationQuota.FreeTierOnly", None, "free-tier", 403),
        ("Arrearage", None, "billing", 400),
        ("CommodityNotPurchased", None, "billing", 429),
        ("PrepaidBillOverdue", None, "billing", 429),
        ("PostpaidBillOverdue", None, "billing", 429),
        ("InvalidApiKey", None, "auth", 401),
        ("Model.AccessDenied", None, "permission", 403),
        ("DataInspectionFailed", None, "moderation", 400),
        ("IPInfringementSuspect", None, "moderation", 400),
        ("ModelNotFound", None, "not-found", 404),
        ("ModelUnavailable", None, "server-error", 503),
        ("RequestTimeOut", None, "timeout", 408),
        ("InternalError.Timeout", None, "timeout", 500),
    ],
)
def test_documented_facts(code, message, category, status):
    entry = CAT.resolve(code, message)
    assert entry is not None
    assert (entry.category, entry.status) == (category, status)


def test_insufficient_quota_is_a_token_throttle_not_billing():
    category, retryable, entry = CAT.classify(
        "insufficient_quota",
        "You exceeded your current quota, please check your plan and billing details.",
        429,
    )
    assert (category, retryable) == ("token-rate", True)
    assert entry is not None
    assert entry.code == "Throttling.AllocationQuota"


NEWER_CODES = [
    "Throttling.BurstRate",
    "CommodityNotPurchased",
    "PrepaidBillOverdue",
    "PostpaidBillOverdue",
    "Model.AccessDenied",
    "Workspace.AccessDenied",
    "App.AccessDenied",
    "AllocationQuota.FreeTierOnly",
    "ModelNotFound",
    "model_not_supported",
    "WorkSpaceNotFound",
    "NotFound",
    "ModelServiceFailed",
    "InternalError.FileUpload",
    "InternalError.Upload",
    "ModelServingError",
    "InvokePluginFailed",
    "AppProcessFailed",
    "RewriteFailed",
    "RetrievalFailed",
    "ModelUnavailable",
    "BadRequest.IllegalInput",
    "BadRequest.ResourceNotExist",
    "BadRequest.VoiceNotFound",
    "InvalidParameter.NotSupportEnableThinking",
    "InvalidURL.ConnectionRefused",
    "InvalidURL.Timeout",
    "FlowNotPublished",
    "InvalidSchema",
    "InvalidSchemaFormat",
    "FaqRuleBlocked",
    "CustomRoleBlocked",
    "IPInfringementSuspect",
    "ClientDisconnect",
]


def test_limit_requests_is_one_throttle_whichever_client_logged_it():
    """Native LimitRequests, compat limit_requests and their message are Throttling.RateQuota."""
    for code in ("LimitRequests", "limit_requests"):
        assert CAT.native_code(code) == "Throttling.RateQuota"
    entry = CAT.match_message("You exceeded your current requests list.")
    assert entry is not None
    assert entry.code == "Throttling.RateQuota"


@pytest.mark.parametrize("code", NEWER_CODES)
def test_newer_documented_codes_are_there_marked_as_docs(code):
    entries = [e for e in CAT.entries if e.code == code]
    assert len(entries) == 1
    assert entries[0].source == "docs"
    assert entries[0].reference is False
    assert entries[0].status is not None


def test_media_codes_are_there():
    prefixes = ("InvalidFile.", "InvalidImage.", "Audio.")
    media = [e for e in CAT.entries if e.code.startswith(prefixes)]
    assert {e.code.split(".")[0] for e in media} == {"InvalidFile", "InvalidImage", "Audio"}
    assert all(e.category == "bad-request" and e.source == "docs" for e in media)
    assert all(430 in e.other_statuses for e in media if e.code.startswith("Audio."))


def test_sdk_pseudo_codes_have_no_http_status():
    sdk = {e.code: e for e in CAT.entries if e.source == "sdk"}
    assert {"response_error", "request_cancelled", "protocol_unsupported", "api_key_error"} <= set(
        sdk
    )
    assert {"unknown_error", "network error", "Unknown", "AuthenticationError"} <= set(sdk)
    assert sdk["network error"].status == -1
    assert sdk["response_error"].status is None


# -- the two Throttling.AllocationQuota rows ------------------------------------------------------


def test_allocation_quota_stays_two_entries():
    entries = CAT.entries_for("Throttling.AllocationQuota")
    assert [e.category for e in entries] == ["token-rate", "free-tier"]
    assert [e.message for e in entries] == [
        "Allocated quota exceeded, please increase your quota limit.",
        "Free allocated quota exceeded.",
    ]


@pytest.mark.parametrize(
    ("code", "message", "category"),
    [
        ("Throttling.AllocationQuota", "Free allocated quota exceeded.", "free-tier"),
        ("Throttling.AllocationQuota", "free  ALLOCATED quota exceeded.", "free-tier"),
        ("Throttling.AllocationQuota", "Free allocated quota", "free-tier"),
        (
            "Throttling.AllocationQuota",
            "Allocated quota exceeded, please increase your quota limit.",
            "token-rate",
        ),
        ("Throttling.AllocationQuota", "Allocated quota exceeded", "token-rate"),
        ("Throttling.AllocationQuota", None, "token-rate"),
        ("Throttling.AllocationQuota", "something else entirely", "token-rate"),
        ("insufficient_quota", None, "token-rate"),
        ("insufficient_quota", "Free allocated quota exceeded.", "free-tier"),
        (
            "Throttling.AllocationQuota",
            "Free allocated quota exceeded. For details, see: "
            "https://help.aliyun.com/zh/model-studio/error-code#token-limit",
            "free-tier",
        ),
    ],
)
def test_allocation_quota_resolves_by_message(code, message, category):
    entry = CAT.resolve(code, message)
    assert entry is not None
    assert entry.code == "Throttling.AllocationQuota"
    assert entry.category == category


def test_every_entry_resolves_to_itself_from_its_code_and_messages():
    for e in CAT.entries:
        for message in e.messages:
            assert CAT.resolve(e.code, message) == e, (e.code, message)
        if not e.messages:
            assert CAT.resolve(e.code) == e
        assert CAT.resolve(e.code) == CAT.entries_for(e.code)[0]


def test_every_catalogue_message_matches_back_to_an_entry_of_its_code():
    for e in CAT.entries:
        for message in e.messages:
            found = CAT.match_message(message.replace("xxx", "qwen-plus"))
            assert found is not None, message
            assert found.code == e.code, (message, found.code)


# -- code normalisation ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "native"),
    [
        ("invalid_api_key", "InvalidApiKey"),
        ("invalid_parameter_error", "InvalidParameter"),
        ("data_inspection_failed", "DataInspectionFailed"),
        ("access_denied", "AccessDenied"),
        ("limit_requests", "Throttling.RateQuota"),
        ("limit_burst_rate", "Throttling.BurstRate"),
        ("insufficient_quota", "Throttling.AllocationQuota"),
        ("model_not_found", "ModelNotFound"),
        ("internal_error", "InternalError"),
        ("internal_server_error", "InternalError"),
        ("LIMIT_REQUESTS", "Throttling.RateQuota"),
        (" Invalid_Api_Key ", "InvalidApiKey"),
        # compat codes that keep their native names
        ("Arrearage", "Arrearage"),
        ("AccessDenied.Unpurchased", "AccessDenied.Unpurchased"),
        ("AllocationQuota.FreeTierOnly", "AllocationQuota.FreeTierOnly"),
        # snake_case native code (not an alias)
        ("model_not_supported", "model_not_supported"),
        # InternalError.Algo.X -> X when X is known
        ("InternalError.Algo.DataInspectionFailed", "DataInspectionFailed"),
        ("InternalError.Algo.InvalidParameter", "InvalidParameter"),
        ("InternalError.Algo.invalid_parameter_error", "InvalidParameter"),
        ("InternalError.Algo", "InternalError.Algo"),
        ("InternalError.Algo.SomethingNew", "InternalError.Algo.SomethingNew"),
        ("InternalError.Algo.", "InternalError.Algo."),
        # known codes unchanged, case repaired
        ("Throttling.RateQuota", "Throttling.RateQuota"),
        ("RequestTimeout", "RequestTimeOut"),
        # unknown codes unchanged but stripped
        ("  Brand.NewCode\n", "Brand.NewCode"),
        ("", None),
        ("   ", None),
        (None, None),
    ],
)
def test_native_code(raw, native):
    assert CAT.native_code(raw) == native


# -- status classes -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "category"),
    [
        (429, "request-rate"),
        (401, "auth"),
        (402, "billing"),
        (403, "permission"),
        (404, "not-found"),
        (408, "timeout"),
        (504, "timeout"),
        (400, "bad-request"),
        (413, "bad-request"),
        (430, "bad-request"),
        (500, "server-error"),
        (503, "server-error"),
        (-1, "client-side"),
        (44, "unknown"),
        (200, "unknown"),
        (5000202, "unknown"),
        (None, "unknown"),
    ],
)
def test_category_for_status(status, category):
    assert CAT.category_for_status(status) == category


@pytest.mark.parametrize(
    ("status", "category", "retryable"),
    [
        (429, "request-rate", True),
        (500, "server-error", True),
        (502, "server-error", True),
        (408, "timeout", True),
        (400, "bad-request", False),
        (403, "permission", False),
        (404, "not-found", False),
        (None, "unknown", None),
        (44, "unknown", None),
        (-1, "client-side", None),
    ],
)
def test_unknown_codes_are_classified_by_status_class(status, category, retryable):
    assert CAT.classify("Totally.NewCode", "whatever", status) == (category, retryable, None)


def test_known_code_wins_over_the_logged_status():
    # mid-stream errors: the SDK says 400 (or 200) but the code is right
    category, retryable, entry = CAT.classify("Throttling.RateQuota", None, 400)
    assert (category, retryable) == ("request-rate", True)
    assert entry is not None
    assert entry.status == 429


def test_catch_all_sdk_codes_defer_to_the_status():
    assert CAT.classify("Unknown", "<html>502 Bad Gateway</html>", 502)[:2] == (
        "server-error",
        True,
    )
    assert CAT.classify("Unknown", "Error type: <class 'X'>, message: boom", -1)[0] == "client-side"
    assert CAT.classify("Unknown", None, None)[0] == "unknown"


def test_unknown_dotted_code_without_status_falls_back_to_its_family():
    assert CAT.classify("Throttling.SomethingNew")[:2] == ("request-rate", True)
    assert CAT.classify("Throttling.SomethingNew", None, 500)[0] == "server-error"
    assert CAT.classify("Nothing.Known")[0] == "unknown"


# -- message-only logs ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("message", "code"),
    [
        ("Requests rate limit exceeded, please try again later.", "Throttling.RateQuota"),
        (
            "Error code: 429 - Requests rate limit exceeded, please try again later.",
            "Throttling.RateQuota",
        ),
        ("  requests RATE limit   exceeded, please try again later. ", "Throttling.RateQuota"),
        ("Incorrect API key provided. ", "InvalidApiKey"),
        ("You exceeded your current requests list.", "Throttling.RateQuota"),
        (
            "Request rate increased too quickly. To ensure system stability, please adjust your "
            "client logic to scale requests more smoothly over time.",
            "Throttling.BurstRate",
        ),
        (
            "Access denied, please make sure your account is in good standing. For details, see: "
            "https://help.aliyun.com/zh/model-studio/error-code#overdue-payment",
            "Arrearage",
        ),
        (
            "<400> InternalError.Algo.DataInspectionFailed: Input text data may contain "
            "inappropriate content.",
            "DataInspectionFailed",
        ),
        (
            "<400> InternalError.Algo.InvalidParameter: Range of input length should be [1, 6000]",
            "InvalidParameter",
        ),
        ("Input image data may contain inappropriate content.", "DataInspectionFailed"),
        (
            "The model `qwen-max-2099` does not exist or you do not have access to it.",
            "ModelNotFound",
        ),
        (
            "Failed to download the input file: https://example.com/a.png",
            "BadRequest.InputDownloadFailed",
        ),
        ("Access denied.", "AccessDenied"),
        ("Free allocated quota exceeded.", "Throttling.AllocationQuota"),
        (
            "No api key provided. You can set by dashscope.api_key = your_api_key in code.",
            "AuthenticationError",
        ),
    ],
)
def test_match_message(message, code):
    entry = CAT.match_message(message)
    assert entry is not None
    assert entry.code == code


@pytest.mark.parametrize(
    "message",
    [
        "",
        "   ",
        "Access denied for user 'root'@'localhost'",  # generic text: only an exact match counts
        "access denied. please log in",
        "denied",
        "quota",
        "Connection reset by peer",
        "Payload Too Large for this proxy",
        "Input data may contain",  # a fragment is not a match
    ],
)
def test_match_message_is_conservative(message):
    assert CAT.match_message(message) is None


def test_match_message_picks_the_free_tier_entry_by_its_text():
    entry = CAT.match_message("Free allocated quota exceeded.")
    assert entry is not None
    assert entry.category == "free-tier"


def test_resolve_without_code_uses_the_message_and_unknown_code_gives_none():
    entry = CAT.resolve(None, "Requests rate limit exceeded, please try again later.")
    assert entry is not None
    assert entry.code == "Throttling.RateQuota"
    assert (
        CAT.resolve("Brand.NewCode", "Requests rate limit exceeded, please try again later.")
        is None
    )
    assert CAT.resolve(None) is None


# -- doc anchors ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("anchor", "code"),
    [
        ("rate-limit", "Throttling.RateQuota"),
        ("#rate-limit", "Throttling.RateQuota"),
        ("#token-limit", "Throttling.AllocationQuota"),
        ("apikey-error", "InvalidApiKey"),
        ("#overdue-payment", "Arrearage"),
        ("inappropriate-content", "DataInspectionFailed"),
        ("error-url", "InvalidURL"),
        ("https://help.aliyun.com/zh/model-studio/error-code#Rate-Limit", "Throttling.RateQuota"),
        ("#no-such-anchor", None),
        ("", None),
        (None, None),
    ],
)
def test_code_for_anchor(anchor, code):
    assert CAT.code_for_anchor(anchor) == code


# -- entries as data ------------------------------------------------------------------------------


def test_to_dict_has_the_contract_keys():
    keys = {
        "code",
        "status",
        "message",
        "messages",
        "meaning_zh",
        "meaning_en",
        "category",
        "retryable",
        "retry",
        "actor",
        "advice_zh",
        "advice_en",
        "aliases",
        "reference",
    }
    for e in CAT.entries:
        d = e.to_dict()
        assert keys <= set(d)
        assert isinstance(d["messages"], list)
        assert isinstance(d["aliases"], list)


def test_default_catalogue_is_loaded_once():
    assert load_catalogue() is load_catalogue()
    assert isinstance(load_catalogue(), Catalogue)


# -- malformed catalogues -------------------------------------------------------------------------

CATEGORIES = "\n".join(
    f'[categories.{cid}]\nlabel_en = "L"\nlabel_zh = "標"\ndescription_en = "D"\n'
    f'description_zh = "述"\nthrottling = {"true" if cid == "request-rate" else "false"}\n'
    for cid in CATEGORY_IDS
)

GOOD_ENTRY = """
[[codes]]
code = "{code}"
status = 429
message = "{message}"
meaning_zh = "限流"
meaning_en = "Throttled."
category = "request-rate"
retryable = true
retry = "backoff"
actor = "caller"
advice_zh = "退避"
advice_en = "Back off."
aliases = [{aliases}]
source = "docs"
"""


def entry_toml(code: str = "Throttling", message: str = "m", aliases: str = "") -> str:
    return GOOD_ENTRY.format(code=code, message=message, aliases=aliases)


def catalogue_toml(*entries: str, anchors: str = "") -> str:
    return CATEGORIES + (f"\n[anchors]\n{anchors}\n" if anchors else "") + "".join(entries)


def test_a_minimal_catalogue_loads(tmp_path: Path):
    path = tmp_path / "codes.toml"
    path.write_text(catalogue_toml(entry_toml(), anchors='rate-limit = "Throttling"'), "utf-8")
    cat = load_catalogue(path)
    assert [e.code for e in cat.entries] == ["Throttling"]
    assert cat.code_for_anchor("#rate-limit") == "Throttling"


def broken(field_line: str, replacement: str) -> str:
    second = entry_toml("Throttling.RateQuota", "n")
    assert field_line in second
    return catalogue_toml(entry_toml(), second.replace(field_line, replacement))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            broken('advice_en = "Back off."\n', ""),
            ["codes[1] (Throttling.RateQuota)", "advice_en", "missing"],
        ),
        (
            broken("retryable = true", 'retryable = "yes"'),
            ["codes[1] (Throttling.RateQuota)", "retryable"],
        ),
        (
            broken("status = 429", 'status = "429"'),
            ["codes[1] (Throttling.RateQuota)", "status", "integer"],
        ),
        (broken("status = 429", "status = true"), ["codes[1]", "status", "integer"]),
        (
            broken('category = "request-rate"', 'category = "throttle"'),
            ["codes[1] (Throttling.RateQuota)", "category", "unknown category 'throttle'"],
        ),
        (broken('actor = "caller"', 'actor = "me"'), ["codes[1]", "actor", "unknown actor"]),
        (broken('source = "docs"', 'source = "blog"'), ["codes[1]", "source"]),
        (broken('retry = "backoff"', 'retry = ""'), ["codes[1]", "retry", "non-empty"]),
        (
            broken('retry = "backoff"', 'retry = "backoff"\nretriable = true'),
            ["codes[1]", "retriable"],
        ),
        (
            broken("aliases = []", "aliases = [1]"),
            ["codes[1]", "aliases", "list of non-empty strings"],
        ),
        (broken("aliases = []", 'aliases = ["Throttling"]'), ["codes[1]", "aliases", "codes[0]"]),
        (broken("aliases = []", 'aliases = ["THROTTLING"]'), ["codes[1]", "aliases", "codes[0]"]),
        (
            catalogue_toml(entry_toml(), entry_toml()),
            [
                "codes[1] (Throttling)",
                "messages",
                "duplicate code without distinct messages",
                "codes[0]",
            ],
        ),
        (
            broken('code = "Throttling.RateQuota"', 'code = "throttling"'),
            ["codes[1] (throttling)", "code", "differs only in case"],
        ),
        (
            broken('message = "n"', 'message = "n"\nmessages = ["n"]'),
            ["codes[1]", "messages", "listed twice"],
        ),
        (
            broken('code = "Throttling.RateQuota"', "code = 7"),
            ["codes[1]", "code", "expected a string"],
        ),
    ],
)
def test_malformed_entry_names_the_entry_and_the_field(
    tmp_path: Path, text: str, expected: list[str]
):
    path = tmp_path / "codes.toml"
    path.write_text(text, "utf-8")
    with pytest.raises(CatalogueError) as excinfo:
        load_catalogue(path)
    message = str(excinfo.value)
    assert str(path) in message
    for part in expected:
        assert part in message, message


def test_duplicate_code_error_carries_structured_fields():
    text = catalogue_toml(entry_toml(message="same"), entry_toml(message="SAME"))
    with pytest.raises(CatalogueError) as excinfo:
        parse_catalogue(text)
    assert (excinfo.value.index, excinfo.value.code, excinfo.value.field) == (
        1,
        "Throttling",
        "messages",
    )


def test_shared_code_needs_a_message_on_every_entry():
    text = catalogue_toml(entry_toml(message="one"), entry_toml(message=""))
    with pytest.raises(CatalogueError, match=r"codes\[1\] \(Throttling\).*message.*duplicate code"):
        parse_catalogue(text)


def test_alias_declared_twice():
    text = catalogue_toml(
        entry_toml(aliases='"limit_requests"'),
        entry_toml("Throttling.RateQuota", aliases='"limit_requests"'),
    )
    with pytest.raises(CatalogueError, match=r"codes\[1\].*aliases.*also declared by codes\[0\]"):
        parse_catalogue(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            catalogue_toml(entry_toml(), anchors='rate-limit = "Nowhere"'),
            "anchor 'rate-limit' points to 'Nowhere'",
        ),
        (CATEGORIES, "missing [[codes]]"),
        (
            CATEGORIES.replace("[categories.burst]", "[categories.bursty]"),
            "unknown category id 'bursty'",
        ),
        (
            CATEGORIES.replace('label_en = "L"\n', "", 1) + entry_toml(),
            "category 'request-rate': missing field 'label_en'",
        ),
        (
            CATEGORIES.replace("throttling = true", 'throttling = "yes"') + entry_toml(),
            "category 'request-rate': field 'throttling'",
        ),
        (entry_toml(), "missing [categories]"),
        ("extra = 1\n" + catalogue_toml(entry_toml()), "unknown top-level key"),
        ("[categories\n", "not valid TOML"),
        (
            catalogue_toml(
                entry_toml(), entry_toml("X").replace('source = "docs"', 'source = "reference"')
            ),
            "codes[1] (X): field 'source': reference-table rows must come first",
        ),
    ],
)
def test_malformed_catalogue(text: str, expected: str):
    with pytest.raises(CatalogueError) as excinfo:
        parse_catalogue(text)
    assert expected in str(excinfo.value)


def test_missing_file(tmp_path: Path):
    with pytest.raises(CatalogueError, match="no such file"):
        load_catalogue(tmp_path / "absent.toml")


# -- never raise on log input --------------------------------------------------------------------

fragments = st.sampled_from(
    [
        *CAT.codes,
        "InternalError.Algo.",
        "<400> ",
        ": ",
        " For details, see: https://x#rate-limit",
        "Error code: 429 - ",
        "xxx",
        "${url}",
        "\x00",
        "（）！",
        *[m for e in CAT.entries for m in e.messages],
    ]
)
log_text = st.one_of(st.none(), st.text(), st.lists(fragments | st.text(max_size=5)).map("".join))
statuses = st.one_of(st.none(), st.integers(), st.booleans(), st.floats(allow_nan=True))


@given(log_text, log_text, statuses)
def test_lookups_never_raise(code, message, status):
    category, retryable, entry = CAT.classify(code, message, status)
    assert category in CAT.categories
    assert retryable in (True, False, None)
    assert entry is None or isinstance(entry, CodeEntry)
    resolved = CAT.resolve(code, message, status)
    assert resolved is None or isinstance(resolved, CodeEntry)
    native = CAT.native_code(code)
    assert native is None or (isinstance(native, str) and native == native.strip() and native)
    assert CAT.category_for_status(status) in CAT.categories
    if message is not None:
        CAT.match_message(message)
        CAT.code_for_anchor(message)


@given(st.one_of(st.integers(), st.floats(), st.lists(st.integers()), st.binary()))
def test_lookups_tolerate_non_text(value):
    assert CAT.classify(value, value, value)[0] in CAT.categories  # type: ignore[arg-type]
    assert CAT.native_code(value) is None  # type: ignore[arg-type]
    assert CAT.match_message(value) is None  # type: ignore[arg-type]


# -- README block ---------------------------------------------------------------------------------


def test_markdown_lists_every_entry():
    text = render_catalogue_markdown(CAT)
    rows = [line for line in text.splitlines() if line.startswith("| ") and "`" in line]
    assert len(rows) == len(CAT.entries)
    for e in CAT.entries:
        assert f"`{e.code}`" in text
        assert e.meaning_zh.replace("|", "\\|") in text


def test_replace_block_round_trip():
    doc = f"# Title\n\nintro\n{BEGIN}\nold\n{END}\nafter\n"
    block = render_catalogue_markdown(CAT)
    updated = replace_block(doc, block)
    assert extract_block(updated) == block
    assert updated.startswith(f"# Title\n\nintro\n{BEGIN}\n")
    assert updated.endswith(f"{END}\nafter\n")
    assert replace_block(updated, block) == updated
    with pytest.raises(ValueError, match="markers"):
        replace_block("no markers here\n", block)


def test_markdown_command_rewrites_and_checks_the_block(tmp_path: Path):
    readme = tmp_path / "README.md"
    readme.write_text(f"# Project\n\n{BEGIN}\nstale\n{END}\n\nmore\n", "utf-8")
    assert main([str(readme), "--check"]) == 1
    assert main([str(readme)]) == 0
    text = readme.read_text("utf-8")
    assert extract_block(text) == render_catalogue_markdown(CAT)
    assert text.endswith(f"{END}\n\nmore\n")
    assert main([str(readme), "--check"]) == 0
    readme.write_text("no markers\n", "utf-8")
    assert main([str(readme)]) == 1
    assert main([]) == 2


def test_readme_shows_the_current_catalogue(repo: Path):
    readme = repo / "README.md"
    if not readme.is_file():
        pytest.skip("README.md does not exist yet (the catalogue block goes between its markers)")
    block = extract_block(readme.read_text(encoding="utf-8"))
    assert block is not None, f"README.md lacks the lines {BEGIN} and {END}"
    assert block == render_catalogue_markdown(CAT), (
        "README.md's catalogue block is out of date: run "
        "`.venv/bin/python -m ingest.catalog.markdown README.md`"
    )
