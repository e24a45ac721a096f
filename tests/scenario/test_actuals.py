"""Actuals files: read as finance writes them (CSV or XLSX, funding.csv's columns), every bad row located."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from vru_model import ScenarioError, load_scenario
from vru_model.scenario.actuals import read_actuals
from vru_model.scenario.load import with_actuals

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
HEADER = "scenario,stream,intervention,period,fy,amount\n"
GOOD = HEADER + "tiny,core,mentoring,2021-04,2021/22,5000\ntiny,core,central,2021-04,2021/22,2000\n"


@pytest.fixture
def tiny():
    return load_scenario(FIXTURES / "tiny.yaml")


def _file(tmp_path: Path, text: str, name: str = "actuals.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_plan_s_own_funding_csv_reads_back(tiny, tmp_path: Path) -> None:
    actuals = read_actuals(_file(tmp_path, GOOD), tiny)
    assert actuals.as_of == "2021-04"  # the file's latest month when as_of is not given
    assert actuals.amounts == {("core", "central", "2021-04"): 2000.0, ("core", "mentoring", "2021-04"): 5000.0}
    assert actuals.spent("mentoring", "2021-04") == 5000.0 and actuals.spent("mentoring", "2021-05") == 0.0


def test_xlsx_reads_the_actuals_sheet_or_the_first(tiny, tmp_path: Path) -> None:
    table = pd.read_csv(_file(tmp_path, GOOD))
    with pd.ExcelWriter(tmp_path / "book.xlsx") as book:
        pd.DataFrame({"notes": ["not this one"]}).to_excel(book, sheet_name="Notes", index=False)
        table.to_excel(book, sheet_name="Actuals", index=False)
    assert read_actuals(tmp_path / "book.xlsx", tiny, "2021-05").amounts[("core", "mentoring", "2021-04")] == 5000
    table.to_excel(tmp_path / "first.xlsx", index=False)
    assert read_actuals(tmp_path / "first.xlsx", tiny).as_of == "2021-04"


@pytest.mark.parametrize(("row", "where", "words"), [
    ("tiny,core,mentoring,2021-05,2021/22,\"3,000\"", "row 4, column amount",
     "'3,000' is text, not a number: write 3000"),
    ("tiny,core,nobody,2021-05,2021/22,10", "row 4, column intervention", "unknown service 'nobody'"),
    ("tiny,lottery,mentoring,2021-05,2021/22,10", "row 4, column stream", "unknown stream 'lottery'"),
    ("tiny,core,mentoring,2021-05,2021/22,-5", "row 4, column amount", "negative"),
    ("tiny,core,mentoring,2030-05,2030/31,10", "row 4, column period", "outside the plan's horizon"),
    ("tiny,core,mentoring,May 2021,2021/22,10", "row 4, column period", "not a month of the form YYYY-MM"),
    ("tiny,core,mentoring,2021-05,2022/23,10", "row 4, column fy", "not the financial year of 2021-05"),
    ("tiny,core,mentoring,2021-04,2021/22,10", "row 4", "given twice (also at row 2)"),
])
def test_a_bad_row_is_named_with_its_file_row_and_column(tiny, tmp_path: Path, row: str, where: str, words: str):
    path = _file(tmp_path, GOOD + row + "\n")
    with pytest.raises(ScenarioError) as caught:
        read_actuals(path, tiny)
    [problem] = caught.value.problems
    assert problem.file == str(path) and problem.key == where and words in problem.message


def test_a_period_after_as_of_and_a_missing_column_are_refused(tiny, tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="row 4, column period: 2021-05 is after the actuals' as-of month 2021-04"):
        read_actuals(_file(tmp_path, GOOD + "tiny,core,mentoring,2021-05,2021/22,10\n"), tiny, "2021-04")
    with pytest.raises(ScenarioError, match="header: missing column amount"):
        read_actuals(_file(tmp_path, "stream,intervention,period\ncore,mentoring,2021-04\n"), tiny)


def test_a_ring_fenced_stream_may_pay_only_its_services(small, write, tmp_path: Path) -> None:
    scenario = load_scenario(write("small", small))
    ring = next(k for k, s in scenario.funding.items() if s.kind == "ring_fenced")
    others = [i for i in scenario.interventions if i not in scenario.funding[ring].eligible]
    path = _file(tmp_path, f"stream,intervention,period,amount\n{ring},{others[0]},2021-04,10\n")
    with pytest.raises(ScenarioError, match=f"{ring} is ring-fenced and may not pay for {others[0]}"):
        read_actuals(path, scenario)


def test_a_scenario_names_its_actuals_relative_to_itself(tmp_path: Path) -> None:
    (tmp_path / "actuals").mkdir()
    _file(tmp_path / "actuals", GOOD, "2021-04.csv")
    text = (FIXTURES / "tiny.yaml").read_text() + "actuals: {file: actuals/2021-04.csv, as_of: 2021-05}\n"
    (tmp_path / "tiny_replan.yaml").write_text(text.replace("name: tiny", "name: tiny_replan"))
    scenario = load_scenario(tmp_path / "tiny_replan.yaml")
    assert scenario.actuals.as_of == "2021-05" and scenario.actuals.loaded.spent("central", "2021-04") == 2000
    assert Path(scenario.actuals.file).is_absolute()


def test_notice_served_after_as_of_is_the_plan_s_to_decide(tiny, tmp_path: Path) -> None:
    path = _file(tmp_path, GOOD)
    served = tiny.model_copy(update={"interventions": {**tiny.interventions, "mentoring": tiny.interventions[
        "mentoring"].model_copy(update={"notice_served": "2021-06"})}})
    with pytest.raises(ScenarioError, match=r"interventions\.mentoring\.notice_served: 2021-06 is after the actuals"):
        with_actuals(served, str(path), "2021-05")
