"""App 3: openai-python against the OpenAI-compatible endpoint (``/compatible-mode/v1``).

``logging.basicConfig(level=INFO)`` so httpx's ``HTTP Request: ...`` lines and openai's
``Retrying request to ...`` lines appear; default retries (``max_retries=2``) so 429/5xx are
retried by the SDK; the final failure is logged with ``logger.exception`` (traceback ending in
``openai.RateLimitError: Error code: 429 - {...}``).
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import openai
from _common import parse_args
from openai import OpenAI

logger = logging.getLogger("assistant")


def main() -> None:
    args, calls = parse_args(__doc__ or "")
    logging.basicConfig(
        filename=args.log,
        encoding="utf-8",
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )
    client = OpenAI(base_url=args.base_url, api_key="sk-test", max_retries=2)
    for call in calls:
        model = call["model"]
        messages = [{"role": "user", "content": call["prompt"]}]
        try:
            if call.get("stream"):
                parts = []
                cid = None
                for chunk in client.chat.completions.create(
                    model=model, messages=messages, stream=True
                ):
                    cid = chunk.id
                    if chunk.choices and chunk.choices[0].delta.content:
                        parts.append(chunk.choices[0].delta.content)
                logger.info("stream ok id=%s model=%s chars=%d", cid, model, len("".join(parts)))
            else:
                completion = client.chat.completions.create(model=model, messages=messages)
                logger.info(
                    "completion ok id=%s model=%s tokens=%s",
                    completion.id,
                    completion.model,
                    completion.usage.total_tokens if completion.usage else None,
                )
        except openai.APIError:
            logger.exception("chat completion failed (model=%s)", model)


if __name__ == "__main__":
    main()
