"""LangChain ChatOpenAI (langchain-openai) on the OpenAI-compatible endpoint of the fake server.

The app logs at INFO (so httpx's per-attempt lines and openai's ``Retrying request`` lines are
there), lets the openai SDK retry once (``max_retries=1``), and reports the final failure with
``logger.exception``, ``logger.error("...: %s", e)`` or ``print(e)``. Run by hand (README.md).
"""

from __future__ import annotations

import logging

from _capture import capture, plan

from tests.clients.fake_dashscope import OK, err

NOTES = (
    "ChatOpenAI(base_url=<compatible-mode>, max_retries=1): the openai SDK retries 429/5xx once "
    "(an httpx INFO line per attempt, an openai INFO 'Retrying request' line per retry); the "
    "final error is openai.<Class>: 'Error code: <status> - <message>' in openai 3.x (no body, "
    "no code, no request id)."
)

with capture(
    "langchain-openai", ("langchain-openai", "langchain-core", "openai", "httpx"), NOTES
) as server:
    from langchain_openai import ChatOpenAI

    log = logging.getLogger("assistant")
    chat = ChatOpenAI(
        model="qwen-plus", base_url=server.compat_base, api_key="sk-test", max_retries=1
    )

    def ask(how: str, stream: bool = False) -> None:
        try:
            if stream:
                text = "".join(str(c.content) for c in chat.stream("用一句话介绍你自己。"))
            else:
                text = str(chat.invoke("用一句话介绍你自己。").content)
            log.info("answer: %s", text)
        except Exception as e:
            if how == "exception":
                log.exception("chat call failed: %s", e)
            elif how == "error":
                log.error("chat call failed: %s", e)
            else:
                print(f"LLM error: {e}")

    plan(server, [OK])
    ask("exception")
    plan(server, [err(429, "Throttling.RateQuota"), OK])  # retried once, then answered
    ask("exception")
    plan(server, [err(401, "InvalidApiKey")])
    ask("exception")
    plan(server, [err(400, "DataInspectionFailed")])
    ask("error")
    plan(server, [err(500, "InternalError"), err(500, "InternalError")])  # gives up
    ask("exception")
    plan(server, [err(429, "Throttling.AllocationQuota"), err(429, "Throttling.AllocationQuota")])
    ask("print", stream=True)
    plan(server, [err(400, "Arrearage")])
    ask("print")
