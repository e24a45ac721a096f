"""The comparison report: the batch's scenarios side by side."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vru_model.core.periods import month_name
from vru_model.core.text import money
from vru_model.present import charts
from vru_model.present.narrative import core_grant_total, has_plan, words
from vru_model.present.reports.fragments import VALUE_NOTE, Html, esc, figure_text, para, short_title, table
from vru_model.present.summaries import (
    UNDISCOUNTED,
    cliff_headline,
    closed_text,
    closing_counts,
    load_summaries,
    read_cliff_edge,
    record_headline,
    status_label,
)


@dataclass
class Comparison:
    """The batch's scenarios side by side."""

    summaries: list[dict[str, Any]]
    cliffs: dict[str, dict[str, Any]] = field(default_factory=dict)  # scenario name -> cliff_edge.json

    @classmethod
    def load(cls, output_dir: str, names: Sequence[str] | None = None) -> Comparison:
        summaries = load_summaries(output_dir, names or None)
        cliffs = {s["scenario"]: c for s in summaries
                  if (c := read_cliff_edge(Path(output_dir) / s["scenario"], s)) is not None}
        return cls(summaries, cliffs)

    def introduction(self) -> list[object]:
        n = len(self.summaries)
        infeasible = [s for s in self.summaries if not has_plan(s)]
        text = f"{words(n).capitalize()} scenario{'s' if n != 1 else ''} compared."
        closing = [s for s in self.summaries if has_plan(s) and s.get("closures")]
        if closing:
            worst = max(closing, key=lambda s: (len(s["closures"]), -(s.get("totals") or {}).get("value", 0.0)))
            k = len(worst["closures"])
            title = worst.get("title", worst["scenario"])
            text += (f" Services close in {words(len(closing))} of them; most in “{title}”: "
                     f"{words(k)} service{'s' if k != 1 else ''}, the first notice by "
                     f"{month_name(min(c['notice_by'] for c in worst['closures']))}.")
        elif self.summaries:
            text += " No service closes in any scenario with a plan."
        if infeasible:
            text += " Without a plan: " + "; ".join(f"{s.get('title', s['scenario'])} ({status_label(s['status'])})"
                                                   for s in infeasible) + "."
        return [Html(f'<p class="finding">{esc(text)}</p>'), para(VALUE_NOTE)]

    def headline_table(self) -> list[object]:
        rows = []
        for s in self.summaries:
            h = record_headline(s, self.cliffs.get(s["scenario"]))
            title = s.get("title", s["scenario"]) + (" (cliff-edge plan, expected)" if h["expected"] else "")
            rows.append([title, status_label(h["status"]), figure_text(h["core_grant_total"]),
                         figure_text(h["value"]), figure_text(h["participants"], "count"), closed_text(h),
                         figure_text(h["exit_costs"]), figure_text(h["lowest_commissioned_share"], "share")])
        out: list[object] = [table(rows, ["Scenario", "Plan", "Core grant", "Social value (undiscounted)",
                                          "Participants", "Services closing", "Exit costs",
                                          "Lowest commissioned share"], "Headline figures by scenario: the plan to "
                                   "act on", [False, False, True, True, True, True, True, True])]
        uncertain = [(s, c) for s in self.summaries if (c := cliff_headline(self.cliffs.get(s["scenario"])))]
        if uncertain:
            out.append(para("For a scenario whose grant is confirmed late, the plan to act on is its cliff-edge plan, "
                            "made for every grant outcome at once: its row above gives each figure expected over the "
                            "outcomes (weighted by their chances) and the closures in the outcomes with the fewest "
                            "and the most. By grant outcome:"))
            out.append(table(
                [[s.get("title", s["scenario"]), money(c["expected_value"]),
                  closing_counts(c), f"{c['no_regret_core']} of {c['services']}",
                  f"the grant {c['worst']} ({money(c['worst_grant'])})", money(c["worst_underwriting"]),
                  money(c["worst_liability"])] for s, c in uncertain],
                ["Scenario", "Expected value after underwriting and liability penalties (discounted)",
                 "Services closing, by grant outcome", "No-regret core", "Worst outcome",
                 "Underwriting drawn (worst outcome)",
                 "Unfunded liability (worst outcome)"],
                "Cliff-edge plans: scenarios with an uncertain grant", [False, True, True, True, False, True, True]))
        return out

    def value_chart(self) -> list[object]:
        planned = [s for s in self.summaries if has_plan(s)]
        if not planned:
            return [para("No scenario has a plan.")]
        labels = [short_title(s.get("title", s["scenario"]), 44) for s in planned]
        record = [record_headline(s, self.cliffs.get(s["scenario"])) for s in planned]
        values = [float(h["value"] or 0.0) for h in record]
        grants = [float(h["core_grant_total"] or core_grant_total(s)) for h, s in zip(record, planned, strict=True)]
        alt = "Two bar charts by scenario. " + "; ".join(
            f"{s.get('title', s['scenario'])}: social value {money(v)} ({UNDISCOUNTED}), core grant {money(g)}"
            for s, v, g in zip(planned, values, grants, strict=True)) + "."
        return [charts.horizontal_bars([(f"Social value over the plan ({UNDISCOUNTED})", labels, values),
                                        ("Core grant over the plan", labels, grants)], shared=True,
                                       alt=alt, caption=f"Social value ({UNDISCOUNTED}) and core grant over the "
                                                        "plan, by scenario; for a cliff-edge plan, expected over its "
                                                        "grant outcomes.")]

    def closures_chart(self) -> list[object]:
        planned = [s for s in self.summaries if has_plan(s)]
        if not planned:
            return []
        labels = [short_title(s.get("title", s["scenario"]), 44) for s in planned]
        record = [record_headline(s, self.cliffs.get(s["scenario"])) for s in planned]
        closed = [float(h["services_closed"] or 0) for h in record]
        exits = [float(h["exit_costs"] or 0.0) for h in record]
        alt = "Two bar charts by scenario. " + "; ".join(
            f"{s.get('title', s['scenario'])}: {closed_text(h)} services close, exit costs {money(e)}"
            + (" expected" if h["expected"] else "") for s, h, e in zip(planned, record, exits, strict=True)) + "."
        return [charts.horizontal_bars([("Services closing", labels, closed), ("Exit costs", labels, exits)],
                                       alt=alt, caption="Services closing and their exit costs, by scenario; for a "
                                       "cliff-edge plan, the services closing in its grant outcome with the fewest "
                                       "closures, and the exit costs expected over its outcomes.",
                                       fmt=_count_or_money, shared=True)]

    def commissioning_table(self) -> list[object]:
        planned = [s for s in self.summaries if has_plan(s)]
        years = sorted({y for s in planned for y in s["fy"]})
        rows = [[s.get("title", s["scenario"])] + [
            figure_text(s["fy"].get(y, {}).get("commissioned_share"), "share") for y in years] for s in planned]
        return [table(rows, ["Scenario", *years], "Commissioned share of the core grant by year",
                      [False] + [True] * len(years))]


def _count_or_money(x: float, _pos: object = None) -> str:
    return f"{x:.0f}" if abs(x) < 100 else charts.millions(x)
