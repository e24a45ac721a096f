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
from collections.abc import Callable, Iterator
from pathlib import Path

import nbformat
import pytest
from click.testing import CliRunner

from vru_model.batch import SCENARIO_FILES, Job, render
from vru_model.cli import main

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
DASK = str(Path(sys.executable).parent / "dask")
NOBODY = 65534
AS_ROOT = os.geteuid() == 0


def _as_nobody() -> Callable[[], None] | None:
    """As root, the worker runs as `nobody`, so it cannot even list the client's pytest folders (mode 0700)."""
    if not AS_ROOT:
        return None

    def drop() -> None:
        os.setgroups([])
        os.setgid(NOBODY)
        os.setuid(NOBODY)

    return drop


@pytest.fixture
def cluster() -> Iterator[tuple[str, Path]]:
    """A scheduler and one single-threaded worker on 127.0.0.1, the worker in its own working folder."""
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
        procs.append(subprocess.Popen([DASK, "worker", address, "--nthreads", "1", "--nworkers", "1",
                                       "--no-dashboard", "--local-directory", str(home / "tmp")], cwd=home, env=env,
                                      preexec_fn=_as_nobody(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        yield address, home
    finally:
        for proc in reversed(procs):
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
        shutil.rmtree(home, ignore_errors=True)


def _where_notebook(tmp: Path) -> Path:
    """The real report notebook with one more cell that says who ran it, and where."""
    nb = nbformat.read(ROOT / "notebooks" / "scenario_report.ipynb", as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell('import os\nprint("ran as", os.getuid(), "in", os.getcwd())'))
    path = tmp / "where.ipynb"
    nbformat.write(nb, path)
    return path


def test_the_worker_gets_text_not_paths() -> None:
    assert list(inspect.signature(render).parameters) == ["job"]
    assert all(f.type == "str" or f.type in ("float", "int") for f in dataclasses.fields(Job))


@pytest.mark.slow
@pytest.mark.xdist_group("papermill")
def test_a_batch_on_a_cluster_without_the_clients_disk(tmp_path: Path, cluster: tuple[str, Path]) -> None:
    address, home = cluster
    scenarios = tmp_path / "client" / "scenarios"
    scenarios.mkdir(parents=True)
    shutil.copy(FIXTURES / "tiny.yaml", scenarios / "tiny.yaml")
    (scenarios / "tiny_cut.yaml").write_text("extends: tiny\nname: tiny_cut\ntitle: Tiny, cut\n"
                                             "funding: {core: {amounts: {2022/23: 60000}}}\n")
    out = tmp_path / "client" / "out"
    if AS_ROOT:  # the worker cannot see the client's folders at all
        probe = subprocess.run(["ls", str(tmp_path)], preexec_fn=_as_nobody(), capture_output=True)
        assert probe.returncode != 0
    result = CliRunner().invoke(main, ["batch", str(scenarios / "tiny.yaml"), str(scenarios / "tiny_cut.yaml"),
                                       "--out", str(out), "--scheduler", address,
                                       "--notebook", str(_where_notebook(tmp_path))])
    assert result.exit_code == 0, result.output
    assert "tiny: report ready (optimal)" in result.output and "tiny_cut: report ready" in result.output
    for name in ("tiny", "tiny_cut"):
        assert all((out / name / f).is_file() for f in SCENARIO_FILES), name
        nb = nbformat.read(out / name / "report.ipynb", as_version=4)
        said = "".join(o.get("text", "") for o in nb.cells[-1].outputs)
        uid, cwd = said.split()[2], said.split()[4]
        assert Path(cwd).is_relative_to(home) and not Path(cwd).is_relative_to(tmp_path)
        if AS_ROOT:
            assert uid == str(NOBODY)
    summary = json.loads((out / "tiny_cut" / "summary.json").read_text())
    assert summary["scenario"] == "tiny_cut" and summary["status"] == "optimal"
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["state"] == "complete" and manifest["exit_code"] == 0
    assert not list(out.rglob(".*"))
