"""Hypothesis strategies for small random scenarios (a few services, 12-24 months).

They exercise every rule at once: random grants per FY, costs, tapers and pick-up, commitments,
notice, exit and start-up costs, mandatory services, a ring-fenced stream and OPCC underwriting.
The dicts go through `vru_model.scenario.load.validate`, so they are scenarios a user could write.

Most drawn scenarios have a lawful plan, so the property tests check a plan on most examples rather
than passing over infeasible ones: each year's grant is a share of what the services would cost that
year (mostly below it, so the budget binds), at least one service is commissioned, a mandatory service
is running when the plan starts, and the grant is never more than the commissioned services could take
at full capacity under the commissioning minimum (whichever basis that minimum is measured on).
"""

from __future__ import annotations

import math
from typing import Any

from hypothesis import strategies as st

from vru_model.core import periods
from vru_model.scenario.load import validate
from vru_model.scenario.schema import Scenario

KINDS = ["commissioned", "central", "place_based"]


@st.composite
def intervention(draw: st.DrawFn, months: list[str], name: str, commissioned: bool = False) -> dict[str, Any]:
    fys = sorted({periods.fy_of(m) for m in months})
    lo = draw(st.sampled_from([0.0, 0.5, 1.0]))
    hi = draw(st.sampled_from([1.0, 1.5]))
    kind = "commissioned" if commissioned else draw(st.sampled_from(KINDS))
    running = commissioned or draw(st.just(True) | st.booleans())
    item: dict[str, Any] = {
        "title": f"Service {name}",
        "kind": kind,
        "system": "cross_cutting",
        "annual_cost": float(draw(st.integers(1, 40)) * 6000),
        "scale": {"min": lo, "max": max(lo, hi)},
        "participants_per_year": float(draw(st.integers(0, 400))),
        "notice_months": draw(st.integers(0, 4)),
        "exit_cost": float(draw(st.sampled_from([0, 2500, 15000]))),
        "startup_cost": float(draw(st.sampled_from([0, 5000]))),
        "running_at_start": running,
        "evidence": {
            "effect": draw(st.sampled_from([0.05, 0.2, 0.33])),
            "band": "moderate",
            "confidence": draw(st.sampled_from(["very_low", "low", "moderate", "high"])),
            "incidents_per_participant": draw(st.sampled_from([0.5, 1.0, 2.0])),
            "harm": "injury",
            "source": "illustrative assumption: generated test data",
        },
    }
    if kind == "place_based":
        item["commissioned"] = draw(st.booleans())
    if draw(st.booleans()):
        item["taper"] = {fy: draw(st.sampled_from([1.0, 0.5, 0.0])) for fy in fys}
    if draw(st.booleans()):
        item["pickup"] = draw(st.sampled_from([0.0, 0.5, 1.0]))
    if running and draw(st.booleans()):
        item["committed_until"] = draw(st.sampled_from(months[:6]))
    if running and draw(st.integers(0, 4)) == 0:  # a mandatory service that is not running cannot be started
        item["mandatory"] = True  # before the grant is confirmed: infeasible by construction
    return item


# Each FY's core grant as a share of what every service would cost that year at design strength; after the
# first year the grant may end (keeping only what no plan can avoid).
GRANT_SHARES = [0.75, 1.0, 0.5, 1.25, 0.25]


def _fy_costs(items: dict[str, dict[str, Any]], months: list[str], fy: str, inflation: float
              ) -> tuple[float, float, float]:
    """In `fy`'s months of the horizon: what every service costs at design strength, what the commissioned
    ones could take at full capacity, and what no plan can avoid (mandatory services all year, committed
    contracts and the notice period at the start, each at minimum scale, plus an exit cost)."""
    in_fy = [k for k, m in enumerate(months) if periods.fy_of(m) == fy]
    year = sorted({periods.fy_of(m) for m in months}).index(fy)
    design = capacity = floor = 0.0
    for item in items.values():
        monthly = item["annual_cost"] / 12 * (1 + inflation) ** year
        design += monthly * len(in_fy)
        if item["kind"] == "commissioned" or item.get("commissioned"):
            capacity += monthly * item["scale"]["max"] * len(in_fy)
        if item.get("mandatory"):
            floor += monthly * item["scale"]["min"] * len(in_fy)
        elif item["running_at_start"]:
            bound = max(item["notice_months"], months.index(item.get("committed_until", months[0])) + 1)
            held = [k for k in in_fy if k < bound]
            floor += monthly * item["scale"]["min"] * len(held) + (item["exit_cost"] if held else 0.0)
    return design, capacity, floor


def _grant(draw: st.DrawFn, items: dict[str, dict[str, Any]], months: list[str], fy: str, policy: dict[str, Any]
           ) -> float:
    """Mostly between what no plan can avoid and what everything costs, and never more than the
    commissioning minimum lets the commissioned services take."""
    design, capacity, floor = _fy_costs(items, months, fy, policy["cost_inflation_annual"])
    shares = GRANT_SHARES if fy == periods.fy_of(months[0]) else [*GRANT_SHARES, 0.0]
    share = draw(st.sampled_from(shares))
    amount = max(share * design, floor)
    if policy["commissioning_min_share"] > 0:
        amount = min(amount, 0.95 * capacity / policy["commissioning_min_share"])
    return float(math.ceil(amount / 1000) * 1000)


@st.composite
def scenario_dicts(draw: st.DrawFn, max_services: int = 3) -> dict[str, Any]:
    start = draw(st.sampled_from(["2021-04", "2021-10", "2022-01"]))
    count = draw(st.integers(12, 24))
    months = periods.months(start, count)
    fys = periods.fys(start, count)
    names = [f"s{k}" for k in range(draw(st.integers(1, max_services)))]
    items = {n: draw(intervention(months, n, commissioned=k == 0)) for k, n in enumerate(names)}
    policy = {
        "commissioning_min_share": draw(st.sampled_from([0.2, 0.0])),
        "partner_pickup": draw(st.sampled_from([1.0, 0.5])),
        "allow_reopening": draw(st.booleans()),
        "disruption_penalty_per_participant": draw(st.sampled_from([0.0, 100.0])),
        "discount_rate_annual": draw(st.sampled_from([0.0, 0.035])),
        "cost_inflation_annual": draw(st.sampled_from([0.0, 0.03])),
        "time_limit_seconds": 20.0,
    }
    funding: dict[str, Any] = {
        "core": {
            "kind": "core_grant",
            "amounts": {fy: _grant(draw, items, months, fy, policy) for fy in fys},
            "confirmed_month": draw(st.sampled_from(months[:4])),
        }
    }
    if draw(st.booleans()):
        eligible = draw(st.lists(st.sampled_from(names), min_size=1, max_size=len(names), unique=True))
        funding["yjb"] = {
            "kind": "ring_fenced",
            "amounts": {fys[0]: float(draw(st.integers(1, 20)) * 5000)},
            "eligible": eligible,
        }
    if draw(st.booleans()):
        funding["opcc"] = {"kind": "underwriting", "cap": float(draw(st.integers(0, 20)) * 5000)}
    return {
        "name": "generated",
        "title": "Generated test scenario",
        "horizon": {"start": start, "months": count},
        "policy": policy,
        "funding": funding,
        "value": {
            "price_year": "2021/22",
            "harm_costs": {"injury": {"gbp": 14050.0, "price_year": "2021/22", "source": "illustrative"}},
        },
        "interventions": items,
    }


def scenarios(max_services: int = 3) -> st.SearchStrategy[Scenario]:
    return scenario_dicts(max_services).map(lambda d: validate(d, "generated"))
