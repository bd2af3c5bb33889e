"""App 6: the dashscope 2.x ``dashscope.Client`` (native protocol), stdlib logging at INFO.

The client retries 408/409/429/5xx by itself (``max_retries=2``) and raises
``dashscope.v2.errors.<Class>`` on failure; the app logs the final failure with
``logger.exception``. Its transport logs ``retrying POST ... status 429 (request_id=...)`` at
INFO for every retried attempt, and httpx logs every attempt's status line.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import dashscope
from _common import parse_args

logger = logging.getLogger("qa_service")


def main() -> None:
    args, calls = parse_args(__doc__ or "")
    logging.basicConfig(
        filename=args.log,
        encoding="utf-8",
        level=logging.INFO,
        format="%(asctime)s.%(msecs)03d %(levelname)-5s %(name)s - %(message)s",
        datefmt="%Y-%m-%d %H:%M:%S",
    )
    client = dashscope.Client(api_key="sk-test", base_url=args.base_url, max_retries=2)
    for call in calls:
        model = call["model"]
        messages = [{"role": "user", "content": call["prompt"]}]
        try:
            if call.get("stream"):
                rid = None
                for chunk in client.chat.completions.create(
                    model=model, messages=messages, stream=True
                ):
                    rid = chunk.request_id
                logger.info("stream finished model=%s request_id=%s", model, rid)
            else:
                resp = client.chat.completions.create(model=model, messages=messages)
                logger.info("answer model=%s request_id=%s", model, resp.request_id)
        except dashscope.v2.DashScopeError:
            logger.exception("qwen call failed, model=%s", model)


if __name__ == "__main__":
    main()
