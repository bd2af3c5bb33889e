"""Send alerts: generic JSON, DingTalk, Feishu/Lark, WeCom and Slack webhooks (stdlib urllib).

Each builder returns the URL and the JSON body its service documents:

- json: the alert itself (``Alert.to_dict()``) plus ``"text"``.
- DingTalk custom robot: ``{"msgtype": "markdown", "markdown": {"title", "text"}}``; with a
  secret, ``&timestamp=<ms>&sign=<urlencode(base64(HMAC-SHA256(key=secret,
  msg=f"{timestamp}\\n{secret}")))>`` is appended to the URL.
- Feishu / Lark custom bot: ``{"msg_type": "interactive", "card": ...}``; with a secret, the body
  carries ``timestamp`` (seconds) and ``sign = base64(HMAC-SHA256(key=f"{timestamp}\\n{secret}",
  msg=b""))``.
- WeCom group robot: ``{"msgtype": "markdown", "markdown": {"content"}}``.
- Slack incoming webhook: ``{"text", "blocks"}``.

Delivery retries with exponential backoff; a 2xx answer is success (DingTalk, Feishu and WeCom
also answer 200 with a non-zero ``errcode``/``code`` on a refused message: that counts as a
failure and is retried).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ingest.monitor.engine import Alert

_ICON = {"critical": "🔴", "warning": "🟠", "info": "🔵"}


def guess_type(url: str) -> str:
    """The webhook kind from its host (json when unknown)."""
    host = urllib.parse.urlsplit(url).hostname or ""
    if host.endswith("dingtalk.com"):
        return "dingtalk"
    if host.endswith(("feishu.cn", "larksuite.com")):
        return "feishu"
    if host.endswith("qyapi.weixin.qq.com"):
        return "wecom"
    if host.endswith("hooks.slack.com"):
        return "slack"
    return "json"


def headline(alert: Alert) -> str:
    icon = "✅" if alert.kind == "resolved" else _ICON.get(alert.severity, "")
    state = "RESOLVED" if alert.kind == "resolved" else alert.severity.upper()
    group = f" [{alert.group}]" if alert.group else ""
    return f"{icon} [{state}] {alert.title}{group}".strip()


def plain_text(alert: Alert) -> str:
    return f"{headline(alert)}\n{alert.text}\n{alert.at}"


def markdown(alert: Alert) -> str:
    lines = [f"### {headline(alert)}", "", alert.text, "", f"- rule: `{alert.rule}`"]
    if alert.group:
        lines.append(f"- group: {alert.group}")
    lines += [f"- since: {alert.started}", f"- at: {alert.at}"]
    return "\n".join(lines)


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """DingTalk: base64(HMAC-SHA256(secret, "timestamp\\nsecret")), URL-encoded."""
    to_sign = f"{timestamp_ms}\n{secret}".encode()
    digest = hmac.new(secret.encode(), to_sign, hashlib.sha256).digest()
    return urllib.parse.quote_plus(base64.b64encode(digest).decode())


def feishu_sign(secret: str, timestamp_s: int) -> str:
    """Feishu/Lark: base64(HMAC-SHA256(key="timestamp\\nsecret", msg=empty))."""
    key = f"{timestamp_s}\n{secret}".encode()
    digest = hmac.new(key, b"", hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def build(
    kind: str, url: str, alert: Alert, secret: str | None = None, now: float | None = None
) -> tuple[str, dict[str, Any]]:
    """(url, body) of one notification."""
    now = time.time() if now is None else now
    if kind == "dingtalk":
        body: dict[str, Any] = {
            "msgtype": "markdown",
            "markdown": {"title": headline(alert), "text": markdown(alert)},
        }
        if secret:
            ts = int(now * 1000)
            sep = "&" if "?" in url else "?"
            url = f"{url}{sep}timestamp={ts}&sign={dingtalk_sign(secret, ts)}"
        return url, body
    if kind == "feishu":
        template = (
            "green"
            if alert.kind == "resolved"
            else {
                "critical": "red",
                "warning": "orange",
            }.get(alert.severity, "blue")
        )
        body = {
            "msg_type": "interactive",
            "card": {
                "header": {
                    "title": {"tag": "plain_text", "content": headline(alert)},
                    "template": template,
                },
                "elements": [
                    {"tag": "div", "text": {"tag": "lark_md", "content": alert.text}},
                    {
                        "tag": "note",
                        "elements": [
                            {"tag": "plain_text", "content": f"{alert.rule} · {alert.at}"}
                        ],
                    },
                ],
            },
        }
        if secret:
            ts = int(now)
            body = {"timestamp": str(ts), "sign": feishu_sign(secret, ts), **body}
        return url, body
    if kind == "wecom":
        return url, {"msgtype": "markdown", "markdown": {"content": markdown(alert)}}
    if kind == "slack":
        return url, {
            "text": plain_text(alert),
            "blocks": [
                {"type": "header", "text": {"type": "plain_text", "text": headline(alert)[:150]}},
                {"type": "section", "text": {"type": "mrkdwn", "text": alert.text}},
                {
                    "type": "context",
                    "elements": [{"type": "mrkdwn", "text": f"`{alert.rule}` · {alert.at}"}],
                },
            ],
        }
    return url, {**alert.to_dict(), "text": plain_text(alert)}


@dataclass(frozen=True)
class Webhook:
    kind: str
    url: str
    secret: str | None = None

    def send(
        self,
        alert: Alert,
        *,
        attempts: int = 4,
        backoff: float = 1.0,
        timeout: float = 10.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> tuple[bool, str]:
        """Deliver with retries; (delivered, last answer or error)."""
        last = ""
        for attempt in range(attempts):
            # re-signed on every attempt: DingTalk and Feishu refuse timestamps over an hour old
            url, body = build(self.kind, self.url, alert, self.secret)
            data = json.dumps(body, ensure_ascii=False).encode()
            request = urllib.request.Request(
                url, data=data, headers={"Content-Type": "application/json; charset=utf-8"}
            )
            try:
                with urllib.request.urlopen(request, timeout=timeout) as resp:
                    answer = resp.read(4096).decode("utf-8", errors="replace")
                ok, last = _accepted(answer)
                if ok:
                    return True, last
            except urllib.error.HTTPError as exc:
                last = f"HTTP {exc.code}"
                if 400 <= exc.code < 500 and exc.code != 429:
                    return False, last
            except (urllib.error.URLError, OSError) as exc:
                last = str(exc)
            if attempt + 1 < attempts:
                sleep(backoff * (2**attempt))
        return False, last


def _accepted(answer: str) -> tuple[bool, str]:
    try:
        data = json.loads(answer) if answer.strip() else {}
    except ValueError:
        return True, answer[:200]
    if isinstance(data, dict):
        for key in ("errcode", "code", "StatusCode"):
            if key in data and data[key] not in (0, "0"):
                return False, answer[:200]
    return True, answer[:200]
