"""Secrets and personal data out of log text: pure functions over strings (issue #7, "Privacy").

What goes:

- DashScope API keys (``sk-...``) become ``sk-…a1b2c3``: a salted SHA-256 prefix of the key, the
  same for the same key in every run, so per-key breakdowns (which key is throttled?) still work;
- ``Authorization:`` header values and ``Bearer`` tokens (a key inside keeps its short hash);
- ``api_key=...``-style assignments of other secrets;
- e-mail addresses (``[email]``) and mainland mobile numbers, ``1[3-9]`` + 9 digits (``[phone]``);
- with ``hide_bodies``: the text of prompt and response fields (``"content": "..."``), for the
  raw log lines the dashboard lists as unparsed.

Every pattern is linear: each starts at a literal or at the start of a run (a look-behind stops
a match from being tried at every position inside a long word), so a hostile 50 MB line costs
time proportional to its length. Redaction is idempotent: redacted text contains nothing the
patterns match again.
"""

from __future__ import annotations

import hashlib
import os
import re

#: the salt of the key hash; set DASHSCOPE_LOGS_REDACT_SALT to make labels unlinkable elsewhere
SALT = os.environ.get("DASHSCOPE_LOGS_REDACT_SALT", "dashscope-log-lens")
HASH_CHARS = 6

_KEY = r"sk-[A-Za-z0-9][A-Za-z0-9_\-]{7,}"
#: not after a letter: "risk-assessment-model" holds no key
API_KEY = re.compile(rf"(?<![A-Za-z]){_KEY}")
#: ``Authorization: Bearer x`` / ``"Authorization": "x"`` / ``authorization=x``
AUTH_HEADER = re.compile(
    r"""(?i)(?<![\w\-])(?P<head>(?:proxy-)?authorization["']?\s*[:=]\s*["']?)"""
    r"""(?:(?P<scheme>bearer|basic|token)\s+)?(?P<token>[^\s"',;)}\]]+)"""
)
BEARER = re.compile(r"(?i)(?<![\w\-])(?P<head>bearer\s+)(?P<token>[A-Za-z0-9._~+/=\-]{6,})")
SECRET_ASSIGNMENT = re.compile(
    r"""(?i)(?<![\w\-])(?P<head>(?:dashscope_)?(?:api[_\-]?key|access[_\-]?key[_\-]?secret|"""
    r"""secret[_\-]?key|client[_\-]?secret|password)["']?\s*[:=]\s*["']?)"""
    r"""(?P<token>[^\s"',;)}\]]{6,})"""
)
EMAIL = re.compile(
    # "]" too: text right after an earlier "[email]" label must not become a new address
    r"(?<![A-Za-z0-9._%+\-\]])[A-Za-z0-9._%+\-]{1,64}@[A-Za-z0-9\-]{1,63}(?:\.[A-Za-z0-9\-]{1,63})+"
)
MOBILE = re.compile(r"(?<![\w\-+])(?:\+?86[\- ]?)?1[3-9]\d{9}(?![\w\-])")
#: prompt / response text inside a structured body (JSON or a Python repr)
BODY_FIELD = re.compile(
    r"""(?P<head>["'](?:content|prompt|text|query|input_text|output_text|reasoning_content)["']"""
    r"""\s*:\s*)(?P<q>["'])(?:\\.|(?!(?P=q))[^\\\n])*(?P=q)"""
)

REDACTED = "[redacted]"
EMAIL_LABEL = "[email]"
PHONE_LABEL = "[phone]"
BODY_LABEL = "…"


def key_label(key: str) -> str:
    """``sk-…`` and a short salted hash of the whole key: stable, not reversible."""
    digest = hashlib.sha256((SALT + "\0" + key).encode("utf-8")).hexdigest()
    return "sk-…" + digest[:HASH_CHARS]


def _key(m: re.Match[str]) -> str:
    return key_label(m.group())


def _token(m: re.Match[str]) -> str:
    token = m.group("token")
    if token.startswith(("sk-…", "[")):
        return m.group()  # already redacted
    label = key_label(token) if API_KEY.fullmatch(token) else REDACTED
    scheme = m.groupdict().get("scheme")
    head = m.group("head") + (scheme + " " if scheme else "")
    return head + label


def _assignment(m: re.Match[str]) -> str:
    token = m.group("token")
    if token.startswith(("sk-…", "[")):
        return m.group()
    return m.group("head") + (key_label(token) if API_KEY.fullmatch(token) else REDACTED)


def redact(text: str) -> str:
    """``text`` without API keys, auth headers, secrets, e-mail addresses or mobile numbers."""
    if not text:
        return text
    if "sk-" in text:
        text = API_KEY.sub(_key, text)
    lowered = text.lower()
    if "authorization" in lowered:
        text = AUTH_HEADER.sub(_token, text)
    if "bearer" in lowered:
        text = BEARER.sub(_token, text)
    if any(w in lowered for w in ("key", "secret", "password")):
        text = SECRET_ASSIGNMENT.sub(_assignment, text)
    if "@" in text:
        text = EMAIL.sub(EMAIL_LABEL, text)
    if any(c in text for c in "3456789"):
        text = MOBILE.sub(PHONE_LABEL, text)
    return text


def hide_bodies(text: str) -> str:
    """Prompt and response text of structured bodies replaced by ``…`` (field names stay)."""
    if ":" not in text:
        return text
    return BODY_FIELD.sub(
        lambda m: m.group("head") + m.group("q") + BODY_LABEL + m.group("q"), text
    )


def redact_line(text: str) -> str:
    """A raw log line as the dashboard and the CLI may show it: redacted, bodies hidden."""
    return hide_bodies(redact(text))
