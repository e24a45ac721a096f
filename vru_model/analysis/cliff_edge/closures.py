"""Why each closure and reduction of a two-stage plan: what keeping the service would cost in expectation, and
why a decision taken before the grant is known is a hedge across the outcomes."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pyomo.environ as pyo

from vru_model.analysis import decisions
from vru_model.analysis.objective import ObjectiveParts, gap_slack
from vru_model.analysis.solve import WhatIfs
from vru_model.core import periods
from vru_model.core.text import money
from vru_model.model.data import ModelData
from vru_model.scenario.schema import Scenario


def explain_closures(
    sc: Scenario, d: ModelData, plans: pd.DataFrame, reports: list[dict[str, Any]], rp: float,
    threads: int, gap: float, costs: bool, split: ObjectiveParts | None = None,
) -> None:
    """Give every closure (and scale reduction) of every outcome its `reason` and `cost_to_keep`, in place.

    The cost to keep a service is what the expected value loses if it is kept running in every outcome that
    has a grant to pay for it (a two-stage re-solve with the service protected, one per closing service, on
    one persistent solver). A closure in a year with no grant has no cost to keep: keeping it would leave
    an unfunded liability, and its reason says the grant ends. `split`, the plan's `ObjectiveParts`, lets each
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
    parts: dict[str, dict[str, float]] = {}  # service -> its cost to keep in parts (`ObjectiveParts.cost_to_keep`)
    unmeasured: set[str] = set()  # left out when the re-solves' time budget ran out
    if costs and candidates:
        whatifs = WhatIfs(sc, d, candidates, threads, rel_gap=gap)
        keep = whatifs.costs_to_keep(rp, candidates, read=lambda m: (
            {w: float(pyo.value(m.value[w] - m.losses[w])) for w in m.W}, ObjectiveParts.of(m)))
        kept_by_outcome = {i: by_outcome for i, (by_outcome, _parts) in whatifs.kept.items()}
        if split is not None:
            parts = {i: split.cost_to_keep(kept) for i, (_by_outcome, kept) in whatifs.kept.items()}
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
    slack = gap_slack(gap, rp, pounds=1.0)
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
