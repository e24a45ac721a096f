"""Plain-English sentences about a solved scenario, built from its summary alone.

Kept apart from the HTML in `vru_model.reports` so the words can be read, tested and reused
without any page around them; `reports` escapes whatever it takes from here.
"""

from __future__ import annotations

from typing import Any

from vru_model.periods import month_name
from vru_model.results_text import money

NUMBER_WORDS = ["no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve"]


def words(n: int) -> str:
    """Small counts in words, as a partner would write them."""
    return NUMBER_WORDS[n] if 0 <= n < len(NUMBER_WORDS) else f"{n:,}"


def core_grant_total(summary: dict[str, Any]) -> float:
    """The core grant over the whole plan: the figure a funding level is stated against."""
    return sum(row["core_grant"] for row in summary.get("fy", {}).values())


def has_plan(summary: dict[str, Any]) -> bool:
    """Whether the summary holds a plan to describe (a time-limited plan counts)."""
    return summary.get("status") in ("optimal", "time_limit")


def narrative(summary: dict[str, Any], baseline: dict[str, Any] | None) -> str:
    """A few plain-English sentences a partner can read without the tables."""
    status = summary["status"]
    fy = summary.get("fy", {})
    level = funding_level(summary, baseline)
    if status == "infeasible":
        exp = (summary.get("explanation") or {}).get("text", "")
        return f"{level}no plan can meet every rule. {exp}".strip()
    if status == "error":
        return "The solver failed, so this scenario has no plan."
    closed = summary.get("closures", [])
    totals = summary.get("totals", {})
    n = len(closed)
    if n == 0:
        first = f"{level}every service keeps running."
    else:
        listed = [f"{c['title'].split(' (')[0]} (notice by {month_name(c['notice_by'])}, closes from "
                  f"{month_name(c['closes_from'])})" for c in closed[:5]]
        more = f"; and {words(n - 5)} more (see the timeline)" if n > 5 else ""
        first = (f"{level}{words(n)} service{'s' if n != 1 else ''} close{'s' if n == 1 else ''}: "
                 f"{'; '.join(listed)}{more}.")
    value = totals.get("value") or 0.0
    second = (f"The plan supports about {totals.get('participants', 0):,.0f} participants and delivers an estimated "
              f"{money(value)} of social value")
    if baseline and has_plan(baseline) and (baseline.get("totals") or {}).get("value"):
        bv = baseline["totals"]["value"]
        diff = value - bv
        second += (f", {money(abs(diff))} ({abs(diff) / bv:.0%}) {'less' if diff < 0 else 'more'} than the baseline"
                   if abs(diff) >= 0.005 * bv else ", about the same as the baseline")
    second += "."
    shares = [r["commissioned_share"] for r in fy.values() if r.get("commissioned_share") is not None]
    ledger = summary.get("compliance", [])
    failed = [c for c in ledger if not c["passed"]]
    third = ("Every grant condition is met" if not failed else f"{words(len(failed)).capitalize()} grant condition"
             f"{'s are' if len(failed) > 1 else ' is'} not met")
    if shares:
        third += f"; the commissioned share of the core grant is at least {min(shares):.0%} in every year"
    third += "."
    if status == "time_limit":
        third += " The solver stopped at its time limit, so a better plan may exist."
    return " ".join([first, second, third])


def funding_level(summary: dict[str, Any], baseline: dict[str, Any] | None) -> str:
    """'At 75% of the baseline's core grant in 2022/23 and 2023/24, ' or 'With a core grant of ..., '."""
    fy = summary.get("fy", {})
    base = (baseline or {}).get("fy", {})
    if not base or not any(b.get("core_grant") for b in base.values()):
        return f"With a core grant of {money(core_grant_total(summary))} over the plan, "
    levels: dict[str, list[str]] = {}
    for y, row in fy.items():
        b = base.get(y, {}).get("core_grant") or 0.0
        pct = f"{row['core_grant'] / b:.0%}" if b else money(row["core_grant"])
        levels.setdefault(pct, []).append(y)
    if len(levels) == 1:
        return f"At {next(iter(levels))} of the baseline's core grant in every year, "
    parts = [f"{pct} of the baseline in {' and '.join(ys)}" for pct, ys in levels.items() if pct != "100%"]
    same = " (as the baseline in other years)" if "100%" in levels else ""
    return f"With the core grant at {'; '.join(parts)}{same}, "
