"""Saving the explorer's settings as a scenario file without breaking the folder: every scenario that loads before
a save still loads after it, shipped files are never replaced, a replaced file is kept in `.history/`, and two
explorer tabs cannot interleave their saves."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from vru_model.core.errors import Problem, ScenarioError
from vru_model.core.files import atomic_write_bytes
from vru_model.scenario.load import load_scenario, read_yaml

try:
    import fcntl
except ImportError:  # not on Windows: saves there are not locked against each other
    fcntl = None  # type: ignore[assignment]

# what scenarios/ ships (a test keeps it in step)
SHIPPED = ("baseline", "cut_25", "cut_50", "grant_ends", "growth_20", "infeasible_example", "inflation_erosion",
           "late_confirmation", "partner_fails_to_mainstream", "replan_2021_09")
HISTORY = ".history"


def shipped_names(folder: Path) -> set[str]:
    """Scenarios the project ships: those git tracks in the folder, and the shipped names (a copy of the
    folder, or a checkout without git, still protects them)."""
    names = set(SHIPPED)
    try:
        done = subprocess.run(["git", "-C", str(folder), "ls-files", "-z", "--", "*.yaml"],
                              capture_output=True, timeout=20, check=True)
    except (OSError, subprocess.SubprocessError):
        return names
    return names | {p[:-5] for p in done.stdout.decode("utf-8", "replace").split("\0") if p and "/" not in p}


def _extends(path: Path) -> list[str]:
    try:
        parents = read_yaml(path).get("extends")
    except ScenarioError:
        return []
    if isinstance(parents, str):
        return [parents]
    return [p for p in parents if isinstance(p, str)] if isinstance(parents, list) else []


def shipped_refusal(name: str) -> str:
    """Why a shipped scenario is not saved over, in words (the same whichever way the save was asked for)."""
    return f"{name} is a shipped scenario and cannot be replaced: save under another name"


def replace_refusal(folder: Path, name: str) -> str | None:
    """Why scenarios/<name>.yaml must not be replaced from the explorer, or None when it may be."""
    path = folder / f"{name}.yaml"
    if not path.is_file():
        return f"{path.name} is not a scenario file; choose another name"
    if name in shipped_names(folder):
        return shipped_refusal(name)
    children = sorted(p.stem for p in folder.glob("*.yaml") if p.stem != name and name in _extends(p))
    if children:
        verb = "extends" if len(children) == 1 else "extend"
        return f"{', '.join(children)} {verb} {name}, so it cannot be replaced; save under another name"
    return None


def check_save(folder: Path, name: str, text: str) -> None:
    """Refuse a save unless the new file loads and every scenario it would reach still loads.

    The check runs on a copy of the folder as it would be after the save, so a cycle through the replaced
    file shows. Only the new file and the scenarios that extend it, directly or not, can change, so only
    they are loaded (baseline is large: loading every file would take seconds on a busy machine).
    """
    target = folder / f"{name}.yaml"
    with tempfile.TemporaryDirectory(prefix="vru-save-") as tmp:
        trial = Path(tmp)
        parents: dict[str, list[str]] = {}
        for path in folder.glob("*.yaml"):
            if path.is_file() and path.name != target.name:
                shutil.copyfile(path, trial / path.name)
                parents[path.stem] = _extends(path)
        (trial / target.name).write_text(text, encoding="utf-8")
        try:
            load_scenario(trial / target.name)
        except ScenarioError as exc:
            raise ScenarioError([replace(p, file=str(target)) for p in exc.problems]) from None
        reached, grew = {name}, True
        while grew:
            before = len(reached)
            reached |= {child for child, ps in parents.items() if reached.intersection(ps)}
            grew = len(reached) > before
        broken = []
        for child in sorted(reached - {name}):
            try:
                load_scenario(trial / f"{child}.yaml")
            except ScenarioError as exc:
                try:
                    load_scenario(folder / f"{child}.yaml")
                except ScenarioError:
                    continue  # broken before this save: not its doing
                broken.append(f"{child} ({exc.problems[0].message})")
    if broken:
        raise ScenarioError([Problem(str(target), "name", "saving would break " + "; ".join(broken))])


def keep_history(path: Path, mode: int) -> Path:
    """Copy a file about to be replaced to .history/<name>.<UTC time>.yaml (never over an earlier copy)."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    folder = path.parent / HISTORY
    kept = folder / f"{path.stem}.{stamp}.yaml"
    count = 1
    while kept.exists():
        count += 1
        kept = folder / f"{path.stem}.{stamp}-{count}.yaml"
    atomic_write_bytes(kept, path.read_bytes(), mode=mode)
    return kept


def _file_mode(path: Path) -> int:
    """The permissions of a scenario file, so a saved file is readable and writable as the others are."""
    try:
        return stat.S_IMODE(path.stat().st_mode) | stat.S_IRUSR | stat.S_IWUSR
    except OSError:
        return 0o644


@contextmanager
def _folder_lock(folder: Path) -> Iterator[None]:
    """An exclusive lock on the scenarios folder itself (no lock file), held while a save checks and writes."""
    if fcntl is None:
        yield
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def write_scenario(folder: Path, name: str, text: str, *, overwrite: bool, like: Path) -> None:
    """Write `folder`/<name>.yaml under the folder's lock, after `check_save`; permissions as `like` has them.

    Refused: an existing file unless `overwrite`, and, even with `overwrite`, a file `replace_refusal` protects.
    A replaced file is kept in `.history/` first."""
    target = folder / f"{name}.yaml"
    where = str(target)
    with _folder_lock(folder):
        exists = target.exists() or target.is_symlink()
        if exists and not overwrite:
            message = "a scenario with this name exists; tick 'Replace' to overwrite it"
            raise ScenarioError([Problem(where, "name", message)])
        if exists:
            why = replace_refusal(folder, name)
            if why:
                raise ScenarioError([Problem(where, "name", why)])
        check_save(folder, name, text)
        mode = _file_mode(target if exists else like)
        if exists:
            keep_history(target, mode)
        atomic_write_bytes(target, text.encode("utf-8"), mode=mode)
