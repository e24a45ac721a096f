"""Solving the shipped scenarios: the baseline keeps everything, the 50% cut closes services with
notice dates, and summary.json carries the keys of docs/contracts.md."""

from __future__ import annotations

import json
from html import escape
from pathlib import Path

import pandas as pd
import pyomo.environ as pyo
import pytest

from vru_model.analysis.objective import ObjectiveParts
from vru_model.analysis.solve import PRICED_RULES, protect, solve
from vru_model.core import periods
from vru_model.core.text import money
from vru_model.model.build import apply_rule_bounds, build_model
from vru_model.model.data import prepare
from vru_model.scenario.load import load_scenario
from vru_model.scenario.schema import Scenario
from vru_model.solving.solver import solve_model
from vru_model.solving.status import Status

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"


def _solved(name: str, out: Path) -> tuple[Scenario, dict, Path]:
    path = SCENARIOS / f"{name}.yaml"
    if not path.is_file():
        pytest.fail(f"scenarios/{name}.yaml is not shipped")
    sc = load_scenario(path)
    folder = solve(sc).write(out)
    return sc, json.loads((folder / "summary.json").read_text(encoding="utf-8")), folder


@pytest.fixture(scope="module")
def baseline(tmp_path_factory):
    return _solved("baseline", tmp_path_factory.mktemp("baseline"))


@pytest.fixture(scope="module")
def cut_50(tmp_path_factory):
    return _solved("cut_50", tmp_path_factory.mktemp("cut_50"))


@pytest.fixture(scope="module")
def infeasible(tmp_path_factory):
    return _solved("infeasible_example", tmp_path_factory.mktemp("infeasible"))


def test_baseline_keeps_every_running_service_but_two_pilots_in_development(baseline):
    # With a flat-cash full grant the plan keeps every established service all through. The two pilots
    # still "in development" (Sandwell, St James's) buy about GBP 0.22-0.27 of value per pound against
    # about GBP 1.2 at the margin, so the plan lets them go, each with its reason and its cost to keep.
    sc, summary, folder = baseline
    assert summary["status"] == "optimal"
    closed = {c["intervention"]: c for c in summary["closures"]}
    assert set(closed) <= {"place_sandwell", "place_st_james_dudley"}
    for c in closed.values():
        assert "a VRU pound here buys" in c["reason"] and (c["cost_to_keep"] or 0) >= 0
    running_at_start = [i for i, item in sc.interventions.items() if item.running_at_start and i not in closed]
    alloc = pd.read_csv(folder / "allocation.csv")
    for i in running_at_start:
        rows = alloc[alloc["intervention"] == i]
        assert len(rows) == sc.horizon.months
        assert (rows["running"] == 1).all(), f"{i} stops in the baseline"


def test_cut_50_closes_services_with_notice(cut_50):
    sc, summary, _ = cut_50
    assert summary["status"] == "optimal"
    closures = summary["closures"]
    assert closures, "a 50% cut should close some services"
    first, last = sc.months[0], sc.months[-1]
    for c in closures:
        item = sc.interventions[c["intervention"]]
        assert c["notice_by"] == periods.add_months(c["closes_from"], -item.notice_months)
        assert first <= c["notice_by"] <= last
        assert first <= c["closes_from"] <= last
    # mandatory and committed services are not among them
    closed = {c["intervention"] for c in closures}
    assert not any(sc.interventions[i].mandatory for i in closed)


def _assert_contract_keys(summary: dict) -> None:
    for key in ("scenario", "status", "objective", "solve_seconds", "fy", "closures", "shadow_prices",
                "compliance", "explanation", "provenance"):
        assert key in summary, key
    assert summary["status"] in {s.value for s in Status}
    for row in summary["fy"].values():
        for key in ("core_grant", "spent_by_stream", "unspent_by_stream", "commissioned_share"):
            assert key in row, key
    for c in summary["closures"]:
        assert {"intervention", "notice_by", "closes_from"} <= set(c)
    for entry in summary["compliance"]:
        assert {"rule", "passed", "headroom", "text"} <= set(entry)
        assert isinstance(entry["passed"], bool) and entry["text"]
    prov = summary["provenance"]
    assert len(prov["input_hash"]) == 64
    assert {"pyomo", "highspy"} <= set(prov["versions"])
    assert prov["time"].endswith("Z")


@pytest.mark.parametrize("which", ["baseline", "cut_50"])
def test_summary_contract_when_optimal(which, request):
    sc, summary, _ = request.getfixturevalue(which)
    _assert_contract_keys(summary)
    assert summary["scenario"] == sc.name
    assert isinstance(summary["objective"], float)
    assert set(summary["fy"]) == set(sc.fys)
    assert summary["compliance"], "an optimal plan has a compliance ledger"
    assert all(entry["passed"] for entry in summary["compliance"])
    assert summary["explanation"] is None
    prices = summary["shadow_prices"]
    assert prices["available"]
    assert any("core grant is worth" in text for text in prices["text"])
    assert any("commissioning rule" in text for text in prices["text"])


def test_summary_contract_when_infeasible(infeasible):
    _, summary, _ = infeasible
    _assert_contract_keys(summary)
    assert summary["status"] == "infeasible"
    assert summary["objective"] is None
    text = summary["explanation"]["text"]
    assert "core grant" in text and "£" in text
    extra = summary["explanation"]["extra_core_grant_needed"]
    assert extra and any(v > 0 for v in extra.values())


def test_rule_costs_by_what_if_resolve():
    # tiny.yaml by hand (no discounting): grant 120,000 a year; the central team costs 2,000 a month and
    # has no value; mentoring is worth 2 per pound up to 120,000 a year. With the central floor, mentoring
    # gets 96,000 a year: value 2 x 192,000 = 384,000. Without the floor the team closes from May 2021
    # (one month's notice, no exit cost), leaving mentoring 118,000 then 120,000: 2 x 238,000 = 476,000.
    # So the floor costs 92,000. The commissioning minimum (20% = 24,000) binds nowhere: it costs nothing.
    result = solve(load_scenario(SCENARIOS.parent / "tests" / "fixtures" / "tiny.yaml"), price_rules=True)
    costs = {c["rule"]: c["cost"] for c in result.summary["shadow_prices"]["rule_costs"]}
    assert costs["central_capability_floor"] == pytest.approx(92000, abs=50)
    assert costs["commissioning_minimum"] == 0
    assert any("central capability floor" in t and "£92k" in t for t in result.summary["shadow_prices"]["text"])


def _fresh_optimum(sc: Scenario, lifted: tuple[str, ...] = ()) -> float:
    """The optimum of a model built afresh with the rules `lifted` (their rows deactivated, their bounds off)."""
    model = build_model(sc, prepare(sc))
    for rule in lifted:
        rows = getattr(model, rule, None)
        if isinstance(rows, pyo.Constraint):
            rows.deactivate()
    apply_rule_bounds(model, lifted)
    status, _ = solve_model(sc, model)
    assert status == Status.OPTIMAL
    return float(pyo.value(model.objective))


def test_what_ifs_on_one_solver_equal_fresh_re_solves():
    # robust_hand closes two services and protects a third: each cost to keep must be what a fresh solve with
    # only that service protected loses (not with every closure kept at once), and each rule's optimum without
    # it what a fresh model without it gives, never less than the plan's own optimum (a lifted rule relaxes).
    sc = load_scenario(SCENARIOS.parent / "tests" / "fixtures" / "robust_hand.yaml")
    result = solve(sc, price_rules=True)
    closed = [c["intervention"] for c in result.summary["closures"]]
    assert len(closed) >= 2
    slack = 2 * sc.policy.mip_rel_gap * abs(result.objective) + 1.0
    for c in result.summary["closures"]:
        kept = _fresh_optimum(protect(sc, [c["intervention"]]))
        assert c["cost_to_keep"] == pytest.approx(max(0.0, result.objective - kept), abs=slack)
    for rule in result.summary["shadow_prices"]["rule_costs"]:
        pieces = PRICED_RULES[rule["rule"]]
        assert rule["optimum_without"] >= result.objective - slack
        assert rule["optimum_without"] == pytest.approx(_fresh_optimum(sc, pieces), abs=slack)


def _fresh_parts(sc: Scenario) -> ObjectiveParts:
    model = build_model(sc, prepare(sc))
    assert solve_model(sc, model)[0] == Status.OPTIMAL
    return ObjectiveParts.of(model)


def test_a_cost_to_keep_says_how_much_is_social_value_and_how_much_the_models_weights():
    """cut_50's "£196k of value" to keep resettlement was £21k of social value; the rest was the disruption
    weight (£500 a participant who loses support), which is not money. Each cost to keep is split into its parts,
    and they add up to it; the social value part is what a fresh solve that keeps the service gives up."""
    sc = load_scenario(SCENARIOS.parent / "tests" / "fixtures" / "robust_hand.yaml",
                       ["policy.disruption_penalty_per_participant=100"])
    result = solve(sc, price_rules=True)
    slack = 2 * sc.policy.mip_rel_gap * abs(result.objective) + 1.0
    assert result.summary["closures"]
    for c in result.summary["closures"]:
        parts = c["cost_to_keep_parts"]
        tie_break = 1e-3 * sum(result.allocation["vru_spend"])  # the objective's fraction of a penny a pound
        assert sum(parts.values()) == pytest.approx(c["cost_to_keep"], abs=slack + tie_break)
        plan, kept = (_fresh_parts(x) for x in (sc, protect(sc, [c["intervention"]])))
        assert parts["social_value"] == pytest.approx(plan.social_value - kept.social_value, abs=slack)
        # keeping it spares its own participants and may cut others': the weight moves either way, if at all
        assert (abs(parts["disruption"]) > 0.5) == ("disruption weight" in c["reason"] and "(a weight, not money)"
                                                    in c["reason"])
        assert "less social value" in c["reason"]
    assert any("disruption weight" in c["reason"] for c in result.summary["closures"])


def test_the_headline_objective_is_shown_with_its_parts():
    """"Value net of exit and disruption costs" was one figure, mostly the model's disruption weight in a deep cut;
    the summary now has the parts, they add up to the objective, and the headline cell names the weight."""
    from vru_model.present.reports import _objective_cell

    sc = load_scenario(SCENARIOS.parent / "tests" / "fixtures" / "robust_hand.yaml",
                       ["policy.disruption_penalty_per_participant=100"])
    result = solve(sc)
    t = result.summary["totals"]
    tie_break = 1e-4 * sum(result.allocation["vru_spend"]) + 0.05
    assert t["disruption_weight"] > 0
    assert t["value_discounted"] - t["exit_costs_discounted"] - t["disruption_weight"] - t["penalty_weights"] == \
        pytest.approx(result.objective, abs=tie_break)
    cell = _objective_cell(result.summary)
    assert cell.startswith(f"{money(result.objective)}: {money(t['value_discounted'])} of social value in today's "
                           "money less ")
    assert "of the disruption weight on participants who lose support (a weight, not money)" in cell
    from vru_model.present.reports import ScenarioReport

    headline = "".join(str(x) for x in ScenarioReport(result).headline_section())
    assert escape(cell) in headline  # the headline table shows it


def test_least_grant_mode_finds_the_money_for_a_target_value():
    # tiny.yaml by hand, no discounting: mentoring is worth 2 per pound (240,000 a year at 120,000), the
    # mandatory central team costs 24,000 a year and is worth nothing. A target of 400,000 of value needs
    # 200,000 on mentoring over the two years (running all 24 months, about 0.83 of full scale, above its
    # 0.5 minimum, so no closure and no exit cost), plus 48,000 for the central team: 248,000 in all.
    sc = load_scenario(
        SCENARIOS.parent / "tests" / "fixtures" / "tiny.yaml",
        ["policy.objective=min_grant", "policy.target_value=400000"],
    )
    result = solve(sc)
    assert result.status == Status.OPTIMAL
    assert result.objective == pytest.approx(248000, abs=5)
    assert sum(y["core_grant"] for y in result.summary["fy"].values()) == pytest.approx(248000, abs=5)
    assert result.allocation["value"].sum() == pytest.approx(400000, abs=50)


@pytest.mark.parametrize("budget", [0.0, None])
def test_the_what_ifs_keep_to_their_time_budget_and_say_what_they_left_out(budget: float | None):
    """The rule costs and costs to keep are one re-solve each: a scenario of hundreds of services would spend
    hours on them, so together they get policy.time_limit_seconds. With none left nothing is measured, and
    the report says what is missing; with the default budget the cut_50 scenario measures everything."""
    from vru_model.analysis.solve import WhatIfs, keepable, plan_changes

    sc = load_scenario(SCENARIOS / "cut_50.yaml")
    res = solve(sc)
    data = prepare(sc)
    moves = plan_changes(sc, res)
    names = keepable(sc, data, moves)
    assert names, "cut_50 closes services a core grant could keep"
    what_if = WhatIfs(sc, data, [i for i, _month in moves], budget=budget)
    rules = what_if.rule_costs(res.objective)
    keep = what_if.costs_to_keep(res.objective, names)
    if budget == 0.0:
        assert rules == [] and keep == dict.fromkeys(names)
        rules_left = [n for n in what_if.unmeasured if n in PRICED_RULES]
        assert rules_left and set(what_if.unmeasured) - set(rules_left) == set(names)
        assert what_if.budget_text().startswith(f"Not measured for lack of time: the cost of {len(rules_left)} grant")
        assert f"keeping {len(names)} services" in what_if.budget_text()
        assert "policy.time_limit_seconds (0 s)" in what_if.budget_text()
    else:
        assert what_if.unmeasured == [] and what_if.budget_text() == ""
        assert rules and all(v is not None for v in keep.values())


def test_a_what_if_cut_short_by_the_budget_is_not_measured_rather_than_wrong():
    """A re-solve that stops at the sliver of budget left holds a poor plan: cut_50's cost to keep place_sandwell
    came out at £6.94m (it is £26k) when each re-solve had 0.3 s. Every cost is now either the true one (within
    the gap) or not measured, and listed so. (Here 0.3 s cuts most of them short; on a machine that finishes
    them all in time the test holds trivially: no timed assertion.)"""
    from vru_model.analysis.solve import WhatIfs, keepable, plan_changes

    sc = load_scenario(SCENARIOS / "cut_50.yaml")
    res = solve(sc)
    data = prepare(sc)
    moves = plan_changes(sc, res)
    names = keepable(sc, data, moves)
    full = WhatIfs(sc, data, [i for i, _month in moves]).costs_to_keep(res.objective, names)
    # each re-solve stopped at 0.3 s (a full one takes about 0.6 s here), as the last of a spent budget is
    hurried = sc.model_copy(update={"policy": sc.policy.model_copy(update={"time_limit_seconds": 0.3})})
    short = WhatIfs(hurried, data, [i for i, _month in moves], budget=60.0)
    cut = short.costs_to_keep(res.objective, names)
    slack = 2 * sc.policy.mip_rel_gap * abs(res.objective) + 1.0
    for i in names:
        if cut[i] is None:
            assert i in short.unmeasured or full[i] is None
        else:
            assert cut[i] == pytest.approx(full[i], abs=slack), i
