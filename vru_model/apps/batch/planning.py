"""The plan: which scenarios, and which are already up to date (each report folder's stamp holds the key it was
made with: the resolved scenario, the baseline it is compared with, the code and the notebook)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from vru_model import __version__
from vru_model.analysis.results import input_hash
from vru_model.core.errors import Problem, ScenarioError
from vru_model.core.resources import shipped, working_scenarios
from vru_model.scenario.load import load_scenario, read_yaml, scenario_to_dict

PACKAGE = Path(__file__).resolve().parents[2]
REPORT_NOTEBOOK = shipped("notebooks") / "scenario_report.ipynb"
COMPARE_NOTEBOOK = shipped("notebooks") / "compare_scenarios.ipynb"
SCENARIO_FILES = ("resolved.yaml", "allocation.csv", "funding.csv", "summary.json", "report.ipynb", "report.html")
CLIFF_EDGE_FILES = ("cliff_edge.json", "plan.csv", "plan_funding.csv")  # written only when the grant is uncertain
FRONTIER_FILES = ("frontier.csv", "breakpoints.csv", "frontier.json")  # the baseline's, written by the comparison
STAMP = "stamp.json"


@dataclass(frozen=True)
class Task:
    """One scenario's report, as a worker needs it (plain data, so it pickles to any executor)."""

    name: str
    title: str
    scenario_path: str
    baseline_path: str
    out_dir: str
    notebook: str
    key: str
    timeout: float
    threads: int = 1
    samples: int = 0  # robustness samples for the "How sure is this plan?" section (0 skips it)
    ranges: str = "none"  # which services' room near the best value that section draws (all | unsettled | none)


@dataclass(frozen=True)
class Outcome:
    name: str
    state: str  # ok | failed | timed_out | skipped (up to date); queued | running while the batch runs;
    # stopped (running when Ctrl-C came) | cancelled (never started)
    seconds: float
    error: str = ""


def is_template(path: Path) -> bool:
    """Files meant to be copied, not run: a name or title that says template, or a leading underscore."""
    if path.stem.startswith("_") or "template" in path.stem.lower():
        return True
    try:
        raw = read_yaml(path)
    except ScenarioError:
        return False  # a broken file is not a template: loading it reports the problem
    return any("template" in str(raw.get(k, "")).lower() for k in ("name", "title"))


def discover(paths: Sequence[Path], scenarios_dir: Path | None = None) -> list[Path]:
    if paths:
        return list(paths)
    scenarios_dir = scenarios_dir or working_scenarios()
    found = [p for p in sorted(scenarios_dir.glob("*.yaml")) if not is_template(p)]
    if not found:
        raise ScenarioError([Problem(str(scenarios_dir), "", "no scenario files found")])
    return found


def sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def code_hash() -> str:
    """The model's source code, so that a change to it re-runs every report."""
    h = hashlib.sha256(__version__.encode())
    package = PACKAGE
    for path in sorted(package.rglob("*.py")):
        h.update(path.relative_to(package).as_posix().encode() + b"\0" + path.read_bytes())
    return h.hexdigest()


def plan(
    paths: Sequence[Path],
    out_dir: Path,
    *,
    notebook: Path = REPORT_NOTEBOOK,
    timeout: float = 600.0,
    samples: int = 0,
    ranges: str = "none",
) -> list[Task]:
    """Validate every scenario (all problems at once) and build the tasks; writes nothing."""
    problems: list[Problem] = []
    loaded = []
    for path in paths:
        try:
            loaded.append((path, load_scenario(path)))
        except ScenarioError as exc:
            problems.extend(exc.problems)
    seen: dict[str, Path] = {}
    for path, sc in loaded:
        if sc.name in seen:
            problems.append(Problem(str(path), "name", f"{sc.name!r} is also the name of {seen[sc.name]}"))
        seen[sc.name] = path
    if problems:
        raise ScenarioError(problems)
    code, nb_hash = code_hash(), sha256_file(notebook)
    in_batch = next(((p, sc) for p, sc in loaded if sc.name == "baseline"), None)
    tasks = []
    for path, sc in loaded:
        base_path, base = in_batch or (path.parent / "baseline.yaml", None)
        if base is None and base_path.is_file():
            base = load_scenario(base_path)
        compare_with = base is not None and sc.name != "baseline"
        key = hashlib.sha256(json.dumps({
            "scenario": scenario_to_dict(sc), "inputs": input_hash(sc),  # with a re-plan's actual spend
            "baseline": scenario_to_dict(base) if compare_with else None,
            "code": code, "notebook": nb_hash, "samples": samples, "ranges": ranges,
        }, sort_keys=True).encode()).hexdigest()
        tasks.append(Task(sc.name, sc.title, str(path.resolve()), str(base_path.resolve()) if compare_with else "",
                          str(out_dir.resolve()), str(notebook.resolve()), key, timeout, samples=samples,
                          ranges=ranges))
    tasks.sort(key=lambda t: t.name != "baseline")  # the baseline first: the others compare with it
    return tasks


def read_stamp(folder: Path) -> dict[str, Any]:
    try:
        return json.loads((folder / STAMP).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def up_to_date(task: Task) -> bool:
    folder = Path(task.out_dir) / task.name
    stamp = read_stamp(folder)
    return stamp.get("key") == task.key and stamp.get("state") == "ok" and all(
        (folder / f).is_file() for f in SCENARIO_FILES)


def read_summary(folder: Path) -> dict[str, Any] | None:
    try:
        return json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def utc_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
