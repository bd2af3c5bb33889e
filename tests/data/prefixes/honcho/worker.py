"""A worker that logs a successful call every 0.1 s."""

import logging
import sys
import time

logging.basicConfig(
    level=logging.INFO,
    format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    stream=sys.stdout,
)
log = logging.getLogger("worker")
for k in range(12):
    log.info("chat ok request_id=095e5de8-8634-42f4-8417-6130b7a470%02d model=qwen-plus", k)
    sys.stdout.flush()
    time.sleep(0.1)
