"""Where work runs: a local process pool whose workers die with their parent, or a Dask cluster.

Both yield a concurrent.futures executor and how many tasks it can run at once, so a caller that feeds it no
more than that can stop without leaving work queued.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import time
from collections.abc import Iterator
from concurrent.futures import Executor, ProcessPoolExecutor
from contextlib import contextmanager, suppress
from typing import Any

from vru_model.core.errors import OutputError

QUIET_TRACKER = "ignore:resource_tracker:UserWarning"
KERNELS: set[int] = set()  # this worker's running kernels (each leads its own process group), for SIGTERM


def _worker_init(parent: int) -> None:
    """A local worker dies with the batch: at once when the batch is killed (Linux parent-death signal; a
    watchdog thread elsewhere), and after shutting its kernel down when the batch stops it (SIGTERM).
    Ctrl-C is the batch's to handle, not each worker's."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _stop_worker)
    if sys.platform.startswith("linux"):
        import ctypes

        pr_set_pdeathsig = 1
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL, 0, 0, 0)
    else:
        import threading

        def watch() -> None:
            while os.getppid() == parent:
                time.sleep(0.5)
            _stop_worker()

        threading.Thread(target=watch, daemon=True).start()
    if os.getppid() != parent:  # the batch died before the watch was set
        _stop_worker()


def _stop_worker(*_: Any) -> None:
    """Kill this worker's kernels (each with its process group), then the worker itself."""
    import signal

    for pid in list(KERNELS):
        with suppress(OSError):
            os.killpg(pid, signal.SIGKILL)
    os._exit(143)


@contextmanager
def local_pool(workers: int) -> Iterator[tuple[Executor, int]]:
    """A spawn-based process pool whose workers die with the batch; on any exception (Ctrl-C included) its
    workers are stopped at once rather than left to finish."""
    # Workers stopped mid-task leave the pool's queue semaphores to multiprocessing's resource tracker, which frees
    # them and then warns on stderr under the user's one-line "interrupted" message. The tracker takes its -W
    # options from this process when it starts, so it is told here that the freeing needs no warning.
    if QUIET_TRACKER not in sys.warnoptions:
        sys.warnoptions.append(QUIET_TRACKER)
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                               initializer=_worker_init, initargs=(os.getpid(),))
    try:
        yield pool, workers
    except BaseException:
        for proc in list((pool._processes or {}).values()):  # no public handle on a pool's processes
            proc.terminate()
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown(wait=True)


@contextmanager
def dask_pool(scheduler: str | Any) -> Iterator[tuple[Executor, int]]:
    """A Dask cluster's concurrent.futures view, fed no more reports than it has threads, so that stopping
    the batch leaves nothing queued on the cluster."""
    from distributed import Client

    try:
        client = Client(scheduler, timeout="20s")
    except OSError as exc:
        raise OutputError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from None
    with client:
        view = client.get_executor(pure=False)
        try:
            yield view, max(1, sum(client.nthreads().values()))
        except BaseException:
            view.shutdown(wait=False)  # cancels what the cluster still runs for this batch
            raise


def executor(workers: int, scheduler: str | Any | None = None) -> Any:
    """A local process pool, or a Dask cluster when a scheduler address is given."""
    return dask_pool(scheduler) if scheduler else local_pool(workers)
