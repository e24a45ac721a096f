"""The scenario schema: every field checked, unknown keys refused, cross-references checked."""

from __future__ import annotations

import copy
import math

import pytest
from pydantic import ValidationError

from vru_model.scenario.schema import Intervention, Scale, Scenario, Stream, Uncertainty, cross_check


def _errors(data: dict) -> list[tuple[str, str]]:
    with pytest.raises(ValidationError) as info:
        Scenario.model_validate(data)
    return [(".".join(str(p) for p in e["loc"]), e["msg"]) for e in info.value.errors()]


def test_small_fixture_is_valid(small):
    scenario = Scenario.model_validate(small)
    assert cross_check(scenario) == []
    assert scenario.core_stream == "core"
    assert scenario.core_grant("2021/22") == 500000
    assert scenario.core_grant("2030/31") == 0
    assert scenario.fys == ["2021/22", "2022/23"]
    assert scenario.months[0] == "2021-04" and scenario.months[-1] == "2023-03"


def test_scenario_is_frozen(small):
    scenario = Scenario.model_validate(small)
    with pytest.raises(ValidationError):
        scenario.name = "other"  # type: ignore[misc]


@pytest.mark.parametrize("bad", [-1, "100", "3,307,000", True, math.nan, math.inf, None])
def test_money_must_be_a_finite_non_negative_number(small, bad):
    small["interventions"]["mentoring"]["annual_cost"] = bad
    assert any(loc == "interventions.mentoring.annual_cost" for loc, _ in _errors(small))


@pytest.mark.parametrize("bad", [-0.01, 1.01, math.nan])
def test_taper_shares_lie_in_0_1(small, bad):
    small["interventions"]["mentoring"]["taper"]["2021/22"] = bad
    assert any(loc.startswith("interventions.mentoring.taper.2021/22") for loc, _ in _errors(small))


@pytest.mark.parametrize("field", ["commissioning_min_share", "partner_pickup", "discount_rate_annual"])
def test_policy_shares_lie_in_0_1(small, field):
    small["policy"][field] = 1.5
    assert any(loc == f"policy.{field}" for loc, _ in _errors(small))


@pytest.mark.parametrize("key", ["2021/23", "2021-22", "21/22", "2021/2022", ""])
def test_financial_year_keys_are_checked(small, key):
    small["funding"]["core"]["amounts"][key] = 1000
    errors = _errors(small)
    assert any(loc.startswith(f"funding.core.amounts.{key}") for loc, _ in errors), errors


@pytest.mark.parametrize("month", ["2021-13", "2021-4", "2021/04", "April 2021"])
def test_months_are_checked(small, month):
    small["funding"]["core"]["confirmed_month"] = month
    assert any(loc.startswith("funding.core.confirmed_month") for loc, _ in _errors(small))


def test_scale_min_above_max():
    with pytest.raises(ValidationError, match=r"scale min 2\.0 is above max 1\.0"):
        Scale(min=2.0, max=1.0)


def test_unknown_keys_are_refused_everywhere(small):
    small["titel"] = "typo"
    small["policy"]["comissioning_min_share"] = 0.3
    small["interventions"]["mentoring"]["anual_cost"] = 1
    small["interventions"]["mentoring"]["evidence"]["efect"] = 0.1
    locs = {loc for loc, _ in _errors(small)}
    assert {
        "titel",
        "policy.comissioning_min_share",
        "interventions.mentoring.anual_cost",
        "interventions.mentoring.evidence.efect",
    } <= locs


def test_names_must_be_identifiers(small):
    bad_name = copy.deepcopy(small)
    bad_name["name"] = "../../etc"
    assert any(loc == "name" for loc, _ in _errors(bad_name))
    small["interventions"]["Bad Name"] = small["interventions"].pop("parenting")
    assert _errors(small)


def test_stream_kind_rules():
    with pytest.raises(ValidationError, match="needs a cap"):
        Stream(kind="underwriting")
    with pytest.raises(ValidationError, match="non-empty eligible"):
        Stream(kind="ring_fenced", amounts={"2021/22": 1.0})
    assert Stream(kind="underwriting", cap=0).cap == 0


def test_uncertainty_rules():
    good = {"fy": "2022/23", "confirmed_month": "2022-06", "outcomes": [{"name": "a", "probability": 1, "amount": 1}]}
    assert Uncertainty.model_validate(good).stream == "home_office_grant"
    with pytest.raises(ValidationError, match=r"sum to 0\.9"):
        Uncertainty.model_validate({**good, "outcomes": [{"name": "a", "probability": 0.9, "amount": 1}]})
    with pytest.raises(ValidationError, match="not inside 2022/23"):
        Uncertainty.model_validate({**good, "confirmed_month": "2023-06"})
    two = [{"name": "a", "probability": 0.5, "amount": 1}, {"name": "a", "probability": 0.5, "amount": 2}]
    with pytest.raises(ValidationError, match="unique"):
        Uncertainty.model_validate({**good, "outcomes": two})


def test_vru_share_uses_the_latest_taper_entry():
    item = Intervention(
        title="x", kind="commissioned", system="health", annual_cost=1, taper={"2020/21": 0.75, "2022/23": 0.0}
    )
    assert item.vru_share("2019/20") == 1.0
    assert item.vru_share("2020/21") == 0.75
    assert item.vru_share("2021/22") == 0.75
    assert item.vru_share("2023/24") == 0.0


@pytest.mark.parametrize(
    ("kind", "commissioned", "expected"),
    [("commissioned", None, True), ("central", None, False), ("place_based", True, True), ("place_based", None, False)],
)
def test_what_counts_as_commissioned(kind, commissioned, expected):
    item = Intervention(title="x", kind=kind, commissioned=commissioned, system="education", annual_cost=1)
    assert item.is_commissioned is expected


def test_cross_check_lists_every_problem(small):
    small["funding"]["yjb"]["eligible"] = ["parenting", "nope"]
    small["funding"]["core"]["confirmed_month"] = "2019-06"
    small["interventions"]["mentoring"]["committed_until"] = "2030-01"
    small["interventions"]["mentoring"]["evidence"]["harm"] = "unknown_harm"
    small["funding"]["second_core"] = {"kind": "core_grant", "amounts": {}}
    keys = sorted(key for key, _ in cross_check(Scenario.model_validate(small)))
    assert keys == [
        "funding",
        "funding.core.confirmed_month",
        "funding.yjb.eligible",
        "interventions.mentoring.committed_until",
        "interventions.mentoring.evidence.harm",
    ]


def test_cross_check_uncertainty_and_objective(small):
    small["uncertainty"] = {
        "stream": "yjb",
        "fy": "2022/23",
        "confirmed_month": "2022-06",
        "outcomes": [{"name": "a", "probability": 1, "amount": 1}],
        "sources": {"outcomes": "illustrative assumption: test"},
    }
    small["policy"]["objective"] = "min_grant"
    keys = {key for key, _ in cross_check(Scenario.model_validate(small))}
    assert {"uncertainty.stream", "policy.target_value"} <= keys


def test_a_service_not_running_cannot_be_committed(small):
    small["interventions"]["mentoring"]["running_at_start"] = False
    problems = cross_check(Scenario.model_validate(small))
    assert (
        "interventions.mentoring.committed_until",
        "a service not running at the start cannot be committed",
    ) in problems
