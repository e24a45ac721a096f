"""The robustness section, "How sure is this plan?": the evidence sampled, regret, each service's room within a
few percent of the best value, and near-optimal alternatives."""

from __future__ import annotations

from typing import Any

import pandas as pd

from vru_model.analysis import ranges as room
from vru_model.analysis.robustness import wilson
from vru_model.core.periods import month_name
from vru_model.core.text import money
from vru_model.present import charts
from vru_model.present.charts import Chart
from vru_model.present.pages import page
from vru_model.present.reports.fragments import (
    VALUE_NOTE,
    Html,
    bullets,
    esc,
    items_html,
    para,
    short_titles,
    table,
)
from vru_model.present.summaries import OBJECTIVE

NO_RANGES = ("Each service's room within a few percent of the best value (two solves per service) was not worked out "
             "here: “vru robustness SCENARIO” draws it as a range chart, and so do “vru batch --ranges unsettled” "
             "and the explorer's “How much room does each service have?”.")


def robustness_page(result: Any) -> str:
    """`vru robustness`'s own page (robustness/report.html): the report's section on one page, its links to the
    files beside it."""
    sc = result.scenario
    body = items_html([Html(f"<h1>How sure is the plan? {esc(sc.title)}</h1>"),
                       *robustness_section(result, files="")])
    return page(f"How sure is the plan? {sc.title}", body, print_hint=True)


def robustness_section(result: Any, files: str = "robustness/") -> list[object]:
    """"How sure is this plan?" for a robustness.RobustnessResult: each service's keep/close share with its
    evidence band, the regret of the recommended plan, each service's room near the best value, and the
    near-optimal alternatives with a sentence each. `files`: where the CSV and JSON files are, from the page."""
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
            f"worked out again for {n} joint samples of them, spread evenly over their ranges (the same samples on "
            "every run, so the figures below do not change when nothing else does): each effect "
            "from the Youth Endowment Fund Toolkit's impact band for its evidence (high 30%+, moderate 10-30%, low "
            "2-9%), widened where the evidence is weak, and each harm cost within 30% of the Home Office figure. "
            "Each input's median is the scenario's own figure, so the samples spread around the plan's estimate "
            "without shifting it; each share below comes with its 95% interval.")
    if sc.uncertainty is not None:
        lead += (f" The plan tested is the one made as if the {sc.uncertainty.fy} grant were known from the start, "
                 "not the cliff-edge plan: the evidence is sampled for one grant at a time.")
    # the ranges' and the alternatives' sentences are shown beside their chart and in their table instead
    elsewhere = {*room.sentences(sc, result.ranges), *(a["sentence"] for a in s["alternatives"])}
    out: list[object] = [para(lead), bullets([x for x in s["sentences"] if x not in elsewhere])]
    services = result.services.merge(
        pd.DataFrame({"intervention": list(sc.interventions), "order": range(len(sc.interventions))}))
    # closes_share counts a service the plan never starts (not running at the end); the page says which is which
    services = services.assign(stops_share=services["closes_share"] - services["not_run_share"])
    services = services.sort_values(["stops_share", "reduced_share", "order"], ascending=[False, False, True])
    out.append(_fates_chart(sc, services, n))
    out += _fates_table(sc, services, s["recommended_closures"], n)
    out += _regret(result.samples, s["regret"])
    unsettled_only = s["ranges"].get("services") == "unsettled"
    out += ranges_items(sc, result.ranges) or [para(
        "No sample changed any service's fate, so no service's room near the best value needed working out."
        if unsettled_only else NO_RANGES)]
    out += _alternatives(s["alternatives"])
    links = ", ".join(f'<a href="{esc(files)}{name}">{name}</a>'
                      for name in ("services.csv", "samples.csv", "ranges.csv", "summary.json"))
    out.append(Html(f'<p class="note">The same figures as files: {links}, and each alternative plan under '
                    f"{esc(files)}alternatives/. " + esc(VALUE_NOTE) + "</p>"))
    return out


def _evidence_label(item: Any) -> str:
    ev = item.evidence
    return f"{ev.band} band, {ev.confidence.replace('_', ' ')} confidence" if ev else "no evidence of effect"


def _fates_chart(sc: Any, services: pd.DataFrame, n: int) -> Chart:
    """Each service's share of samples in which it is kept, reduced, closes or never runs, as stacked bars."""
    names = short_titles([sc.interventions[i].title for i in services["intervention"]], 40)
    labels = [f"{name} ({_evidence_label(sc.interventions[i])})" for name, i in zip(names, services["intervention"],
                                                                                   strict=True)]
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
    return charts.fate_shares(labels, shares, alt=alt,
                              caption=f"In how many of {n} samples of the evidence each service is kept, reduced "
                              "for some months, closes or never runs (services that close most often first; the "
                              "evidence band and confidence in brackets).")


def _fates_table(sc: Any, services: pd.DataFrame, recommended_closures: list[dict[str, Any]],
                 n: int) -> list[object]:
    """The services that close or do not run in some samples, against what the recommended plan does with them."""
    recommended = {c["intervention"]: c["closes_from"] for c in recommended_closures}
    rows = [[sc.interventions[r.intervention].title, _evidence_label(sc.interventions[r.intervention]),
             ("keeps" if r.intervention not in recommended else f"closes from {month_name(recommended[r.intervention])}"
              if recommended[r.intervention] else "does not run"),
             f"{r.stops_share:.0%}{_interval(r, n)}", f"{r.not_run_share:.0%}", f"{r.reduced_share:.0%}",
             month_name(r.earliest_closes_from) if r.earliest_closes_from else "–"]
            for r in services.itertuples()
            if r.stops_share > 0 or 0 < r.not_run_share < 1 or r.intervention in recommended]
    if not rows:
        return []
    return [table(rows, ["Service", "Evidence", "Recommended plan", "Closes in (95% interval)", "Does not run in",
                         "Reduced in", "Earliest closure"],
                  f"Services that close, or do not run, in some of {n} samples",
                  [False, False, False, True, True, True, False])]


def _interval(r: Any, n: int) -> str:
    """The 95% Wilson interval of the share that stops the service (services.csv's closes_* count one never
    started too: then the two are the same)."""
    low, high = wilson(round(r.stops_share * n), n)
    return f" ({low:.0%}-{high:.0%})"


def ranges_items(sc: Any, table: pd.DataFrame | None) -> list[object]:
    """Each service's room within the epsilons (ranges.csv) as a range chart and the board's sentence."""
    if table is None or table.empty:
        return []
    words = room.sentences(sc, table)
    return [range_chart(sc, table), *([bullets(words)] if words else [])]


def range_chart(sc: Any, table: pd.DataFrame) -> Chart:
    """One horizontal bar per service from the least to the most service-years within each epsilon (nested: the
    widest epsilon palest, drawn first), the best plan a black diamond."""
    services = list(dict.fromkeys(table["intervention"]))
    epsilons = sorted(table["epsilon"].unique(), reverse=True)
    bands = {}
    for eps in epsilons:
        rows = table[table["epsilon"] == eps].set_index("intervention").loc[services]
        bands[f"within {eps:.0%}"] = (rows["min_service_years"].tolist(), rows["max_service_years"].tolist())
    best = table.drop_duplicates("intervention").set_index("intervention").loc[services, "best_service_years"]
    wide = table[table["epsilon"] == max(epsilons)]
    alt = (f"Range bars, one per service, of the fewest and most service-years any plan within "
           f"{', '.join(f'{e:.0%}' for e in sorted(epsilons))} of the best value gives it, with the best plan "
           "marked by a diamond. Within the widest: "
           + "; ".join(f"{sc.interventions[r.intervention].title} {r.min_service_years:.1f} to "
                       f"{r.max_service_years:.1f} (best {r.best_service_years:.1f})" for r in wide.itertuples())
           + ".")
    return charts.range_bars(
        short_titles([sc.interventions[i].title for i in services], 40), bands, best.tolist(),
        xlabel="service-years (running months x scale / 12)", alt=alt,
        caption="Room within a few percent of the best value: for each service, the least and the most "
                "service-years a plan nearly as good gives it (each bar from its own solve; the diamond is "
                "the recommended plan). A short bar means the plans near the best agree on that service.")


def _regret(samples: pd.DataFrame, r: dict[str, Any]) -> list[object]:
    """What keeping to the recommended plan could cost, sample by sample, as a histogram."""
    regret = [float(x) for x in samples["regret"].dropna()]
    if not regret:
        return []
    return [charts.regret_histogram(
        regret, marks={"mean": r["mean"], "90th percentile": r["p90"]},
        alt=f"Histogram of the value lost by keeping to the recommended plan in {len(regret)} samples: mean "
            f"{money(r['mean'])}, median {money(r['p50'])}, 90th percentile {money(r['p90'])}, most "
            f"{money(r['max'])}.",
        caption="Regret: in each sample, the best plan for that sample's evidence less the recommended plan's "
                f"value under it ({OBJECTIVE}; illustrative).")]


def _alternatives(alts: list[dict[str, Any]]) -> list[object]:
    """Plans almost as good as the best that keep or close different services, a sentence each."""
    if not alts:
        return []
    return [table([[a["k"], f"{a['epsilon']:.0%}", a["kind"].replace("_", " "),
                    "–" if a["objective"] is None else money(a["objective"]),
                    "–" if a["share_of_optimum"] is None else f"{a['share_of_optimum']:.1%}", a["sentence"]]
                   for a in alts],
                  ["Plan", "Within", "Aim", f"Objective ({OBJECTIVE})", "Of the best", "In words"],
                  "Near-optimal alternatives: plans almost as good that keep or close different services",
                  [False, True, False, True, True, False])]
