"""stdlib logging with a third-party handler or formatter: rich's RichHandler (the console
default of many CLIs and notebooks: "[11/29/26 15:48:41] ERROR    message    file.py:12", the
time only when it changes, rich tracebacks boxed below) and ecs-logging's StdlibFormatter
(Elastic Common Schema JSON: "@timestamp", "log.level", the exception under "error").
Run by hand (README.md):

    /work/logger-venv/bin/python capture_stdlib_handlers.py rich|rich-color|ecs
"""

from __future__ import annotations

import logging
import sys

from _scenario import capture, run

KIND = sys.argv.pop(1) if len(sys.argv) > 1 else "rich"
NAME = {"rich": "rich-handler", "rich-color": "rich-handler-color", "ecs": "ecs-logging"}[KIND]
PACKAGES = {"rich": ("rich",), "rich-color": ("rich",), "ecs": ("ecs-logging",)}[KIND]
NOTES = {
    "rich": "RichHandler(rich_tracebacks=True, show_path=True) on a 120-column console that is "
    "no terminal; fields in the message as key=value text.",
    "rich-color": "RichHandler(rich_tracebacks=True, show_path=True) on a 100-column colour "
    "terminal (force_terminal, 256 colours): what `script` or a pasted terminal keeps.",
    "ecs": "ecs_logging.StdlibFormatter on a StreamHandler; fields as extra=.",
}[KIND]

with capture(NAME, (*PACKAGES, "dashscope", "openai"), NOTES, logging.WARNING) as server:
    handler: logging.Handler
    if KIND.startswith("rich"):
        from rich.console import Console
        from rich.logging import RichHandler

        if KIND == "rich":
            console = Console(file=sys.stderr, width=120, force_terminal=False, color_system=None)
        else:
            console = Console(file=sys.stderr, width=100, force_terminal=True, color_system="256")
        handler = RichHandler(console=console, rich_tracebacks=True, show_path=True)
        handler.setFormatter(logging.Formatter("%(message)s"))
    else:
        import ecs_logging

        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(ecs_logging.StdlibFormatter())
    logging.basicConfig(level=logging.WARNING, handlers=[handler], force=True)
    log = logging.getLogger("assistant.chat")
    log.setLevel(logging.INFO)
    structured = KIND == "ecs"

    class Handlers:
        def ok(self, request_id: str, model: str) -> None:
            if structured:
                log.info("chat ok", extra={"request_id": request_id, "model": model})
            else:
                log.info("chat ok request_id=%s model=%s", request_id, model)

        def exception(self, exc: BaseException, model: str, request_id: str | None) -> None:
            if structured:
                extra = {"model": model, **({"request_id": request_id} if request_id else {})}
                log.exception("qwen call failed", extra=extra)
            elif request_id:
                log.exception("qwen call failed model=%s request_id=%s", model, request_id)
            else:
                log.exception("qwen call failed model=%s", model)

        def fields(
            self, status_code: int, code: str, message: str, request_id: str, model: str
        ) -> None:
            if structured:
                extra = {
                    "status_code": status_code,
                    "error_code": code,
                    "error_message": message,
                    "request_id": request_id,
                    "model": model,
                }
                log.error("qwen call failed", extra=extra)
            else:
                log.error(
                    "qwen call failed status_code=%s code=%s message=%s request_id=%s model=%s",
                    status_code,
                    code,
                    message,
                    request_id,
                    model,
                )

        def error_text(self, error: str, request_id: str | None, model: str) -> None:
            if structured:
                extra = {"error_text": error, "request_id": request_id, "model": model}
                log.error("qwen call failed: %s", error, extra=extra)
            else:
                log.error(
                    "qwen call failed: %s (request_id=%s, model=%s)", error, request_id, model
                )

    run(server, Handlers())
