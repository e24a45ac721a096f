"""Benchmark: how fast the project reaches HiGHS (issue 11's targets), every figure measured in this one run.

1. Overhead: the baseline built and solved through the project (prepare, build the Pyomo model, hand it to
   HiGHS, load the plan back) against HiGHS alone reading the same model's MPS file and solving it, with
   HiGHS's default settings and with the project's (`status.HIGHS_OPTIONS`). Target: at most 1.2x (the
   verdict is against the same settings, which isolates the cost of getting there). Both solver interfaces
   (`policy.solver_interface: direct | pyomo`) where present.
2. Two-stage: `late_confirmation` with 2 / 3 / 5 / 10 grant outcomes, the two-stage plan alone and with
   VSS and EVPI, against one deterministic baseline solve (part 1). Targets: 10 outcomes at most 8x,
   20 outcomes at most 15x (the two-stage plan as `vru cliff-edge` solves it, without the costs to keep
   each closing service that the report adds).
3. Scale: the baseline's 25 services copied to 500 and 2,000 (36 months), each solved in a fresh
   process that reports its peak memory (maxrss). Targets: 500 in under 20 s and 1 GB; 2,000 returns a plan
   within the default time limit (`policy.time_limit_seconds`, 60 s).

CPU seconds (one HiGHS thread) are the figures to compare: the machine is shared, so wall time is noisier.
Prints Markdown tables; asserts nothing.

    .venv/bin/python benchmarks/bench_solver.py            # everything (10 outcomes alone: over 10 minutes)
    .venv/bin/python benchmarks/bench_solver.py --quick    # 2 repetitions, 2 / 3 outcomes, 500 services
"""

from __future__ import annotations

import argparse
import copy
import inspect
import json
import logging
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import highspy

from vru_model import load_scenario
from vru_model.analysis.cliff_edge import solve_cliff_edge
from vru_model.model.build import build_model
from vru_model.model.data import prepare
from vru_model.scenario.load import load_dict, validate
from vru_model.scenario.schema import Scenario
from vru_model.solving import solver
from vru_model.solving import status as solver_status

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "scenarios" / "baseline.yaml"
LATE = ROOT / "scenarios" / "late_confirmation.yaml"
INTERFACES = ("direct", "pyomo") if hasattr(solver, "open_solver") else ("pyomo",)  # before issue 11: pyomo only


def with_interface(scenario: Scenario, interface: str) -> Scenario:
    if not hasattr(scenario.policy, "solver_interface"):
        return scenario
    return scenario.model_copy(update={"policy": scenario.policy.model_copy(update={"solver_interface": interface})})


def project_solve(scenario: Scenario) -> tuple[str, float | None, Any]:
    """prepare + build + solve through the project's solver path, plan loaded into the model."""
    model = build_model(scenario, prepare(scenario))
    if hasattr(solver, "solve_model"):
        status, info = solver.solve_model(scenario, model)
    else:
        status, info = solver.run_solver(solver.make_solver(scenario), model)
    return status.value, info.incumbent_objective if info is not None else None, model


def cpu_wall(fn, *args):
    w, c = time.perf_counter(), time.process_time()
    out = fn(*args)
    return out, time.process_time() - c, time.perf_counter() - w


def highs_alone(mps: Path, gap: float, options: dict[str, Any]) -> tuple[float, float, float]:
    h = highspy.Highs()
    settings = {"output_flag": False, "threads": 1, "random_seed": 0, "mip_rel_gap": gap, **options}
    for key, value in settings.items():
        h.setOptionValue(key, value)
    w, c = time.perf_counter(), time.process_time()
    h.readModel(str(mps))
    h.run()
    return h.getInfo().objective_function_value, time.process_time() - c, time.perf_counter() - w


def overhead(reps: int) -> float:
    """Part 1; returns the median CPU seconds of one deterministic baseline solve (the default interface)."""
    base = load_scenario(BASELINE)
    project_options = solver_status.highs_options()
    references = {"highs": {}, "highs_project": project_options} if project_options else {"highs": {}}
    rows: dict[str, list[tuple[float, float]]] = {k: [] for k in (*INTERFACES, *references)}
    with tempfile.TemporaryDirectory() as tmp:
        mps = Path(tmp) / "baseline.mps"
        _, _, model = project_solve(base)
        model.write(str(mps), io_options={"symbolic_solver_labels": False})
        size = (model.nconstraints(), model.nvariables())
        for k in range(reps + 1):  # the first round warms imports and caches and is not counted
            for interface in INTERFACES:
                (status, objective, _), cpu, wall = cpu_wall(project_solve, with_interface(base, interface))
                assert status == "optimal", status
                if k:
                    rows[interface].append((cpu, wall))
            for name, options in references.items():
                reference, cpu, wall = highs_alone(mps, base.policy.mip_rel_gap, options)
                if abs(abs(reference) - abs(objective or 0)) > 1e-3 * max(1.0, abs(reference)):
                    raise SystemExit(f"objectives differ: project {objective}, HiGHS alone {reference}")
                if k:
                    rows[name].append((cpu, wall))
    med = {k: (statistics.median(c for c, _ in v), statistics.median(w for _, w in v)) for k, v in rows.items()}
    print(f"\n## 1. Baseline build + solve against HiGHS alone ({size[0]:,} constraints, {size[1]:,} variables; "
          f"median of {reps})\n")
    floor = "highs_project" if project_options else "highs"
    hc, hd = med[floor][0], med["highs"][0]
    print("| path | CPU s | wall s | ratio to HiGHS alone, same settings (CPU) | ratio to HiGHS alone, its defaults "
          "| target |")
    print("|---|---|---|---|---|---|")
    for interface in INTERFACES:
        c, w = med[interface]
        label = f"project, `solver_interface: {interface}`" if len(INTERFACES) > 1 else "project (Pyomo interface)"
        verdict = f"<= 1.2: {'met' if c / hc <= 1.2 else 'missed'}" if interface == INTERFACES[0] else ""
        print(f"| {label} (prepare + build + solve + plan loaded) | {c:.3f} | {w:.3f} | {c / hc:.2f} | {c / hd:.2f} "
              f"| {verdict} |")
    print(f"| HiGHS alone: read the MPS file + solve, default settings | {hd:.3f} | {med['highs'][1]:.3f} | | 1.00 | |")
    if project_options:
        print(f"| HiGHS alone: read the MPS file + solve, the project's settings {project_options} | {hc:.3f} "
              f"| {med[floor][1]:.3f} | 1.00 | | |")
    return med[INTERFACES[0]][0]


def late_with(n: int) -> Scenario:
    """late_confirmation with n outcomes: the grant ends, or lands anywhere from half to all of the top level
    (levels just above zero would be infeasible, timing infeasibility detection rather than planning)."""
    base = load_scenario(LATE)
    assert base.uncertainty is not None
    top = max(o.amount for o in base.uncertainty.outcomes)
    outcomes = [{"name": "g00", "probability": 1.0 / n, "amount": 0.0}] + [
        {"name": f"g{k:02d}", "probability": 1.0 / n, "amount": round(top * (0.5 + 0.5 * k / max(1, n - 1)), 2)}
        for k in range(1, n)
    ]
    outcomes[-1]["probability"] = 1.0 - sum(o["probability"] for o in outcomes[:-1])
    return load_scenario(LATE, {"uncertainty.outcomes": outcomes, "policy.time_limit_seconds": 600.0})


# The two-stage solves alone: the costs to keep each closing service (one re-solve each) are the report's
# extra, not the plan's (older code has no such option)
PLAN_ONLY = {"costs_to_keep": False} if "costs_to_keep" in inspect.signature(solve_cliff_edge).parameters else {}


def two_stage(counts: list[int], deterministic: float) -> None:
    print(f"\n## 2. Two-stage `late_confirmation` against one deterministic baseline solve "
          f"({deterministic:.3f} CPU s)\n")
    print("| outcomes | two-stage plan: CPU s | ratio | target | with VSS and EVPI: CPU s | ratio | gap reported |")
    print("|---|---|---|---|---|---|---|")
    targets = {10: 8.0, 20: 15.0}
    for n in counts:
        scenario = late_with(n)
        plan, cpu, _ = cpu_wall(lambda s=scenario: solve_cliff_edge(s, value_of_information=False, **PLAN_ONLY))
        full, cpu_full, _ = cpu_wall(lambda s=scenario: solve_cliff_edge(s, **PLAN_ONLY))
        ratio = cpu / deterministic
        target = f"<= {targets[n]:g}x: {'met' if ratio <= targets[n] else 'missed'}" if n in targets else ""
        gap = full.summary.get("mip_gap")
        gap_text = f"{gap:.1e}" if isinstance(gap, float) else "n/a"
        print(f"| {n} | {cpu:.2f} ({plan.status.value}) | {ratio:.1f}x | {target} | {cpu_full:.2f} "
              f"({full.status.value}) | {cpu_full / deterministic:.1f}x | {gap_text} |")


def scaled_dict(copies: int) -> dict[str, Any]:
    """The baseline with every service copied `copies` times and every stream's money scaled to match."""
    data = load_dict(BASELINE)
    services = data["interventions"]
    data["interventions"] = {
        (name if k == 0 else f"{name}_c{k}"): copy.deepcopy(item)
        for k in range(copies)
        for name, item in services.items()
    }
    for stream in data["funding"].values():
        stream["amounts"] = {fy: amount * copies for fy, amount in (stream.get("amounts") or {}).items()}
        if stream.get("cap") is not None:
            stream["cap"] = stream["cap"] * copies
        if stream.get("eligible"):
            stream["eligible"] = [n if k == 0 else f"{n}_c{k}" for k in range(copies) for n in stream["eligible"]]
    data["name"] = f"baseline_x{copies}"
    if data.get("reference"):
        data["reference"]["core_grant"] = data["reference"]["core_grant"] * copies
    return data


def scale_child(copies: int) -> None:
    """Run in a fresh process: build and solve the scaled baseline, print one JSON line."""
    logging.getLogger("pyomo").setLevel(logging.ERROR)
    import scipy.sparse  # noqa: F401  Pyomo's compiler loads it on first use: an import (0.7 s), not solving
    scenario = validate(scaled_dict(copies), f"baseline x {copies}")
    (status, objective, _), cpu, wall = cpu_wall(project_solve, scenario)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    print(json.dumps({"services": len(scenario.interventions), "status": status, "objective": objective,
                      "cpu": cpu, "wall": wall, "peak_mib": peak,
                      "time_limit": scenario.policy.time_limit_seconds}))


def scale(sizes: list[int]) -> None:
    print("\n## 3. Scale: the baseline's services copied, 36 months, each in a fresh process\n")
    print("| services | status | CPU s | wall s | peak memory | target |")
    print("|---|---|---|---|---|---|")
    for services in sizes:
        copies = services // 25
        out = subprocess.run([sys.executable, __file__, "--scale-child", str(copies)], capture_output=True,
                             text=True, cwd=ROOT, check=False)
        lines = [ln for ln in out.stdout.splitlines() if ln.startswith("{")]
        if not lines:
            print(f"| {services} | failed: {out.stderr.strip().splitlines()[-1:]} | | | | |")
            continue
        r = json.loads(lines[-1])
        if services <= 500:
            met = r["wall"] < 20 and r["peak_mib"] < 1024 and r["status"] == "optimal"
            target = f"< 20 s and < 1 GB: {'met' if met else 'missed'}"
        else:
            met = r["status"] in ("optimal", "time_limit")
            target = f"a plan within {r['time_limit']:g} s: {'met' if met else 'missed'}"
        print(f"| {r['services']:,} | {r['status']} | {r['cpu']:.1f} | {r['wall']:.1f} | {r['peak_mib']:,.0f} MiB "
              f"| {target} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 repetitions, 2 and 3 outcomes, 500 services")
    parser.add_argument("--scale-child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--only", choices=["overhead", "two_stage", "scale"], action="append")
    args = parser.parse_args()
    logging.getLogger("pyomo").setLevel(logging.ERROR)
    if args.scale_child:
        scale_child(args.scale_child)
        return
    only = set(args.only or ["overhead", "two_stage", "scale"])
    load = os.getloadavg()[0]
    print(f"Python {platform.python_version()}, {os.cpu_count()} CPUs, 1 HiGHS thread, load average {load:.1f}, "
          f"interfaces: {', '.join(INTERFACES)}")
    deterministic = overhead(2 if args.quick else 5)
    if "two_stage" in only:
        # 10 outcomes took over 10 minutes on the contract-shaped model (README): --quick stops at 3
        two_stage([2, 3] if args.quick else [2, 3, 5, 10], deterministic)
    if "scale" in only:
        scale([500] if args.quick else [500, 2000])


if __name__ == "__main__":
    main()
