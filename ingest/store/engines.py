"""Where the tasks run: this process, a local process pool, or a dask.distributed cluster.

Every engine maps a module-level function over small picklable items and yields
``(index, result)`` as tasks finish, so the coordinator can commit each part as soon as it is
written. Memory stays bounded by the segment size times the number of workers.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Protocol, TypeVar

T = TypeVar("T")
R = TypeVar("R")

ENGINES = ("local", "dask")
#: how long to wait for a dask scheduler before giving up
CONNECT_TIMEOUT = "30s"


class Engine(Protocol):
    name: str
    workers: int

    def map_unordered(
        self, fn: Callable[[Any], Any], items: Sequence[Any]
    ) -> Iterator[tuple[int, Any]]: ...

    def close(self) -> None: ...


class SerialEngine:
    """Everything in this process (one worker; used for tiny inputs and in tests)."""

    name = "local"  # the local engine with one process
    workers = 1

    def map_unordered(
        self, fn: Callable[[Any], Any], items: Sequence[Any]
    ) -> Iterator[tuple[int, Any]]:
        for i, item in enumerate(items):
            yield i, fn(item)

    def close(self) -> None:
        return None


class LocalEngine:
    """A pool of spawned processes on this machine (default: one per core)."""

    name = "local"

    def __init__(self, workers: int | None = None) -> None:
        from concurrent.futures import ProcessPoolExecutor
        from multiprocessing import get_context

        from ingest.parallel import start_method

        self.workers = workers or os.cpu_count() or 1
        # spawned where another thread runs (Streamlit, dask clients), else forked
        self._pool = ProcessPoolExecutor(self.workers, mp_context=get_context(start_method()))

    def map_unordered(
        self, fn: Callable[[Any], Any], items: Sequence[Any]
    ) -> Iterator[tuple[int, Any]]:
        from concurrent.futures import as_completed

        futures = {self._pool.submit(fn, item): i for i, item in enumerate(items)}
        try:
            for fut in as_completed(futures):  # type: ignore[no-untyped-call]
                yield futures[fut], fut.result()
        finally:
            for fut in futures:
                fut.cancel()

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


class DaskEngine:  # distributed is untyped: its calls are marked below
    """A dask.distributed cluster: the scheduler at ``address``, or a LocalCluster.

    The workers must see the same paths (shared disk or object-store mount) and import
    ``ingest``; they read the logs and write the Parquet parts themselves, only counts and
    report dicts come back.
    """

    name = "dask"

    def __init__(self, address: str | None = None, workers: int | None = None) -> None:
        from distributed import Client, LocalCluster

        self._cluster: Any = None
        if address:
            self._client = Client(address, timeout=CONNECT_TIMEOUT)  # type: ignore[no-untyped-call]
        else:
            self._cluster = LocalCluster(  # type: ignore[no-untyped-call]
                n_workers=workers or os.cpu_count() or 1,
                threads_per_worker=1,
                processes=True,
                host="127.0.0.1",
                dashboard_address=None,
                silence_logs=40,
            )
            self._client = Client(self._cluster)  # type: ignore[no-untyped-call]
        self.workers = max(1, len(self._client.scheduler_info().get("workers", {})))

    def map_unordered(
        self, fn: Callable[[Any], Any], items: Sequence[Any]
    ) -> Iterator[tuple[int, Any]]:
        from distributed import as_completed

        futures = self._client.map(fn, list(items), pure=False)
        index = {f.key: i for i, f in enumerate(futures)}
        try:
            for fut in as_completed(futures):  # type: ignore[no-untyped-call]
                result = fut.result()
                yield index[fut.key], result
                fut.release()
        finally:
            self._client.cancel(futures)  # type: ignore[no-untyped-call]

    def close(self) -> None:
        self._client.close()  # type: ignore[no-untyped-call]
        if self._cluster is not None:
            self._cluster.close()


def make_engine(name: str, *, workers: int | None = None, scheduler: str | None = None) -> Engine:
    if name == "dask":
        return DaskEngine(scheduler, workers)
    if name == "local":
        if workers == 1:
            return SerialEngine()
        return LocalEngine(workers)
    raise ValueError(f"unknown engine {name!r}; use one of {', '.join(ENGINES)}")
