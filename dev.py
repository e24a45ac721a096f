#!/usr/bin/env python3
"""Set up and run the workbench with nothing but Python 3.11+: `python3 dev.py run|test|bench|lint|docs`.

Creates `.venv`, installs the package with its test and docs extras (again whenever pyproject.toml changes),
registers the Jupyter kernel inside the venv, then runs the chosen job.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tempfile
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
STAMP = VENV / ".installed"
EXECUTED_NOTEBOOK = ROOT / "docs" / "guides" / "analyst_guide.ipynb"  # made by `dev.py docs`, not kept in git


def _run(*cmd: str | Path) -> int:
    print("+", " ".join(str(c) for c in cmd), flush=True)
    return subprocess.call([str(c) for c in cmd], cwd=ROOT)


def setup() -> None:
    if sys.version_info < (3, 11):  # noqa: UP036 - dev.py may be started by an older python3
        sys.exit(f"Python 3.11 or newer is needed; this is {sys.version.split()[0]}")
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if STAMP.exists() and STAMP.read_text() == wanted:
        return
    if not (BIN / "python").exists():
        print("creating .venv", flush=True)
        venv.create(VENV, with_pip=True)
    steps = [
        (BIN / "python", "-m", "pip", "install", "--quiet", "--upgrade", "pip"),
        (BIN / "python", "-m", "pip", "install", "--quiet", "-e", ".[test,docs]"),
        (BIN / "python", "-m", "ipykernel", "install", "--prefix", VENV, "--name", "python3"),
    ]
    for step in steps:
        if _run(*step) != 0:
            sys.exit("setup failed (see the messages above)")
    STAMP.write_text(wanted)


def main(argv: list[str]) -> int:
    job = argv[0] if argv else "run"
    extra = argv[1:]
    setup()
    if job == "run":
        code = _run(BIN / "vru", "batch", "--out", "outputs", "--workers", "2", *extra)
        index = ROOT / "outputs" / "index.html"
        if index.exists():
            print(f"\nopen {index} in a browser to read the reports")
        return code
    if job == "test":
        if _run(BIN / "ruff", "check", ".") != 0 or _run(BIN / "lint-imports") != 0:
            return 1
        return _run(BIN / "python", "-m", "pytest", "-n", "2", "--dist", "loadgroup", *extra)
    if job == "bench":
        return _run(BIN / "python", "benchmarks/run.py", *extra)
    if job == "lint":
        return _run(BIN / "ruff", "check", ".") or _run(BIN / "lint-imports")
    if job == "docs":  # the site in site/, with the analyst's notebook executed; any warning fails the build
        os.environ.setdefault("NO_MKDOCS_2_WARNING", "1")  # Material's banner about MkDocs 2, not a build warning
        with tempfile.TemporaryDirectory() as results:
            code = _run(BIN / "python", "-m", "papermill", "--no-progress-bar", "--cwd", "notebooks", "-k", "python3",
                        "-p", "outputs", results, "notebooks/analyst_guide.ipynb", EXECUTED_NOTEBOOK)
        return code or _run(BIN / "mkdocs", "build", "--strict", "--site-dir", "site", *extra)
    if job == "setup":
        return 0
    print(f"unknown job {job!r}; use run, test, bench, lint, docs or setup", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
