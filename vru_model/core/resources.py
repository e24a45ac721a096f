"""The folders shipped with the workbench (notebooks, scenarios): inside the installed package, where a wheel
puts them (setup.py copies them into `vru_model/_shipped/` at build time), else in the source tree they are
kept in (a checkout or an editable install)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

SOURCE_TREE = Path(__file__).resolve().parents[2]
SHIPPED = ("notebooks", "scenarios")  # the top-level folders a wheel carries


def shipped(name: str) -> Path:
    """The shipped folder `name` (one of SHIPPED), found with importlib.resources first."""
    packaged = resources.files("vru_model") / "_shipped" / name
    if packaged.is_dir():
        return Path(str(packaged))
    return SOURCE_TREE / name


def working_scenarios() -> Path:
    """The scenarios a command starts from: ./scenarios/ when this folder has one (a checkout, or a folder made
    by `vru init`), else the shipped ones."""
    local = Path("scenarios")
    return local.resolve() if local.is_dir() else shipped("scenarios")
