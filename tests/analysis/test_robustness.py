"""How sure is the plan: Monte Carlo over the evidence, regret, and near-optimal alternatives.

tests/fixtures/robust_hand.yaml is worked by hand in its header: the flipper service is kept (and the
steady one closes) exactly when the flipper's effect is above 0.2, and the doomed service always closes.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from checker import check_folder

from vru_model.analysis.ranges import RANGES_COLUMNS
from vru_model.analysis.robustness import SERVICES_COLUMNS, robustness
from vru_model.core.errors import ScenarioError
from vru_model.scenario.distributions import BAND_RANGES, draw, effect_range, uncertain_inputs
from vru_model.scenario.load import load_scenario

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
HAND = FIXTURES / "robust_hand.yaml"
ROOT = FIXTURES.parent.parent
SUMMARY_KEYS = {"scenario", "samples", "seed", "base_objective", "regret", "robust_closures", "fragile_decisions",
                "alternatives", "seconds"}
FLIPPER_EFFECTS = (0.10, 0.15, 0.25, 0.30, 0.35)  # above 0.2 in 3 of 5: the flipper closes in 2 of 5


def _hand_draws() -> list[list[float]]:
    # Columns in uncertain_inputs order: effect.steady, effect.flipper, effect.doomed, harm_cost.injury.
    return [[0.2, e, 0.01, 10000.0] for e in FLIPPER_EFFECTS]


@pytest.fixture(scope="module")
def hand():
    return robustness(load_scenario(HAND), draws=_hand_draws(), epsilons=(0.02, 0.3))


def test_the_inputs_are_the_effects_then_the_harm_costs() -> None:
    columns = [inp.column for inp in uncertain_inputs(load_scenario(HAND))]
    assert columns == ["effect.steady", "effect.flipper", "effect.doomed", "harm_cost.injury"]


def test_a_closure_that_flips_with_its_effect_gets_the_hand_worked_share(hand) -> None:
    services = hand.services.set_index("intervention")
    assert list(hand.services.columns) == SERVICES_COLUMNS
    assert services.loc["flipper", "closes_share"] == pytest.approx(2 / 5)
    assert services.loc["steady", "closes_share"] == pytest.approx(3 / 5)
    assert services.loc["central", "kept_share"] == 1.0
    # Each runs four months on what the other leaves: 80,000 - 60,000 = 20,000 at 5,000 a month.
    assert services.loc["flipper", "earliest_closes_from"] == "2021-08"
    assert services.loc["steady", "median_closes_from"] == "2021-08"


def test_five_samples_cannot_call_a_closure_robust_or_fragile(hand) -> None:
    """Doomed closes in 5 of 5 samples, but the 95% Wilson interval of 5/5 starts at 5 / (5 + 1.96^2) = 57%,
    below 90%: uncertain, and 35 samples at the same share would settle it (35 / 38.84 = 90.1%; 34 gives 89.8%).
    The recommended plan closes the flipper, which happens in 2 of 5 samples: 12%-77%, spanning 50%."""
    assert hand.summary["robust_closures"] == [] and hand.summary["fragile_decisions"] == []
    assert hand.services.set_index("intervention").loc["doomed", "earliest_closes_from"] == "2021-04"
    uncertain = {c["intervention"]: c for c in hand.summary["uncertain_closures"]}
    assert uncertain["doomed"]["low"] == pytest.approx(5 / (5 + 1.959964**2), abs=1e-4)
    assert (uncertain["doomed"]["threshold"], uncertain["doomed"]["samples_to_settle"]) == (0.9, 35)
    assert (uncertain["flipper"]["threshold"], uncertain["flipper"]["low"]) == (0.5, pytest.approx(0.1176, abs=1e-4))
    assert any("Flipper service closes in 40% (95% interval 12%-77%)" in x for x in hand.summary["sentences"])


def test_forty_samples_in_forty_is_robust_and_few_is_fragile() -> None:
    sc = load_scenario(HAND)
    many = robustness(sc, draws=[[0.2, e, 0.01, 10000.0] for e in [0.1] * 30 + [0.3] * 10], epsilons=())
    assert many.summary["robust_closures"] == ["doomed"]  # 40/40: interval from 91.2%
    # the flipper closes in 30 of 40 (the recommended plan's closure): 60%-86%, neither fragile nor uncertain
    assert many.summary["fragile_decisions"] == [] and not many.summary["uncertain_closures"]
    few = robustness(sc, draws=[[0.2, e, 0.01, 10000.0] for e in [0.1] * 4 + [0.3] * 36], epsilons=())
    assert few.summary["fragile_decisions"] == ["flipper"]  # 4 of 40: 4%-23%, below 50%


def test_a_service_the_plan_never_starts_is_not_a_closure() -> None:
    """late_confirmation's page said the micro-charities fund "closes in 85%" of samples though it never runs
    there: a service not running at the start that the plan never starts is not a decision to close it."""
    never = robustness(load_scenario(HAND, {"interventions.doomed.running_at_start": False}),
                       draws=_hand_draws(), epsilons=(0.3,))
    doomed = never.services.set_index("intervention").loc["doomed"]
    assert doomed["closes_share"] == 1.0 and doomed["not_run_share"] == 1.0  # not running at the end, as before
    assert never.summary["robust_closures"] == [] and never.summary["fragile_decisions"] == []
    assert [c["intervention"] for c in never.summary["uncertain_closures"]] == ["flipper"]
    assert not any("Doomed" in sentence for sentence in never.summary["sentences"])
    assert not never.samples["closed"].fillna("").str.contains("doomed").any()
    assert [r["not_started"] for r in never.summary["recommended_closures"] if r["intervention"] == "doomed"] == [True]
    # an alternative may start it and close it again, but does not "close it, which the best plan keeps"
    assert never.summary["alternatives"] and not any("doomed" in a["closes_unlike_best"] + a["keeps_unlike_best"]
                                                     for a in never.summary["alternatives"])


def test_regret_is_the_hand_worked_loss_of_the_recommended_plan(hand) -> None:
    # At effect e > 0.2 the best plan is worth 1,000,000 e + 66,667 and the recommended one 200,000 + 333,333 e.
    regret = dict(zip(hand.samples["effect.flipper"], hand.samples["regret"], strict=True))
    for e in FLIPPER_EFFECTS:
        expected = max(0.0, (1_000_000 * e + 200_000 / 3) - (200_000 + 1_000_000 * e / 3))
        assert regret[e] == pytest.approx(expected, abs=1.0)
    assert hand.summary["regret"]["max"] == pytest.approx(100_000, abs=1.0)
    assert hand.summary["base_objective"] == pytest.approx(200_000 + 50_000, abs=20)


def test_alternatives_stay_within_epsilon_and_are_lawful(hand, tmp_path: Path) -> None:
    folder = hand.write(tmp_path)
    optimum = hand.summary["base_objective"]
    entries = hand.summary["alternatives"]
    assert [(a["epsilon"], a["kind"]) for a in entries] == [
        (0.02, "fewest_closures"), (0.02, "most_different"), (0.3, "fewest_closures"), (0.3, "most_different")]
    for entry in entries:
        alt = folder / "alternatives" / str(entry["k"])
        summary = json.loads((alt / "summary.json").read_text())
        assert summary["epsilon"] == entry["epsilon"]
        assert summary["objective"] >= (1 - entry["epsilon"]) * optimum - 0.01
        assert check_folder(alt) == []
        assert entry["sentence"]
    # With 30% to give up, the fewest-closures plan keeps the doomed service (its 12,000 a year costs less
    # than 30% of the optimum), which the best plan closes: the sentence says so.
    loose = entries[2]
    assert "doomed" in loose["keeps_unlike_best"]
    assert "Doomed service" in loose["sentence"] and "which the best plan closes" in loose["sentence"]
    # The most different plan within 30% differs from the best plan in which services run.
    assert entries[3]["distance_service_years"] > 0


def test_the_same_seed_gives_the_same_files(tmp_path: Path) -> None:
    sc = load_scenario(FIXTURES / "frontier_small.yaml")
    runs = [robustness(sc, 6, seed=7, epsilons=(0.02, 0.05), ranges_for="all").write(tmp_path / name)
            for name in ("a", "b")]
    other = robustness(sc, 6, seed=8, epsilons=()).write(tmp_path / "c")
    assert len((runs[0] / "ranges.csv").read_text().splitlines()) == 1 + 2 * len(sc.interventions)
    for name in ("services.csv", "samples.csv", "ranges.csv", "alternatives/1/allocation.csv",
                 "alternatives/2/funding.csv"):
        assert (runs[0] / name).read_bytes() == (runs[1] / name).read_bytes(), name
    one, two = (json.loads((r / "summary.json").read_text()) for r in runs)
    for s in (one, two):
        s.pop("seconds"), s.pop("provenance")
    assert one == two
    assert (other / "samples.csv").read_bytes() != (runs[0] / "samples.csv").read_bytes()


def test_two_worker_processes_give_the_same_answer_as_one() -> None:
    sc = load_scenario(HAND)
    one = robustness(sc, draws=_hand_draws(), epsilons=())
    two = robustness(sc, draws=_hand_draws(), epsilons=(), workers=2)
    assert one.services.equals(two.services)
    assert one.samples.equals(two.samples)


@pytest.mark.parametrize("name", ["frontier_small.yaml", "robust_hand.yaml"])
def test_a_sample_does_not_depend_on_the_samples_solved_before_it(name: str) -> None:
    """Workers get different runs of samples; each sample's relaxation starts from the same kept basis (and
    nothing else of the last solve: a second reading found robust_hand's 7th sample settled by the relaxation
    after one run of samples and by the MIP after another) and its MIP from the same plan, so a worker that
    starts mid-way gives what one worker gives, to the last digit."""
    from vru_model.analysis.robustness import solve_samples
    from vru_model.scenario.distributions import draw, uncertain_inputs, unit_values
    from vru_model.scenario.load import dump_yaml, scenario_to_dict

    sc = load_scenario(FIXTURES / name)
    inputs = uncertain_inputs(sc)
    values = [unit_values(sc, inputs, row) for row in draw(inputs, 12, 11)]
    text = dump_yaml(scenario_to_dict(sc))
    def timeless(rows: list[dict]) -> list[dict]:  # each row's own solve time is the one field that varies
        return [{k: v for k, v in r.items() if k != "seconds"} for r in rows]

    alone = timeless(solve_samples(text, values))
    for start in (1, 5):
        assert alone[start:] == timeless(solve_samples(text, values[start:])), start


def test_latin_hypercube_draws_are_seeded_and_stay_in_range() -> None:
    inputs = uncertain_inputs(load_scenario(FIXTURES / "frontier_small.yaml"))
    a, b = draw(inputs, 50, 1), draw(inputs, 50, 1)
    assert (a == b).all() and not (a == draw(inputs, 50, 2)).all()
    for k, inp in enumerate(inputs):
        assert inp.low <= a[:, k].min() and a[:, k].max() <= inp.high
        # A Latin hypercube puts exactly one draw in each of the 50 equal-probability strata; for a uniform
        # stretch of the range that means the draws spread over it, not bunched.
        assert a[:, k].max() - a[:, k].min() > 0.5 * (inp.high - inp.low)


def test_default_effect_ranges_follow_the_yef_bands_widened_for_weak_evidence() -> None:
    sc = load_scenario(FIXTURES / "frontier_small.yaml")
    mentoring = sc.interventions["mentoring"].evidence  # high band, high confidence, effect 0.3
    kind, low, high, source = effect_range(mentoring)
    assert (kind, low, high) == ("triangular", *BAND_RANGES["high"])
    assert "Youth Endowment Fund" in source
    training = sc.interventions["training"].evidence  # low band (2-9%), low confidence: widened by half
    _, low, high, source = effect_range(training)
    assert (low, high) == pytest.approx((0.0, 0.125)) and "illustrative assumption" in source


@pytest.mark.parametrize(("distribution", "key", "words"), [
    ({"low": 0.3, "high": 0.1}, "interventions.flipper.evidence.effect_distribution", "bounds inverted"),
    ({"low": 0.1, "high": 1.5}, "interventions.flipper.evidence.effect_distribution.high", "less than or equal to 1"),
    ({"low": -0.1, "high": 0.3}, "interventions.flipper.evidence.effect_distribution.low", "greater than or equal"),
    ({"low": 0.2, "high": 0.3}, "interventions.flipper.evidence", "outside its effect_distribution"),
])
def test_bad_effect_distributions_are_located_errors(write, distribution, key, words) -> None:
    data = yaml.safe_load(HAND.read_text())
    data["interventions"]["flipper"]["evidence"]["effect_distribution"] = distribution
    path = write("bad", data)
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    [problem] = err.value.problems
    assert (problem.file, problem.key) == (str(path), key) and words in problem.message


def test_an_inverted_harm_cost_range_is_a_located_error(write) -> None:
    data = yaml.safe_load(HAND.read_text())
    data["value"]["harm_costs"]["injury"]["distribution"] = {"low": 12000, "high": 8000}
    with pytest.raises(ScenarioError) as err:
        load_scenario(write("bad", data))
    assert [p.key for p in err.value.problems] == ["value.harm_costs.injury.distribution"]


def _vru(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "vru_model", *args], capture_output=True, text=True, cwd=ROOT,
                          timeout=900)


def test_cli_writes_the_robustness_folder(tmp_path: Path) -> None:
    done = _vru("robustness", str(HAND), "--samples", "8", "--seed", "3", "--epsilon", "0.05", "--out", str(tmp_path))
    assert done.returncode == 0, done.stderr
    folder = tmp_path / "robust_hand" / "robustness"
    summary = json.loads((folder / "summary.json").read_text())
    assert summary.keys() >= SUMMARY_KEYS
    assert summary["sample_mip_gap"] <= 1e-5
    assert all(x["median"] == x["value"] for x in summary["inputs"])
    assert (folder / "ranges.csv").read_text().splitlines()[0] == ",".join(RANGES_COLUMNS)
    assert (summary["scenario"], summary["samples"], summary["seed"]) == ("robust_hand", 8, 3)
    assert set(summary["regret"]) == {"mean", "p50", "p90", "max"}
    assert (folder / "services.csv").read_text().splitlines()[0] == ",".join(SERVICES_COLUMNS)
    assert len((folder / "samples.csv").read_text().splitlines()) == 1 + 8
    for k in ("1", "2"):
        alt = folder / "alternatives" / k
        assert {p.name for p in alt.iterdir()} == {"resolved.yaml", "allocation.csv", "funding.csv", "summary.json"}
        assert {"epsilon", "objective"} <= json.loads((alt / "summary.json").read_text()).keys()
    page = (folder / "report.html").read_text()  # the command's own page: the range chart and its sentences
    assert "<h1>How sure is the plan? Hand-worked robustness fixture</h1>" in page
    assert 'alt="Range bars, one per service' in page and 'href="ranges.csv"' in page
    assert "Every plan within 5% of the best value runs" in page


def test_cli_bad_distribution_exits_2_and_writes_nothing(write, tmp_path: Path) -> None:
    data = yaml.safe_load(HAND.read_text())
    data["interventions"]["flipper"]["evidence"]["effect_distribution"] = {"low": 0.3, "high": 0.1}
    path = write("bad", data)
    done = _vru("robustness", str(path), "--samples", "4", "--out", str(tmp_path / "out"))
    assert done.returncode == 2
    assert done.stderr.strip() == (f"error: {path}: interventions.flipper.evidence.effect_distribution: bounds "
                                   "inverted: low 0.3 is above high 0.1")
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_cli_on_the_shipped_cut_50(tmp_path: Path) -> None:
    done = _vru("robustness", "scenarios/cut_50.yaml", "--samples", "4", "--workers", "2", "--epsilon", "0.05",
                "--out", str(tmp_path))
    assert done.returncode == 0, done.stderr
    folder = tmp_path / "cut_50" / "robustness"
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["samples"] == 4 and summary["statuses"] == {"optimal": 4}
    for entry in summary["alternatives"]:
        assert entry["objective"] >= (1 - entry["epsilon"]) * summary["base_objective"] - 0.01
        assert check_folder(folder / entry["folder"]) == []


def test_samples_run_on_a_dask_cluster_from_scenario_text() -> None:
    from distributed import LocalCluster

    sc = load_scenario(HAND)
    with LocalCluster(n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None) as cluster:
        on_dask = robustness(sc, draws=_hand_draws(), epsilons=(), scheduler=cluster.scheduler_address)
    here = robustness(sc, draws=_hand_draws(), epsilons=())
    assert on_dask.services.equals(here.services) and on_dask.samples.equals(here.samples)


def test_report_section_names_a_recommended_service_that_never_starts() -> None:
    from vru_model.present.reports import robustness_section

    sc = load_scenario(HAND, ["interventions.doomed.running_at_start=false"])
    result = robustness(sc, draws=[[0.2, e, 0.01, 10000.0] for e in (0.1, 0.3)], epsilons=())
    text = "".join(str(x) for x in robustness_section(result) if isinstance(x, str))
    assert "How sure" not in text and "does not run" in text and "Flipper service" in text


def test_spreading_alternatives_move_away_from_every_plan_before_them() -> None:
    """After the fewest-closures plan, each `most_different` plan maximises its cost-weighted distance from the
    best plan and the spreading plans before it (SPORES-style), within epsilon."""
    sure = robustness(load_scenario(HAND), draws=_hand_draws(), epsilons=(0.3,), alternatives=2)
    entries = sure.summary["alternatives"]
    assert [(a["kind"], a["spread_step"]) for a in entries] == [
        ("fewest_closures", None), ("most_different", 1), ("most_different", 2)]
    first, second = entries[1], entries[2]
    assert first["distance_weighted"] > 0 and second["distance_weighted"] > 0
    # the second is measured from both the best plan and the first, so it is not the first again
    months = [a.result.allocation.groupby("intervention")["running"].sum().to_dict() for a in sure.alternatives]
    assert months[1] != months[2]
    for a in entries:
        assert a["objective"] >= (1 - 0.3) * sure.summary["base_objective"] - 0.01
    assert "and the alternatives before it" in second["sentence"]
