"""What the batch says about itself: the index and the manifest (kept in step while it runs), the comparison
report across scenarios, and one line per scenario for the terminal."""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vru_model.apps.batch.ctrl_c import deferred_interrupt, first_done
from vru_model.apps.batch.planning import (
    CLIFF_EDGE_FILES,
    COMPARE_NOTEBOOK,
    FRONTIER_FILES,
    SCENARIO_FILES,
    STAMP,
    Outcome,
    Task,
    code_hash,
    read_stamp,
    read_summary,
    sha256_file,
    utc_now,
)
from vru_model.apps.batch.worker import execute, keep_notebook
from vru_model.core.files import atomic_write_text
from vru_model.core.pools import local_pool
from vru_model.present.pages import DONE, GLOSSARY, glossary_page, index_page, notebook_html

FAILED = ("failed", "timed_out")


@dataclass
class BatchReport:
    """A batch's tasks and how each has gone so far: the index, the manifest and the exit code are made from it."""

    out_dir: Path
    tasks: list[Task]
    outcomes: dict[str, Outcome]
    compare: Outcome
    compare_key: str
    state: str = "complete"  # running | complete | stopped
    started: str = ""

    @property
    def failed(self) -> list[str]:
        return [n for n, o in self.outcomes.items() if o.state in FAILED] + (
            ["(comparison)"] if self.compare.state in FAILED else [])

    @property
    def exit_code(self) -> int | None:
        return {"running": None, "stopped": 130}.get(self.state, 1 if self.failed else 0)


def show(report: BatchReport) -> None:
    """Make the index and the manifest say what is on disk now (each written atomically)."""
    with deferred_interrupt():
        atomic_write_text(report.out_dir / GLOSSARY, glossary_page())
        atomic_write_text(report.out_dir / "index.html", index_page(
            report.out_dir, report.tasks, report.outcomes, report.compare, state=report.state,
            started=report.started))
        write_manifest(report)


def _compare(out_dir: str, names: list[str], baseline_path: str, timeout: float) -> tuple[str, str]:
    """The comparison notebook, run in a local worker (it reads every report in OUT and writes beside them)."""
    out = Path(out_dir)
    partial = out / f".compare-{uuid.uuid4().hex}.ipynb"
    try:
        params = {"output_dir": out_dir, "scenarios": names, "baseline_path": baseline_path}
        state, error = execute(COMPARE_NOTEBOOK, partial, params, timeout)
        nb = keep_notebook(partial, out / "compare.ipynb", COMPARE_NOTEBOOK, error)
        atomic_write_text(out / "compare.html", notebook_html(nb, "Scenario comparison", "index.html", GLOSSARY))
    finally:
        partial.unlink(missing_ok=True)
    return state, error


def run_compare(out_dir: Path, tasks: list[Task], timeout: float, key: str, previous: dict[str, Any], *,
                force: bool) -> Outcome:
    """The comparison report across the batch, re-run only when a scenario or the notebook changed. `previous` is
    the comparison's entry in the manifest as the last batch left it (read before this batch marks it queued:
    read afterwards it never said "ok", and an up-to-date batch re-ran the comparison every time)."""
    if not force and previous.get("key") == key and previous.get("state") == "ok" and (
            out_dir / "compare.html").is_file():
        return Outcome("compare", "skipped", 0.0)
    started = time.monotonic()
    baseline = next((t for t in tasks if t.name == "baseline"), None)
    if baseline is not None:  # a failed comparison must not leave an older run's frontier looking current
        for stale in FRONTIER_FILES:
            (out_dir / baseline.name / stale).unlink(missing_ok=True)
    with local_pool(1) as (pool, _):
        future = pool.submit(_compare, str(out_dir.resolve()), [t.name for t in tasks],
                             baseline.scenario_path if baseline else "", timeout)
        state, error = first_done([future]).pop().result()
    return Outcome("compare", state, round(time.monotonic() - started, 2), error)


def report_state(outcome: Outcome) -> str:
    """A skipped scenario is up to date, so its last run was ok."""
    return "ok" if outcome.state == "skipped" else outcome.state


def read_manifest(out_dir: Path) -> dict[str, Any]:
    try:
        return json.loads((out_dir / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def write_manifest(report: BatchReport) -> None:
    """Every file of this batch on disk now with its SHA-256, each scenario's status, the versions that made
    them, and the batch's own state: "running" (not a claim that anything is complete), "complete" or
    "stopped"; `exit_code` is null while it runs."""
    from vru_model.analysis.results import versions

    out = report.out_dir
    files: dict[str, dict[str, Any]] = {}
    candidates = [out / f for f in ("index.html", GLOSSARY, "compare.html", "compare.ipynb", "allocations.xlsx")]
    for t in report.tasks:
        candidates += [out / t.name / f for f in (*SCENARIO_FILES, *CLIFF_EDGE_FILES, *FRONTIER_FILES, STAMP)]
    for path in candidates:
        if path.is_file():
            files[path.relative_to(out).as_posix()] = {"sha256": sha256_file(path), "bytes": path.stat().st_size}
    scenarios = {}
    for t in report.tasks:
        o = report.outcomes[t.name]
        folder = out / t.name
        summary = read_summary(folder) or {}
        stamp = read_stamp(folder)
        scenarios[t.name] = {"title": t.title, "report": report_state(o), "rerun": o.state != "skipped",
                             "status": summary.get("status") if o.state in DONE else None,
                             "error": o.error or stamp.get("error", ""),
                             "seconds": stamp.get("seconds"), "key": t.key, "scenario_file": t.scenario_path}
    compare = report.compare
    compare_entry = {"state": report_state(compare), "key": report.compare_key, "error": compare.error}
    manifest = {
        "generated": utc_now(),
        "state": report.state,
        "started": report.started,
        "versions": versions(),
        "code_hash": code_hash(),
        "exit_code": report.exit_code,
        "scenarios": scenarios,
        "compare": compare_entry,
        "files": files,
    }
    atomic_write_text(out / "manifest.json", json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")


def outcome_lines(report: BatchReport) -> list[str]:
    """One line per scenario for the terminal."""
    lines = []
    for t in report.tasks:
        o = report.outcomes[t.name]
        summary = read_summary(report.out_dir / t.name) or {}
        what = {"ok": "report ready", "skipped": "up to date", "failed": "REPORT FAILED",
                "timed_out": "REPORT TIMED OUT", "stopped": "STOPPED", "cancelled": "not run",
                "queued": "not run", "running": "STOPPED"}[o.state]
        extra = (f" ({summary.get('status')})" if o.state in ("ok", "skipped") and summary else
                 f": {o.error}" if o.error else "")
        lines.append(f"{t.name}: {what}{extra}")
    return lines

