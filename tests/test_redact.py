"""ingest.redact: keys hashed stably; headers, e-mails, mobile numbers gone; linear; idempotent."""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.redact import (
    API_KEY,
    AUTH_HEADER,
    BEARER,
    BODY_FIELD,
    EMAIL,
    MOBILE,
    SECRET_ASSIGNMENT,
    hide_bodies,
    key_label,
    redact,
    redact_line,
)

KEY = "sk-0123456789abcdef0123456789abcdef"
OTHER_KEY = "sk-fedcba9876543210fedcba9876543210"


@pytest.mark.parametrize(
    ("text", "gone", "kept"),
    [
        (f"Invalid API-key provided: {KEY}.", KEY, key_label(KEY)),
        (f"Authorization: Bearer {KEY}", KEY, "Authorization: Bearer sk-…"),
        ("{'Authorization': 'Bearer eyJhbGciOi.abc.def'}", "eyJhbGciOi", "Bearer [redacted]"),
        ('"authorization": "Basic dXNlcjpwYXNz"', "dXNlcjpwYXNz", "[redacted]"),
        ("headers={'Authorization': 'secret-token-1'}", "secret-token-1", "[redacted]"),
        ("api_key=abcd1234efgh retries=3", "abcd1234efgh", "api_key=[redacted] retries=3"),
        (f"DASHSCOPE_API_KEY={KEY}", KEY, "DASHSCOPE_API_KEY=sk-…"),
        ("contact zhang.san+ops@example.com.cn now", "zhang.san", "contact [email] now"),
        ("call 13812345678 or +86 13912345678", "3812345678", "call [phone] or [phone]"),
        ("手机:15000000000，谢谢", "15000000000", "手机:[phone]，谢谢"),
    ],
)
def test_secrets_are_redacted(text: str, gone: str, kept: str) -> None:
    out = redact(text)
    assert gone not in out
    assert kept in out


@pytest.mark.parametrize(
    "text",
    [
        "request_id: 7a138123456789-9d0e",  # a 13... run inside an id is not a phone
        "x13812345678",
        "ts=1738123456789 took 13812345678901 ns",
        "model=qwen-plus status=429 code=Throttling.RateQuota",
        "task-sk-1234",  # a word that contains sk- is not a key
        "risk-assessment-model failed",
        "see https://help.aliyun.com/zh/model-studio/error-code#rate-limit",
    ],
)
def test_ordinary_log_text_is_left_alone(text: str) -> None:
    assert redact(text) == text


def test_keys_become_a_stable_short_hash() -> None:
    a, b = key_label(KEY), key_label(OTHER_KEY)
    assert a != b
    assert a == key_label(KEY)  # stable: per-key breakdowns still work
    assert a.startswith("sk-…")
    assert len(a) == len("sk-…") + 6
    assert redact(f"{KEY} then {OTHER_KEY} then {KEY}") == f"{a} then {b} then {a}"


def test_prompt_and_response_bodies_are_hidden_in_raw_lines() -> None:
    line = (
        "DEBUG - Request body: {'model': 'qwen-plus', 'input': {'messages': "
        "[{'role': 'user', 'content': '我的身份证号是 110101199003071234'}]}}"
    )
    out = redact_line(line)
    assert "身份证" not in out
    assert "'content': '…'" in out
    assert "'model': 'qwen-plus'" in out
    assert hide_bodies('{"text": "a \\"quoted\\" prompt"}') == '{"text": "…"}'


@settings(deadline=None, max_examples=200, derandomize=True)
@given(
    st.lists(
        st.one_of(
            st.text(max_size=20),
            st.sampled_from(
                [KEY, "Bearer ", "Authorization: ", "api_key=", "@", "a.b@c.cn", "13812345678"]
            ),
            st.sampled_from(['"content": "', "'", '"', "\\", " ", "+86 ", "sk-", "[", "]"]),
        ),
        max_size=20,
    ).map("".join)
)
def test_redaction_is_idempotent_and_never_raises(text: str) -> None:
    once = redact_line(text)
    assert redact_line(once) == once
    # a key glued to a letter ("risk-...") is a word, not a key
    assert all(once[i - 1 : i].isalpha() for i in _find_all(once, KEY))


def _find_all(text: str, needle: str) -> list[int]:
    out, i = [], text.find(needle)
    while i != -1:
        out.append(i)
        i = text.find(needle, i + 1)
    return out


ADVERSARIAL = {
    "api_key": (API_KEY, "sk-" + "a" * 7 + "-"),
    "auth_header": (AUTH_HEADER, "authorization: " + "x"),
    "bearer": (BEARER, "bearer " + "a"),
    "secret": (SECRET_ASSIGNMENT, "api_key=" + "a"),
    "email_local": (EMAIL, "a" * 64 + "."),
    "email_domain": (EMAIL, "a@" + "b" * 60 + "."),
    "mobile": (MOBILE, "1381234567"),
    "body": (BODY_FIELD, "'content': '" + "\\x"),
}


def _seconds(pattern: object, text: str) -> float:
    best = float("inf")
    for _ in range(5):  # the best of five: a loaded machine only ever adds time
        start = time.perf_counter()
        for _m in pattern.finditer(text):  # type: ignore[attr-defined]
            pass
        best = min(best, time.perf_counter() - start)
    return best


@pytest.mark.parametrize("name", sorted(ADVERSARIAL))
def test_every_pattern_is_linear(name: str) -> None:
    pattern, unit = ADVERSARIAL[name]
    # big enough that a run takes milliseconds (microsecond timings are mostly noise)
    small = unit * (200_000 // len(unit))
    t1 = _seconds(pattern, small)
    t2 = _seconds(pattern, small * 2)
    assert t2 / max(t1, 1e-3) < 3, (name, t1, t2)
