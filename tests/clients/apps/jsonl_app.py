"""App 4: a service that writes one JSON object per model call (JSON-lines), via dashscope.

Fields: ts (ISO 8601 with offset), level, event, model, stream, status_code, request_id, code,
message, latency_ms. The values are the SDK's (a mid-stream error therefore says 400).
"""

from __future__ import annotations

import json
import sys
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import dashscope
from _common import parse_args


def main() -> None:
    args, calls = parse_args(__doc__ or "")
    dashscope.base_http_api_url = args.base_url
    dashscope.api_key = "sk-test-0000000000000000"
    with args.log.open("w", encoding="utf-8") as out:
        for call in calls:
            t0 = time.monotonic()
            kwargs = {
                "model": call["model"],
                "messages": [{"role": "user", "content": call["prompt"]}],
                "result_format": "message",
            }
            if call.get("stream"):
                last = None
                for resp in dashscope.Generation.call(
                    **kwargs, stream=True, incremental_output=True
                ):
                    last = resp
                    if resp.status_code != 200:
                        break
                resp = last
            else:
                resp = dashscope.Generation.call(**kwargs)
            record = {
                "ts": datetime.now().astimezone().isoformat(timespec="milliseconds"),
                "level": "info" if resp.status_code == 200 else "error",
                "event": "llm_call",
                "model": call["model"],
                "stream": bool(call.get("stream")),
                "status_code": resp.status_code,
                "request_id": resp.request_id,
                "code": resp.code,
                "message": resp.message,
                "latency_ms": round((time.monotonic() - t0) * 1000),
            }
            out.write(json.dumps(record, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
