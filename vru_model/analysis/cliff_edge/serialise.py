"""cliff_edge.json: the two-stage plan, its figures and what they mean (docs/contracts.md)."""

from __future__ import annotations

from typing import Any

from vru_model.analysis.objective import BREAKDOWN_WORDS
from vru_model.analysis.results import provenance
from vru_model.model.data import ModelData
from vru_model.scenario.schema import Scenario
from vru_model.solving.status import Status, mip_gap, status_text

OBJECTIVE_SENSE = ("expected discounted social value minus exit, disruption, underwriting and unfunded-liability "
                   "costs (GBP)")
FIGURES_TEXT = {
    "expected_value": "objective of the two-stage plan (RP)",
    "eev": "expected value when the pre-confirmation decisions are those of a plan for the expected grant",
    "vss": "value of the stochastic solution: expected_value - eev (>= 0); unbounded when the "
    "expected-grant plan's commitments leave some outcome with no lawful plan",
    "wait_and_see": "expected value if each outcome were known from the start",
    "evpi": "expected value of perfect information: wait_and_see - expected_value (>= 0)",
    "expected_grant": "the probability-weighted core grant of the uncertain year (the expected-value "
    "problem uses the weighted grant in every year the outcome settles)",
    "vss_breakdown": "VSS split into its parts (see breakdown_parts): social value, exit costs and the "
    "disruption weight, and the underwriting and unfunded-liability penalty weights; the parts add up to VSS "
    "(less the tie-break of a pound or so)",
    "evpi_breakdown": "EVPI split the same way",
    "gaps": "relative MIP gaps: the setting for two-stage solves and what each solve achieved (the worst "
    "outcome's for solves taken outcome by outcome); VSS and EVPI are differences of such solves, so "
    "they are known to within vss_and_evpi_within (a negative one inside it is reported as zero)",
}


def uncertainty(sc: Scenario) -> dict[str, Any]:
    unc = sc.uncertainty
    assert unc is not None
    return {
        "stream": unc.stream,
        "fy": unc.fy,
        "confirmed_month": unc.confirmed_month,
        "unfunded_penalty": unc.unfunded_penalty,
        "outcomes": [o.model_dump() for o in unc.outcomes],
    }


def plan_summary(
    sc: Scenario, d: ModelData, status: Status, res: Any, figures: dict[str, Any], *, here: dict[str, Any],
    reports: list[dict[str, Any]], core: list[str], closed_everywhere: list[str], by_service: list[dict[str, Any]],
    counts: dict[str, dict[str, int]], sentences: list[str], seconds: tuple[float, float],
) -> dict[str, Any]:
    """cliff_edge.json of a two-stage plan: its figures (with `gaps`), the shared decisions, each outcome's plan
    and each service's state in it, and the sentences; `seconds` are the solve's and the whole analysis'."""

    def titled(names: list[str]) -> list[dict[str, str]]:
        return [{"intervention": i, "title": sc.interventions[i].title} for i in names]

    return {
        "scenario": sc.name,
        "title": sc.title,
        "status": status.value,
        "status_text": status_text(status, res),
        "objective_sense": OBJECTIVE_SENSE,
        "uncertainty": uncertainty(sc),
        **figures,
        "figures_text": FIGURES_TEXT,
        "breakdown_parts": BREAKDOWN_WORDS,
        "here_and_now": here,
        "outcomes": reports,
        "no_regret_core": titled(core),
        "closed_in_every_outcome": titled(closed_everywhere),
        "services_by_outcome": by_service,
        "counts_by_outcome": counts,
        "underwriting": {
            "stream": d.underwriting,
            "cap": sc.funding[d.underwriting].cap if d.underwriting else None,
            "drawn": {r["name"]: r["underwriting_drawn"] for r in reports},
        },
        "unfunded_liability": {r["name"]: r["unfunded_liability"] for r in reports},
        "sentences": sentences,
        "mip_gap": mip_gap(res),
        "solve_seconds": round(seconds[0], 4),
        "total_seconds": round(seconds[1], 4),
        "provenance": provenance(sc),
    }


def no_plan_summary(sc: Scenario, status: Status, res: Any, explanation: dict[str, Any] | None) -> dict[str, Any]:
    """cliff_edge.json when the two-stage model has no plan: the status, and why when it is infeasible."""
    text = status_text(status, res)
    return {
        "scenario": sc.name, "title": sc.title, "status": status.value, "status_text": text,
        "explanation": explanation, "sentences": [text],
        "provenance": provenance(sc),
    }
