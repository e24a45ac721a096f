"""Solving a scenario: build, run HiGHS (see `solver`), read back a `Result`.

After an optimal MIP the binaries are pinned and the LP is re-solved on the same persistent solver
for shadow prices (HiGHS gives no duals for a MIP; `ModelSolver.lp_duals`). An infeasible scenario
is handed to `diagnostics` for an explanation.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from typing import Any

import pyomo.environ as pyo

from vru_model.analysis.decisions import annotate, reductions, unkeepable
from vru_model.analysis.diagnostics import explain
from vru_model.analysis.objective import ObjectiveParts, gap_slack
from vru_model.analysis.results import GRANT_STEP, Result, make_result, rule_cost_texts
from vru_model.core.text import plural
from vru_model.model.build import apply_rule_bounds, build_model
from vru_model.model.data import ModelData, prepare
from vru_model.scenario.schema import Scenario
from vru_model.solving.solver import open_solver
from vru_model.solving.status import Status, Strategy

# Rules whose cost is worth a what-if re-solve: the optimum without the rule, less the optimum with it.
# They act on yes/no decisions, so the LP duals (which hold those decisions fixed) cannot price them.
# Each names the model's pieces that state it: rows (constraints) and bounds (`m.rule_bounds`).
PRICED_RULES: dict[str, tuple[str, ...]] = {
    "commissioning_minimum": ("commissioning_minimum",),
    "central_capability_floor": ("central_capability_floor",),
    "committed_contracts": ("committed_contracts",),
    "notice_periods": ("notice_before_horizon",),
    "protected_services": ("protected_services",),
}


def protect(scenario: Scenario, names: list[str]) -> Scenario:
    """The scenario with these services protected (as `--set interventions.<id>.protected=true` does)."""
    items = {**scenario.interventions}
    for i in names:
        items[i] = items[i].model_copy(update={"protected": True})
    return scenario.model_copy(update={"interventions": items})


class WhatIfs:
    """Re-solves of one scenario with a rule lifted, or with one service kept running, on one persistent
    solver: the model is built and compiled once (with every candidate service protected), and each
    what-if only lifts bounds and rows, so it costs a solve, not a build.

    Lifting a rule's rows sets their bounds to infinity in the solver; lifting its bounds restores the
    variables' own (`apply_rule_bounds`)."""

    def __init__(
        self, scenario: Scenario, data: ModelData, candidates: list[str], threads: int = 1,
        rel_gap: float | None = None,
        budget: float | None = None,
    ) -> None:
        self.scenario = scenario
        self.gap = scenario.policy.mip_rel_gap if rel_gap is None else rel_gap
        # Services the scenario does not protect already: their protection is the what-if's own
        self.candidates = [i for i in dict.fromkeys(candidates) if not scenario.interventions[i].protected]
        kept = protect(scenario, self.candidates)
        self.model = build_model(kept, dataclasses.replace(data, scenario=kept))
        self.solver = open_solver(kept, self.model, threads, rel_gap=self.gap, strategy=Strategy.MIP)
        self.kept: dict[str, Any] = {}  # see costs_to_keep
        # All the re-solves together get `budget` seconds (default policy.time_limit_seconds, which also caps
        # each one): a scenario of hundreds of services would otherwise spend hours on them (a minute each,
        # one per closure). What the budget leaves out is listed in `unmeasured` and reported as not measured.
        self.limit = scenario.policy.time_limit_seconds
        self.budget = self.limit if budget is None else budget
        self.deadline = time.perf_counter() + self.budget
        self.unmeasured: list[str] = []

    def _out_of_time(self, name: str) -> bool:
        """True (and `name` noted as unmeasured) when the budget is spent; else the next re-solve's time limit
        is what is left of it."""
        left = self.deadline - time.perf_counter()
        if left <= 0:
            self.unmeasured.append(name)
            return True
        self.solver.time_limit = min(self.limit, left)
        return False

    def budget_text(self) -> str:
        """A sentence for the report when the budget left anything out, else ''."""
        if not self.unmeasured:
            return ""
        rules = [n for n in self.unmeasured if n in PRICED_RULES]
        services = len(self.unmeasured) - len(rules)
        parts = ([plural(len(rules), "grant rule")] if rules else []) + (
            [f"keeping {plural(services, 'service')}"] if services else [])
        return (f"Not measured for lack of time: the cost of {' and of '.join(parts)}. The what-if re-solves "
                f"behind those figures have policy.time_limit_seconds ({self.budget:g} s) in all.")

    def _rows(self, rule: str, service: str | None = None) -> list[Any]:
        component = getattr(self.model, rule, None)
        if not isinstance(component, pyo.Constraint):
            return []
        return [c for k, c in component.items() if service is None or k[1] == service]

    def optimum(self, lifted: tuple[str, ...] = (), kept: str | None = None) -> tuple[Status, float | None]:
        """The optimum with the rules `lifted` and every candidate but `kept` unprotected."""
        others = [j for j in self.candidates if j != kept]
        without: list[Any] = list(lifted) + [("protected_services", j) for j in others]
        rows = [c for r in lifted for c in self._rows(r)]
        rows += [c for j in others for c in self._rows("protected_services", j)]
        apply_rule_bounds(self.model, without)
        self.solver.refresh_bounds()
        self.solver.set_rows_active(rows, False)
        try:
            status, _ = self.solver.solve()
        finally:
            self.solver.set_rows_active(rows, True)
        has_plan = status in (Status.OPTIMAL, Status.TIME_LIMIT)
        return status, float(pyo.value(self.model.objective)) if has_plan else None

    def _slack(self, objective: float) -> float:
        return gap_slack(self.gap, objective, pounds=1.0)

    def rule_costs(self, objective: float) -> list[dict[str, Any]]:
        """What each grant rule costs in value: the optimum without it, less `objective` (exactly, not at
        the margin)."""
        found = []
        for rule, pieces in PRICED_RULES.items():
            present = any(self._rows(p) or self.model.rule_bounds.get(p) for p in pieces)
            if not present or self._out_of_time(rule):
                continue
            status, without = self.optimum(lifted=pieces)
            if status != Status.OPTIMAL or without is None:  # stopped at its share of the budget
                self.unmeasured.append(rule)
                continue
            cost = without - objective
            found.append({
                "rule": rule, "cost": round(cost, 2) if cost > self._slack(objective) else 0.0,
                "optimum_without": round(without, 2),
            })
        return found

    def costs_to_keep(
        self, objective: float, names: list[str], read: Callable[[pyo.ConcreteModel], Any] | None = None
    ) -> dict[str, float | None]:
        """What the plan loses if each named service is kept running at its scale to the end of the plan
        (as if protected): `objective` less the optimum that keeps it, None if no lawful plan keeps it.
        A loss inside the solver's gap is reported as 0. `read`, if given, is called on the model holding
        each lawful kept plan, and what it returns is kept in `self.kept` by service (the cliff edge reads
        each outcome's value there, to say where keeping a service gains and where it loses)."""
        found: dict[str, float | None] = {}
        for i in dict.fromkeys(names):
            if i not in self.candidates:  # protected already: keeping it costs nothing more
                found[i] = 0.0
                continue
            if self._out_of_time(i):
                found[i] = None
                continue
            status, kept = self.optimum(kept=i)
            if status != Status.OPTIMAL:
                # Stopped at its time limit (often the sliver of budget left): its plan can be far from the best
                # that keeps the service (cut_50 at 0.3 s a re-solve: "£6.94m" where the cost is £26k), so the
                # cost is not measured. Infeasible: no lawful plan keeps it.
                if status != Status.INFEASIBLE:
                    self.unmeasured.append(i)
                found[i] = None
                continue
            if read is not None:
                self.kept[i] = read(self.model)
            cost = objective - kept
            found[i] = round(cost, 2) if cost > self._slack(objective) else 0.0
        return found


def measured_costs_to_keep(
    what_if: WhatIfs, result: Result, names: list[str]
) -> tuple[dict[str, float | None], dict[str, dict[str, float]]]:
    """What keeping each named service costs a solved plan (`WhatIfs.costs_to_keep`), and each cost in its parts
    against the plan's own (from its summary, as the explorer, which has no model to read, measures them too)."""
    assert result.objective is not None, "a plan with no solution has nothing to keep"
    keep = what_if.costs_to_keep(result.objective, names, read=ObjectiveParts.of)
    plan = ObjectiveParts.from_totals(result.summary["totals"])
    return keep, {i: plan.cost_to_keep(kept) for i, kept in what_if.kept.items()}


# The names the explorer measures costs to keep with (`measured_costs_to_keep` does the same in one call)
plan_parts = ObjectiveParts.of


def summary_parts(summary: dict[str, Any]) -> ObjectiveParts:
    return ObjectiveParts.from_totals(summary["totals"])


def cost_parts(plan: ObjectiveParts, kept: ObjectiveParts) -> dict[str, float]:
    return plan.cost_to_keep(kept)


def plan_changes(scenario: Scenario, result: Any) -> list[tuple[str, str]]:
    """(service, first month) of each closure and scale reduction of a solved plan."""
    found = [(c["intervention"], c["closes_from"]) for c in result.summary["closures"]]
    return found + [(r["intervention"], r["from"]) for r in reductions(scenario, result.allocation)]


def keepable(scenario: Scenario, data: ModelData, moves: list[tuple[str, str]]) -> list[str]:
    """The services of `moves` (`plan_changes`) closed or reduced in a year a core grant pays for: the ones a cost
    to keep means something for (`decisions.unkeepable`)."""
    return list(dict.fromkeys(i for i, month in moves if unkeepable(data, month, scenario.core_grant) is None))


def solve(
    scenario: Scenario,
    *,
    threads: int = 1,
    data: ModelData | None = None,
    shadow_prices: bool = True,
    price_rules: bool = False,
    model: pyo.ConcreteModel | None = None,
):
    """Build, solve and read back one scenario. Returns a `Result` whatever the outcome.

    `price_rules` adds a what-if re-solve per grant rule (a few tenths of a second each on the baseline),
    for reports; the explorer and the tests leave it off. `model`, from `build_model(scenario)`, is solved
    instead of a new one (an analyst's model with rules of their own)."""
    started = time.perf_counter()
    data = model.data if model is not None else data or prepare(scenario)
    model = model if model is not None else build_model(scenario, data)
    built = time.perf_counter()
    solver = open_solver(scenario, model, threads)
    status, res = solver.solve()
    solved = time.perf_counter()
    duals: dict[Any, float] = {}
    margins: dict[str, tuple[float, float]] = {}
    if status == Status.OPTIMAL and shadow_prices:
        duals = solver.lp_duals()
        # the direct interface; under min_grant the objective is grant, not value, and a margin means nothing
        if duals and hasattr(solver, "lp_margins") and scenario.policy.objective == "max_value":
            first = data.outcomes[0]
            margins = solver.lp_margins({y: model.grant[first.name, y] for y in data.fys
                                         if data.grant(first, y) > GRANT_STEP}, GRANT_STEP)
    explanation = None
    if status == Status.INFEASIBLE:
        explanation = explain(scenario, data, model)
    timings = {
        "build_seconds": built - started,
        "solve_seconds": solved - built,
        "total_seconds": time.perf_counter() - started,
    }
    result = make_result(scenario, data, model, status, res, duals, explanation, timings, margins=margins)
    if result.objective is not None:
        keep, parts = None, None
        if price_rules and status == Status.OPTIMAL and scenario.policy.objective == "max_value":
            moves = plan_changes(scenario, result)
            what_if = WhatIfs(scenario, data, [i for i, _month in moves], threads)
            costs = what_if.rule_costs(result.objective)
            prices = result.summary["shadow_prices"]
            prices["rule_costs"] = costs
            keep, parts = measured_costs_to_keep(what_if, result, keepable(scenario, data, moves))
            prices["text"] = prices.get("text", []) + rule_cost_texts(costs) + [t for t in [what_if.budget_text()] if t]
        annotate(scenario, data, result.summary, result.allocation, keep, keep_parts=parts)
    return result
