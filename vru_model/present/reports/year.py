"""Where the year stands: a re-plan's first section, in words a finance officer and the director act on.

Spend to date against the plan it replaces (by stream, and by service with the largest variances first), the
forecast outturn against each grant and the grant at risk of not being claimed, the commissioning share to date
and forecast against the minimum, what the re-plan changes, the notices to serve now, and a chart of spend by month.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from vru_model.analysis.results import commissioned_core_spend
from vru_model.core import periods
from vru_model.core.text import money, plural
from vru_model.present import charts
from vru_model.present.reports.fragments import Html, esc, para, table

TOP_SERVICES = 10  # the services with the largest variances the table shows


def _titles(scenario: Any) -> dict[str, str]:
    names = {i: item.title for i, item in scenario.interventions.items()}
    names.update({s: stream.title or s for s, stream in scenario.funding.items()})
    return names


def _share_to_date(plan: Any) -> float | None:
    """Commissioned share of the core grant claimed so far, counted as the grant's minimum counts it."""
    sc, funding = plan.result.scenario, plan.result.funding
    core = funding[(funding["stream"] == sc.core_stream) & (funding["period"] <= plan.actuals.as_of)]
    claimed = float(core["amount"].sum())
    if claimed <= 0:
        return None
    commissioned = {i for i, item in sc.interventions.items() if item.is_commissioned}
    alloc = plan.result.allocation
    return commissioned_core_spend(sc, alloc[alloc["period"] <= plan.actuals.as_of], core, commissioned) / claimed


def year_lines(plan: Any) -> list[str]:
    """The year in sentences: spend to date against plan, grant at risk, the commissioning share, notices now."""
    sc, summary, as_of = plan.result.scenario, plan.result.summary, plan.actuals.as_of
    fy, names = periods.fy_of(as_of), _titles(sc)
    totals = summary["variance_totals"]
    under = -totals["variance"]
    lines = [f"To the end of {periods.month_name(as_of)} the VRU spent {money(totals['actual'])} against "
             f"{money(totals['planned'])} planned: {money(abs(under))} {'under' if under >= 0 else 'over'} plan."]
    forecast = plan.forecast[(plan.forecast["fy"] == fy) & (plan.forecast["unclaimed"] > 0.5)]
    for row in forecast.itertuples():
        lines.append(f"Re-planned from {periods.month_name(periods.add_months(as_of, 1))}, {names[row.stream]} for "
                     f"{fy} is forecast to be {money(row.forecast_outturn)} of {money(row.available)}: "
                     f"{money(row.unclaimed)} is at risk of not being claimed, and grant is not carried over.")
    if forecast.empty and summary.get("status") in ("optimal", "time_limit"):
        lines.append(f"Re-planned from {periods.month_name(periods.add_months(as_of, 1))}, every grant for {fy} is "
                     "forecast to be spent in full.")
    share, minimum = _share_to_date(plan), sc.policy.commissioning_min_share
    year = (summary.get("fy") or {}).get(fy) or {}
    if share is not None and year.get("commissioned_share") is not None:
        lines.append(f"Commissioned services have had {share:.0%} of the core grant claimed so far; the re-plan "
                     f"brings {fy} to {year['commissioned_share']:.0%} (the minimum is {minimum:.0%}).")
    lines.append("")  # what happened to services, and what to do now
    for s in summary.get("stopped") or []:
        lines.append(f"{s['title']} stopped from {periods.month_name(s['stopped_from'])} (the actuals show no "
                     "spend after it).")
    notices = sorted(summary.get("closures") or [], key=lambda c: c["notice_by"])
    soon = [c for c in notices if c["notice_by"] <= periods.add_months(as_of, 3)]
    if soon:
        lines.append("Notices to serve now: " + "; ".join(
            f"{c['title']} by {periods.month_name(c['notice_by'])} (closes from "
            f"{periods.month_name(c['closes_from'])})" for c in soon) + ".")
    elif summary.get("status") == "optimal":
        lines.append("No notice needs serving in the next three months.")
    return lines


def changes(plan: Any) -> list[str]:
    """What the re-plan changes against the plan it replaces, over the rest of the horizon: the services that now
    take more money (the underspend), take less, or close."""
    after = plan.actuals.as_of
    names = _titles(plan.result.scenario)

    def rest(table_: pd.DataFrame) -> pd.Series:
        return table_[table_["period"] > after].groupby("intervention")["vru_spend"].sum()

    diff = rest(plan.result.allocation).sub(rest(plan.planned.allocation), fill_value=0.0).round(2)
    more = [f"{names[i]} (+{money(v)})" for i, v in diff.sort_values(ascending=False).items() if v >= 1000]
    less = [f"{names[i]} (−{money(-v)})" for i, v in diff.sort_values().items() if v <= -1000]
    out = []
    if more:
        out.append(f"Against the plan it replaces, the re-plan puts more VRU money into "
                   f"{plural(len(more), 'service')}: " + "; ".join(more[:6])
                   + ("; and others" if len(more) > 6 else "") + ".")
    if less:
        out.append(f"It puts less into {plural(len(less), 'service')}: " + "; ".join(less[:6])
                   + ("; and others" if len(less) > 6 else "") + ".")
    if not out:
        out.append("The re-plan spends the rest of the horizon as the original plan did.")
    return out


def _stream_rows(plan: Any) -> list[list[str]]:
    names = _titles(plan.result.scenario)
    by = plan.variance.groupby("stream")[["planned", "actual", "variance"]].sum()
    return [[names.get(s, s), money(r.planned), money(r.actual), money(r.variance)] for s, r in by.iterrows()]


def _service_rows(plan: Any) -> list[list[str]]:
    names = _titles(plan.result.scenario)
    by = plan.variance.groupby("intervention")[["planned", "actual", "variance"]].sum()
    by = by.reindex(by["variance"].abs().sort_values(ascending=False).index).head(TOP_SERVICES)
    return [[names.get(i, i), money(r.planned), money(r.actual), money(r.variance)] for i, r in by.iterrows()]


def _forecast_rows(plan: Any) -> list[list[str]]:
    names = _titles(plan.result.scenario)
    return [[f"{r.fy} {names.get(r.stream, r.stream)}", money(r.actual_to_date), money(r.planned_remaining),
             money(r.forecast_outturn), money(r.available), money(r.unclaimed)]
            for r in plan.forecast.itertuples()]


def spend_chart(plan: Any) -> charts.Chart:
    """Actual and planned VRU spend by month: the plan replaced, the actuals to date, the re-plan after."""
    months = list(plan.result.scenario.months)
    as_of = plan.actuals.as_of
    planned = plan.planned.allocation.groupby("period")["vru_spend"].sum().reindex(months).fillna(0.0)
    now = plan.result.allocation.groupby("period")["vru_spend"].sum().reindex(months).fillna(0.0)
    k = months.index(as_of)
    actual = [float(v) if m <= as_of else None for m, v in now.items()]
    after = [float(v) if m >= as_of else None for m, v in now.items()]
    gap = float(planned.iloc[: k + 1].sum() - now.iloc[: k + 1].sum())
    alt = (f"Line chart of VRU spend by month over the plan. The original plan's line runs through the whole horizon; "
           f"the actual spend line runs to {periods.month_name(as_of)}, {money(abs(gap))} "
           f"{'below' if gap >= 0 else 'above'} the plan in all; the re-plan's line continues from there.")
    return charts.spend_by_month(months, {"plan replaced": list(planned), "actual": actual, "re-plan": after},
                                 as_of_index=k, alt=alt,
                                 caption=f"VRU spend a month: actual to {periods.month_name(as_of)}, then re-planned.")


def year_section(plan: Any) -> list[object]:
    """The section (heading, sentences, tables, chart) for a re-plan; nothing for a plan made from the start."""
    if plan is None:
        return []
    as_of = periods.month_name(plan.actuals.as_of)
    lines = year_lines(plan)
    split = lines.index("")
    out: list[object] = [Html(f"<h2 id=\"year\">Where the year stands: actual spend to {esc(as_of)}</h2>"),
                         para(*lines[:split]), para(*lines[split + 1:]), para(*changes(plan)), spend_chart(plan)]
    out.append(table(_stream_rows(plan), ["Stream", "Planned to date", "Actual to date", "Variance"],
                     f"Spend to the end of {as_of} against the plan it replaces, by stream", [False, True, True, True]))
    out.append(table(_service_rows(plan), ["Service", "Planned to date", "Actual to date", "Variance"],
                     f"The {TOP_SERVICES} services with the largest variances to the end of {as_of}",
                     [False, True, True, True]))
    out.append(table(_forecast_rows(plan), ["Year and stream", "Actual to date", "Planned for the rest",
                                            "Forecast outturn", "Available", "At risk of not being claimed"],
                     "Forecast outturn against each grant", [False, True, True, True, True, True]))
    out.append(para(f"The actuals are read from {plan.result.summary.get('actuals_file', 'the actuals file')}; "
                    "variance.csv and forecast.csv hold these figures for every service and month."))
    return out
