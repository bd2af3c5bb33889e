"""LangChain ChatTongyi / Tongyi (langchain-community) against the fake native endpoint.

What the app does, as LangChain apps do: ``logging.basicConfig(level=INFO)``, ``max_retries=2``
(tenacity retries HTTPError, i.e. every status but 400/401, and logs each retry at WARNING),
then ``logger.exception`` / ``logger.error("%s", e)`` / ``print(e)`` on the final failure.
Run by hand in the wrapper venv (see README.md).
"""

from __future__ import annotations

import logging

from _capture import capture, plan

from tests.clients.fake_dashscope import OK, err

NOTES = (
    "ChatTongyi(max_retries=2) and Tongyi(max_retries=2). check_response raises ValueError "
    "with request_id for 400/401 and requests.HTTPError without it for other statuses; "
    "tenacity logs each retried attempt at WARNING (no request id). Mid-stream errors reach "
    "check_response with the SDK's status (400 in dashscope 1.x, see the truth for the real one)."
)

with capture(
    "langchain-tongyi", ("langchain-community", "langchain-core", "dashscope", "tenacity"), NOTES
) as server:
    import dashscope
    from langchain_community.chat_models.tongyi import ChatTongyi
    from langchain_community.llms.tongyi import Tongyi

    dashscope.base_http_api_url = server.native_base
    dashscope.api_key = "sk-test"  # Tongyi reads the key from the SDK, not its own field
    log = logging.getLogger("chatbot")
    chat = ChatTongyi(model="qwen-plus", dashscope_api_key="sk-test", max_retries=2)
    llm = Tongyi(model_name="qwen-max", dashscope_api_key="sk-test", max_retries=2)

    def ask(how: str, stream: bool = False, model: object = chat) -> None:
        try:
            if stream:
                text = "".join(str(c.content) for c in chat.stream("用一句话介绍你自己。"))
            else:
                out = model.invoke("用一句话介绍你自己。")  # type: ignore[attr-defined]
                text = getattr(out, "content", out)
            log.info("answer: %s", text)
        except Exception as e:
            if how == "exception":
                log.exception("chat call failed")
            elif how == "error":
                log.error("chat call failed: %s", e)
            else:
                print(e)

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
    plan(server, [err(429, "Throttling.RateQuota", mid_stream=True, chunks=1)])
    ask("exception", stream=True)
    plan(server, [err(429, "Throttling.AllocationQuota"), err(429, "Throttling.AllocationQuota")])
    ask("print", model=llm)
    plan(server, [err(400, "InvalidParameter")])
    ask("print", model=llm)
