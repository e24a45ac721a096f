"""allocations.xlsx as finance reads it: formats, titles, totals, links, no stream overspent, infeasible explained.

The workbook is built from real solves of shipped scenarios (no papermill: `vru batch` makes the same call),
then read back with openpyxl.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook

from vru_model.analysis.solve import solve
from vru_model.present.workbook import HEADER_LIMIT, MONEY, Entry, page_header, sheet_names, write_workbook
from vru_model.scenario.load import load_scenario

ROOT = Path(__file__).resolve().parents[2]
SOLVED = ["baseline", "cut_25", "infeasible_example"]


@pytest.fixture(scope="module")
def book(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    out = tmp_path_factory.mktemp("workbook")
    for name in SOLVED:
        solve(load_scenario(ROOT / "scenarios" / f"{name}.yaml"), shadow_prices=False).write(out)
    entries = [Entry(n, load_scenario(ROOT / "scenarios" / f"{n}.yaml").title, "ok") for n in SOLVED]
    entries.append(Entry("broken_one", "A report that failed", "failed"))
    path = write_workbook(out, entries)
    return out, load_workbook(path)


def _table(ws: object, name: str) -> tuple[list[str], list[list[object]], int]:
    """Header, data rows and the row number after the table, for a named worksheet table."""
    ref = ws.tables[name].ref
    rows = [[c.value for c in row] for row in ws[ref]]
    return rows[0], rows[1:], ws[ref][-1][0].row + 1


def _col(header: list[str], rows: list[list[object]], title: str) -> list[object]:
    k = header.index(title)
    return [r[k] for r in rows]


def test_scenario_sheet_has_formats_titles_and_a_totals_row(book: tuple[Path, object]) -> None:
    out, wb = book
    ws = wb["baseline"]
    header, rows, after = _table(ws, "Allocation_baseline")
    assert header[:2] == ["Service", "Month"] and "Spent by the VRU" in header and header[-1] == "Service id"
    csv = pd.read_csv(out / "baseline" / "allocation.csv")
    assert len(rows) == len(csv)
    titles = {item.title for item in load_scenario(ROOT / "scenarios" / "baseline.yaml").interventions.values()}
    assert set(_col(header, rows, "Service")) == titles  # titles, not ids, in the first column
    spent = header.index("Spent by the VRU") + 1
    assert ws.cell(2, spent).number_format == MONEY
    assert ws.cell(2, header.index("Service level") + 1).number_format == "0%"
    assert ws.cell(2, header.index("Participants") + 1).number_format == "#,##0"
    assert ws.cell(2, 2).is_date and ws.cell(2, 2).number_format == "mmm yyyy"
    assert ws.cell(after, 1).value == "Total" and ws.cell(after, 1).font.b
    assert ws.cell(after, spent).value == pytest.approx(csv["vru_spend"].sum(), abs=0.01)
    assert ws.cell(after, spent).number_format == MONEY
    assert ws.print_title_rows == "$1:$1" and ws.freeze_panes == "A2"


def test_funding_sheet_says_spent_with_titles_totals_and_no_stream_overspent(book: tuple[Path, object]) -> None:
    _, wb = book
    ws = wb["Funding"]
    for name in ["baseline", "cut_25"]:
        header, rows, after = _table(ws, f"Funding_{name}")
        assert header == ["Funding stream", "Financial year", "Available", "Spent", "Unspent", "Stream id"]
        sc = load_scenario(ROOT / "scenarios" / f"{name}.yaml")
        assert [r[0] for r in rows] == [sc.funding[r[5]].title or r[5] for r in rows]  # titles, ids beside them
        for stream, fy, available, spent, unspent, _ in rows:
            if available is not None:
                assert spent <= available and unspent == pytest.approx(available - spent, abs=0.005), (stream, fy)
        assert ws.cell(after, 1).value == "Total"
        assert ws.cell(after, 4).value == pytest.approx(sum(r[3] for r in rows))
        assert ws.cell(after - 1, 4).number_format == MONEY


@pytest.mark.parametrize("name", ["baseline", "cut_25"])
def test_no_stream_spends_a_penny_more_than_it_has(book: tuple[Path, object], name: str) -> None:
    """The same ledger in funding.csv and summary.json: every stream's yearly sum within its amount."""
    out, _ = book
    sc = load_scenario(ROOT / "scenarios" / f"{name}.yaml")
    funding = pd.read_csv(out / name / "funding.csv", dtype={"fy": str})
    summary = json.loads((out / name / "summary.json").read_text())
    for (stream, fy), amount in funding.groupby(["stream", "fy"])["amount"].sum().items():
        kind = sc.funding[stream].kind
        if kind == "underwriting":
            continue
        have = sc.core_grant(fy) if kind == "core_grant" else sc.funding[stream].amounts.get(fy, 0.0)
        assert round(amount * 100) <= round(have * 100), (stream, fy, amount, have)
        assert summary["fy"][fy]["spent_by_stream"][stream] == pytest.approx(amount, abs=0.001)
        assert summary["fy"][fy]["spent_by_stream"][stream] <= have
    assert all(round(a * 100) == a * 100 or abs(round(a * 100) - a * 100) < 1e-6 for a in funding["amount"])


def test_summary_links_reports_and_explains_infeasible(book: tuple[Path, object]) -> None:
    _, wb = book
    ws = wb["Summary"]
    header, rows, after = _table(ws, "Scenarios")
    ids = _col(header, rows, "Scenario id")
    assert ids == [*SOLVED, "broken_one"]
    report = header.index("Report") + 1
    for k, name in enumerate(ids, 2):
        assert ws.cell(k, report).hyperlink.target == f"{name}/report.html"
    sheet_link = ws.cell(2, header.index("Sheet") + 1).hyperlink
    assert sheet_link.location == "'baseline'!A1"
    assert ws.cell(2, header.index("Core grant") + 1).number_format == MONEY
    share = header.index("Lowest commissioned share") + 1
    assert ws.cell(2, share).number_format == "0%" and 0 < ws.cell(2, share).value < 1
    assert "do not add up" in ws.cell(after, 1).value
    plan = _col(header, rows, "Plan")
    assert plan[0] == "Plan found" and "optimal" not in plan
    infeasible = wb["infeasible_example"]
    text = " ".join(str(c.value) for row in infeasible.iter_rows() for c in row if c.value)
    assert "No possible plan" in text and "committed" in text
    assert not infeasible.tables
    assert wb["broken_one"]["A2"].value == "The report failed."


def test_print_headers_fit_excels_limit() -> None:
    long = "A & B " * 100
    head = page_header(long)
    assert len(head) <= HEADER_LIMIT and "&&" in head
    assert not head.rstrip("…").endswith("&") or head.rstrip("…").endswith("&&")
    names = sheet_names(["summary", "x" * 40, "X" * 35])
    assert names == {"summary": "summary~2", "x" * 40: "x" * 31, "X" * 35: "X" * 29 + "~2"}
