"""Ctrl-C during a HiGHS run.

`Highs.run()` holds the main thread until HiGHS returns, and Python acts on a signal only between bytecodes:
a Ctrl-C pressed during a long LP was acted on when the LP ended (minutes, on 500 services) or was swallowed
by a HiGHS callback. `run` hands each run to one long-lived solver thread while the main thread waits in
short, interruptible steps. On Ctrl-C it subscribes HiGHS's interrupt callbacks (checked every simplex and
interior-point iteration and in branch and bound), waits for HiGHS to stop, unsubscribes them, and re-raises
KeyboardInterrupt. The callbacks are not subscribed otherwise: called every iteration, they made 60
robustness samples 30% slower.

One thread for every run, rather than a thread per run as highspy's `startSolve` makes: HiGHS keeps its task
scheduler per thread, and highspy resets it after each threaded run (about 2 ms a run, 10% of the robustness
samples). Off the main thread (a Dask worker's thread) no signal arrives, so HiGHS runs there as is.
"""

from __future__ import annotations

import queue
import threading
from dataclasses import dataclass, field
from typing import Any

import highspy

_INTERRUPTS = ("cbSimplexInterrupt", "cbIpmInterrupt", "cbMipInterrupt")


def _stop(event: Any) -> None:
    event.interrupt()


@dataclass
class _Run:
    """One run handed to the solver thread. `lock` orders the Ctrl-C's subscribing against the run's end, so
    the callbacks never outlive the run (the same HiGHS object is run again, e.g. by the explorer)."""

    h: highspy.Highs
    done: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)
    result: Any = None
    ended: bool = False
    stopping: bool = False

    def solve(self) -> None:
        try:
            self.result = self.h.run()
        except BaseException as exc:  # handed back to the caller, raised there
            self.result = exc
        with self.lock:
            self.ended = True
            if self.stopping:
                for name in _INTERRUPTS:
                    getattr(self.h, name).unsubscribe(_stop)
        self.done.set()

    def stop(self) -> None:
        with self.lock:
            if not self.ended and not self.stopping:
                self.stopping = True
                for name in _INTERRUPTS:
                    getattr(self.h, name).subscribe(_stop)

    def wait(self) -> None:
        while not self.done.wait(0.1):
            pass


_jobs: queue.SimpleQueue[_Run] = queue.SimpleQueue()
_solver_thread: threading.Thread | None = None


def _serve() -> None:
    while True:
        _jobs.get().solve()


def run(h: highspy.Highs) -> highspy.HighsStatus:
    """`h.run()`, stopped within a moment by Ctrl-C, which then raises KeyboardInterrupt here."""
    global _solver_thread
    if threading.current_thread() is not threading.main_thread() or not hasattr(h, _INTERRUPTS[0]):
        return h.run()
    if _solver_thread is None:
        _solver_thread = threading.Thread(target=_serve, name="highs", daemon=True)
        _solver_thread.start()
    job = _Run(h)
    _jobs.put(job)
    try:
        job.wait()
    except KeyboardInterrupt:
        job.stop()
        job.wait()  # HiGHS stops at its next check; a second Ctrl-C leaves at once
        raise
    if isinstance(job.result, BaseException):
        raise job.result
    return job.result
