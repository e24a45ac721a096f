"""Shared fixtures: the shipped batch, a small valid scenario to break, and a writer for scenario files."""

from __future__ import annotations

import copy
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, settings
from shipped import run_shipped

# In CI the property tests draw the same examples every run, so a red build always reproduces; locally
# they explore new examples each time (and hypothesis replays any failure it has seen). No timing checks in
# CI: the machines are shared, and a slow example is not a wrong one.
settings.register_profile("ci", derandomize=True, print_blob=True, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
if os.environ.get("CI"):
    settings.load_profile("ci")

FIXTURES = Path(__file__).resolve().parent / "fixtures"
_SMALL = yaml.safe_load((FIXTURES / "small.yaml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def shipped(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A private copy of the shipped scenarios (saving must never touch the real folder)."""
    folder = tmp_path_factory.mktemp("scenarios")
    for path in (FIXTURES.parent.parent / "scenarios").glob("*.yaml"):
        shutil.copy(path, folder / path.name)
    shutil.copytree(FIXTURES.parent.parent / "scenarios" / "actuals", folder / "actuals")
    return folder


@pytest.fixture(scope="session")
def shipped_batch(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    """The batch over every shipped scenario plus a hostile one, run once per test session (per xdist worker:
    the tests that read it share the group "papermill", so one worker runs it)."""
    return run_shipped(tmp_path_factory.mktemp("shipped"))


@pytest.fixture
def small() -> dict[str, Any]:
    """A fresh copy of tests/fixtures/small.yaml as plain data."""
    return copy.deepcopy(_SMALL)


@pytest.fixture
def write(tmp_path: Path) -> Callable[..., Path]:
    """write(name, data_or_text_or_bytes) -> path of tmp_path/<name>.yaml."""

    def _write(name: str, content: dict[str, Any] | str | bytes) -> Path:
        path = tmp_path / f"{name}.yaml"
        if isinstance(content, bytes):
            path.write_bytes(content)
        elif isinstance(content, str):
            path.write_text(content, encoding="utf-8")
        else:
            path.write_text(yaml.safe_dump(content, sort_keys=False), encoding="utf-8")
        return path

    return _write
