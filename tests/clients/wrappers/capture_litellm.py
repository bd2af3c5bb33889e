"""LiteLLM's ``dashscope/`` provider against the fake compatible-mode endpoint.

``litellm.completion(model="dashscope/qwen-plus", api_base=<fake>/compatible-mode/v1)``; the
app logs the exception with ``logger.exception`` or ``logger.error("%s", e)``; LiteLLM prints
its own help text on failures. One call uses ``num_retries=1``. Run by hand (README.md).
"""

from __future__ import annotations

import logging

from _capture import capture, plan

from tests.clients.fake_dashscope import OK, err

NOTES = (
    "litellm.completion(model='dashscope/<m>', api_base=<compatible-mode>, max_retries=0 on "
    "the openai client; num_retries=1 for the last call). Exceptions: 'litellm.<Class>: "
    "<Class>: DashscopeException - <compat error body or message>'."
)

with capture("litellm", ("litellm", "openai", "httpx"), NOTES) as server:
    import os

    os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"  # no fetch from the internet
    import litellm

    log = logging.getLogger("agent")

    def ask(how: str, model: str = "qwen-plus", **kw: object) -> None:
        try:
            resp = litellm.completion(
                model=f"dashscope/{model}",
                messages=[{"role": "user", "content": "用一句话介绍你自己。"}],
                api_base=server.compat_base,
                api_key="sk-test",
                max_retries=0,
                **kw,
            )
            log.info("answer: %s", resp.choices[0].message.content)
        except Exception as e:
            if how == "exception":
                log.exception("completion failed")
            else:
                log.error("completion failed: %s", e)

    plan(server, [OK])
    ask("exception")
    plan(server, [err(429, "Throttling.RateQuota")])
    ask("exception")
    plan(server, [err(401, "InvalidApiKey")])
    ask("error", model="qwen-max")
    plan(server, [err(400, "DataInspectionFailed")])
    ask("exception")
    plan(server, [err(500, "InternalError")])
    ask("error", model="qwen-turbo")
    plan(server, [err(400, "InvalidParameter")])
    ask("error")
    plan(server, [err(429, "Throttling.AllocationQuota"), err(429, "Throttling.AllocationQuota")])
    ask("exception", num_retries=1)
