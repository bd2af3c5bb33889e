"""Compare the parser's events on a wrapper capture with the fake server's record.

Run with the project's venv: ``.venv/bin/python tests/clients/wrappers/compare.py [DIR]``
(default tests/data/wild). For each ``<name>.truth.json`` it prints the failed calls of the
truth, the error events, how many failures got an event (counted) and how many of those have
the right status and code (a retried attempt that the log shows only as a status line or a
retry notice is counted without its code), how many of the request ids the log shows were
recovered, and the events nothing explains.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))

from ingest import load_events  # noqa: E402


def compare(truth_path: Path) -> dict[str, Any]:
    truth = json.loads(truth_path.read_text(encoding="utf-8"))
    log = truth_path.with_name(truth_path.name.replace(".truth.json", ".log"))
    text = log.read_text(encoding="utf-8", errors="replace")
    events, report = load_events(str(log))
    errors = events[events["is_error"]].sort_values("line")
    failed = [a for a in truth["answered"] if a["is_error"]]
    free = list(errors.to_dict("records"))
    right = counted = 0
    rid_shown = sum(a["request_id"] in text for a in failed)
    rid_found = 0
    tests = (  # how a failure finds its event, strictest first
        lambda e, a: e["request_id"] == a["request_id"],
        lambda e, a: (
            e["request_id"] is None and (e["status_code"], e["code"]) == (a["status"], a["code"])
        ),
        lambda e, a: e["request_id"] is None and e["status_code"] == a["status"],
        lambda e, a: e["request_id"] is None and e["status_code"] is None,
    )
    assigned: dict[int, dict[str, Any]] = {}
    for test in tests:
        for i, a in enumerate(failed):
            if i in assigned:
                continue
            hit = next((e for e in free if test(e, a)), None)
            if hit is not None:
                free.remove(hit)
                assigned[i] = hit
    for i, a in enumerate(failed):
        hit = assigned.get(i)
        if hit is None:
            continue
        counted += 1
        if hit["status_code"] == a["status"] and hit["code"] == a["code"]:
            right += 1
        if hit["request_id"] == a["request_id"]:
            rid_found += 1
    ok_in_truth = {a["request_id"] for a in truth["answered"] if not a["is_error"]}
    return {
        "log": log.name,
        "failed": len(failed),
        "error_events": len(errors),
        "counted": counted,
        "right_status_code": right,
        "rid_shown": rid_shown,
        "rid_found": rid_found,
        "unexplained": [(e["line"], e["status_code"], e["code"], e["request_id"]) for e in free],
        "success_as_error": int(errors["request_id"].isin(ok_in_truth).sum()),
        "unparsed": report.unparsed,
    }


def main() -> None:
    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "tests" / "data" / "wild"
    for truth in sorted(folder.glob("*.truth.json")):
        print(json.dumps(compare(truth), ensure_ascii=False))


if __name__ == "__main__":
    main()
