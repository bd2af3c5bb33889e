"""structlog, three ways an app configures it: JSONRenderer with TimeStamper(fmt="iso") (UTC,
``Z``), JSONRenderer with the default epoch-float TimeStamper, and the ConsoleRenderer (no
colours) with local ISO times. Run by hand (README.md):

    /work/logger-venv/bin/python capture_structlog.py json|epoch|console
"""

from __future__ import annotations

import logging
import sys

from _scenario import capture, run

KIND = sys.argv.pop(1) if len(sys.argv) > 1 else "json"
NAME = {"json": "structlog-json", "epoch": "structlog-epoch", "console": "structlog-console"}[KIND]
NOTES = {
    "json": "structlog JSONRenderer; TimeStamper(fmt='iso') writes UTC with Z; format_exc_info "
    "puts the traceback in an 'exception' string.",
    "epoch": "structlog JSONRenderer; TimeStamper() writes 'timestamp' as epoch seconds (float).",
    "console": "structlog ConsoleRenderer(colors=False); TimeStamper(fmt='iso', utc=False): "
    "local naive ISO times; key=value pairs after the event; the traceback below the line.",
}[KIND]

with capture(NAME, ("structlog", "dashscope", "openai"), NOTES, level=logging.WARNING) as server:
    import structlog

    if KIND == "console":
        stamper = structlog.processors.TimeStamper(fmt="iso", utc=False)
        render: object = structlog.dev.ConsoleRenderer(
            colors=False, exception_formatter=structlog.dev.plain_traceback
        )
        procs = [structlog.processors.add_log_level, stamper, render]
    else:
        stamper = structlog.processors.TimeStamper(fmt="iso" if KIND == "json" else None)
        procs = [
            structlog.processors.add_log_level,
            stamper,
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(),
        ]
    structlog.configure(
        processors=procs,  # type: ignore[arg-type]
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
    )
    log = structlog.get_logger("assistant")

    class Structlog:
        def ok(self, request_id: str, model: str) -> None:
            log.info("chat ok", request_id=request_id, model=model)

        def exception(self, exc: BaseException, model: str, request_id: str | None) -> None:
            extra = {"request_id": request_id} if request_id else {}
            log.exception("qwen call failed", model=model, **extra)

        def fields(
            self, status_code: int, code: str, message: str, request_id: str, model: str
        ) -> None:
            log.error(
                "qwen call failed",
                status_code=status_code,
                code=code,
                message=message,
                request_id=request_id,
                model=model,
            )

        def error_text(self, error: str, request_id: str | None, model: str) -> None:
            log.error("qwen call failed", error=error, request_id=request_id, model=model)

    run(server, Structlog())
