"""The HiGHS solver as the workbench uses it: which path a model takes to HiGHS, and how a solve goes.

Two interfaces give the same answers (`policy.solver_interface`):
- `direct` (default): the Pyomo model compiled to matrices and handed to `highspy` in one call
  (`vru_model.solving.highs_direct.DirectSolver`), solution and duals mapped back by column and row;
- `pyomo`: Pyomo's own persistent HiGHS interface (`vru_model.solving.pyomo_highs.PyomoSolver`), one object
  per constraint.
`open_solver` returns either, with the same methods (`ModelSolver`; see `highs_direct` for how a persistent
re-solve uses them); this module is the only one that knows both paths. Each solve follows a `Strategy`
(`DEFAULT_STRATEGY` unless the caller names another). Infeasible, time-limited and failed solves come back
as a `Status`, never as exceptions.
"""

from __future__ import annotations

import logging
from typing import Any, Protocol

import pyomo.environ as pyo

from vru_model.scenario.schema import Scenario
from vru_model.solving.highs_direct import DirectSolver
from vru_model.solving.pyomo_highs import PyomoSolver, make_solver, run_solver
from vru_model.solving.status import DEFAULT_STRATEGY, SolveInfo, Status, Strategy

__all__ = ["ModelSolver", "PyomoSolver", "interface_name", "make_solver", "open_solver", "run_solver",
           "solve_model"]

logging.getLogger("pyomo.core").setLevel(logging.ERROR)  # W1002: values a hair outside bounds after a solve


class ModelSolver(Protocol):
    """What `open_solver` returns, whichever interface: a persistent solver bound to one model."""

    model: pyo.ConcreteModel
    time_limit: float  # seconds for each later solve

    def solve(self) -> tuple[Status, SolveInfo | None]: ...
    def lp_duals(self) -> dict[Any, float]: ...
    def set_grants(self, data: Any) -> None: ...
    def refresh_rows(self) -> None: ...
    def refresh_objective(self) -> None: ...
    def refresh_bounds(self) -> None: ...
    def set_rows_active(self, constraints: list[Any], active: bool) -> None: ...
    def offer_model_values(self, *, hint_only: bool = False) -> None: ...
    def model_values(self) -> list[float]: ...
    def column_values(self) -> list[float]: ...
    def warm_start(self, values: list[float], *, hint_only: bool = False) -> None: ...
    def set_options(self, options: dict[str, Any]) -> None: ...


def interface_name(scenario: Scenario) -> str:
    """How the model reached HiGHS, for provenance."""
    return "pyomo.contrib.solver" if scenario.policy.solver_interface == "pyomo" else "highspy (direct)"


def open_solver(
    scenario: Scenario, model: pyo.ConcreteModel, threads: int = 1, *, rel_gap: float | None = None,
    strategy: Strategy = DEFAULT_STRATEGY,
) -> ModelSolver:
    """A persistent solver for `model` through the scenario's `policy.solver_interface`, whose every solve
    follows `strategy` (the direct interface; Pyomo's runs HiGHS's MIP on every solve)."""
    gap = scenario.policy.mip_rel_gap if rel_gap is None else rel_gap
    if scenario.policy.solver_interface == "pyomo":
        opt = make_solver(scenario, threads)
        opt.config.rel_gap = gap
        return PyomoSolver(model, opt)
    return DirectSolver(model, time_limit=scenario.policy.time_limit_seconds, rel_gap=gap, threads=threads,
                        strategy=strategy)


def solve_model(
    scenario: Scenario, model: pyo.ConcreteModel, threads: int = 1, *, rel_gap: float | None = None,
    warm: bool = False, strategy: Strategy = DEFAULT_STRATEGY,
) -> tuple[Status, SolveInfo | None]:
    """One solve of `model` (no re-solve to follow); the solution is loaded into its variables. `warm` offers
    HiGHS the values the model's variables hold now (a plan known to be feasible) as its first incumbent."""
    try:
        solver = open_solver(scenario, model, threads, rel_gap=rel_gap, strategy=strategy)
    except Exception as exc:  # e.g. a model HiGHS rejects: report, do not crash the batch
        logging.getLogger(__name__).warning("HiGHS failed: %s", exc)
        return Status.ERROR, None
    if warm:
        solver.offer_model_values()
    return solver.solve()
