"""One walker over a service's months: closures, reductions, growth, a scale set at the start, fates and counts."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from vru_model.analysis.decisions import growth, reductions, scales_set_at_start
from vru_model.analysis.objective import ObjectiveParts, breakdown_difference, gap_slack
from vru_model.analysis.results import closures
from vru_model.analysis.states import ServiceMonths, closure_count
from vru_model.scenario.load import load_scenario

TINY = Path(__file__).resolve().parents[1] / "fixtures" / "tiny.yaml"
MONTHS = ("2021-04", "2021-05", "2021-06", "2021-07", "2021-08", "2021-09")


def _scenario(**mentoring):
    sc = load_scenario(TINY)
    items = {**sc.interventions, "mentoring": sc.interventions["mentoring"].model_copy(update=mentoring)}
    return sc.model_copy(update={"interventions": items})


def _table(running: list[int], scale: list[float]) -> pd.DataFrame:
    return pd.DataFrame({"intervention": "mentoring", "period": MONTHS, "fy": "2021/22", "running": running,
                         "scale": scale, "vru_spend": 100.0, "startup_cost": 0.0})


def test_the_walker_names_each_event_once_with_round_off_ignored():
    sc = _scenario(scale_at_start=1.0, variation_notice_months=2)
    alloc = _table([1, 1, 1, 0, 1, 1], [0.998, 0.7, 0.7, 0.0, 0.6, 0.9])
    months = ServiceMonths(sc.interventions["mentoring"], MONTHS, tuple(alloc["running"]), tuple(alloc["scale"]))
    assert months.closes_from() == ["2021-07"]
    assert [(c["closes_from"], c["notice_by"]) for c in closures(sc, alloc)] == [("2021-07", "2021-04")]
    assert [(r["from"], r["scale_before"], r["scale"], r["notice_by"]) for r in reductions(sc, alloc)] == [
        ("2021-05", 0.998, 0.7, "2021-03")]  # 1.0 to 0.998 is round-off, not a cut
    assert [(g["from"], g["kind"], g["scale_before"]) for g in growth(sc, alloc)] == [
        ("2021-08", "starts", 0.0), ("2021-09", "grows", 0.6)]
    assert months.scale_before("2021-07") == 0.7 and months.scale_before("2021-04") == 1.0
    assert months.fate().fate == "reduced" and months.fate().runs


def test_a_scale_the_scenario_does_not_give_is_set_at_the_start_and_a_stop_at_the_end_is_a_closure():
    sc = _scenario()
    alloc = _table([1, 1, 1, 1, 1, 0], [1.3, 1.3, 1.3, 1.3, 1.3, 0.0])
    assert scales_set_at_start(sc, alloc) == [{"intervention": "mentoring", "title": "Mentoring", "from": "2021-04",
                                               "scale": 1.3}]
    fate = ServiceMonths(sc.interventions["mentoring"], MONTHS, tuple(alloc["running"]), tuple(alloc["scale"])).fate()
    assert (fate.fate, fate.closes_from, fate.closed) == ("closes", "2021-09", True)


def test_a_service_the_plan_never_starts_is_not_closed():
    sc = _scenario(running_at_start=False)
    months = ServiceMonths(sc.interventions["mentoring"], MONTHS, (0,) * 6, (0.0,) * 6)
    assert months.closes_from() == [] and months.growth() == []
    fate = months.fate()
    assert (fate.fate, fate.closes_from, fate.runs, fate.closed) == ("closes", None, False, False)


def test_closures_are_counted_by_service_over_the_plan_or_from_a_month():
    found = [{"intervention": "a", "closes_from": "2021-05"}, {"intervention": "b", "closes_from": "2022-04"},
             {"intervention": "a", "closes_from": "2022-06"}]
    assert closure_count(found) == 2
    assert closure_count(found, since="2022-04") == 2
    assert closure_count(found, since="2022-05") == 1


def test_the_objective_parts_read_both_vocabularies_with_one_sign_each():
    plan = ObjectiveParts(100.0, 10.0, 5.0, 2.0, 1.0)
    kept = ObjectiveParts(90.0, 4.0, 8.0, 2.0, 0.0)
    assert plan.penalty_weights == 3.0
    assert plan.breakdown() == {"social_value": 100.0, "exit_and_disruption": -15.0, "underwriting_penalty": -2.0,
                                "unfunded_liability_penalty": -1.0}
    assert plan.cost_to_keep(kept) == {"social_value": 10.0, "exit_costs": -6.0, "disruption": 3.0,
                                       "penalty_weights": -1.0}
    assert breakdown_difference(plan, kept)["exit_and_disruption"] == -3.0
    assert plan.weighted(0.5) + plan.weighted(0.5) == plan
    assert ObjectiveParts.from_totals(plan.totals()) == ObjectiveParts(100.0, 10.0, 5.0, 3.0, 0.0)
    assert gap_slack(0.001, -2_000_000.0, pounds=1.0) == pytest.approx(4001.0)
