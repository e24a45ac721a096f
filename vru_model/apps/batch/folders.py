"""Publishing a report on the client: whole folders, swapped in with renames, and what a batch that died left
behind undone."""

from __future__ import annotations

import json
import os
import shutil
import uuid
from pathlib import Path, PurePosixPath

from vru_model.apps.batch.planning import CLIFF_EDGE_FILES, SCENARIO_FILES, STAMP
from vru_model.apps.batch.worker import Rendered
from vru_model.core.files import atomic_write_bytes, atomic_write_text

MANAGED = frozenset((*SCENARIO_FILES, *CLIFF_EDGE_FILES, STAMP, "report.pdf", "robustness"))  # what a report
# run replaces in OUT/<name>/ (a PDF printed from an older report goes with it)
PARTIAL, OLD = ".partial", ".old"  # suffixes of hidden sibling folders while a report is being swapped in


def publish(out_dir: Path, rendered: Rendered, key: str) -> None:
    """Write a report into a hidden sibling folder, then rename it to OUT/<name>/: a reader (or a crash) sees
    the old report or the new one, never a mix. Files the batch does not make (the comparison's frontier, a
    user's own) are carried over from the old folder."""
    target = out_dir / rendered.name
    tag = uuid.uuid4().hex[:12]
    stage, old = out_dir / f".{rendered.name}.{tag}{PARTIAL}", out_dir / f".{rendered.name}.{tag}{OLD}"
    stamp = {"key": key, "state": rendered.state, "error": rendered.error, "seconds": rendered.seconds}
    try:
        for rel, data in rendered.files.items():
            parts = PurePosixPath(rel).parts
            if not parts or parts[0] == "/" or ".." in parts:
                raise ValueError(f"a worker returned a file outside its folder: {rel!r}")
            atomic_write_bytes(stage.joinpath(*parts), data)
        atomic_write_text(stage / STAMP, json.dumps(stamp, indent=2) + "\n")
        os.chmod(stage, 0o755)
        if target.exists():
            os.rename(target, old)
        os.rename(stage, target)
    except BaseException:
        if old.exists() and not target.exists():
            os.rename(old, target)
        shutil.rmtree(stage, ignore_errors=True)
        raise
    _retire(old, target)


def _retire(old: Path, target: Path) -> None:
    """Move what the batch does not make from a replaced folder into its successor, then delete the rest."""
    if not old.is_dir():
        return
    for entry in old.iterdir():
        if entry.name not in MANAGED and not (target / entry.name).exists():
            os.rename(entry, target / entry.name)
    shutil.rmtree(old)


def recover(out_dir: Path) -> int:
    """Undo what a batch that died mid-run left behind (called under the lock): half-staged folders go,
    a folder caught between its two renames comes back, hidden partial files go. Returns how many."""
    fixed = 0
    for entry in sorted(out_dir.glob(".*")):
        if entry.is_dir() and entry.name.endswith(PARTIAL):
            shutil.rmtree(entry)
        elif entry.is_dir() and entry.name.endswith(OLD):
            target = out_dir / entry.name[1:].rsplit(".", 2)[0]
            if target.exists():
                _retire(entry, target)
            else:
                os.rename(entry, target)
        elif entry.is_file() and (entry.name.startswith((".compare-", ".report-", ".vru-probe-"))
                                  or entry.name.endswith(".tmp")):
            entry.unlink()
        else:
            continue
        fixed += 1
    for entry in out_dir.glob("*/.*"):
        if entry.is_file() and (entry.name.startswith(".report-") or entry.name.endswith(".tmp")):
            entry.unlink()
            fixed += 1
    return fixed

