"""The HiGHS solver as the workbench uses it: its settings, running it, and what its outcome means.

Infeasible, time-limited and failed solves come back as a `Status`, never as exceptions.
"""

from __future__ import annotations

import logging
from enum import StrEnum
from typing import Any

import pyomo.environ as pyo
from pyomo.contrib.solver.common.results import TerminationCondition
from pyomo.contrib.solver.solvers.highs import Highs

from vru_model.schema import Scenario

logging.getLogger("pyomo.contrib.solver").setLevel(logging.ERROR)
logging.getLogger("pyomo.core").setLevel(logging.ERROR)  # W1002: values a hair outside bounds after a solve


class Status(StrEnum):
    OPTIMAL = "optimal"
    INFEASIBLE = "infeasible"
    TIME_LIMIT = "time_limit"
    ERROR = "error"


STATUS_TEXT = {
    Status.OPTIMAL: "A best plan was found.",
    Status.INFEASIBLE: "No plan satisfies every rule of this scenario (see the explanation).",
    Status.TIME_LIMIT: "The solver stopped at its time limit; the plan shown is the best found so far.",
    Status.ERROR: "The solver failed; no plan is available.",
}


def make_solver(scenario: Scenario, threads: int = 1) -> Highs:
    opt = Highs()
    opt.config.load_solutions = False
    opt.config.raise_exception_on_nonoptimal_result = False
    opt.config.time_limit = scenario.policy.time_limit_seconds
    opt.config.rel_gap = scenario.policy.mip_rel_gap
    opt.config.threads = threads
    opt.config.solver_options["random_seed"] = 0
    return opt


def run_solver(opt: Highs, model: pyo.ConcreteModel) -> tuple[Status, Any]:
    """Solve and load the solution when there is one; map the termination to a Status."""
    try:
        res = opt.solve(model)
    except Exception as exc:  # the solver itself failed: report, do not crash the batch
        logging.getLogger(__name__).warning("HiGHS failed: %s", exc)
        return Status.ERROR, None
    tc = res.termination_condition
    has_solution = res.incumbent_objective is not None
    if tc == TerminationCondition.convergenceCriteriaSatisfied:
        status = Status.OPTIMAL
    elif tc in (TerminationCondition.provenInfeasible, TerminationCondition.infeasibleOrUnbounded):
        status = Status.INFEASIBLE
    elif tc == TerminationCondition.maxTimeLimit:
        status = Status.TIME_LIMIT
    else:
        status = Status.ERROR
    if has_solution and status in (Status.OPTIMAL, Status.TIME_LIMIT):
        res.solution_loader.load_vars()
    elif status == Status.TIME_LIMIT:
        status = Status.ERROR
    return status, res


def mip_gap(res: Any) -> float | None:
    if res is None or res.incumbent_objective is None or res.objective_bound is None:
        return None
    obj, bound = res.incumbent_objective, res.objective_bound
    return abs(bound - obj) / max(1.0, abs(obj))
