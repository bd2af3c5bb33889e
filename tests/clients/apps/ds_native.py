"""App 1: dashscope native ``Generation.call`` (no stream), stdlib logging to a file.

On failure it logs the SDK's response object (``str(resp)`` is its JSON), on success an INFO
line with the request_id and the model, the way most applications built on the SDK do.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import dashscope
from _common import parse_args

logger = logging.getLogger("chatbot.qwen")


def main() -> None:
    args, calls = parse_args(__doc__ or "")
    logging.basicConfig(
        filename=args.log,
        encoding="utf-8",
        level=logging.INFO,
        format="%(asctime)s %(levelname)s [%(name)s] %(message)s",
    )
    dashscope.base_http_api_url = args.base_url
    dashscope.api_key = "sk-test-0000000000000000"
    logger.info("starting %d calls", len(calls))
    for call in calls:
        resp = dashscope.Generation.call(
            model=call["model"],
            messages=[{"role": "user", "content": call["prompt"]}],
            result_format="message",
        )
        if resp.status_code == 200:
            logger.info(
                "call ok request_id=%s model=%s tokens=%s",
                resp.request_id,
                call["model"],
                resp.usage.total_tokens,
            )
        else:
            logger.error("call failed: %s", resp)
    logger.info("done")


if __name__ == "__main__":
    main()
