"""`vru init DIR` makes a working folder from the package's own data; a wheel built from the repository runs
`vru init` and `vru batch` on a machine with no clone (slow: builds and installs the wheel, then a batch)."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest
from click.testing import CliRunner

from vru_model.apps.cli import main
from vru_model.core.resources import shipped

ROOT = Path(__file__).resolve().parents[2]


def test_init_copies_the_shipped_scenarios_a_readme_and_an_outputs_folder(tmp_path: Path) -> None:
    run = CliRunner().invoke(main, ["init", str(tmp_path / "myvru")])
    assert run.exit_code == 0, run.output
    folder = tmp_path / "myvru"
    names = sorted(p.name for p in (folder / "scenarios").glob("*.yaml"))
    assert names == sorted(p.name for p in shipped("scenarios").glob("*.yaml")) and "baseline.yaml" in names
    assert (folder / "outputs").is_dir() and (folder / "analyst_guide.ipynb").is_file()
    assert "vru batch scenarios/baseline.yaml --out outputs --workers 1" in (folder / "README.md").read_text()
    assert (shipped("scenarios") / "actuals").is_dir() == (folder / "scenarios" / "actuals").is_dir()


def test_init_refuses_a_folder_in_use_and_writes_nothing(tmp_path: Path) -> None:
    (tmp_path / "scenarios").mkdir()
    run = CliRunner().invoke(main, ["init", str(tmp_path)])
    assert run.exit_code == 2 and run.output.count("\n") == 1 and "already in use" in run.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["scenarios"]


def test_the_shipped_folders_are_found_in_the_source_tree_of_a_checkout() -> None:
    assert (shipped("notebooks") / "scenario_report.ipynb").is_file()
    assert (shipped("notebooks") / "jupyter" / "voila.py").is_file()
    assert (shipped("scenarios") / "baseline.yaml").is_file()


@pytest.mark.slow
def test_a_wheel_installed_elsewhere_runs_init_and_a_batch(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(ROOT), "-w", str(wheels), "--no-deps", "-q"],
                   check=True, cwd=tmp_path)
    wheel = next(wheels.glob("vru_workbench-*.whl"))
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    bin_dir = env_dir / ("Scripts" if os.name == "nt" else "bin")
    python = bin_dir / "python"
    # The dependencies come from this venv's site-packages (offline); the package itself only from the wheel
    own = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                         capture_output=True, text=True, check=True).stdout.strip()
    Path(own, "deps_from_test.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run([python, "-m", "pip", "install", "--no-deps", "--no-index", "-q", str(wheel)], check=True)
    where = subprocess.run([python, "-c", "import vru_model; print(vru_model.__file__)"], capture_output=True,
                           text=True, check=True, cwd=tmp_path).stdout
    assert where.startswith(str(env_dir)), where
    # and the data files they install beside them (nbconvert's templates in <prefix>/share/jupyter)
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
           "JUPYTER_PATH": str(Path(sys.prefix) / "share" / "jupyter")}
    subprocess.run([bin_dir / "vru", "init", "myvru"], check=True, cwd=tmp_path, env=env)
    done = subprocess.run([bin_dir / "vru", "batch", "scenarios/baseline.yaml", "--out", "outputs", "--workers", "1"],
                          cwd=tmp_path / "myvru", env=env, capture_output=True, text=True, timeout=1200)
    assert done.returncode == 0, done.stdout + done.stderr
    assert (tmp_path / "myvru" / "outputs" / "index.html").is_file()
    assert (tmp_path / "myvru" / "outputs" / "baseline" / "report.html").is_file()
