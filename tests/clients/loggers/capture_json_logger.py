"""python-json-logger's JsonFormatter on stdlib logging: ``%(created)f %(levelname)s %(name)s
%(message)s`` (epoch seconds in "created"), the structured fields as ``extra=``, the traceback
in "exc_info". Run by hand (README.md): ``/work/logger-venv/bin/python capture_json_logger.py``
"""

from __future__ import annotations

import logging
import sys

from _scenario import capture, run

NOTES = "python-json-logger JsonFormatter('%(created)f %(levelname)s %(name)s %(message)s')"

with capture(
    "python-json-logger", ("python-json-logger", "dashscope", "openai"), NOTES, logging.WARNING
) as server:
    from pythonjsonlogger.json import JsonFormatter

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter("%(created)f %(levelname)s %(name)s %(message)s"))
    logging.basicConfig(level=logging.WARNING, handlers=[handler], force=True)
    log = logging.getLogger("assistant.chat")
    log.setLevel(logging.INFO)

    class JsonLogger:
        def ok(self, request_id: str, model: str) -> None:
            log.info("chat ok", extra={"request_id": request_id, "model": model})

        def exception(self, exc: BaseException, model: str, request_id: str | None) -> None:
            extra = {"model": model, **({"request_id": request_id} if request_id else {})}
            log.exception("qwen call failed", extra=extra)

        def fields(
            self, status_code: int, code: str, message: str, request_id: str, model: str
        ) -> None:
            log.error(
                "qwen call failed",
                extra={
                    "status_code": status_code,
                    "error_code": code,
                    "error_message": message,
                    "request_id": request_id,
                    "model": model,
                },
            )

        def error_text(self, error: str, request_id: str | None, model: str) -> None:
            log.error(
                "qwen call failed", extra={"error": error, "request_id": request_id, "model": model}
            )

    run(server, JsonLogger())
