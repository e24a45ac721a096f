"""The robustness section, "How sure is this plan?": the evidence sampled, regret, near-optimal alternatives."""

from __future__ import annotations

from typing import Any

import pandas as pd

from vru_model.core.periods import month_name
from vru_model.core.text import money
from vru_model.present import charts
from vru_model.present.charts import Chart
from vru_model.present.reports.fragments import VALUE_NOTE, Html, bullets, esc, para, short_title, table
from vru_model.present.summaries import OBJECTIVE


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
    out.append(_fates_chart(sc, services, n))
    out += _fates_table(sc, services, s["recommended_closures"], n)
    out += _regret(result.samples, s["regret"])
    out += _alternatives(s["alternatives"])
    out.append(Html('<p class="note">The same figures as files: <a href="robustness/services.csv">services.csv</a>, '
                    '<a href="robustness/samples.csv">samples.csv</a>, <a href="robustness/summary.json">summary.json'
                    "</a>, and each alternative plan under robustness/alternatives/. " + esc(VALUE_NOTE) + "</p>"))
    return out


def _evidence_label(item: Any) -> str:
    ev = item.evidence
    return f"{ev.band} band, {ev.confidence.replace('_', ' ')} confidence" if ev else "no evidence of effect"


def _fates_chart(sc: Any, services: pd.DataFrame, n: int) -> Chart:
    """Each service's share of samples in which it is kept, reduced, closes or never runs, as stacked bars."""
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
             f"{r.stops_share:.0%}", f"{r.not_run_share:.0%}", f"{r.reduced_share:.0%}",
             month_name(r.earliest_closes_from) if r.earliest_closes_from else "–"]
            for r in services.itertuples()
            if r.stops_share > 0 or 0 < r.not_run_share < 1 or r.intervention in recommended]
    if not rows:
        return []
    return [table(rows, ["Service", "Evidence", "Recommended plan", "Closes in", "Does not run in",
                         "Reduced in", "Earliest closure"],
                  f"Services that close, or do not run, in some of {n} samples",
                  [False, False, False, True, True, True, False])]


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
