"""`vru batch --scheduler` on a cluster that does not share the client's disk (issue 12): the scenario text and
the notebook travel to the worker, the rendered files travel back, and the client writes them."""

from __future__ import annotations

import dataclasses
import inspect
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest
from click.testing import CliRunner

from vru_model.apps.batch import SCENARIO_FILES, Job, render
from vru_model.apps.cli import main

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"
DASK = str(Path(sys.executable).parent / "dask")


def _can_hide() -> bool:
    """Whether this machine lets a process see an empty folder where the client's folder is (a private mount
    namespace with a tmpfs over it: root in most containers)."""
    if shutil.which("unshare") is None:
        return False
    return subprocess.run(["unshare", "--mount", "sh", "-c", "mount -t tmpfs none /mnt"],
                          capture_output=True).returncode == 0


HIDE = _can_hide()


def _hidden_from(folder: Path, command: list[str]) -> list[str]:
    """`command` run where `folder` looks empty (an empty tmpfs mounted over it, for that process only)."""
    if not HIDE:
        return command
    return ["unshare", "--mount", "sh", "-c", 'mount -t tmpfs none "$0" && exec "$@"', str(folder), *command]


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[tuple[str, Path, Path]]:
    """A scheduler and one single-threaded worker on 127.0.0.1, the worker in its own working folder and, where
    the machine allows it, unable to see the client's folder (tmp_path/client) at all."""
    client = tmp_path / "client"
    client.mkdir()
    home = Path(tempfile.mkdtemp(prefix="vru-dask-worker-"))
    home.chmod(0o777)
    (home / "tmp").mkdir(mode=0o777)
    (home / "tmp").chmod(0o777)
    env = {**os.environ, "HOME": str(home), "TMPDIR": str(home / "tmp"), "DASK_DISTRIBUTED__WORKER__DAEMON": "False"}
    env.pop("JUPYTER_RUNTIME_DIR", None)
    address_file = home / "scheduler.json"
    procs = [subprocess.Popen([DASK, "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                               "--scheduler-file", str(address_file)], cwd=home, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    try:
        end = time.monotonic() + 60
        while not address_file.is_file() or not address_file.read_text().strip():
            assert time.monotonic() < end, "the scheduler did not start"
            time.sleep(0.2)
        address = json.loads(address_file.read_text())["address"]
        worker = [DASK, "worker", address, "--nthreads", "1", "--nworkers", "1", "--no-dashboard",
                  "--local-directory", str(home / "tmp")]
        procs.append(subprocess.Popen(_hidden_from(client, worker), cwd=home, env=env,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        yield address, home, client
    finally:
        for proc in reversed(procs):
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
        shutil.rmtree(home, ignore_errors=True)


def _where_notebook(tmp: Path, client: Path) -> Path:
    """The real report notebook with one more cell that says where it ran and what it saw of the client's folder."""
    nb = nbformat.read(ROOT / "notebooks" / "scenario_report.ipynb", as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(
        f'import os\nprint("ran in", os.getcwd(), "seeing", len(os.listdir({str(client)!r})), "files of the client")'))
    path = tmp / "where.ipynb"
    nbformat.write(nb, path)
    return path


def test_the_worker_gets_text_not_paths() -> None:
    assert list(inspect.signature(render).parameters) == ["job"]
    assert all(f.type == "str" or f.type in ("float", "int") for f in dataclasses.fields(Job))


@pytest.mark.slow
@pytest.mark.xdist_group("kernels")
def test_a_batch_on_a_cluster_without_the_clients_disk(tmp_path: Path, cluster: tuple[str, Path, Path]) -> None:
    address, home, client = cluster
    scenarios = client / "scenarios"
    scenarios.mkdir(parents=True)
    shutil.copy(FIXTURES / "tiny.yaml", scenarios / "tiny.yaml")
    (scenarios / "tiny_cut.yaml").write_text("extends: tiny\nname: tiny_cut\ntitle: Tiny, cut\n"
                                             "funding: {core: {amounts: {2022/23: 60000}}}\n")
    out = client / "out"
    result = CliRunner().invoke(main, ["batch", str(scenarios / "tiny.yaml"), str(scenarios / "tiny_cut.yaml"),
                                       "--out", str(out), "--scheduler", address,
                                       "--notebook", str(_where_notebook(tmp_path, client))])
    assert result.exit_code == 0, result.output
    assert "tiny: report ready (optimal)" in result.output and "tiny_cut: report ready" in result.output
    for name in ("tiny", "tiny_cut"):
        assert all((out / name / f).is_file() for f in SCENARIO_FILES), name
        nb = nbformat.read(out / name / "report.ipynb", as_version=4)
        said = "".join(o.get("text", "") for o in nb.cells[-1].outputs).split()
        assert Path(said[2]).is_relative_to(home) and not Path(said[2]).is_relative_to(tmp_path), said
        if HIDE:
            assert said[4] == "0", said  # an empty folder where the client's scenarios and outputs are
    summary = json.loads((out / "tiny_cut" / "summary.json").read_text())
    assert summary["scenario"] == "tiny_cut" and summary["status"] == "optimal"
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["state"] == "complete" and manifest["exit_code"] == 0
    assert not list(out.rglob(".*"))
