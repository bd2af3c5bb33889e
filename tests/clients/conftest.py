"""Fixtures for the real-client tests: the loopback fake DashScope server and app runs.

``tests/test_real_clients.py`` imports these (they live here, beside the server and the apps).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from .fake_dashscope import FakeDashScope
from .harness import AppRun, run_app, save_captured
from .scenarios import APPS

REGENERATE = os.environ.get("REGENERATE_CAPTURED") == "1"


@pytest.fixture(scope="session")
def fake_dashscope() -> Iterator[FakeDashScope]:
    """One loopback server (127.0.0.1, ephemeral port) for the session; stopped at the end."""
    with FakeDashScope() as server:
        yield server


@pytest.fixture(scope="session")
def app_runs(
    fake_dashscope: FakeDashScope, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, AppRun]:
    """Every client app, run once (sequentially: the server's script is shared).

    With ``REGENERATE_CAPTURED=1`` the runs also replace ``tests/clients/captured/``.
    """
    workdir: Path = tmp_path_factory.mktemp("client-apps")
    runs = {}
    for name, spec in APPS.items():
        run = run_app(spec, fake_dashscope, workdir)
        runs[name] = run
        if REGENERATE and run.returncode == 0 and run.pending == 0:
            save_captured(run)
    return runs
