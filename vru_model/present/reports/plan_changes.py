"""The plan's changes to services: what closes, what is cut or grows, and the notice each change needs by when."""

from __future__ import annotations

from typing import Any

import pandas as pd

from vru_model.core.periods import month_name
from vru_model.core.text import money, plural
from vru_model.present import charts
from vru_model.present.charts import Chart
from vru_model.present.narrative import has_plan, words
from vru_model.present.reports.fragments import Html, esc, months_text, one_line, para, short_title, table


def changes_section(summary: dict[str, Any]) -> list[object]:
    """What to do and by when, at first sight: each closure and each cut in scale with its notice date and its
    reason in one line (the full reasons, costs to keep and the timeline are in `closures_section`, folded)."""
    if not has_plan(summary):
        return [para("There is no plan, so no closures are scheduled.")]
    closed = summary["closures"]
    out: list[object] = []
    if closed:
        out.append(table(
            [[c["title"], month_name(c["notice_by"]), month_name(c["closes_from"]), money(c["exit_cost"]),
              one_line(c.get("reason", ""))] for c in closed],
            ["Service", "Serve notice by", "Closes from", "Exit cost", "Why, in one line"],
            "Services that close, and when notice must be served", [False, False, False, True, False]))
    else:
        out.append(para("No service closes in this plan."))
    cut = summary.get("reductions") or []
    if cut:
        out.append(table(
            [[r["title"], month_name(r["notice_by"]), month_name(r["from"]),
              f"{r['scale_before']:.0%} to {r['scale']:.0%}", one_line(r.get("reason", ""))] for r in cut],
            ["Service", "Serve notice of variation by", "Reduced from", "Scale (of design strength)",
             "Why, in one line"],
            "Services that keep running at a reduced scale, and when notice of variation must be served",
            [False, False, False, True, False]))
    return out + _starts_and_growth(summary)


def closures_section(summary: dict[str, Any], allocation: pd.DataFrame, scenario: Any) -> list[object]:
    """Each change in full, folded: a timeline, each closure's and cut's cost to keep and full reason, scales set
    at the start, and every service's months running."""
    if not has_plan(summary):
        return []
    closed = summary["closures"]
    chart, every = _timeline(summary, allocation, scenario)
    out: list[object] = [chart]
    if closed:
        out.append(table(
            [[c["title"], months_text(c["notice_months"]),
              f"{c.get('participants_lost_per_year', c['participants_per_year']):,.0f}", _keep_cell(c)]
             for c in closed],
            ["Service", "Notice period", "Participants losing support a year", "Cost to keep (value lost if kept)"],
            "Services that close: what closing them costs", [False, True, True, True]))
        out.append(_reasons("Why each service closes", closed))
    out += _reductions(summary)
    out += _scales_set_at_start(summary)
    out.append(Html('<details class="no-print"><summary>Show every service\'s months running (the timeline as a '
                    "table)</summary>" + table(every, ["Service", "Months running", "Average scale when running (% "
                                                       "of design strength)", "Closes from"],
                                               "Every service in the plan", [False, True, True, False])
                    + "</details>"))
    return out


def _timeline(summary: dict[str, Any], allocation: pd.DataFrame, scenario: Any) -> tuple[Chart, list[list[str]]]:
    """When each service runs, when notice is served and when it closes, as a chart; and every service's months
    running as rows for the table under it."""
    closed = summary["closures"]
    months = list(scenario.months)
    index = {m: k for k, m in enumerate(months)}
    rows, idle, every = [], [], []
    for i, item in scenario.interventions.items():
        mine = allocation[allocation["intervention"] == i]
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
    if summary.get("reductions"):
        note += (" A service cut in scale keeps its full bar: the table of reductions below gives each cut and "
                 "its notice of variation.")
    chart = charts.timeline(rows, months, alt=alt + note, caption="When each service runs, when notice must be "
                            "served and when it closes (services that close are listed first)." + note)
    return chart, every


def _reductions(summary: dict[str, Any]) -> list[object]:
    """Contracts the plan cuts in scale: what each cut costs the participants, its cost to keep and its reason."""
    cut = summary.get("reductions") or []
    if not cut:
        return []
    return [
        table([[r["title"], months_text(r["notice_months"]), f"{r['participants_lost_per_year']:,.0f}",
                _keep_cell(r)] for r in cut],
              ["Service", "Notice period", "Participants losing support a year",
               "Cost to keep (value lost if kept at scale)"],
              "Services that keep running at a reduced scale: what the cut costs", [False, True, True, True]),
        _reasons("Why each service is reduced", cut),
    ]


def _starts_and_growth(summary: dict[str, Any]) -> list[object]:
    """Services the plan starts or raises in scale: commitments to procure or agree before they begin."""
    grown = summary.get("starts_and_growth") or []
    if not grown:
        return []
    return [table([[r["title"], "starts" if r["kind"] == "starts" else "grows", month_name(r["from"]),
                    f"{r['scale_before']:.0%} to {r['scale']:.0%}", money(r["vru_spend_that_year"]),
                    money(r["startup_cost"])] for r in grown],
                  ["Service", "Change", "From", "Scale (of design strength)",
                   "The service's VRU spend in that financial year (start-up cost included)", "Start-up cost"],
                  "Services the plan starts or grows, to agree with providers before they begin",
                  [False, False, False, True, True, True])]


def _scales_set_at_start(summary: dict[str, Any]) -> list[object]:
    set_now = summary.get("scales_set_at_start") or []
    if not set_now:
        return []
    k = len(set_now)
    named = "; ".join(f"{r['title']} at {r['scale']:.0%}" for r in set_now)
    return [para(
        f"The plan sets the scale of {words(k)} running service{'s' if k > 1 else ''} away from design strength "
        f"from {month_name(set_now[0]['from'])}: {named}. The scenario gives no contract scale at the start for "
        f"{'them' if k > 1 else 'it'}, so the plan treats the first month's scale as its own choice, with no "
        "notice. If a contract already runs at another scale, give that scale in the scenario file (the "
        "service's scale at the start) and the plan will serve the notice of variation a cut needs.")]


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


def _reasons(heading: str, changes: list[dict[str, Any]]) -> Html:
    """The reasons as prose under their table: as a column they were squeezed to a few words a line (a board
    paper ran to two A4 pages a closure)."""
    return Html(f"<h3>{heading}</h3>" + "".join(
        f'<p class="reason"><strong>{esc(c["title"])}.</strong> {esc(c.get("reason", ""))}</p>' for c in changes))
