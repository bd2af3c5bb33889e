"""A web process whose traceback is written line by line (slowly), as a process writing to a
pipe may: honcho interleaves the worker's lines between them."""

import logging
import sys
import time

import openai

URL = "https://dashscope.aliyuncs.com/compatible-mode/v1/chat/completions"
BODY = (
    "{'error': {'message': 'Requests rate limit exceeded, please try again later.', 'type':"
    " 'limit_requests', 'param': None, 'code': 'limit_requests'}, 'request_id':"
    " '5e6f7a8b-1c2d-4e3f-9a0b-1c2d3e4f5a6b'}"
)


class SlowLines(logging.StreamHandler):  # type: ignore[type-arg]
    def emit(self, record: logging.LogRecord) -> None:
        for line in self.format(record).split("\n"):
            self.stream.write(line + "\n")
            self.stream.flush()
            time.sleep(0.12)


handler = SlowLines(sys.stderr)
handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
logging.basicConfig(level=logging.INFO, handlers=[handler])
log = logging.getLogger("app.chat")
time.sleep(0.1)
log.info('HTTP Request: POST %s "HTTP/1.1 429 Too Many Requests"', URL)
try:
    raise openai.RateLimitError(f"Error code: 429 - {BODY}")
except openai.RateLimitError:
    log.exception("qwen call failed")
