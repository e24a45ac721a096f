"""The scenario report: one scenario's plan, section by section, as `notebooks/scenario_report.ipynb` shows it.

Each section is one call here and returns HTML fragments and charts, with every id of the scenario's services,
streams and rules replaced by its title.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from vru_model.core.periods import month_name
from vru_model.core.text import money, plural
from vru_model.present import charts
from vru_model.present.narrative import Finding, finding, has_plan, narrative, words
from vru_model.present.reports.cliff import cliff_first, describe_cliff_edge
from vru_model.present.reports.fragments import (
    Html,
    bullets,
    esc,
    figure_text,
    fold,
    para,
    short_title,
    table,
    value_note,
)
from vru_model.present.reports.names import RULE_NAMES, Names, area_label, sources_of, system_label
from vru_model.present.reports.plan_changes import changes_section, closures_section
from vru_model.present.reports.runs import run_scenario
from vru_model.present.reports.year import year_section
from vru_model.present.summaries import (
    OBJECTIVE,
    UNDISCOUNTED,
    cliff_headline,
    cliff_rows,
    headline,
    outcome_name,
    status_label,
)


def _plain(section: Callable[[ScenarioReport], list[object]]) -> Callable[[ScenarioReport], list[object]]:
    """A report section with every id of the scenario's services, streams and rules replaced by its title."""
    @functools.wraps(section)
    def wrapper(self: ScenarioReport) -> list[object]:
        names = self.names
        return [names.item(i) for i in section(self)]

    return wrapper


@dataclass
class ScenarioReport:
    """One scenario's solved result plus what the report compares it with."""

    result: Any  # vru_model.analysis.results.Result
    baseline: dict[str, Any] | None = None  # the baseline's summary, when there is a baseline to compare with
    kernel: dict[str, str] = field(default_factory=dict)
    threads: int = 1
    cliff: dict[str, Any] | None = None  # the cliff-edge plan's summary (cliff_edge.json), for uncertain grants
    cliff_funding: pd.DataFrame | None = None  # the cliff-edge plan's plan_funding.csv, for its spending chart
    replan: Any = None  # vru_model.analysis.replan.Replan: where the year stands, for a re-plan from actuals

    @classmethod
    def run(
        cls,
        scenario_path: str,
        overrides: dict[str, Any] | None = None,
        output_dir: str = "outputs",
        baseline_path: str = "",
        threads: int = 1,
    ) -> ScenarioReport:
        """Load, solve and write the scenario's result files (docs/contracts.md), and cliff_edge.json when the grant
        is uncertain; then find the baseline to compare with."""
        run = run_scenario(scenario_path, overrides, output_dir, baseline_path, threads)
        return cls(run.result, run.baseline, run.kernel, threads, run.cliff, cliff_funding=run.cliff_funding,
                   replan=run.replan)

    @property
    def summary(self) -> dict[str, Any]:
        return self.result.summary

    @property
    def scenario(self):  # type: ignore[no-untyped-def]
        return self.result.scenario

    # -- sections, in report order -------------------------------------------------------------

    @functools.cached_property
    def names(self) -> Names:
        return Names(self.scenario)

    def finding(self) -> Finding:
        return finding(self.summary, self.baseline, self.cliff)

    @_plain
    def introduction(self) -> list[object]:
        """The finding first: the page's only <h1> is the scenario's title and what it finds; the first sentence
        says what closes, what it costs and what to do by when."""
        sc, f = self.scenario, self.finding()
        heading = f.heading[:1].upper() + f.heading[1:]
        out: list[object] = [
            Html(f'<h1>{esc(sc.title)}<span class="scenario-finding">{esc(heading)}</span></h1>'),
            Html(f'<p class="finding finding-{esc(f.kind)}">{esc(f.sentence)}</p>'),
        ]
        if sc.description:
            out.append(Html(f'<p class="quiet"><strong>The scenario:</strong> {esc(sc.description)}</p>'))
        return out + year_section(self.replan)  # a re-plan: where the year stands comes first

    @property
    def on_record(self) -> dict[str, Any] | None:
        """The cliff-edge plan's headline when it is the plan of record (a grant confirmed late, solved), else None:
        the page then leads with it and shows the plan made as if the grant were known as a comparison, folded."""
        return cliff_headline(self.cliff) if self.scenario.uncertainty is not None else None

    def fold(self, title: str, lead: str, items: list[object], as_if_known: bool = False) -> list[object]:
        """A folded section (`fragments.fold`); one about the plan made as if the grant were known says so when the
        page's plan of record is the cliff-edge plan."""
        if as_if_known and self.on_record:
            title += " (the plan made as if the grant were known)"
        return fold(title, lead, [self.names.item(i) for i in items])

    @_plain
    def headline_section(self) -> list[object]:
        """The plan of record's headline: the cliff-edge plan's for a grant confirmed late, else the plan's."""
        unc, c = self.scenario.uncertainty, self.on_record
        if unc is not None and c:
            return [para(f"The {unc.fy} grant is confirmed only in {month_name(unc.confirmed_month)}, so the plan to "
                         "act on is the cliff-edge plan, made for every grant outcome at once. A plan made as if "
                         "the grant were known from the start is kept further down, folded, as a comparison."),
                    table(cliff_rows(c), ["Figure", "Value"], "Cliff-edge plan: headline figures", [False, True])]
        out: list[object] = []
        if unc is not None:
            out.append(para(f"The cliff-edge plan could not be worked out (see the end of this report), so the "
                            f"summary and figures below are for a plan made as if the {unc.fy} grant were known "
                            f"from the start to be {money(self.scenario.core_grant(unc.fy))}: read them knowing it "
                            f"is confirmed only in {month_name(unc.confirmed_month)}."))
        return out + self._plan_headline(in_words=unc is not None)

    def _plan_headline(self, in_words: bool = False) -> list[object]:
        """The plan's headline figures; IN_WORDS adds the plan in a few sentences (for the plan made as if the grant
        were known, which has no finding of its own at the top of the page)."""
        out: list[object] = [Html(f'<p class="narrative">{esc(narrative(self.summary, self.baseline))}</p>')
                             ] if in_words else []
        h = headline(self.summary)
        fy = self.summary["fy"]
        rows = [["Plan status", status_label(h["status"])]]
        rows += [[f"Core grant {y}", money(row["core_grant"])] for y, row in fy.items()]
        if has_plan(self.summary):
            rows += [
                [f"Social value over the plan ({UNDISCOUNTED}; illustrative)", figure_text(h["value"])],
                [f"Value net of exit costs and the disruption weight ({OBJECTIVE})", _objective_cell(self.summary)],
                ["Participants supported over the plan", figure_text(h["participants"], "count")],
                ["Services closing", f"{h['services_closed']} of {h['services']}"],
                [f"Exit (transition) costs ({UNDISCOUNTED})", figure_text(h["exit_costs"])],
                ["Lowest commissioned share of the core grant",
                 f"{figure_text(h['lowest_commissioned_share'], 'share')} (minimum "
                 f"{self.scenario.policy.commissioning_min_share:.0%})"],
                ["Core grant left unspent", figure_text(h["unspent_core_grant"])],
            ]
        out.append(table(rows, ["Figure", "Value"], "Headline figures"))
        if has_plan(self.summary):
            rate = self.scenario.policy.discount_rate_annual
            out.append(Html(f'<p class="note">{esc(value_note(rate))}</p>'))
        return out

    @_plain
    def changes(self) -> list[object]:
        """What to do and by when: the plan of record's notices, each with its reason in one line."""
        if self.on_record:
            return cliff_first(self.cliff or {})
        return changes_section(self.summary)

    def as_if_known(self) -> list[object]:
        """For a grant confirmed late, the plan made as if it were known from the start: a comparison, folded."""
        if not self.on_record:
            return []
        return self.fold("The plan made as if the grant were known (a comparison)",
                         "Not the plan to act on: what the plan would be if the grant were known from the start.",
                         [*self._plan_headline(in_words=True), *changes_section(self.summary),
                          *self._plan_spending()])

    @_plain
    def feasibility(self) -> list[object]:
        s = self.summary
        if s["status"] == "infeasible":
            exp = s.get("explanation") or {}
            out: list[object] = [para("No plan can meet every rule of this scenario. This is why:")]
            out.append(Html('<div class="explanation">' + bullets(exp.get("sentences") or [exp.get("text", "")])
                            + "</div>"))
            extra = {y: v for y, v in (exp.get("extra_core_grant_needed") or {}).items() if v > 0.005}
            if extra:
                out.append(table([[y, money(v)] for y, v in extra.items()],
                                 ["Financial year", "Extra core grant needed"],
                                 "The least extra core grant that would make a lawful plan possible", [False, True]))
            return out
        if s["status"] == "error":
            return [para("The solver failed, so there is no plan to show. Try re-running; if it fails again, "
                         "check the scenario's figures.")]
        text = "Every rule of this scenario can be met: the plan below satisfies all grant conditions."
        if s["status"] == "time_limit":
            text = "The solver stopped at its time limit: the plan below meets every rule but may not be the best."
        return [para(text)]

    @_plain
    def spending(self) -> list[object]:
        """The plan of record's spending by stream and year."""
        if self.on_record and self.cliff_funding is not None:
            return self._cliff_spending()
        return self._plan_spending()

    def _cliff_spending(self) -> list[object]:
        """The cliff-edge plan's spending: one bar per year while every outcome spends alike, then one per grant
        outcome; the dashed line is the core grant each bar has."""
        unc, f, cliff = self.scenario.uncertainty, self.cliff_funding, self.cliff or {}
        assert unc is not None and f is not None
        titles = {k: (v.title or k) for k, v in self.scenario.funding.items()} | {"unfunded_liability":
                                                                                "Unfunded liability"}
        core = self.scenario.core_stream
        bars: list[tuple[str, str, dict[str, Any] | None]] = []
        for y in self.summary["fy"]:
            if y < unc.fy:
                bars.append((y, y, None))
            else:
                bars += [(f"{y}\n{_short_label(o)}", y, o) for o in cliff["outcomes"]]
        first = cliff["outcomes"][0]["name"]
        sums = f.groupby(["outcome", "fy", "stream"])["amount"].sum()

        def spent(o: dict[str, Any] | None, y: str, stream: str) -> float:
            return float(sums.get((o["name"] if o else first, y, stream), 0.0))

        streams = [k for k in dict.fromkeys(f["stream"]) if k]
        series = {short_title(titles.get(k, k), 64): [spent(o, y, k) for _c, y, o in bars] for k in streams}
        grant = {c: spent(o, y, core) + float(((o or cliff["outcomes"][0]).get("core_unspent") or {}).get(y, 0.0))
                 for c, y, o in bars}
        names = {c: (f"{y} if {outcome_name(o)} ({o['probability']:.0%} chance)" if o else y) for c, y, o in bars}
        alt = "Stacked bar chart of the cliff-edge plan's spending by funding stream, by year and grant outcome. " + \
            " ".join(f"{names[c]}: " + ", ".join(f"{n} {money(v[k])}" for n, v in series.items() if v[k] > 0)
                     + f"; core grant {money(grant[c])}." for k, c in enumerate(names))
        chart = charts.stacked_bars(
            [c for c, _y, _o in bars], series, ylabel="spend per year", marker=grant,
            marker_label="core grant that year", alt=alt,
            caption="The cliff-edge plan's spending by funding stream: one bar a year until the grant is known, "
                    "then one for each grant outcome; the dashed black line marks the core grant that bar has.")
        rows = [[names[c], money(grant[c]), money(sum(v[k] for v in series.values())),
                 money(grant[c] - spent(o, y, core))] for k, (c, y, o) in enumerate(bars)]
        return [chart, table(rows, ["Year and grant outcome", "Core grant", "VRU spend (all streams)",
                                    "Core grant unspent (no carry-over)"],
                             "The cliff-edge plan's spending by year and grant outcome", [False, True, True, True])]

    def _plan_spending(self) -> list[object]:
        if not has_plan(self.summary):
            return [para("There is no plan, so there is no spending to show.")]
        fy = self.summary["fy"]
        years = list(fy)
        titles = {k: (v.title or k) for k, v in self.scenario.funding.items()}
        streams = [k for k in next(iter(fy.values()))["spent_by_stream"]]
        series = {short_title(titles.get(k, k), 64): [fy[y]["spent_by_stream"].get(k, 0.0) for y in years]
                  for k in streams if any(fy[y]["spent_by_stream"].get(k, 0.0) > 0 for y in years)}
        series["Partners (mainstreaming)"] = [fy[y]["partner_spend"] for y in years]
        grant = {y: fy[y]["core_grant"] for y in years}
        alt = "Stacked bar chart of spending by funding stream in each financial year. " + " ".join(
            f"{y}: " + ", ".join(f"{name} {money(vals[k])}" for name, vals in series.items() if vals[k] > 0)
            + f"; core grant available {money(grant[y])}." for k, y in enumerate(years))
        chart = charts.stacked_bars(
            years, series, ylabel="spend per year", marker=grant, marker_label="core grant available", alt=alt,
            caption="Spending by funding stream and financial year; the dashed black line marks the core grant "
                    "available that year.")
        rows = []
        for y in years:
            row = fy[y]
            spent = sum(row["spent_by_stream"].values())
            rows.append([y, money(row["core_grant"]), money(spent), money(row["partner_spend"]),
                         money(sum(row["unspent_by_stream"].values()))])
        out: list[object] = [chart, table(rows, ["Financial year", "Core grant", "VRU spend (all streams)",
                                                 "Partner spend", "Unspent (no carry-over)"],
                                          "Spending by financial year", [False, True, True, True, True])]
        return out + [para(t) for t in self._unspent_reasons()]

    def _unspent_reasons(self) -> list[str]:
        """Why core grant is left unspent in a year: lost for good (no carry-over), so the page must say why the
        plan leaves it (growth_20 left £305k with no word but "worth £0.00" a pound)."""
        sc, alloc = self.scenario, self.result.allocation
        core = sc.core_stream
        out = []
        for y, row in self.summary["fy"].items():
            left = row["unspent_by_stream"].get(core, 0.0)
            if left <= 500:
                continue
            mine = alloc[alloc["fy"] == y]
            running = mine[mine["running"] == 1]
            below = sorted({str(i) for i, s in zip(running["intervention"], running["scale"], strict=True)
                            if s < sc.interventions[str(i)].scale.max - 0.005})
            idle = [i for i in sc.interventions if i not in set(running["intervention"])]
            if not below:
                why = ("every service the plan runs is at its largest scale all year, so the grant has "
                       "nothing more to buy" + (f", and the {plural(len(idle), 'service')} it does not run are not "
                                               "worth their cost to the plan" if idle else ""))
            else:
                why = (f"{plural(len(below), 'service')} could take more "
                       f"({'; '.join(short_title(sc.interventions[i].title, 40) for i in below[:3])}"
                       f"{'; ...' if len(below) > 3 else ''}), but not for more value than it costs the plan "
                       "under its rules and weights")
            out.append(f"{money(left)} of the {y} core grant is left unspent: {why}. Nothing carries over to a "
                       "later year, and the grant is paid against spending, so it is lost.")
        return out

    @_plain
    def commissioning(self) -> list[object]:
        if not has_plan(self.summary):
            return [para("There is no plan, so there is no commissioned share to show.")]
        fy = {y: r for y, r in self.summary["fy"].items() if r.get("commissioned_share") is not None}
        kappa = self.scenario.policy.commissioning_min_share
        years = list(fy)
        shares = [fy[y]["commissioned_share"] for y in years]
        met = all(s >= kappa - 1e-4 for s in shares)
        alt = (f"Bar chart of the share of the core grant spent on commissioned services each year against a "
               f"{kappa:.0%} minimum: " + ", ".join(f"{y} {s:.0%}" for y, s in zip(years, shares, strict=True))
               + (". Every year meets the minimum." if met else ". Not every year meets the minimum."))
        out: list[object] = []
        if years:
            out.append(charts.share_bars(years, shares, kappa, alt=alt, caption=f"Commissioned share of the core "
                                         f"grant each year; the dashed line is the {kappa:.0%} minimum."))
        rows = [[y, money(fy[y]["commissioned_spend"]), f"{fy[y]['commissioned_share']:.0%}", f"{kappa:.0%}",
                 money(fy[y]["commissioned_spend"] - kappa * fy[y]["core_grant"]),
                 "Yes" if fy[y]["commissioned_share"] >= kappa - 1e-4 else "No"] for y in years]
        out.append(table(rows, ["Financial year", "Commissioned spend", "Share", "Minimum",
                                "Margin above the minimum", "Met?"],
                         "Commissioning minimum by year", [False, True, True, True, True, False]))
        return out

    @_plain
    def closures(self) -> list[object]:
        """Each closure and cut in full (folded): timeline, costs to keep, reasons."""
        return closures_section(self.summary, self.result.allocation, self.scenario)

    @_plain
    def value(self) -> list[object]:
        if not has_plan(self.summary):
            return [para("There is no plan, so there is no value to show.")]
        by = self.summary["by"]
        systems = list(by["system"])
        areas = list(by["area"])
        panels = [
            ("By system", [system_label(k) for k in systems], [by["system"][k]["value"] for k in systems]),
            ("By area", [area_label(k) for k in areas], [by["area"][k]["value"] for k in areas]),
        ]
        alt = (f"Two bar charts of social value over the plan ({UNDISCOUNTED}). By system: " + ", ".join(
            f"{system_label(k)} {money(by['system'][k]['value'])}" for k in systems) + ". By area: " + ", ".join(
            f"{area_label(k, full=True)} {money(by['area'][k]['value'])}" for k in areas) + ".")
        chart = charts.horizontal_bars(panels, alt=alt, caption="Social value over the plan by system and by area "
                                       f"({UNDISCOUNTED}; illustrative; see the note on value above). Each service "
                                       "counts once, under the area it serves; the areas are named in full in the "
                                       "table below.")
        cols = ["VRU spend", "Participants", "Social value (undiscounted)"]

        def rows_of(group: dict[str, dict[str, float]], label: Callable[[str], str]) -> list[list[str]]:
            return [[label(k), money(v["vru_spend"]), f"{v['participants']:,.0f}", money(v["value"])]
                    for k, v in group.items()]

        def total(group: dict[str, dict[str, float]]) -> list[str]:
            return ["Total, every service", money(sum(v["vru_spend"] for v in group.values())),
                    f"{sum(v['participants'] for v in group.values()):,.0f}",
                    money(sum(v["value"] for v in group.values()))]

        return [chart,
                table(rows_of(by["system"], system_label), ["System", *cols], "Spend, participants and value by system",
                      [False] + [True] * 3, total=total(by["system"])),
                table(rows_of(by["area"], lambda k: area_label(k, full=True)), ["Area", *cols],
                      "Spend, participants and value by area (each service once, under the area it serves)",
                      [False] + [True] * 3, total=total(by["area"]))]

    @_plain
    def shadow_prices(self) -> list[object]:
        sp = self.summary.get("shadow_prices") or {}
        if not sp.get("available"):
            return [para("Shadow prices are not available for this scenario (they need a plan).")]
        return [para("What one more pound, or one rule less, would be worth, with the plan's running decisions "
                     "held as they are:"), bullets(sp.get("text", []))]

    @_plain
    def compliance(self) -> list[object]:
        ledger = self.summary.get("compliance") or []
        if not ledger:
            return [para("There is no plan, so there is nothing to check against the grant conditions.")]
        rows = [[RULE_NAMES.get(c["rule"], c["rule"]), c.get("fy", "all\u00a0years"),
                 "✓\u00a0Met" if c["passed"] else "✗\u00a0NOT\u00a0met", c["text"]] for c in ledger]
        failed = sum(not c["passed"] for c in ledger)
        lead = "Every grant condition is met." if not failed else f"{words(failed).capitalize()} condition(s) NOT met."
        return [para(lead), table(rows, ["Rule", "Year", "Met?", "In words"], "Compliance ledger")]

    @_plain
    def comparison(self) -> list[object]:
        s, b = self.summary, self.baseline
        if b is None:
            return [para("This is the baseline, or no baseline was given, so there is nothing to compare with.")]
        hs, hb = headline(s), headline(b)
        rows = []
        for label, key, kind in [("Core grant over the plan", "core_grant_total", "money"),
                                 (f"Social value ({UNDISCOUNTED}; illustrative)", "value", "money"),
                                 ("Participants supported", "participants", "count"),
                                 ("Services closing", "services_closed", "count"),
                                 ("Exit costs", "exit_costs", "money"),
                                 ("Lowest commissioned share", "lowest_commissioned_share", "share")]:
            a, z = hs[key], hb[key]
            diff = None if a is None or z is None else a - z
            if diff is None:
                dtext = "–"
            elif abs(diff) < (0.005 if kind == "share" else 0.5):
                dtext = "no change"
            else:
                sign = "+" if diff > 0 else ""
                dtext = sign + (f"{diff * 100:.0f} points" if kind == "share" else figure_text(diff, kind))
            rows.append([label, figure_text(a, kind), figure_text(z, kind), dtext])
        out: list[object] = [table(rows, ["Figure", "This scenario", "Baseline", "Difference"],
                                   f"This scenario against the baseline ({b.get('title', 'baseline')})")]
        mine = {c["intervention"]: c for c in s.get("closures", [])}
        theirs = {c["intervention"] for c in b.get("closures", [])}
        extra = [c["title"] for i, c in mine.items() if i not in theirs]
        if has_plan(s) and extra:
            out += [para(f"{words(len(extra)).capitalize()} service{'s close' if len(extra) != 1 else ' closes'} here "
                         "that the baseline keeps:"), bullets(extra)]
        elif has_plan(s):
            out.append(para("No service closes here that the baseline keeps."))
        return out

    @_plain
    def cliff_edge(self) -> list[object]:
        if self.scenario.uncertainty is None:
            return []
        return describe_cliff_edge(self.cliff or {"status_text": "The cliff-edge plan was not worked out."})

    @_plain
    def provenance(self) -> list[object]:
        p = self.summary["provenance"]
        rows = [["Scenario file", f"{self.scenario.name}.yaml"],
                ["Input hash (SHA-256 of the resolved scenario)", p["input_hash"]],
                ["Solved at (UTC)", p["time"]], ["Solver", p.get("solver", "")],
                ["Solve time", f"{self.summary.get('solve_seconds', 0):.2f} s"]]
        rows += [[f"Version: {k}", v] for k, v in p.get("versions", {}).items()]
        rows += [[f"Kernel {k}", v] for k, v in self.kernel.items()]
        sources = [f"{self.names.source_label(key)}: {text}" for key, text in sources_of(self.scenario)]
        out: list[object] = [table(rows, ["Item", "Value"], "Provenance of this report")]
        if sources:
            out += [para("Sources and assumptions behind the figures, as the scenario file states them:"),
                    Html('<details class="no-print"><summary>Show all sources</summary>' + bullets(sources)
                         + "</details>")]
        return out


def _short_label(outcome: dict[str, Any]) -> str:
    """A grant outcome under a bar: 'in full', 'cut by 25%', 'ends'."""
    label = outcome.get("label") or outcome_name(outcome)
    return label.removeprefix("is ").replace("continues in full", "in full")


def _objective_cell(summary: dict[str, Any]) -> str:
    """The objective with its parts, so a reader sees how much of it is money and how much the model's weights
    (grant_ends' "-£5.94m" is £6.74m of disruption weight on a plan that still delivers social value)."""
    t = summary.get("totals") or {}
    if summary.get("objective") is None or t.get("disruption_weight") is None:
        return figure_text(summary.get("objective"))
    less = [f"{money(t['exit_costs_discounted'])} of exit and start-up costs {OBJECTIVE}"] if t[
        "exit_costs_discounted"] else []
    if t["disruption_weight"]:
        less.append(f"{money(t['disruption_weight'])} of the disruption weight on participants who lose support (a "
                    "weight, not money)")
    if t.get("penalty_weights"):
        less.append(f"{money(t['penalty_weights'])} of underwriting penalty weight (not money)")
    return (f"{money(summary['objective'])}: {money(t['value_discounted'])} of social value {OBJECTIVE}"
            + (" less " + " and ".join(less) if less else ""))
