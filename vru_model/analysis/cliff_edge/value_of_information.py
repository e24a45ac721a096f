"""What the grant's uncertainty costs: the value of the stochastic solution (VSS: planning for the outcomes
against planning for the expected grant) and the expected value of perfect information (EVPI: knowing the
grant at the start).

The wait-and-see problem and the second step of the expected-grant evaluation fall apart by outcome (nothing
ties the outcomes together), so they are solved one outcome at a time (`_solve_by_outcome`). VSS and EVPI are
differences of solves stopped at a relative MIP gap, so a negative one within twice that gap is reported as zero.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pyomo.environ as pyo

from vru_model.analysis.objective import ObjectiveParts, breakdown_difference, gap_slack
from vru_model.model.build import build_model
from vru_model.model.data import ModelData, Outcome
from vru_model.scenario.schema import Scenario
from vru_model.solving.solver import solve_model
from vru_model.solving.status import Status, mip_gap

SHARED_VARS = ("scale", "on", "notice_served")  # the here-and-now decisions (shared variables; notice: expressions)


def _within_gap(x: float, reference: float, rel_gap: float) -> float:
    """VSS and EVPI are >= 0 in exact arithmetic; a tiny negative is the MIP gap talking, so report 0."""
    tol = gap_slack(rel_gap, reference, pounds=1e-6)
    return 0.0 if -tol < x < 0 else x


def _solve_by_outcome(
    sc: Scenario, d: ModelData, threads: int, gap: float, fixed: dict[tuple[str, str, str], float] | None = None
) -> tuple[Status, float | None, dict[str, float], float | None, ObjectiveParts | None]:
    """Each outcome's own problem, solved on its own: with nothing tying the outcomes together (no
    non-anticipativity, or the shared decisions `fixed` as {(var, i, t): value}) the two-stage problem is
    the sum of these. Returns (status, sum_w p_w objective_w, {w: value - losses}, the worst gap, the
    probability-weighted objective parts)."""
    total, per, worst = 0.0, {}, 0.0
    parts = ObjectiveParts(0.0, 0.0, 0.0, 0.0, 0.0)
    for o in d.outcomes:
        alone = build_model(sc, dataclasses.replace(d, outcomes=[Outcome(o.name, 1.0, o.core_amounts)]))
        alone.commitments = pyo.ConstraintList()
        for (var, i, t), value in (fixed or {}).items():
            target = getattr(alone, var)[o.name, i, t]
            if target.is_variable_type():
                if not target.fixed:
                    target.fix(value)
            elif not isinstance(target.expr, (int, float)):  # notice served: an expression of the closures
                alone.commitments.add(target == value)
        status, info = solve_model(sc, alone, threads, rel_gap=gap)
        if status != Status.OPTIMAL:
            return status, None, {}, None, None
        total += o.probability * float(pyo.value(alone.objective))
        parts += ObjectiveParts.of(alone).weighted(o.probability)
        per[o.name] = float(pyo.value(alone.value[o.name] - alone.losses[o.name]))
        worst = max(worst, mip_gap(info) or 0.0)
    return Status.OPTIMAL, total, per, worst, parts


def _wait_and_see(
    sc: Scenario, d: ModelData, threads: int, gap: float
) -> tuple[float | None, dict[str, float], float | None, ObjectiveParts | None]:
    """Each outcome planned with its grant known from the start: the two-stage model without
    non-anticipativity, whose outcomes decouple (sum_w p_w WS_w), solved one outcome at a time.
    Returns (WS or None, {w: WS_w}, the worst gap, the parts)."""
    status, ws, per, achieved, parts = _solve_by_outcome(sc, d, threads, gap)
    return (ws, per, achieved, parts) if status == Status.OPTIMAL else (None, {}, None, None)


def expected_outcome(d: ModelData) -> Outcome:
    """The outcome with the probability-weighted core grant in every year: in the uncertain year and, when
    the outcome persists, in every later year too. Independent of the order the outcomes are listed in."""
    years = {fy for o in d.outcomes for fy in o.core_amounts}
    amounts = {fy: sum(o.probability * o.core_amounts.get(fy, 0.0) for o in d.outcomes) for fy in sorted(years)}
    return Outcome("expected", 1.0, amounts)


def _expected_grant_plan(
    sc: Scenario, d: ModelData, threads: int, gap: float
) -> tuple[float | None, str, ObjectiveParts | None, float | None]:
    """EEV: plan for the probability-weighted grant, commit its pre-confirmation decisions, then let each
    outcome do its best from there (one outcome at a time: with the commitments fixed nothing ties them).
    Returns (EEV or None, status of the step that decided it, its parts, the worst gap of the second step)."""
    ev_data = dataclasses.replace(d, outcomes=[expected_outcome(d)])
    ev = build_model(sc, ev_data)
    status, _ = solve_model(sc, ev, threads)
    if status != Status.OPTIMAL:
        return None, f"expected-grant plan {status.value}", None, None
    fixed = {}
    for var in SHARED_VARS:
        for i in d.interventions:
            for t in d.shared_months:
                value = pyo.value(getattr(ev, var)["expected", i, t], exception=False) or 0.0
                fixed[var, i, t] = max(0.0, value) if var == "scale" else round(value)  # round-off off the bounds
    status, eev, _, achieved, parts = _solve_by_outcome(sc, d, threads, gap, fixed)
    if status != Status.OPTIMAL:
        return None, f"two-stage model with the expected-grant commitments {status.value}", None, None
    return eev, "optimal", parts, achieved



def value_of_information(
    sc: Scenario, d: ModelData, reports: list[dict[str, Any]], rp: float, rp_parts: ObjectiveParts, threads: int,
    gap: float,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """EVPI and VSS against the two-stage plan's expected value `rp` (two more solves, each outcome by outcome),
    their breakdowns, and the gaps their solves achieved; each outcome's report gets its `wait_and_see`."""
    figures: dict[str, Any] = {"eev_status": "not computed"}
    gaps: dict[str, Any] = {}
    ws, ws_by, gaps["wait_and_see"], ws_parts = _wait_and_see(sc, d, threads, gap)
    if ws is not None and ws_parts is not None:
        figures["wait_and_see"] = round(ws, 2)
        figures["evpi"] = round(_within_gap(ws - rp, rp, gap), 2)
        figures["evpi_breakdown"] = breakdown_difference(ws_parts, rp_parts)
        for r in reports:
            r["wait_and_see"] = round(ws_by[r["name"]], 2)
    eev, eev_status, eev_parts, gaps["eev"] = _expected_grant_plan(sc, d, threads, gap)
    figures["eev_status"] = eev_status
    figures["vss_unbounded"] = eev is None and eev_status.endswith(Status.INFEASIBLE.value)
    if eev is not None and eev_parts is not None:
        figures["eev"] = round(eev, 2)
        figures["vss"] = round(_within_gap(rp - eev, rp, gap), 2)
        figures["vss_breakdown"] = breakdown_difference(rp_parts, eev_parts)
    return figures, gaps
