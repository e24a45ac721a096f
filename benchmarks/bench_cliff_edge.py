"""Benchmark: the funding frontier with one persistent solver against rebuilding the model and solver at
every level (target: persistent at least 3x faster at 151 levels), for each solver interface present.
Both sweeps of a row run in this one process, one after the other. Prints a table; asserts nothing.
(The two-stage cliff-edge timings are in bench_solver.py, next to the deterministic solve they are
compared with.)

    .venv/bin/python benchmarks/bench_cliff_edge.py            # small fixture + baseline, 151 levels
    .venv/bin/python benchmarks/bench_cliff_edge.py --quick    # small fixture only
"""

from __future__ import annotations

import argparse
import logging
import platform
import time
from pathlib import Path

from vru_model import load_scenario
from vru_model.analysis.frontier import frontier
from vru_model.scenario.schema import Scenario
from vru_model.solving import solver

ROOT = Path(__file__).resolve().parent.parent
SMALL = ROOT / "tests" / "fixtures" / "frontier_small.yaml"
BASELINE = ROOT / "scenarios" / "baseline.yaml"
INTERFACES = ("direct", "pyomo") if hasattr(solver, "open_solver") else ("pyomo",)  # before issue 11: pyomo only


def with_interface(scenario: Scenario, interface: str) -> Scenario:
    if not hasattr(scenario.policy, "solver_interface"):
        return scenario
    return scenario.model_copy(update={"policy": scenario.policy.model_copy(update={"solver_interface": interface})})


def bench_sweep(path: Path, steps: int, interface: str) -> None:
    scenario = with_interface(load_scenario(path), interface)
    timings = {}
    for persistent in (True, False):
        wall, cpu = time.perf_counter(), time.process_time()
        result = frontier(scenario, 0.0, 1.5, steps, persistent=persistent)
        timings[persistent] = (time.process_time() - cpu, time.perf_counter() - wall, result.summary["model_builds"])
        statuses = result.summary["statuses"]
    (kept, kept_wall, builds_kept), (rebuilt, rebuilt_wall, _) = timings[True], timings[False]
    ratio = rebuilt / kept
    print(
        f"| {scenario.name} | {interface} | {steps} | {kept:.1f} s ({kept_wall:.1f} s wall, {builds_kept} builds) "
        f"| {rebuilt:.1f} s ({rebuilt_wall:.1f} s wall) | {ratio:.2f}x | >= 3x: {'met' if ratio >= 3 else 'missed'} "
        f"| {statuses} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=151)
    parser.add_argument("--quick", action="store_true", help="small fixture only")
    args = parser.parse_args()
    logging.getLogger("pyomo").setLevel(logging.ERROR)

    print(f"machine: {platform.machine()}, Python {platform.python_version()}, 1 HiGHS thread; CPU seconds\n")
    print("Funding frontier, 0% to 150% of the scenario's core grant")
    print("| scenario | interface | levels | persistent solver | rebuild every level | speed-up | target | statuses |")
    print("|---|---|---|---|---|---|---|---|")
    for path in [SMALL] if args.quick else [SMALL, BASELINE]:
        for interface in INTERFACES:
            bench_sweep(path, args.steps, interface)


if __name__ == "__main__":
    main()
