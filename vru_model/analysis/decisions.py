"""Why the plan closes or reduces a service, in words a commissioning lead can check.

Each closure and each scale reduction is given a `reason` (what it frees, for what, and which rule or
trade-off makes it best) from the plan's own figures: the money the service would still cost the VRU,
the value each VRU pound buys on it, what a pound of core grant is worth elsewhere in the plan (the
shadow price), its exit cost and the participants who lose support. `cost_to_keep` (what the plan
loses if the service is protected) is measured by re-solving, in `solve.WhatIfs.costs_to_keep`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd

from vru_model.analysis.states import plan_states
from vru_model.core import periods
from vru_model.core.text import money, plural
from vru_model.model.data import LIABILITY, ModelData
from vru_model.scenario.schema import Scenario


def reductions(sc: Scenario, alloc: pd.DataFrame) -> list[dict[str, Any]]:
    """Months where a running service's scale falls and it keeps running: the new contract scale,
    and when the notice of variation must be served."""
    found = []
    for i, months in plan_states(sc, alloc).items():
        item = months.item
        for step in months.reductions():
            assert step.scale_before is not None  # a reduction is from a known scale
            found.append({
                "intervention": i,
                "title": item.title,
                "from": step.month,
                "scale_before": round(step.scale_before, 4),
                "scale": round(step.scale, 4),
                "notice_by": periods.add_months(step.month, -item.variation_notice),
                "notice_months": item.variation_notice,
                "participants_lost_per_year": round(item.participants_per_year * (step.scale_before - step.scale), 1),
            })
    return sorted(found, key=lambda r: (r["from"], r["intervention"]))


def growth(sc: Scenario, alloc: pd.DataFrame) -> list[dict[str, Any]]:
    """Services the plan starts (or starts again) and contracts it raises in scale, from when: commitments a
    commissioning lead must procure or agree, as a closure must be given notice. A first month's scale the
    scenario does not give (`scale_at_start`) is the plan's own setting, not a rise."""
    found = []
    for (i, months), (_, rows) in zip(plan_states(sc, alloc).items(), alloc.groupby("intervention", sort=False),
                                      strict=True):
        for step in months.growth():
            fy = rows.loc[rows["period"] == step.month, "fy"].iloc[0]
            year = rows[(rows["fy"] == fy) & (rows["period"] >= step.month)]
            found.append({
                "intervention": i, "title": months.item.title, "from": step.month,
                "kind": "grows" if step.ran else "starts",
                "scale_before": round(step.scale_before, 4) if step.ran and step.scale_before is not None else 0.0,
                "scale": round(step.scale, 4),
                "vru_spend_that_year": round(float(year["vru_spend"].sum()), 2),
                "startup_cost": round(float(year["startup_cost"].sum()), 2),
            })
    return sorted(found, key=lambda r: (r["from"], r["intervention"]))


def scales_set_at_start(sc: Scenario, alloc: pd.DataFrame) -> list[dict[str, Any]]:
    """Services running when the plan starts whose contract scale the scenario does not give (`scale_at_start`):
    the plan sets it from the first month, with no notice (`reductions` cannot see a cut there). Those it sets
    away from design strength, below or above (Reachable Moments from custody at 130%), which a commissioning
    lead must agree with the provider from the start."""
    found = []
    for i, months in plan_states(sc, alloc).items():
        scale = months.scale_set_at_start()
        if scale is not None:
            found.append({"intervention": i, "title": months.item.title, "from": months.months[0],
                          "scale": round(scale, 4)})
    return found


def _freed(sc: Scenario, d: ModelData, i: str, start: str, scale: float) -> dict[str, float]:
    """VRU money the service would cost at `scale` from `start` to the end of the plan, by FY."""
    out: dict[str, float] = {}
    for t in d.months:
        if t >= start:
            out[d.fy_of[t]] = out.get(d.fy_of[t], 0.0) + d.cost[i, t] * scale * d.vru_share[i, t]
    return out


def _value_per_pound(d: ModelData, i: str, month: str) -> float | None:
    pound = d.cost[i, month] * d.vru_share[i, month]
    return d.value[i] / pound if pound > 0 else None


GrantOf = Callable[[str], float]  # the core grant of a financial year (the scenario's, or a grant outcome's)


def _first_cut(d: ModelData, grant_of: GrantOf) -> str | None:
    """The first FY whose core grant is below the first year's."""
    first = grant_of(d.fys[0])
    return next((y for y in d.fys[1:] if grant_of(y) < first - 0.5), None)


def forced(d: ModelData, i: str, month: str, freed: dict[str, float], grant_of: GrantOf) -> bool:
    """A change from a year with no core grant, in a plan with none later and no other stream that may pay for
    the service then: made because the grant ends, not a trade-off."""
    if grant_of(d.fy_of[month]) > 0.5 or any(grant_of(y) > 0.5 for y in freed):
        return False
    stopgaps = {d.core, d.underwriting, LIABILITY}  # the grant itself, and what covers only its notice periods
    return not any(t >= month for (s, j), months in d.pays.items() if j == i and s not in stopgaps for t in months)


def _tradeoff(
    d: ModelData, i: str, month: str, freed: dict[str, float], prices: dict[str, float], grant_of: GrantOf,
    closes: bool = True,
) -> str:
    fy = d.fy_of[month]
    vpp = _value_per_pound(d, i, month)
    years = ", ".join(f"{money(v)} in {y}" for y, v in freed.items() if v > 0.5)
    frees = f"frees {money(sum(freed.values()))} of VRU money ({years})" if years else "frees no VRU money"
    if forced(d, i, month, freed, grant_of):
        what = "Running it to the end of the plan" if closes else "Keeping its scale to the end of the plan"
        return (f"{what} would take {money(sum(freed.values()))} more of VRU money ({years}), and there is no core "
                f"grant from {fy} on to pay for it: the grant ends.")
    if vpp is None:
        return f"It {frees}; partners pay for it in full, so it closes only if they stop."
    if d.value[i] <= 0:
        return (f"It {frees} for services with measured value: the model gives it no value (no evidence entry), "
                "so its money does more elsewhere.")
    price = prices.get(fy)
    if price is not None and price > 1e-6:
        return (f"It {frees} for services that do more with it: a VRU pound here buys £{vpp:.2f} of value, "
                f"while a pound of {fy} core grant is worth £{price:.2f} on the services the plan keeps (value net "
                "of exit costs and the disruption weight).")
    return (f"It {frees} for services that do more with it: a VRU pound here buys £{vpp:.2f} of value, less "
            "than the same money delivers on the services the plan keeps or grows.")


def _costs(sc: Scenario, i: str, participants: float, exit_cost: float | None, lead: str = "That outweighs") -> str:
    """What closing or cutting the service costs: 'That outweighs ...' after a trade-off, or `lead` ('Closing it
    costs', 'Cutting it costs') where the change is not a trade-off of value."""
    rate = sc.policy.disruption_penalty_per_participant
    parts = []
    if exit_cost:
        parts.append(f"its exit cost ({money(exit_cost)})")
    if participants > 0:
        penalty = f"; disruption penalty {money(rate * participants)}" if rate > 0 else ""
        parts.append(f"the {participants:,.0f} participants a year who lose support{penalty}")
    if not parts:
        return ""
    return f"{lead} " + " and ".join(parts) + "."


def _not_for_value(parts: dict[str, float] | None) -> str:
    """When keeping a service would add social value, the plan does not cut it for value: say what it is for
    instead (a trade-off the value-a-pound sentence would misstate)."""
    if not parts or parts.get("social_value", 0.0) >= -0.5:
        return ""
    words = {"exit_costs": "in exit and start-up costs",
             "disruption": "of the model's disruption weight on participants who lose support elsewhere (a weight, "
                           "not money)",
             "penalty_weights": "of the underwriting and liability penalty weights (not money)"}
    more = [f"{money(parts[k])} more {w}" for k, w in words.items() if parts.get(k, 0.0) > 0.5]
    return (f"Not for its social value: keeping it would add {money(-parts['social_value'])} of social value, but "
            f"also {' and '.join(more)}.")


def unkeepable(d: ModelData, month: str, grant_of: GrantOf) -> str | None:
    """Why a closure or reduction from `month` has no cost to keep, or None when it has one: keeping a service
    (protecting it) holds only while a core grant pays, so in a year without one the re-solve that keeps it
    would keep nothing, and its "cost" would read as "free to keep" when it is not possible at all."""
    fy = d.fy_of[month]
    if d.scenario.policy.objective == "min_grant" or grant_of(fy) > 0.5:  # min_grant protects in every month
        return None
    return f"none: there is no core grant in {fy} to keep it with"


def _record_cost_to_keep(entry: dict[str, Any], cost: float | None, parts: dict[str, float] | None,
                         why_not: str | None) -> dict[str, float] | None:
    """Write a closure's or reduction's cost to keep, its parts (when there is a cost) and why there is none;
    return the parts its reason goes on to split."""
    entry["cost_to_keep"] = None if cost is None else round(max(0.0, cost), 2)
    parts = parts if cost is not None and cost > 0.5 else None
    if parts:
        entry["cost_to_keep_parts"] = parts
    if why_not:
        entry["cost_to_keep_note"] = why_not
    return parts


def _keep(cost: float | None, scope: str = "", parts: dict[str, float] | None = None) -> str:
    if cost is None:
        return ""
    if cost <= 0.5:
        return (f"Keeping it{scope} would cost nothing measurable (within the solver's gap): a plan of about equal "
                "value keeps it, so this change is optional.")
    return f"Keeping it{scope} would cost {money(cost)} of value over the plan (cost to keep){split(parts)}."


def split(parts: dict[str, float] | None) -> str:
    """': £21.3k less social value, £17.7k saved in exit costs and £193k more of the model's disruption weight
    (...)': how much of a cost to keep is social value or money and how much the model's weights, which are not
    money (cut_50's "£196k" to keep resettlement was £21k of social value). '' without parts."""
    if not parts:
        return ""
    words = {
        "social_value": ("less social value", "more social value"),
        "exit_costs": ("more in exit and start-up costs", "saved in exit and start-up costs"),
        "disruption": ("more of the model's disruption weight on participants who lose support (a weight, not "
                       "money)", "less of the model's disruption weight (a weight, not money)"),
        "penalty_weights": ("more of the underwriting and liability penalty weights (not money)",
                            "less of the underwriting and liability penalty weights (not money)"),
    }
    said = [f"{money(abs(x))} {words[k][0] if x > 0 else words[k][1]}"
            for k in words if abs(x := parts.get(k, 0.0)) >= 0.5]
    return ": " + ", ".join(said[:-1]) + (" and " if len(said) > 1 else "") + said[-1] if said else ""


def _early(d: ModelData, month: str, notice_by: str, summary: dict[str, Any], grant_of: GrantOf) -> str:
    """Why notice is served before the grant falls: a trade-off the plan chooses, not a rule forcing it."""
    cut = _first_cut(d, grant_of)
    fy = d.fy_of[month]
    if cut is None or fy >= cut:
        return ""
    unspent = summary.get("fy", {}).get(fy, {}).get("unspent_by_stream", {}).get(d.core, 0.0)
    used = unspent <= 0.01 * max(1.0, grant_of(fy))
    why = (f"the {fy} grant is already fully used ({money(unspent)} left), and this is among its weakest uses"
           if used else f"over the whole plan its money does more on other services, including in {cut}")
    return (f"Notice is served by {periods.month_name(notice_by)}, before the grant falls in {cut}, because {why}: "
            "a trade-off the plan chooses, not a rule forcing it.")


def annotate(
    sc: Scenario,
    d: ModelData,
    summary: dict[str, Any],
    alloc: pd.DataFrame,
    keep_costs: dict[str, float | None] | None = None,
    grant_of: GrantOf | None = None,
    keep_scope: str = "",
    shared_before: str = "",
    keep_parts: dict[str, dict[str, float]] | None = None,
) -> None:
    """Add `reason` and `cost_to_keep` to each closure, and the `reductions`, `scales_set_at_start` and
    `starts_and_growth` lists, in `summary` (in place).

    `keep_costs` maps a service to what protecting it costs (None: not measured). `grant_of` gives each
    year's core grant (default: the scenario's; a cliff-edge outcome passes its own); `keep_scope` says
    where the cost to keep was measured (" in every outcome with a grant" for a cliff-edge plan). A change
    whose notice falls before `shared_before` (a cliff-edge plan's confirmation month) is one decision for
    every outcome, priced where there is a grant, so `grant_of` does not make it unkeepable. `keep_parts` splits a
    cost to keep into social value, exit costs and the model's weights (`ObjectiveParts.cost_to_keep`), by service."""
    # what the last pound of grant does on the services the plan keeps: a pound less, where it was measured
    shadow = summary.get("shadow_prices", {})
    prices = {**(shadow.get("grant_value_per_pound") or {}), **(shadow.get("grant_cost_of_a_pound_less") or {})}
    keep_costs, keep_parts = keep_costs or {}, keep_parts or {}
    grant_of = grant_of or sc.core_grant
    set_at_start = {r["intervention"]: r for r in scales_set_at_start(sc, alloc)}
    states = plan_states(sc, alloc)
    for c in summary.get("closures", []):
        i = c["intervention"]
        scale = states[i].scale_before(c["closes_from"])
        c["scale_before"] = round(scale, 4)
        c["participants_lost_per_year"] = round(sc.interventions[i].participants_per_year * scale, 1)
        freed = _freed(sc, d, i, c["closes_from"], scale)
        why_not = None if c["notice_by"] < shared_before else unkeepable(d, c["closes_from"], grant_of)
        parts = _record_cost_to_keep(c, None if why_not else keep_costs.get(i), keep_parts.get(i), why_not)
        first = set_at_start.get(i)
        text = [
            f"Closes from {periods.month_name(c['closes_from'])} (notice of {plural(c['notice_months'], 'month')} by "
            f"{periods.month_name(c['notice_by'])}).",
            f"From {periods.month_name(first['from'])} it runs at {first['scale']:.0%} of design strength, a scale "
            "the plan sets as the scenario gives none at the start (scale_at_start)." if first else "",
            _not_for_value(parts) or _tradeoff(d, i, c["closes_from"], freed, prices, grant_of),
            _costs(sc, i, c["participants_lost_per_year"], c["exit_cost"],
                   "Closing it costs" if forced(d, i, c["closes_from"], freed, grant_of) or _not_for_value(parts)
                   else "That outweighs"),
            _early(d, c["closes_from"], c["notice_by"], summary, grant_of),
            _keep(c["cost_to_keep"], keep_scope, parts),
        ]
        c["reason"] = " ".join(t for t in text if t)
    found = reductions(sc, alloc)
    for r in found:
        i = r["intervention"]
        freed = _freed(sc, d, i, r["from"], r["scale_before"] - r["scale"])
        why_not = None if r["notice_by"] < shared_before else unkeepable(d, r["from"], grant_of)
        cost = None if why_not else keep_costs.get(f"{i}@{r['from']}", keep_costs.get(i))
        parts = _record_cost_to_keep(r, cost, keep_parts.get(i), why_not)
        text = [
            f"Reduced from {r['scale_before']:.0%} to {r['scale']:.0%} of design scale from "
            f"{periods.month_name(r['from'])} (notice of variation by {periods.month_name(r['notice_by'])}).",
            _not_for_value(parts) or _tradeoff(d, i, r["from"], freed, prices, grant_of, closes=False),
            _costs(sc, i, r["participants_lost_per_year"], None,
                   "Cutting it costs" if forced(d, i, r["from"], freed, grant_of) or _not_for_value(parts)
                   else "That outweighs"),
            _early(d, r["from"], r["notice_by"], summary, grant_of),
            _keep(r["cost_to_keep"], keep_scope, parts),
        ]
        r["reason"] = " ".join(t for t in text if t)
    summary["reductions"] = found
    closing = {c["intervention"] for c in summary.get("closures", [])}  # their reasons say so already
    summary["scales_set_at_start"] = [r for i, r in set_at_start.items() if i not in closing]
    summary["starts_and_growth"] = growth(sc, alloc)
