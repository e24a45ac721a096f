"""The scenario report and the comparison report, as pieces a notebook displays in order.

Notebooks stay thin: each section of `notebooks/scenario_report.ipynb` is one call here. Every
section returns HTML fragments and charts; all text that comes from a scenario file (titles,
descriptions, sources, explanations) is HTML-escaped here, before it reaches any page.
"""

from __future__ import annotations

import functools
import html
import json
import platform
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pandas as pd

from vru_model.analysis import cliff_edge, frontier, robustness
from vru_model.analysis.results import input_hash
from vru_model.analysis.solve import solve
from vru_model.core.periods import month_name
from vru_model.core.text import money, plural
from vru_model.model.build import RULES
from vru_model.present import charts
from vru_model.present.charts import Chart
from vru_model.present.narrative import (
    Finding,
    common_reductions,
    core_grant_total,
    finding,
    has_plan,
    narrative,
    words,
)
from vru_model.scenario.load import load_scenario

RULE_NAMES = {  # the ledger's rules as a reader knows them (summary.json keeps the ids)
    "commissioning_minimum": "Commissioning minimum",
    "stream_budget": "Funding stream within its amount",
    "ring_fence": "Ring-fenced money spent only where allowed",
    "central_capability_floor": "Core functions of the unit kept running",
    "committed_contracts": "Committed contracts honoured",
    "underwriting_cap": "OPCC underwriting within its cap",
}
UNDISCOUNTED = "undiscounted"
OBJECTIVE = "in today's money"


def value_note(rate: float = 0.035) -> str:
    """What a value figure means: the same words wherever a value is shown."""
    return ("Social value is violence avoided, priced with Home Office unit costs of crime (The economic and social "
            "costs of crime, 2018) and weighted by the confidence of the evidence. Figures labelled “social value "
            "(undiscounted)” add it up month by month over the plan, as allocation.csv does. Figures “in today's "
            f"money” count value later in the plan for less ({rate:.1%} a year, the HM Treasury Green Book rate) "
            "and are net of exit and disruption costs (and, for the cliff-edge plan, of underwriting and "
            "unfunded-liability penalties): the model chooses the plan that makes this figure largest. Most inputs "
            "are illustrative assumptions (see the scenario's sources).")


VALUE_NOTE = value_note()


class Html(str):
    """A fragment of trusted HTML (built here, with scenario text escaped) that notebooks display as HTML and
    page templates insert as it is (`__html__` is how Jinja2 and markupsafe recognise trusted markup)."""

    def _repr_html_(self) -> str:
        return str(self)

    def __html__(self) -> str:
        return str(self)


def esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def _keep_cell(change: dict[str, Any]) -> str:
    """A closure's or reduction's cost to keep for a table cell: the figure, or why there is none."""
    if change.get("cost_to_keep") is not None:
        cost, social = change["cost_to_keep"], (change.get("cost_to_keep_parts") or {}).get("social_value")
        if social is None or cost <= 0.5:
            return money(cost)
        if social < -0.5:  # keeping it adds social value; the cost is exit costs and the model's weights
            return f"{money(cost)}, though keeping it adds {money(-social)} of social value"
        if social <= 0.5:
            return f"{money(cost)}, none of it social value"
        if social > cost + 0.5:  # keeping it saves exit costs or weights that offset part of the value lost
            return f"{money(cost)}: {money(social)} of social value, less {money(social - cost)} it saves"
        return f"{money(cost)}, of which social value {money(social)}"
    return change.get("cost_to_keep_note", "not measured")


def _objective_cell(summary: dict[str, Any]) -> str:
    """The objective with its parts, so a reader sees how much of it is money and how much the model's weights
    (grant_ends' "-£5.94m" is £6.74m of disruption weight on a plan that still delivers social value)."""
    t = summary.get("totals") or {}
    if summary.get("objective") is None or t.get("disruption_weight") is None:
        return _fmt(summary.get("objective"))
    less = [f"{money(t['exit_costs_discounted'])} of exit and start-up costs"] if t["exit_costs_discounted"] else []
    if t["disruption_weight"]:
        less.append(f"{money(t['disruption_weight'])} of the disruption weight on participants who lose support (a "
                    "weight, not money)")
    if t.get("penalty_weights"):
        less.append(f"{money(t['penalty_weights'])} of underwriting penalty weight (not money)")
    return (f"{money(summary['objective'])}: {money(t['value_discounted'])} of social value"
            + (" less " + " and ".join(less) if less else ""))


def _reasons(heading: str, changes: list[dict[str, Any]]) -> Html:
    """The reasons as prose under their table: as a column they were squeezed to a few words a line (a board
    paper ran to two A4 pages a closure)."""
    return Html(f"<h3>{heading}</h3>" + "".join(
        f'<p class="reason"><strong>{esc(c["title"])}.</strong> {esc(c.get("reason", ""))}</p>' for c in changes))


def months_text(n: int) -> str:
    return f"{n} month{'s' if n != 1 else ''}"


def table(
    rows: Iterable[Sequence[object]],
    columns: Sequence[str],
    caption: str,
    numeric: Sequence[bool] | None = None,
    total: Sequence[object] | None = None,
) -> Html:
    """An accessible table: caption, header cells with scope, first cell of each row a row header, an optional
    totals row; all escaped. It sits in its own scroll box, so a narrow screen scrolls the table, not the page."""
    numeric = numeric or [False] * len(columns)
    cls = [' class="num"' if n else "" for n in numeric]
    head = "".join(f'<th scope="col"{k}>{esc(c)}</th>' for c, k in zip(columns, cls, strict=True))
    body = []
    for row in rows:
        cells = [f'<th scope="row">{esc(row[0])}</th>']
        cells += [f"<td{k}>{esc(v)}</td>" for v, k in zip(row[1:], cls[1:], strict=True)]
        body.append(f"<tr>{''.join(cells)}</tr>")
    label = esc(caption)
    foot = ""
    if total is not None:
        cells = [f'<th scope="row">{esc(total[0])}</th>'] + [f"<td{k}>{esc(v)}</td>"
                                                             for v, k in zip(total[1:], cls[1:], strict=True)]
        foot = f'<tfoot><tr class="total">{"".join(cells)}</tr></tfoot>'
    return Html(f'<div class="table-scroll" role="region" aria-label="{label}" tabindex="0">'
                f'<table class="data"><caption>{label}</caption><thead><tr>{head}</tr></thead>'
                f"<tbody>{''.join(body)}</tbody>{foot}</table></div>")


def para(*sentences: str) -> Html:
    """One paragraph of plain text (escaped)."""
    return Html(f"<p>{esc(' '.join(s for s in sentences if s))}</p>")


def bullets(items: Iterable[str]) -> Html:
    return Html("<ul>" + "".join(f"<li>{esc(i)}</li>" for i in items) + "</ul>")


def caption(chart: Chart) -> Html:
    return Html(f'<p class="caption"><strong>Figure.</strong> {esc(chart.caption)}</p>')


def show(items: Iterable[object]) -> None:
    """Display a section's pieces in a notebook (a chart's caption goes just above it)."""
    from IPython.display import display

    for item in items:
        if isinstance(item, Chart):
            display(caption(item))
        display(item)


def headline(summary: dict[str, Any]) -> dict[str, Any]:
    """The handful of figures an index or a spreadsheet shows for one scenario."""
    fy = summary.get("fy", {})
    shares = [row["commissioned_share"] for row in fy.values() if row.get("commissioned_share") is not None]
    totals = summary.get("totals", {})
    planned = has_plan(summary)
    core = next(iter(summary.get("fy", {}).values()), {}).get("spent_by_stream", {})
    core_stream = next(iter(core), None)
    unspent = sum(row["unspent_by_stream"].get(core_stream, 0.0) for row in fy.values()) if core_stream else 0.0
    return {
        "status": summary.get("status", "unknown"),
        "core_grant_total": core_grant_total(summary),
        "value": totals.get("value") if planned else None,
        "participants": totals.get("participants") if planned else None,
        "services": totals.get("services"),
        "services_closed": totals.get("services_closed") if planned else None,
        "exit_costs": totals.get("exit_costs") if planned else None,
        "lowest_commissioned_share": min(shares) if shares and planned else None,
        "unspent_core_grant": round(unspent, 2) if planned else None,
    }


def cliff_headline(cliff: dict[str, Any] | None) -> dict[str, Any] | None:
    """The cliff-edge plan's headline (from cliff_edge.json), or None when there is no two-stage plan."""
    if not cliff or not has_plan(cliff) or not cliff.get("outcomes"):
        return None
    worst = min(cliff["outcomes"], key=lambda o: (o["grant"], o.get("objective", 0.0)))
    here = cliff.get("here_and_now") or {}
    unc = cliff.get("uncertainty") or {}

    def counts(o: dict[str, Any]) -> dict[str, Any]:
        """Closures over the whole plan (as a plan with every grant known counts them) and cuts of services that
        do not close, in one outcome's plan."""
        closing = {c["intervention"] for c in o.get("closures") or []}
        cut = {r["intervention"] for r in o.get("reductions") or []} - closing
        return {"name": _outcome_name(o), "closes": len(closing), "reduces": len(cut)}

    return {
        "fy": unc.get("fy", ""),
        "confirmed_month": unc.get("confirmed_month"),
        "expected_value": cliff.get("expected_value"),
        "services": len(here.get("services", [])),
        "notices_now": len(here.get("notices", [])),
        "variations_now": len(common_reductions(cliff["outcomes"], unc.get("confirmed_month"))),
        "closed_everywhere": len(cliff.get("closed_in_every_outcome") or []),
        "by_outcome": [counts(o) for o in cliff["outcomes"]],
        "no_regret_core": len(cliff.get("no_regret_core") or []),
        "worst": worst.get("label") or worst["name"].replace("_", " "),
        "worst_grant": worst["grant"],
        "worst_underwriting": worst.get("underwriting_drawn", 0.0),
        "worst_liability": worst.get("unfunded_liability", 0.0),
    }


def _now_text(c: dict[str, Any]) -> str:
    """What to do before the grant is confirmed, in a few words."""
    when = f"before {month_name(c['confirmed_month'])}" if c.get("confirmed_month") else "before confirmation"
    variations = c.get("variations_now", 0)
    cuts = f"notice of variation on {plural(variations, 'service')}" if variations else ""
    if c["notices_now"]:
        return (f"serve notice on {plural(c['notices_now'], 'service')}{f' and {cuts}' if cuts else ''} {when}, "
                "whatever the grant")
    if cuts:
        return f"serve {cuts} {when}, whatever the grant; every closure can wait until the grant is known"
    return f"serve no notices {when}: every closure can wait until the grant is known"


def _closing_counts(c: dict[str, Any]) -> str:
    """'closes if the grant ends: 23; if it is cut by 25%: 4; if it continues in full: 0'."""
    return "; ".join(f"{o['name']}: {o['closes']} close" + (f", {o['reduces']} reduced" if o["reduces"] else "")
                     for o in c["by_outcome"])


def cliff_text(c: dict[str, Any]) -> str:
    """The cliff-edge headline in one sentence, for the index and the comparison: what to do now first."""
    liability = (f"an unfunded liability of {money(c['worst_liability'])}" if c["worst_liability"] > 0.5
                 else "no unfunded liability")
    return (f"Cliff-edge plan ({c['fy']} grant uncertain): now, {_now_text(c)}. Services by grant outcome: "
            f"{_closing_counts(c)}. Expected value {money(c['expected_value'])} ({OBJECTIVE}, after underwriting "
            f"and liability penalties); if the grant {c['worst']} ({money(c['worst_grant'])}): "
            f"{money(c['worst_underwriting'])} underwriting drawn and {liability}.")


def cliff_rows(c: dict[str, Any]) -> list[list[str]]:
    now = _now_text(c)
    rows = [["What to do now", now[:1].upper() + now[1:]]]
    rows += [[f"Services that close over the plan if {o['name']}", f"{o['closes']} of {c['services']}"
              + (f" ({o['reduces']} more reduced)" if o["reduces"] else "")] for o in c["by_outcome"]]
    return [
        *rows,
        ["Expected value after underwriting and liability penalties (discounted)", money(c["expected_value"])],
        ["No-regret core (services running all year in every outcome)", f"{c['no_regret_core']} of {c['services']}"],
        [f"Underwriting drawn if the grant {c['worst']} ({money(c['worst_grant'])})", money(c["worst_underwriting"])],
        [f"Unfunded liability if the grant {c['worst']}", money(c["worst_liability"])],
    ]


def read_cliff_edge(folder: Path, summary: dict[str, Any] | None = None) -> dict[str, Any] | None:
    """cliff_edge.json next to a scenario's results, when it was made from the same inputs as its summary."""
    try:
        cliff = json.loads((folder / "cliff_edge.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    mine = (cliff.get("provenance") or {}).get("input_hash")
    if summary is not None and mine != (summary.get("provenance") or {}).get("input_hash"):
        return None
    return cliff


class Names:
    """A scenario's ids (services, funding streams, rules) and the titles a reader knows them by.

    Pages show titles only; text built elsewhere from a summary (explanations, ledgers, cliff-edge sentences) may
    still carry an id, so every report section passes through `plain` before it is shown."""

    def __init__(self, scenario: Any) -> None:
        titles = {i: item.title for i, item in scenario.interventions.items()}
        titles |= {s: stream.title or s.replace("_", " ") for s, stream in scenario.funding.items()}
        self.titles = titles
        self.rules = set(RULES) | set(RULE_NAMES)
        ids = sorted(set(titles) | self.rules, key=len, reverse=True)
        self._bracketed = re.compile(r" ?\((" + "|".join(map(re.escape, ids)) + r")\)")
        spelled = [i for i in ids if "_" in i]  # ids that cannot be ordinary words
        self._bare = re.compile(r"(?<![\w./-])(" + "|".join(map(re.escape, spelled)) + r")(?![\w/-])")

    def _title(self, key: str) -> str:
        if key in self.titles:
            return self.titles[key]
        return RULE_NAMES.get(key, key.replace("_", " ")).lower()

    def plain(self, text: str, escape: bool = False) -> str:
        """Ids in TEXT replaced by titles: "(rule_id)" after a rule's words is dropped, "(service_id)" and a bare
        id become the title (escaped when TEXT is HTML)."""
        def bracketed(m: re.Match[str]) -> str:
            key = m.group(1)
            if key in self.titles:
                return f" ({esc(self.titles[key]) if escape else self.titles[key]})"
            return ""

        def bare(m: re.Match[str]) -> str:
            title = self._title(m.group(1))
            return esc(title) if escape else title

        return self._bare.sub(bare, self._bracketed.sub(bracketed, text))

    def item(self, item: object) -> object:
        if isinstance(item, Html):
            return Html(self.plain(str(item), escape=True))
        if isinstance(item, Chart):
            return replace(item, alt=self.plain(item.alt), caption=self.plain(item.caption))
        return item


def _plain(section: Callable[[ScenarioReport], list[object]]) -> Callable[[ScenarioReport], list[object]]:
    """A report section with every id of the scenario's services, streams and rules replaced by its title."""
    @functools.wraps(section)
    def wrapper(self: ScenarioReport) -> list[object]:
        names = self.names
        return [names.item(i) for i in section(self)]

    return wrapper


def _fmt(value: object, kind: str = "money") -> str:
    if value is None:
        return "–"
    if kind == "money":
        return money(float(value))  # type: ignore[arg-type]
    if kind == "share":
        return f"{float(value):.0%}"  # type: ignore[arg-type]
    return f"{float(value):,.0f}"  # type: ignore[arg-type]


@dataclass
class ScenarioReport:
    """One scenario's solved result plus what the report compares it with."""

    result: Any  # vru_model.analysis.results.Result
    baseline: dict[str, Any] | None = None  # the baseline's summary, when there is a baseline to compare with
    kernel: dict[str, str] = field(default_factory=dict)
    threads: int = 1
    cliff: dict[str, Any] | None = None  # the cliff-edge plan's summary (cliff_edge.json), for uncertain grants

    @classmethod
    def run(
        cls,
        scenario_path: str,
        overrides: dict[str, Any] | None = None,
        output_dir: str = "outputs",
        baseline_path: str = "",
        threads: int = 1,
    ) -> ScenarioReport:
        """Load, solve and write the DESIGN section 7 files (and cliff_edge.json when the grant is uncertain);
        then find the baseline to compare with."""
        scenario = load_scenario(scenario_path, overrides or None)
        result = solve(scenario, threads=threads, price_rules=True)
        result.write(output_dir)
        baseline = None
        if baseline_path and Path(baseline_path).resolve() != Path(scenario_path).resolve():
            baseline = baseline_summary(baseline_path, output_dir, threads)
        cliff = cliff_edge_summary(scenario, output_dir, threads) if scenario.uncertainty is not None else None
        return cls(result, baseline, kernel_info(), threads, cliff)

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
        return out

    @_plain
    def headline_section(self) -> list[object]:
        out: list[object] = []
        unc = self.scenario.uncertainty
        if unc is not None:
            grant = money(self.scenario.core_grant(unc.fy))
            confirmed = month_name(unc.confirmed_month)
            c = cliff_headline(self.cliff)
            if c:
                out += [para(f"The {unc.fy} grant is confirmed only in {confirmed}, so the plan to act on is the "
                             "cliff-edge plan, made for every grant outcome at once (in full at the end of this "
                             "report):"),
                        table(cliff_rows(c), ["Figure", "Value"], "Cliff-edge plan: headline figures",
                              [False, True])]
            if c:
                out.append(para(f"The summary and figures below, and the sections up to the cliff-edge plan, are for "
                                f"a plan made as if the {unc.fy} grant were known from the start to be {grant}: a "
                                f"comparison, not the plan to act on before {confirmed}."))
            else:
                out.append(para(f"The cliff-edge plan could not be worked out (see the end of this report), so the "
                                f"summary and figures below are for a plan made as if the {unc.fy} grant were known "
                                f"from the start to be {grant}: read them knowing it is confirmed only in "
                                f"{confirmed}."))
        out.append(Html(f'<p class="narrative">{esc(narrative(self.summary, self.baseline))}</p>'))
        h = headline(self.summary)
        fy = self.summary["fy"]
        rows = [["Plan status", status_label(h["status"])]]
        rows += [[f"Core grant {y}", money(row["core_grant"])] for y, row in fy.items()]
        if has_plan(self.summary):
            rows += [
                [f"Social value over the plan ({UNDISCOUNTED}; illustrative)", _fmt(h["value"])],
                [f"Value net of exit and disruption costs ({OBJECTIVE})", _objective_cell(self.summary)],
                ["Participants supported over the plan", _fmt(h["participants"], "count")],
                ["Services closing", f"{h['services_closed']} of {h['services']}"],
                ["Exit (transition) costs", _fmt(h["exit_costs"])],
                ["Lowest commissioned share of the core grant",
                 f"{_fmt(h['lowest_commissioned_share'], 'share')} (minimum "
                 f"{self.scenario.policy.commissioning_min_share:.0%})"],
                ["Core grant left unspent", _fmt(h["unspent_core_grant"])],
            ]
        out.append(table(rows, ["Figure", "Value"], "Headline figures"))
        if has_plan(self.summary):
            rate = self.scenario.policy.discount_rate_annual
            out.append(Html(f'<p class="note">{esc(value_note(rate))}</p>'))
        return out

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
                why = ("every service the plan runs is at its largest scale (scale.max) all year, so the grant has "
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
        if not has_plan(self.summary):
            return [para("There is no plan, so no closures are scheduled.")]
        closed = self.summary["closures"]
        alloc = self.result.allocation
        months = list(self.scenario.months)
        index = {m: k for k, m in enumerate(months)}
        rows, idle, every = [], [], []
        for i, item in self.scenario.interventions.items():
            mine = alloc[alloc["intervention"] == i]
            running = mine["running"].astype(int).tolist()
            close = next((c for c in closed if c["intervention"] == i), None)
            on = mine[mine["running"] == 1]
            every.append([item.title, f"{len(on)} of {len(months)}",
                          f"{on['scale'].mean():.0%}" if len(on) else "–",
                          month_name(close["closes_from"]) if close else ("does not run" if on.empty else "–")])
            notice = closes = None
            if close:
                closes = index.get(close["closes_from"])
                notice = max(0, index.get(close["notice_by"], 0)) if close["notice_by"] >= months[0] else 0
            if any(running) or close:
                rows.append((short_title(item.title, 48), running, notice, closes))
            else:
                idle.append(item.title)
        order = sorted(range(len(rows)), key=lambda k: (rows[k][3] is None, rows[k][3] or 0, rows[k][0]))
        rows = [rows[k] for k in order]
        alt = (f"Timeline of {len(rows)} services over {month_name(months[0])} to {month_name(months[-1])}. "
               + (f"{plural(len(closed), 'service', 'closes')}: " + "; ".join(
                   f"{c['title']}, notice by {month_name(c['notice_by'])}, closes from {month_name(c['closes_from'])}"
                   for c in closed) + "." if closed else "Every service runs throughout."))
        note = f" Not shown, as they do not run in this plan: {'; '.join(idle)}." if idle else ""
        if self.summary.get("reductions"):
            note += (" A service cut in scale keeps its full bar: the table of reductions below gives each cut and "
                     "its notice of variation.")
        chart = charts.timeline(rows, months, alt=alt + note, caption="When each service runs, when notice must be "
                                "served and when it closes (services that close are listed first)." + note)
        out: list[object] = [chart]
        uncertain = cliff_headline(self.cliff)
        if uncertain:
            out.insert(0, para(f"This is the plan made as if the {uncertain['fy']} grant were known from the start, "
                               "for comparison. The plan to act on is the cliff-edge plan at the end of this report: "
                               f"{_now_text(uncertain)}."))
        if closed:
            out.append(table(
                [[c["title"], month_name(c["notice_by"]), month_name(c["closes_from"]), months_text(c["notice_months"]),
                  money(c["exit_cost"]), f"{c.get('participants_lost_per_year', c['participants_per_year']):,.0f}",
                  _keep_cell(c)]
                 for c in closed],
                ["Service", "Serve notice by", "Closes from", "Notice period", "Exit cost",
                 "Participants losing support a year", "Cost to keep (value lost if kept)"],
                "Services that close, and when notice must be served", [False, False, False, True, True, True, True]))
            out.append(_reasons("Why each service closes", closed))
        else:
            out.append(para("No service closes in this plan."))
        out += self._reductions()
        out += self._starts_and_growth()
        out += self._scales_set_at_start()
        out.append(Html("<details><summary>Show every service's months running (the timeline as a table)</summary>"
                        + table(every, ["Service", "Months running",
                                       "Average scale when running (% of design strength)", "Closes from"],
                                "Every service in the plan", [False, True, True, False]) + "</details>"))
        return out

    def _reductions(self) -> list[object]:
        """Contracts the plan cuts in scale: each needs a notice of variation by a date, as a closure needs notice."""
        cut = self.summary.get("reductions") or []
        if not cut:
            return []
        return [
            table([[r["title"], month_name(r["notice_by"]), month_name(r["from"]),
                    f"{r['scale_before']:.0%} to {r['scale']:.0%}", months_text(r["notice_months"]),
                    f"{r['participants_lost_per_year']:,.0f}", _keep_cell(r)]
                   for r in cut],
                  ["Service", "Serve notice of variation by", "Reduced from", "Scale (of design strength)",
                   "Notice period", "Participants losing support a year", "Cost to keep (value lost if kept at scale)"],
                  "Services that keep running at a reduced scale, and when notice of variation must be served",
                  [False, False, False, True, True, True, True]),
            _reasons("Why each service is reduced", cut),
        ]

    def _starts_and_growth(self) -> list[object]:
        """Services the plan starts or raises in scale: commitments to procure or agree before they begin."""
        grown = self.summary.get("starts_and_growth") or []
        if not grown:
            return []
        return [table([[r["title"], "starts" if r["kind"] == "starts" else "grows", month_name(r["from"]),
                        f"{r['scale_before']:.0%} to {r['scale']:.0%}", money(r["vru_spend_that_year"]),
                        money(r["startup_cost"])] for r in grown],
                      ["Service", "Change", "From", "Scale (of design strength)",
                       "The service's VRU spend in that financial year (start-up cost included)", "Start-up cost"],
                      "Services the plan starts or grows, to agree with providers before they begin",
                      [False, False, False, True, True, True])]

    def _scales_set_at_start(self) -> list[object]:
        set_now = self.summary.get("scales_set_at_start") or []
        if not set_now:
            return []
        k = len(set_now)
        named = "; ".join(f"{r['title']} at {r['scale']:.0%}" for r in set_now)
        return [para(
            f"The plan sets the scale of {words(k)} running service{'s' if k > 1 else ''} away from design strength "
            f"from {month_name(set_now[0]['from'])}: {named}. The scenario gives no contract scale at the start for "
            f"{'them' if k > 1 else 'it'} (scale_at_start), so the plan treats the first month's scale as its own "
            "choice, with no notice. If a contract already runs at another scale, set scale_at_start and the "
            "plan will serve the notice of variation a cut needs.")]

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
                dtext = sign + (f"{diff * 100:.0f} points" if kind == "share" else _fmt(diff, kind))
            rows.append([label, _fmt(a, kind), _fmt(z, kind), dtext])
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
            return [para("This scenario treats every year's grant as known, so there is no cliff-edge plan.")]
        return describe_cliff_edge(self.cliff or {"status_text": "The cliff-edge plan was not worked out."})

    def _source_label(self, key: str) -> str:
        """'interventions.iris.annual_cost' -> 'IRIS, annual cost': the scenario file's key in a reader's words."""
        parts = [p for p in key.split(".") if p not in ("interventions", "funding", "sources")]
        words_ = [self.names.titles.get(p) or p.replace("_", " ") for p in parts]
        return ", ".join(words_) or "scenario"

    @_plain
    def provenance(self) -> list[object]:
        p = self.summary["provenance"]
        rows = [["Scenario file", f"{self.scenario.name}.yaml"],
                ["Input hash (SHA-256 of the resolved scenario)", p["input_hash"]],
                ["Solved at (UTC)", p["time"]], ["Solver", p.get("solver", "")],
                ["Solve time", f"{self.summary.get('solve_seconds', 0):.2f} s"]]
        rows += [[f"Version: {k}", v] for k, v in p.get("versions", {}).items()]
        rows += [[f"Kernel {k}", v] for k, v in self.kernel.items()]
        sources = [f"{self._source_label(key)}: {text}" for key, text in sources_of(self.scenario)]
        out: list[object] = [table(rows, ["Item", "Value"], "Provenance of this report")]
        if sources:
            out += [para("Sources and assumptions behind the figures, as the scenario file states them:"),
                    Html('<details><summary>Show all sources</summary>' + bullets(sources) + "</details>")]
        return out


def status_label(status: str) -> str:
    return {"optimal": "Plan found", "infeasible": "No possible plan (infeasible)",
            "time_limit": "Plan found (solver time limit reached)", "error": "Solver failed"}.get(status, status)


def short_title(title: str, limit: int = 40) -> str:
    """Shorten a long title for a chart label; the full text stays in the alt text and tables."""
    title = title.split(" (")[0]
    return title if len(title) <= limit else title[: limit - 1].rstrip() + "…"


def system_label(system: str) -> str:
    return system.replace("_", " ").capitalize()


def area_label(area: str, full: bool = False) -> str:
    """An area as a row or a bar label. Services for the whole West Midlands are one row of their own, not a total;
    a service shared by several areas is named by its areas (in full, or its first two and a count on a chart)."""
    if area == "all":
        return "West Midlands-wide services"
    parts = [a.strip() for a in area.split(",")]
    if len(parts) > 2 and not full:
        return f"{parts[0]}, {parts[1]} and {len(parts) - 2} more"
    return ", ".join(parts)


def sources_of(scenario: Any) -> list[tuple[str, str]]:
    """Every `source`/`sources` entry in the scenario, with its key path."""
    found: list[tuple[str, str]] = []

    def walk(node: Any, path: str) -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                key = f"{path}.{k}" if path else str(k)
                if k == "source" and isinstance(v, str) and v:
                    found.append((path or "scenario", v))
                elif k == "sources" and isinstance(v, dict):
                    found.extend((f"{path}.{sk}" if path else str(sk), str(sv)) for sk, sv in v.items())
                else:
                    walk(v, key)
        elif isinstance(node, list):
            for k, v in enumerate(node):
                walk(v, f"{path}[{k}]")

    walk(scenario.model_dump(mode="json"), "")
    return found


def kernel_info() -> dict[str, str]:
    """How this kernel was reached (the batch runs kernels over IPC, never TCP ports)."""
    try:
        from ipykernel.connect import get_connection_info

        info = get_connection_info(unpack=True)
    except Exception:  # not in a kernel (tests, scripts): nothing to report
        return {}
    return {"transport": str(info.get("transport", "")), "python": platform.python_version()}


def baseline_summary(baseline_path: str, output_dir: str, threads: int = 1) -> dict[str, Any] | None:
    """The baseline's summary: from the batch's own output when it is current, else solved here."""
    scenario = load_scenario(baseline_path)
    written = Path(output_dir) / scenario.name / "summary.json"
    if written.is_file():
        try:
            summary = json.loads(written.read_text(encoding="utf-8"))
            if summary.get("provenance", {}).get("input_hash") == input_hash(scenario):
                return summary
        except (OSError, ValueError):
            pass
    return solve(scenario, threads=threads, shadow_prices=False).summary


def cliff_edge_summary(scenario: Any, output_dir: str, threads: int = 1) -> dict[str, Any]:
    """Solve the cliff-edge plan once, write it next to the scenario's results (cliff_edge.json, plan.csv,
    plan_funding.csv) for the index and the comparison, and return its summary; a failure becomes a summary."""
    try:
        plan = cliff_edge.solve_cliff_edge(scenario, threads=threads)
        plan.write(output_dir)
        return plan.summary
    except Exception as exc:  # the report must still render when the extra analysis fails
        return {"status": "error", "status_text": f"The cliff-edge analysis failed: {type(exc).__name__}: {exc}"}


def _state_text(state: dict[str, Any]) -> str:
    """One cell of the outcomes-by-service table."""
    if state["status"] == "closes":
        return (f"closes from {month_name(state['closes_from'])} (notice by {month_name(state['notice_by'])})")
    if state["status"] == "reduces":
        again = (f", then {state['then']:.0%} from {month_name(state['until'])}" if state.get("until") else "")
        return f"reduces to {state['scale']:.0%}{again}"
    if state["status"] == "keeps":
        return f"keeps ({state['scale']:.0%})"
    if state["status"] == "starts":
        return f"starts from {month_name(state['from'])} ({state['scale']:.0%})"
    return state["status"]


def _breakdown_text(parts: dict[str, float] | None, name: str) -> str:
    if not parts:
        return ""
    value = parts.get("social_value", 0.0)
    penalties = parts.get("underwriting_penalty", 0.0) + parts.get("unfunded_liability_penalty", 0.0)
    losses = parts.get("exit_and_disruption", 0.0)
    return (f"Of the {name}, {money(value)} is social value, {money(losses)} exit and disruption costs, and "
            f"{money(penalties)} the model's penalty weights on underwriting and unfunded liability (a weight, "
            "not money).")


def describe_cliff_edge(summary: dict[str, Any]) -> list[object]:
    """The cliff-edge plan as one story: what to do now, then each service in each grant outcome (a table),
    counts per outcome, and what the uncertainty costs (VSS, EVPI) split into value and penalty weights."""
    if summary.get("status") not in ("optimal", "time_limit"):
        why = (summary.get("explanation") or {}).get("text", "")
        return [para("The cliff-edge plan has no solution:", summary.get("status_text", ""), why)]
    sentences = summary.get("sentences") or []
    here = summary.get("here_and_now") or {}
    conf = month_name(here["confirmed_month"]) if here.get("confirmed_month") else "confirmation"
    out: list[object] = [para(sentences[0])] if sentences else []
    now = [f"Serve notice on {n['title']} by {month_name(n['notice_by'])} (it closes from "
           f"{month_name(n['closes_from'])} whatever the grant)." for n in here.get("notices", [])]
    lower = [f"{x['title']} ({x['scale_min']:.0%})" for x in here.get("services", [])
             if x.get("runs_until_confirmation") and x.get("scale_min", 1.0) < 0.995]
    if lower:
        now.append("Let these contracts below design scale for the year: " + ", ".join(lower) + ".")
    kept = sum(1 for x in here.get("services", []) if x.get("runs_until_confirmation"))
    now.append(f"Keep {plural(kept, 'service')} running until the grant is confirmed in {conf}"
               + ("; serve no other notices before then." if now else "; serve no notices before then."))
    out += [para(f"What to do now, before {conf}:"), bullets(now)]
    outcomes = summary.get("outcomes") or []
    services = summary.get("services_by_outcome") or []
    if outcomes and services:
        names = [o["name"] for o in outcomes]
        order = sorted(services, key=lambda r: (-sum(r["outcomes"][n]["status"] != "keeps" for n in names),
                                                r["title"]))
        out.append(table(
            [[r["title"], *[_state_text(r["outcomes"][n]) for n in names]] for r in order],
            ["Service", *[f"If {_outcome_name(o)} ({o['probability']:.0%})" for o in outcomes]],
            "Each service in each grant outcome, from the uncertain year on", [False] * (len(names) + 1)))
        out.append(_cliff_reasons(outcomes, here.get("confirmed_month") or ""))
        # the table's counts, from the uncertain year on; closures before it are the same in every outcome
        counts = summary.get("counts_by_outcome") or {}
        fy = (summary.get("uncertainty") or {}).get("fy", "the uncertain year")
        earlier = {len(o.get("closures") or []) - counts.get(o["name"], {}).get("closes", 0) for o in outcomes}
        def tally(o: dict[str, Any]) -> str:
            n = counts.get(o["name"], {})
            return (f"if {_outcome_name(o)}, {n.get('closes', 0)} close, {n.get('reduces', 0)} are reduced, "
                    f"{n.get('keeps', 0)} keep their scale"
                    + (f", {n['starts']} start{'s' if n['starts'] == 1 else ''}" if n.get("starts") else ""))

        out.append(para(f"In the table, from {fy} on: " + "; ".join(tally(o) for o in outcomes) + "."
                        + (f" {plural(next(iter(earlier)), 'more service', 'closes')} before {fy} in every "
                           "outcome (not in the table)." if len(earlier) == 1 and next(iter(earlier)) > 0 else "")))
        unused = [f"If {_outcome_name(o)}, " + " and ".join(f"{money(v)} of the {y} core grant" for y, v in
                                                             o["core_unspent"].items()) + " goes unspent"
                  for o in outcomes if o.get("core_unspent")]
        if unused:
            out.append(para("; ".join(unused) + " (nothing carries over to a later year)."))
    vss = "unbounded (planning for the average grant leaves some outcome with no lawful plan)" if summary.get(
        "vss_unbounded") else _fmt(summary.get("vss"))
    rows = [["Expected value after underwriting and liability penalties (discounted)",
             _fmt(summary.get("expected_value"))],
            ["Expected value if the grant were known from the start", _fmt(summary.get("wait_and_see"))],
            ["What knowing the grant from the start would be worth (EVPI)", _fmt(summary.get("evpi"))],
            ["What planning for every outcome gains over planning for the average grant (VSS)", vss]]
    out.append(table(rows, ["Figure", "Value"], "Cliff-edge plan: what the uncertainty costs", [False, True]))
    split = " ".join(t for t in (_breakdown_text(summary.get("vss_breakdown"), "VSS"),
                                 _breakdown_text(summary.get("evpi_breakdown"), "EVPI")) if t)
    if split:
        out.append(para(split))
    if outcomes:
        out.append(table(
            [[_outcome_name(o), f"{o['probability']:.0%}", money(o["grant"]), money(o["value"]),
              _fmt(o.get("objective")), f"{len(o.get('closures', []))}", money(o.get("underwriting_drawn", 0.0)),
              money(o.get("unfunded_liability", 0.0))] for o in outcomes],
            ["Grant outcome", "Probability", "Grant", "Social value (undiscounted)",
             f"Value net of costs ({OBJECTIVE})", "Services closing", "Underwriting drawn", "Unfunded liability"],
            "Each grant outcome's plan", [False] + [True] * 7))
        names = [_outcome_name(o) for o in outcomes]
        values = [float(o["value"]) for o in outcomes]
        out.append(charts.horizontal_bars(
            [(f"Social value by grant outcome ({UNDISCOUNTED})", names, values)],
            alt=f"Bar chart of the plan's social value ({UNDISCOUNTED}) under each grant outcome: " + ", ".join(
                f"{n} {money(v)} (probability {o['probability']:.0%})" for n, v, o in zip(names, values, outcomes,
                                                                                          strict=True)) + ".",
            caption=f"Social value ({UNDISCOUNTED}) of the cliff-edge plan under each grant outcome."))
    core = summary.get("no_regret_core") or []
    if core:
        n = len(core)
        out += [para(f"The no-regret core: {words(n)} service{'s run' if n != 1 else ' runs'} all year whatever the "
                     "grant turns out to be."), Html("<details><summary>Show the no-regret core</summary>"
                                     + bullets(c.get("title", c.get("intervention", "")) for c in core)
                                     + "</details>")]
    if len(sentences) > 1:
        out.append(Html("<details><summary>The plan in sentences (notices, underwriting, liability)</summary>"
                        + bullets(sentences[1:]) + "</details>"))
    return out


def _cliff_reasons(outcomes: list[dict[str, Any]], confirmed: str) -> Html:
    """Why each service closes or is reduced, and what keeping it would cost: the decisions taken before the
    grant is known once (they are the same in every outcome), then each outcome's own."""

    def item(x: dict[str, Any]) -> str:
        # a measured cost to keep is the reason's last sentence; say so where it was not measured
        unmeasured = "" if x.get("cost_to_keep") is not None else (
            f" <em>Cost to keep: {esc(x.get('cost_to_keep_note', 'not measured'))}.</em>")
        return f'<p class="reason"><strong>{esc(x["title"])}.</strong> {esc(x.get("reason", ""))}{unmeasured}</p>'


    def changes(o: dict[str, Any]) -> list[dict[str, Any]]:
        return [*o.get("closures", []), *o.get("reductions", [])]

    before: dict[tuple[str, str], dict[str, Any]] = {}
    for o in outcomes:
        for x in changes(o):
            if x["notice_by"] < confirmed:
                before.setdefault((x["intervention"], x.get("closes_from", x.get("from", ""))), x)
    parts = []
    if before:
        parts.append(f"<h3>Decided before the grant is confirmed in {esc(month_name(confirmed))} (every outcome)</h3>"
                     + "".join(item(x) for x in before.values()))
    for o in outcomes:
        after = [x for x in changes(o) if x["notice_by"] >= confirmed]
        if after:
            parts.append(f"<h3>If {esc(_outcome_name(o))}</h3>" + "".join(item(x) for x in after))
    if not parts:
        return Html("")
    return Html("<details><summary>Why each service closes or is reduced, and what keeping it would cost"
                "</summary>" + "".join(parts) + "</details>")


def _outcome_name(o: dict[str, Any]) -> str:
    return f"the grant {o['label']}" if o.get("label") else o["name"].replace("_", " ")


# -- the funding frontier: the baseline's grant from nothing to half as much again ---------------

FRONTIER_LEVELS = (0.0, 1.5, 31)  # 0% to 150% in 5-point steps: about 10 s on the baseline, so the batch stays fast


def run_frontier(baseline_path: str, output_dir: str, threads: int = 1) -> Any:
    """The baseline's funding frontier (vru_model.analysis.frontier), written next to its results as frontier.csv,
    breakpoints.csv and frontier.json; None when the batch has no baseline."""
    if not baseline_path:
        return None
    result = frontier.frontier(load_scenario(baseline_path), *FRONTIER_LEVELS, threads=threads)
    result.write(output_dir)
    return result


def _baseline_words(text: str) -> str:
    """The frontier's sentences speak of "this scenario's" grant; in the comparison that is the baseline's."""
    return text.replace("this scenario's", "the baseline's")


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
             *[_baseline_words(t) for t in frontier.underwriting_sentences(planned)],
             f"At {top['level']:.0%}, {int(top['services_running'])} services run at the end of the plan, for "
             f"{money(top['value'])} of social value ({UNDISCOUNTED}).",
             f"The first service closes when the grant falls below {closes['level_above'].max():.0%}."
             if len(closes) else "No service closes at any level with a plan."]
    peak = planned.loc[planned["value"] >= planned["value"].max() - 0.5, "level"].min()
    if peak < last["level"]:
        facts.append(f"Above {peak:.0%} more grant adds no value: the value stays at {money(last['value'])}.")
    points = [first, top, last] if top["level"] not in (first["level"], last["level"]) else [first, last]
    alt = (f"Two line charts against the core grant, from {lv['from']:.0%} to {lv['to']:.0%} of the baseline's, "
           "with the baseline's own grant (100%) marked. "
           + (f"No lawful plan below {lowest:.0%}. " if lowest and lowest > lv["from"] else "")
           + f"Social value ({UNDISCOUNTED}): " + ", ".join(f"{money(p['value'])} at {p['level']:.0%}"
                                                            for p in points)
           + ". Services running at the end of the plan: " + ", ".join(
               f"{int(p['services_running'])} at {p['level']:.0%}" for p in points) + ".")
    chart = charts.frontier_lines(
        rows["level"].tolist(), [None if _missing(v) else float(v) for v in rows["value"]],
        [None if _missing(v) else int(v) for v in rows["services_running"]], annual_grant=annual,
        value_label=f"Social value over the plan ({UNDISCOUNTED}; illustrative)",
        running_label="Services running at the end of the plan", no_plan_below=lowest, alt=alt,
        caption=f"Social value ({UNDISCOUNTED}) and services running as the baseline's core grant goes from "
                f"{lv['from']:.0%} to {lv['to']:.0%} of its own; the dotted line is the baseline's grant (100%), the "
                "hatched band the levels with no lawful plan.")
    out: list[object] = [para(lead, *facts), chart]
    if len(found):
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
        out.append(table(table_rows, ["Core grant", "A year", "What happens"],
                         "Where services close as the baseline's core grant falls (levels "
                         f"{step * 100:g} percentage points apart: "
                         f"“below {hi:.0%}” means running at {hi:.0%}, closed at {hi - step:.0%})",
                         [False, True, False]))
    sentences = [_baseline_words(t) for t in summary.get("sentences") or []]
    if sentences:
        out.append(Html("<details><summary>The same findings as sentences</summary>" + bullets(sentences)
                        + "</details>"))
    every = [[f"{r.level:.0%}", money(r.level * annual), status_label(r.status),
              "–" if _missing(r.value) else money(r.value),
              "–" if _missing(r.services_running) else f"{int(r.services_running)}",
              "–" if _missing(r.services_closed) else f"{int(r.services_closed)}"] for r in rows.itertuples()]
    out.append(Html("<details><summary>Show the figures at every level</summary>" + table(
        every, ["Core grant (share of the baseline's)", "A year", "Plan", f"Social value ({UNDISCOUNTED})",
                "Services running at the end", "Services closing"], "The funding frontier, level by level",
        [False, True, False, True, True, True]) + "</details>"))
    out.append(Html('<p class="note">The same figures as files: <a href="baseline/frontier.csv">frontier.csv</a> '
                    '(one row per level), <a href="baseline/breakpoints.csv">breakpoints.csv</a> and '
                    '<a href="baseline/frontier.json">frontier.json</a>. ' + esc(VALUE_NOTE) + "</p>"))
    return out


# -- how sure is the plan: the evidence sampled, regret, near-optimal alternatives ---------------

ROBUSTNESS_SAMPLES = 20  # the batch's default (`vru batch --samples`): a first look that keeps the batch quick
ROBUSTNESS_EPSILONS = (0.02,)  # the batch's alternatives: `vru robustness` runs 1%, 2% and 5%
ROBUSTNESS_ALTERNATIVE_SECONDS = 10.0  # each alternative's solve in the batch stops here with the best found


def run_robustness(scenario: Any, output_dir: str, samples: int = ROBUSTNESS_SAMPLES, seed: int = 0,
                   threads: int = 1) -> Any:
    """The scenario's robustness analysis (vru_model.analysis.robustness), written to OUT/<name>/robustness/; None when
    `samples` is 0 (the batch was asked to skip it)."""
    if samples <= 0:
        return None
    if scenario.policy.objective != "max_value":
        return ("This scenario looks for the least grant that keeps a target value, not the most value for a "
                "grant, so there is no plan value to test against the evidence.")
    result = robustness.robustness(scenario, samples, seed, epsilons=ROBUSTNESS_EPSILONS, threads=threads,
                                   alternative_seconds=ROBUSTNESS_ALTERNATIVE_SECONDS)
    result.write(output_dir)
    return result


def _evidence_label(item: Any) -> str:
    ev = item.evidence
    return f"{ev.band} band, {ev.confidence.replace('_', ' ')} confidence" if ev else "no evidence of effect"


def robustness_section(result: Any) -> list[object]:
    """"How sure is this plan?" for a robustness.RobustnessResult: each service's keep/close share with its
    evidence band, the regret of the recommended plan, and the near-optimal alternatives with a sentence each."""
    if result is None:
        return [para("Not run for this report (the batch was run with --samples 0). Run "
                     "“vru robustness SCENARIO” for the full analysis.")]
    if isinstance(result, str):
        return [para(result)]
    s, sc = result.summary, result.scenario
    if not result.optimal:
        return [para(*s["sentences"])]
    n = s["samples"]
    lead = (f"Effect sizes and harm costs are uncertain, and most are illustrative assumptions. The plan was "
            f"worked out again for {n} joint samples of them (a Latin hypercube, seed {s['seed']}): each effect "
            "from the Youth Endowment Fund Toolkit's impact band for its evidence (high 30%+, moderate 10-30%, low "
            "2-9%), widened where the evidence is weak, and each harm cost within 30% of the Home Office figure.")
    if sc.uncertainty is not None:
        lead += (f" The plan tested is the one made as if the {sc.uncertainty.fy} grant were known from the start, "
                 "not the cliff-edge plan: the evidence is sampled for one grant at a time.")
    out: list[object] = [para(lead), bullets(s["sentences"])]
    services = result.services.merge(
        pd.DataFrame({"intervention": list(sc.interventions), "order": range(len(sc.interventions))}))
    # closes_share counts a service the plan never starts (not running at the end); the page says which is which
    services = services.assign(stops_share=services["closes_share"] - services["not_run_share"])
    services = services.sort_values(["stops_share", "reduced_share", "order"], ascending=[False, False, True])
    labels = [f"{short_title(sc.interventions[i].title, 40)} ({_evidence_label(sc.interventions[i])})"
              for i in services["intervention"]]
    closing = services[services["stops_share"] > 0]
    always = int((services["kept_share"] == 1).sum())
    alt = (f"Stacked bars, one per service, of the share of {n} samples in which it is kept, reduced, closes or "
           "never runs. "
           + ("; ".join(f"{sc.interventions[r.intervention].title} closes in {r.stops_share:.0%}"
                        for r in closing.itertuples()) + ". " if len(closing) else "No service closes in any sample. ")
           + f"{always} services are kept in every sample.")
    shares = {"kept": services["kept_share"].tolist(), "reduced": services["reduced_share"].tolist(),
              "closes": services["stops_share"].tolist()}
    if services["not_run_share"].any():
        shares["does not run"] = services["not_run_share"].tolist()
    out.append(charts.fate_shares(labels, shares, alt=alt,
                                  caption=f"In how many of {n} samples of the evidence each service is kept, reduced "
                                  "for some months, closes or never runs (services that close most often first; the "
                                  "evidence band and confidence in brackets)."))
    recommended = {c["intervention"]: c["closes_from"] for c in s["recommended_closures"]}
    rows = [[sc.interventions[r.intervention].title, _evidence_label(sc.interventions[r.intervention]),
             ("keeps" if r.intervention not in recommended else f"closes from {month_name(recommended[r.intervention])}"
              if recommended[r.intervention] else "does not run"),
             f"{r.stops_share:.0%}", f"{r.not_run_share:.0%}", f"{r.reduced_share:.0%}",
             month_name(r.earliest_closes_from) if r.earliest_closes_from else "–"]
            for r in services.itertuples()
            if r.stops_share > 0 or 0 < r.not_run_share < 1 or r.intervention in recommended]
    if rows:
        out.append(table(rows, ["Service", "Evidence", "Recommended plan", "Closes in", "Does not run in",
                                "Reduced in", "Earliest closure"],
                         f"Services that close, or do not run, in some of {n} samples",
                         [False, False, False, True, True, True, False]))
    regret = [float(x) for x in result.samples["regret"].dropna()]
    r = s["regret"]
    if regret:
        out.append(charts.regret_histogram(
            regret, marks={"mean": r["mean"], "90th percentile": r["p90"]},
            alt=f"Histogram of the value lost by keeping to the recommended plan in {len(regret)} samples: mean "
                f"{money(r['mean'])}, median {money(r['p50'])}, 90th percentile {money(r['p90'])}, most "
                f"{money(r['max'])}.",
            caption="Regret: in each sample, the best plan for that sample's evidence less the recommended plan's "
                    f"value under it ({OBJECTIVE}; illustrative)."))
    alts = s["alternatives"]
    if alts:
        out.append(table([[a["k"], f"{a['epsilon']:.0%}", a["kind"].replace("_", " "),
                           "–" if a["objective"] is None else money(a["objective"]),
                           "–" if a["share_of_optimum"] is None else f"{a['share_of_optimum']:.1%}", a["sentence"]]
                          for a in alts],
                         ["Plan", "Within", "Aim", f"Objective ({OBJECTIVE})", "Of the best", "In words"],
                         "Near-optimal alternatives: plans almost as good that keep or close different services",
                         [False, True, False, True, True, False]))
    out.append(Html('<p class="note">The same figures as files: <a href="robustness/services.csv">services.csv</a>, '
                    '<a href="robustness/samples.csv">samples.csv</a>, <a href="robustness/summary.json">summary.json'
                    "</a>, and each alternative plan under robustness/alternatives/. " + esc(VALUE_NOTE) + "</p>"))
    return out


def _missing(value: object) -> bool:
    """A level without a plan: NaN in a float column, pd.NA in a count column."""
    return bool(pd.isna(value))


# -- the comparison report over a batch ----------------------------------------------------------


def load_summaries(output_dir: str, names: Sequence[str] | None = None) -> list[dict[str, Any]]:
    """The summaries of the named scenarios, in that order; by default every scenario under OUTPUT_DIR."""
    out = Path(output_dir)
    if names is None:
        names = sorted(p.parent.name for p in out.glob("*/summary.json"))
    found = []
    for name in names:
        path = out / name / "summary.json"
        if path.is_file():
            found.append(json.loads(path.read_text(encoding="utf-8")))
    return found


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
            h = headline(s)
            rows.append([s.get("title", s["scenario"]), status_label(h["status"]), _fmt(h["core_grant_total"]),
                         _fmt(h["value"]), _fmt(h["participants"], "count"),
                         "–" if h["services_closed"] is None else f"{h['services_closed']} of {h['services']}",
                         _fmt(h["exit_costs"]), _fmt(h["lowest_commissioned_share"], "share")])
        out: list[object] = [table(rows, ["Scenario", "Plan", "Core grant", "Social value (undiscounted)",
                                          "Participants", "Services closing", "Exit costs",
                                          "Lowest commissioned share"], "Headline figures by scenario",
                                   [False, False, True, True, True, True, True, True])]
        uncertain = [(s, c) for s in self.summaries if (c := cliff_headline(self.cliffs.get(s["scenario"])))]
        if uncertain:
            out.append(para("For a scenario whose grant is confirmed late, the row above takes the grant as known "
                            "from the start. Its cliff-edge plan, which plans for every grant outcome at once:"))
            out.append(table(
                [[s.get("title", s["scenario"]), money(c["expected_value"]),
                  _closing_counts(c), f"{c['no_regret_core']} of {c['services']}",
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
        values = [float(s["totals"]["value"]) for s in planned]
        grants = [core_grant_total(s) for s in planned]
        alt = "Two bar charts by scenario. " + "; ".join(
            f"{s.get('title', s['scenario'])}: social value {money(v)} ({UNDISCOUNTED}), core grant {money(g)}"
            for s, v, g in zip(planned, values, grants, strict=True)) + "."
        return [charts.horizontal_bars([(f"Social value over the plan ({UNDISCOUNTED})", labels, values),
                                        ("Core grant over the plan", labels, grants)], shared=True,
                                       alt=alt, caption=f"Social value ({UNDISCOUNTED}) and core grant over the "
                                                        "plan, by scenario.")]

    def closures_chart(self) -> list[object]:
        planned = [s for s in self.summaries if has_plan(s)]
        if not planned:
            return []
        labels = [short_title(s.get("title", s["scenario"]), 44) for s in planned]
        closed = [float(s["totals"]["services_closed"]) for s in planned]
        exits = [float(s["totals"]["exit_costs"] or 0.0) for s in planned]
        alt = "Two bar charts by scenario. " + "; ".join(
            f"{s.get('title', s['scenario'])}: {plural(int(c), 'service', 'closes')}, exit costs {money(e)}"
            for s, c, e in zip(planned, closed, exits, strict=True)) + "."
        return [charts.horizontal_bars([("Services closing", labels, closed), ("Exit costs", labels, exits)],
                                       alt=alt, caption="Services closing and their exit costs, by scenario.",
                                       fmt=_count_or_money, shared=True)]

    def commissioning_table(self) -> list[object]:
        planned = [s for s in self.summaries if has_plan(s)]
        years = sorted({y for s in planned for y in s["fy"]})
        rows = [[s.get("title", s["scenario"])] + [
            _fmt(s["fy"].get(y, {}).get("commissioned_share"), "share") for y in years] for s in planned]
        return [table(rows, ["Scenario", *years], "Commissioned share of the core grant by year",
                      [False] + [True] * len(years))]


def _count_or_money(x: float, _pos: object = None) -> str:
    return f"{x:.0f}" if abs(x) < 100 else charts.millions(x)
