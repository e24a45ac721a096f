"""Why a scenario is infeasible, in words: HiGHS's IIS on the LP relaxation, plus the least
extra core grant that would make it feasible (an elastic re-solve)."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import highspy
import pyomo.environ as pyo

from vru_model.data import ModelData
from vru_model.model import RULES
from vru_model.results_text import money
from vru_model.schema import Scenario


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
    status, iis = h.getIis()
    if status != highspy.HighsStatus.kOk or not iis.valid_:
        return []
    names = []
    for row in iis.row_index_:
        label = h.getRowName(int(row))[1]
        obj = symbols.bySymbol.get(label)
        names.append(obj.name if obj is not None else label)
    return names


def extra_grant_needed(scenario: Scenario, data: ModelData) -> dict[str, float] | None:
    """The least extra core grant per FY that makes the plan feasible; None if money cannot fix it."""
    from vru_model.model import build_model
    from vru_model.solve import Status, make_solver, run_solver

    m = build_model(scenario, data)
    first = data.outcomes[0].name
    m.extra = pyo.Var(list(data.fys), domain=pyo.NonNegativeReals)
    for y in data.fys:
        con = m.stream_budget[first, data.core, y] if (first, data.core, y) in m.stream_budget else None
        if con is not None:
            body = con.body
            con.set_value(body <= m.grant[first, y] + m.extra[y])
    m.objective.deactivate()
    m.elastic = pyo.Objective(expr=sum(m.extra[y] for y in data.fys), sense=pyo.minimize)
    status, _ = run_solver(make_solver(scenario), m)
    if status != Status.OPTIMAL:
        return None
    return {y: round(float(m.extra[y].value or 0.0), 2) for y in data.fys}


def _floor_costs(scenario: Scenario, data: ModelData, fy: str) -> dict[str, float]:
    """What the VRU must pay in a FY whatever it decides: committed contracts and the central floor."""
    committed = central = 0.0
    for i in data.interventions:
        item = scenario.interventions[i]
        for t in data.months:
            if data.fy_of[t] != fy:
                continue
            share = data.vru_share[i, t] + (1 - data.vru_share[i, t]) * (1 - data.pickup[i])
            least = data.cost[i, t] * item.scale.min * share
            if item.committed_until and t <= item.committed_until:
                committed += least
            elif item.mandatory and scenario.core_grant(fy) > 0:
                central += least
    return {"committed": committed, "central": central}


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
            if floor["central"] > 0:
                parts.append(f"the central capability floor ({money(floor['central'])})")
            parts.append(f"the {kappa:.0%} commissioning minimum ({money(kappa * grant)})")
            sentences.append(
                f"The {money(grant)} core grant for {y} cannot cover {', '.join(parts[:-1])} and {parts[-1]} together."
                if len(parts) > 1 else f"The {money(grant)} core grant for {y} cannot cover {parts[0]}."
            )
            sentences.append(f"At least {money(need)} more core grant in {y} would make a lawful plan possible.")
    elif extra is None:
        sentences.append("No amount of extra core grant would help: the rules contradict each other.")
    if groups:
        sentences.append(
            "The rules that conflict: " + "; ".join(f"{RULES.get(g, g)} ({g})" for g in groups) + "."
        )
    return {
        "text": " ".join(sentences) or "The scenario has no lawful plan.",
        "sentences": sentences,
        "iis_rules": groups,
        "iis_constraints": rules[:50],
        "extra_core_grant_needed": extra,
    }
