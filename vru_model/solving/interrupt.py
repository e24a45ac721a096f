"""Ctrl-C during a HiGHS run.

`Highs.run()` holds the main thread until HiGHS returns, and Python acts on a signal only between bytecodes:
a Ctrl-C pressed during a long LP was acted on when the LP ended (minutes, on 500 services), and through
Pyomo (which runs HiGHS with highspy's own interrupt callback) it was swallowed and came back as "the solver
failed". `run` and `call` hand the work to one long-lived solver thread while the main thread waits in short,
interruptible steps. On Ctrl-C they subscribe HiGHS's interrupt callbacks (checked every simplex and
interior-point iteration and in branch and bound), wait for HiGHS to stop (more Ctrl-Cs do not cut the wait
short), and re-raise KeyboardInterrupt; the callbacks go when the run ends. They are not subscribed
otherwise: called every iteration, they made 60 robustness samples 30% slower. A forked child starts its own
solver thread.

One thread for every run, rather than a thread per run as highspy's `startSolve` makes: HiGHS keeps its task
scheduler per thread, and highspy resets it after each threaded run (about 2 ms a run, 10% of the robustness
samples). Off the main thread (a Dask worker's thread) no signal arrives, so the work runs there as is.
"""

from __future__ import annotations

import os
import queue
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import highspy

T = TypeVar("T")
_INTERRUPTS = ("cbSimplexInterrupt", "cbIpmInterrupt", "cbMipInterrupt")


def _stop(event: Any) -> None:
    event.interrupt()


@dataclass
class _Job:
    """Work handed to the solver thread. `lock` orders a Ctrl-C's subscribing against the work's end, so the
    callbacks never outlive the run (the same HiGHS object is run again, e.g. by the explorer)."""

    work: Callable[[], Any]
    highs: Callable[[], highspy.Highs | None]  # the HiGHS object to stop; None while it does not exist yet
    done: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)
    result: Any = None
    failed: BaseException | None = None
    ended: bool = False
    stopped: highspy.Highs | None = None

    def solve(self) -> None:
        try:
            self.result = self.work()
        except BaseException as exc:  # handed back to the caller, raised there
            self.failed = exc
        with self.lock:
            self.ended = True
            if self.stopped is not None:
                for name in _INTERRUPTS:
                    getattr(self.stopped, name).unsubscribe(_stop)
        self.done.set()

    def stop(self) -> None:
        with self.lock:
            if self.ended or self.stopped is not None:
                return
            h = self.highs()
            if h is not None:
                self.stopped = h
                for name in _INTERRUPTS:
                    getattr(h, name).subscribe(_stop)

    def wait(self, stopping: bool) -> None:
        while not self.done.wait(0.1):
            if stopping:
                self.stop()  # again: through Pyomo the HiGHS object may not have existed at the first try


_jobs: queue.SimpleQueue[_Job] = queue.SimpleQueue()
_solver_thread: threading.Thread | None = None


def _serve() -> None:
    while True:
        _jobs.get().solve()


def _forget_the_thread() -> None:
    """In a forked child the solver thread does not exist: start a new one there (and a new queue)."""
    global _jobs, _solver_thread
    _jobs = queue.SimpleQueue()
    _solver_thread = None


os.register_at_fork(after_in_child=_forget_the_thread)


def _wait_out(job: _Job) -> None:
    """Wait for HiGHS to stop after a Ctrl-C, whatever more Ctrl-Cs come. Leaving while it runs left HiGHS
    working on an object the caller goes on to change or free (a crash, exit 139) or calling back into an
    interpreter that is shutting down (exit 134). Inside HiGHS's MIP the wait can be the length of one LP."""
    told = False
    while True:
        try:
            job.wait(stopping=True)
            return
        except KeyboardInterrupt:
            if not told:
                print("Stopping HiGHS: it stops at its next check, which inside its MIP is the end of the LP it is "
                      "solving. Ctrl-\\ quits at once.", file=sys.stderr, flush=True)
                told = True


def call(work: Callable[[], T], highs: Callable[[], highspy.Highs | None]) -> T:
    """`work()`, which runs HiGHS (the object `highs()` returns), stopped within a moment by Ctrl-C, which
    then raises KeyboardInterrupt here."""
    global _solver_thread
    if threading.current_thread() is not threading.main_thread() or not hasattr(highspy.Highs, _INTERRUPTS[0]):
        return work()
    if _solver_thread is None:
        _solver_thread = threading.Thread(target=_serve, name="highs", daemon=True)
        _solver_thread.start()
    job = _Job(work, highs)
    _jobs.put(job)
    try:
        job.wait(stopping=False)
    except KeyboardInterrupt:
        job.stop()
        _wait_out(job)
        raise
    if job.failed is not None:
        raise job.failed
    return job.result


def run(h: highspy.Highs) -> highspy.HighsStatus:
    """`h.run()`, stopped within a moment by Ctrl-C, which then raises KeyboardInterrupt here."""
    return call(h.run, lambda: h)
