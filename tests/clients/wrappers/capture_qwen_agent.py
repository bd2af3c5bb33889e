"""Qwen-Agent's DashScope model (``model_server: dashscope``) against the fake native endpoint.

Qwen-Agent retries a ModelServiceError itself (``max_retries`` in generate_cfg) and logs each
failed attempt as WARNING 'ModelServiceError - Error code: X. Error message: Y'; after the
last retry it raises 'Maximum number of retries (N) exceeded.' without the code. The app logs
the final error with ``logger.exception`` or ``print``. Run by hand (README.md).
"""

from __future__ import annotations

import logging

from _capture import capture, plan

from tests.clients.fake_dashscope import OK, err

NOTES = (
    "get_chat_model({'model': 'qwen-plus', 'model_server': 'dashscope', 'generate_cfg': "
    "{'max_retries': 1}}).chat(stream=False). 400-ish codes (DataInspectionFailed, code '400') "
    "are not retried; others are retried once with a WARNING per failed attempt."
)

with capture("qwen-agent", ("qwen-agent", "dashscope"), NOTES) as server:
    import dashscope
    from qwen_agent.llm import get_chat_model

    dashscope.base_http_api_url = server.native_base
    log = logging.getLogger("agent")
    llm = get_chat_model(
        {
            "model": "qwen-plus",
            "model_server": "dashscope",
            "api_key": "sk-test",
            "generate_cfg": {"max_retries": 1, "use_raw_api": False},
        }
    )
    msgs = [{"role": "user", "content": "用一句话介绍你自己。"}]

    def ask(how: str) -> None:
        try:
            out = llm.chat(messages=msgs, stream=False)
            log.info("answer: %s", out[-1]["content"])
        except Exception as e:
            if how == "exception":
                log.exception("agent run failed")
            else:
                print(f"agent error: {e}")

    plan(server, [OK])
    ask("exception")
    plan(server, [err(429, "Throttling.RateQuota"), OK])  # retried, then answered
    ask("exception")
    plan(server, [err(400, "DataInspectionFailed")])  # not retried
    ask("exception")
    plan(server, [err(401, "InvalidApiKey"), err(401, "InvalidApiKey")])  # retried, gives up
    ask("print")
    plan(server, [err(500, "InternalError"), err(500, "InternalError")])
    ask("exception")
