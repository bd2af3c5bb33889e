"""App 2: dashscope native streaming (``stream=True, incremental_output=True``).

Runs like ``python ds_stream.py > app.log 2>&1``: logging goes to stdout and the streamed text is
printed as it arrives, without a newline, so a log record can start in the middle of a physical
line. Every failed response object the SDK yields is logged (errors can arrive mid-stream).
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import dashscope
from _common import parse_args

logger = logging.getLogger("stream_worker")


def main() -> None:
    args, calls = parse_args(__doc__ or "")
    logging.basicConfig(
        stream=sys.stdout,
        level=logging.INFO,
        format="%(asctime)s - %(name)s - %(levelname)s - %(message)s",
    )
    dashscope.base_http_api_url = args.base_url
    dashscope.api_key = "sk-test-0000000000000000"
    for call in calls:
        model = call["model"]
        text = []
        failed = False
        responses = dashscope.Generation.call(
            model=model,
            messages=[{"role": "user", "content": call["prompt"]}],
            result_format="message",
            stream=True,
            incremental_output=True,
        )
        for resp in responses:
            if resp.status_code == 200:
                piece = resp.output.choices[0].message.content
                text.append(piece)
                print(piece, end="", flush=True)
            else:
                failed = True
                logger.error("stream failed model=%s: %s", model, resp)
        if not failed:
            print(flush=True)
            logger.info(
                "stream done model=%s request_id=%s chars=%d",
                model,
                resp.request_id,
                len("".join(text)),
            )


if __name__ == "__main__":
    main()
