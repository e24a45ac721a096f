"""Near-optimal alternatives (modelling to generate alternatives): plans almost as good as the best one.

For each epsilon, plans whose objective is at least the optimum less epsilon times its size:
(a) `fewest_closures`: close as few services as possible, then the best objective with that many closures;
(b) `most_different`, a sequence of `spread` plans (SPORES-style): each differs most from the best plan and
every earlier plan of the sequence in which services run, summed over them, then the best objective at that
distance. A month a service runs differently counts its monthly cost at scale 1, so moving a large service
counts for more than a small one (`distance_weighted`, GBP a month summed); `distance_service_years` is the
unweighted distance from the best plan (months running differently, each 1/12 of a year).
Each is a full plan, written in the result-folder contract under `alternatives/<k>/`.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyomo.environ as pyo

from vru_model.analysis.results import Result, make_result
from vru_model.analysis.states import Fate, model_states
from vru_model.core.text import money
from vru_model.model.build import build_model
from vru_model.model.data import ModelData
from vru_model.scenario.schema import Scenario
from vru_model.solving.solver import solve_model
from vru_model.solving.status import Status, Strategy

KINDS = ("fewest_closures", "most_different")
KIND_TEXT = {"fewest_closures": "closes the fewest services", "most_different": "differs most from the best plan"}
TIME_LIMIT = 30.0  # default seconds per alternative solve: the best found by then is still within epsilon


def read_plan(sc: Scenario, d: ModelData, m: pyo.ConcreteModel) -> dict[str, Fate]:
    """Each service's fate in a solved model (`states.Fate`)."""
    return {i: months.fate() for i, months in model_states(sc, d, m).items()}


@dataclass(frozen=True)
class Alternative:
    k: int
    epsilon: float
    kind: str
    result: Result  # its summary carries epsilon, objective and the differences in words
    entry: dict[str, Any]  # its line in robustness/summary.json

    def write(self, directory: Path) -> Path:
        """DIR/<k>/ in the result-folder contract: resolved.yaml, allocation.csv, funding.csv, summary.json."""
        return self.result.write(directory, folder=str(self.k))


def _titles(sc: Scenario, names: list[str]) -> str:
    titles = [sc.interventions[i].title for i in names]
    return titles[0] if len(titles) == 1 else ", ".join(titles[:-1]) + " and " + titles[-1]


def describe(sc: Scenario, eps: float, kind: str, objective: float, optimum: float, keeps: list[str],
             closes: list[str]) -> str:
    """One sentence on what the alternative keeps or closes that the best plan does not."""
    share = objective / optimum if optimum else 1.0
    head = (f"Within {eps:.0%} of the best plan ({share:.1%} of its objective, {money(objective)}), the plan that "
            f"{KIND_TEXT[kind]}")
    if not keeps and not closes:
        return f"{head} closes the same services as the best plan; it differs only in service levels or timing."
    parts = []
    if keeps:
        parts.append(f"keeps {_titles(sc, keeps)} running, which the best plan closes")
    if closes:
        parts.append(f"closes {_titles(sc, closes)}, which the best plan keeps")
    return f"{head} {' and '.join(parts)}."


def _distance(m: pyo.ConcreteModel, d: ModelData, base_on: dict[tuple[str, str], int]) -> Any:
    w = d.outcomes[0].name
    per_year = {y: sum(1 for t in d.months if d.fy_of[t] == y) for y in d.fys}
    return sum(
        (1 - m.on[w, i, t] if base_on[i, t] else m.on[w, i, t]) / per_year[d.fy_of[t]]
        for i in d.interventions for t in d.months
    )


def _weighted_distance(m: pyo.ConcreteModel, d: ModelData, plans: list[dict[tuple[str, str], int]]) -> Any:
    """The cost-weighted Hamming distance from each of `plans` (their running decisions), summed."""
    w = d.outcomes[0].name
    return sum(
        d.cost[i, t] * (1 - m.on[w, i, t] if plan[i, t] else m.on[w, i, t])
        for plan in plans for i in d.interventions for t in d.months
    )


def _running(m: pyo.ConcreteModel, d: ModelData) -> dict[tuple[str, str], int]:
    w = d.outcomes[0].name
    return {(i, t): round(m.on[w, i, t].value or 0.0) for i in d.interventions for t in d.months}


def _solve(sc: Scenario, m: pyo.ConcreteModel, threads: int, seconds: float) -> tuple[Status, Any]:
    """Solve from the plan the model holds (the best plan, or the first stage's), which is feasible: HiGHS
    starts with an incumbent, and a time limit still leaves a plan within epsilon. HiGHS's MIP straight away:
    the offered plan is the worst possible for these objectives (no difference from itself), and a search on
    the relaxation spent half the time limit before handing over (a second reading measured the baseline's
    "differs most" at 15.7 s, stopped at its limit, against 11.7 s, optimal)."""
    limit = min(seconds, sc.policy.time_limit_seconds)
    return solve_model(sc.model_copy(update={"policy": sc.policy.model_copy(update={"time_limit_seconds": limit})}),
                       m, threads, warm=True, strategy=Strategy.MIP)


def _copy_plan(source: pyo.ConcreteModel, target: pyo.ConcreteModel) -> None:
    """Set a model's variables to a solved model's values (both built from the same scenario and data)."""
    for c in source.component_objects(pyo.Var):
        own = getattr(target, c.local_name)
        for k, v in c.items():
            if v.value is not None:
                own[k].set_value(v.value, skip_validation=True)


def find(sc: Scenario, d: ModelData, base: pyo.ConcreteModel, earlier: list[dict[tuple[str, str], int]],
         optimum: float, eps: float, kind: str, threads: int = 1,
         seconds: float = TIME_LIMIT) -> tuple[Status, pyo.ConcreteModel, Any, float]:
    """The alternative of one kind within `eps` of `optimum` (the objective of the solved `base`): its status,
    solved model, solver result, and the measure it optimised (closures, or the cost-weighted distance from the
    `earlier` plans' running decisions)."""
    m = build_model(sc, d)
    _copy_plan(base, m)
    w = d.outcomes[0].name
    m.near_optimal = pyo.Constraint(expr=m.objective.expr >= optimum - eps * abs(optimum))
    m.objective.deactivate()
    if kind == "fewest_closures":
        measure = sum(m.close[w, i, t] for i in d.interventions for t in d.months)
        m.alternative = pyo.Objective(expr=measure, sense=pyo.minimize)
    else:
        measure = _weighted_distance(m, d, earlier)
        m.alternative = pyo.Objective(expr=measure, sense=pyo.maximize)
    status, res = _solve(sc, m, threads, seconds)
    if status not in (Status.OPTIMAL, Status.TIME_LIMIT):
        return status, m, res, 0.0
    found = float(pyo.value(measure))
    # Second stage: the best objective among plans as good on the measure.
    m.alternative.deactivate()
    if kind == "fewest_closures":
        m.measure_kept = pyo.Constraint(expr=measure <= round(found) + 0.5)
    else:
        m.measure_kept = pyo.Constraint(expr=measure >= found - 1e-6 * max(1.0, found))
    m.objective.activate()
    # It starts from the first stage's plan, so half the time still ends with a plan at least that good
    second, res2 = _solve(sc, m, threads, seconds / 2)
    if second not in (Status.OPTIMAL, Status.TIME_LIMIT):  # keep the first stage's plan
        m.objective.deactivate()
        m.alternative.activate()
        m.measure_kept.deactivate()
        status, res = _solve(sc, m, threads, seconds)
        m.alternative.deactivate()
        m.objective.activate()
        return status, m, res, found
    return second, m, res2, float(pyo.value(measure))


def near_optimal(sc: Scenario, d: ModelData, base: pyo.ConcreteModel, optimum: float, epsilons: Sequence[float],
                 threads: int = 1, seconds: float = TIME_LIMIT, spread: int = 1) -> list[Alternative]:
    """For each epsilon the fewest-closures plan, then `spread` plans each as far as it can be from the best plan
    and the ones before it, numbered k = 1, 2, ... in that order; each solve stops after `seconds` with the best
    plan found."""
    base_on = _running(base, d)
    base_fates = read_plan(sc, d, base)
    base_closed = {i for i, f in base_fates.items() if f.closed}
    base_idle = {i for i, f in base_fates.items() if not f.runs}  # the best plan neither keeps nor closes them
    found = []
    k = 0
    for eps in epsilons:
        earlier = [base_on]
        for kind in ["fewest_closures"] + ["most_different"] * spread:
            k += 1
            started = time.perf_counter()
            status, m, res, measure = find(sc, d, base, earlier, optimum, eps, kind, threads, seconds)
            took = time.perf_counter() - started  # (not `seconds`: that is every solve's time limit)
            result = make_result(sc, d, m, status, res, {}, None,
                                 {"build_seconds": 0.0, "solve_seconds": took, "total_seconds": took})
            ok = status in (Status.OPTIMAL, Status.TIME_LIMIT)
            fates = read_plan(sc, d, m) if ok else {}
            closed = {i for i, f in fates.items() if f.closed}
            keeps = [i for i in d.interventions if i in base_closed - closed] if ok else []
            also = [i for i in d.interventions if i in closed - base_closed - base_idle] if ok else []
            objective = result.objective
            distance = float(pyo.value(_distance(m, d, base_on))) if ok else None
            step = len(earlier) if kind == "most_different" else None
            if ok and kind == "most_different":
                earlier.append(_running(m, d))
            sentence = (describe(sc, eps, kind, objective, optimum, keeps, also) if ok and objective is not None
                        else f"No plan within {eps:.0%} of the best that {KIND_TEXT[kind]} was found ({status.value}).")
            if step and step > 1:
                sentence = sentence.replace(KIND_TEXT[kind], KIND_TEXT[kind] + " and the alternatives before it")
            extra = {
                "k": k,
                "epsilon": eps,
                "kind": kind,
                "optimum": round(optimum, 2),
                "objective_floor": round(optimum - eps * abs(optimum), 2),
                "share_of_optimum": round(objective / optimum, 6) if objective is not None and optimum else None,
                "services_closed": sorted(closed, key=d.interventions.index),
                "keeps_unlike_best": keeps,
                "closes_unlike_best": also,
                "distance_service_years": round(distance, 4) if distance is not None else None,
                "distance_weighted": round(measure, 2) if kind == "most_different" else None,
                "spread_step": step,
                "measure": round(measure, 4),
                "sentence": sentence,
            }
            summary = {**result.summary, **extra}
            entry = {key: extra[key] for key in ("k", "epsilon", "kind", "objective_floor", "share_of_optimum",
                                                "services_closed", "keeps_unlike_best", "closes_unlike_best",
                                                "distance_service_years", "distance_weighted", "spread_step",
                                                "sentence")}
            rounded = round(objective, 2) if objective is not None else None
            entry = {"k": k, "folder": f"alternatives/{k}", "status": status.value, "objective": rounded, **entry}
            found.append(Alternative(k, eps, kind, Result(sc, status, objective, result.allocation, result.funding,
                                                          summary), entry))
    return found
