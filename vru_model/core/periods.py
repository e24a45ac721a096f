"""Months ("YYYY-MM") and UK financial years ("YYYY/YY", April to March)."""

from __future__ import annotations

import re

MONTH_RE = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
FY_RE = re.compile(r"^(\d{4})/(\d{2})$")


def is_month(text: str) -> bool:
    return isinstance(text, str) and MONTH_RE.match(text) is not None


def is_fy(text: str) -> bool:
    if not isinstance(text, str):
        return False
    m = FY_RE.match(text)
    return m is not None and (int(m.group(1)) + 1) % 100 == int(m.group(2))


MONTH_NAMES = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
               "November", "December"]


def month_name(month: str) -> str:
    """'2022-04' -> 'April 2022': what a reader expects, not an ISO code."""
    year, mon = month.split("-")
    return f"{MONTH_NAMES[int(mon) - 1]} {year}"


def month_index(month: str) -> int:
    """Months since year 0, so differences are month counts."""
    year, mon = month.split("-")
    return int(year) * 12 + int(mon) - 1


def month_from_index(index: int) -> str:
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def add_months(month: str, n: int) -> str:
    return month_from_index(month_index(month) + n)


def fy_of(month: str) -> str:
    """The financial year a month falls in: April 2021 to March 2022 is 2021/22."""
    year, mon = (int(x) for x in month.split("-"))
    start = year if mon >= 4 else year - 1
    return f"{start}/{(start + 1) % 100:02d}"


def months(start: str, count: int) -> list[str]:
    first = month_index(start)
    return [month_from_index(first + k) for k in range(count)]


def fys(start: str, count: int) -> list[str]:
    """Financial years touched by the horizon, in order."""
    seen: list[str] = []
    for m in months(start, count):
        fy = fy_of(m)
        if fy not in seen:
            seen.append(fy)
    return seen
