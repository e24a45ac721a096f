"""Ctrl-C in a batch: it stops the reports that run and starts no other, but only between steps, never halfway
through publishing a report or writing the index."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Future
from concurrent.futures import wait as wait_for
from contextlib import contextmanager
from typing import Any


class CtrlC:
    """The batch's Ctrl-C: the handler only records it, and the batch raises KeyboardInterrupt at points of its
    own choosing, between steps (`check`). A handler that raised would do so wherever the main thread happened
    to be: inside a finalizer, where CPython prints the exception and drops it (the batch went on running), or
    inside the process pool's own bookkeeping. The batch never waits without looking every quarter second
    (`first_done`), and a Ctrl-C that comes while a step is `held` (publishing a report, writing the index) takes
    effect when the step ends."""

    def __init__(self) -> None:
        self.pending = False
        self.held = 0

    def on_signal(self, signum: int, frame: Any) -> None:
        if self.pending and not self.held:  # a second Ctrl-C before the first was acted on (e.g. the pool
            raise KeyboardInterrupt         # hangs while shutting down): break out of whatever holds it
        self.pending = True

    def check(self) -> None:
        if self.pending and not self.held:
            raise KeyboardInterrupt


CTRL_C = CtrlC()
POLL_SECONDS = 0.25


@contextmanager
def ctrl_c_stops_the_batch() -> Iterator[None]:
    """Install the batch's Ctrl-C handler while it holds its output folder (main thread only; a caller that set
    SIGINT to be ignored, as a shell does for a background job, keeps it ignored). Waiting for the folder's
    lock is left to Python's own handler, which interrupts the wait."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread() or signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        yield
        return
    mask = None
    if hasattr(signal, "pthread_sigmask"):  # a mask inherited from the caller must not hide it
        mask = signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    CTRL_C.pending = False
    previous = signal.signal(signal.SIGINT, CTRL_C.on_signal)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        CTRL_C.pending = False
        if mask is not None:
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)


@contextmanager
def deferred_interrupt(last: bool = False) -> Iterator[None]:
    """Let a short step (publishing a report, writing the index) finish before Ctrl-C takes effect. After the
    `last` step, when everything is written, a Ctrl-C has nothing left to stop and is dropped."""
    CTRL_C.held += 1
    try:
        yield
    finally:
        CTRL_C.held -= 1
    if last:
        CTRL_C.pending = False
    CTRL_C.check()


def first_done(futures: Any) -> set[Future[Any]]:
    """The futures of `futures` that are done, once at least one is; a Ctrl-C stops the wait within
    POLL_SECONDS."""
    while True:
        done, _ = wait_for(futures, timeout=POLL_SECONDS, return_when=FIRST_COMPLETED)
        CTRL_C.check()
        if done:
            return done

