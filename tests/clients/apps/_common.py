"""Shared argument handling for the client apps (each app runs as its own process)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any


def parse_args(description: str) -> tuple[argparse.Namespace, list[dict[str, Any]]]:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--base-url", required=True, help="API base URL of the (fake) service")
    parser.add_argument("--log", required=True, type=Path, help="log file to write")
    parser.add_argument("--calls", required=True, type=Path, help="JSON list of calls to make")
    args = parser.parse_args()
    calls = json.loads(args.calls.read_text(encoding="utf-8"))
    return args, calls
