"""llama-index-llms-dashscope against the fake native endpoint.

The wrapper raises nothing on an HTTP error: it returns an empty answer whose ``raw`` is the
SDK response. An app that notices the empty text logs ``response.raw`` (the only way the error
reaches a log). Run by hand (README.md).
"""

from __future__ import annotations

import logging

from _capture import capture, plan

from tests.clients.fake_dashscope import OK, err

NOTES = (
    "DashScope(model_name=...).complete/chat: non-200 responses become an empty "
    "CompletionResponse / ChatResponse with raw=<the SDK response>; no exception, no log. The "
    "app logs a WARNING with resp.raw when the text is empty."
)

with capture(
    "llama-index-dashscope", ("llama-index-llms-dashscope", "llama-index-core", "dashscope"), NOTES
) as server:
    import dashscope
    from llama_index.core.llms import ChatMessage
    from llama_index.llms.dashscope import DashScope

    dashscope.base_http_api_url = server.native_base
    log = logging.getLogger("rag")
    llm = DashScope(model_name="qwen-plus", api_key="sk-test")

    def complete() -> None:
        resp = llm.complete("用一句话介绍你自己。")
        if resp.text:
            log.info("answer: %s", resp.text)
        else:
            log.warning("empty answer from qwen-plus: %s", resp.raw)

    def chat() -> None:
        resp = llm.chat([ChatMessage(role="user", content="用一句话介绍你自己。")])
        if resp.message.content:
            log.info("answer: %s", resp.message.content)
        else:
            log.error("empty chat answer, raw=%r", resp.raw)

    plan(server, [OK])
    complete()
    plan(server, [err(429, "Throttling.RateQuota")])
    complete()
    plan(server, [err(401, "InvalidApiKey")])
    chat()
    plan(server, [err(400, "DataInspectionFailed")])
    complete()
    plan(server, [OK])
    chat()
    plan(server, [err(500, "InternalError")])
    chat()
