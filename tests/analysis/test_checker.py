"""Every written plan passes the independent checker (tests/checker.py), for the shipped scenarios
and for generated ones; and `vru solve` exits 0 / 1 / 2 as the contract says."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from checker import check_folder
from click.testing import CliRunner
from hypothesis import HealthCheck, event, given, settings
from strategies import scenarios

from vru_model.analysis.solve import solve
from vru_model.apps.cli import main
from vru_model.core import periods
from vru_model.solving.status import Status

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = sorted((ROOT / "scenarios").glob("*.yaml"))
EXPECTED = [
    "baseline", "inflation_erosion", "cut_25", "cut_50", "grant_ends", "late_confirmation",
    "partner_fails_to_mainstream", "growth_20", "infeasible_example",
]


def test_the_scenario_set_is_shipped():
    assert sorted(EXPECTED) == sorted(p.stem for p in SHIPPED if p.stem in EXPECTED)


@pytest.fixture(scope="module")
def solved_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("solved")


@pytest.mark.parametrize("path", SHIPPED, ids=[p.stem for p in SHIPPED])
def test_shipped_scenario_passes_checker(path, solved_dir):
    out = solved_dir / path.stem
    result = CliRunner().invoke(main, ["solve", str(path), "--out", str(out)])
    name = path.stem
    folder = out / name
    assert (folder / "summary.json").is_file(), result.output
    if name == "infeasible_example":
        assert result.exit_code == 1, result.output
        text = result.output
        assert "infeasible" in text
        assert "core grant" in text and "more core grant" in text, text  # names the grant and the money needed
        assert "£" in text
        return
    assert result.exit_code == 0, result.output
    assert check_folder(folder) == []  # includes: scale constant within each financial year (default policy)
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    for decision in [*summary["closures"], *summary["reductions"]]:  # every decision explained and priced
        assert decision["reason"], decision
        if decision["cost_to_keep"] is None:  # in a year with no core grant there is nothing to keep it with
            assert decision["cost_to_keep_note"].startswith("none: there is no core grant in "), decision
            assert summary["fy"][periods.fy_of(decision.get("closes_from") or decision["from"])]["core_grant"] == 0
        else:
            assert decision["cost_to_keep"] >= 0, decision


def test_bad_input_exits_2_and_writes_nothing(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\ntitle: x\nhorizon: {start: 2021-13, months: 12}\nfunding: {}\ninterventions: {}\n")
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["solve", str(bad), "--out", str(out)])
    assert result.exit_code == 2
    assert "bad.yaml" in result.output and "horizon.start" in result.output
    assert "Traceback" not in result.output
    assert not out.exists() or not any(out.iterdir())


def test_bad_override_exits_2_and_writes_nothing(tmp_path):
    out = tmp_path / "out"
    base = ROOT / "tests" / "fixtures" / "tiny.yaml"
    args = ["solve", str(base), "--set", "policy.commissioning_min_share=2", "--out", str(out)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2
    assert "commissioning_min_share" in result.output
    assert not out.exists() or not any(out.iterdir())


def _rewrite(path: Path, edit) -> None:
    with path.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    fields = list(rows[0])
    edit(rows)
    with path.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def test_checker_catches_tampering(tmp_path):
    """The checker is only worth running if it notices a broken plan."""
    from vru_model.scenario.load import load_scenario

    folder = solve(load_scenario(ROOT / "tests" / "fixtures" / "tiny.yaml")).write(tmp_path)
    assert check_folder(folder) == []

    def overspend(rows):
        rows[0]["amount"] = str(float(rows[0]["amount"]) + 500000)

    _rewrite(folder / "funding.csv", overspend)
    found = check_folder(folder)
    assert any(v.startswith("stream budget") for v in found)
    assert any("sum to" in v for v in found)

    folder = solve(load_scenario(ROOT / "tests" / "fixtures" / "tiny.yaml")).write(tmp_path / "again")

    def stop_for_a_month(rows):
        for row in rows:
            if (row["intervention"], row["period"]) in {("central", "2021-08"), ("mentoring", "2021-05")}:
                row.update(running="0", scale="0.0", total_cost="0.0")

    _rewrite(folder / "allocation.csv", stop_for_a_month)
    found = " | ".join(check_folder(folder))
    assert "central capability floor" in found
    assert "notice: mentoring closes from 2021-05" in found  # three months' notice, due before the plan starts
    assert "no re-opening" in found
    assert "exit cost: mentoring in 2021-04" in found

    folder = solve(load_scenario(ROOT / "tests" / "fixtures" / "tiny.yaml")).write(tmp_path / "dip")

    def dip_and_recover(rows):  # a two-month halving within a year: no contract allows it
        for row in rows:
            if row["intervention"] == "mentoring" and row["period"] in ("2021-10", "2021-11"):
                row.update(scale=str(float(row["scale"]) / 2))

    _rewrite(folder / "allocation.csv", dip_and_recover)
    assert any(v.startswith("yearly scale: mentoring") for v in check_folder(folder))


CHECKER_SETTINGS = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)


def test_generated_scenarios_pass_checker(tmp_path_factory):
    checked = []

    @CHECKER_SETTINGS
    @given(sc=scenarios())
    def plan_passes(sc):
        result = solve(sc, shadow_prices=False)
        event(result.status.value)
        assert result.status in (Status.OPTIMAL, Status.INFEASIBLE)
        folder = result.write(tmp_path_factory.mktemp("gen"))
        if result.status == Status.OPTIMAL:
            assert check_folder(folder) == []
            checked.append(sc)
        else:
            assert result.summary["explanation"]["text"]

    plan_passes()
    # the checker reads plans: most drawn scenarios must have one, or this test checks nothing
    assert len(checked) >= CHECKER_SETTINGS.max_examples // 2, f"only {len(checked)} drawn scenarios had a plan"
