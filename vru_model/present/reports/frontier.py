"""The funding frontier section: the baseline's grant from nothing to half as much again, and where services close."""

from __future__ import annotations

from typing import Any

import pandas as pd

from vru_model.analysis.frontier import underwriting_sentences
from vru_model.core.periods import month_name
from vru_model.core.text import money
from vru_model.present import charts
from vru_model.present.charts import Chart
from vru_model.present.reports.fragments import VALUE_NOTE, Html, bullets, esc, para, table
from vru_model.present.summaries import UNDISCOUNTED, status_label


def frontier_section(result: Any) -> list[object]:
    """The funding frontier (a frontier.FrontierResult) for partners: value and services running against the grant
    level, where each service closes in plain words, the sweep's sentences and every level's figures."""
    if result is None:
        return [para("This batch has no baseline scenario (one named “baseline”), so there is no funding frontier "
                     "to show.")]
    summary, rows, found = result.summary, result.table, result.breakpoints
    own = summary["core_grant"]
    annual = sum(own.values()) / max(1, sum(1 for v in own.values() if v > 0))
    lv = summary["levels"]
    step = (lv["to"] - lv["from"]) / max(1, lv["steps"] - 1)
    planned = rows[rows["value"].notna()]
    title = summary.get("title") or summary["scenario"]
    lead = (f"The baseline, “{title}”, planned again with its core grant at {lv['steps']} levels from "
            f"{lv['from']:.0%} to {lv['to']:.0%} of its own ({money(annual)} a year at 100%), every year scaled "
            "alike. Every other rule of the baseline stays as it is.")
    if planned.empty:
        return [para(lead, f"No level from {lv['from']:.0%} to {lv['to']:.0%} has a lawful plan.")]

    def at(level: float) -> Any:
        return planned.loc[(planned["level"] - level).abs().idxmin()]

    lowest = summary.get("lowest_feasible_level")
    first, top, last = planned.iloc[0], at(1.0), planned.iloc[-1]
    closes = found[found["event"] == "closes"]
    facts = [f"A lawful plan exists from {first['level']:.0%}." if lowest and lowest > lv["from"] else "",
             *[_baseline_words(t) for t in underwriting_sentences(planned)],
             f"At {top['level']:.0%}, {int(top['services_running'])} services run at the end of the plan, for "
             f"{money(top['value'])} of social value ({UNDISCOUNTED}).",
             f"The first service closes when the grant falls below {closes['level_above'].max():.0%}."
             if len(closes) else "No service closes at any level with a plan."]
    peak = planned.loc[planned["value"] >= planned["value"].max() - 0.5, "level"].min()
    if peak < last["level"]:
        facts.append(f"Above {peak:.0%} more grant adds no value: the value stays at {money(last['value'])}.")
    points = [first, top, last] if top["level"] not in (first["level"], last["level"]) else [first, last]
    out: list[object] = [para(lead, *facts), _frontier_chart(rows, points, lv, lowest, annual)]
    if len(found):
        out.append(_breakpoint_table(found, closes, annual, step))
    sentences = [_baseline_words(t) for t in summary.get("sentences") or []]
    if sentences:
        out.append(Html("<details><summary>The same findings as sentences</summary>" + bullets(sentences)
                        + "</details>"))
    out.append(_every_level(rows, annual))
    out.append(Html('<p class="note">The same figures as files: <a href="baseline/frontier.csv">frontier.csv</a> '
                    '(one row per level), <a href="baseline/breakpoints.csv">breakpoints.csv</a> and '
                    '<a href="baseline/frontier.json">frontier.json</a>. ' + esc(VALUE_NOTE) + "</p>"))
    return out


def _baseline_words(text: str) -> str:
    """The frontier's sentences speak of "this scenario's" grant; in the comparison that is the baseline's."""
    return text.replace("this scenario's", "the baseline's")


def _missing(value: object) -> bool:
    """A level without a plan: NaN in a float column, pd.NA in a count column."""
    return bool(pd.isna(value))


def _frontier_chart(rows: pd.DataFrame, points: list[Any], lv: dict[str, Any], lowest: float | None,
                    annual: float) -> Chart:
    """Value and services running against the grant level, with the levels that have no lawful plan hatched."""
    alt = (f"Two line charts against the core grant, from {lv['from']:.0%} to {lv['to']:.0%} of the baseline's, "
           "with the baseline's own grant (100%) marked. "
           + (f"No lawful plan below {lowest:.0%}. " if lowest and lowest > lv["from"] else "")
           + f"Social value ({UNDISCOUNTED}): " + ", ".join(f"{money(p['value'])} at {p['level']:.0%}"
                                                            for p in points)
           + ". Services running at the end of the plan: " + ", ".join(
               f"{int(p['services_running'])} at {p['level']:.0%}" for p in points) + ".")
    return charts.frontier_lines(
        rows["level"].tolist(), [None if _missing(v) else float(v) for v in rows["value"]],
        [None if _missing(v) else int(v) for v in rows["services_running"]], annual_grant=annual,
        value_label=f"Social value over the plan ({UNDISCOUNTED}; illustrative)",
        running_label="Services running at the end of the plan", no_plan_below=lowest, alt=alt,
        caption=f"Social value ({UNDISCOUNTED}) and services running as the baseline's core grant goes from "
                f"{lv['from']:.0%} to {lv['to']:.0%} of its own; the dotted line is the baseline's grant (100%), the "
                "hatched band the levels with no lawful plan.")


SHOWN_BREAKPOINTS = 6  # the first changes as the grant falls are shown; the rest are folded below them


def _breakpoint_table(found: pd.DataFrame, closes: pd.DataFrame, annual: float, step: float) -> Html:
    """Where each service closes (or runs again) as the grant falls, in plain words: the first changes shown,
    the rest (the deep cuts, one row a service) folded below them."""
    table_rows = []
    for b in found.itertuples():
        if b.event == "closes":
            table_rows.append([f"below {b.level_above:.0%}", f"below {money(b.level_above * annual)}",
                               f"Below {b.level_above:.0%} of the baseline grant, {b.title} closes (from "
                               f"{month_name(b.closes_from)})."])
        else:
            table_rows.append([f"at {b.level:.0%}", f"at {money(b.level * annual)}",
                               f"At {b.level:.0%} of the baseline grant, {b.title} runs again, though it "
                               f"closes at {b.level_above:.0%}: the best mix of services changes as the "
                               "grant falls."])
    hi = closes["level_above"].max() if len(closes) else 1.0
    caption = ("Where services close as the baseline's core grant falls (levels "
               f"{step * 100:g} percentage points apart: "
               f"“below {hi:.0%}” means running at {hi:.0%}, closed at {hi - step:.0%})")
    columns, numeric = ["Core grant", "A year", "What happens"], [False, True, False]
    if len(table_rows) <= SHOWN_BREAKPOINTS + 2:
        return table(table_rows, columns, caption, numeric)
    rest = table_rows[SHOWN_BREAKPOINTS:]
    return Html(table(table_rows[:SHOWN_BREAKPOINTS], columns, caption + ": the first changes", numeric)
                + f"<details><summary>Show the other {len(rest)} changes, down to "
                f"{esc(rest[-1][0])} of the baseline grant</summary>"
                + table(rest, columns, caption + ": the rest", numeric) + "</details>")


def _every_level(rows: pd.DataFrame, annual: float) -> Html:
    """Every level's figures, folded away."""
    every = [[f"{r.level:.0%}", money(r.level * annual), status_label(r.status),
              "–" if _missing(r.value) else money(r.value),
              "–" if _missing(r.services_running) else f"{int(r.services_running)}",
              "–" if _missing(r.services_closed) else f"{int(r.services_closed)}"] for r in rows.itertuples()]
    return Html("<details><summary>Show the figures at every level</summary>" + table(
        every, ["Core grant (share of the baseline's)", "A year", "Plan", f"Social value ({UNDISCOUNTED})",
                "Services running at the end", "Services closing"], "The funding frontier, level by level",
        [False, True, False, True, True, True]) + "</details>")
