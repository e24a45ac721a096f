"""Benchmark: the allocation model on the baseline (36 months). Build time, solve time, the whole
`solve()` (with the LP re-solve for shadow prices and the result tables), and the Pyomo overhead as
a ratio: Pyomo build + solve against HiGHS reading the same model's MPS export and solving it directly.
Medians of a few repetitions; prints a table; asserts nothing.

Targets (README): build + solve under 1 s on a 2-core machine; overhead ratio under 1.5.

    .venv/bin/python benchmarks/bench_model.py            # 5 repetitions
    .venv/bin/python benchmarks/bench_model.py --quick    # 2 repetitions
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

import highspy

from vru_model import load_scenario
from vru_model.analysis.solve import solve
from vru_model.model.build import build_model
from vru_model.model.data import prepare
from vru_model.solving.solver import solve_model
from vru_model.solving.status import Status

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "scenarios" / "baseline.yaml"


class Clock:
    """Wall and CPU time of each stage (CPU time is steadier on a machine shared with other work)."""

    def __init__(self) -> None:
        self.stages: dict[str, tuple[float, float]] = {}
        self._last = (time.perf_counter(), time.process_time())

    def lap(self, name: str) -> None:
        now = (time.perf_counter(), time.process_time())
        self.stages[name] = (now[0] - self._last[0], now[1] - self._last[1])
        self._last = now

    def reset(self) -> None:
        self._last = (time.perf_counter(), time.process_time())


def one_run(path: Path, mps: Path) -> dict[str, tuple[float, float]]:
    """Time each stage once, on a fresh model: {stage: (wall seconds, CPU seconds)}."""
    scenario = load_scenario(path)
    clock = Clock()
    model = build_model(scenario, prepare(scenario))
    clock.lap("build")
    status, res = solve_model(scenario, model, threads=1)
    clock.lap("solve")
    if status != Status.OPTIMAL:
        raise SystemExit(f"{scenario.name}: {status.value}, cannot benchmark")
    pyomo_objective = res.incumbent_objective
    model.write(str(mps), io_options={"symbolic_solver_labels": False})

    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("threads", 1)
    h.setOptionValue("random_seed", 0)
    h.setOptionValue("mip_rel_gap", scenario.policy.mip_rel_gap)
    clock.reset()
    h.readModel(str(mps))
    clock.lap("direct_read")
    h.run()
    clock.lap("direct_run")
    direct_objective = h.getInfo().objective_function_value
    if abs(abs(direct_objective) - abs(pyomo_objective)) > 1e-3 * max(1.0, abs(pyomo_objective)):
        raise SystemExit(f"objectives differ: Pyomo {pyomo_objective}, direct {direct_objective}")
    clock.reset()
    solve(scenario)
    clock.lap("solve_full")
    st = clock.stages
    st["build_solve"] = (st["build"][0] + st["solve"][0], st["build"][1] + st["solve"][1])
    st["direct"] = (st["direct_read"][0] + st["direct_run"][0], st["direct_read"][1] + st["direct_run"][1])
    st["size"] = (model.nconstraints(), model.nvariables())
    return st


ROWS = [
    ("build", "build (prepare + build_model)", ""),
    ("solve", "solve (`solver.solve_model`, the scenario's `policy.solver_interface`)", ""),
    ("build_solve", "**build + solve**", "< 1.0 s"),
    ("direct_read", "highspy direct: readModel (MPS)", ""),
    ("direct_run", "highspy direct: run", ""),
    ("direct", "highspy direct: read + run", ""),
    ("solve_full", "whole `solve()` (+ LP re-solve for shadow prices, result tables)", ""),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="two repetitions instead of five")
    parser.add_argument("--scenario", type=Path, default=BASELINE)
    args = parser.parse_args()
    logging.getLogger("pyomo").setLevel(logging.ERROR)
    reps = 2 if args.quick else 5
    with tempfile.TemporaryDirectory() as tmp:
        mps = Path(tmp) / "model.mps"
        one_run(args.scenario, mps)  # warm-up: imports, caches
        runs = [one_run(args.scenario, mps) for _ in range(reps)]
    med = {k: (statistics.median(r[k][0] for r in runs), statistics.median(r[k][1] for r in runs)) for k in runs[0]}
    rows, cols = (int(x) for x in runs[0]["size"])
    ratio = tuple(med["build_solve"][k] / med["direct"][k] for k in (0, 1))

    print(f"\n## Allocation model: {args.scenario.stem} ({rows} constraints, {cols} variables; median of {reps} "
          f"runs, each stage's median; Python {platform.python_version()}, {os.cpu_count()} CPUs, 1 solver thread)\n")
    print("| stage | wall s | CPU s | target |")
    print("|---|---|---|---|")
    for key, label, target in ROWS:
        wall, cpu = med[key]
        verdict = ""
        if target:
            verdict = f"{target}: {'met' if wall < 1.0 else 'missed'} (wall)"
        print(f"| {label} | {wall:.3f} | {cpu:.3f} | {verdict} |")
    print(f"| **Pyomo overhead ratio**: (build + solve) / (read + run) | {ratio[0]:.2f} | {ratio[1]:.2f} | "
          f"< 1.5: {'met' if ratio[1] < 1.5 else 'missed'} (CPU) |")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"\nLoad average during the run: {load:.1f} (wall times grow when other work shares the CPUs).")


if __name__ == "__main__":
    main()
