"""AgentScope's DashScopeChatModel (openai AsyncClient on the compatible-mode endpoint).

AgentScope retries RateLimitError / InternalServerError itself (``max_retries``) with a WARNING
per retry; the app logs the final exception. Run by hand (README.md).
"""

from __future__ import annotations

import asyncio
import logging

from _capture import capture, plan

from tests.clients.fake_dashscope import OK, err

NOTES = (
    "DashScopeChatModel(credential=DashScopeCredential(base_url=<compatible-mode>), "
    "stream=False, max_retries=1, retry_delay=0.1, client_kwargs={'max_retries': 0})."
)

with capture("agentscope", ("agentscope", "openai", "httpx"), NOTES) as server:
    from agentscope.credential import DashScopeCredential
    from agentscope.message import Msg, TextBlock
    from agentscope.model import DashScopeChatModel

    log = logging.getLogger("agent")
    model = DashScopeChatModel(
        credential=DashScopeCredential(api_key="sk-test", base_url=server.compat_base),
        model="qwen-plus",
        stream=False,
        max_retries=1,
        retry_delay=0.1,
        client_kwargs={"max_retries": 0},
    )

    async def ask(how: str) -> None:
        try:
            resp = await model(
                [Msg(name="user", role="user", content=[TextBlock(text="用一句话介绍你自己。")])]
            )
            log.info("answer: %s", resp)
        except Exception as e:
            if how == "exception":
                log.exception("agent reply failed")
            else:
                log.error("agent reply failed: %s", e)

    async def main() -> None:
        plan(server, [OK])
        await ask("exception")
        plan(server, [err(429, "Throttling.RateQuota"), OK])
        await ask("exception")
        plan(server, [err(401, "InvalidApiKey")])
        await ask("exception")
        plan(server, [err(400, "DataInspectionFailed")])
        await ask("error")
        plan(server, [err(500, "InternalError"), err(500, "InternalError")])
        await ask("exception")

    asyncio.run(main())
