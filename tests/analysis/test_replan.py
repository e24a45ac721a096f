"""Re-planning from the actual spend so far: history held, no notice in the past, every rule over whole years."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from vru_model import load_scenario
from vru_model.analysis.replan import replan
from vru_model.core import periods

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"


def _actuals(tmp_path: Path, spend: dict[str, float], months: list[str], name: str = "actuals.csv") -> Path:
    """A tiny actuals file: every month of `months`, `spend` per service from the core grant."""
    rows = ["stream,intervention,period,amount"]
    rows += [f"core,{i},{t},{a}" for t in months for i, a in spend.items()]
    path = tmp_path / name
    path.write_text("\n".join(rows) + "\n")
    return path


def _rows(table: pd.DataFrame, service: str, first: str, last: str) -> pd.DataFrame:
    return table[(table["intervention"] == service) & table["period"].between(first, last)]


def test_the_worked_example_by_hand(tmp_path: Path) -> None:
    """Tiny: a £120k grant, mentoring (£10k a month at full scale) and the central team (£2k a month). Mentoring
    ran at half scale to September (£5k a month): £42k spent of 2021/22's grant. The rest of the year has £78k:
    the central team's £12k and mentoring at full scale (£60k) leave £6k that cannot be spent (mentoring is at its
    largest scale) and so goes unclaimed."""
    path = _actuals(tmp_path, {"central": 2000, "mentoring": 5000}, periods.months("2021-04", 6))
    plan = replan(load_scenario(FIXTURES / "tiny.yaml"), path, "2021-09")
    assert plan.status == "optimal"
    core = plan.forecast.set_index(["fy", "stream"]).loc[("2021/22", "core")]
    assert (core.actual_to_date, core.planned_remaining, core.forecast_outturn, core.available, core.unclaimed) == (
        42000, 72000, 114000, 120000, 6000)
    mentoring = _rows(plan.result.allocation, "mentoring", "2021-04", "2022-03")
    assert list(mentoring["scale"]) == [0.5] * 6 + [1.0] * 6
    assert plan.result.summary["as_of"] == "2021-09"
    assert plan.result.summary["variance_totals"]["variance"] == pytest.approx(sum(plan.variance["variance"]))
    planned = plan.planned.funding
    month = planned[(planned["intervention"] == "mentoring") & (planned["period"] == "2021-04")]["amount"].sum()
    row = plan.variance[(plan.variance["intervention"] == "mentoring") & (plan.variance["period"] == "2021-04")]
    assert row["planned"].item() == month and row["actual"].item() == 5000 and row["variance"].item() == 5000 - month


def test_no_notice_is_served_in_the_past(tmp_path: Path) -> None:
    """To February 2022 mentoring ran at 80%. With too little 2022/23 grant to keep it, it still runs, at no
    less than 80%, until notice served in March could run out: it closes from June at the earliest."""
    path = _actuals(tmp_path, {"central": 2000, "mentoring": 8000}, periods.months("2021-04", 11))
    scenario = load_scenario(FIXTURES / "tiny.yaml", ["funding.core.amounts.2022/23=60000"])
    plan = replan(scenario, path, "2022-02")
    assert plan.status == "optimal"
    kept = _rows(plan.result.allocation, "mentoring", "2022-03", "2022-05")
    assert kept["running"].eq(1).all() and kept["scale"].ge(0.8 - 1e-9).all()
    [closure] = plan.result.summary["closures"]
    assert closure["notice_by"] >= "2022-03" and closure["closes_from"] >= "2022-06"


def test_history_is_what_was_spent_and_rules_count_whole_years(tmp_path: Path) -> None:
    """An overspent year is not bad input: the re-plan is infeasible, and says why in words first."""
    path = _actuals(tmp_path, {"central": 2000, "mentoring": 10000}, periods.months("2021-04", 11))
    plan = replan(load_scenario(FIXTURES / "tiny.yaml"), path, "2022-02")
    assert plan.status == "infeasible"
    first = plan.result.summary["explanation"]["sentences"][0]
    assert "in 2021/22 to February 2022 (£132k) is already above its £120k for the year" in first
    assert "actuals.csv: row 2, row 3, row 4 ..." in first


@pytest.mark.slow
def test_the_baseline_re_planned_from_its_own_figures(tmp_path: Path) -> None:
    """The acceptance case: the baseline's own April-September figures, one service 40% under in July-September
    and another stopped after July."""
    from checker import check_folder

    from vru_model.analysis.solve import solve

    baseline = load_scenario(ROOT / "scenarios" / "baseline.yaml")
    own = solve(baseline, shadow_prices=False).funding
    actuals = own[own["period"] <= "2021-09"].copy()
    under, stopped = "reachable_moments_custody", "iris"
    late = (actuals["intervention"] == under) & (actuals["period"] >= "2021-07")
    actuals.loc[late, "amount"] = (actuals.loc[late, "amount"] * 0.6).round(2)
    actuals = actuals[~((actuals["intervention"] == stopped) & (actuals["period"] >= "2021-08"))]
    actuals.to_csv(tmp_path / "actuals.csv", index=False)
    plan = replan(baseline, tmp_path / "actuals.csv", "2021-09")
    assert plan.status == "optimal"
    history = plan.result.funding[plan.result.funding["period"] <= "2021-09"]
    key = ["stream", "intervention", "period"]
    assert history.set_index(key)["amount"].sort_index().round(2).equals(
        actuals.set_index(key)["amount"].sort_index().round(2))
    assert _rows(plan.result.allocation, stopped, "2021-08", "2021-09")["running"].eq(0).all()
    notices = [c["notice_by"] for c in plan.result.summary["closures"]] + [
        r["notice_by"] for r in plan.result.summary.get("reductions", [])]
    assert all(n >= "2021-10" for n in notices), notices
    gap = plan.variance[plan.variance["intervention"] == under]
    assert gap[gap["period"] >= "2021-07"]["variance"].lt(0).all()
    assert (plan.forecast["forecast_outturn"] <= plan.forecast["available"] + 0.01).all()
    folder = plan.write(tmp_path / "out")
    assert {"variance.csv", "forecast.csv"} <= {p.name for p in folder.iterdir()}
    assert check_folder(folder) == []
