"""The DashScope calls every Python logger capture makes, and the ways it logs their outcomes.

A capture script (capture_*.py here, run by hand in a throwaway venv: README.md) gives
:func:`run` a :class:`Log` whose methods write through the logging library it captures; the
calls go to the loopback fake server (``tests/clients/fake_dashscope.py``) through the real
``openai`` (compatible mode) and ``dashscope`` (native) SDKs, without SDK retries, so every
failed request is logged once, the way an application logs it:

- ``ok``: a success line with the request id and the model;
- ``exception``: an ERROR with the exception (its traceback, in the library's own form);
- ``fields``: an ERROR whose status, code, message and request id are structured fields (the
  dashscope response object's attributes);
- ``error_text``: an ERROR whose ``error`` field holds ``str(e)``, with the request id beside it.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any, Protocol

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "wrappers"))

from _capture import capture, plan  # noqa: F401  (re-exported for the scripts)

from tests.clients.fake_dashscope import OK, FakeDashScope, err

MODEL = "qwen-plus"
PROMPT = "用一句话介绍你自己。"


class Log(Protocol):
    def ok(self, request_id: str, model: str) -> None: ...
    def exception(self, exc: BaseException, model: str, request_id: str | None) -> None: ...
    def fields(
        self, status_code: int, code: str, message: str, request_id: str, model: str
    ) -> None: ...
    def error_text(self, error: str, request_id: str | None, model: str) -> None: ...


def run(server: FakeDashScope, log: Log) -> None:
    import dashscope
    import openai

    dashscope.base_http_api_url = server.native_base
    client = openai.OpenAI(base_url=server.compat_base, api_key="sk-test", max_retries=0)

    def compat() -> Any:
        messages = [{"role": "user", "content": PROMPT}]
        return client.chat.completions.create(model=MODEL, messages=messages)  # type: ignore[arg-type]

    def native() -> Any:
        return dashscope.Generation.call(
            model=MODEL, prompt=PROMPT, api_key="sk-test", result_format="message"
        )

    # 1 a success on the compatible endpoint
    plan(server, [OK])
    resp = compat()
    log.ok(resp._request_id or resp.id, MODEL)
    # 2 a 429, logged with its exception (no request id: most apps write none)
    plan(server, [err(429, "Throttling.RateQuota")])
    try:
        compat()
    except openai.APIStatusError as e:
        log.exception(e, MODEL, None)
    # 3 a 401 from the native SDK: the response object's fields
    plan(server, [err(401, "InvalidApiKey")])
    r = native()
    log.fields(r.status_code, r.code, r.message, r.request_id, MODEL)
    # 4 a 500: str(e) in an "error" field, the request id beside it
    plan(server, [err(500, "InternalError")])
    try:
        compat()
    except openai.APIStatusError as e:
        log.error_text(str(e), e.request_id, MODEL)
    # 5 a success from the native SDK
    plan(server, [OK])
    r = native()
    log.ok(r.request_id, MODEL)
    time.sleep(0.05)
    # 6 a 400 with its exception and the request id
    plan(server, [err(400, "DataInspectionFailed")])
    try:
        compat()
    except openai.APIStatusError as e:
        log.exception(e, MODEL, e.request_id)
    # 7 a 429 quota throttle from the native SDK
    plan(server, [err(429, "Throttling.AllocationQuota")])
    r = native()
    log.fields(r.status_code, r.code, r.message, r.request_id, MODEL)
    # 8 a success again
    plan(server, [OK])
    r = native()
    log.ok(r.request_id, MODEL)
