"""Benchmark: the funding frontier with one persistent solver against rebuilding at every level, and the
two-stage cliff-edge solve as the number of grant outcomes grows. Prints tables; asserts nothing.

    .venv/bin/python benchmarks/bench_cliff_edge.py            # baseline + small fixture, 151 levels
    .venv/bin/python benchmarks/bench_cliff_edge.py --quick    # small fixture only, fewer outcomes
"""

from __future__ import annotations

import argparse
import logging
import platform
import time
from pathlib import Path

import pyomo.environ as pyo

from vru_model import load_scenario
from vru_model.data import prepare
from vru_model.model import build_model
from vru_model.solver import make_solver, run_solver
from vru_model.sweep import frontier

ROOT = Path(__file__).resolve().parent.parent
SMALL = ROOT / "tests" / "fixtures" / "frontier_small.yaml"
BASELINE = ROOT / "scenarios" / "baseline.yaml"
LATE = ROOT / "scenarios" / "late_confirmation.yaml"


def bench_sweep(path: Path, steps: int) -> None:
    scenario = load_scenario(path)
    timings = {}
    for persistent in (True, False):
        started = time.perf_counter()
        result = frontier(scenario, 0.0, 1.5, steps, persistent=persistent)
        seconds = time.perf_counter() - started
        timings[persistent] = (seconds, result.summary["model_builds"], result.summary["statuses"])
    (kept, builds_kept, statuses), (rebuilt, builds_rebuilt, _) = timings[True], timings[False]
    print(
        f"| {scenario.name} | {steps} | {kept:.1f} s ({builds_kept} builds) "
        f"| {rebuilt:.1f} s ({builds_rebuilt} builds) | {rebuilt / kept:.2f}x | {statuses} |"
    )


def bench_two_stage(path: Path, counts: list[int], horizon: int | None) -> None:
    base = load_scenario(path)
    assert base.uncertainty is not None
    unc = base.uncertainty
    top = max(o.amount for o in unc.outcomes)
    for n in counts:
        # The grant ends (0) or lands anywhere from half to all of the top level. Levels just above zero
        # would be infeasible (a grant too small for the mandatory central products), and one infeasible
        # outcome makes the whole plan infeasible: that would time infeasibility detection, not planning.
        outcomes = [{"name": "g00", "probability": 1.0 / n, "amount": 0.0}] + [
            {"name": f"g{k:02d}", "probability": 1.0 / n, "amount": round(top * (0.5 + 0.5 * k / max(1, n - 1)), 2)}
            for k in range(1, n)
        ]
        outcomes[-1]["probability"] = 1.0 - sum(o["probability"] for o in outcomes[:-1])
        overrides = {"uncertainty.outcomes": outcomes, "policy.time_limit_seconds": 600.0}
        if horizon:
            overrides["horizon.months"] = horizon
        scenario = load_scenario(path, overrides)
        started = time.perf_counter()
        model = build_model(scenario, prepare(scenario, two_stage=True))
        built = time.perf_counter()
        status, _ = run_solver(make_solver(scenario), model)
        solved = time.perf_counter()
        variables = sum(len(v) for v in model.component_objects(pyo.Var))
        print(
            f"| {scenario.name} | {scenario.horizon.months} | {n} | {variables} | {built - started:.2f} s "
            f"| {solved - built:.2f} s "
            f"| {solved - started:.2f} s | {status.value} |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=151)
    parser.add_argument("--quick", action="store_true", help="small fixture only; outcomes 2, 5")
    parser.add_argument("--horizon-months", type=int, default=None, help="shorten the two-stage scenario")
    parser.add_argument("--two-stage-only", action="store_true", help="skip the frontier sweeps")
    args = parser.parse_args()
    logging.getLogger("pyomo.core").setLevel(logging.ERROR)  # round-off warnings on loading a solution

    print(f"machine: {platform.machine()}, Python {platform.python_version()}, 1 HiGHS thread\n")
    print("Funding frontier, 0% to 150% of the scenario's core grant")
    print("| scenario | levels | persistent solver | rebuild every level | speed-up | statuses |")
    print("|---|---|---|---|---|---|")
    for path in [] if args.two_stage_only else [SMALL] if args.quick else [SMALL, BASELINE]:
        if path.is_file():
            bench_sweep(path, args.steps)

    print("\nTwo-stage cliff-edge solve (recourse problem only) as grant outcomes grow")
    print("| scenario | months | outcomes | variables | build | solve | total | status |")
    print("|---|---|---|---|---|---|---|---|")
    source = LATE if LATE.is_file() and not args.quick else ROOT / "tests" / "fixtures" / "cliff_edge_two_year.yaml"
    bench_two_stage(source, [2, 5] if args.quick else [2, 5, 10, 20], args.horizon_months)


if __name__ == "__main__":
    main()
