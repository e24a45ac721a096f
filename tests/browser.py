"""Debian's chromium for the browser tests (never a downloaded browser): found, or skipped with a reason
locally and a failure in CI (env CI set); launched with the same flags by every test."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"


def chromium() -> str | None:
    """The chromium to drive: Debian's, else one on PATH."""
    return CHROMIUM if Path(CHROMIUM).is_file() else shutil.which("chromium")


def need_chromium() -> None:
    if chromium():
        return
    message = f"browser test needs Debian's chromium at {CHROMIUM} (apt-get install chromium)"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def launch(p: Any) -> Any:
    """A headless chromium from a sync_playwright() context."""
    return p.chromium.launch(executable_path=chromium(), args=ARGS)
