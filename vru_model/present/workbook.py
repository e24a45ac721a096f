"""Finance's spreadsheet, `allocations.xlsx`: a Summary sheet, a Funding sheet and one sheet per scenario.

Built for someone who will check it: real numbers with Excel number formats (money `£#,##0`, shares `0%`,
counts whole), Excel tables (filterable, named), services and streams by their titles (ids in a last column
for analysts), a totals row under every table, a link from each scenario to its HTML report, and a printed
page header that repeats the column names and fits Excel's 255-character limit. A scenario with no plan
gets its explanation in words on its sheet instead of an empty table.
"""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from vru_model.core.errors import ScenarioError
from vru_model.core.files import atomic_write_bytes
from vru_model.present.summaries import OBJECTIVE, cliff_headline, cliff_text, headline, read_cliff_edge, status_label
from vru_model.scenario.load import read_yaml

MONEY = "£#,##0"
SHARE = "0%"
COUNT = "#,##0"
MONTH = "mmm yyyy"
HEADER_LIMIT = 255  # characters Excel allows in a page header, format codes included
RESERVED = ("summary", "funding")


@dataclass(frozen=True)
class Column:
    """One spreadsheet column: its heading, its Excel number format and whether the totals row adds it up."""

    title: str
    fmt: str | None = None
    total: bool = False
    width: float = 14


@dataclass(frozen=True)
class Entry:
    """One scenario as the workbook needs it: its name (folder), title and how its report went."""

    name: str
    title: str
    state: str  # ok | failed | timed_out


def sheet_names(names: Sequence[str]) -> dict[str, str]:
    """Excel sheet names: at most 31 characters, unique (case-insensitively), never 'Summary' or 'Funding'."""
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
    """Writes tables with formats, totals rows and print settings onto one worksheet."""

    def __init__(self, ws: Any, print_title: str):
        self.ws = ws
        self.row = 1
        ws.oddHeader.center.text = page_header(print_title)
        ws.oddFooter.center.text = "Page &P of &N"
        ws.page_setup.orientation = "landscape"
        ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
        ws.sheet_properties.pageSetUpPr.fitToPage = True

    def line(self, text: str, *, bold: bool = False, size: float | None = None) -> None:
        from openpyxl.styles import Alignment, Font

        cell = self.ws.cell(self.row, 1, text)
        cell.data_type = "s"  # text from scenario files is never a formula
        cell.font = Font(bold=bold, size=size)
        cell.alignment = Alignment(wrap_text=False)
        self.row += 1

    def table(self, name: str, columns: Sequence[Column], rows: Sequence[Sequence[Any]],
              total_label: str | None = "Total", repeat_header: bool = False) -> int:
        """An Excel table with a header row, then a bold totals row under it; returns the header's row number."""
        from openpyxl.styles import Border, Font, Side
        from openpyxl.utils import get_column_letter
        from openpyxl.worksheet.table import Table, TableStyleInfo

        ws, top = self.ws, self.row
        for c, col in enumerate(columns, 1):
            ws.cell(top, c, col.title).font = Font(bold=True)
            letter = get_column_letter(c)
            ws.column_dimensions[letter].width = max(ws.column_dimensions[letter].width or 0, col.width)
        for r, values in enumerate(rows, top + 1):
            for c, (col, value) in enumerate(zip(columns, values, strict=True), 1):
                self._put(r, c, value, col.fmt)
        last = top + len(rows)
        if rows:
            table = Table(displayName=name, ref=f"A{top}:{get_column_letter(len(columns))}{last}")
            table.tableStyleInfo = TableStyleInfo(name="TableStyleLight9", showRowStripes=True)
            ws.add_table(table)
        if repeat_header:
            ws.print_title_rows = f"{top}:{top}"
            ws.freeze_panes = f"A{top + 1}"
        self.row = last + 1
        if total_label is not None:
            line = Side(style="thin")
            for c, col in enumerate(columns, 1):
                value = total_label if c == 1 else sum(
                    float(v[c - 1]) for v in rows if isinstance(v[c - 1], int | float)) if col.total else None
                cell = self._put(self.row, c, value, col.fmt)
                cell.font = Font(bold=True)
                cell.border = Border(top=line, bottom=Side(style="double"))
            self.row += 1
        return top

    def _put(self, r: int, c: int, value: Any, fmt: str | None) -> Any:
        cell = self.ws.cell(r, c, None if isinstance(value, float) and value != value else value)
        if isinstance(value, str):
            cell.data_type = "s"
        elif fmt and value is not None:
            cell.number_format = fmt
        return cell


ALLOCATION = [
    Column("Service", width=44), Column("Month", MONTH, width=10), Column("Financial year", width=10),
    Column("Running", width=9), Column("Service level", SHARE, width=9),
    Column("Cost at this level", MONEY, True), Column("Spent by the VRU", MONEY, True),
    Column("Spent by partners", MONEY, True), Column("Participants", COUNT, True, width=12),
    Column("Social value", MONEY, True), Column("Exit cost", MONEY, True, width=11),
    Column("Start-up cost", MONEY, True, width=11), Column("Service id", width=30),
]
FUNDING = [
    Column("Funding stream", width=44), Column("Financial year", width=12), Column("Available", MONEY, True),
    Column("Spent", MONEY, True), Column("Unspent", MONEY, True), Column("Stream id", width=24),
]
SUMMARY = [
    Column("Scenario", width=50), Column("Report", width=16), Column("Plan", width=22),
    Column("Core grant", MONEY), Column("Social value, undiscounted", MONEY, width=16),
    Column(f"Value net of costs, {OBJECTIVE}", MONEY, width=16), Column("Participants", COUNT, width=12),
    Column("Services closing", COUNT, width=10), Column("Exit costs", MONEY),
    Column("Lowest commissioned share", SHARE, width=12), Column("Unspent core grant", MONEY),
    Column("Note", width=60), Column("Sheet", width=20), Column("Scenario id", width=24),
]


def _allocation_rows(folder: Path, services: dict[str, str]) -> list[list[Any]]:
    import pandas as pd

    a = pd.read_csv(folder / "allocation.csv", dtype={"period": str, "fy": str})
    rows = []
    for r in a.itertuples(index=False):
        year, month = (int(x) for x in r.period.split("-"))
        rows.append([services.get(r.intervention, r.intervention), date(year, month, 1), r.fy,
                     "Yes" if r.running else "No", float(r.scale), float(r.total_cost), float(r.vru_spend),
                     float(r.partner_spend), float(r.participants), float(r.value),
                     float(getattr(r, "exit_cost", 0.0)), float(getattr(r, "startup_cost", 0.0)), r.intervention])
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


def _table_name(prefix: str, name: str) -> str:
    return f"{prefix}_{name}"[:250]


def write_workbook(out_dir: Path, entries: Sequence[Entry]) -> Path:
    """Write OUT/allocations.xlsx (atomically) from each scenario's folder: summary.json, allocation.csv,
    resolved.yaml and, for the cliff-edge line, cliff_edge.json."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    summary_sheet = _Sheet(wb.active, "VRU scenario allocations: summary")
    wb.active.title = "Summary"
    funding_sheet = _Sheet(wb.create_sheet("Funding"), "VRU scenario allocations: spend by funding stream and "
                                                       "financial year")
    funding_sheet.line("Spend by funding stream and financial year, scenario by scenario", bold=True, size=13)
    funding_sheet.row += 1
    names = sheet_names([e.name for e in entries])
    summary_rows: list[list[Any]] = []
    links: list[tuple[str, str]] = []
    for e in entries:
        folder = out_dir / e.name
        summary = _read_json(folder / "summary.json") if e.state == "ok" else None
        h = headline(summary) if summary else {}
        services, streams = _titles(folder)
        sheet = _Sheet(wb.create_sheet(names[e.name]), f"{e.title}: allocation by service and month")
        planned = summary is not None and (folder / "allocation.csv").is_file() and h.get("value") is not None
        if planned:
            sheet.table(_table_name("Allocation", e.name), ALLOCATION, _allocation_rows(folder, services),
                        repeat_header=True)
            funding_sheet.line(e.title, bold=True)
            funding_sheet.table(_table_name("Funding", e.name), FUNDING, _funding_rows(summary, streams))
            funding_sheet.row += 1
            cliff = cliff_headline(read_cliff_edge(folder, summary))
            note = cliff_text(cliff) if cliff else ""
        else:
            why = ((summary or {}).get("explanation") or {})
            first = status_label(h["status"]) if h else f"The report {e.state.replace('_', ' ')}"
            note = f"No plan: {first}. {why.get('text', '')}".strip()
            sheet.line(f"{e.title}: no plan", bold=True, size=13)
            sheet.line(f"{first}.")
            for sentence in why.get("sentences") or ([why["text"]] if why.get("text") else []):
                sheet.line(sentence)
            if not why:
                sheet.line("See the scenario's report for what went wrong.")
            sheet.ws.column_dimensions["A"].width = 120
        summary_rows.append([
            e.title, "Open the report" if e.state == "ok" else "Report failed: open it",
            status_label(h["status"]) if h else "No result", h.get("core_grant_total"), h.get("value"),
            (summary or {}).get("objective") if planned else None, h.get("participants"), h.get("services_closed"),
            h.get("exit_costs"), h.get("lowest_commissioned_share"), h.get("unspent_core_grant"), note,
            names[e.name], e.name,
        ])
        links.append((f"{e.name}/report.html", names[e.name]))
    plans = sum(1 for r in summary_rows if r[4] is not None)
    top = summary_sheet.table("Scenarios", SUMMARY, summary_rows, total_label=None, repeat_header=True)
    summary_sheet.line(f"{len(entries)} scenarios, {plans} with a plan. Each row is an alternative, so the rows "
                       "do not add up to a total.", bold=True)
    for k, (report, sheet_name) in enumerate(links, top + 1):
        _link(summary_sheet.ws.cell(k, 2), report)
        _link(summary_sheet.ws.cell(k, 13), "#'{}'!A1".format(sheet_name.replace("'", "''")))
    summary_sheet.ws.cell(top, 1).font = Font(bold=True)
    buf = io.BytesIO()
    wb.save(buf)
    target = out_dir / "allocations.xlsx"
    atomic_write_bytes(target, buf.getvalue())
    return target


def _link(cell: Any, target: str) -> None:
    """A clickable cell: a relative file (the report beside the workbook) or a place in it ('#Sheet!A1')."""
    from openpyxl.worksheet.hyperlink import Hyperlink

    if target.startswith("#"):
        cell.hyperlink = Hyperlink(ref=cell.coordinate, location=target[1:])
    else:
        cell.hyperlink = target
    cell.style = "Hyperlink"
