"""Hypothesis strategies for small random scenarios (a few services, 12-24 months).

They exercise every rule at once: random grants per FY, costs, tapers and pick-up, commitments,
notice, exit and start-up costs, mandatory services, a ring-fenced stream and OPCC underwriting.
The dicts go through `vru_model.scenarios.validate`, so they are scenarios a user could write.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from vru_model import periods
from vru_model.scenarios import validate
from vru_model.schema import Scenario

KINDS = ["commissioned", "central", "place_based"]


@st.composite
def intervention(draw: st.DrawFn, months: list[str], name: str) -> dict[str, Any]:
    fys = sorted({periods.fy_of(m) for m in months})
    lo = draw(st.sampled_from([0.0, 0.5, 1.0]))
    hi = draw(st.sampled_from([1.0, 1.5]))
    kind = draw(st.sampled_from(KINDS))
    running = draw(st.booleans() | st.just(True))
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
    if draw(st.integers(0, 4)) == 0:
        item["mandatory"] = True
    return item


@st.composite
def scenario_dicts(draw: st.DrawFn, max_services: int = 3) -> dict[str, Any]:
    start = draw(st.sampled_from(["2021-04", "2021-10", "2022-01"]))
    count = draw(st.integers(12, 24))
    months = periods.months(start, count)
    fys = periods.fys(start, count)
    names = [f"s{k}" for k in range(draw(st.integers(1, max_services)))]
    items = {n: draw(intervention(months, n)) for n in names}
    funding: dict[str, Any] = {
        "core": {
            "kind": "core_grant",
            "amounts": {fy: float(draw(st.integers(0, 60)) * 5000) for fy in fys},
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
        "policy": {
            "commissioning_min_share": draw(st.sampled_from([0.0, 0.2])),
            "partner_pickup": draw(st.sampled_from([1.0, 0.5])),
            "allow_reopening": draw(st.booleans()),
            "disruption_penalty_per_participant": draw(st.sampled_from([0.0, 100.0])),
            "discount_rate_annual": draw(st.sampled_from([0.0, 0.035])),
            "cost_inflation_annual": draw(st.sampled_from([0.0, 0.03])),
            "time_limit_seconds": 20.0,
        },
        "funding": funding,
        "value": {
            "price_year": "2021/22",
            "harm_costs": {"injury": {"gbp": 14050.0, "price_year": "2021/22", "source": "illustrative"}},
        },
        "interventions": items,
    }


def scenarios(max_services: int = 3) -> st.SearchStrategy[Scenario]:
    return scenario_dicts(max_services).map(lambda d: validate(d, "generated"))
