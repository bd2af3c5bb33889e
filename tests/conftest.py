"""Shared fixtures. Subsystems keep their own conftest.py in their test folders."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def repo() -> Path:
    return REPO


@pytest.fixture(scope="session")
def logs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """sample_logs plus a generated 5 MB text log, in one folder (the event-store tests)."""
    out = tmp_path_factory.mktemp("logs")
    for f in (REPO / "sample_logs").iterdir():
        shutil.copy(f, out / f.name)
    subprocess.run(
        [
            sys.executable,
            str(REPO / "bench" / "generate_logs.py"),
            "--out",
            str(out),
            "--profile",
            "bench",
            "--size",
            "5MB",
            "--kind",
            "text",
        ],
        check=True,
        capture_output=True,
    )
    return out


@pytest.fixture
def fresh_caches() -> Iterator[None]:
    """Streamlit's caches empty before and after the test: parsed events (cache_resource) and
    answers (cache_data) of one AppTest must not leak into the next."""
    import streamlit as st

    st.cache_data.clear()
    st.cache_resource.clear()
    yield
    st.cache_data.clear()
    st.cache_resource.clear()
