"""Atomic file writes (a reader sees the old file or the new one, never half of one), and the check that an
output folder can be written before any work starts."""

from __future__ import annotations

import errno
import os
import tempfile
from pathlib import Path

from vru_model.core.errors import OutputError

PROBE_BYTES = 1 << 20  # a folder that cannot take 1 MiB cannot take a report either
PLAIN_ERRORS = {
    errno.ENOSPC: "no space left on the device",
    errno.EDQUOT: "no space left on the device (disk quota)",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
    errno.EROFS: "the file system is read-only",
    errno.ENOTDIR: "part of the path is a file",
    errno.EISDIR: "it is a folder",
}


def atomic_write_bytes(path: str | Path, data: bytes, mode: int = 0o644) -> None:
    """Write via a temporary file in the same folder, then renamed over `path`.

    `mode` defaults to readable by others: mkstemp makes 0600, and reports are meant to be read (and served).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: str | Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def plain_os_error(exc: OSError) -> str:
    """An OSError in words a finance user can act on."""
    return PLAIN_ERRORS.get(exc.errno or 0, (exc.strerror or str(exc)).lower())


def check_output_dir(path: str | Path) -> Path:
    """Create DIR if needed and write (then remove) a probe file in it, so that a file in the way, a missing
    permission or a full disk is reported in plain words before a solve or a batch starts."""
    path = Path(path)
    for part in (path, *path.parents):
        if part.exists() and not part.is_dir():
            raise OutputError(f"cannot write to {path}: {'it' if part == path else part} is a file")
    try:
        path.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".vru-probe-", dir=path)
        try:
            os.write(fd, bytes(PROBE_BYTES))
            os.fsync(fd)
        finally:
            os.close(fd)
            os.unlink(probe)
    except OSError as exc:
        raise OutputError(f"cannot write to {path}: {plain_os_error(exc)}") from None
    return path
