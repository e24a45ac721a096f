"""HiGHS straight from Pyomo's matrices (`policy.solver_interface: direct`): the model compiled once into a
persistent HiGHS model (`compiled_model`), solved by a `Strategy` (HiGHS's MIP, or the relaxation first:
`relaxation_first`), shadow prices from the pinned LP (`duals`).

    solver = DirectSolver(model, time_limit=60, rel_gap=1e-4)  # strategy=DEFAULT_STRATEGY
    status, info = solver.solve()      # values loaded into the model's variables; `info` holds the gap
    duals = solver.lp_duals()          # {ConstraintData: dual} of the LP with integer columns pinned
    solver.set_grants(data)            # `model.set_grants` + the rows that read mutable parameters re-read
    solver.refresh_rows()              # ...the same after changing any mutable parameter in a row yourself
    solver.refresh_objective()         # re-read the active objective (its coefficients changed, or it was
                                       #   replaced by a new Objective component) and push the costs in place
    solver.refresh_bounds()            # re-read every column's bounds and fixings (after `var.fix()`)
    solver.set_rows_active(cons, False) # lift rows in place (a what-if without a rule); True restores them
    solver.column_values()             # the last solution by column; `warm_start(values)` offers one to HiGHS
    solver.prime_relaxation()          # relaxation first: the basis kept now is where each relaxation starts

Robustness samples re-solve with only the objective's value coefficients changed: change them in the
model (mutable parameters, or a replacement Objective), call `refresh_objective()`, then `solve()`
(optionally `warm_start(column_values())` of the recommended plan first: every sample's rows are the same).
Constraints added, removed, activated or deactivated after the compile are not seen: build a new solver.
"""

from __future__ import annotations

import math
import time
from typing import Any

import highspy
import numpy as np
import pyomo.environ as pyo

from vru_model.solving import duals, interrupt
from vru_model.solving.compiled_model import CompiledModel
from vru_model.solving.relaxation_first import Relaxation
from vru_model.solving.status import DEFAULT_STRATEGY, SolveInfo, Status, Strategy, highs_options


class DirectSolver(CompiledModel):
    """A persistent HiGHS model compiled from a Pyomo model, solved by `strategy` (see the module docstring)."""

    def __init__(self, model: pyo.ConcreteModel, *, time_limit: float, rel_gap: float, threads: int = 1,
                 strategy: Strategy = DEFAULT_STRATEGY) -> None:
        options = {"threads": threads, **highs_options(), "time_limit": float(time_limit),
                   "mip_rel_gap": float(rel_gap)}
        super().__init__(model, options)
        self.time_limit = time_limit
        self.rel_gap = rel_gap
        self.strategy = strategy
        self.relaxation = Relaxation(self)
        self._offered: np.ndarray | None = None  # the plan of the last warm_start, until the next solve

    def solve(self) -> tuple[Status, SolveInfo]:
        """Run HiGHS by the solver's strategy; load the solution into the model when there is one; map the
        outcome to a Status."""
        if self.strategy == Strategy.RELAXATION_FIRST:
            offered, self._offered = self._offered, None
            return self.relaxation.solve(self._solve_mip, time_limit=self.time_limit, rel_gap=self.rel_gap,
                                         offered=offered)
        return self._solve_mip()

    def _solve_mip(self, time_limit: float | None = None) -> tuple[Status, SolveInfo]:
        started = time.perf_counter()
        self._offered = None  # HiGHS takes the offered plan with this run
        if self.trivially_infeasible:
            return Status.INFEASIBLE, SolveInfo("trivially infeasible", None, None, 0.0, False, self.time_limit)
        h = self.h
        h.setOptionValue("time_limit", float(self.time_limit if time_limit is None else time_limit))
        h.setOptionValue("mip_rel_gap", float(self.rel_gap))
        interrupt.run(h)
        model_status = h.getModelStatus()
        if model_status == highspy.HighsModelStatus.kInterrupt:
            raise KeyboardInterrupt
        info = h.getInfo()
        has_solution = info.primal_solution_status == 2
        S = highspy.HighsModelStatus
        if model_status in (S.kOptimal, S.kModelEmpty):
            status = Status.OPTIMAL
            has_solution = True
        elif model_status in (S.kInfeasible, S.kUnboundedOrInfeasible):
            status = Status.INFEASIBLE
        elif model_status == S.kTimeLimit:
            status = Status.TIME_LIMIT if has_solution else Status.ERROR
        else:
            status = Status.ERROR
        if status == Status.ERROR:
            has_solution = False
        incumbent = bound = None
        if has_solution:
            self.load(h.getSolution().col_value)
            incumbent = float(info.objective_function_value)
            bound = float(info.mip_dual_bound) if info.mip_node_count >= 0 else incumbent
            if bound is not None and not math.isfinite(bound):
                bound = None
        return status, SolveInfo(
            termination=str(model_status.name) if hasattr(model_status, "name") else str(model_status),
            incumbent_objective=incumbent,
            objective_bound=bound,
            seconds=time.perf_counter() - started,
            time_limit_reached=model_status == S.kTimeLimit,
            time_limit=self.time_limit,
        )

    def prime_relaxation(self) -> None:
        """Keep the basis of the LP relaxation of the model as it stands now as the start of every later
        relaxation-first solve (`Relaxation.prime`)."""
        self.relaxation.prime(self.time_limit)

    def warm_start(self, values: list[float], *, hint_only: bool = False) -> None:
        """Offer HiGHS a plan (one value per column) as its first incumbent for the next solve. Relaxation first,
        the search on the relaxation may return that plan when it is within the gap; `hint_only` keeps it for
        HiGHS's MIP alone (a plan that differs from solve to solve, such as the last frontier level's, would
        otherwise make a result depend on the order of the solves)."""
        self.offer(values)
        self._offered = None if hint_only else np.asarray(values, dtype=float)

    def offer_model_values(self, *, hint_only: bool = False) -> None:
        """Offer the values the model's variables hold now (a plan known to be feasible) as the first incumbent."""
        self.warm_start(self.model_values(), hint_only=hint_only)

    def lp_duals(self) -> dict[Any, float]:
        """Row duals of the LP with every integer column pinned at its (rounded) optimum (`duals.lp_duals`)."""
        return duals.lp_duals(self, self.time_limit)

    def lp_margins(self, params: dict[str, Any], step: float) -> dict[str, tuple[float, float]]:
        """What `step` more and less of each named grant change the pinned LP's optimum (`duals.lp_margins`)."""
        return duals.lp_margins(self, self.time_limit, params, step)
