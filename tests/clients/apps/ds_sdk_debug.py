"""App 5: the dashscope SDK's own logging only (``DASHSCOPE_LOGGING_LEVEL=debug``).

The app configures no logging; the SDK installs its own stderr handler, redirected to the log
file by the runner (``python ds_sdk_debug.py 2> sdk.log``). Calls mix plain and streamed ones.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

os.environ["DASHSCOPE_LOGGING_LEVEL"] = "debug"

import dashscope
from _common import parse_args


def main() -> None:
    args, calls = parse_args(__doc__ or "")
    dashscope.base_http_api_url = args.base_url
    dashscope.api_key = "sk-test-0000000000000000"
    for call in calls:
        kwargs = {
            "model": call["model"],
            "messages": [{"role": "user", "content": call["prompt"]}],
            "result_format": "message",
        }
        if call.get("stream"):
            for resp in dashscope.Generation.call(**kwargs, stream=True, incremental_output=True):
                if resp.status_code != 200:
                    break
        else:
            dashscope.Generation.call(**kwargs)


if __name__ == "__main__":
    main()
