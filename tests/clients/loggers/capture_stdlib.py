"""stdlib logging with an app's own format, two of them: ``%(asctime)s [%(levelname)s]
%(name)s: %(message)s`` and ``%(created)f %(levelname)s %(name)s %(message)s`` (epoch seconds
first). The structured fields go into the message as key=value text. Run by hand (README.md):

    /work/logger-venv/bin/python capture_stdlib.py asctime|created
"""

from __future__ import annotations

import logging
import sys

from _scenario import capture, run

KIND = sys.argv.pop(1) if len(sys.argv) > 1 else "asctime"
NAME = {"asctime": "stdlib-brackets", "created": "stdlib-created"}[KIND]
FORMAT = {
    "asctime": "%(asctime)s [%(levelname)s] %(name)s: %(message)s",
    "created": "%(created)f %(levelname)s %(name)s %(message)s",
}[KIND]

with capture(
    NAME, ("dashscope", "openai"), f"logging format {FORMAT!r}", logging.WARNING
) as server:
    logging.basicConfig(level=logging.WARNING, format=FORMAT, stream=sys.stderr, force=True)
    log = logging.getLogger("assistant.chat")
    log.setLevel(logging.INFO)

    class Stdlib:
        def ok(self, request_id: str, model: str) -> None:
            log.info("chat ok request_id=%s model=%s", request_id, model)

        def exception(self, exc: BaseException, model: str, request_id: str | None) -> None:
            if request_id:
                log.exception("qwen call failed model=%s request_id=%s", model, request_id)
            else:
                log.exception("qwen call failed model=%s", model)

        def fields(
            self, status_code: int, code: str, message: str, request_id: str, model: str
        ) -> None:
            log.error(
                "qwen call failed status_code=%s code=%s message=%s request_id=%s model=%s",
                status_code,
                code,
                message,
                request_id,
                model,
            )

        def error_text(self, error: str, request_id: str | None, model: str) -> None:
            log.error("qwen call failed: %s (request_id=%s, model=%s)", error, request_id, model)

    run(server, Stdlib())
