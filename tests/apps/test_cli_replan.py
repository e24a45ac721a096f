"""`vru replan`: the re-plan's files and words, and bad actuals stopped before anything is solved or written."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from vru_model.apps.cli import main

ROOT = Path(__file__).resolve().parents[2]
TINY = ROOT / "tests" / "fixtures" / "tiny.yaml"
GOOD = "stream,intervention,period,amount\n" + "".join(
    f"core,central,2021-0{m},2000\ncore,mentoring,2021-0{m},5000\n" for m in range(4, 10))


def _run(*args: str) -> object:
    return CliRunner().invoke(main, list(args))


def test_replan_writes_the_contract_and_says_where_the_year_stands(tmp_path: Path) -> None:
    (tmp_path / "actuals.csv").write_text(GOOD)
    result = _run("replan", str(TINY), "--actuals", str(tmp_path / "actuals.csv"), "--as-of", "2021-09",
                  "--out", str(tmp_path / "out"))
    assert result.exit_code == 0, result.output
    folder = tmp_path / "out" / "tiny_replan_2021_09"  # its own folder: never over the plain solve's
    assert {"resolved.yaml", "allocation.csv", "funding.csv", "summary.json", "variance.csv", "forecast.csv"} <= {
        p.name for p in folder.iterdir()}
    assert pd.read_csv(folder / "variance.csv").columns.tolist() == [
        "stream", "intervention", "period", "planned", "actual", "variance"]
    assert pd.read_csv(folder / "forecast.csv").columns.tolist() == [
        "fy", "stream", "actual_to_date", "planned_remaining", "forecast_outturn", "available", "unclaimed"]
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["as_of"] == "2021-09" and {"forecast", "variance_totals"} <= set(summary)
    assert "£6,000 is at risk of not being claimed" in result.output


def test_xlsx_actuals_give_the_same_re_plan(tmp_path: Path) -> None:
    (tmp_path / "actuals.csv").write_text(GOOD)
    pd.read_csv(tmp_path / "actuals.csv").to_excel(tmp_path / "actuals.xlsx", sheet_name="Actuals", index=False)
    for name in ("actuals.csv", "actuals.xlsx"):
        result = _run("replan", str(TINY), "--actuals", str(tmp_path / name), "--out", str(tmp_path / name[-4:]))
        assert result.exit_code == 0, result.output
    # no --as-of: the folder is named by the latest month in the file, as with it
    csv_plan, xlsx_plan = (tmp_path / d / "tiny_replan_2021_09" / "allocation.csv" for d in (".csv", "xlsx"))
    assert csv_plan.read_text() == xlsx_plan.read_text()


@pytest.mark.parametrize(("edit", "words"), [
    (lambda t: t.replace("2021-05,5000", "2021-05,\"3,000\""), "row 5, column amount: '3,000' is text"),
    (lambda t: t.replace("mentoring,2021-06", "mentors,2021-06"), "row 7, column intervention: unknown service"),
    (lambda t: t.replace("core,central,2021-07", "lottery,central,2021-07"), "row 8, column stream: unknown stream"),
    (lambda t: t.replace("2021-08,5000", "2021-08,-5000"), "row 11, column amount: -5000 is negative"),
    (lambda t: t + "core,mentoring,2021-04,1\n", "given twice"),
    (lambda t: t.replace("amount", "amt"), "header: missing column amount"),
    (lambda t: t + "core,mentoring,2021-10,1\n", "2021-10 is after the actuals' as-of month 2021-09"),
    (lambda t: t + "core,mentoring,2031-10,1\n", "outside the plan's horizon"),
])
def test_bad_actuals_exit_2_with_one_located_line_and_write_nothing(tmp_path: Path, edit, words: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(edit(GOOD))
    out = tmp_path / "out"
    result = _run("replan", str(TINY), "--actuals", str(path), "--as-of", "2021-09", "--out", str(out))
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and str(path) in lines[0] and words in lines[0], lines
    assert "Traceback" not in result.output and not out.exists()


def test_a_scenario_without_actuals_is_told_how_to_give_them(tmp_path: Path) -> None:
    result = _run("replan", str(TINY), "--out", str(tmp_path / "out"))
    assert result.exit_code == 2 and "give --actuals FILE" in result.output and not (tmp_path / "out").exists()


def test_actuals_that_overspend_a_year_are_an_answer_not_bad_input(tmp_path: Path) -> None:
    rows = "stream,intervention,period,amount\n" + "".join(
        f"core,central,{t},2000\ncore,mentoring,{t},10000\n"
        for t in ["2021-04", "2021-05", "2021-06", "2021-07", "2021-08", "2021-09", "2021-10", "2021-11",
                  "2021-12", "2022-01", "2022-02"])
    (tmp_path / "actuals.csv").write_text(rows)
    result = _run("replan", str(TINY), "--actuals", str(tmp_path / "actuals.csv"), "--out", str(tmp_path / "out"))
    assert result.exit_code == 1
    assert "is already above its £120k for the year" in result.output
