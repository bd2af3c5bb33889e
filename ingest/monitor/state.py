"""The state directory of ``watch``: offsets and rule state (state.json), the alert log.

``state.json`` is replaced atomically (write to a temporary file, fsync, rename) after every poll,
with the file offsets and the engine's window, incidents and seen codes together, so a restart
resumes where the last completed poll stopped. ``alerts.jsonl`` gets one JSON object per alert
(with the delivery results), appended as the alert is sent.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

STATE_FILE = "state.json"
ALERT_LOG = "alerts.jsonl"
VERSION = 1


class StateDir:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.mkdir(parents=True, exist_ok=True)

    @property
    def alert_log(self) -> Path:
        return self.path / ALERT_LOG

    def load(self) -> dict[str, Any]:
        try:
            data = json.loads((self.path / STATE_FILE).read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError):
            # a damaged state file: start afresh rather than refuse to watch
            return {}
        return data if isinstance(data, dict) and data.get("version") == VERSION else {}

    def save(self, files: dict[str, Any], engine: dict[str, Any]) -> None:
        data = {"version": VERSION, "files": files, "engine": engine}
        fd, tmp = tempfile.mkstemp(dir=self.path, prefix=".state-", suffix=".json")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(data, fh, ensure_ascii=False, default=str)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.path / STATE_FILE)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def log_alert(self, record: dict[str, Any]) -> None:
        with self.alert_log.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")


def read_alert_log(path: str | Path, limit: int | None = None) -> list[dict[str, Any]]:
    """The alerts of an alert log, oldest first (the last ``limit`` ones)."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError:
        return []
    out = []
    for line in lines[-limit:] if limit else lines:
        try:
            out.append(json.loads(line))
        except ValueError:
            continue
    return out
