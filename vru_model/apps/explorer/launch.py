"""`vru explore`: Voila serving the explorer notebook on this machine only, and a browser opened once it listens."""

from __future__ import annotations

import os
import secrets
import socket
import sys
import time
import webbrowser
from pathlib import Path

from vru_model.core.resources import shipped

NOTEBOOK = shipped("notebooks") / "explorer.ipynb"
VOILA_DIR = NOTEBOOK.parent / "jupyter"  # voila.py settings and voila/templates/vru
KERNEL_IDLE_SECONDS = 3600  # a kernel with no open page and no activity for an hour is shut down
KERNEL_CULL_INTERVAL = 120


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def voila_command(port: int, notebook: Path = NOTEBOOK) -> list[str]:
    """Voila serving the explorer notebook on 127.0.0.1 only, behind a token (from $JUPYTER_TOKEN, set by
    `voila_environ`, so it never shows in the process list), with code cells stripped, no tracebacks sent to
    the page, kernels talking over IPC rather than TCP ports, and no silent move to another port.

    A kernel is shut down when its tab closes (the prelaunch hook in VOILA_DIR/voila.py makes that request
    pass the XSRF check) and culled after KERNEL_IDLE_SECONDS without activity and without an open page.
    The `vru` template is Voila's lab template without its CDN links: no request leaves the machine.
    Voila reads its settings from VOILA_DIR only, never from a voila.py in the current folder.
    """
    return [
        sys.executable, "-m", "voila", str(notebook),
        f"--port={port}",
        "--Voila.ip=127.0.0.1",
        "--Voila.port_retries=0",
        "--Voila.auto_token=True",
        f"--Voila.config_file_paths={VOILA_DIR}",
        "--template=vru",
        "--strip_sources=True",
        "--show_tracebacks=False",
        "--KernelManager.transport=ipc",
        f"--MappingKernelManager.cull_idle_timeout={KERNEL_IDLE_SECONDS}",
        f"--MappingKernelManager.cull_interval={KERNEL_CULL_INTERVAL}",
        "--MappingKernelManager.cull_connected=False",
        "--no-browser",
    ]


def voila_environ(token: str) -> dict[str, str]:
    """Environment additions for `voila_command`: the access token and where the `vru` template lives."""
    paths = [str(VOILA_DIR), *filter(None, os.environ.get("JUPYTER_PATH", "").split(os.pathsep))]
    return {"JUPYTER_TOKEN": token, "JUPYTER_PATH": os.pathsep.join(paths)}


def new_token() -> str:
    """A fresh access token for one `vru explore` server (as Jupyter makes one)."""
    return secrets.token_hex(24)


def open_when_listening(url: str, port: int, parent: int | None = None, seconds: float = 120.0) -> None:
    """Open the browser at `url` once something listens on 127.0.0.1:`port` (Voila takes a few seconds);
    give up after `seconds`, or as soon as process `parent` (the server) is gone."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and (parent is None or os.getppid() == parent):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                webbrowser.open(url)
                return
        except OSError:
            time.sleep(0.5)
