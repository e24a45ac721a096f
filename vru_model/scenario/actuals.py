"""The actual spend so far: a file in `funding.csv`'s columns, read and checked before anything is solved.

Finance takes a plan's `funding.csv` (or the Funding sheet), overwrites what happened and feeds it back, so the
columns are the same: `stream, intervention, period, amount` (`scenario` and `fy` may be there too and are then
checked). CSV, or XLSX (the sheet named `Actuals`, else the first). Every problem names the file, the row (and the
sheet) and the column; a stream x service x month not in the file was GBP 0.
"""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vru_model.core import periods
from vru_model.core.errors import Problem, ScenarioError
from vru_model.scenario.schema import Scenario

REQUIRED = ("stream", "intervention", "period", "amount")
OPTIONAL = ("scenario", "fy")
MAX_ROWS = 200_000
MAX_FILE_BYTES = 20_000_000
SHEET = "Actuals"
_NUMBER = re.compile(r"^[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?$")


@dataclass(frozen=True)
class Actuals:
    """What was spent, by (stream, intervention, month), for every month up to `as_of` (the last one covered)."""

    file: str
    as_of: str
    amounts: dict[tuple[str, str, str], float] = field(default_factory=dict)
    rows: dict[tuple[str, str, str], str] = field(default_factory=dict, repr=False)  # where each came from

    @property
    def months(self) -> list[str]:
        """The months the actuals cover, in order (from the first month of the plan)."""
        return sorted({p for _s, _i, p in self.amounts})

    def amount(self, stream: str, intervention: str, month: str) -> float:
        return self.amounts.get((stream, intervention, month), 0.0)

    def spent(self, intervention: str, month: str) -> float:
        """What the VRU's streams paid for a service in a month."""
        return sum(a for (_s, i, p), a in self.amounts.items() if i == intervention and p == month)


def _rows_csv(path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        yield "", {"__header__": reader.fieldnames or []}
        for n, row in enumerate(reader, start=2):
            yield f"row {n}", row


def _rows_xlsx(path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    from openpyxl import load_workbook

    book = load_workbook(path, read_only=True, data_only=True)
    sheet = book[SHEET] if SHEET in book.sheetnames else book.worksheets[0]
    rows = sheet.iter_rows(values_only=True)
    header = [str(c).strip() if c is not None else "" for c in next(rows, ())]
    yield "", {"__header__": header}
    for n, values in enumerate(rows, start=2):
        if all(v is None or str(v).strip() == "" for v in values):
            continue
        yield f"sheet {sheet.title}, row {n}", dict(zip(header, values, strict=False))
    book.close()


def _number(value: Any) -> float | str:
    """A float, or the reason it is not one."""
    if isinstance(value, bool):
        return f"{value!r} is not a number"
    if isinstance(value, int | float):
        return float(value) if math.isfinite(value) else f"{value!r} is not a finite number"
    text = "" if value is None else str(value).strip()
    if text == "":
        return "is empty: write 0 or leave the row out"
    if not _NUMBER.match(text):
        digits = re.sub(r"[£,\s_]", "", text)
        hint = f": write {digits}" if _NUMBER.match(digits) else ""
        return f"{text!r} is text, not a number{hint} (digits only, no commas, £ or spaces)"
    return float(text)


def _month(value: Any) -> str:
    """'2021-07', or a spreadsheet date cell, as YYYY-MM ('' when it is neither)."""
    if hasattr(value, "year") and hasattr(value, "month"):
        return f"{value.year:04d}-{value.month:02d}"
    text = "" if value is None else str(value).strip()
    return text if periods.is_month(text) else ""


class _Checker:
    """Checks one row at a time against the scenario, collecting every problem with its place."""

    def __init__(self, scenario: Scenario, source: str, as_of: str | None):
        self.sc, self.source, self.as_of = scenario, source, as_of
        self.problems: list[Problem] = []
        self.amounts: dict[tuple[str, str, str], float] = {}
        self.seen: dict[tuple[str, str, str], str] = {}
        self.plans: set[str] = set()
        self.months = set(scenario.months)

    def refuse(self, where: str, column: str, message: str) -> None:
        self.problems.append(Problem(self.source, f"{where}, column {column}" if column else where, message))

    def header(self, columns: list[str]) -> bool:
        missing = [c for c in REQUIRED if c not in columns]
        if missing:
            self.refuse("header", "", f"missing column{'s' if len(missing) > 1 else ''} {', '.join(missing)} "
                        f"(the file needs {', '.join(REQUIRED)}, as in funding.csv)")
        return not missing

    def row(self, where: str, row: dict[str, Any]) -> None:
        stream, service = (str(row.get(c) or "").strip() for c in ("stream", "intervention"))
        month, amount = _month(row.get("period")), _number(row.get("amount"))
        before = len(self.problems)
        self._names(where, stream, service)
        if not month:
            self.refuse(where, "period", f"{row.get('period')!r} is not a month of the form YYYY-MM")
        elif month not in self.months:
            self.refuse(where, "period", f"{month} is outside the plan's horizon {self.sc.months[0]} to "
                        f"{self.sc.months[-1]}")
        elif self.as_of is not None and month > self.as_of:
            self.refuse(where, "period", f"{month} is after the actuals' as-of month {self.as_of}")
        if isinstance(amount, str):
            self.refuse(where, "amount", amount)
        elif amount < 0:
            self.refuse(where, "amount", f"{amount:g} is negative: actual spend is never below 0 (enter a refund "
                        "against the month it was spent in)")
        if row.get("fy") not in (None, "") and month and str(row["fy"]).strip() != periods.fy_of(month):
            self.refuse(where, "fy", f"{row['fy']!r} is not the financial year of {month} ({periods.fy_of(month)})")
        if row.get("scenario") not in (None, ""):
            self.plans.add(str(row["scenario"]).strip())
        if len(self.problems) > before:
            return
        key = (stream, service, month)
        if key in self.seen:
            self.refuse(where, "", f"{stream}, {service}, {month} is given twice (also at {self.seen[key]}): "
                        "add the amounts into one row")
            return
        self.seen[key] = where
        if amount:
            self.amounts[key] = float(amount)

    def _names(self, where: str, stream: str, service: str) -> None:
        funding = self.sc.funding.get(stream)
        if funding is None:
            self.refuse(where, "stream", f"unknown stream {stream!r} (the scenario's streams: "
                        f"{', '.join(self.sc.funding)})")
        if service not in self.sc.interventions:
            self.refuse(where, "intervention", f"unknown service {service!r} (not in the scenario's interventions)")
        elif funding is not None and funding.eligible is not None and service not in funding.eligible:
            self.refuse(where, "intervention", f"{stream} is ring-fenced and may not pay for {service} (it may pay "
                        f"for {', '.join(funding.eligible)})")


def read_actuals(path: str | Path, scenario: Scenario, as_of: str | None = None) -> Actuals:
    """Read and check an actuals file against `scenario`. `as_of` is the last month the actuals cover (default:
    the latest month in the file). Raises ScenarioError naming the file, row and column of every problem."""
    path = Path(path)
    source = str(path)
    if as_of is not None and as_of not in scenario.months:
        raise ScenarioError([Problem(source, "as_of", f"{as_of} is outside the plan's horizon "
                                     f"{scenario.months[0]} to {scenario.months[-1]}")])
    if not path.is_file():
        raise ScenarioError([Problem(source, "", "actuals file not found")])
    if path.stat().st_size > MAX_FILE_BYTES:
        raise ScenarioError([Problem(source, "", f"larger than {MAX_FILE_BYTES // 1_000_000} MB (refused)")])
    xlsx = path.suffix.lower() in (".xlsx", ".xlsm")
    if not xlsx and path.suffix.lower() != ".csv":
        raise ScenarioError([Problem(source, "", "actuals must be a .csv or .xlsx file")])
    check = _Checker(scenario, source, as_of)
    try:
        for n, (where, row) in enumerate(_rows_xlsx(path) if xlsx else _rows_csv(path)):
            if n == 0:
                if not check.header([str(c).strip() for c in row["__header__"]]):
                    break
                continue
            if n > MAX_ROWS:
                check.refuse(where, "", f"more than {MAX_ROWS} rows (refused)")
                break
            check.row(where, row)
    except (OSError, UnicodeDecodeError, csv.Error, KeyError, ValueError) as exc:
        raise ScenarioError([Problem(source, "", f"cannot be read as {'XLSX' if xlsx else 'CSV'}: {exc}")]) from None
    if len(check.plans) > 1:
        check.refuse("column scenario", "", f"holds more than one plan ({', '.join(sorted(check.plans))}): "
                     "actuals are one plan's figures")
    if check.problems:
        raise ScenarioError(check.problems)
    covered = as_of or max((p for _s, _i, p in check.seen), default=None)
    if covered is None:
        raise ScenarioError([Problem(source, "", "has no rows: give as_of to say which months it covers")])
    return Actuals(file=source, as_of=covered, amounts=dict(sorted(check.amounts.items())), rows=dict(check.seen))
