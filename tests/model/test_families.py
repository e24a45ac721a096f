"""Each rule family builds and reads on its own, its words are the ones diagnostics and reports use, and
docs/rules.md is generated from them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyomo.environ as pyo
import pytest
from pyomo.repn import generate_standard_repn

from vru_model.model.build import FAMILIES, RULES, build_model, rules_markdown
from vru_model.model.cliff_edge import CLIFF_EDGE, add_cliff_edge
from vru_model.model.contracts import CONTRACTS, add_contracts_and_notice
from vru_model.model.data import prepare
from vru_model.model.decisions import Context, add_decisions
from vru_model.model.grant_conditions import GRANT_CONDITIONS, add_commissioning_minimum, add_services_kept_running
from vru_model.model.money import MONEY, add_money
from vru_model.model.objective import OBJECTIVE, add_objective
from vru_model.model.rules import Family, apply_rule_bounds
from vru_model.model.service_levels import SERVICE_LEVELS, add_service_levels
from vru_model.scenario.load import load_scenario, validate
from vru_model.scenario.schema import Scenario

ROOT = Path(__file__).resolve().parents[2]

# The names diagnostics, reports and what-ifs know the rules by.
RULE_NAMES = {
    "cost_split", "taper", "stream_budget", "underwriting_cap", "liability_cap", "commissioning_minimum",
    "commissioning_credit", "central_capability_floor", "protected_services", "viable_scale", "capacity",
    "yearly_scale", "yearly_scale_steady", "committed_contracts", "participants_lost", "reduction_notice", "notice",
    "closure_definition", "opening_definition", "no_reopening", "notice_before_horizon",
    "no_new_commitments_before_confirmation", "non_anticipativity", "value_target",
    "actual_spend", "notice_from_as_of", "variation_from_as_of",  # a re-plan's (tests/analysis/test_replan.py)
}

Adder = Callable[[pyo.ConcreteModel, Context], None]

ADDERS: dict[str, tuple[Family, list[Adder]]] = {
    "money": (MONEY, [add_money]),
    "grant_conditions": (GRANT_CONDITIONS, [add_commissioning_minimum, add_services_kept_running]),
    "service_levels": (SERVICE_LEVELS, [add_service_levels]),
    "contracts": (CONTRACTS, [add_contracts_and_notice]),
    "cliff_edge": (CLIFF_EDGE, [add_cliff_edge]),
    "objective": (OBJECTIVE, [add_objective]),
}


def test_docs_rules_md_is_generated_from_the_rules() -> None:
    expected = rules_markdown()
    assert (ROOT / "docs" / "rules.md").read_text(encoding="utf-8") == expected, (
        "docs/rules.md is out of date: regenerate it with the command at its top"
    )


def test_rules_are_read_from_the_families() -> None:
    assert set(RULES) == RULE_NAMES
    assert len(RULES) == sum(len(f.rules) for f in FAMILIES)  # no rule is named twice
    assert {r.name: r.text for f in FAMILIES for r in f.rules} == RULES
    assert [key for key, (family, _adders) in ADDERS.items() if family not in FAMILIES] == []


def _late_confirmation(**policy: Any) -> Scenario:
    """The shipped late-confirmation scenario, where every family has rules to state when planned two-stage,
    with a disruption penalty (participants_lost), a target value (value_target) and a protected service."""
    sc = load_scenario(ROOT / "scenarios" / "late_confirmation.yaml")
    policy = {"disruption_penalty_per_participant": 10.0, "objective": "min_grant", "target_value": 1e6, **policy}
    first = next(i for i, item in sc.interventions.items() if item.running_at_start and not item.mandatory)
    items = {**sc.interventions, first: sc.interventions[first].model_copy(update={"protected": True})}
    return sc.model_copy(update={"policy": sc.policy.model_copy(update=policy), "interventions": items})


# Monthly contracts let notice served before confirmation fix closures after it, which non-anticipativity ties.
POLICY = {"cliff_edge": {"scale_changes": "monthly"}}


@pytest.mark.parametrize("key", sorted(ADDERS))
def test_a_family_builds_on_its_own_and_states_each_of_its_rules(key: str) -> None:
    family, adders = ADDERS[key]
    m = pyo.ConcreteModel()
    c = add_decisions(m, prepare(_late_confirmation(**POLICY.get(key, {})), two_stage=True))
    before = {x.name for x in m.component_objects()}
    for add in adders:
        add(m, c)
    apply_rule_bounds(m)
    added = {x.name for x in m.component_objects()} - before
    for rule in family.rules:
        assert RULES[rule.name] == rule.text
        if "rows" in rule.stated:
            rows = getattr(m, rule.name)
            assert isinstance(rows, pyo.Constraint) and len(rows) > 0, rule.name
        if "bounds" in rule.stated:
            assert m.rule_bounds.get(rule.name), rule.name
        if rule.stated.startswith("expression"):
            assert rule.stated.split("`")[1] in added, rule.name
    others = {r.name for f in FAMILIES if f is not family for r in f.rules}
    assert not others & (added | set(m.rule_bounds)), "a family states only its own rules"


def _hand_model(**service: Any) -> pyo.ConcreteModel:
    """One commissioned service for three months: GBP 1,000 a month at scale 1, scale 0.5 to 1, two months'
    notice; core grant GBP 5,000; 20% of the grant awarded must be commissioned."""
    item = {
        "title": "hand", "kind": "commissioned", "system": "cross_cutting", "annual_cost": 12000.0,
        "scale": {"min": 0.5, "max": 1.0}, "participants_per_year": 10.0, "notice_months": 2, "exit_cost": 0.0,
        "evidence": {"effect": 1.0, "band": "high", "confidence": "high", "incidents_per_participant": 1.0,
                     "harm": "injury", "source": "illustrative"},
        **service,
    }
    sc = validate({
        "name": "hand", "title": "hand-worked rows", "horizon": {"start": "2021-04", "months": 3},
        "policy": {"commissioning_min_share": 0.2, "commissioning_basis": "awarded", "discount_rate_annual": 0.0},
        "funding": {"core": {"kind": "core_grant", "amounts": {"2021/22": 5000}}},
        "value": {"price_year": "2021/22",
                  "harm_costs": {"injury": {"gbp": 12.0, "price_year": "2021/22", "source": "illustrative"}}},
        "interventions": {"s": item},
    }, "hand")
    return build_model(sc)


def _row(con: Any) -> tuple[dict[str, float], float | None, float | None]:
    """A row as {variable: coefficient}, lower and upper, with any constant moved to the bounds."""
    repn = generate_standard_repn(con.body)
    terms = {v.name: coef for v, coef in zip(repn.linear_vars, repn.linear_coefs, strict=True)}
    shift = repn.constant or 0.0
    lower = None if con.lower is None else pyo.value(con.lower) - shift
    upper = None if con.upper is None else pyo.value(con.upper) - shift
    return terms, lower, upper


def test_hand_worked_rows() -> None:
    m = _hand_model()
    w, april = "known", "2021-04"
    # Money: the month's cost, GBP 1,000 x scale, is paid by the core grant and the partner.
    assert _row(m.cost_split[w, "s", april]) == (
        {f"spend[{w},core,s,{april}]": 1.0, f"partner[{w},s,{april}]": 1.0, f"scale[{w},s,{april}]": -1000.0}, 0, 0
    )
    # ... and the core grant spends at most its GBP 5,000 in the year.
    terms, lower, upper = _row(m.stream_budget[w, "core", "2021/22"])
    assert set(terms.values()) == {1.0} and len(terms) == 3 and lower is None and upper == 5000
    # Grant conditions: 20% of the GBP 5,000 awarded (GBP 1,000) goes to commissioned services.
    terms, lower, upper = _row(m.commissioning_minimum[w, "2021/22"])
    assert len(terms) == 3 and lower == pytest.approx(1000) and upper is None
    # Service levels: running means at least half scale.
    assert _row(m.viable_scale[w, "s", april]) == ({f"on[{w},s,{april}]": 0.5, f"scale[{w},s,{april}]": -1.0}, None, 0)
    # Contracts and notice: no notice was served before the plan, so the service runs its first two months.
    assert [m.on[w, "s", t].lb for t in m.T] == [1, 1, 0]
    assert m.rule_bounds["notice_before_horizon"] and "committed_contracts" not in m.rule_bounds
    # Cliff edge: a known grant has one outcome and nothing to tie.
    assert list(m.W) == [w] and len(m.non_anticipativity) == 0


def test_a_committed_contract_is_a_bound_a_what_if_can_lift() -> None:
    m = _hand_model(committed_until="2021-06", notice_months=0)
    assert [m.on["known", "s", t].lb for t in m.T] == [1, 1, 1]
    apply_rule_bounds(m, without=["committed_contracts"])
    assert [m.on["known", "s", t].lb for t in m.T] == [0, 0, 0]
