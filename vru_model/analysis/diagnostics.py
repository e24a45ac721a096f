"""Why a scenario is infeasible, in words: HiGHS's IIS on the LP relaxation, plus the least
extra core grant that would make it feasible (an elastic re-solve)."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import highspy
import pyomo.environ as pyo

from vru_model.core.text import money
from vru_model.model.build import RULES, bound_rules_of, build_model
from vru_model.model.data import ModelData, commissioned_capacity
from vru_model.scenario.schema import Scenario
from vru_model.solving import interrupt
from vru_model.solving.solver import make_solver, run_solver
from vru_model.solving.status import Status

# Definitions rather than rules: always in an IIS, never the reason a director can act on.
BOOKKEEPING = {
    "cost_split", "closure_definition", "opening_definition", "participants_lost", "commissioning_credit",
    "yearly_scale_steady",
}


def iis_rules(model: pyo.ConcreteModel) -> list[str]:
    """Constraint names in an irreducible infeasible subset of the LP relaxation."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "model.lp"
        _, smap_id = model.write(str(path), io_options={"symbolic_solver_labels": True})
        symbols = model.solutions.symbol_map[smap_id]
        h = highspy.Highs()
        h.setOptionValue("output_flag", False)
        h.readModel(str(path))
    lp = h.getLp()
    lp.integrality_ = []
    h.passModel(lp)
    h.setOptionValue("iis_strategy", 6)  # from the LP, irreducible
    # One thread, as every HiGHS of the workbench (a thread's first run fixes HiGHS's thread count for the
    # runs after it), and on the solver thread, like every other run (`interrupt`)
    h.setOptionValue("threads", 1)
    status, iis = interrupt.call(h.getIis, lambda: h)
    if status == highspy.HighsStatus.kError or not iis.valid_:
        return []
    names = []
    for row in iis.row_index_:
        label = h.getRowName(int(row))[1]
        obj = symbols.bySymbol.get(label)
        names.append(obj.name if obj is not None else label)
    # Rules stated as bounds (committed contracts, the central floor, notice...) are named by the rule
    held = bound_rules_of(model)
    sides = {2: ("lb",), 3: ("ub",), 4: ("lb", "ub")}  # HiGHS IisBoundStatus: lower, upper, boxed
    for col, bound in zip(iis.col_index_, iis.col_bound_, strict=False):
        var = symbols.bySymbol.get(h.getColName(int(col))[1])
        if var is None:
            continue
        for rule, side in held.get(id(var), []):
            if side in sides.get(int(bound), ()):
                names.append(f"{rule}[{var.name}]")
    return names


def extra_grant_needed(scenario: Scenario, data: ModelData) -> dict[str, float] | None:
    """The least extra core grant per FY that makes the plan feasible; None if money cannot fix it."""
    m = build_model(scenario, data)
    first = data.outcomes[0].name
    m.extra = pyo.Var(list(data.fys), domain=pyo.NonNegativeReals)
    for y in data.fys:
        if (first, data.core, y) in m.stream_budget:
            con = m.stream_budget[first, data.core, y]
            con.set_value(con.body <= m.grant[first, y] + m.extra[y])
    m.objective.deactivate()
    m.elastic = pyo.Objective(expr=sum(m.extra[y] for y in data.fys), sense=pyo.minimize)
    status, _ = run_solver(make_solver(scenario), m)
    if status != Status.OPTIMAL:
        return None
    return {y: round(float(m.extra[y].value or 0.0), 2) for y in data.fys}


def _floor_costs(scenario: Scenario, data: ModelData, fy: str) -> dict[str, float]:
    """What the core grant must pay in a FY whatever the plan: services that cannot stop yet (committed
    contracts, notice periods still running) and the central floor, at minimum scale, net of partners'
    share and of ring-fenced money that may pay for them."""
    first_notice = {t: k for k, t in enumerate(data.months)}
    floor = {"committed": 0.0, "notice": 0.0, "central": 0.0, "commissioned_part": 0.0}
    ring_fenced: dict[str, float] = {}
    for (s, i), months in data.pays.items():
        if s != data.core and (s, fy) in data.amounts and any(data.fy_of[t] == fy for t in months):
            ring_fenced[i] = ring_fenced.get(i, 0.0) + data.amounts[s, fy]
    for i in data.interventions:
        item = scenario.interventions[i]
        if not item.running_at_start:
            continue
        must = {"committed": 0.0, "notice": 0.0, "central": 0.0}
        for t in data.months:
            if data.fy_of[t] != fy:
                continue
            share = data.vru_share[i, t] + (1 - data.vru_share[i, t]) * (1 - data.pickup[i])
            least = data.cost[i, t] * item.scale.min * share
            if item.committed_until and t <= item.committed_until:
                must["committed"] += least
            elif first_notice[t] < item.notice_months:
                must["notice"] += least
            elif item.mandatory and scenario.core_grant(fy) > 0:
                must["central"] += least
        relief = ring_fenced.get(i, 0.0)
        for key in ("committed", "notice", "central"):
            taken = min(relief, must[key])
            relief -= taken
            floor[key] += must[key] - taken
        if item.is_commissioned:
            floor["commissioned_part"] += must["committed"] + must["notice"]
    return floor


def _grant_outgrows_commissioning(scenario: Scenario, data: ModelData) -> list[str]:
    """Years where the commissioning minimum asks more than commissioned services can take at full capacity."""
    kappa = scenario.policy.commissioning_min_share
    found = []
    if scenario.policy.commissioning_basis == "claimed":  # the minimum follows the grant claimed, not awarded
        return found
    for y in data.fys:
        grant = scenario.core_grant(y)
        most = commissioned_capacity(data, y) + sum(
            scenario.interventions[i].exit_cost / 12
            for i in data.interventions
            if scenario.interventions[i].is_commissioned
            for t in data.months
            if data.fy_of[t] == y
        )
        if kappa * grant > most + 0.5:
            found.append(
                f"In {y} the {kappa:.0%} commissioning minimum needs {money(kappa * grant)} of the {money(grant)} "
                f"core grant on commissioned services, but they can take at most {money(most)} even at full "
                "capacity, so more grant makes this worse, not better. A smaller grant, more commissioned "
                "capacity or a lower minimum would make a lawful plan possible."
            )
    return found


def explain(scenario: Scenario, data: ModelData, model: pyo.ConcreteModel) -> dict[str, Any]:
    """A plain-English account of an infeasible scenario."""
    rules = iis_rules(model)
    groups = sorted({r.split("[")[0] for r in rules})
    extra = extra_grant_needed(scenario, data)
    kappa = scenario.policy.commissioning_min_share
    sentences = []
    if extra and any(v > 0.005 for v in extra.values()):
        for y, need in extra.items():
            if need <= 0.005:
                continue
            grant = scenario.core_grant(y)
            floor = _floor_costs(scenario, data, y)
            parts = []
            if floor["committed"] > 0:
                parts.append(f"committed contracts (at least {money(floor['committed'])})")
            if floor["notice"] > 0:
                parts.append(f"services that cannot close before their notice runs out ({money(floor['notice'])})")
            if floor["central"] > 0:
                parts.append(f"the central capability floor ({money(floor['central'])})")
            floor_total = floor["committed"] + floor["notice"] + floor["central"]
            still_needed = max(0.0, kappa * grant - floor["commissioned_part"])
            if still_needed > 0.5:
                parts.append(f"the {money(still_needed)} more that the {kappa:.0%} commissioning minimum needs")
            unavoidable = floor_total + still_needed
            joined = ", ".join(parts[:-1]) + " and " + parts[-1] if len(parts) > 1 else "".join(parts)
            if parts and unavoidable > grant:
                sentences.append(
                    f"The {money(grant)} core grant for {y} cannot cover {joined} ({money(unavoidable)} in all, "
                    f"a gap of {money(unavoidable - grant)})."
                )
            elif parts:
                sentences.append(
                    f"In {y} the costs no plan can avoid ({joined}: {money(unavoidable)}) fit within the "
                    f"{money(grant)} core grant, but not together with what follows from them: exit costs of the "
                    "services that must then close, and services that must keep running into later years."
                )
            gap = unavoidable - grant
            why = (
                f", more than the {money(gap)} gap because closing services costs exit payments and some "
                "must keep running for later years"
                if parts and gap > 0 and need > gap * 1.05 + 1
                else ""
            )
            sentences.append(f"At least {money(need)} more core grant in {y} would make a lawful plan possible{why}.")
    elif extra is None:
        too_big = _grant_outgrows_commissioning(scenario, data)
        sentences.extend(too_big)
        if not too_big:
            sentences.append("No amount of extra core grant would help: the rules contradict each other.")
    stated = [g for g in groups if g not in BOOKKEEPING]
    if stated:
        conflicting = "; ".join(RULES.get(g, g.replace("_", " ")) for g in stated)
        sentences.append(f"The rules that conflict: {conflicting}.")
    return {
        "text": " ".join(sentences) or "The scenario has no lawful plan.",
        "sentences": sentences,
        "iis_rules": groups,
        "iis_constraints": rules[:50],
        "extra_core_grant_needed": extra,
    }
