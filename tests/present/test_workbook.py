"""allocations.xlsx as finance reads, filters and prints it: formats, titles, totals that follow a filter, links,
no stream overspent, infeasible explained, the cliff-edge plan of record, A4 pages with their headers held.

Most of it is built from real solves of shipped scenarios (no papermill: `vru batch` makes the same call); the
cliff-edge plan from a small results folder written here. Each is read back with openpyxl.
"""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook

from vru_model.analysis.solve import solve
from vru_model.present.workbook import (
    HEADER_LIMIT,
    LINE_HEIGHT,
    MONEY,
    ZIP_TIME,
    Entry,
    page_header,
    sheet_names,
    wrapped_lines,
    write_workbook,
)
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
    """Header, data rows and the row number of the table's total row (or of the row after a table without one)."""
    table = ws.tables[name]
    rows = [[c.value for c in row] for row in ws[table.autoFilter.ref]]
    return rows[0], rows[1:], ws[table.autoFilter.ref][-1][0].row + 1


def _subtotal(ws: object, cell: object) -> float:
    """What a SUBTOTAL(109, range) total row cell shows with no filter: the sum of its range."""
    found = re.fullmatch(r"=SUBTOTAL\(109,([A-Z]+\d+:[A-Z]+\d+)\)", str(cell.value))
    assert found, cell.value
    return sum(float(c.value or 0) for row in ws[found.group(1)] for c in row)


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
    assert _subtotal(ws, ws.cell(after, spent)) == pytest.approx(csv["vru_spend"].sum(), abs=0.01)
    assert ws.cell(after, spent).number_format == MONEY
    assert ws.print_title_rows == "$1:$1" and ws.freeze_panes == "A2"
    assert ws.tables["Allocation_baseline"].totalsRowCount == 1  # the table's own total row, outside its filter


def test_funding_sheet_is_one_table_with_titles_totals_and_no_stream_overspent(book: tuple[Path, object]) -> None:
    _, wb = book
    ws = wb["Funding"]
    assert list(ws.tables) == ["Funding"] and ws.freeze_panes == "A2"
    header, rows, after = _table(ws, "Funding")
    assert header == ["Scenario", "Outcome", "Probability", "Funding stream", "Financial year", "Available", "Spent",
                      "Unspent", "Stream id", "Outcome id", "Scenario id"]
    for name in ["baseline", "cut_25"]:
        sc = load_scenario(ROOT / "scenarios" / f"{name}.yaml")
        mine = [r for r in rows if r[-1] == name]
        assert mine and {r[0] for r in mine} == {sc.title}
        assert [r[3] for r in mine] == [sc.funding[r[8]].title or r[8] for r in mine]  # titles, ids beside them
        for _, _, _, stream, fy, available, spent, unspent, *_ in mine:
            if available is not None:
                assert spent <= available and unspent == pytest.approx(available - spent, abs=0.005), (stream, fy)
    assert ws.cell(after, 1).value == "Total"
    assert _subtotal(ws, ws.cell(after, 7)) == pytest.approx(sum(r[6] for r in rows))
    assert ws.cell(after - 1, 7).number_format == MONEY


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
    out = book[0]
    for k, name in enumerate(ids, 2):  # an absolute link, and the same path in words beside it
        path = (out / name / "report.html").resolve()
        assert ws.cell(k, report).hyperlink.target == path.as_uri()
        assert ws.cell(k, report + 1).value == str(path) and header[report] == "Report file"
    sheet_link = ws.cell(2, header.index("Sheet") + 1).hyperlink
    assert sheet_link.location == "'baseline'!A1"
    assert ws.cell(2, header.index("Core grant") + 1).number_format == MONEY
    share = header.index("Lowest commissioned share") + 1
    assert ws.cell(2, share).number_format == "0%" and 0 < ws.cell(2, share).value < 1
    assert "do not add up" in ws.cell(after + 1, 1).value
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


OUTCOMES = [("full", "continues in full", 0.5, 1.0), ("cut_25", "is cut by 25%", 0.3, 0.75), ("ends", "ends", 0.2, 0.0)]
MONTHS = [("2021-04", "2021/22"), ("2021-05", "2021/22"), ("2022-04", "2022/23"), ("2022-05", "2022/23")]
SERVICES = {"alpha": "Alpha mentoring & support for young people leaving custody", "beta": "Beta"}


def _rows(scale: float) -> list[dict[str, object]]:
    """Allocation rows for two services over four months, the second year's spend times SCALE."""
    out = []
    for k, service in enumerate(SERVICES):
        for period, fy in MONTHS:
            level = 1.0 if fy == "2021/22" else scale
            spend = round((1000.0 + 250 * k) * level, 2)
            out.append({"scenario": "late", "intervention": service, "period": period, "fy": fy,
                        "running": int(level > 0), "scale": level, "total_cost": spend, "vru_spend": spend,
                        "partner_spend": 0.0, "participants": 10 * level, "value": 3 * spend, "exit_cost": 0.0,
                        "startup_cost": 0.0})
    return out


def _folder(out: Path, name: str, *, cliff: bool, record: str | None) -> None:
    """A scenario's results as the batch leaves them; with CLIFF, the cliff-edge files too."""
    folder = out / name
    folder.mkdir(parents=True)
    (folder / "resolved.yaml").write_text(
        "interventions:\n" + "".join(f"  {k}:\n    title: '{t}'\n" for k, t in SERVICES.items())
        + "funding:\n  core:\n    title: Core grant\n")
    pd.DataFrame(_rows(1.0)).to_csv(folder / "allocation.csv", index=False)
    ledger = {fy: {"core_grant": 2500.0 * 2, "spent_by_stream": {"core": 4500.0},
                   "unspent_by_stream": {"core": 500.0}, "commissioned_share": 0.9} for fy in ("2021/22", "2022/23")}
    summary = {"scenario": name, "title": name, "status": "optimal", "objective": 1.0, "fy": ledger,
               "totals": {"value": 54000.0, "participants": 80.0, "services": 2, "services_closed": 0,
                          "exit_costs": 0.0}, "provenance": {"input_hash": "h"}}
    if record:
        summary["plan_of_record"] = record
    (folder / "summary.json").write_text(json.dumps(summary))
    if not cliff:
        return
    plans, funding = [], []
    for oid, _, p, scale in OUTCOMES:
        for r in _rows(scale):
            plans.append({**r, "outcome": oid, "probability": p})
            if r["vru_spend"]:
                funding.append({"scenario": name, "stream": "core", "intervention": r["intervention"],
                                "period": r["period"], "fy": r["fy"], "amount": r["vru_spend"], "outcome": oid,
                                "probability": p})
    pd.DataFrame(plans).to_csv(folder / "plan.csv", index=False)
    pd.DataFrame(funding).to_csv(folder / "plan_funding.csv", index=False)
    outcomes = [{"name": oid, "label": label, "probability": p, "grant": 5000.0 * scale, "objective": 1.0,
                 "value": 9000.0 * scale, "core_unspent": {"2021/22": 500.0, "2022/23": 500.0 * scale},
                 "underwriting_drawn": 0.0, "unfunded_liability": 0.0, "closures": [], "reductions": []}
                for oid, label, p, scale in OUTCOMES]
    (folder / "cliff_edge.json").write_text(json.dumps({
        "status": "optimal", "expected_value": 1.0, "outcomes": outcomes,
        "uncertainty": {"stream": "core", "fy": "2022/23", "confirmed_month": "2022-06"},
        "here_and_now": {"services": [], "notices": []}, "closed_in_every_outcome": [], "no_regret_core": [],
        "provenance": {"input_hash": "h"}}))


@pytest.fixture(scope="module")
def cliff_book(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    """late (cliff-edge plan of record), inferred (cliff files, no plan_of_record key), plain (plan_of_record
    'plan' beside cliff files), known (no cliff files) and missing (a cliff-edge plan of record not on file)."""
    out = tmp_path_factory.mktemp("cliff_book")
    _folder(out, "late", cliff=True, record="cliff_edge")
    _folder(out, "inferred", cliff=True, record=None)
    _folder(out, "plain", cliff=True, record="plan")
    _folder(out, "known", cliff=False, record=None)
    _folder(out, "missing", cliff=False, record="cliff_edge")
    names = ["late", "inferred", "plain", "known", "missing"]
    path = write_workbook(out, [Entry(n, f"Scenario {n}", "ok") for n in names])
    return out, load_workbook(path)


def test_a_cliff_edge_sheet_holds_every_outcome_of_plan_csv(cliff_book: tuple[Path, object]) -> None:
    out, wb = cliff_book
    ws = wb["late"]
    header, rows, total = _table(ws, "Allocation_late")
    assert header[:3] == ["Outcome", "Probability", "Service"] and header[-1] == "Outcome id"
    plan = pd.read_csv(out / "late" / "plan.csv")
    assert len(rows) == len(plan)
    words = {"full": "The grant continues in full", "cut_25": "The grant is cut by 25%", "ends": "The grant ends"}
    assert set(_col(header, rows, "Outcome")) == set(words.values())
    spent = header.index("Spent by the VRU")
    for oid, want in plan.groupby("outcome")["vru_spend"].sum().items():
        mine = [r for r in rows if r[-1] == oid]
        assert {r[0] for r in mine} == {words[oid]}
        assert sum(r[spent] for r in mine) == pytest.approx(want)
    assert ws.cell(2, 2).number_format == "0%" and ws.cell(2, 2).value == 0.5
    assert _subtotal(ws, ws.cell(total, spent + 1)) == pytest.approx(plan["vru_spend"].sum())
    note = next(c for c in ws["A"][total:] if c.value)
    assert "Filter on Outcome" in note.value and note.alignment.wrap_text  # wrapped across the printed columns
    assert f"A{note.row}:N{note.row}" in {str(r) for r in ws.merged_cells.ranges}
    assert ws.row_dimensions[note.row].height >= 2 * LINE_HEIGHT
    assert len(_table(wb["inferred"], "Allocation_inferred")[0]) == len(header)  # no key: cliff files decide
    missing = " ".join(str(c.value) for c in wb["missing"]["A"] if c.value)
    assert "cliff-edge plan is the plan to act on but is not in these results" in missing
    for name in ["plain", "known", "missing"]:  # the plan made with the grant known
        h, r, _ = _table(wb[name], f"Allocation_{name}")
        assert h[0] == "Service" and "Outcome" not in h and len(r) == len(pd.read_csv(out / name / "allocation.csv"))


def test_services_by_year_adds_up_to_each_plan_of_record(cliff_book: tuple[Path, object]) -> None:
    out, wb = cliff_book
    ws = wb["Services by year"]
    assert wb.sheetnames[:3] == ["Summary", "Funding", "Services by year"]
    header, rows, total = _table(ws, "Services_by_year")
    assert header[:5] == ["Scenario", "Outcome", "Probability", "Service", "Financial year"]
    spent, level = header.index("Spent by the VRU"), header.index("Average service level")
    for name, file in [("late", "plan.csv"), ("known", "allocation.csv"), ("plain", "allocation.csv")]:
        csv = pd.read_csv(out / name / file)
        mine = [r for r in rows if r[-1] == name]
        keys = ["outcome"] if "outcome" in csv else []
        assert len(mine) == len(csv.groupby([*keys, "intervention", "fy"]))
        assert sum(r[spent] for r in mine) == pytest.approx(csv["vru_spend"].sum())
        for oid, want in (csv.groupby("outcome")["vru_spend"].sum().items() if keys else []):
            assert sum(r[spent] for r in mine if r[-2] == oid) == pytest.approx(want)
    ends = [r for r in rows if r[-1] == "late" and r[-2] == "ends" and r[4] == "2022/23"]
    assert {r[level] for r in ends} == {0.0} and {r[header.index("Months running")] for r in ends} == {0}
    assert _subtotal(ws, ws.cell(total, spent + 1)) == pytest.approx(sum(r[spent] for r in rows))


def test_cliff_edge_funding_is_per_outcome_in_the_one_funding_table(cliff_book: tuple[Path, object]) -> None:
    _, wb = cliff_book
    _, rows, _ = _table(wb["Funding"], "Funding")
    late = [r for r in rows if r[-1] == "late"]
    assert {r[1] for r in late} == {"The grant continues in full", "The grant is cut by 25%", "The grant ends"}
    year = {(r[-2], r[4]): r[5:8] for r in late}
    assert year[("full", "2022/23")] == [5000.0, 4500.0, 500.0]
    assert year[("cut_25", "2022/23")] == [3750.0, 3375.0, 375.0]
    assert year[("ends", "2022/23")] == [0.0, 0.0, 0.0]  # the grant that ends is on the sheet at £0
    assert {r[1] for r in rows if r[-1] == "known"} == {None}


def test_every_sheet_prints_a4_landscape_to_the_width_with_its_header_held(
        book: tuple[Path, object], cliff_book: tuple[Path, object]) -> None:
    for _, wb in (book, cliff_book):
        for ws in wb:
            setup = ws.page_setup
            assert (int(setup.paperSize), setup.orientation) == (9, "landscape"), ws.title
            assert ws.sheet_properties.pageSetUpPr.fitToPage and (setup.fitToWidth, setup.fitToHeight) == (1, 0)
            assert ws.freeze_panes == "A2" and ws.print_title_rows == "$1:$1", ws.title
            header = [c.value for c in ws[1]]
            if ws.tables:  # the analysts' ids, in the last columns, stay off paper; every row prints
                ids = [k for k, h in enumerate(header) if h in ("Service id", "Stream id", "Outcome id", "Sheet",
                                                                "Scenario id")]
                assert ids == list(range(ids[0], len(header))), ws.title
                assert re.fullmatch(rf"'{re.escape(ws.title)}'!\$A\$1:\${chr(65 + ids[0] - 1)}\${ws.max_row}",
                                    ws.print_area), (ws.title, ws.print_area)


def test_every_table_with_money_totals_it_in_its_own_total_row(cliff_book: tuple[Path, object]) -> None:
    _, wb = cliff_book
    for ws in wb:
        for name in ws.tables:
            table = ws.tables[name]
            if name == "Scenarios":  # alternatives: no total
                assert not table.totalsRowCount
                continue
            assert table.totalsRowCount == 1, name
            header, rows, total = _table(ws, name)
            assert table.ref.endswith(str(total)) and total == len(rows) + 2
            formulas = [c for c in ws[total] if str(c.value).startswith("=")]
            assert ws.cell(total, 1).value == "Total" and formulas, name
            for cell in formulas:
                column = [r[cell.column - 1] for r in rows]
                assert _subtotal(ws, cell) == pytest.approx(sum(v or 0 for v in column)), (name, cell.coordinate)
            functions = {c.name: c.totalsRowFunction for c in table.tableColumns}
            assert functions[header[0]] is None and functions["Spent by the VRU" if "Spent by the VRU" in header
                                                            else "Spent"] == "sum"


def test_headers_and_notes_fit_their_columns(book: tuple[Path, object], cliff_book: tuple[Path, object]) -> None:
    """No heading cut short ('Social value, undi'): each word fits its column and the header row is tall enough
    for the heading wrapped; long text in a wrapping column gets the lines it needs."""
    for _, wb in (book, cliff_book):
        for ws in wb:
            for name in ws.tables:
                top = int(re.search(r"\d+", ws.tables[name].ref).group())
                for cell in ws[top]:
                    if cell.value is None:
                        continue
                    width = ws.column_dimensions[cell.column_letter].width
                    assert max(len(w) for w in cell.value.split()) + 2 <= width, (ws.title, cell.value, width)
                    assert cell.alignment.wrap_text
                    assert wrapped_lines(cell.value, width) * LINE_HEIGHT <= ws.row_dimensions[top].height
    ws = book[1]["Summary"]
    header = [c.value for c in ws[1]]
    note = header.index("Note") + 1
    width = ws.column_dimensions[ws.cell(1, note).column_letter].width
    for k in range(2, 5):
        text = ws.cell(k, note).value
        if text and len(text) > width:
            assert ws.cell(k, note).alignment.wrap_text
            assert ws.row_dimensions[k].height >= wrapped_lines(text, width) * LINE_HEIGHT


def test_the_same_inputs_give_the_same_bytes(cliff_book: tuple[Path, object]) -> None:
    out, _ = cliff_book
    entries = [Entry(n, f"Scenario {n}", "ok") for n in ["late", "known"]]
    first = write_workbook(out, entries).read_bytes()
    with zipfile.ZipFile(out / "allocations.xlsx") as z:
        assert {i.date_time for i in z.infolist()} == {ZIP_TIME}
        core = z.read("docProps/core.xml").decode()
    assert re.findall(r"<dcterms:(?:created|modified)[^>]*>([^<]*)<", core) == ["1980-01-01T00:00:00Z"] * 2
    assert write_workbook(out, entries).read_bytes() == first


def test_the_summary_row_gives_the_plan_of_record(cliff_book: tuple[Path, object]) -> None:
    """A cliff-edge plan's row: each outcome's figure weighted by its chance, its expected value net of costs."""
    _, wb = cliff_book
    ws = wb["Summary"]
    header, rows, _ = _table(ws, "Scenarios")
    row = dict(zip(header, rows[0], strict=True))
    assert row["Scenario id"] == "late" and row["Plan of record"].startswith("Cliff-edge plan: 3 grant outcomes")
    assert row["Social value, undiscounted"] == pytest.approx(0.5 * 9000 + 0.3 * 6750)
    assert row["Value net of costs, in today's money"] == 1.0  # cliff_edge.json's expected value
    known = dict(zip(header, rows[3], strict=True))
    assert known["Plan of record"] == "The plan" and known["Social value, undiscounted"] == 54000.0
