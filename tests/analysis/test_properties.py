"""Properties of the allocation model over generated small scenarios (hypothesis)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from strategies import scenarios

from vru_model.analysis.solve import solve
from vru_model.model.build import TIE_BREAK
from vru_model.model.data import prepare
from vru_model.scenario.load import load_scenario, validate
from vru_model.solving.status import Status

TINY = Path(__file__).resolve().parents[1] / "fixtures" / "tiny.yaml"

SETTINGS = settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)


def _objective_tolerance(*values: float) -> float:
    """HiGHS stops within the scenario's relative MIP gap (1e-4 by default) of each optimum."""
    return 1.0 + 3e-4 * max(abs(v) for v in values)


@SETTINGS
@given(sc=scenarios(), extra=st.sampled_from([0.1, 0.5, 1.0, 5.0, 20.0]))
def test_more_core_grant_never_lowers_the_optimum(sc, extra):
    # Under the default basis (the minimum is a share of the grant claimed) more grant only relaxes the
    # plan, at any level: the large multiples are levels that were infeasible under the `awarded` basis.
    assert sc.policy.commissioning_basis == "claimed"
    core = sc.funding[sc.core_stream].amounts
    bigger = {fy: core.get(fy, 0.0) * (1 + extra) for fy in sc.fys}
    small = solve(sc, shadow_prices=False)
    if small.status != Status.OPTIMAL:
        return
    large = solve(sc, shadow_prices=False, data=prepare(sc, core_amounts=bigger))
    assert large.status == Status.OPTIMAL, "more grant made a feasible scenario infeasible"
    # The objective's tie-break charges TIE_BREAK per pound of VRU spend, so allow for it and the MIP gap.
    tie_break = TIE_BREAK * sum(bigger.values()) - TIE_BREAK * sum(core.get(fy, 0.0) for fy in sc.fys)
    tolerance = _objective_tolerance(small.objective, large.objective) + tie_break
    assert large.objective >= small.objective - tolerance


def test_more_grant_than_the_minimum_lets_a_plan_claim_keeps_the_underwriting() -> None:
    """Found by the property above. Under the claimed basis, a commissioned service of at most £6,000 a year and
    a 20% minimum let a plan claim at most £30,000 of grant. A committed central contract (3 months at half of
    £174,000 a year, £21,750, plus its £2,500 exit) and the commissioned £6,000 cost £30,250: £250 more than the
    grant can pay, which the OPCC underwriting pays. A grant of £35,000 cannot be claimed any further, so the
    underwriting must still be allowed: the plan is the same as at £30,000, not infeasible."""
    evidence = {"effect": 0.05, "band": "moderate", "confidence": "very_low", "incidents_per_participant": 0.5,
                "harm": "injury", "source": "illustrative assumption: test"}
    data = {
        "name": "claimable", "title": "Claimable grant", "horizon": {"start": "2021-04", "months": 12},
        "policy": {"commissioning_min_share": 0.2, "discount_rate_annual": 0.0},
        "funding": {"core": {"kind": "core_grant", "amounts": {"2021/22": 30000}, "confirmed_month": "2021-06"},
                    "opcc": {"kind": "underwriting", "cap": 5000}},
        "value": {"price_year": "2021/22", "harm_costs": {"injury": {"gbp": 14050, "price_year": "2021/22",
                                                                     "source": "illustrative"}}},
        "interventions": {
            "commissioned": {"title": "Commissioned", "kind": "commissioned", "system": "cross_cutting",
                             "annual_cost": 6000, "notice_months": 0, "mandatory": True, "evidence": evidence},
            "central": {"title": "Central", "kind": "central", "system": "cross_cutting", "annual_cost": 174000,
                        "scale": {"min": 0.5, "max": 1.0}, "notice_months": 0, "exit_cost": 2500,
                        "committed_until": "2021-06", "evidence": evidence},
        },
    }
    sc = validate(data, "claimable")
    plans = [solve(sc, shadow_prices=False, data=prepare(sc, core_amounts={"2021/22": g})) for g in (30000, 35000)]
    assert [p.status for p in plans] == [Status.OPTIMAL, Status.OPTIMAL]
    assert plans[1].objective == pytest.approx(plans[0].objective, abs=1.0)
    assert plans[1].summary["fy"]["2021/22"]["spent_by_stream"]["opcc"] == pytest.approx(250.0, abs=1.0)


def test_awarded_basis_grant_larger_than_commissioned_capacity_is_infeasible_and_explained():
    # Under the `awarded` basis the minimum is a share of the whole grant awarded, so a grant larger than
    # commissioned services can absorb has no lawful plan. tiny.yaml: the only commissioned service costs
    # at most GBP 120,000 a year. A GBP 500,000 grant needs 20% = 100,000 commissioned: feasible.
    # GBP 700,000 needs 140,000: infeasible, and the explanation must say why in words.
    # Under the default `claimed` basis the same GBP 700,000 grant has a plan (the unused grant is unclaimed).
    awarded = ["policy.commissioning_basis=awarded"]
    sc = load_scenario(TINY, awarded)
    small = solve(sc, shadow_prices=False, data=prepare(sc, core_amounts={"2021/22": 500000, "2022/23": 500000}))
    levels = ["funding.core.amounts.2021/22=700000", "funding.core.amounts.2022/23=700000"]
    large = solve(load_scenario(TINY, [*levels, *awarded]), shadow_prices=False)
    assert small.optimal
    assert large.status.value == "infeasible"
    text = large.summary["explanation"]["text"]
    assert "commissioning minimum needs £140k" in text and "at most £125k" in text  # 120k running + 5k exit cost
    claimed = solve(load_scenario(TINY, levels), shadow_prices=False)
    assert claimed.optimal
    assert claimed.summary["fy"]["2021/22"]["core_unclaimed"] > 0


def _check_money(sc, result) -> None:
    funding = result.funding
    by = funding.groupby(["stream", "fy"])["amount"].sum()
    for (stream, fy), spent in by.items():
        spec = sc.funding[stream]
        if spec.kind == "underwriting":
            assert funding[funding["stream"] == stream]["amount"].sum() <= (spec.cap or 0.0) + 1.0
        else:
            assert spent <= spec.amounts.get(fy, 0.0) + 1.0, f"{stream} overspent in {fy}"
    kappa = sc.policy.commissioning_min_share
    commissioned = [i for i, item in sc.interventions.items() if item.is_commissioned]
    for fy in sc.fys:
        core = funding[(funding["stream"] == sc.core_stream) & (funding["fy"] == fy)]
        got = core[core["intervention"].isin(commissioned)]["amount"].sum()
        base = core["amount"].sum() if sc.policy.commissioning_basis == "claimed" else sc.core_grant(fy)
        assert got >= kappa * base - 1.0, f"commissioning minimum missed in {fy}"
        assert result.summary["fy"][fy]["commissioned_share"] is None or (
            result.summary["fy"][fy]["commissioned_share"] >= kappa - 1e-4
        )


def test_no_stream_overspent_and_commissioning_minimum_holds():
    checked = []

    @SETTINGS
    @given(sc=scenarios())
    def money(sc):
        result = solve(sc, shadow_prices=False)
        event(result.status.value)
        if result.status == Status.OPTIMAL:
            _check_money(sc, result)
            checked.append(sc)

    money()
    # an infeasible scenario has no money to check: most drawn scenarios must have a plan
    assert len(checked) >= SETTINGS.max_examples // 2, f"only {len(checked)} drawn scenarios had a plan to check"


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sc=scenarios())
def test_identical_inputs_give_identical_csvs(sc, tmp_path_factory):
    first = solve(sc).write(tmp_path_factory.mktemp("first"))
    second = solve(sc).write(tmp_path_factory.mktemp("second"))
    for name in ("allocation.csv", "funding.csv", "resolved.yaml"):
        assert (first / name).read_bytes() == (second / name).read_bytes(), name


def test_identical_csvs_across_processes(tmp_path):
    """Separate processes with different string-hash seeds (set and dict orders) give the same bytes."""
    scenario = Path(__file__).resolve().parents[2] / "scenarios" / "cut_50.yaml"
    folders = []
    for seed in ("1", "2"):
        out = tmp_path / seed
        env = {**os.environ, "PYTHONHASHSEED": seed}
        command = [sys.executable, "-c", "from vru_model.apps.cli import main; main()", "solve", str(scenario),
                   "--out", str(out)]
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
        assert done.returncode == 0, done.stderr
        folders.append(out / "cut_50")
    for name in ("allocation.csv", "funding.csv"):
        assert (folders[0] / name).read_bytes() == (folders[1] / name).read_bytes(), name
