"""Hand-checked tests, one per grant rule (docs/rules.md).

Each scenario is tiny and its optimum is worked out by hand in the test's comment. Values are
chosen so the arithmetic is easy: no discounting, harm cost GBP 12 per incident, effect 1, high
confidence, one incident per participant, so a service's monthly value at scale 1 equals its
`participants_per_year` figure (see `service`). Each test then removes its rule from a freshly
built model (`optimum(..., remove=...)`) and asserts the optimum moves, so "the test fails if the
rule is dropped" is checked, not claimed.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pyomo.environ as pyo
import pytest
from checker import check_folder
from pyomo.core.expr.visitor import replace_expressions

from vru_model.analysis.solve import solve
from vru_model.model.build import TIE_BREAK, apply_rule_bounds, build_model
from vru_model.model.data import prepare
from vru_model.scenario.load import validate
from vru_model.scenario.schema import Scenario
from vru_model.solving.solver import make_solver, run_solver
from vru_model.solving.status import Status

Remover = str | Callable[[pyo.ConcreteModel], None]


def service(cost_pm: float, value_pm: float, **extra: Any) -> dict[str, Any]:
    """An intervention costing `cost_pm` a month and worth `value_pm` a month at scale 1."""
    item = {
        "title": "test service",
        "kind": "central",
        "system": "cross_cutting",
        "annual_cost": 12.0 * cost_pm,
        "scale": {"min": 0.0, "max": 1.0},
        "participants_per_year": float(value_pm),
        "notice_months": 0,
        "exit_cost": 0.0,
        "evidence": {
            "effect": 1.0, "band": "high", "confidence": "high", "incidents_per_participant": 1.0,
            "harm": "injury", "source": "illustrative",
        },
    }
    item.update(extra)
    return item


def scenario(
    interventions: dict[str, dict[str, Any]],
    core: dict[str, float],
    *,
    start: str = "2021-04",
    months: int = 12,
    policy: dict[str, Any] | None = None,
    funding: dict[str, Any] | None = None,
) -> Scenario:
    data = {
        "name": "rule_test",
        "title": "hand-checked rule test",
        "horizon": {"start": start, "months": months},
        # Monthly scale unless a test says otherwise: each of these tests prices one rule with the scale
        # free month by month (closing is free here, so the yearly rule would only add ties); the
        # contract rules (yearly scale, notice of reduction) have their own tests below.
        "policy": {
            "commissioning_min_share": 0.0, "discount_rate_annual": 0.0, "mip_rel_gap": 0.0,
            "scale_changes": "monthly", **(policy or {}),
        },
        "funding": {"core": {"kind": "core_grant", "amounts": core}, **(funding or {})},
        "value": {
            "price_year": "2021/22",
            "harm_costs": {"injury": {"gbp": 12.0, "price_year": "2021/22", "source": "illustrative"}},
        },
        "interventions": interventions,
    }
    return validate(data, "rule_test")


def _remove(model: pyo.ConcreteModel, remover: Remover) -> None:
    """Lift a rule by name, whether the model states it as rows, as bounds (`rule_bounds`) or both."""
    if not isinstance(remover, str):
        remover(model)
        return
    rows = getattr(model, remover, None)
    if not isinstance(rows, pyo.Constraint) and remover not in model.rule_bounds:
        raise AssertionError(f"the model has no rule {remover!r}")
    if isinstance(rows, pyo.Constraint):
        rows.deactivate()
    if model.rule_bounds.pop(remover, None):
        apply_rule_bounds(model)


def optimum(sc: Scenario, remove: Iterable[Remover] = (), data: Any = None) -> float | None:
    """Value minus losses at the optimum of the scenario's model with the named components
    deactivated (None when there is no optimal plan). The objective's tiny tie-break on VRU
    spend is left out so that figures compare with the hand arithmetic."""
    model = build_model(sc, data or prepare(sc))
    for remover in remove:
        _remove(model, remover)
    status, _ = run_solver(make_solver(sc), model)
    if status != Status.OPTIMAL:
        return None
    [w] = list(model.W)
    return float(pyo.value(model.value[w] - model.losses[w]))


def solved(sc: Scenario, expected: float, tmp_path: Path):
    """Solve through the public pipeline, check the hand-computed optimum and the independent checker."""
    result = solve(sc)
    assert result.status == Status.OPTIMAL
    spent = result.allocation["vru_spend"].sum()
    assert result.objective == pytest.approx(expected - TIE_BREAK * spent, abs=0.05)
    folder = result.write(tmp_path)
    assert check_folder(folder) == []
    return result


def assert_rule_matters(sc: Scenario, expected: float, without: float, remove: Iterable[Remover], data: Any = None):
    """With the rule the optimum is `expected`; without it, `without` (computed by hand too)."""
    assert optimum(sc, data=data) == pytest.approx(expected, abs=0.5)
    relaxed = optimum(sc, remove, data=data)
    assert relaxed is not None
    assert relaxed == pytest.approx(without, abs=0.5)
    assert abs(relaxed - expected) > 1.0


def test_stream_budget_per_fy_without_carry_over(tmp_path):
    # Horizon Oct 2021 - Sep 2022: six months of 2021/22 and six of 2022/23.
    # One service: GBP 2,000 a month, worth GBP 4,000 a month at full scale.
    # 2021/22 grant 24,000 but six months can only use 6 x 2,000 = 12,000 (12,000 left unspent);
    # 2022/23 grant 0. No carry-over: 2022/23 runs at scale 0. Optimum = 12,000 x 2 = 24,000.
    # (If the 12,000 could be carried over, 2022/23 would also run: 48,000.)
    # Rule removed: money is unlimited, full scale all 12 months: 12 x 4,000 = 48,000.
    sc = scenario({"a": service(2000, 4000)}, {"2021/22": 24000, "2022/23": 0}, start="2021-10")
    result = solved(sc, 24000, tmp_path)
    assert result.summary["fy"]["2021/22"]["unspent_by_stream"]["core"] == pytest.approx(12000)
    assert result.summary["fy"]["2022/23"]["spent_by_stream"]["core"] == pytest.approx(0)
    # Another pound is worth nothing in 2021/22 (money is left over) and 2 in 2022/23.
    worth = result.summary["shadow_prices"]["grant_value_per_pound"]
    assert worth["2021/22"] == pytest.approx(0, abs=1e-3)
    assert worth["2022/23"] == pytest.approx(2, abs=1e-3)
    assert_rule_matters(sc, 24000, 48000, ["stream_budget"])


def test_ring_fence_only_pays_eligible_services(tmp_path):
    # One FY. a: GBP 1,000/month, value 1,500/month, scale <= 1. b: GBP 1,000/month, value 3,000/month,
    # scale <= 2. Core 12,000 (any service); YJB 12,000 ring-fenced to a.
    # With the ring-fence: YJB pays a at scale 1 (12 x 1,500 = 18,000); core pays b at scale 1
    # (12 x 3,000 = 36,000). Optimum 54,000.
    # Without it: all 24,000 to b at scale 2: 12 x 6,000 = 72,000.
    sc = scenario(
        {"a": service(1000, 1500), "b": service(1000, 3000, scale={"min": 0.0, "max": 2.0})},
        {"2021/22": 12000},
        funding={"yjb": {"kind": "ring_fenced", "amounts": {"2021/22": 12000}, "eligible": ["a"]}},
    )
    result = solved(sc, 54000, tmp_path)
    assert set(result.funding[result.funding["stream"] == "yjb"]["intervention"]) == {"a"}
    # The ring-fence is structural (no spend variable for an ineligible service), so "removing" it
    # means giving the stream a spend variable for every service.
    data = prepare(sc)
    open_pays = {**data.pays, ("yjb", "b"): data.pays["yjb", "a"]}
    assert optimum(sc) == pytest.approx(54000, abs=0.5)
    assert optimum(sc, data=dataclasses.replace(data, pays=open_pays)) == pytest.approx(72000, abs=0.5)


def test_commissioning_minimum(tmp_path):
    # The `awarded` basis (the share is of the grant awarded; see test_commissioning_basis_claimed).
    # One FY, grant 12,000, commissioning minimum 25% = 3,000 of core grant on commissioned services.
    # c (commissioned): GBP 1,000/month, value 500/month (0.5 per pound).
    # n (central): GBP 1,000/month, value 2,000/month (2 per pound), scale <= 2.
    # Optimum: 3,000 to c (1,500 of value) and 9,000 to n (18,000): 19,500.
    # Without the rule: all 12,000 to n: 24,000.
    sc = scenario(
        {"c": service(1000, 500, kind="commissioned"), "n": service(1000, 2000, scale={"min": 0.0, "max": 2.0})},
        {"2021/22": 12000},
        policy={"commissioning_min_share": 0.25, "commissioning_basis": "awarded"},
    )
    result = solved(sc, 19500, tmp_path)
    assert result.summary["fy"]["2021/22"]["commissioned_share"] == pytest.approx(0.25, abs=1e-4)
    # Shadow prices: each pound the rule requires moves from n to c and loses 2 - 0.5 = 1.5 (4,500 in
    # all); one more pound of grant is worth 2 on n, less 25% x 1.5 as the minimum grows with it: 1.625.
    prices = result.summary["shadow_prices"]
    assert prices["commissioning_rule"]["2021/22"]["value_per_pound_required"] == pytest.approx(1.5, abs=1e-3)
    assert prices["commissioning_rule"]["2021/22"]["cost"] == pytest.approx(4500, abs=2)
    assert prices["grant_value_per_pound"]["2021/22"] == pytest.approx(1.625, abs=1e-3)
    # measured a pound either way on the LP, with the minimum moving with the grant (2 if it did not)
    assert prices["grant_value_of_a_pound_more"]["2021/22"] == pytest.approx(1.625, abs=1e-3)
    assert prices["grant_cost_of_a_pound_less"]["2021/22"] == pytest.approx(1.625, abs=1e-3)
    assert_rule_matters(sc, 19500, 24000, ["commissioning_minimum"])


def test_a_pound_more_and_a_pound_less_of_grant_are_priced_apart_at_a_corner(tmp_path):
    # Grant 12,000. n: GBP 1,000/month, 2 of value a pound, at most scale 1 (12,000 a year); m: 0.5 a pound,
    # up to scale 2. Optimum: all 12,000 to n (24,000). A pound more can only go to m (0.5); a pound less comes
    # off n (2). The LP's dual is one number for both, and cut_50's "£2.29 a pound" was the pound less: a
    # pound more added £1.12.
    sc = scenario({"n": service(1000, 2000), "m": service(1000, 500, scale={"min": 0.0, "max": 2.0})},
                  {"2021/22": 12000})
    prices = solved(sc, 24000, tmp_path).summary["shadow_prices"]
    assert prices["grant_value_of_a_pound_more"]["2021/22"] == pytest.approx(0.5, abs=1e-3)
    assert prices["grant_cost_of_a_pound_less"]["2021/22"] == pytest.approx(2.0, abs=1e-3)
    assert ("One more pound of 2021/22 core grant is worth £0.50 of value net of exit costs and the disruption "
            "weight; a pound less would cost £2.00.") in prices["text"]


TAPERED = {"t": service(1000, 1000, taper={"2021/22": 0.5}, scale={"min": 0.0, "max": 2.0})}


@pytest.mark.parametrize(
    ("policy_pickup", "item_pickup", "expected"),
    [
        # VRU share 0.5, partners pick up all they promised: 6,000 of grant buys 12,000 of service,
        # value 1 per pound of service: 12,000.
        (1.0, None, 12000),
        # Only half the promised pick-up happens: partners pay at most 0.5 x 0.5 = 25%, the VRU at
        # least 75%: 6,000 buys 8,000 of service: 8,000.
        (0.5, None, 8000),
        # The service's own pickup (0) overrides the policy: the VRU pays everything: 6,000.
        (0.5, 0.0, 6000),
    ],
)
def test_taper_with_partner_pickup(tmp_path, policy_pickup, item_pickup, expected):
    # t: GBP 1,000/month, value 1,000/month, scale <= 2, taper 50% in 2021/22; grant 6,000.
    # Without the taper rule partners pay for everything: scale 2 all year, 12 x 2,000 = 24,000.
    extra = {} if item_pickup is None else {"pickup": item_pickup}
    items = {"t": {**TAPERED["t"], **extra}}
    sc = scenario(items, {"2021/22": 6000}, policy={"partner_pickup": policy_pickup})
    result = solved(sc, expected, tmp_path)
    assert result.allocation["vru_spend"].sum() == pytest.approx(6000, abs=1)
    assert_rule_matters(sc, expected, 24000, [_no_taper])


def test_minimum_viable_scale(tmp_path):
    # v: GBP 1,000/month, value 2,000/month, scale 0.5-1, exit cost 1,000, no notice; grant 3,000.
    # Running at 0.5 all year would cost 6,000, so it must close within the year and pay the exit cost
    # (charged to the budget and counted as a loss): 3,000 - 1,000 = 2,000 of service, 4,000 of value,
    # objective 4,000 - 1,000 = 3,000.
    # Without the rule: scale 0.25 all year, no closure: 3,000 of service, value 6,000.
    sc = scenario({"v": service(1000, 2000, scale={"min": 0.5, "max": 1.0}, exit_cost=1000)}, {"2021/22": 3000})
    result = solved(sc, 3000, tmp_path)
    running = result.allocation[result.allocation["running"] == 1]
    assert (running["scale"] >= 0.5 - 1e-6).all()
    assert_rule_matters(sc, 3000, 6000, ["viable_scale"])


def _no_taper(model: pyo.ConcreteModel) -> None:
    """The taper is encoded twice too: `taper` rows, and a zero upper bound on partner spend where the
    partner pays nothing (share 1 or pick-up 0)."""
    model.taper.deactivate()
    for var in model.partner.values():
        var.setub(None)


def _no_capacity(model: pyo.ConcreteModel) -> None:
    """Capacity is encoded three times: the `capacity` constraint and the upper bounds of the monthly
    scale and of the yearly contract scale it follows."""
    model.capacity.deactivate()
    levels = model.level.values() if hasattr(model, "level") else []
    for var in [*model.scale.values(), *levels]:
        var.setub(None)


def test_capacity_cap(tmp_path):
    # k: GBP 1,000/month, value 2,000/month, scale <= 1; grant 24,000 (twice what it can use).
    # Optimum: scale 1 all year, 24,000 of value, 12,000 unspent.
    # Without the cap: scale 2 all year on the 24,000: 48,000.
    sc = scenario({"k": service(1000, 2000)}, {"2021/22": 24000})
    result = solved(sc, 24000, tmp_path)
    assert result.allocation["scale"].max() == pytest.approx(1.0)
    assert_rule_matters(sc, 24000, 48000, [_no_capacity])


def test_closed_service_delivers_nothing(tmp_path):
    # The `capacity` constraint (scale <= max x running) also stops a closed service from delivering.
    # v: GBP 1,000/month, value 2,000/month, fixed at scale 1, no notice, no exit cost; grant 2,500.
    # It can run two whole months (2,000; 500 unspent) and then close: 4,000.
    # Without the constraint (the variable's bound kept) it "closes" in April and still delivers
    # 2,500 of service below its minimum scale: 5,000.
    sc = scenario({"v": service(1000, 2000, scale={"min": 1.0, "max": 1.0})}, {"2021/22": 2500})
    result = solved(sc, 4000, tmp_path)
    assert result.allocation["running"].sum() == 2
    assert_rule_matters(sc, 4000, 5000, ["capacity"])


def test_committed_contracts(tmp_path):
    # p: GBP 1,000/month, value 500/month, fixed at scale 1, committed to September 2021 (6 months).
    # q: GBP 1,000/month, value 2,000/month, scale <= 2. Grant 12,000.
    # Optimum: p runs April-September (6,000, value 3,000) and closes from October; q gets 6,000
    # (value 12,000). Total 15,000.
    # Without the rule p closes from April and q gets all 12,000: 24,000.
    sc = scenario(
        {
            "p": service(1000, 500, scale={"min": 1.0, "max": 1.0}, committed_until="2021-09"),
            "q": service(1000, 2000, scale={"min": 0.0, "max": 2.0}),
        },
        {"2021/22": 12000},
    )
    result = solved(sc, 15000, tmp_path)
    assert [(c["intervention"], c["closes_from"]) for c in result.summary["closures"]] == [("p", "2021-10")]
    assert_rule_matters(sc, 15000, 24000, ["committed_contracts"])


def test_closure_needs_notice(tmp_path):
    # n: GBP 1,000/month, value 500/month, fixed at scale 1, three months' notice.
    # q: GBP 1,000/month, value 2,000/month, scale <= 2. Grant 12,000, horizon April 2021 - March 2022.
    # Notice can first be served in April, so n closes from July at the earliest: n runs April-June
    # (3,000, value 1,500), q gets 9,000 (value 18,000). Optimum 19,500; notice by 2021-04.
    # Without the notice rules n closes from April: 24,000.
    sc = scenario(
        {
            "n": service(1000, 500, scale={"min": 1.0, "max": 1.0}, notice_months=3),
            "q": service(1000, 2000, scale={"min": 0.0, "max": 2.0}),
        },
        {"2021/22": 12000},
    )
    result = solved(sc, 19500, tmp_path)
    [closure] = result.summary["closures"]
    assert (closure["intervention"], closure["notice_by"], closure["closes_from"]) == ("n", "2021-04", "2021-07")
    assert_rule_matters(sc, 19500, 24000, ["notice_before_horizon"])


def _without(var_name: str) -> Callable[[pyo.ConcreteModel], None]:
    """A remover that drops a variable's terms from `cost_split` (the money) and `losses` (the
    objective): with `close` that removes exit costs, with `open` start-up costs."""

    def remove(model: pyo.ConcreteModel) -> None:
        # `close` and `open` are expressions of `on`, or of the `closing` and `opening` variables
        own = {"close": "closing", "open": "opening"}[var_name]
        zero = {id(v): 0 for v in [*getattr(model, var_name).values(), *getattr(model, own).values()]}
        for con in model.cost_split.values():
            con.set_value(replace_expressions(con.expr, zero, remove_named_expressions=False))
        for loss in model.losses.values():
            loss.set_value(replace_expressions(loss.expr, zero, remove_named_expressions=False))

    return remove


def test_exit_cost_paid_on_closure(tmp_path):
    # x: GBP 1,000/month, value 500/month, fixed at scale 1, no notice, exit cost 2,000.
    # q: GBP 1,000/month, value 2,000/month, scale <= 2. Grant 12,000.
    # Closing x after k months: q gets 12,000 - 1,000k - 2,000, objective
    # 500k + 2(10,000 - 1,000k) - 2,000 = 18,000 - 1,500k, best at k = 0 (close from April): 18,000.
    # Keeping x all year gives only 6,000. Without the exit cost: close from April, q gets 12,000: 24,000.
    sc = scenario(
        {
            "x": service(1000, 500, scale={"min": 1.0, "max": 1.0}, exit_cost=2000),
            "q": service(1000, 2000, scale={"min": 0.0, "max": 2.0}),
        },
        {"2021/22": 12000},
    )
    result = solved(sc, 18000, tmp_path)
    x = result.allocation[result.allocation["intervention"] == "x"]
    assert x["exit_cost"].sum() == pytest.approx(2000)
    assert x["vru_spend"].sum() == pytest.approx(2000)  # the exit cost is paid out of the grant
    assert_rule_matters(sc, 18000, 24000, [_without("close")])


NO_REOPEN = {"r": service(1000, 3000, scale={"min": 1.0, "max": 1.0})}


def test_no_reopening(tmp_path):
    # Horizon October 2021 - September 2022. r: GBP 1,000/month, value 3,000/month, fixed at scale 1.
    # Grant 3,000 in 2021/22 (six months) and 6,000 in 2022/23 (six months).
    # r can run three months of 2021/22 and must then close; it may not re-open in April:
    # 3 x 3,000 = 9,000.
    # Without the rule: it re-opens for six months in 2022/23: 9,000 + 18,000 = 27,000.
    sc = scenario(NO_REOPEN, {"2021/22": 3000, "2022/23": 6000}, start="2021-10")
    result = solved(sc, 9000, tmp_path)
    assert result.allocation["running"].tolist() == [1, 1, 1] + [0] * 9
    assert_rule_matters(sc, 9000, 27000, ["no_reopening"])


def test_reopening_allowed_pays_startup_cost(tmp_path):
    # As above with policy.allow_reopening and a start-up cost of 1,500: re-opening in 2022/23 leaves
    # 6,000 - 1,500 = 4,500, enough for 4 whole months (scale is fixed at 1): 4 x 3,000 = 12,000 of
    # value, minus the 1,500 start-up cost counted as a loss. Optimum 9,000 + 12,000 - 1,500 = 19,500.
    # Without the start-up cost in the money and the objective: 9,000 + 18,000 = 27,000.
    items = {"r": {**NO_REOPEN["r"], "startup_cost": 1500}}
    sc = scenario(items, {"2021/22": 3000, "2022/23": 6000}, start="2021-10", policy={"allow_reopening": True})
    result = solved(sc, 19500, tmp_path)
    # (Closing at once and re-opening in March for seven months ties: 7 x 3,000 - 1,500 = 19,500.)
    assert result.allocation["running"].sum() == 7
    assert result.allocation["startup_cost"].sum() == pytest.approx(1500)
    assert_rule_matters(sc, 19500, 27000, [_without("open")])


def test_central_capability_floor(tmp_path):
    # m (mandatory central products): GBP 500/month, no value, fixed at scale 1.
    # q: GBP 1,000/month, value 2,000/month, scale <= 2. Grant 12,000.
    # m must run all year (6,000); q gets 6,000: 12,000. Without the floor m closes: 24,000.
    sc = scenario(
        {
            "m": {**service(500, 0, scale={"min": 1.0, "max": 1.0}, mandatory=True), "evidence": None},
            "q": service(1000, 2000, scale={"min": 0.0, "max": 2.0}),
        },
        {"2021/22": 12000},
    )
    result = solved(sc, 12000, tmp_path)
    assert result.allocation[result.allocation["intervention"] == "m"]["running"].all()
    assert_rule_matters(sc, 12000, 24000, ["central_capability_floor"])


# --- contract rules (issue 9): yearly scale, notice of reduction, participants lost, committed scale ------

def _contract(policy: dict[str, Any] | None = None, **r_extra: Any) -> Scenario:
    """r: running at design scale (scale_at_start 1), GBP 1,000/month, worth GBP 500/month (GBP 0.5 per pound),
    scale 0.5-1, three months' notice, committed at scale 0.5 for the whole plan. q: new, GBP 1,000/month,
    worth GBP 2,000/month, scale 0-2. Grant 12,000 in each of 2021/22 and 2022/23; disruption penalty
    GBP 2 per participant lost (r: 500 participants a year at scale 1)."""
    r = service(1000, 500, scale={"min": 0.5, "max": 1.0}, notice_months=3, scale_at_start=1.0,
                committed_until="2023-03", committed_scale=0.5, **r_extra)
    q = service(1000, 2000, scale={"min": 0.0, "max": 2.0}, running_at_start=False)
    return scenario({"r": r, "q": q}, {"2021/22": 12000, "2022/23": 12000}, months=24,
                    policy={"scale_changes": "yearly", "disruption_penalty_per_participant": 2.0, **(policy or {})})


def test_scale_is_a_yearly_contract_term_and_reducing_it_needs_notice(tmp_path):
    # Yearly (the default policy): r cannot be reduced before July 2021 (no notice served before the plan
    # starts, three months needed), so its 2021/22 scale, set for the whole year, stays 1: 12,000, all the
    # grant; value 6,000. From April 2022 (notice of variation by January 2022) r runs at 0.5 (6,000, value
    # 3,000) and q gets 6,000 (scale 0.5, value 12,000). 250 participants a year lost x GBP 2 = 500.
    # Optimum 6,000 + 3,000 + 12,000 - 500 = 20,500.
    # Monthly scale instead: r at 1 for April-June 2021 (3,000), 0.5 from July (4,500); q gets 4,500 in
    # 2021/22 (9,000); value 1,500 + 2,250 + 9,000 = 12,750 in 2021/22, 15,000 in 2022/23, less the same
    # 500: 27,250.
    # Without the notice of reduction (yearly): r at 0.5 from April 2021: 15,000 a year, 30,000 - 500 = 29,500.
    sc = _contract()
    result = solved(sc, 20500, tmp_path)
    r = result.allocation[result.allocation["intervention"] == "r"]
    assert r[r["fy"] == "2021/22"]["scale"].tolist() == [1.0] * 12
    assert r[r["fy"] == "2022/23"]["scale"].tolist() == [0.5] * 12
    [cut] = result.summary["reductions"]
    assert (cut["intervention"], cut["from"], cut["notice_by"], cut["scale"]) == ("r", "2022-04", "2022-01", 0.5)
    assert cut["participants_lost_per_year"] == pytest.approx(250)
    assert "Reduced from 100% to 50%" in cut["reason"] and "January 2022" in cut["reason"]
    assert result.summary["closures"] == []
    assert_rule_matters(sc, 20500, 27250, ["yearly_scale"])
    assert_rule_matters(sc, 20500, 29500, ["reduction_notice"])
    assert optimum(_contract({"scale_changes": "monthly"})) == pytest.approx(27250, abs=0.5)


def test_disruption_penalty_counts_participants_lost_by_reduction_and_closure():
    # As above with r no longer committed (committed_until dropped) and three months' notice of closure.
    # Best: r runs April-June 2021 at 1 (3,000, value 1,500) and closes from July (notice in April): 500
    # participants lost at scale 1 -> 1,000 penalty. q: 9,000 in 2021/22 (18,000), 12,000 in 2022/23 (24,000).
    # Optimum 1,500 + 18,000 + 24,000 - 1,000 = 42,500.
    # Without the penalty on participants lost: 43,500.
    r = service(1000, 500, scale={"min": 0.5, "max": 1.0}, notice_months=3, scale_at_start=1.0)
    q = service(1000, 2000, scale={"min": 0.0, "max": 2.0}, running_at_start=False)
    sc = scenario({"r": r, "q": q}, {"2021/22": 12000, "2022/23": 12000}, months=24,
                  policy={"scale_changes": "yearly", "disruption_penalty_per_participant": 2.0})
    assert_rule_matters(sc, 42500, 43500, ["participants_lost"])


def test_committed_contract_cannot_be_cut_below_its_committed_scale(tmp_path):
    # As the first contract test with r committed at scale 0.8 until March 2023: 2022/23 r at 0.8 (9,600,
    # value 4,800), q gets 2,400 (4,800); 100 participants lost -> 200. 6,000 + 4,800 + 4,800 - 200 = 15,400.
    # Without the committed scale (still running to March 2023, at 0.5 or more): 20,500, as above.
    sc = scenario(
        {"r": service(1000, 500, scale={"min": 0.5, "max": 1.0}, notice_months=3, scale_at_start=1.0,
                      committed_until="2023-03", committed_scale=0.8),
         "q": service(1000, 2000, scale={"min": 0.0, "max": 2.0}, running_at_start=False)},
        {"2021/22": 12000, "2022/23": 12000}, months=24,
        policy={"scale_changes": "yearly", "disruption_penalty_per_participant": 2.0},
    )
    solved(sc, 15400, tmp_path)

    def committed_scale_only(model: pyo.ConcreteModel) -> None:
        held = model.rule_bounds["committed_contracts"]
        held[:] = [(v, side, x) for v, side, x in held if not v.parent_component().name.startswith("scale")]
        apply_rule_bounds(model)

    assert_rule_matters(sc, 15400, 20500, [committed_scale_only])


def test_cost_to_keep_equals_the_protected_re_solve(tmp_path):
    # cost_to_keep of a closure is what a re-solve with the service protected loses, and the CLI's
    # --set interventions.<id>.protected=true gives exactly objective - cost_to_keep (within the gap).
    from click.testing import CliRunner

    from vru_model.apps.cli import main
    from vru_model.scenario.load import dump_yaml, scenario_to_dict

    r = service(1000, 500, scale={"min": 0.5, "max": 1.0}, notice_months=3, scale_at_start=1.0, exit_cost=100)
    q = service(1000, 2000, scale={"min": 0.0, "max": 2.0}, running_at_start=False)
    sc = scenario({"r": r, "q": q}, {"2021/22": 12000, "2022/23": 12000}, months=24,
                  policy={"disruption_penalty_per_participant": 2.0})
    path = tmp_path / "rule_test.yaml"
    path.write_text(dump_yaml(scenario_to_dict(sc)), encoding="utf-8")
    run = CliRunner().invoke(main, ["solve", str(path), "--out", str(tmp_path / "a")])
    assert run.exit_code == 0, run.output
    summary = json.loads((tmp_path / "a" / "rule_test" / "summary.json").read_text())
    [closure] = summary["closures"]
    assert closure["intervention"] == "r" and closure["reason"] and closure["cost_to_keep"] > 0
    # By hand (monthly scale): closed, r runs April-June 2021 (value 1,500) and closes from July (penalty
    # 500 participants x 2 = 1,000; exit cost 100, paid from the grant and counted as a loss); q gets
    # 12,000 - 3,000 - 100 = 8,900 in 2021/22 (17,800) and 12,000 in 2022/23 (24,000): 42,200.
    # Kept (protected: running at its scale, 1, to the end): r takes the whole grant: 12,000 of value.
    # Cost to keep: 30,200.
    assert closure["cost_to_keep"] == pytest.approx(30200, abs=5)
    run = CliRunner().invoke(main, ["solve", str(path), "--set", "interventions.r.protected=true",
                                    "--name", "rule_test", "--out", str(tmp_path / "b")])
    assert run.exit_code == 0, run.output
    kept = json.loads((tmp_path / "b" / "rule_test" / "summary.json").read_text())
    gap = 2 * sc.policy.mip_rel_gap * abs(summary["objective"]) + 1.0
    assert kept["objective"] == pytest.approx(summary["objective"] - closure["cost_to_keep"], abs=gap)
    assert check_folder(tmp_path / "b" / "rule_test") == []


def test_commissioning_basis_claimed(tmp_path):
    # Issue 15. c (commissioned): GBP 1,000/month, no value, scale 0-1. n (central): GBP 1,000/month, worth
    # 2,000, scale 0-0.5 (it can take at most 6,000 a year). Grant 60,000, minimum 25%.
    # Claimed basis (the default): commissioned spend >= 25% of the core grant claimed: n takes 6,000
    # (value 12,000) and c must take a third of that, 2,000 (c = 0.25 (c + 6,000)); 52,000 is not claimed.
    # Optimum 12,000. Without the rule c gets nothing: the same 12,000 of value (only the tie-break moves).
    # Awarded basis: c must take 25% of 60,000 = 15,000 but can take at most 12,000: no lawful plan;
    # with a grant of 24,000 c takes 6,000 (objective still 12,000).
    items = {
        "c": {**service(1000, 0, kind="commissioned"), "evidence": None},
        "n": service(1000, 2000, scale={"min": 0.0, "max": 0.5}),
    }
    sc = scenario(items, {"2021/22": 60000}, policy={"commissioning_min_share": 0.25})
    result = solved(sc, 12000, tmp_path)
    year = result.summary["fy"]["2021/22"]
    assert year["commissioning_basis"] == "claimed"
    assert year["commissioned_spend"] == pytest.approx(2000, abs=1)
    assert year["core_claimed"] == pytest.approx(8000, abs=1)
    assert year["commissioned_share"] == pytest.approx(0.25, abs=1e-3)
    ledger = next(c for c in result.summary["compliance"] if c["rule"] == "commissioning_minimum")
    assert ledger["basis"] == "claimed" and "£52k of the 2021/22 grant would not be claimed" in ledger["text"]
    awarded = scenario(items, {"2021/22": 60000}, policy={"commissioning_min_share": 0.25,
                                                         "commissioning_basis": "awarded"})
    assert solve(awarded).status == Status.INFEASIBLE
    enough = scenario(items, {"2021/22": 24000}, policy={"commissioning_min_share": 0.25,
                                                        "commissioning_basis": "awarded"})
    result = solved(enough, 12000, tmp_path / "awarded")
    assert result.summary["fy"]["2021/22"]["commissioned_spend"] == pytest.approx(6000, abs=1)


def test_exit_costs_do_not_count_as_commissioned_spend_unless_policy_says_so(tmp_path):
    # x (commissioned, no value): GBP 1,000/month, fixed scale 1, exit cost 3,000, no notice. n (central):
    # GBP 1,000/month, worth 2,000, scale 0-2. Grant 12,000, awarded basis, minimum 25% = 3,000.
    # Exit costs do not count (default): x must run three months (3,000 of running cost) and then close
    # (exit 3,000); n gets 6,000 (12,000); objective 12,000 - 3,000 exit = 9,000.
    # If the policy counts them, closing x at once meets the minimum with its 3,000 exit cost: n gets 9,000
    # (18,000); objective 18,000 - 3,000 = 15,000.
    items = {
        "x": {**service(1000, 0, kind="commissioned", exit_cost=3000, scale={"min": 1.0, "max": 1.0}),
              "evidence": None},
        "n": service(1000, 2000, scale={"min": 0.0, "max": 2.0}),
    }
    policy = {"commissioning_min_share": 0.25, "commissioning_basis": "awarded"}
    result = solved(scenario(items, {"2021/22": 12000}, policy=policy), 9000, tmp_path)
    assert result.summary["fy"]["2021/22"]["commissioned_spend"] == pytest.approx(3000, abs=1)
    counted = scenario(items, {"2021/22": 12000}, policy={**policy, "exit_costs_count_as_commissioned": True})
    solved(counted, 15000, tmp_path / "counted")
