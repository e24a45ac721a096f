"""Cliff-edge planning: a two-stage answer checked by hand, non-anticipativity read back from plan.csv,
VSS/EVPI signs, the CLI's exit codes, and actionable plans for the shipped scenarios."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

from vru_model import load_scenario
from vru_model.analysis.cliff_edge import solve_cliff_edge, two_stage_gap
from vru_model.analysis.results import ALLOCATION_COLUMNS
from vru_model.analysis.solve import protect
from vru_model.apps.cli import main
from vru_model.core import periods
from vru_model.scenario.load import dump_yaml, scenario_to_dict
from vru_model.scenario.schema import Scenario

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"
HAND = FIXTURES / "cliff_edge_hand.yaml"
TWO_YEAR = FIXTURES / "cliff_edge_two_year.yaml"
TIE = 5.0  # the model's tie-break (1e-4 per pound of spend) moves objectives by well under a pound here


def _before(plan: pd.DataFrame, month: str, outcome: str) -> pd.DataFrame:
    """One outcome's plan.csv rows before `month`, without the outcome columns."""
    rows = plan[(plan["period"] < month) & (plan["outcome"] == outcome)]
    return rows.drop(columns=["outcome", "probability"]).reset_index(drop=True)


def test_hand_worked_two_stage_answer():
    # One service (youth work): GBP 1,000 a month, value GBP 2,000 a month (120 participants x 0.2 effect x
    # 1 incident x GBP 1,000 / 12), fixed scale, notice 1 month (so it can close from May at the earliest),
    # six months April-September 2022, no discounting. The grant (confirmed in June) is GBP 6,000 (p 0.5) or
    # nothing (p 0.5). April and May are decided before confirmation. Unfunded spend costs 10 per pound;
    # OPCC underwriting covers up to GBP 1,000 of pre-confirmation spend at 1 per pound.
    # Here-and-now options (notice in April -> closes May; in May -> closes June; none -> the "none" outcome
    # serves notice in June and closes in July):
    #   A notice April:  full  2,000            none  2,000 - 1,000 (underwriting)                   = 1,000
    #                    expected 0.5 x 2,000 + 0.5 x 1,000                                          = 1,500
    #   B notice May:    full  4,000            none  4,000 - 1,000 - 10 x 1,000                     = -7,000
    #                    expected                                                                    = -1,500
    #   C no notice:     full 12,000 (6 months) none  6,000 - 1,000 - 10 x 2,000                     = -15,000
    #                    expected                                                                    = -1,500
    #   so RP = 1,500 (serve notice in April whatever happens).
    # Expected grant GBP 3,000 covers three months: the deterministic plan runs April-June (value 6,000; a
    # fourth month would cost 10 x 1,000 for 2,000 of value), serving no notice before June, i.e. option C:
    #   EEV = -1,500, VSS = RP - EEV = 3,000.
    # Wait and see: full 12,000; none best is A = 1,000; 0.5 x 12,000 + 0.5 x 1,000 = 6,500, EVPI = 5,000.
    result = solve_cliff_edge(load_scenario(HAND))
    assert result.optimal
    assert result.expected_value == pytest.approx(1500, abs=TIE)
    assert result.summary["eev"] == pytest.approx(-1500, abs=TIE)
    assert result.vss == pytest.approx(3000, abs=TIE)
    assert result.vss > 0
    assert result.summary["wait_and_see"] == pytest.approx(6500, abs=TIE)
    assert result.evpi == pytest.approx(5000, abs=TIE)
    assert result.here_and_now["notices"] == [
        {"intervention": "youth_work", "title": "Detached youth work", "notice_by": "2022-04", "closes_from": "2022-05"}
    ]
    assert result.underwriting_drawn == {"full": 0.0, "none": 1000.0}
    assert result.unfunded_liability == {"full": 0.0, "none": 0.0}
    assert result.no_regret_core == []
    assert any("Serve notice on Detached youth work by April 2022 whatever happens" in s for s in result.sentences)


def test_plan_csv_non_anticipativity_and_shape(tmp_path: Path):
    scenario = load_scenario(TWO_YEAR)
    result = solve_cliff_edge(scenario, value_of_information=False)
    assert result.optimal
    out = result.write(tmp_path)
    plan = pd.read_csv(out / "plan.csv", dtype={"period": str})
    assert list(plan.columns) == [*ALLOCATION_COLUMNS, "outcome", "probability"]
    assert len(plan) == 2 * len(scenario.interventions) * scenario.horizon.months
    assert dict(zip(plan["outcome"], plan["probability"], strict=True)) == {"full": 0.5, "none": 0.5}
    conf = scenario.uncertainty.confirmed_month
    full, none = (_before(plan, conf, name) for name in ("full", "none"))
    assert len(full) == len(scenario.interventions) * 14
    pd.testing.assert_frame_equal(full, none)
    # the hedge is visible: with no grant, the OPCC underwriting (GBP 20,000) pays for April 2022 onwards
    # (before confirmation, and the notice periods of services stopped at confirmation) up to its cap
    assert result.underwriting_drawn["none"] == pytest.approx(20000, abs=1)
    assert result.underwriting_drawn["full"] == 0
    after = plan[plan["period"] >= conf]
    assert not after[after["outcome"] == "full"]["running"].equals(after[after["outcome"] == "none"]["running"])


@pytest.mark.parametrize("p_full", [0.2, 0.5, 0.9])
def test_vss_and_evpi_are_not_negative(p_full: float):
    outcomes = [
        {"name": "full", "probability": p_full, "amount": 144000},
        {"name": "none", "probability": round(1 - p_full, 10), "amount": 0},
    ]
    result = solve_cliff_edge(load_scenario(TWO_YEAR, {"uncertainty.outcomes": outcomes}))
    assert result.optimal
    if result.vss is None:  # the expected-grant plan's commitments leave some outcome with no lawful plan
        assert result.summary["vss_unbounded"] and "infeasible" in result.summary["eev_status"]
    else:
        assert result.vss >= 0
    assert result.evpi is not None and result.evpi >= 0
    assert result.summary["wait_and_see"] >= result.expected_value - 1e-6


def test_outputs_are_byte_identical(tmp_path: Path):
    scenario = load_scenario(TWO_YEAR)
    first = solve_cliff_edge(scenario, value_of_information=False).write(tmp_path / "a")
    second = solve_cliff_edge(scenario, value_of_information=False).write(tmp_path / "b")
    for name in ("plan.csv", "plan_funding.csv", "resolved.yaml"):
        assert (first / name).read_bytes() == (second / name).read_bytes()


def test_cli_writes_outputs_and_exits_0(tmp_path: Path):
    run = CliRunner().invoke(main, ["cliff-edge", str(HAND), "--out", str(tmp_path)])
    assert run.exit_code == 0, run.output
    out = tmp_path / "cliff_edge_hand"
    assert {p.name for p in out.iterdir()} >= {"cliff_edge.json", "plan.csv", "resolved.yaml"}
    assert "whatever happens" in run.output


def test_cli_without_uncertainty_is_bad_input(tmp_path: Path):
    run = CliRunner().invoke(main, ["cliff-edge", str(FIXTURES / "tiny.yaml"), "--out", str(tmp_path)])
    assert run.exit_code == 2
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and "tiny.yaml" in lines[0] and "uncertainty" in lines[0]
    assert not any(tmp_path.iterdir())


def test_cli_infeasible_exits_1(tmp_path: Path):
    # a contract committed into 2023/24, a year with no grant and no liability stream: no lawful plan
    args = ["--set", "horizon.months=13", "--set", "interventions.youth_work.committed_until=2023-04"]
    run = CliRunner().invoke(main, ["cliff-edge", str(HAND), *args, "--out", str(tmp_path)])
    assert run.exit_code == 1, run.output
    assert (tmp_path / "cliff_edge_hand" / "cliff_edge.json").is_file()


@pytest.fixture(scope="module")
def late_confirmation():
    path = SCENARIOS / "late_confirmation.yaml"
    if not path.is_file():
        pytest.skip("scenarios/late_confirmation.yaml not written yet")
    # "Full underwriting": the OPCC covers whatever the grant cannot until services can be stopped.
    scenario = load_scenario(path, ["funding.opcc_underwriting.cap=5000000"])
    return scenario, solve_cliff_edge(scenario, value_of_information=False)


def _assert_actionable(scenario, result, tmp_path: Path) -> None:
    """What any cliff-edge plan must be to act on: notices inside the plan and on the right side of
    confirmation, every unfunded liability said in words, readable sentences, one plan before confirmation."""
    unc = scenario.uncertainty
    assert result.optimal
    months = set(scenario.months)
    for notice in result.here_and_now["notices"]:  # served before confirmation, inside the plan
        assert notice["notice_by"] in months and notice["notice_by"] < unc.confirmed_month
        assert any(s.startswith(f"Serve notice on {notice['title']} by {periods.month_name(notice['notice_by'])} "
                                "whatever happens") for s in result.sentences)
    for outcome in result.outcomes:  # decided at confirmation: inside the uncertain year
        for c in outcome["notices_after_confirmation"]:
            assert periods.fy_of(c["notice_by"]) == unc.fy and c["notice_by"] >= unc.confirmed_month
    labels = {o["name"]: o["label"] for o in result.outcomes}
    for name, owed in result.unfunded_liability.items():  # never silent
        assert owed == 0 or any(s.startswith(f"If the grant {labels[name]} (") and "no funding" in s
                                for s in result.sentences)
    assert not any("-0" in s or "is ends" in s for s in result.sentences)  # month names, readable outcomes
    for outcome in result.outcomes:  # every closure and reduction says why, and what keeping it would cost
        for x in [*outcome["closures"], *outcome["reductions"]]:
            assert x["reason"].startswith("Decided ") and len(x["reason"]) > 80
            assert x["cost_to_keep"] is not None or x["cost_to_keep_note"]
    plan = pd.read_csv(result.write(tmp_path) / "plan.csv", dtype={"period": str})
    names = [o.name for o in unc.outcomes]
    for name in names[1:]:
        pd.testing.assert_frame_equal(
            _before(plan, unc.confirmed_month, names[0]), _before(plan, unc.confirmed_month, name)
        )


def test_late_confirmation_plan_is_actionable(late_confirmation, tmp_path: Path):
    scenario, result = late_confirmation
    _assert_actionable(scenario, result, tmp_path)
    for outcome in result.outcomes:  # at full underwriting nothing is left unfunded, before or after confirmation
        assert outcome["unfunded_liability_before_confirmation"] == 0
        assert outcome["unfunded_liability"] == 0
    full = next(o for o in result.outcomes if o["name"] == "full")
    assert full["unfunded_liability"] == 0 and full["underwriting_drawn"] == 0
    labels = {o["name"]: o["label"] for o in result.outcomes}
    assert labels == {"full": "continues in full", "cut_25": "is cut by 25%", "ends": "ends"}


def _probably_ends(cap: float):
    outcomes = [{"name": "full", "probability": 0.1, "amount": 144000},
                {"name": "none", "probability": 0.9, "amount": 0}]
    return load_scenario(TWO_YEAR, {"uncertainty.outcomes": outcomes, "funding.opcc.cap": cap})


def test_plan_that_serves_notice_before_confirmation_is_actionable(tmp_path: Path):
    # The two-year fixture when the grant probably ends (p 0.9) and the OPCC does not underwrite: the hedge
    # is to serve Mentoring's three months' notice before the June 2022 confirmation, and if the grant does
    # end that outcome still owes an unfunded liability that the plan must say in words.
    scenario = _probably_ends(0)
    result = solve_cliff_edge(scenario, value_of_information=False)
    (notice,) = result.here_and_now["notices"]
    assert notice["intervention"] == "mentoring" and notice["notice_by"] < "2022-06"
    assert notice["closes_from"] == periods.add_months(notice["notice_by"], 3)
    assert result.unfunded_liability["none"] > 0
    _assert_actionable(scenario, result, tmp_path)


def test_evpi_says_how_much_of_it_is_penalty_weights_not_money():
    """The expected value counts unfunded liability at its penalty weight (10 per pound by default): when the
    grant probably ends and nothing underwrites, nearly all of EVPI is that weight, and the sentence must not
    let it read as money."""
    from vru_model.core.text import money

    result = solve_cliff_edge(_probably_ends(0.0), costs_to_keep=False)
    parts = result.summary["evpi_breakdown"]
    weights = parts["underwriting_penalty"] + parts["unfunded_liability_penalty"]
    assert weights > 0.9 * result.summary["evpi"]
    sentence = next(s for s in result.sentences if "(EVPI, discounted)" in s)
    assert f"{money(parts['social_value'] + parts['exit_and_disruption'])} in social value, exit costs" in sentence
    assert f"and {money(weights)} less of the model's penalty weights" in sentence
    assert sentence.endswith("(weights, not money).")


def test_cost_to_keep_a_closure_decided_before_confirmation_is_a_re_solve_that_keeps_it():
    # Mentoring's notice is served before the grant is known, so its closure is one decision for every
    # outcome: its cost to keep is the expected value lost when it is kept wherever there is a grant, which is
    # the two-stage optimum of the same scenario with mentoring protected.
    scenario = _probably_ends(0)
    result = solve_cliff_edge(scenario, value_of_information=False)
    kept = solve_cliff_edge(protect(scenario, ["mentoring"]), value_of_information=False, costs_to_keep=False)
    from vru_model.core.text import money

    expected = result.expected_value - kept.expected_value
    # its reason is the hedge, outcome by outcome, read from the same independent solve: keeping it gains
    # where the grant grows and loses where it ends
    planned = {o["name"]: o["objective"] for o in result.outcomes}
    gains = {o["name"]: o["objective"] - planned[o["name"]] for o in kept.outcomes}
    assert gains["full"] > 0 > gains["none"]
    for outcome in result.outcomes:
        (closure,) = [c for c in outcome["closures"] if c["intervention"] == "mentoring"]
        assert closure["cost_to_keep"] == pytest.approx(expected, abs=2e-3 * abs(result.expected_value) + 1)
        assert closure["reason"].startswith("Decided before the grant is known")
        assert (f"A hedge: keeping it running in every outcome with a grant would do better by "
                f"{money(gains['full'])} if the grant grows by 20% (10% chance), but worse by "
                f"{money(-gains['none'])} if the grant ends (90% chance)") in closure["reason"]
        assert f"{money(closure['cost_to_keep'])} less in expectation. Of that: " in closure["reason"]
        assert sum(closure["cost_to_keep_parts"].values()) == pytest.approx(closure["cost_to_keep"], abs=100)


def test_a_closure_no_grant_pays_for_has_no_cost_to_keep_and_says_why():
    # In the outcome where the grant ends, a service closed after confirmation has nothing to pay for it: its
    # cost to keep is not a figure but a sentence, and its reason names the grant ending.
    scenario = _probably_ends(5_000_000)
    result = solve_cliff_edge(scenario, value_of_information=False)
    none = next(o for o in result.outcomes if o["name"] == "none")
    later = [c for c in none["closures"] if c["notice_by"] >= scenario.uncertainty.confirmed_month]
    assert later
    for c in later:
        assert c["cost_to_keep"] is None and "unfunded liability" in c["cost_to_keep_note"]
        assert c["reason"].startswith("Decided once the grant is known: it ends.") and "the grant ends" in c["reason"]


@pytest.mark.parametrize("none_first", [False, True])
def test_a_protected_service_keeps_its_scale_whichever_outcome_is_listed_first(none_first: bool):
    # Mentoring protected, the grant probably ends and nothing underwrites it: the tempting hedge is to let
    # the 2022/23 contract at half scale in April, before the grant is known. Protection forbids that while
    # there is a grant (in the full outcome), and April is one decision for both outcomes, so it holds in
    # both, even when the outcome without a grant is listed first (its rows once went missing then).
    outcomes = [{"name": "full", "probability": 0.1, "amount": 144000},
                {"name": "none", "probability": 0.9, "amount": 0}]
    if none_first:
        outcomes.reverse()
    scenario = load_scenario(TWO_YEAR, {"uncertainty.outcomes": outcomes, "funding.opcc.cap": 0,
                                        "interventions.mentoring.protected": True})
    result = solve_cliff_edge(scenario, value_of_information=False, costs_to_keep=False)
    assert result.optimal
    mentoring = result.plans[(result.plans["intervention"] == "mentoring") & (result.plans["outcome"] == "full")]
    scale = dict(zip(mentoring["period"], mentoring["scale"], strict=True))
    assert scale["2022-04"] >= scale["2022-03"] - 1e-6 and scale["2022-05"] >= scale["2022-03"] - 1e-6


def test_months_that_notice_before_confirmation_fixes_are_one_plan(late_confirmation):
    # Notice served by May closes a service by August at the latest, whatever the grant: June to August of
    # a service running at the start (three months' notice) is the same in every outcome, running and scale.
    scenario, result = late_confirmation
    plan = result.plans
    names = [o.name for o in scenario.uncertainty.outcomes]
    fixed = plan[plan["period"].isin(["2022-06", "2022-07", "2022-08"])]
    started = [i for i, item in scenario.interventions.items() if item.running_at_start and item.notice_months == 3]
    fixed = fixed[fixed["intervention"].isin(started)]
    columns = ["intervention", "period", "running", "scale"]
    first = fixed[fixed["outcome"] == names[0]][columns].reset_index(drop=True)
    for name in names[1:]:
        pd.testing.assert_frame_equal(first, fixed[fixed["outcome"] == name][columns].reset_index(drop=True))


def test_the_batch_and_the_cli_solve_the_cliff_edge_at_the_same_gap():
    # The batch hands each report the resolved scenario with every key written out; the two-stage gap must
    # not depend on whether `mip_rel_gap` was written (it did: the reports solved at 1e-4, the CLI at 1e-3).
    scenario = load_scenario(TWO_YEAR)
    resolved = Scenario.model_validate(yaml.safe_load(dump_yaml(scenario_to_dict(scenario))))
    assert two_stage_gap(resolved) == two_stage_gap(scenario) == scenario.policy.two_stage_rel_gap == 1e-3


def test_a_full_grant_outcome_owes_nothing():
    # The liability is only what an outcome's grant cannot cover of the costs committed before confirmation:
    # with the full grant that is nothing, however unlikely the outcome (p 0.1) and however tempting the value.
    result = solve_cliff_edge(_probably_ends(0), value_of_information=False)
    assert result.unfunded_liability["full"] == 0


def test_grant_ends_plan_closes_in_time(tmp_path: Path):
    path = SCENARIOS / "grant_ends.yaml"
    if not path.is_file():
        pytest.skip("scenarios/grant_ends.yaml not written yet")
    run = CliRunner().invoke(main, ["cliff-edge", str(path), "--out", str(tmp_path)])
    assert run.exit_code == 2  # no uncertainty block: the grant's end is known
    # Known from April 2022 that there is no grant: every notice falls inside 2021/22 and nothing is unfunded.
    known = {"uncertainty": {"fy": "2022/23", "confirmed_month": "2022-04",
                             "outcomes": [{"name": "ends", "probability": 1.0, "amount": 0}]}}
    result = solve_cliff_edge(load_scenario(path, known), value_of_information=False)
    assert result.optimal
    (ends,) = result.outcomes
    assert ends["unfunded_liability"] == 0
    assert ends["closures"]
    for c in ends["closures"]:
        assert periods.fy_of(c["notice_by"]) == "2021/22"
    assert {n["intervention"] for n in result.here_and_now["notices"]} == {c["intervention"] for c in ends["closures"]}


PERSISTS = FIXTURES / "cliff_edge_persists.yaml"


def test_two_year_persisting_outcome_hand_worked():
    """Two years (2022/23 uncertain until June 2022, the outcome persisting into 2023/24), no discounting,
    no penalties in play, so every figure is social value.

    Outreach: GBP 1,000 a month, worth GBP 1,000 a month (GBP 1 per pound), fixed scale, running, notice
    12 months: it cannot close before April 2023, and closing it from April 2023 needs notice in April 2022,
    before the grant is known (a here-and-now decision). Mentoring: new, GBP 1,000 a month per unit of
    scale, worth GBP 3 per pound, scale 0-2 (at most GBP 24,000 a year), cannot start before confirmation
    (June 2022). Grant per year: full 36,000 or low 12,000, each with probability 0.5, in both years.

    2022/23 (outreach must run all year, 12,000): full: mentoring at 2 for June-March, 20,000 -> 60,000;
    with outreach 12,000: 72,000. Low: outreach takes the whole 12,000: 12,000.
    2023/24, W (wait: no notice before June 2022): full keeps both, 12,000 + 72,000 = 84,000; low serves
    notice in June 2022, so outreach runs April-May 2023 (2,000 of value) and mentoring gets 10,000 (30,000):
    32,000. N (notice in April 2022, closes April 2023 in every outcome): full 72,000; low 36,000.
    RP = max(W: 0.5 x (72,000 + 84,000) + 0.5 x (12,000 + 32,000) = 100,000;
             N: 0.5 x (72,000 + 72,000) + 0.5 x (12,000 + 36,000) = 96,000) = 100,000 (W).
    Expected-value problem: the weighted grant, 24,000, in BOTH years. In 2023/24 outreach (GBP 1 per pound)
    would take money from mentoring (GBP 3 per pound, which can use all 24,000), so the plan closes it from
    April 2023: N. EEV = 96,000, VSS = 4,000.
    (Built as before, with the first outcome's 36,000 in 2023/24, mentoring is capped at 24,000 and outreach
    fits: that plan is W, EEV = 100,000 and VSS = 0, and it would change with the order of the outcomes.)
    Wait and see: full W 156,000; low N 48,000; WS = 102,000; EVPI = 102,000 - 100,000 = 2,000.
    """
    result = solve_cliff_edge(load_scenario(PERSISTS))
    s = result.summary
    assert result.optimal
    assert s["expected_grant"] == pytest.approx(24000)
    assert result.expected_value == pytest.approx(100000, abs=TIE)
    assert s["eev"] == pytest.approx(96000, abs=TIE)
    assert result.vss == pytest.approx(4000, abs=TIE)
    assert s["wait_and_see"] == pytest.approx(102000, abs=TIE)
    assert result.evpi == pytest.approx(2000, abs=TIE)
    assert result.here_and_now["notices"] == []  # W: nothing is decided before the grant is known
    # every pound of VSS and EVPI here is social value; no penalty weight is in play
    assert s["vss_breakdown"] == {"social_value": pytest.approx(4000, abs=TIE), "exit_and_disruption": 0,
                                  "underwriting_penalty": 0, "unfunded_liability_penalty": 0}
    assert s["evpi_breakdown"]["social_value"] == pytest.approx(2000, abs=TIE)
    assert sum(s["evpi_breakdown"].values()) == pytest.approx(result.evpi, abs=TIE)


def test_expected_value_problem_uses_the_weighted_grant_in_every_settled_year():
    # Fails if the expected-value problem is built as before (the weighted grant only in the uncertain year,
    # the first listed outcome's grant in later years): that plan would give VSS = 0 here, not 4,000.
    from vru_model.analysis.cliff_edge import expected_outcome
    from vru_model.model.data import prepare

    scenario = load_scenario(PERSISTS)
    d = prepare(scenario, two_stage=True)
    assert expected_outcome(d).core_amounts == {"2022/23": pytest.approx(24000), "2023/24": pytest.approx(24000)}
    assert solve_cliff_edge(scenario).vss == pytest.approx(4000, abs=TIE)


@pytest.mark.parametrize("path", [PERSISTS, TWO_YEAR, HAND])
def test_outcome_order_does_not_change_the_figures(path: Path):
    # The same outcomes listed in reverse order: the same figures, the same here-and-now decisions and
    # the same value in each outcome (the plans inside an outcome may differ only where they tie).
    scenario = load_scenario(path)
    outcomes = [o.model_dump() for o in scenario.uncertainty.outcomes[::-1]]
    a, b = solve_cliff_edge(scenario), solve_cliff_edge(load_scenario(path, {"uncertainty.outcomes": outcomes}))
    assert a.optimal and b.optimal
    for key in ("expected_value", "eev", "vss", "wait_and_see", "evpi", "expected_grant"):
        assert a.summary[key] == pytest.approx(b.summary[key], abs=TIE), key
    assert a.here_and_now["notices"] == b.here_and_now["notices"]
    first = {o["name"]: o["objective"] for o in a.outcomes}
    assert first == pytest.approx({o["name"]: o["objective"] for o in b.outcomes}, abs=TIE)



def test_core_grant_an_outcome_leaves_unspent_is_reported():
    """Nothing carries over, so grant an outcome's plan leaves unused is lost: late_confirmation's plan, if the
    grant continues in full, spends 2.73m of the 3.31m 2022/23 grant (services closed or cut before
    confirmation cannot all come back), where the index showed "£0 left unspent" for the deterministic plan."""
    from vru_model.core.text import money
    from vru_model.present.reports import Html
    from vru_model.present.reports.cliff import cliff_first

    scenario = load_scenario(SCENARIOS / "late_confirmation.yaml")
    result = solve_cliff_edge(scenario, value_of_information=False, costs_to_keep=False)
    core = result.funding[result.funding["stream"] == "home_office_grant"]
    for o in result.summary["outcomes"]:
        spent = core[core["outcome"] == o["name"]].groupby("fy")["amount"].sum()
        y = scenario.uncertainty.fy
        assert o["core_unspent"].get(y, 0.0) == pytest.approx(max(0.0, o["grant"] - spent.get(y, 0.0)), abs=1.0)
    full = next(o for o in result.summary["outcomes"] if o["name"] == "full")
    assert full["core_unspent"]["2022/23"] > 100_000
    html = "".join(str(i) for i in cliff_first(result.summary) if isinstance(i, Html))
    # at first sight, and why in the same sentence (it read as an error without it)
    assert (f"If the grant continues in full, {money(full['core_unspent']['2022/23'])} of the 2022/23 core grant "
            "goes unspent, because the contracts for that year are let, and services closed, before June 2022") in html


def test_closures_are_counted_over_the_whole_plan_alike_everywhere(late_confirmation):
    """cliff_edge.json said 2 services close if the grant continues in full while listing 4 closed in every
    outcome (it counted from the uncertain year on); the index, the report and the file now count one way: each
    service closed over the whole plan, once (`closure_count`)."""
    from vru_model.analysis.states import closure_count
    from vru_model.present.summaries import cliff_headline, record_headline

    _scenario, result = late_confirmation
    summary = result.summary
    everywhere = len(summary["closed_in_every_outcome"])
    assert everywhere > 0
    headline = cliff_headline(summary)
    for o in summary["outcomes"]:
        n = summary["counts_by_outcome"][o["name"]]
        assert n["closes"] == closure_count(o["closures"]) >= everywhere
        assert n["closes_from_uncertain_year"] == closure_count(o["closures"], since="2022-04") <= n["closes"]
        assert next(b for b in headline["by_outcome"] if b["name"] == f"the grant {o['label']}")["closes"] == \
            n["closes"]
    record = record_headline({"plan_of_record": "cliff_edge", "status": "optimal", "fy": {}, "totals": {}},
                             summary)
    assert record["closed_by_outcome"] == sorted(n["closes"] for n in summary["counts_by_outcome"].values())
    assert record["value"] == pytest.approx(sum(o["probability"] * o["value"] for o in summary["outcomes"]),
                                            abs=0.01)


def test_a_service_cut_for_a_year_then_let_again_says_when_and_to_what(late_confirmation):
    """The cliff-edge table said "reduces to 50%" for services that, if the grant continues in full, are let at
    50% for 2022/23 (decided before the grant is known) and at full scale again from April 2023."""
    from vru_model.core.periods import month_from_index, month_index, month_name
    from vru_model.present.reports import _state_text

    _, result = late_confirmation
    plans = result.plans
    again = [(row["intervention"], w, state) for row in result.summary["services_by_outcome"]
             for w, state in row["outcomes"].items() if state.get("until")]
    assert again, "the shipped plan lets some services again at a higher scale if the grant continues"
    for i, w, state in again:
        mine = plans[(plans["outcome"] == w) & (plans["intervention"] == i)].set_index("period")["scale"]
        before = month_from_index(month_index(state["until"]) - 1)
        assert mine[before] == pytest.approx(state["scale"], abs=1e-3)
        assert mine[state["until"]] == pytest.approx(state["then"], abs=1e-3) and state["then"] > state["scale"]
        assert _state_text(state).endswith(f", then {state['then']:.0%} from April 2023")
    # a service not running before 2022/23 that the plan starts says so (it read "keeps (100%)")
    starts = [(row["intervention"], w, state) for row in result.summary["services_by_outcome"]
              for w, state in row["outcomes"].items() if state["status"] == "starts"]
    assert starts
    for i, w, state in starts:
        mine = plans[(plans["outcome"] == w) & (plans["intervention"] == i)]
        assert mine[mine["fy"] < "2022/23"]["running"].sum() == 0
        assert mine[mine["running"] == 1]["period"].min() == state["from"]
        assert _state_text(state) == f"starts from {month_name(state['from'])} ({state['scale']:.0%})"


def test_a_cliff_edge_cost_to_keep_says_how_much_is_social_value_and_how_much_the_weights(late_confirmation):
    """The plan a late grant's page leads with: its hedges' costs to keep carried the underwriting and liability
    weights unsaid. Each is split into its parts, which add up to it (but for the tie-break's fraction of a penny
    a pound of spending), and the hedge's reason says the split."""
    _, result = late_confirmation
    split = 0
    for o in result.summary["outcomes"]:
        for x in o["closures"] + o["reductions"]:
            parts = x.get("cost_to_keep_parts")
            if not parts:
                continue
            split += 1
            assert sum(parts.values()) == pytest.approx(x["cost_to_keep"], abs=200.0)  # the tie-break's pennies
            if x["reason"].startswith("Decided before the grant is known") and "in expectation" in x["reason"]:
                assert " Of that: " in x["reason"] and "social value" in x["reason"].partition(" Of that: ")[2]
    assert split, "the shipped plan has hedges with a cost to keep"
