"""loguru with ``serialize=True``: one JSON object per record, {"text": <the formatted line,
traceback included>, "record": {"time": {"repr", "timestamp"}, "extra": {...}, "exception":
{...}, ...}}. Run by hand (README.md): ``/work/logger-venv/bin/python capture_loguru.py``
"""

from __future__ import annotations

import logging
import sys

from _scenario import capture, run

NOTES = "loguru logger.add(sys.stderr, serialize=True); fields through logger.bind(...)"

with capture(
    "loguru-serialize", ("loguru", "dashscope", "openai"), NOTES, logging.WARNING
) as server:
    from loguru import logger

    logger.remove()
    logger.add(sys.stderr, serialize=True, level="INFO")

    class Loguru:
        def ok(self, request_id: str, model: str) -> None:
            logger.bind(request_id=request_id, model=model).info("chat ok")

        def exception(self, exc: BaseException, model: str, request_id: str | None) -> None:
            bound = logger.bind(model=model, **({"request_id": request_id} if request_id else {}))
            bound.exception("qwen call failed")

        def fields(
            self, status_code: int, code: str, message: str, request_id: str, model: str
        ) -> None:
            logger.bind(
                status_code=status_code,
                code=code,
                message=message,
                request_id=request_id,
                model=model,
            ).error("qwen call failed: {}", message)

        def error_text(self, error: str, request_id: str | None, model: str) -> None:
            logger.bind(request_id=request_id, model=model).error("qwen call failed: {}", error)

    run(server, Loguru())
