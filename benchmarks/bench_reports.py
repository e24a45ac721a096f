"""Benchmark: the finance batch. Per-report time against the floor (papermill running an empty notebook
on the same IPC kernel), and the speed-up of 2 workers over 1 on the same scenarios, in one run.
Prints a table; asserts nothing.

    .venv/bin/python benchmarks/bench_reports.py            # every shipped scenario, floor x3
    .venv/bin/python benchmarks/bench_reports.py --quick    # 4 scenarios, floor x2
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

import nbformat

from vru_model.apps.batch import discover, execute, run_batch

ROOT = Path(__file__).resolve().parent.parent


def floor_seconds(tmp: Path, repetitions: int) -> float:
    """A bare papermill run of an empty notebook: kernel start-up, one empty cell, shut-down."""
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("")],
                                  metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                           "language": "python"}})
    empty = tmp / "empty.ipynb"
    nbformat.write(nb, empty)
    times = []
    for k in range(repetitions):
        started = time.perf_counter()
        state, error = execute(empty, tmp / f"empty-out-{k}.ipynb", {}, 120)
        times.append(time.perf_counter() - started)
        if state != "ok":
            raise SystemExit(f"the empty notebook failed: {error}")
    return statistics.median(times)


def batch_seconds(scenarios: list[Path], out: Path, workers: int) -> tuple[float, float, list[float]]:
    """Whole batch wall time, the reports phase alone (without the comparison report), and each report's time."""
    started = time.perf_counter()
    report = run_batch(scenarios, out, workers=workers, force=True, progress=False)
    total = time.perf_counter() - started
    failed = report.failed
    if failed:
        raise SystemExit(f"reports failed: {failed}")
    per = [json.loads((out / t.name / "stamp.json").read_text())["seconds"] for t in report.tasks]
    return total, total - report.compare.seconds, per


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="4 scenarios and 2 floor runs")
    args = parser.parse_args()
    scenarios = discover([])
    if args.quick:
        scenarios = scenarios[:4]
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        floor = floor_seconds(tmp, 2 if args.quick else 3)
        one = batch_seconds(scenarios, tmp / "one", workers=1)
        two = batch_seconds(scenarios, tmp / "two", workers=2)
    n = len(scenarios)
    per_report = statistics.median(one[2])
    print(f"\n## Finance batch: {n} scenarios ({', '.join(p.stem for p in scenarios)})\n")
    print("| measure | seconds |")
    print("|---|---|")
    print(f"| floor: papermill, empty notebook, IPC kernel (median) | {floor:.2f} |")
    print(f"| one report, 1 worker (median; kernel start + solve + charts + HTML) | {per_report:.2f} |")
    print(f"| one report above the floor | {per_report - floor:.2f} |")
    print(f"| reports phase, 1 worker | {one[1]:.1f} |")
    print(f"| reports phase, 2 workers | {two[1]:.1f} |")
    print(f"| whole batch (with comparison, index, spreadsheet, manifest), 1 worker | {one[0]:.1f} |")
    print(f"| whole batch, 2 workers | {two[0]:.1f} |")
    print(f"\nSpeed-up of 2 workers over 1 (reports phase): {one[1] / two[1]:.2f}x; whole batch: "
          f"{one[0] / two[0]:.2f}x.")
    print(f"Load average during the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs "
          "(wall times grow when other work shares the CPUs).")


if __name__ == "__main__":
    main()
