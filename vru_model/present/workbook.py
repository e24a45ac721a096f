"""Finance's spreadsheet, `allocations.xlsx`: Summary, Funding and Services by year sheets and one per scenario.

Built for someone who will check it, filter it and print it for a meeting: real numbers with Excel number
formats (money `£#,##0`, shares `0%`, counts whole), one Excel table per sheet (filterable, named, its header
frozen and repeated on every printed page) with a total row of `SUBTOTAL(109, ...)` formulas that follow the
filter, services and streams by their titles (ids in the last columns for analysts), A4 landscape pages fitted
to the width. Each scenario shows its plan of record: for a grant that is not yet known, every outcome of the
cliff-edge plan (`plan.csv`) with an Outcome column. Report links are absolute `file:` links with the path in
words beside them, so a copy sent on still says where the report is. The same inputs give the same bytes.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from vru_model.core.errors import ScenarioError
from vru_model.core.files import atomic_write_bytes
from vru_model.present.summaries import (
    OBJECTIVE,
    cliff_headline,
    cliff_text,
    headline,
    outcome_name,
    read_cliff_edge,
    record_headline,
    status_label,
)
from vru_model.scenario.load import read_yaml

MONEY = "£#,##0"
SHARE = "0%"
COUNT = "#,##0"
MONTH = "mmm yyyy"
HEADER_LIMIT = 255  # characters Excel allows in a page header, format codes included
SERVICES_BY_YEAR = "Services by year"
RESERVED = ("summary", "funding", SERVICES_BY_YEAR.lower())
A4 = 9  # Excel's paperSize code for A4
LINE_HEIGHT = 15.0  # points per line of 11-point text
TALLEST = 409.0  # the tallest row Excel allows, in points
ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # the one date in the file (zip entries, created, modified): the same bytes each time


@dataclass(frozen=True)
class Column:
    """One spreadsheet column: its heading, Excel number format, whether the total row adds it up, its width
    (in characters), whether long text wraps and whether it prints."""

    title: str
    fmt: str | None = None
    total: bool = False
    width: float = 14
    wrap: bool = False
    printed: bool = True  # ids for analysts, in the last columns, stay off the printed page

    @property
    def fitted(self) -> float:
        """Wide enough for the heading's longest word; a longer heading wraps onto more lines."""
        return max(self.width, max(len(w) for w in self.title.split()) + 2)


@dataclass(frozen=True)
class Entry:
    """One scenario as the workbook needs it: its name (folder), title and how its report went."""

    name: str
    title: str
    state: str  # ok | failed | timed_out


@dataclass(frozen=True)
class Plan:
    """A scenario's plan of record as the workbook shows it: allocation rows, plus outcome and probability for
    the cliff-edge plan, whose outcomes are named in words (empty for a plan made with every grant known)."""

    rows: pd.DataFrame
    outcomes: dict[str, str]
    cliff: dict[str, Any] | None  # cliff_edge.json, when it matches the scenario's results
    missing_cliff: bool  # the cliff-edge plan is the plan of record but is not in the results


def sheet_names(names: Sequence[str]) -> dict[str, str]:
    """Excel sheet names: at most 31 characters, unique (case-insensitively), never one of the workbook's own."""
    used = set(RESERVED)
    out = {}
    for name in names:
        base = name[:31]
        candidate, k = base, 2
        while candidate.lower() in used:
            suffix = f"~{k}"
            candidate, k = base[: 31 - len(suffix)] + suffix, k + 1
        used.add(candidate.lower())
        out[name] = candidate
    return out


def page_header(title: str) -> str:
    """A printed page header: '&' doubled (it starts a format code in Excel) and cut to Excel's limit."""
    text = title.replace("&", "&&")
    if len(text) <= HEADER_LIMIT:
        return text
    cut = text[: HEADER_LIMIT - 1]
    if (len(cut) - len(cut.rstrip("&"))) % 2:  # never leave half of a doubled '&'
        cut = cut[:-1]
    return cut + "…"


def wrapped_lines(text: str, width: float) -> int:
    """How many lines TEXT takes wrapped at word breaks in a column WIDTH characters wide."""
    per_line, lines, used = max(int(width) - 1, 1), 1, 0
    for word in str(text).split():
        need = len(word) if used == 0 else used + 1 + len(word)
        if need <= per_line:
            used = need
        else:
            lines += 1 if used else 0
            lines += (len(word) - 1) // per_line
            used = len(word) % per_line or per_line
    return lines


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _titles(folder: Path) -> tuple[dict[str, str], dict[str, str]]:
    """Service and stream titles from the scenario's resolved.yaml (ids where it has none)."""
    try:
        data = read_yaml(folder / "resolved.yaml")
    except ScenarioError:
        data = {}
    services = {k: str((v or {}).get("title") or k) for k, v in (data.get("interventions") or {}).items()}
    streams = {k: str((v or {}).get("title") or k) for k, v in (data.get("funding") or {}).items()}
    streams.setdefault("unfunded_liability", "Unfunded liability (no stream covers it)")
    return services, streams


class _Sheet:
    """One worksheet printed A4 landscape, fitted to the width, with its table's header frozen and repeated."""

    def __init__(self, ws: Any, print_title: str):
        self.ws = ws
        self.row = 1
        self.printed = 0  # columns that print, from A; 0 for all of them
        ws.oddHeader.center.text = page_header(print_title)
        ws.oddFooter.center.text = "Page &P of &N"
        ws.page_setup.paperSize = A4
        ws.page_setup.orientation = "landscape"
        ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
        ws.sheet_properties.pageSetUpPr.fitToPage = True
        ws.page_margins.left = ws.page_margins.right = 0.3
        ws.print_options.gridLines = False

    def finish(self) -> None:
        """Print every row and the columns that print (the analysts' ids, in the last columns, do not)."""
        from openpyxl.utils import get_column_letter

        if self.printed:
            self.ws.print_area = f"A1:{get_column_letter(self.printed)}{self.ws.max_row}"

    def line(self, text: str, *, bold: bool = False, size: float | None = None, across: int = 0) -> None:
        """A line of text in column A; with ACROSS, wrapped within the first ACROSS columns (merged), its row as
        tall as the text needs, so a long note prints whole."""
        from openpyxl.styles import Alignment, Font
        from openpyxl.utils import get_column_letter

        cell = self.ws.cell(self.row, 1, text)
        cell.data_type = "s"  # text from scenario files is never a formula
        cell.font = Font(bold=bold, size=size)
        cell.alignment = Alignment(wrap_text=bool(across), vertical="top")
        if across:
            width = sum(self.ws.column_dimensions[get_column_letter(c)].width or 13 for c in range(1, across + 1))
            if across > 1:
                self.ws.merge_cells(start_row=self.row, start_column=1, end_row=self.row, end_column=across)
            lines = wrapped_lines(text, width * 11 / (size or 11))
            self.ws.row_dimensions[self.row].height = min(LINE_HEIGHT * lines * (size or 11) / 11, TALLEST)
        self.row += 1

    def hold(self, row: int) -> None:
        """Freeze the rows down to ROW and repeat them at the top of every printed page."""
        self.ws.print_title_rows = f"1:{row}"
        self.ws.freeze_panes = f"A{row + 1}"

    def table(self, name: str, columns: Sequence[Column], rows: Sequence[Sequence[Any]], *,
              totals: bool = True) -> int:
        """An Excel table: a wrapped header row, the rows, then (with TOTALS) the table's own total row of
        SUBTOTAL formulas, so a filter changes the totals; returns the header's row number."""
        from openpyxl.styles import Alignment, Font
        from openpyxl.utils import get_column_letter

        ws, top = self.ws, self.row
        for c, col in enumerate(columns, 1):
            cell = ws.cell(top, c, col.title)
            cell.font = Font(bold=True)
            cell.alignment = Alignment(wrap_text=True, vertical="top")
            ws.column_dimensions[get_column_letter(c)].width = col.fitted
        ws.row_dimensions[top].height = LINE_HEIGHT * max(wrapped_lines(col.title, col.fitted) for col in columns)
        wraps = [(c, col) for c, col in enumerate(columns) if col.wrap]
        for r, values in enumerate(rows, top + 1):
            for c, (col, value) in enumerate(zip(columns, values, strict=True), 1):
                cell = self._put(r, c, value, col.fmt)
                if col.wrap:
                    cell.alignment = Alignment(wrap_text=True, vertical="top")
            lines = max((wrapped_lines(values[c], col.fitted) for c, col in wraps if values[c]), default=1)
            if lines > 1:
                ws.row_dimensions[r].height = min(LINE_HEIGHT * lines, TALLEST)
        last = top + len(rows)
        self.row = last + 1
        self.printed = max(c for c, col in enumerate(columns, 1) if col.printed)
        if rows:
            if totals:
                self._total_row(top, last, columns)
            self._add_table(name, columns, top, last, totals)
        if top == 1:
            self.hold(top)
        return top

    def _total_row(self, top: int, last: int, columns: Sequence[Column]) -> None:
        from openpyxl.styles import Border, Font, Side
        from openpyxl.utils import get_column_letter

        for c, col in enumerate(columns, 1):
            letter = get_column_letter(c)
            value = "Total" if c == 1 else f"=SUBTOTAL(109,{letter}{top + 1}:{letter}{last})" if col.total else None
            cell = self.ws.cell(self.row, c, value)
            if col.fmt and col.total:
                cell.number_format = col.fmt
            cell.font = Font(bold=True)
            cell.border = Border(top=Side(style="thin"), bottom=Side(style="double"))
        self.row += 1

    def _add_table(self, name: str, columns: Sequence[Column], top: int, last: int, totals: bool) -> None:
        from openpyxl.utils import get_column_letter
        from openpyxl.worksheet.filters import AutoFilter
        from openpyxl.worksheet.table import Table, TableColumn, TableStyleInfo

        right = get_column_letter(len(columns))
        table = Table(displayName=name, ref=f"A{top}:{right}{last + int(totals)}",
                      totalsRowCount=1 if totals else None, autoFilter=AutoFilter(ref=f"A{top}:{right}{last}"))
        for c, col in enumerate(columns, 1):
            table.tableColumns.append(TableColumn(
                id=c, name=col.title, totalsRowLabel="Total" if totals and c == 1 else None,
                totalsRowFunction="sum" if totals and col.total and c > 1 else None))
        table.tableStyleInfo = TableStyleInfo(name="TableStyleLight9", showRowStripes=True)
        self.ws.add_table(table)

    def _put(self, r: int, c: int, value: Any, fmt: str | None) -> Any:
        cell = self.ws.cell(r, c, None if isinstance(value, float) and value != value else value)
        if isinstance(value, str):
            cell.data_type = "s"
        elif fmt and value is not None:
            cell.number_format = fmt
        return cell


OUTCOME = Column("Outcome", width=24)
PROBABILITY = Column("Probability", SHARE, width=11)
OUTCOME_ID = Column("Outcome id", width=12, printed=False)
SCENARIO_ID = Column("Scenario id", width=20, printed=False)
ALLOCATION = [
    Column("Service", width=44), Column("Month", MONTH, width=10), Column("Financial year", width=10),
    Column("Running", width=9), Column("Service level", SHARE, width=9),
    Column("Cost at this level", MONEY, True), Column("Spent by the VRU", MONEY, True),
    Column("Spent by partners", MONEY, True), Column("Participants", COUNT, True, width=12),
    Column("Social value", MONEY, True), Column("Exit cost", MONEY, True, width=11),
    Column("Start-up cost", MONEY, True, width=11), Column("Service id", width=24, printed=False),
]
FUNDING = [
    Column("Scenario", width=30, wrap=True), OUTCOME, PROBABILITY, Column("Funding stream", width=36, wrap=True),
    Column("Financial year", width=10), Column("Available", MONEY, True), Column("Spent", MONEY, True),
    Column("Unspent", MONEY, True), Column("Stream id", width=20, printed=False), OUTCOME_ID, SCENARIO_ID,
]
BY_YEAR = [
    Column("Scenario", width=30, wrap=True), OUTCOME, PROBABILITY, Column("Service", width=44, wrap=True),
    Column("Financial year", width=10), Column("Months running", COUNT, width=9),
    Column("Average service level", SHARE, width=10), Column("Spent by the VRU", MONEY, True),
    Column("Spent by partners", MONEY, True), Column("Participants", COUNT, True, width=12),
    Column("Social value", MONEY, True), Column("Service id", width=24, printed=False), OUTCOME_ID,
    SCENARIO_ID,
]
SUMMARY = [
    Column("Scenario", width=22, wrap=True), Column("Report", width=9, wrap=True),
    Column("Report file", width=20, wrap=True), Column("Plan", width=11, wrap=True),
    Column("Plan of record", width=15, wrap=True), Column("Core grant", MONEY, width=12),
    Column("Social value, undiscounted", MONEY, width=12),
    Column(f"Value net of costs, {OBJECTIVE}", MONEY, width=12), Column("Participants", COUNT, width=12),
    Column("Services closing", COUNT, width=9), Column("Exit costs", MONEY, width=11),
    Column("Lowest commissioned share", SHARE, width=13), Column("Unspent core grant", MONEY, width=11),
    Column("Note", width=40, wrap=True), Column("Sheet", width=14, printed=False),
    Column("Scenario id", width=16, printed=False),
]


def read_plan(folder: Path, summary: dict[str, Any]) -> Plan:
    """The plan of record: the cliff-edge plan (plan.csv, every outcome) where summary.json says so, or, from
    results without that key, where cliff_edge.json and plan.csv are there; else allocation.csv."""
    cliff = read_cliff_edge(folder, summary)
    on_file = cliff is not None and (folder / "plan.csv").is_file()
    wanted = summary.get("plan_of_record", "cliff_edge" if on_file else "plan") == "cliff_edge"
    dtypes = {"period": str, "fy": str, "intervention": str, "outcome": str}
    if wanted and on_file and cliff is not None:
        words = {o["name"]: _sentence_case(outcome_name(o)) for o in cliff.get("outcomes") or []}
        return Plan(pd.read_csv(folder / "plan.csv", dtype=dtypes), words, cliff, False)
    return Plan(pd.read_csv(folder / "allocation.csv", dtype=dtypes), {}, cliff, wanted)


def _sentence_case(text: str) -> str:
    return text[:1].upper() + text[1:]


def _outcome_cells(plan: Plan, r: Any) -> tuple[list[Any], list[Any]]:
    """The Outcome and Probability cells in front of a row and the Outcome id at its end (blank for a plan made
    with every grant known)."""
    if not plan.outcomes:
        return [None, None], [None]
    return [plan.outcomes.get(r.outcome, r.outcome), float(r.probability)], [r.outcome]


def _allocation_rows(plan: Plan, services: dict[str, str]) -> list[list[Any]]:
    rows = []
    for r in plan.rows.itertuples(index=False):
        year, month = (int(x) for x in r.period.split("-"))
        row = [services.get(r.intervention, r.intervention), date(year, month, 1), r.fy,
               "Yes" if r.running else "No", float(r.scale), float(r.total_cost), float(r.vru_spend),
               float(r.partner_spend), float(r.participants), float(r.value),
               float(getattr(r, "exit_cost", 0.0)), float(getattr(r, "startup_cost", 0.0)), r.intervention]
        front, back = _outcome_cells(plan, r)
        rows.append([*front, *row, *back] if plan.outcomes else row)
    return rows


def _year_rows(e: Entry, plan: Plan, services: dict[str, str]) -> list[list[Any]]:
    """Each service's financial years (per outcome of a cliff-edge plan): months running, average level, money."""
    keys = ["outcome", "probability"] if plan.outcomes else []
    g = plan.rows.groupby([*keys, "intervention", "fy"], sort=False).agg(
        running=("running", "sum"), scale=("scale", "mean"), vru=("vru_spend", "sum"),
        partners=("partner_spend", "sum"), participants=("participants", "sum"), value=("value", "sum"),
    ).reset_index()
    rows = []
    for r in g.itertuples(index=False):
        front, back = _outcome_cells(plan, r)
        rows.append([e.title, *front, services.get(r.intervention, r.intervention), r.fy, int(r.running),
                     float(r.scale), round(float(r.vru), 2), round(float(r.partners), 2),
                     float(r.participants), round(float(r.value), 2), r.intervention, *back, e.name])
    return rows


def _funding_rows(summary: dict[str, Any], streams: dict[str, str]) -> list[list[Any]]:
    """Spend by stream and financial year, from summary.json (the same rounded ledger as funding.csv)."""
    rows = []
    for fy, row in (summary.get("fy") or {}).items():
        spent, unspent = row.get("spent_by_stream", {}), row.get("unspent_by_stream", {})
        for s in dict.fromkeys([*unspent, *spent]):
            used = float(spent.get(s, 0.0))
            if s in unspent:
                left = float(unspent[s])
                rows.append([streams.get(s, s), fy, round(used + left, 2), used, left, s])
            elif used > 0:  # underwriting and liability have no yearly amount
                rows.append([streams.get(s, s), fy, None, used, None, s])
    return [r for r in rows if r[2] or r[3]]


def _cliff_funding_rows(folder: Path, summary: dict[str, Any], plan: Plan,
                        streams: dict[str, str]) -> list[tuple[str, list[Any]]]:
    """Spend by stream and financial year in each outcome of the cliff-edge plan (plan_funding.csv). The
    uncertain grant's amount is what the outcome spent plus what it left (cliff_edge.json); every other stream
    has the amount summary.json gives it."""
    cliff = plan.cliff or {}
    core = (cliff.get("uncertainty") or {}).get("stream")
    f = pd.read_csv(folder / "plan_funding.csv", dtype={"fy": str, "outcome": str, "stream": str})
    spent = f.groupby(["outcome", "fy", "stream"], sort=False)["amount"].sum().round(2).to_dict()
    out = []
    for o in cliff.get("outcomes") or []:
        for fy, row in (summary.get("fy") or {}).items():
            given, unspent = row.get("spent_by_stream", {}), row.get("unspent_by_stream", {})
            mine = [s for (name, year, s) in spent if name == o["name"] and year == fy]
            for s in dict.fromkeys([*unspent, *given, *mine]):
                used = float(spent.get((o["name"], fy, s), 0.0))
                if s == core:
                    left: float | None = round(float((o.get("core_unspent") or {}).get(fy, 0.0)), 2)
                elif s in unspent:
                    left = round(float(given.get(s, 0.0)) + float(unspent[s]) - used, 2)
                else:  # underwriting and liability have no yearly amount
                    left = None
                available = None if left is None else round(used + left, 2)
                if available or used or s == core:  # the uncertain grant's every year, £0 where it ends
                    out.append((o["name"], [streams.get(s, s), fy, available, used, left, s]))
    return out


def _funding_table(e: Entry, folder: Path, summary: dict[str, Any], plan: Plan,
                   streams: dict[str, str]) -> list[list[Any]]:
    """The scenario's rows of the one Funding table: Scenario, Outcome, Probability, then the ledger."""
    if not plan.outcomes or not (folder / "plan_funding.csv").is_file():
        return [[e.title, None, None, *r[:5], r[5], None, e.name] for r in _funding_rows(summary, streams)]
    chance = {o["name"]: float(o.get("probability", 0.0)) for o in (plan.cliff or {}).get("outcomes") or []}
    return [[e.title, plan.outcomes.get(name, name), chance.get(name), *r[:5], r[5], name, e.name]
            for name, r in _cliff_funding_rows(folder, summary, plan, streams)]


def _table_name(prefix: str, name: str) -> str:
    return f"{prefix}_{name}"[:250]


def _no_plan_sheet(sheet: _Sheet, e: Entry, summary: dict[str, Any] | None, h: dict[str, Any]) -> str:
    """A scenario without a plan: its explanation in words on its sheet; returns the Summary's note."""
    why = ((summary or {}).get("explanation") or {})
    first = status_label(h["status"]) if h else f"The report {e.state.replace('_', ' ')}"
    sheet.ws.column_dimensions["A"].width = 120
    sheet.line(f"{e.title}: no plan", bold=True, size=13, across=1)
    sheet.hold(1)
    sheet.line(f"{first}.", across=1)
    for sentence in why.get("sentences") or ([why["text"]] if why.get("text") else []):
        sheet.line(sentence, across=1)
    if not why:
        sheet.line("See the scenario's report for what went wrong.", across=1)
    lead = (why.get("sentences") or [why.get("text") or ""])[0]
    return f"No plan: {first}. {lead}{' Its sheet gives the whole explanation.' if lead else ''}".strip()


def _plan_sheet(sheet: _Sheet, e: Entry, plan: Plan, services: dict[str, str]) -> None:
    """The plan of record, every service and month (and every outcome of a cliff-edge plan)."""
    columns = [OUTCOME, PROBABILITY, *ALLOCATION, OUTCOME_ID] if plan.outcomes else ALLOCATION
    sheet.table(_table_name("Allocation", e.name), columns, _allocation_rows(plan, services))
    sheet.row += 1
    if plan.outcomes:
        ways = "; ".join(outcome_name(o) for o in (plan.cliff or {}).get("outcomes") or [])
        sheet.line(f"The cliff-edge plan: one whole plan for each way the grant may go ({ways}). Filter on Outcome "
                   "to read one plan; with every outcome shown, the total row adds up alternatives.",
                   across=sheet.printed)
    elif plan.missing_cliff:
        sheet.line("The cliff-edge plan is the plan to act on but is not in these results: this sheet holds the "
                   "plan made as if the grant were known.", across=sheet.printed)


def _record(summary: dict[str, Any], plan: Plan) -> tuple[dict[str, Any], float | None, str]:
    """The Summary's figures for the plan of record (a cliff-edge plan's weighted by each outcome's
    probability), its value net of costs, and which plan it is in words."""
    if not plan.outcomes:
        return headline(summary), summary.get("objective"), "The plan"
    h = record_headline(summary | {"plan_of_record": "cliff_edge"}, plan.cliff)
    return h, (plan.cliff or {}).get("expected_value"), (
        f"Cliff-edge plan: {len(plan.outcomes)} grant outcomes (money figures weighted by their chances)")


def write_workbook(out_dir: Path, entries: Sequence[Entry]) -> Path:
    """Write OUT/allocations.xlsx (atomically) from each scenario's folder: summary.json, allocation.csv or
    plan.csv, resolved.yaml and, for a grant not yet known, cliff_edge.json and plan_funding.csv."""
    from openpyxl import Workbook

    wb = Workbook()
    summary_sheet = _Sheet(wb.active, "VRU scenario allocations: summary")
    wb.active.title = "Summary"
    funding_sheet = _Sheet(wb.create_sheet("Funding"),
                           "VRU scenario allocations: spend by funding stream and financial year")
    years_sheet = _Sheet(wb.create_sheet(SERVICES_BY_YEAR),
                         "VRU scenario allocations: each service's spend and level by financial year")
    names = sheet_names([e.name for e in entries])
    summary_rows: list[list[Any]] = []
    funding: list[list[Any]] = []
    years: list[list[Any]] = []
    for e in entries:
        folder = out_dir / e.name
        summary = _read_json(folder / "summary.json") if e.state == "ok" else None
        h = headline(summary) if summary else {}
        services, streams = _titles(folder)
        sheet = _Sheet(wb.create_sheet(names[e.name]), f"{e.title}: allocation by service and month")
        planned = summary is not None and (folder / "allocation.csv").is_file() and h.get("value") is not None
        record = None
        objective, record = None, None
        if planned and summary is not None:
            plan = read_plan(folder, summary)
            _plan_sheet(sheet, e, plan, services)
            funding += _funding_table(e, folder, summary, plan, streams)
            years += _year_rows(e, plan, services)
            cliff = cliff_headline(plan.cliff)
            note = cliff_text(cliff) if cliff else ""
            h, objective, record = _record(summary, plan)
        else:
            note = _no_plan_sheet(sheet, e, summary, h)
        sheet.finish()
        report = (out_dir / e.name / "report.html").resolve()
        summary_rows.append([
            e.title, "Open the report" if e.state == "ok" else "Report failed: open it", str(report),
            status_label(h["status"]) if h else "No result", record, h.get("core_grant_total"), h.get("value"),
            objective, h.get("participants"), h.get("services_closed"),
            h.get("exit_costs"), h.get("lowest_commissioned_share"), h.get("unspent_core_grant"), note,
            names[e.name], e.name,
        ])
    funding_sheet.table("Funding", FUNDING, funding)
    years_sheet.table("Services_by_year", BY_YEAR, years)
    _summary(summary_sheet, summary_rows)
    for done in (summary_sheet, funding_sheet, years_sheet):
        done.finish()
    target = out_dir / "allocations.xlsx"
    atomic_write_bytes(target, xlsx_bytes(wb))
    return target


def _summary(sheet: _Sheet, rows: list[list[Any]]) -> None:
    """One row per scenario, linking to its report (absolute, the path in words beside it) and its sheet."""
    at = {c.title: k for k, c in enumerate(SUMMARY)}
    top = sheet.table("Scenarios", SUMMARY, rows, totals=False)
    plans = sum(1 for r in rows if r[at["Social value, undiscounted"]] is not None)
    sheet.row += 1
    sheet.line(f"{len(rows)} scenarios, {plans} with a plan. Each row is an alternative, so the rows do not add "
               "up to a total. Each Report link opens the file named beside it.", bold=True, across=sheet.printed)
    for k, row in enumerate(rows, top + 1):
        _link(sheet.ws.cell(k, at["Report"] + 1), Path(row[at["Report file"]]).as_uri())
        _link(sheet.ws.cell(k, at["Sheet"] + 1), "#'{}'!A1".format(str(row[at["Sheet"]]).replace("'", "''")))


def _link(cell: Any, target: str) -> None:
    """A clickable cell: an absolute file: link (it still works from a copy on the same machine or share) or
    a place in the workbook ('#Sheet!A1')."""
    from openpyxl.worksheet.hyperlink import Hyperlink

    if target.startswith("#"):
        cell.hyperlink = Hyperlink(ref=cell.coordinate, location=target[1:])
    else:
        cell.hyperlink = target
    cell.style = "Hyperlink"


def xlsx_bytes(wb: Any) -> bytes:
    """The workbook's file with no clock in it: its created and modified properties and every zip entry carry
    one fixed date, so the same inputs give the same bytes."""
    from openpyxl.writer.excel import ExcelWriter

    wb.properties.created = wb.properties.modified = datetime(*ZIP_TIME)
    wb.properties.creator = "VRU Workbench"
    raw = io.BytesIO()
    ExcelWriter(wb, zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED, allowZip64=True)).save()
    out = io.BytesIO()
    with zipfile.ZipFile(raw) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(zipfile.ZipInfo(info.filename, ZIP_TIME), src.read(info.filename),
                         compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()
