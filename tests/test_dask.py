"""The dask engine runs the same parse on real clusters and writes the same dataset.

Two clusters, shared per module (starting dask costs seconds): a ``LocalCluster`` with two
worker processes, and a ``dask scheduler`` plus two ``dask worker`` processes started here on
127.0.0.1 (random free ports), killed at teardown.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from test_store import SEGMENT, assert_same_dataset

from ingest.cli import main
from ingest.store.engines import DaskEngine
from ingest.store.ingester import ingest_dataset

distributed = pytest.importorskip("distributed")

REPO = Path(__file__).resolve().parent.parent
SAMPLES = REPO / "sample_logs"
DASK = Path(sys.executable).with_name("dask")


@pytest.fixture(scope="module")
def local_dataset(logs: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    dataset = tmp_path_factory.mktemp("local") / "ds"
    ingest_dataset([str(logs)], dataset, engine="local", workers=2, segment_bytes=SEGMENT)
    return dataset


@pytest.fixture(scope="module")
def local_cluster() -> Iterator[str]:
    cluster = distributed.LocalCluster(
        n_workers=2,
        processes=True,
        threads_per_worker=1,
        host="127.0.0.1",
        dashboard_address=None,
        silence_logs=40,
    )
    try:
        yield str(cluster.scheduler_address)
    finally:
        cluster.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_for_workers(address: str, n: int, timeout: float = 60) -> None:
    client = distributed.Client(address, timeout="30s")
    try:
        client.wait_for_workers(n, timeout=timeout)
    finally:
        client.close()


@pytest.fixture(scope="module")
def scheduler(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`dask scheduler` + 2 `dask worker` processes on 127.0.0.1."""
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    logdir = tmp_path_factory.mktemp("dask-logs")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    common = {"cwd": str(REPO), "env": env, "start_new_session": True}
    procs = [
        subprocess.Popen(
            [str(DASK), "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
            stdout=subprocess.DEVNULL,
            stderr=(logdir / "scheduler.log").open("wb"),
            **common,  # type: ignore[call-overload]
        )
    ]
    try:
        time.sleep(0.5)
        for k in range(2):
            procs.append(
                subprocess.Popen(
                    [
                        str(DASK),
                        "worker",
                        address,
                        "--host",
                        "127.0.0.1",
                        "--nthreads",
                        "1",
                        "--nworkers",
                        "1",
                        "--no-dashboard",
                        "--name",
                        f"w{k}",
                    ],
                    stdout=subprocess.DEVNULL,
                    stderr=(logdir / f"worker{k}.log").open("wb"),
                    **common,  # type: ignore[call-overload]
                )
            )
        _wait_for_workers(address, 2)
        yield address
    finally:
        for proc in reversed(procs):
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                continue
        for proc in reversed(procs):
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def test_local_cluster_writes_the_dataset_of_the_local_engine(
    logs: Path, local_dataset: Path, local_cluster: str, tmp_path: Path
) -> None:
    engine = DaskEngine(local_cluster)
    try:
        assert engine.workers == 2
        dataset = tmp_path / "ds"
        result = ingest_dataset([str(logs)], dataset, engine=engine, segment_bytes=SEGMENT)
        assert result.engine == "dask"
        assert result.segments > 1
        assert_same_dataset(dataset, local_dataset)
        again = ingest_dataset([str(logs)], dataset, engine=engine, segment_bytes=SEGMENT)
        assert again.events_added == 0
    finally:
        engine.close()


def test_dask_scheduler_and_workers_write_the_dataset_of_the_local_engine(
    logs: Path, local_dataset: Path, scheduler: str, tmp_path: Path
) -> None:
    dataset = tmp_path / "ds"
    out = CliRunner().invoke(
        main,
        [
            "ingest",
            str(logs),
            "--to",
            str(dataset),
            "--engine",
            "dask",
            "--scheduler",
            scheduler,
            "--segment-mb",
            "1",
        ],
    )
    assert out.exit_code == 0, out.output
    assert "dask engine, 2 workers" in out.output
    assert_same_dataset(dataset, local_dataset)


def test_the_workers_write_the_parts(scheduler: str, tmp_path: Path) -> None:
    """Only counts come back: the part files are written by the worker processes."""
    dataset = tmp_path / "ds"
    engine = DaskEngine(scheduler)
    try:
        ingest_dataset([str(SAMPLES / "python_sdk.log")], dataset, engine=engine)
        client = engine._client
        pids = set(client.run(os.getpid).values())
    finally:
        engine.close()
    assert os.getpid() not in pids
    assert list(dataset.rglob("*.parquet"))


def test_an_unreachable_scheduler_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ingest.store import engines

    monkeypatch.setattr(engines, "CONNECT_TIMEOUT", "1s")
    port = _free_port()
    out = CliRunner().invoke(
        main,
        [
            "ingest",
            str(SAMPLES / "python_sdk.log"),
            "--to",
            str(tmp_path / "ds"),
            "--engine",
            "dask",
            "--scheduler",
            f"tcp://127.0.0.1:{port}",
        ],
    )
    assert out.exit_code == 1
    assert out.output.startswith("Error: cannot connect or read:")
    assert out.output.count("\n") == 1
