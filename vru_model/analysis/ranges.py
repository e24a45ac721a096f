"""Room within epsilon, per service: the least and the most service-years any plan within epsilon of the best
gives each service (modelling to generate alternatives, as PyPSA's MGA and Calliope's SPORES report it).

A service's service-years are its running months times its scale, over twelve (scale is 0 when it does not
run). For each service, each direction and each epsilon, one solve minimises or maximises them subject to
objective >= optimum - epsilon x |optimum| (the same floor as the alternatives, right for a negative optimum
too). A worker builds one persistent model with the floor and the per-service weights as mutable parameters
and re-solves it job by job; within a job the epsilons run smallest first, each starting from the plan of the
one before (feasible: a larger epsilon only lowers the floor), and every job starts from the best plan, so a
result does not depend on which worker ran it. A larger epsilon never narrows a range, and every range holds
the best plan: the solver's gap could otherwise break either by a hair, so each range is widened to the
union with the smaller epsilons' and the best plan's.

Screens: a service the best plan runs at its most in every month cannot gain, and one it never runs cannot
lose, so those directions need no solve; and once a smaller epsilon reaches that bound, the larger ones
need none either (they would only repeat it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
import pyomo.environ as pyo
import yaml

from vru_model.analysis.states import ServiceMonths, model_states
from vru_model.core.pools import executor
from vru_model.model.build import build_model
from vru_model.model.data import ModelData, prepare
from vru_model.scenario.load import dump_yaml, scenario_to_dict
from vru_model.scenario.schema import Scenario
from vru_model.solving.solver import open_solver, solve_model
from vru_model.solving.status import DEFAULT_STRATEGY, Status

DEFAULT_EPSILONS = (0.01, 0.02, 0.05)
RANGES_COLUMNS = ["scenario", "intervention", "epsilon", "best_service_years", "min_service_years",
                  "max_service_years"]
RANGE_MIP_GAP = 1e-6  # relative, on the service-years objective (HiGHS's absolute gap covers a 0 optimum)
RANGE_SECONDS = 20.0  # per solve: a stop at the limit keeps the best plan found, so a range can only be too narrow
PLACES = 4
HALF = 0.5  # a service "could close at little cost" when within the smallest epsilon it can lose half its years
SOLVED = (Status.OPTIMAL, Status.TIME_LIMIT)
# The relaxation first: it settled cut_50's range solves in 1.2 CPU s each against 1.6 s for HiGHS's MIP
# straight away (18 solves, the same ranges to 4e-4 service-years).
RANGE_STRATEGY = DEFAULT_STRATEGY


def service_years(months: ServiceMonths) -> float:
    """Running months times scale, over twelve."""
    return sum(on * scale for on, scale in zip(months.running, months.scale, strict=True)) / 12


def most_service_years(sc: Scenario, d: ModelData, i: str) -> float:
    """The most a service could have: its largest scale in every month of the plan."""
    return len(d.months) * sc.interventions[i].scale.max / 12


@dataclass(frozen=True)
class Ranges:
    """ranges.csv and how its solves went."""

    table: pd.DataFrame
    statuses: dict[str, int]  # solves by status (screened directions are not solves)
    solves: int
    screened: int  # directions that needed no solve
    at_bound: int  # solves not needed because a smaller epsilon already reached the bound
    base_status: Status = Status.OPTIMAL  # the best plan's solve: no ranges without one

    @property
    def optimal(self) -> bool:
        return self.base_status in SOLVED


def _jobs(sc: Scenario, d: ModelData, best: dict[str, float],
          services: Sequence[str]) -> tuple[list[tuple[str, int]], int]:
    """(service, +1 minimise | -1 maximise) pairs that need solves, and how many the screens settled."""
    jobs = []
    for i in services:
        if best[i] > 1e-6:
            jobs.append((i, 1))
        if best[i] < most_service_years(sc, d, i) - 1e-6:
            jobs.append((i, -1))
    return jobs, 2 * len(services) - len(jobs)


def solve_ranges(scenario_text: str, jobs: list[tuple[str, int]], epsilons: list[float], optimum: float,
                 start: list[float | None], threads: int = 1) -> list[list[tuple[str, float | None]]]:
    """Each job's (status, service-years) at each epsilon, smallest first. Runs in a worker: plain data in and out."""
    sc = Scenario.model_validate(yaml.safe_load(scenario_text))
    d = prepare(sc)
    m = build_model(sc, d)
    for var, x in zip(m.component_data_objects(pyo.Var), start, strict=True):
        var.set_value(x, skip_validation=True)
    w = d.outcomes[0].name
    m.range_floor = pyo.Param(mutable=True, initialize=optimum)
    m.range_weight = pyo.Param(d.interventions, mutable=True, initialize=0.0)
    m.near_optimal = pyo.Constraint(expr=m.objective.expr >= m.range_floor)
    m.objective.deactivate()
    m.range_objective = pyo.Objective(
        expr=sum(m.range_weight[i] * m.scale[w, i, t] for i in d.interventions for t in d.months) / 12,
        sense=pyo.minimize)
    solver = open_solver(sc, m, threads, rel_gap=RANGE_MIP_GAP, strategy=RANGE_STRATEGY)
    solver.time_limit = min(RANGE_SECONDS, sc.policy.time_limit_seconds)
    best_plan = solver.model_values()
    out = []
    for i, sign in jobs:
        for j in d.interventions:
            m.range_weight[j] = float(sign) if j == i else 0.0
        solver.refresh_objective()
        plan = best_plan
        found: list[tuple[str, float | None]] = []
        bound = 0.0 if sign > 0 else most_service_years(sc, d, i)
        for eps in epsilons:
            if found and found[-1][1] is not None and abs(found[-1][1] - bound) <= 1e-6:
                found.append(("bound", found[-1][1]))
                continue
            m.range_floor = optimum - eps * abs(optimum)
            solver.refresh_rows()
            solver.warm_start(plan)
            status, _ = solver.solve()
            if status in SOLVED:
                found.append((status.value, service_years(model_states(sc, d, m)[i])))
                plan = solver.model_values()
            else:
                found.append((status.value, None))
        out.append(found)
    return out


def _chunks(jobs: list[tuple[str, int]], parts: int) -> list[list[tuple[str, int]]]:
    parts = max(1, min(parts, len(jobs)))
    cuts = [round(k * len(jobs) / parts) for k in range(parts + 1)]
    return [jobs[cuts[k]:cuts[k + 1]] for k in range(parts) if cuts[k] < cuts[k + 1]]


def run_ranges(sc: Scenario, jobs: list[tuple[str, int]], epsilons: list[float], optimum: float,
               start: list[float | None], *, workers: int = 1, scheduler: str | Any | None = None,
               threads: int = 1) -> list[list[tuple[str, float | None]]]:
    """Every job solved, in job order: in this process, on `workers` processes, or on Dask."""
    if not jobs:
        return []
    text = dump_yaml(scenario_to_dict(sc))
    if scheduler is None and workers <= 1:
        return solve_ranges(text, jobs, epsilons, optimum, start, threads)
    with executor(workers, scheduler) as (pool, capacity):
        futures = [pool.submit(solve_ranges, text, chunk, epsilons, optimum, start, 1)
                   for chunk in _chunks(jobs, capacity)]
        return [row for f in futures for row in f.result()]


def nest(best: float, found: Sequence[float | None], sign: int) -> list[float]:
    """Each epsilon's bound in one direction (+1 least, -1 most), widened to hold the best plan and every smaller
    epsilon's bound; a failed solve keeps the smaller epsilon's."""
    out = []
    bound = best
    for x in found:
        if x is not None:
            bound = min(bound, x) if sign > 0 else max(bound, x)
        out.append(bound)
    return out


def ranges(sc: Scenario, d: ModelData, base: pyo.ConcreteModel, optimum: float, epsilons: Sequence[float], *,
           services: Sequence[str] | None = None, workers: int = 1, scheduler: str | Any | None = None,
           threads: int = 1) -> Ranges:
    """ranges.csv for a solved best plan `base` of objective `optimum`: one row per service (`services`, default
    all) and epsilon."""
    eps = sorted(set(epsilons))
    chosen = [i for i in d.interventions if services is None or i in services]
    best = {i: service_years(months) for i, months in model_states(sc, d, base).items()}
    jobs, screened = _jobs(sc, d, best, chosen)
    start = [v.value for v in base.component_data_objects(pyo.Var)]
    results = dict(zip(jobs, run_ranges(sc, jobs, eps, optimum, start, workers=workers, scheduler=scheduler,
                                        threads=threads), strict=True))
    statuses: dict[str, int] = {}
    for found in results.values():
        for status, _ in found:
            statuses[status] = statuses.get(status, 0) + 1
    records = []
    for i in chosen:
        low = nest(best[i], [x for _, x in results.get((i, 1), [])] or [None] * len(eps), 1)
        high = nest(best[i], [x for _, x in results.get((i, -1), [])] or [None] * len(eps), -1)
        for k, e in enumerate(eps):
            records.append({"scenario": sc.name, "intervention": i, "epsilon": e,
                            "best_service_years": round(best[i], PLACES), "min_service_years": round(low[k], PLACES),
                            "max_service_years": round(high[k], PLACES)})
    at_bound = statuses.pop("bound", 0)
    return Ranges(pd.DataFrame(records, columns=RANGES_COLUMNS), dict(sorted(statuses.items())),
                  sum(statuses.values()), screened, at_bound)


def room_within(sc: Scenario, epsilons: Sequence[float] = DEFAULT_EPSILONS, *,
                services: Sequence[str] | None = None, workers: int = 1, scheduler: str | Any | None = None,
                threads: int = 1) -> Ranges:
    """ranges.csv for a scenario on its own: its best plan solved first, then each service's room (the same
    table `vru robustness --ranges all` writes, without sampling the evidence). No best plan, no ranges: the
    table is empty and `base_status` says why."""
    d = prepare(sc)
    m = build_model(sc, d)
    status, _ = solve_model(sc, m, threads)
    if status not in SOLVED:
        return Ranges(pd.DataFrame(columns=RANGES_COLUMNS), {}, 0, 0, 0, status)
    return ranges(sc, d, m, float(pyo.value(m.objective)), epsilons, services=services, workers=workers,
                  scheduler=scheduler, threads=threads)


def must_run(sc: Scenario, table: pd.DataFrame) -> list[str]:
    """Services (other than mandatory ones) that run in every plan within the largest epsilon."""
    if table.empty:
        return []
    widest = table[table["epsilon"] == table["epsilon"].max()]
    return [r.intervention for r in widest.itertuples()
            if r.min_service_years > 0 and not sc.interventions[r.intervention].mandatory]


def could_close(table: pd.DataFrame) -> list[str]:
    """Services some plan within the smallest epsilon gives at most half the best plan's service-years."""
    if table.empty:
        return []
    narrowest = table[table["epsilon"] == table["epsilon"].min()]
    return [r.intervention for r in narrowest.itertuples()
            if r.best_service_years > 0 and r.min_service_years <= HALF * r.best_service_years]


def _titles(sc: Scenario, names: list[str]) -> str:
    titles = [sc.interventions[i].title for i in names]
    return titles[0] if len(titles) == 1 else ", ".join(titles[:-1]) + " and " + titles[-1]


def sentences(sc: Scenario, table: pd.DataFrame) -> list[str]:
    """The board's question in words: which services every near-optimal plan runs, and which could close cheaply.
    When most services must run, the few that need not are named instead."""
    if table.empty:
        return []
    lo, hi = table["epsilon"].min(), table["epsilon"].max()
    out = []
    keep = must_run(sc, table)
    optional = [i for i in dict.fromkeys(table["intervention"]) if not sc.interventions[i].mandatory]
    if keep and 2 * len(keep) > len(optional):
        rest = [i for i in optional if i not in keep]
        out.append(f"Every plan within {hi:.0%} of the best value runs {len(keep)} of these {len(optional)} services "
                   f"for at least some months; only {_titles(sc, rest)} need not run at all." if rest else
                   f"Every plan within {hi:.0%} of the best value runs every one of these {len(keep)} services for "
                   "at least some months.")
    elif keep:
        out.append(f"Every plan within {hi:.0%} of the best value runs {_titles(sc, keep)} for at least some months.")
    cheap = could_close(table)
    if cheap:
        out.append(f"Within {lo:.0%} of the best value, {_titles(sc, cheap)} could close early or run at half "
                   "its service-years or less: they could close at little cost.")
    return out
