"""The batch: plan, take the output folder, run what is out of date in a pool while publishing each report as it
comes back, then the comparison and the workbook; Ctrl-C or an error leaves the index saying what happened."""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from pathlib import Path
from typing import Any

from vru_model.apps.batch.ctrl_c import CTRL_C, ctrl_c_stops_the_batch, deferred_interrupt, first_done
from vru_model.apps.batch.folders import publish, recover
from vru_model.apps.batch.lock import batch_lock
from vru_model.apps.batch.planning import (
    COMPARE_NOTEBOOK,
    REPORT_NOTEBOOK,
    Outcome,
    Task,
    discover,
    plan,
    sha256_file,
    up_to_date,
    utc_now,
)
from vru_model.apps.batch.publishing import BatchReport, read_manifest, report_state, run_compare, show
from vru_model.apps.batch.worker import Rendered, job_for, render
from vru_model.core.files import check_output_dir
from vru_model.core.pools import executor
from vru_model.present.workbook import Entry, write_workbook


def run_batch(
    paths: Sequence[Path],
    out_dir: Path,
    *,
    workers: int = 2,
    timeout: float = 600.0,
    scheduler: str | Any | None = None,
    force: bool = False,
    notebook: Path = REPORT_NOTEBOOK,
    progress: bool = True,
    samples: int = 0,
    ranges: str = "none",
    wait: bool = False,
    say: Callable[[str], None] = lambda text: print(text, file=sys.stderr),
) -> BatchReport:
    """Plan (validating everything first), check the output folder, take its lock, run what is out of date
    (the index saying so while it runs), then write the batch-level outputs. Ctrl-C stops the reports that
    run, starts no other, and returns a report in state "stopped" whose index says which were stopped; any
    other error leaves the same marks before it is raised."""
    tasks = plan(discover(paths), out_dir, notebook=notebook, timeout=timeout, samples=samples,
                 ranges=ranges)
    check_output_dir(out_dir)
    with batch_lock(out_dir, wait=wait, say=say), ctrl_c_stops_the_batch():
        previous = read_manifest(out_dir)
        if previous.get("state") == "running":
            say(f"the batch into {out_dir} started {previous.get('started', '?')} did not finish; its index and "
                "manifest are repaired by this run")
        recover(out_dir)
        todo = [t for t in tasks if force or not up_to_date(t)]
        outcomes = {t.name: Outcome(t.name, "queued" if t in todo else "skipped", 0.0) for t in tasks}
        compare_key = hashlib.sha256(json.dumps([[t.name, t.key] for t in tasks] + [sha256_file(COMPARE_NOTEBOOK)]
                                                ).encode()).hexdigest()
        report = BatchReport(out_dir, tasks, outcomes, Outcome("compare", "queued", 0.0), compare_key, "running",
                             utc_now())
        try:
            show(report)
            _run_reports(report, todo, workers, scheduler, progress)
            report.compare = run_compare(out_dir, tasks, timeout, compare_key, previous.get("compare", {}),
                                         force=force or bool(todo))
        except BaseException as exc:  # Ctrl-C above all, but also a disk that fills up or a lost cluster
            CTRL_C.pending = False  # this Ctrl-C is handled here; a second one is raised once the marks are left
            with deferred_interrupt():  # a second Ctrl-C must not cut this short
                report.outcomes = {n: Outcome(n, {"running": "stopped", "queued": "cancelled"}.get(o.state, o.state),
                                              o.seconds, o.error) for n, o in report.outcomes.items()}
                if report.compare.state in ("queued", "running"):
                    report.compare = Outcome("compare", "cancelled", 0.0)
                report.state = "stopped"
                recover(out_dir)  # what a stopped worker was writing (the comparison's partial notebook)
                show(report)
            if isinstance(exc, KeyboardInterrupt):
                return report
            raise
        with deferred_interrupt(last=True):
            write_workbook(out_dir, [Entry(t.name, t.title, report_state(report.outcomes[t.name])) for t in tasks])
            report.state = "complete"
            show(report)
    return report


def _run_reports(report: BatchReport, todo: list[Task], workers: int, scheduler: str | Any | None,
                 progress: bool) -> None:
    """Feed the pool no more reports than it runs at once (so nothing waits in it to be cancelled), publish
    each as it comes back, and keep the index in step."""
    from tqdm import tqdm

    tasks, outcomes = report.tasks, report.outcomes
    queue = list(todo)
    with tqdm(total=len(tasks), initial=len(tasks) - len(todo), desc="scenario reports", unit="report",
              disable=not progress, file=sys.stderr) as bar:
        if not queue:
            return
        with executor(workers, scheduler) as (pool, capacity):
            running: dict[Future[Rendered], Task] = {}
            while queue or running:
                while queue and len(running) < capacity:
                    task = queue.pop(0)
                    running[pool.submit(render, job_for(task))] = task
                    outcomes[task.name] = Outcome(task.name, "running", 0.0)
                    show(report)
                done = first_done(running)
                for future in done:
                    task = running.pop(future)
                    try:
                        rendered = future.result()
                    except Exception as exc:  # the worker itself failed (not the notebook)
                        rendered = Rendered(task.name, "failed", f"{type(exc).__name__}: {exc}", 0.0, {})
                    with deferred_interrupt():
                        publish(Path(task.out_dir), rendered, task.key)
                        outcomes[task.name] = Outcome(task.name, rendered.state, rendered.seconds, rendered.error)
                    show(report)
                    bar.set_postfix_str(f"{task.name}: {rendered.state}")
                    bar.update()


def run_one(task: Task) -> Outcome:
    """Render one scenario's report and publish it into OUT/<name>/ (the local path, without a pool)."""
    rendered = render(job_for(task))
    publish(Path(task.out_dir), rendered, task.key)
    return Outcome(task.name, rendered.state, rendered.seconds, rendered.error)
