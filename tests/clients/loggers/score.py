"""Score the parser on a logger capture against the fake server's record (its truth file).

Run with the project's venv: ``.venv/bin/python tests/clients/loggers/score.py [NAME...]``
(default: every capture named in README.md's table). For each failed request of the truth it
finds the event that tells it (by request id where the log shows the id, else the nearest
error event in time with the same status that no other failure took) and checks its status,
code and timestamp (not null, within WINDOW of the server's answer); for each success whose
request id the log shows, that no error event has the id. ``tests/test_logger_captures.py``
asserts the same on the committed captures.
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

ROOT = Path(__file__).resolve().parents[3]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from ingest import load_events  # noqa: E402

WILD = ROOT / "tests" / "data" / "wild"
_TERMINAL = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?)")
#: a log line is written after the server's answer started, within this window
WINDOW = (pd.Timedelta(milliseconds=-50), pd.Timedelta(seconds=3))
CAPTURES = (
    "structlog-json",
    "structlog-epoch",
    "structlog-console",
    "stdlib-brackets",
    "stdlib-created",
    "python-json-logger",
    "ecs-logging",
    "rich-handler",
    "rich-handler-color",
    "loguru-serialize",
    "pino",
    "winston-json",
    "winston-simple",
    "bunyan",
    "log4j2-json",
    "logback-logstash",
    "logback-pattern",
    "logrus-text",
    "logrus-json",
    "zap-json",
)


@dataclass
class Score:
    name: str
    failed: int = 0
    events: int = 0  # error events
    found: int = 0  # failures with an event
    right_status: int = 0
    right_code: int = 0
    right_rid: int = 0  # of the failures whose id the log shows
    rid_shown: int = 0
    right_time: int = 0
    successes: int = 0  # successes whose id the log shows
    success_events: int = 0  # of those, found as success events
    success_as_error: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def perfect(self) -> bool:
        n = self.failed
        return (
            self.events == n
            and self.found == n
            and self.right_status == n
            and self.right_code == n
            and self.right_time == n
            and self.right_rid == self.rid_shown
            and self.success_as_error == 0
        )


def score(name: str, folder: Path = WILD) -> Score:
    truth = json.loads((folder / f"{name}.truth.json").read_text(encoding="utf-8"))
    log = folder / f"{name}.log"
    # what the log shows: without terminal colours, and with no white space, so that an id a
    # console folded over two rows (rich) is shown too
    raw = log.read_text(encoding="utf-8", errors="replace")
    text = re.sub(r"\s+", "", _TERMINAL.sub("", raw))
    events, _report = load_events(str(log), tz=truth.get("log_timezone", "Asia/Shanghai"))
    out = Score(name)
    errors = events[events["is_error"]]
    out.events = len(errors)
    free: list[dict[str, Any]] = errors.to_dict("records")
    failed = [a for a in truth["answered"] if a["is_error"]]
    out.failed = len(failed)
    for a in failed:
        when = pd.Timestamp(a["time_utc"])
        shown = a["request_id"] in text
        out.rid_shown += shown
        hit = next((e for e in free if e["request_id"] == a["request_id"]), None)
        if hit is None and not shown:
            near = [
                e
                for e in free
                if not isinstance(e["request_id"], str) and e["status_code"] == a["status"]
            ]
            near.sort(key=lambda e: abs(_gap(e["timestamp"], when)))
            hit = near[0] if near else None
        if hit is None:
            out.problems.append(f"no event for {a['status']} {a['code']} {a['request_id']}")
            continue
        free.remove(hit)
        out.found += 1
        out.right_status += hit["status_code"] == a["status"]
        out.right_code += hit["code"] == a["code"]
        out.right_rid += shown and hit["request_id"] == a["request_id"]
        gap = _gap(hit["timestamp"], when)
        out.right_time += WINDOW[0] <= gap <= WINDOW[1]
        if (hit["status_code"], hit["code"]) != (a["status"], a["code"]):
            out.problems.append(
                f"line {hit['line']}: {hit['status_code']} {hit['code']}, "
                f"server {a['status']} {a['code']}"
            )
        if not WINDOW[0] <= gap <= WINDOW[1]:
            out.problems.append(f"line {hit['line']}: time {hit['timestamp']}, server {when}")
    for e in free:
        out.problems.append(f"line {e['line']}: unexplained {e['status_code']} {e['code']}")
    ok = {a["request_id"] for a in truth["answered"] if not a["is_error"]}
    shown_ok = {r for r in ok if r in text}
    out.successes = len(shown_ok)
    good = events[~events["is_error"]]
    out.success_events = int(good["request_id"].isin(shown_ok).sum())
    out.success_as_error = int(errors["request_id"].isin(ok).sum())
    return out


def _gap(ts: Any, when: pd.Timestamp) -> pd.Timedelta:
    """The event's time less the server's; a log that writes whole seconds (logrus's RFC 3339)
    is compared with the server's second."""
    if ts is None or pd.isna(ts):
        return pd.Timedelta.max
    stamp = pd.Timestamp(ts)
    if stamp == stamp.floor("s"):
        when = when.floor("s")
    return stamp - when


def main() -> None:
    names = sys.argv[1:] or [c for c in CAPTURES if (WILD / f"{c}.truth.json").exists()]
    for name in names:
        s = score(name)
        print(
            f"{name:20} failed {s.failed} events {s.events} found {s.found} status "
            f"{s.right_status} code {s.right_code} rid {s.right_rid}/{s.rid_shown} time "
            f"{s.right_time} ok {s.success_events}/{s.successes} ok-as-error "
            f"{s.success_as_error}"
        )
        for p in s.problems:
            print("    " + p)


if __name__ == "__main__":
    main()
