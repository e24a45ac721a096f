"""Benchmark: robustness samples per second, one persistent solver against rebuilding per sample, and 1
against 2 worker processes, all in one run. Prints a table; asserts nothing.

Targets (issue 10): 200 samples of the baseline in under 60 s on a 2-core machine, and a persistent re-solve
at least 3x faster per sample than a rebuild.

    .venv/bin/python benchmarks/bench_robustness.py            # baseline: 200 samples; rebuild on 40 of them
    .venv/bin/python benchmarks/bench_robustness.py --quick    # baseline: 20 samples; rebuild on 4 of them

The rebuild is timed on samples spread evenly over the draw (every fifth of 200), not the first ones: how a
sample is settled (an integral relaxation, a short branching on it, or HiGHS's MIP) varies from sample to
sample, and the first ten are not typical.

    .venv/bin/python benchmarks/bench_robustness.py --ratio    # cut_50: 40 samples with ranges against one solve

`--ratio` times `vru robustness scenarios/cut_50.yaml --samples 40 --seed 11` (samples, alternatives and
ranges.csv) and `vru solve scenarios/cut_50.yaml`, each as a command in one run, and prints the ratio
(target: at most 20).
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from vru_model import load_scenario
from vru_model.analysis.robustness import plan_values, run_samples
from vru_model.model.build import build_model
from vru_model.scenario.distributions import draw, uncertain_inputs, unit_values
from vru_model.solving.solver import solve_model

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "scenarios" / "baseline.yaml"


def timed(scenario, values, workers: int, persistent: bool, start):  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    rows = run_samples(scenario, values, workers=workers, persistent=persistent, start=start)
    seconds = time.perf_counter() - started
    assert len(rows) == len(values)
    return seconds, rows


def settled_by(rows) -> str:  # type: ignore[no-untyped-def]
    """How the samples were solved, in words: integral relaxation, branching on it, HiGHS's MIP."""
    kinds = Counter("integral LP relaxation" if "integral" in r["solved_by"]
                    else "branching on the relaxation" if "branching" in r["solved_by"]
                    else "HiGHS's MIP" for r in rows)
    return ", ".join(f"{k}: {n}" for k, n in kinds.most_common())


def command_seconds(*args: str) -> float:
    """Wall-clock seconds of one `vru` command (its start-up included, as a user waits for it)."""
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "vru_model", *args], check=True, cwd=ROOT, capture_output=True)
    return time.perf_counter() - started


def ratio(workers: int) -> None:
    """40 samples of cut_50 with alternatives and ranges against one `vru solve` of it, both as commands."""
    with tempfile.TemporaryDirectory() as out:
        solve = command_seconds("solve", "scenarios/cut_50.yaml", "--out", f"{out}/solve")
        sure = command_seconds("robustness", "scenarios/cut_50.yaml", "--samples", "40", "--seed", "11",
                               "--workers", str(workers), "--out", f"{out}/sure")
        summary = (Path(out) / "sure" / "cut_50" / "robustness" / "summary.json").read_text()
    print(f"vru solve cut_50: {solve:.1f} s; vru robustness cut_50 --samples 40 --seed 11 --workers {workers}: "
          f"{sure:.1f} s; ratio {sure / solve:.1f} (target at most 20)")
    print(summary[summary.index('"ranges"'):][:300])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20 samples (4 for the rebuild)")
    parser.add_argument("--samples", type=int, default=None)
    parser.add_argument("--ratio", action="store_true", help="cut_50: 40 samples with ranges against one solve")
    parser.add_argument("--workers", type=int, default=1, help="workers for --ratio")
    args = parser.parse_args()
    if args.ratio:
        ratio(args.workers)
        return
    n = args.samples or (20 if args.quick else 200)
    n_rebuild = 4 if args.quick else 40
    sc = load_scenario(BASELINE)
    inputs = uncertain_inputs(sc)
    values = [unit_values(sc, inputs, row) for row in draw(inputs, n, 0)]
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
          f"scenario {sc.name}, {len(inputs)} uncertain inputs, solver interface {sc.policy.solver_interface}\n")
    m = build_model(sc)
    solve_model(sc, m)
    start = plan_values(m)  # every sample starts from the recommended plan, as `vru robustness` does
    one, rows = timed(sc, values, 1, True, start)
    two, _ = timed(sc, values, 2, True, start)
    step = max(1, n // n_rebuild)
    spread = values[::step][:n_rebuild]
    rebuild, rebuilt_rows = timed(sc, spread, 1, False, start)
    same = [rows[k * step]["seconds"] for k in range(len(spread))]  # the persistent solver on those samples
    print("| run | samples | seconds | samples per second | seconds per sample |")
    print("|---|---|---|---|---|")
    for label, k, s in (("persistent, 1 worker", n, one), ("persistent, 2 workers", n, two),
                        ("rebuild per sample, 1 worker", n_rebuild, rebuild)):
        print(f"| {label} | {k} | {s:.1f} | {k / s:.2f} | {s / k:.3f} |")
    per_persistent, per_rebuild = one / n, rebuild / n_rebuild
    print(f"\nhow the {n} samples were solved: {settled_by(rows)}; the {n_rebuild} rebuilt: {settled_by(rebuilt_rows)}")
    per_same = sum(same) / len(same)
    print(f"\npersistent re-solve is {per_rebuild / per_persistent:.1f}x faster per sample than a rebuild "
          "(target 3x; the persistent figure includes its one build); on the same "
          f"{len(same)} samples, {per_same:.3f} s a sample persistent: {per_rebuild / per_same:.1f}x")
    print(f"2 workers are {one / two:.2f}x as fast as 1; {n} samples on 2 workers took {two:.1f} s "
          f"(target: 200 in under 60 s; scaled to 200: {two * 200 / n:.0f} s)")


if __name__ == "__main__":
    main()
