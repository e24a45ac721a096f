"""Intervals, centred inputs, ties within the gap and each service's room within epsilon, worked by hand.

tests/fixtures/robust_hand.yaml (its header works the figures): at the scenario's own flipper effect 0.15,
steady is worth 16,667 a month and the flipper 12,500; the 80,000 left after the central team buys 16
service-months at 5,000, in whole months. The best plan runs steady 12 months and the flipper 4: 250,000.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from vru_model.analysis.ranges import could_close, must_run, nest, sentences
from vru_model.analysis.robustness import robustness, samples_to_settle, tie_fates, wilson
from vru_model.analysis.states import Fate
from vru_model.scenario.distributions import UncertainInput, draw, max_correlation, uncertain_inputs
from vru_model.scenario.load import load_scenario

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
HAND = FIXTURES / "robust_hand.yaml"


def test_the_wilson_interval_worked_by_hand() -> None:
    # 2 of 5, z = 1.96: centre (0.4 + 3.8415/10) / (1 + 3.8415/5) = 0.4434; half-width
    # 1.96 / 1.7683 x sqrt(0.4 x 0.6 / 5 + 3.8415 / 100) = 0.3258: 11.76% to 76.93%.
    assert wilson(2, 5) == pytest.approx((0.1176, 0.7693), abs=1e-4)
    # none of 40: from 0 to z^2 / (n + z^2) = 3.8415 / 43.8415 = 8.76%
    assert wilson(0, 40) == pytest.approx((0.0, 0.0876), abs=1e-4)
    assert wilson(0, 0) == (0.0, 1.0)
    # all of 35 is the first n whose interval clears 90% (35 / 38.84 = 0.9011; 34 / 37.84 = 0.8985)
    assert samples_to_settle(1.0, 0.9) == 35 and samples_to_settle(0.5, 0.5) is None


def test_a_band_from_zero_is_a_two_piece_triangle_whose_median_is_the_value() -> None:
    """low 0, value 0.1, high 0.4 (the review's example: a triangle there has mean 0.167 and puts 67% of its
    draws above 0.1). Two pieces: half the mass rising from 0 to 0.1, half falling from 0.1 to 0.4; the range
    is kept, not narrowed."""
    x = UncertainInput("k", "c", "triangular", 0.0, 0.1, 0.4, "s")
    assert x.ppf(np.array([0.5]))[0] == pytest.approx(0.1)
    # lower piece: F(x) = 0.5 (x / 0.1)^2, so the 12.5% point is 0.05; upper: 1 - 0.5 ((0.4 - x) / 0.3)^2
    assert x.ppf(np.array([0.125, 0.875])) == pytest.approx([0.05, 0.25])
    assert x.mean == pytest.approx(0.5 * 0.2 / 3 + 0.5 * 0.2)  # 0.133, not 0.167
    u = UncertainInput("k", "c", "uniform", 0.0, 0.1, 0.4, "s")
    assert u.ppf(np.array([0.25, 0.5, 0.75])) == pytest.approx([0.05, 0.1, 0.25])
    assert x.as_dict()["median"] == 0.1 and x.as_dict()["shape"] == "two-piece triangular"


def test_forty_draws_centre_on_each_value_and_barely_correlate() -> None:
    inputs = uncertain_inputs(load_scenario(FIXTURES / "frontier_small.yaml"))
    table = draw(inputs, 40, 11)
    for k, inp in enumerate(inputs):
        assert abs(np.median(table[:, k]) - inp.mode) <= 0.1 * (inp.high - inp.low) + 1e-12, inp.key
    assert max_correlation(table) < 0.2


def test_a_fate_within_the_gap_is_not_a_change() -> None:
    """A sample whose optimum beats the recommended plan by less than the gap slack (2 x 1e-6 x 1,000,000 = 2)
    is a tie: its different fate is solver noise, and the recommended plan's fates count."""
    base = {"pilot": Fate("closes", "2022-04", True)}
    noisy = {"status": "optimal", "objective": 1_000_000.0, "plan_objective": 999_999.0,
             "fates": {"pilot": Fate("reduced", None, True)}}
    real = {"status": "optimal", "objective": 1_000_000.0, "plan_objective": 999_990.0,
            "fates": {"pilot": Fate("reduced", None, True)}}
    assert tie_fates([noisy, real], base) == 1
    assert noisy["fates"] == base and real["fates"]["pilot"].fate == "reduced"


def test_nesting_widens_each_range_to_hold_the_smaller_ones_and_the_best() -> None:
    assert nest(1.0, [0.9, 0.95, None, 0.5], 1) == [0.9, 0.9, 0.9, 0.5]
    assert nest(1.0, [0.99, 1.2, 1.1], -1) == [1.0, 1.2, 1.2]


@pytest.fixture(scope="module")
def hand_ranges():
    draws = [[0.2, e, 0.01, 10000.0] for e in (0.10, 0.15, 0.25, 0.30, 0.35)]
    return robustness(load_scenario(HAND), draws=draws, epsilons=(0.04, 0.02), ranges_for="all").ranges


def test_each_services_room_within_epsilon_worked_by_hand(hand_ranges) -> None:
    """Floors: 2% of 250,000 is 245,000, 4% is 240,000.
    steady: 11 months and the flipper 5 is 183,333 + 62,500 = 245,833 (10 and 6: 241,667): least 11/12 at 2%,
            10/12 at 4% (9 and 7: 237,500, below); most 12.
    flipper: most 5/12 at 2%, 6/12 at 4%; least 4/12 at both (3 months: 237,500).
    doomed: a month of it (1,000) costs a flipper month (12,500) for 83 of value: 237,583, below both floors."""
    got = {(r.intervention, r.epsilon): (r.best_service_years, r.min_service_years, r.max_service_years)
           for r in hand_ranges.itertuples()}
    assert list(hand_ranges["epsilon"].unique()) == [0.02, 0.04]
    expected = {
        ("steady", 0.02): (1.0, 11 / 12, 1.0), ("steady", 0.04): (1.0, 10 / 12, 1.0),
        ("flipper", 0.02): (4 / 12, 4 / 12, 5 / 12), ("flipper", 0.04): (4 / 12, 4 / 12, 6 / 12),
        ("doomed", 0.02): (0.0, 0.0, 0.0), ("doomed", 0.04): (0.0, 0.0, 0.0),
        ("central", 0.02): (1.0, 1.0, 1.0), ("central", 0.04): (1.0, 1.0, 1.0),
    }
    for key, figures in expected.items():
        assert got[key] == pytest.approx(figures, abs=1e-4), key


def test_ranges_hold_the_best_plan_and_never_narrow(hand_ranges) -> None:
    for _, rows in hand_ranges.groupby("intervention"):
        rows = rows.sort_values("epsilon")
        assert (rows["min_service_years"] <= rows["best_service_years"]).all()
        assert (rows["best_service_years"] <= rows["max_service_years"]).all()
        assert rows["min_service_years"].is_monotonic_decreasing and rows["max_service_years"].is_monotonic_increasing


def test_the_board_sentence_names_services_that_must_run_and_those_that_could_close(hand_ranges) -> None:
    sc = load_scenario(HAND)
    assert must_run(sc, hand_ranges) == ["steady", "flipper"]  # the central team is mandatory: not named
    assert could_close(hand_ranges) == []  # no service can lose half its years within 2%
    assert sentences(sc, hand_ranges) == [
        "Every plan within 4% of the best value runs 2 of these 3 services for at least some months; only Doomed "
        "service need not run at all."]
    steady_only = hand_ranges[hand_ranges["intervention"] != "flipper"]
    assert sentences(sc, steady_only) == [
        "Every plan within 4% of the best value runs Steady service for at least some months."]
    kept_only = hand_ranges[hand_ranges["intervention"].isin(["steady", "flipper"])]
    assert sentences(sc, kept_only) == [
        "Every plan within 4% of the best value runs every one of these 2 services for at least some months."]
