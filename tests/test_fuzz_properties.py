"""Hypothesis properties per format and for redaction (tests/test_properties.py covers arbitrary
text, bytes, normalize on raw dicts and the export round trips; this file does not repeat them).

For every format: its samples, mutated (text spliced in, cut, repeated, line ends changed,
encoded differently), never make the parser raise, keep the line accounting, parse the same way
twice, and never let a planted API key, e-mail or mobile number through to the events or the
report.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.catalog import load_catalogue
from ingest.formats import registry
from ingest.normalize import normalize
from ingest.pipeline import load_events
from ingest.redact import redact

CAT = load_catalogue()
FORMATS = registry()
SAMPLES = [s.text for f in FORMATS for s in f.samples]
KEY = "sk-0123456789abcdef0123456789abcdef"
SECRETS = [KEY, "zhang.san@example.com", "13812345678", f"Authorization: Bearer {KEY}"]
FAST = settings(
    deadline=None, max_examples=25, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)


@st.composite
def mutated_sample(draw: Any) -> str:
    text = draw(st.sampled_from(SAMPLES))
    for _ in range(draw(st.integers(0, 3))):
        op = draw(st.sampled_from(["insert", "cut", "repeat", "crlf", "cr", "secret"]))
        i = draw(st.integers(0, len(text)))
        if op == "insert":
            text = text[:i] + draw(st.text(max_size=20)) + text[i:]
        elif op == "cut":
            text = text[:i]
        elif op == "repeat":
            text = text + "\n" + text
        elif op == "crlf":
            text = text.replace("\n", "\r\n")
        elif op == "cr":
            text = text.replace("\n", "\r")
        else:
            text = text[:i] + " " + draw(st.sampled_from(SECRETS)) + " " + text[i:]
    return text


encodings = st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "gb18030"])


def _encode(text: str, encoding: str) -> bytes:
    return text.encode(encoding, errors="replace")


@FAST
@given(mutated_sample(), encodings)
def test_mutated_samples_never_raise_balance_and_repeat(text: str, encoding: str) -> None:
    data = _encode(text, encoding)
    if data[:4] == b"PK\x03\x04":
        return
    first, r1 = load_events(("mutant.log", data), workers=1)
    second, r2 = load_events(("mutant.log", data), workers=1)
    for f in r1.files:
        assert f.balanced, (f.lines_read, f.lines_in_events, f.ignored, f.unparsed)
    pd.testing.assert_frame_equal(first, second)
    assert r1.to_dict() == r2.to_dict()


@FAST
@given(mutated_sample(), st.sampled_from(SECRETS))
def test_planted_secrets_never_reach_events_or_report(text: str, secret: str) -> None:
    lines = text.split("\n")
    lines[0] = lines[0] + f" message: failed for {secret}"
    data = "\n".join(lines).encode()
    events, report = load_events(("secret.log", data), workers=1)
    shown = " ".join(events["message"].dropna().astype(str))
    shown += " ".join(t for _s, _n, t in report.unparsed_examples)
    for needle in (KEY, "zhang.san@example.com", "13812345678"):
        assert needle not in shown


@FAST
@given(st.sampled_from(FORMATS), st.data())
def test_each_formats_samples_parse_the_same_after_redaction(fmt: Any, data: Any) -> None:
    """Samples hold no secrets: redaction changes none of their events (it is not lossy)."""
    sample = data.draw(st.sampled_from(fmt.samples))
    events, _ = load_events(("s.log", sample.text.encode()), workers=1)
    for message in events["message"].dropna().astype(str):
        assert redact(message) == message


@FAST
@given(
    st.fixed_dictionaries(
        {
            "status": st.sampled_from(["401", "429", "500", None]),
            "code": st.sampled_from(["InvalidApiKey", "Throttling.RateQuota", None]),
            "message": st.one_of(st.text(max_size=40), st.sampled_from(SECRETS)).map(
                lambda m: f"Invalid API-key provided: {m}"
            ),
        }
    )
)
def test_normalize_redacts_and_is_stable(raw: dict[str, Any]) -> None:
    once = normalize(dict(raw), CAT)
    again = normalize(dict(raw), CAT)
    assert once == again
    message = once.get("message") or ""
    assert KEY not in message
    assert redact(message) == message  # idempotent: nothing left to redact
