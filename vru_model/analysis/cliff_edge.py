"""Cliff-edge planning: what to commit before the grant is confirmed, and what each grant level then needs.

The two-stage model (`prepare(two_stage=True)` + `build_model`) has one plan per grant outcome, tied
together before the confirmation month. Around its solution we measure what the uncertainty costs:
the value of the stochastic solution (VSS: planning for the outcomes against planning for the
expected grant) and the expected value of perfect information (EVPI: knowing the grant at the
start), and we turn the plans into sentences a director can act on.

Speed: two-stage solves stop at a relative MIP gap of `policy.two_stage_rel_gap` (default 0.1%); the
achieved gaps are reported next to VSS and EVPI (`gaps` in cliff_edge.json), and a negative VSS or EVPI
within twice that gap is reported as zero. The wait-and-see problem and the second step of the
expected-grant evaluation fall apart by outcome (nothing ties the outcomes together), so they are solved
one outcome at a time (`_solve_by_outcome`).
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pyomo.environ as pyo

from vru_model.analysis import decisions
from vru_model.analysis.results import (
    ALLOCATION_COLUMNS,
    FUNDING_COLUMNS,
    closures,
    plan_parts,
    plan_tables,
    provenance,
    undiscounted_value,
    write_outputs,
)
from vru_model.core import periods
from vru_model.core.errors import Problem, ScenarioError
from vru_model.core.text import money, plural
from vru_model.model.build import build_model
from vru_model.model.data import LIABILITY, ModelData, Outcome, prepare
from vru_model.scenario.schema import Scenario
from vru_model.solving.solver import solve_model
from vru_model.solving.status import Status, mip_gap, status_text

PLAN_COLUMNS = [*ALLOCATION_COLUMNS, "outcome", "probability"]
PLAN_FUNDING_COLUMNS = [*FUNDING_COLUMNS, "outcome", "probability"]
SHARED_VARS = ("scale", "on", "notice_served")  # the here-and-now decisions (shared variables; notice: expressions)
def two_stage_gap(scenario: Scenario) -> float:
    """The relative MIP gap of two-stage solves: `policy.two_stage_rel_gap` (an explicit key: reading
    "did the scenario set `mip_rel_gap`?" gave the batch, which ships the resolved scenario with every key
    written out, another gap than `vru cliff-edge`)."""
    return scenario.policy.two_stage_rel_gap


@dataclass(frozen=True)
class CliffEdgeResult:
    """A two-stage plan: the shared decisions, each outcome's plan and what the uncertainty is worth."""

    scenario: Scenario
    status: Status
    expected_value: float | None  # objective of the two-stage model (recourse problem, RP)
    here_and_now: dict[str, Any]
    plans: pd.DataFrame  # plan.csv: allocation columns + outcome, probability
    funding: pd.DataFrame  # plan_funding.csv: funding columns + outcome, probability
    outcomes: list[dict[str, Any]]
    vss: float | None
    evpi: float | None
    no_regret_core: list[str]
    underwriting_drawn: dict[str, float]
    unfunded_liability: dict[str, float]
    sentences: list[str]
    summary: dict[str, Any]

    @property
    def optimal(self) -> bool:
        return self.status == Status.OPTIMAL

    def write(self, directory: str | Path) -> Path:
        """Write DIR/<name>/: resolved.yaml, plan.csv, plan_funding.csv and cliff_edge.json, each atomically."""
        return write_outputs(
            directory,
            self.scenario,
            {"plan.csv": self.plans, "plan_funding.csv": self.funding},
            {"cliff_edge.json": self.summary},
        )


def _check(scenario: Scenario) -> None:
    problems = []
    if scenario.uncertainty is None:
        problems.append(Problem(
            scenario.name, "uncertainty",
            "cliff-edge planning needs an uncertainty block (the FY, its grant outcomes with probabilities, "
            "and the confirmation month)",
        ))
    if scenario.policy.objective != "max_value":
        problems.append(Problem(scenario.name, "policy.objective", "cliff-edge planning needs objective max_value"))
    if problems:
        raise ScenarioError(problems)


def _within_gap(x: float, reference: float, rel_gap: float) -> float:
    """VSS and EVPI are >= 0 in exact arithmetic; a tiny negative is the MIP gap talking, so report 0."""
    tol = 2 * rel_gap * max(1.0, abs(reference)) + 1e-6
    return 0.0 if -tol < x < 0 else x


# The parts of the objective, so that VSS and EVPI can say how much is social value and how much is a
# penalty weight of the model (exit costs and the disruption penalty are real losses to service users;
# the underwriting and unfunded-liability weights are the model's way of saying "avoid this").
PARTS = {
    "social_value": "discounted social value of the services delivered",
    "exit_and_disruption": "exit and start-up costs and the disruption penalty for participants who lose support "
    "(subtracted)",
    "underwriting_penalty": "underwriting drawn, times the policy's underwriting weight (a penalty weight; subtracted)",
    "unfunded_liability_penalty": "unfunded liability, times the uncertainty's unfunded penalty (a penalty weight; "
    "subtracted)",
}


def objective_parts(m: pyo.ConcreteModel) -> dict[str, float]:
    """The probability-weighted parts of the two-stage objective at the loaded solution (value positive,
    losses as negative numbers, so that the parts add up to the objective less the tie-break)."""
    prob = {w: p for w, p in zip(m.W, (o.probability for o in m.data.outcomes), strict=True)}

    def expected(component: Any) -> float:
        return sum(prob[w] * float(pyo.value(component[w])) for w in m.W)

    return {
        "social_value": expected(m.value),
        "exit_and_disruption": -(expected(m.exit_costs) + expected(m.disruption)),
        "underwriting_penalty": -expected(m.underwriting_penalty),
        "unfunded_liability_penalty": -expected(m.liability_penalty),
    }


def difference(a: dict[str, float], b: dict[str, float]) -> dict[str, float]:
    return {k: round(a[k] - b[k], 2) for k in a}


def _solve_by_outcome(
    sc: Scenario, d: ModelData, threads: int, gap: float, fixed: dict[tuple[str, str, str], float] | None = None
) -> tuple[Status, float | None, dict[str, float], float | None, dict[str, float]]:
    """Each outcome's own problem, solved on its own: with nothing tying the outcomes together (no
    non-anticipativity, or the shared decisions `fixed` as {(var, i, t): value}) the two-stage problem is
    the sum of these. Returns (status, sum_w p_w objective_w, {w: value - losses}, the worst gap, the
    probability-weighted objective parts)."""
    total, per, worst = 0.0, {}, 0.0
    parts = dict.fromkeys(PARTS, 0.0)
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
            return status, None, {}, None, {}
        total += o.probability * float(pyo.value(alone.objective))
        for k, v in objective_parts(alone).items():
            parts[k] += o.probability * v
        per[o.name] = float(pyo.value(alone.value[o.name] - alone.losses[o.name]))
        worst = max(worst, mip_gap(info) or 0.0)
    return Status.OPTIMAL, total, per, worst, parts


def _wait_and_see(
    sc: Scenario, d: ModelData, threads: int, gap: float
) -> tuple[float | None, dict[str, float], float | None, dict[str, float]]:
    """Each outcome planned with its grant known from the start: the two-stage model without
    non-anticipativity, whose outcomes decouple (sum_w p_w WS_w), solved one outcome at a time.
    Returns (WS or None, {w: WS_w}, the worst gap, the parts)."""
    status, ws, per, achieved, parts = _solve_by_outcome(sc, d, threads, gap)
    return (ws, per, achieved, parts) if status == Status.OPTIMAL else (None, {}, None, {})


def expected_outcome(d: ModelData) -> Outcome:
    """The outcome with the probability-weighted core grant in every year: in the uncertain year and, when
    the outcome persists, in every later year too. Independent of the order the outcomes are listed in."""
    years = {fy for o in d.outcomes for fy in o.core_amounts}
    amounts = {fy: sum(o.probability * o.core_amounts.get(fy, 0.0) for o in d.outcomes) for fy in sorted(years)}
    return Outcome("expected", 1.0, amounts)


def _expected_grant_plan(
    sc: Scenario, d: ModelData, threads: int, gap: float
) -> tuple[float | None, str, dict[str, float], float | None]:
    """EEV: plan for the probability-weighted grant, commit its pre-confirmation decisions, then let each
    outcome do its best from there (one outcome at a time: with the commitments fixed nothing ties them).
    Returns (EEV or None, status of the step that decided it, its parts, the worst gap of the second step)."""
    ev_data = dataclasses.replace(d, outcomes=[expected_outcome(d)])
    ev = build_model(sc, ev_data)
    status, _ = solve_model(sc, ev, threads)
    if status != Status.OPTIMAL:
        return None, f"expected-grant plan {status.value}", {}, None
    fixed = {}
    for var in SHARED_VARS:
        for i in d.interventions:
            for t in d.shared_months:
                value = pyo.value(getattr(ev, var)["expected", i, t], exception=False) or 0.0
                fixed[var, i, t] = max(0.0, value) if var == "scale" else round(value)  # round-off off the bounds
    status, eev, _, achieved, parts = _solve_by_outcome(sc, d, threads, gap, fixed)
    if status != Status.OPTIMAL:
        return None, f"two-stage model with the expected-grant commitments {status.value}", {}, None
    return eev, "optimal", parts, achieved


def _titles(sc: Scenario, names: list[str]) -> str:
    return ", ".join(sc.interventions[i].title for i in names) or "none"


def _here_and_now(sc: Scenario, d: ModelData, m: pyo.ConcreteModel) -> dict[str, Any]:
    """Decisions taken before confirmation (identical in every outcome): what runs, at what scale, which
    notices are served and by when."""
    first = d.outcomes[0].name
    shared = d.shared_months
    services, notices = [], []
    for i in d.interventions:
        item = sc.interventions[i]
        scales = {t: round(float(m.scale[first, i, t].value or 0.0), 4) for t in shared}
        running = [t for t in shared if round(float(m.on[first, i, t].value or 0.0)) == 1]
        served = [t for t in shared if round(pyo.value(m.notice_served[first, i, t], exception=False) or 0.0) == 1]
        entry: dict[str, Any] = {
            "intervention": i,
            "title": item.title,
            "running_months": len(running),
            "runs_until_confirmation": bool(shared) and len(running) == len(shared),
            "scale_min": min((scales[t] for t in running), default=0.0),
            "scale_max": max((scales[t] for t in running), default=0.0),
            "scale": scales,
            "notice_by": served[0] if served else None,
            "closes_from": periods.add_months(served[0], item.notice_months) if served else None,
        }
        services.append(entry)
        if served:
            notices.append({k: entry[k] for k in ("intervention", "title", "notice_by", "closes_from")})
    notices.sort(key=lambda n: (n["notice_by"], n["intervention"]))
    return {
        "from": shared[0] if shared else None,
        "until": shared[-1] if shared else None,
        "confirmed_month": d.confirmation_month,
        "services": services,
        "notices": notices,
    }


def _outcome_reports(
    sc: Scenario, d: ModelData, m: pyo.ConcreteModel, plans: pd.DataFrame, funding: pd.DataFrame
) -> list[dict[str, Any]]:
    unc = sc.uncertainty
    assert unc is not None
    conf = d.confirmation_month or ""
    reports = []
    for o in d.outcomes:
        w = o.name
        alloc = plans[plans["outcome"] == w]
        f = funding[funding["outcome"] == w]
        liab = f[f["stream"] == LIABILITY]
        drawn = float(f[f["stream"] == d.underwriting]["amount"].sum()) if d.underwriting else 0.0
        year = alloc[alloc["fy"] == unc.fy]
        all_year = sorted(
            i for i, rows in year.groupby("intervention", sort=False) if bool((rows["running"] == 1).all())
        )
        closed = closures(sc, alloc.drop(columns=["outcome", "probability"]))
        core = f[f["stream"] == d.core].groupby("fy")["amount"].sum()
        # grant the outcome's plan leaves unused (nothing carries over): e.g. services closed before the grant
        # was known cannot all come back in time to spend a grant confirmed in full
        left = {y: d.grant(o, y) - float(core.get(y, 0.0)) for y in d.fys}
        unspent = {y: round(v, 2) for y, v in left.items() if v > 0.5}
        reports.append({
            "name": w,
            "probability": o.probability,
            "grant": round(d.grant(o, unc.fy), 2),
            "objective": round(float(pyo.value(m.value[w] - m.losses[w])), 2),
            "value": round(undiscounted_value(d, m, w), 2),
            "value_discounted": round(float(pyo.value(m.value[w])), 2),
            "losses": round(float(pyo.value(m.losses[w])), 2),
            "underwriting_drawn": round(drawn, 2),
            "core_unspent": unspent,
            "unfunded_liability": round(float(liab["amount"].sum()), 2),
            "unfunded_liability_before_confirmation": round(float(liab[liab["period"] < conf]["amount"].sum()), 2),
            "unfunded_liability_after_confirmation": round(float(liab[liab["period"] >= conf]["amount"].sum()), 2),
            "running_all_year": all_year,
            "closures": closed,
            "notices_after_confirmation": [c for c in closed if c["notice_by"] >= conf],
        })
    return reports


SCALE_STEP = 0.005  # smaller scale changes are solver round-off


def service_outcomes(
    sc: Scenario, d: ModelData, plans: pd.DataFrame, reports: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """What happens to each service in each outcome, from the uncertain year on: it keeps its scale, is
    reduced (to what share of design scale, and, when it is let again at a higher scale before the end, from
    which month and to what scale: `until`, `then`), closes (from when, with notice by when), or starts (a
    service not running before that year: from when, at what scale)."""
    unc = sc.uncertainty
    assert unc is not None
    start = next(t for t in d.months if d.fy_of[t] == unc.fy)
    rows = []
    for i in d.interventions:
        item = sc.interventions[i]
        entry: dict[str, Any] = {"intervention": i, "title": item.title, "outcomes": {}}
        for r in reports:
            mine = plans[(plans["outcome"] == r["name"]) & (plans["intervention"] == i)]
            before = mine[mine["fy"] < unc.fy]
            after = mine[mine["fy"] >= unc.fy]
            running = after[after["running"] == 1]
            closure = next((c for c in r["closures"] if c["intervention"] == i and c["closes_from"] >= start), None)
            earlier = before[before["running"] == 1]["scale"]
            was = float(earlier.iloc[-1]) if len(earlier) else (item.start_scale or 1.0)
            low = float(running["scale"].min()) if len(running) else 0.0
            if closure:
                state = {"status": "closes", "closes_from": closure["closes_from"], "notice_by": closure["notice_by"],
                         "scale": round(low, 4)}
            elif running.empty:
                state = {"status": "does not run"}
            elif earlier.empty and len(before):  # not running before the uncertain year: the plan starts it
                state = {"status": "starts", "from": str(running["period"].min()), "scale": round(low, 4)}
            elif low < was - SCALE_STEP:
                state = {"status": "reduces", "scale": round(low, 4)}
                cut_from = running[running["scale"] <= low + SCALE_STEP]["period"].min()
                raised = running[(running["period"] > cut_from) & (running["scale"] > low + SCALE_STEP)]
                if len(raised):  # cut for a while (a year's contract), then let again at a higher scale
                    first = raised.sort_values("period").iloc[0]
                    state.update({"until": str(first["period"]), "then": round(float(first["scale"]), 4)})
            else:
                state = {"status": "keeps", "scale": round(low, 4)}
            entry["outcomes"][r["name"]] = state
        if any(o["status"] != "does not run" for o in entry["outcomes"].values()):
            rows.append(entry)
    return rows


def outcome_label(amount: float, full: float) -> str:
    """What a grant outcome means for the year, against the scenario's own grant: 'continues in full',
    'is cut by 25%', 'ends', 'grows by 20%' (reads after "the grant")."""
    if amount <= 0.5:
        return "ends"
    if full <= 0.5:
        return f"is {money(amount)}"
    change = amount / full - 1
    if abs(change) < 0.005:
        return "continues in full"
    return f"is cut by {-change:.0%}" if change < 0 else f"grows by {change:.0%}"


def _if(r: dict[str, Any]) -> str:
    return f"If the grant {r['label']} ({money(r['grant'])})"


def _sentences(
    sc: Scenario,
    d: ModelData,
    here: dict[str, Any],
    reports: list[dict[str, Any]],
    core: list[str],
    figures: dict[str, Any],
) -> list[str]:
    unc = sc.uncertainty
    assert unc is not None
    conf = periods.month_name(d.confirmation_month) if d.confirmation_month else "the confirmation month"
    out = [
        f"The {unc.fy} grant is not known until {conf}. It may be that the grant "
        + "; or ".join(f"{r['label']} ({money(r['grant'])}, {r['probability']:.0%} chance)" for r in reports) + ".",
        f"The plan's expected value after underwriting and liability penalties (discounted) is "
        f"{money(figures['expected_value'])}.",
    ]
    start = periods.month_name(here["from"]) if here["from"] else ""
    kept = [s for s in here["services"] if s["runs_until_confirmation"]]
    others = [s["intervention"] for s in here["services"] if not s["runs_until_confirmation"]]
    if here["from"] and kept and len(others) < len(kept):
        out.append(
            f"From {start} until the grant is confirmed in {conf}, whatever happens, keep running "
            + (f"every service except: {_titles(sc, others)}." if others else "every service.")
        )
    elif here["from"] and kept:
        out.append(
            f"From {start} until the grant is confirmed in {conf}, whatever happens, keep running: "
            f"{_titles(sc, [s['intervention'] for s in kept])}."
        )
    reduced = [f"{s['title']} ({s['scale_min']:.0%})" for s in kept if s["scale_min"] < 0.995]
    if reduced:
        out.append(
            f"Let these {unc.fy} contracts below design scale in April, before the grant is known (the scale "
            f"holds for the whole year): {', '.join(reduced)}."
        )
    for n in here["notices"]:
        out.append(
            f"Serve notice on {n['title']} by {periods.month_name(n['notice_by'])} whatever happens: it closes from "
            f"{periods.month_name(n['closes_from'])} in every outcome."
        )
    if not here["notices"]:
        out.append(f"Serve no notices before {conf}: every closure can wait until the grant is known.")
    for r in reports:
        later = r["notices_after_confirmation"]
        if not later:
            out.append(f"{_if(r)}, no further notices are needed.")
            continue
        groups: dict[str, list[str]] = {}
        for c in later:
            closes = periods.month_name(c["closes_from"])
            groups.setdefault(c["notice_by"], []).append(f"{c['title']} (closes from {closes})")
        for by, closing in sorted(groups.items()):
            out.append(f"{_if(r)}, serve notice by {periods.month_name(by)} on {', '.join(closing)}.")
    if core:
        out.append(
            f"No-regret core: {plural(len(core), 'service')} {'runs' if len(core) == 1 else 'run'} all through "
            f"{unc.fy} in every outcome: {_titles(sc, core)}."
        )
    else:
        out.append(f"No service runs all through {unc.fy} in every outcome.")
    cap = sc.funding[d.underwriting].cap if d.underwriting else None
    for r in reports:
        if r["underwriting_drawn"] > 0:
            out.append(
                f"{_if(r)}, {money(r['underwriting_drawn'])} of "
                f"{sc.funding[d.underwriting].title or d.underwriting} is drawn (cap {money(cap or 0)}) "
                f"for spending before {conf} and the notice periods of services stopped then."
            )
    owing = [r for r in reports if r["unfunded_liability"] > 0]
    for r in owing:
        out.append(
            f"{_if(r)}, {money(r['unfunded_liability'])} of {unc.fy} spending has no funding "
            f"(unfunded liability: {money(r['unfunded_liability_before_confirmation'])} before {conf}, "
            f"{money(r['unfunded_liability_after_confirmation'])} from {conf} on, for services still on notice "
            "or kept for later years); serving notice earlier would avoid it but costs value in the other outcomes."
        )
    if not owing:
        out.append("No outcome leaves an unfunded liability.")
    if figures.get("vss") is not None:
        out.append(
            f"Planning for these outcomes instead of for the expected grant ({money(figures['expected_grant'])}) "
            f"is worth {money(figures['vss'])} of expected value (VSS, discounted){_weights(figures, 'vss')}."
        )
    elif figures.get("eev_status") not in (None, "optimal", "not computed"):
        out.append(
            f"Planning for the expected grant ({money(figures['expected_grant'])}) would leave some outcome "
            f"without a lawful plan ({figures['eev_status']}); planning for the outcomes avoids that."
        )
    if figures.get("evpi") is not None:
        out.append(
            f"Knowing the {unc.fy} grant from the start ({periods.month_name(d.months[0])}) instead of in {conf} "
            f"would be worth {money(figures['evpi'])} of expected value (EVPI, discounted){_weights(figures, 'evpi')}."
        )
    return out


def _weights(figures: dict[str, Any], name: str) -> str:
    """VSS or EVPI split into money (social value, exit costs and disruption) and the model's penalty weights
    on underwriting and unfunded liability, when the weights are a visible part of it: the expected value
    counts those at their weights, so the figure alone would read as money it is not."""
    parts = figures.get(f"{name}_breakdown") or {}
    weights = parts.get("underwriting_penalty", 0.0) + parts.get("unfunded_liability_penalty", 0.0)
    if abs(weights) < 0.01 * max(1.0, abs(figures.get(name) or 0.0)):
        return ""
    real = parts.get("social_value", 0.0) + parts.get("exit_and_disruption", 0.0)
    money_part = (f"{money(real)} in social value, exit costs and disruption" if real >= 0 else
                  f"a loss of {money(-real)} in social value, exit costs and disruption")
    return (f": {money_part}, {'and' if weights > 0 else 'against'} {money(abs(weights))} "
            f"{'less' if weights > 0 else 'more'} of the model's penalty weights on underwriting and unfunded "
            "liability (weights, not money)")


def _explain_closures(
    sc: Scenario, d: ModelData, plans: pd.DataFrame, reports: list[dict[str, Any]], rp: float,
    threads: int, gap: float, costs: bool, split: dict[str, float] | None = None,
) -> None:
    """Give every closure (and scale reduction) of every outcome its `reason` and `cost_to_keep`, in place.

    The cost to keep a service is what the expected value loses if it is kept running in every outcome that
    has a grant to pay for it (a two-stage re-solve with the service protected, one per closing service, on
    one persistent solver). A closure in a year with no grant has no cost to keep: keeping it would leave
    an unfunded liability, and its reason says the grant ends. `split`, the plan's `results.plan_parts`, lets each
    cost to keep say how much of it is social value and how much the model's weights."""
    conf = d.confirmation_month or ""
    by_name = {o.name: o for o in d.outcomes}
    alloc = {r["name"]: plans[plans["outcome"] == r["name"]].drop(columns=["outcome", "probability"]) for r in reports}
    # Keeping a service is a choice where a grant pays for it (elsewhere it would be an unfunded liability), and
    # for a decision taken before the grant is known, which is one decision for every outcome.
    priced: dict[str, set[tuple[str, str]]] = {}
    reduced = {r["name"]: decisions.reductions(sc, alloc[r["name"]]) for r in reports}
    for r in reports:
        changes = [(c["intervention"], c["closes_from"], c["notice_by"]) for c in r["closures"]]
        changes += [(x["intervention"], x["from"], x["notice_by"]) for x in reduced[r["name"]]]
        priced[r["name"]] = {(i, month) for i, month, by in changes
                             if by < conf or d.grant(by_name[r["name"]], d.fy_of[month]) > 0.5}
    candidates = list(dict.fromkeys(i for r in reports for i, _month in sorted(priced[r["name"]])))
    keep: dict[str, float | None] = {}
    kept_by_outcome: dict[str, dict[str, float]] = {}  # service -> outcome -> value of the plan that keeps it
    parts: dict[str, dict[str, float]] = {}  # service -> its cost to keep in parts (`solve.cost_parts`)
    unmeasured: set[str] = set()  # left out when the re-solves' time budget ran out
    if costs and candidates:
        from vru_model.analysis.solve import WhatIfs, cost_parts  # solve -> results -> ...: imported where needed

        whatifs = WhatIfs(sc, d, candidates, threads, rel_gap=gap)
        keep = whatifs.costs_to_keep(rp, candidates, read=lambda m: (
            {w: float(pyo.value(m.value[w] - m.losses[w])) for w in m.W}, plan_parts(m)))
        kept_by_outcome = {i: by_outcome for i, (by_outcome, _parts) in whatifs.kept.items()}
        if split is not None:
            parts = {i: cost_parts(split, kept) for i, (_by_outcome, kept) in whatifs.kept.items()}
        unmeasured = set(whatifs.unmeasured)
    planned = {r["name"]: r["objective"] for r in reports}
    for r in reports:
        o = by_name[r["name"]]
        mine = priced[r["name"]]
        # closures by service, reductions by service and month (`annotate`'s keys); unpriced ones get None
        costs_here: dict[str, float | None] = {c["intervention"]: keep.get(c["intervention"])
                                               for c in r["closures"] if (c["intervention"], c["closes_from"]) in mine}
        costs_here.update({f"{x['intervention']}@{x['from']}": keep.get(x["intervention"])
                           if (x["intervention"], x["from"]) in mine else None for x in reduced[r["name"]]})
        part: dict[str, Any] = {"closures": r["closures"]}
        decisions.annotate(sc, d, part, alloc[r["name"]], costs_here, grant_of=lambda y, o=o: d.grant(o, y),
                           keep_scope=" running in every outcome with a grant", shared_before=conf, keep_parts=parts)
        r["reductions"] = part["reductions"]
        changed = [(c, c["closes_from"], "running") for c in r["closures"]]
        changed += [(x, x["from"], "at its scale") for x in r["reductions"]]
        for x, month, kept_how in changed:
            if x["cost_to_keep"] is None:
                if (x["intervention"], month) not in mine:
                    note = "none: no grant pays for it in this outcome, so keeping it would be an unfunded liability"
                elif x["intervention"] in unmeasured:
                    note = (f"not measured for lack of time (the re-solves have policy.time_limit_seconds, "
                            f"{sc.policy.time_limit_seconds:g} s, in all)")
                elif costs:
                    note = "not measured: no lawful plan keeps it, or its re-solve did not finish"
                else:
                    note = "not measured"
                x["cost_to_keep_note"] = note
            if x["notice_by"] < conf:
                before = (f"Decided before the grant is known (notice by {periods.month_name(x['notice_by'])}, "
                          f"confirmation in {periods.month_name(conf)}), so the same in every outcome")
                hedge = _hedge(reports, planned, kept_by_outcome.get(x["intervention"]), x["cost_to_keep"], gap, rp,
                               kept_how, x.get("cost_to_keep_parts"))
                what = x["reason"].partition("). ")[0] + ")."  # "Closes from ... (notice ... by ...)."
                x["reason"] = f"{before}. {what} {hedge}" if hedge else f"{before}. " + x["reason"]
            else:
                x["reason"] = f"Decided once the grant is known: it {r['label']}. " + x["reason"]


def _hedge(reports: list[dict[str, Any]], planned: dict[str, float], kept: dict[str, float] | None,
           cost: float | None, gap: float, rp: float, kept_how: str = "running",
           parts: dict[str, float] | None = None) -> str:
    """Why a decision taken before the grant is known is a hedge, from the re-solve that keeps the service:
    in which outcomes keeping it would do better and in which worse, and the expected loss. Empty when that
    re-solve was not run (the decision's one-grant reason stands alone then)."""
    if kept is None or cost is None:
        return ""
    slack = 2 * gap * max(1.0, abs(rp)) + 1.0
    better, worse = [], []
    for r in reports:
        diff = kept[r["name"]] - planned[r["name"]]
        words = f"if the grant {r['label']} ({r['probability']:.0%} chance)"
        if diff > slack:
            better.append(f"by {money(diff)} {words}")
        elif diff < -slack:
            worse.append(f"by {money(-diff)} {words}")
    if not worse or cost <= 0.5:
        return (f"Keeping it {kept_how} in every outcome with a grant costs nothing measurable in expected value "
                "(within the solver's gap).")
    after = "(value after underwriting and liability penalties)"
    split = f" Of that{decisions.split(parts)}." if parts else ""
    if not better:
        return (f"Closing it is no worse in any outcome: keeping it {kept_how} in every outcome with a grant would do "
                f"worse {' and '.join(worse)} {after}: {money(cost)} less in expectation.{split}")
    return (f"A hedge: keeping it {kept_how} in every outcome with a grant would do better {' and '.join(better)}, "
            f"but worse {' and '.join(worse)} {after}: {money(cost)} less in expectation.{split}")


def solve_cliff_edge(
    scenario: Scenario, *, threads: int = 1, value_of_information: bool = True, costs_to_keep: bool = True
) -> CliffEdgeResult:
    """Solve the two-stage cliff-edge model; with `value_of_information`, also the wait-and-see and
    expected-grant problems for EVPI and VSS (two more solves); with `costs_to_keep`, one re-solve per
    closing service for what keeping it would cost (`_explain_closures`)."""
    _check(scenario)
    sc = scenario
    unc = sc.uncertainty
    assert unc is not None
    started = time.perf_counter()
    d = prepare(sc, two_stage=True)
    m = build_model(sc, d)
    gap = two_stage_gap(sc)
    # HiGHS's MIP straight away: the two-stage relaxation is weaker than a single scenario's (a root gap of
    # 0.2% to 2%), and a short branching on it rarely settles it (5 outcomes: 5.5 s of branching, then the MIP)
    status, res = solve_model(sc, m, threads, rel_gap=gap, relaxation_first=False)
    solved = time.perf_counter()
    prob = {o.name: o.probability for o in d.outcomes}
    has_plan = status in (Status.OPTIMAL, Status.TIME_LIMIT)
    expected_grant = expected_outcome(d).core_amounts.get(unc.fy, 0.0)
    if not has_plan:
        explanation = None
        if status == Status.INFEASIBLE:
            from vru_model.analysis.diagnostics import explain

            try:
                explanation = explain(sc, d, m)
            except Exception:  # an explanation is a bonus; the status is the answer
                explanation = None
        text = status_text(status, res)
        summary = {
            "scenario": sc.name, "title": sc.title, "status": status.value, "status_text": text,
            "explanation": explanation, "sentences": [text],
            "provenance": provenance(sc),
        }
        return CliffEdgeResult(
            sc, status, None, {}, pd.DataFrame(columns=PLAN_COLUMNS), pd.DataFrame(columns=PLAN_FUNDING_COLUMNS),
            [], None, None, [], {}, {}, summary["sentences"], summary,
        )

    allocation, funding = plan_tables(sc, d, m)
    plans = allocation.assign(probability=allocation["outcome"].map(prob))[PLAN_COLUMNS]
    funding = funding.assign(probability=funding["outcome"].map(prob))[PLAN_FUNDING_COLUMNS]
    rp = float(pyo.value(m.objective))
    rp_parts = objective_parts(m)
    here = _here_and_now(sc, d, m)
    reports = _outcome_reports(sc, d, m, plans, funding)
    for r in reports:
        r["label"] = outcome_label(r["grant"], sc.core_grant(unc.fy))
    _explain_closures(sc, d, plans, reports, rp, threads, gap, costs_to_keep and status == Status.OPTIMAL,
                      plan_parts(m))
    in_all = set.intersection(*(set(r["running_all_year"]) for r in reports))
    core = [i for i in d.interventions if i in in_all]
    closed_sets = [{c["intervention"] for c in r["closures"]} for r in reports]
    closed_everywhere = [i for i in d.interventions if all(i in s for s in closed_sets)]

    figures: dict[str, Any] = {
        "expected_grant": round(expected_grant, 2),
        "expected_value": round(rp, 2),
        "eev": None, "eev_status": "not computed", "vss": None, "vss_unbounded": False,
        "wait_and_see": None, "evpi": None,
        "expected_value_breakdown": {k: round(v, 2) for k, v in rp_parts.items()},
        "vss_breakdown": None, "evpi_breakdown": None,
    }
    gaps: dict[str, Any] = {"setting": gap, "expected_value": mip_gap(res), "wait_and_see": None, "eev": None}
    if value_of_information and status == Status.OPTIMAL:
        ws, ws_by, gaps["wait_and_see"], ws_parts = _wait_and_see(sc, d, threads, gap)
        if ws is not None:
            figures["wait_and_see"] = round(ws, 2)
            figures["evpi"] = round(_within_gap(ws - rp, rp, gap), 2)
            figures["evpi_breakdown"] = difference(ws_parts, rp_parts)
            for r in reports:
                r["wait_and_see"] = round(ws_by[r["name"]], 2)
        eev, eev_status, eev_parts, gaps["eev"] = _expected_grant_plan(sc, d, threads, gap)
        figures["eev_status"] = eev_status
        figures["vss_unbounded"] = eev is None and eev_status.endswith(Status.INFEASIBLE.value)
        if eev is not None:
            figures["eev"] = round(eev, 2)
            figures["vss"] = round(_within_gap(rp - eev, rp, gap), 2)
            figures["vss_breakdown"] = difference(rp_parts, eev_parts)
    finished = time.perf_counter()

    drawn = {r["name"]: r["underwriting_drawn"] for r in reports}
    owing = {r["name"]: r["unfunded_liability"] for r in reports}
    by_service = service_outcomes(sc, d, plans, reports)
    counts = {
        r["name"]: {
            state: sum(1 for row in by_service if row["outcomes"][r["name"]]["status"] == state)
            for state in ("keeps", "reduces", "closes", "starts")
        }
        for r in reports
    }
    sentences = _sentences(sc, d, here, reports, core, figures)
    summary: dict[str, Any] = {
        "scenario": sc.name,
        "title": sc.title,
        "status": status.value,
        "status_text": status_text(status, res),
        "objective_sense": "expected discounted social value minus exit, disruption, underwriting and "
        "unfunded-liability costs (GBP)",
        "uncertainty": {
            "stream": unc.stream,
            "fy": unc.fy,
            "confirmed_month": unc.confirmed_month,
            "unfunded_penalty": unc.unfunded_penalty,
            "outcomes": [o.model_dump() for o in unc.outcomes],
        },
        **figures,
        "gaps": {**gaps, "vss_and_evpi_within": round(2 * gap * max(1.0, abs(rp)), 2)},
        "figures_text": {
            "expected_value": "objective of the two-stage plan (RP)",
            "eev": "expected value when the pre-confirmation decisions are those of a plan for the expected grant",
            "vss": "value of the stochastic solution: expected_value - eev (>= 0); unbounded when the "
            "expected-grant plan's commitments leave some outcome with no lawful plan",
            "wait_and_see": "expected value if each outcome were known from the start",
            "evpi": "expected value of perfect information: wait_and_see - expected_value (>= 0)",
            "expected_grant": "the probability-weighted core grant of the uncertain year (the expected-value "
            "problem uses the weighted grant in every year the outcome settles)",
            "vss_breakdown": "VSS split into its parts (see breakdown_parts): social value, exit and disruption "
            "costs, and the underwriting and unfunded-liability penalty weights; the parts add up to VSS "
            "(less the tie-break of a pound or so)",
            "evpi_breakdown": "EVPI split the same way",
            "gaps": "relative MIP gaps: the setting for two-stage solves and what each solve achieved (the worst "
            "outcome's for solves taken outcome by outcome); VSS and EVPI are differences of such solves, so "
            "they are known to within vss_and_evpi_within (a negative one inside it is reported as zero)",
        },
        "breakdown_parts": PARTS,
        "here_and_now": here,
        "outcomes": reports,
        "no_regret_core": [{"intervention": i, "title": sc.interventions[i].title} for i in core],
        "closed_in_every_outcome": [{"intervention": i, "title": sc.interventions[i].title} for i in closed_everywhere],
        "services_by_outcome": by_service,
        "counts_by_outcome": counts,
        "underwriting": {
            "stream": d.underwriting,
            "cap": sc.funding[d.underwriting].cap if d.underwriting else None,
            "drawn": drawn,
        },
        "unfunded_liability": owing,
        "sentences": sentences,
        "mip_gap": mip_gap(res),
        "solve_seconds": round(solved - started, 4),
        "total_seconds": round(finished - started, 4),
        "provenance": provenance(sc),
    }
    return CliffEdgeResult(
        scenario=sc,
        status=status,
        expected_value=rp,
        here_and_now=here,
        plans=plans,
        funding=funding,
        outcomes=reports,
        vss=figures["vss"],
        evpi=figures["evpi"],
        no_regret_core=core,
        underwriting_drawn=drawn,
        unfunded_liability=owing,
        sentences=sentences,
        summary=summary,
    )
