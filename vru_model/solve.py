"""Solving a scenario: build, run HiGHS (see `solver`), read back a `Result`.

After an optimal MIP the binaries are pinned and the LP is re-solved on the same persistent solver
for shadow prices (HiGHS gives no duals for a MIP; `ModelSolver.lp_duals`). An infeasible scenario
is handed to `diagnostics` for an explanation.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any

import pyomo.environ as pyo

from vru_model.data import ModelData, prepare
from vru_model.decisions import annotate, reductions
from vru_model.diagnostics import explain
from vru_model.model import build_model
from vru_model.results import make_result
from vru_model.schema import Scenario
from vru_model.solver import Status, open_solver, solve_model

# Rules whose cost is worth a what-if re-solve: the optimum without the rule, less the optimum with it.
# They act on yes/no decisions, so the LP duals (which hold those decisions fixed) cannot price them.
PRICED_RULES: dict[str, tuple[str, ...]] = {
    "commissioning_minimum": ("commissioning_minimum",),
    "central_capability_floor": ("central_capability_floor",),
    "committed_contracts": ("committed_contracts",),
    "notice_periods": ("notice", "notice_before_horizon"),
    "protected_services": ("protected_services",),
}


def rule_costs(scenario: Scenario, data: ModelData, objective: float, threads: int = 1) -> list[dict[str, Any]]:
    """What each grant rule costs in value: re-solve without it (exactly, not at the margin)."""
    found = []
    for rule, components in PRICED_RULES.items():
        model = build_model(scenario, data)
        present = [getattr(model, c) for c in components if hasattr(model, c) and len(getattr(model, c)) > 0]
        if not present:
            continue
        for component in present:
            component.deactivate()
        status, _ = solve_model(scenario, model, threads)
        if status != Status.OPTIMAL:
            continue
        without = float(pyo.value(model.objective))
        slack = 2 * scenario.policy.mip_rel_gap * max(1.0, abs(objective)) + 1.0
        cost = without - objective
        found.append({
            "rule": rule, "cost": round(cost, 2) if cost > slack else 0.0, "optimum_without": round(without, 2),
        })
    return found


def protect(scenario: Scenario, names: list[str]) -> Scenario:
    """The scenario with these services protected (as `--set interventions.<id>.protected=true` does)."""
    items = {**scenario.interventions}
    for i in names:
        items[i] = items[i].model_copy(update={"protected": True})
    return scenario.model_copy(update={"interventions": items})


def costs_to_keep(
    scenario: Scenario, data: ModelData, objective: float, names: list[str], threads: int = 1
) -> dict[str, float | None]:
    """What the plan loses if each named service is kept running at its scale to the end of the plan:
    the optimum less the optimum of a re-solve with that service protected (None if no lawful plan keeps it).

    A loss inside the solver's gap is reported as 0."""
    found: dict[str, float | None] = {}
    slack = 2 * scenario.policy.mip_rel_gap * max(1.0, abs(objective)) + 1.0
    for i in dict.fromkeys(names):
        kept = protect(scenario, [i])
        model = build_model(kept, dataclasses.replace(data, scenario=kept))
        status, _ = solve_model(kept, model, threads)
        if status != Status.OPTIMAL:
            found[i] = None
            continue
        cost = objective - float(pyo.value(model.objective))
        found[i] = round(cost, 2) if cost > slack else 0.0
    return found


def solve(
    scenario: Scenario,
    *,
    threads: int = 1,
    data: ModelData | None = None,
    shadow_prices: bool = True,
    price_rules: bool = False,
):
    """Build, solve and read back one scenario. Returns a `Result` whatever the outcome.

    `price_rules` adds a what-if re-solve per grant rule (a few tenths of a second each on the baseline),
    for reports; the explorer and the tests leave it off."""
    started = time.perf_counter()
    data = data or prepare(scenario)
    model = build_model(scenario, data)
    built = time.perf_counter()
    solver = open_solver(scenario, model, threads)
    status, res = solver.solve()
    solved = time.perf_counter()
    duals: dict[Any, float] = {}
    if status == Status.OPTIMAL and shadow_prices:
        duals = solver.lp_duals()
    costs = None
    if status == Status.OPTIMAL and price_rules and scenario.policy.objective == "max_value":
        costs = rule_costs(scenario, data, float(pyo.value(model.objective)), threads)
    explanation = None
    if status == Status.INFEASIBLE:
        explanation = explain(scenario, data, model)
    timings = {
        "build_seconds": built - started,
        "solve_seconds": solved - built,
        "total_seconds": time.perf_counter() - started,
    }
    result = make_result(scenario, data, model, status, res, duals, explanation, timings, costs)
    if result.objective is not None:
        keep = None
        if price_rules and status == Status.OPTIMAL and scenario.policy.objective == "max_value":
            changed = [c["intervention"] for c in result.summary["closures"]]
            changed += [r["intervention"] for r in reductions(scenario, result.allocation)]
            keep = costs_to_keep(scenario, data, result.objective, changed, threads)
        annotate(scenario, data, result.summary, result.allocation, keep)
    return result
