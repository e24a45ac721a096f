"""One batch per output folder: a lock its holder's death releases."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from vru_model.apps.batch.planning import utc_now
from vru_model.core.errors import OutputError

LOCK = ".vru-batch.lock"


def _read_lock(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text(encoding="utf-8") or "{}")
    except (OSError, ValueError):
        return {}


@contextmanager
def batch_lock(out_dir: Path, *, wait: bool, say: Callable[[str], None]) -> Iterator[None]:
    """Hold OUT/.vru-batch.lock (an flock, so the system releases it when its holder dies, however it dies).

    Another batch into the same folder is refused with who holds it, or waits with `wait`. A lock file left
    by a batch that died is taken over with a message. The file is removed on release; a waiter that then
    holds the removed file's lock notices and locks the new one."""
    import fcntl
    import socket

    path = out_dir / LOCK
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_lock(path)
            who = f"pid {holder.get('pid', '?')} on {holder.get('host', '?')}, started {holder.get('started', '?')}"
            if not wait:
                os.close(fd)
                raise OutputError(f"another batch is writing to {out_dir} ({who}); wait for it to finish, or run "
                                  "again with --wait") from None
            say(f"waiting for the batch already writing to {out_dir} ({who}) to finish")
            fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            current = os.fstat(fd).st_ino == os.stat(path).st_ino
        except FileNotFoundError:
            current = False
        if current:
            break
        os.close(fd)
    try:
        previous = _read_lock(path)
        if previous.get("pid"):
            say(f"a batch into {out_dir} (pid {previous['pid']} on {previous.get('host', '?')}, started "
                f"{previous.get('started', '?')}) stopped without finishing; taking over its lock")
        me = {"pid": os.getpid(), "host": socket.gethostname(), "started": utc_now()}
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(me).encode(), 0)
        yield
    finally:
        Path(path).unlink(missing_ok=True)
        os.close(fd)

