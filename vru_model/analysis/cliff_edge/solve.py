"""Solving the two-stage cliff-edge model and putting its plan, figures and words together.

Speed: two-stage solves stop at a relative MIP gap of `policy.two_stage_rel_gap` (default 0.1%); the
achieved gaps are reported next to VSS and EVPI (`gaps` in cliff_edge.json).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, ClassVar

import pandas as pd
import pyomo.environ as pyo

from vru_model.analysis.cliff_edge.closures import explain_closures
from vru_model.analysis.cliff_edge.plans import here_and_now, outcome_label, outcome_reports, service_outcomes
from vru_model.analysis.cliff_edge.serialise import no_plan_summary, plan_summary
from vru_model.analysis.cliff_edge.value_of_information import expected_outcome, value_of_information
from vru_model.analysis.cliff_edge.words import sentences as plan_sentences
from vru_model.analysis.diagnostics import explain
from vru_model.analysis.objective import ObjectiveParts, gap_slack
from vru_model.analysis.results import ALLOCATION_COLUMNS, FUNDING_COLUMNS, WrittenResult, plan_tables
from vru_model.analysis.states import closure_count
from vru_model.core.errors import Problem, ScenarioError
from vru_model.model.build import build_model
from vru_model.model.data import ModelData, prepare
from vru_model.scenario.schema import Scenario
from vru_model.solving.solver import solve_model
from vru_model.solving.status import Status, Strategy, mip_gap

PLAN_COLUMNS = [*ALLOCATION_COLUMNS, "outcome", "probability"]
PLAN_FUNDING_COLUMNS = [*FUNDING_COLUMNS, "outcome", "probability"]
STATES = ("keeps", "reduces", "closes", "starts")  # counts_by_outcome's states


def two_stage_gap(scenario: Scenario) -> float:
    """The relative MIP gap of two-stage solves: `policy.two_stage_rel_gap` (an explicit key: reading
    "did the scenario set `mip_rel_gap`?" gave the batch, which ships the resolved scenario with every key
    written out, another gap than `vru cliff-edge`)."""
    return scenario.policy.two_stage_rel_gap


@dataclass(frozen=True)
class CliffEdgeResult(WrittenResult):
    """A two-stage plan: the shared decisions, each outcome's plan and what the uncertainty is worth."""

    FILES: ClassVar[dict[str, str]] = {"plan.csv": "plans", "plan_funding.csv": "funding",
                                       "cliff_edge.json": "summary"}
    scenario: Scenario
    status: Status
    expected_value: float | None  # objective of the two-stage model (recourse problem, RP)
    here_and_now: dict[str, Any]
    plans: pd.DataFrame  # plan.csv: allocation columns + outcome, probability
    funding: pd.DataFrame  # plan_funding.csv: funding columns + outcome, probability
    outcomes: list[dict[str, Any]]
    vss: float | None
    evpi: float | None
    no_regret_core: list[str]
    underwriting_drawn: dict[str, float]
    unfunded_liability: dict[str, float]
    sentences: list[str]
    summary: dict[str, Any]

    @property
    def optimal(self) -> bool:
        return self.status == Status.OPTIMAL


def _check(scenario: Scenario) -> None:
    problems = []
    if scenario.uncertainty is None:
        problems.append(Problem(
            scenario.name, "uncertainty",
            "cliff-edge planning needs an uncertainty block (the FY, its grant outcomes with probabilities, "
            "and the confirmation month)",
        ))
    if scenario.policy.objective != "max_value":
        problems.append(Problem(scenario.name, "policy.objective", "cliff-edge planning needs objective max_value"))
    if problems:
        raise ScenarioError(problems)


def _no_plan(sc: Scenario, d: ModelData, m: pyo.ConcreteModel, status: Status, res: Any) -> CliffEdgeResult:
    """The result of a two-stage model with no plan: its status, and why when it is infeasible."""
    explanation = None
    if status == Status.INFEASIBLE:
        try:
            explanation = explain(sc, d, m)
        except Exception:  # an explanation is a bonus; the status is the answer
            explanation = None
    summary = no_plan_summary(sc, status, res, explanation)
    return CliffEdgeResult(
        sc, status, None, {}, pd.DataFrame(columns=PLAN_COLUMNS), pd.DataFrame(columns=PLAN_FUNDING_COLUMNS),
        [], None, None, [], {}, {}, summary["sentences"], summary,
    )


def _figures(
    sc: Scenario, d: ModelData, reports: list[dict[str, Any]], rp: float, rp_parts: ObjectiveParts, res: Any,
    threads: int, value_of_info: bool,
) -> dict[str, Any]:
    """cliff_edge.json's figures: the expected value and its parts, and with `value_of_info` VSS and EVPI (two
    more solves), with the MIP gaps each solve achieved."""
    unc = sc.uncertainty
    assert unc is not None
    gap = two_stage_gap(sc)
    figures: dict[str, Any] = {
        "expected_grant": round(expected_outcome(d).core_amounts.get(unc.fy, 0.0), 2),
        "expected_value": round(rp, 2),
        "eev": None, "eev_status": "not computed", "vss": None, "vss_unbounded": False,
        "wait_and_see": None, "evpi": None,
        "expected_value_breakdown": {k: round(v, 2) for k, v in rp_parts.breakdown().items()},
        "vss_breakdown": None, "evpi_breakdown": None,
    }
    gaps: dict[str, Any] = {"setting": gap, "expected_value": mip_gap(res), "wait_and_see": None, "eev": None}
    if value_of_info:
        more, achieved = value_of_information(sc, d, reports, rp, rp_parts, threads, gap)
        figures.update(more)
        gaps.update(achieved)
    return {**figures, "gaps": {**gaps, "vss_and_evpi_within": round(gap_slack(gap, rp), 2)}}


def solve_cliff_edge(
    scenario: Scenario, *, threads: int = 1, value_of_information: bool = True, costs_to_keep: bool = True
) -> CliffEdgeResult:
    """Solve the two-stage cliff-edge model; with `value_of_information`, also the wait-and-see and
    expected-grant problems for EVPI and VSS (two more solves); with `costs_to_keep`, one re-solve per
    closing service for what keeping it would cost (`explain_closures`)."""
    _check(scenario)
    sc = scenario
    unc = sc.uncertainty
    assert unc is not None
    started = time.perf_counter()
    d = prepare(sc, two_stage=True)
    m = build_model(sc, d)
    gap = two_stage_gap(sc)
    # HiGHS's MIP straight away: the two-stage relaxation is weaker than a single scenario's (a root gap of
    # 0.2% to 2%), and a short branching on it rarely settles it (5 outcomes: 5.5 s of branching, then the MIP)
    status, res = solve_model(sc, m, threads, rel_gap=gap, strategy=Strategy.MIP)
    solved = time.perf_counter()
    if status not in (Status.OPTIMAL, Status.TIME_LIMIT):
        return _no_plan(sc, d, m, status, res)

    prob = {o.name: o.probability for o in d.outcomes}
    allocation, funding = plan_tables(sc, d, m)
    plans = allocation.assign(probability=allocation["outcome"].map(prob))[PLAN_COLUMNS]
    funding = funding.assign(probability=funding["outcome"].map(prob))[PLAN_FUNDING_COLUMNS]
    rp = float(pyo.value(m.objective))
    rp_parts = ObjectiveParts.of(m)
    here = here_and_now(sc, d, m)
    reports = outcome_reports(sc, d, m, plans, funding)
    for r in reports:
        r["label"] = outcome_label(r["grant"], sc.core_grant(unc.fy))
    explain_closures(sc, d, plans, reports, rp, threads, gap, costs_to_keep and status == Status.OPTIMAL, rp_parts)
    in_all = set.intersection(*(set(r["running_all_year"]) for r in reports))
    core = [i for i in d.interventions if i in in_all]
    closed_sets = [{c["intervention"] for c in r["closures"]} for r in reports]
    closed_everywhere = [i for i in d.interventions if all(i in s for s in closed_sets)]
    figures = _figures(sc, d, reports, rp, rp_parts, res, threads, value_of_information and status == Status.OPTIMAL)
    finished = time.perf_counter()

    by_service = service_outcomes(sc, d, plans, reports)
    start = next(t for t in d.months if d.fy_of[t] == unc.fy)
    # `closes` over the whole plan (never fewer than closed_in_every_outcome); the other states, as the
    # services-by-outcome table shows them, from the uncertain year on (`closes_from_uncertain_year` likewise)
    counts = {r["name"]: {state: closure_count(r["closures"]) if state == "closes" else
                          sum(1 for row in by_service if row["outcomes"][r["name"]]["status"] == state)
                          for state in STATES} | {"closes_from_uncertain_year": closure_count(r["closures"], start)}
              for r in reports}
    sentences = plan_sentences(sc, d, here, reports, core, figures)
    summary = plan_summary(sc, d, status, res, figures, here=here, reports=reports, core=core,
                           closed_everywhere=closed_everywhere, by_service=by_service, counts=counts,
                           sentences=sentences, seconds=(solved - started, finished - started))
    return CliffEdgeResult(
        scenario=sc,
        status=status,
        expected_value=rp,
        here_and_now=here,
        plans=plans,
        funding=funding,
        outcomes=reports,
        vss=figures["vss"],
        evpi=figures["evpi"],
        no_regret_core=core,
        underwriting_drawn=summary["underwriting"]["drawn"],
        unfunded_liability=summary["unfunded_liability"],
        sentences=sentences,
        summary=summary,
    )
