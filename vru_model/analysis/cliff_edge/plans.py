"""Reading a solved two-stage plan: the decisions shared by every outcome, each outcome's plan, and each
service's fate in each outcome."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pyomo.environ as pyo

from vru_model.analysis.results import closures, undiscounted_value
from vru_model.analysis.states import SCALE_STEP, ServiceMonths, plan_states
from vru_model.core import periods
from vru_model.core.text import money
from vru_model.model.data import LIABILITY, ModelData
from vru_model.scenario.schema import Scenario


def here_and_now(sc: Scenario, d: ModelData, m: pyo.ConcreteModel) -> dict[str, Any]:
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


def outcome_reports(
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


def service_outcomes(
    sc: Scenario, d: ModelData, plans: pd.DataFrame, reports: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """What happens to each service in each outcome, from the uncertain year on (`outcome_state`); services that
    run in no outcome are left out."""
    unc = sc.uncertainty
    assert unc is not None
    start = next(t for t in d.months if d.fy_of[t] == unc.fy)
    states = {r["name"]: plan_states(sc, plans[plans["outcome"] == r["name"]]) for r in reports}
    rows = []
    for i in d.interventions:
        entry: dict[str, Any] = {"intervention": i, "title": sc.interventions[i].title,
                                 "outcomes": {w: outcome_state(by[i], start) for w, by in states.items()}}
        if any(o["status"] != "does not run" for o in entry["outcomes"].values()):
            rows.append(entry)
    return rows


def outcome_state(months: ServiceMonths, start: str) -> dict[str, Any]:
    """One service in one outcome from month `start` on: it keeps its scale, is reduced (to what share of design
    scale, and, when it is let again at a higher scale before the end, from which month and to what scale: `until`,
    `then`), closes (from when, with notice by when), or starts (a service not running before `start`: from when,
    at what scale)."""
    closes_from = next((t for t in months.closes_from() if t >= start), None)
    months_before = [t for t in months.months if t < start]
    earlier = [s for t, on, s in zip(months.months, months.running, months.scale, strict=True) if t < start and on]
    running = [(t, s) for t, on, s in zip(months.months, months.running, months.scale, strict=True)
               if t >= start and on]
    was = earlier[-1] if earlier else (months.item.start_scale or 1.0)
    low = min((s for _t, s in running), default=0.0)
    if closes_from:
        return {"status": "closes", "closes_from": closes_from, "notice_by": months.notice_by(closes_from),
                "scale": round(low, 4)}
    if not running:
        return {"status": "does not run"}
    if not earlier and months_before:  # not running before the uncertain year: the plan starts it
        return {"status": "starts", "from": running[0][0], "scale": round(low, 4)}
    if low >= was - SCALE_STEP:
        return {"status": "keeps", "scale": round(low, 4)}
    state: dict[str, Any] = {"status": "reduces", "scale": round(low, 4)}
    cut_from = next(t for t, s in running if s <= low + SCALE_STEP)
    raised = [(t, s) for t, s in running if t > cut_from and s > low + SCALE_STEP]
    if raised:  # cut for a while (a year's contract), then let again at a higher scale
        state.update({"until": raised[0][0], "then": round(raised[0][1], 4)})
    return state


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
