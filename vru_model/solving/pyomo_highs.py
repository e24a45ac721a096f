"""Pyomo's own persistent HiGHS interface (`pyomo.contrib.solver`, `policy.solver_interface: pyomo`): the
model handed to HiGHS one constraint object at a time, behind the same methods as `DirectSolver`. Infeasible,
time-limited and failed solves come back as a `Status`, never as exceptions.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import highspy
import pyomo.environ as pyo
from pyomo.contrib.solver.common.results import TerminationCondition
from pyomo.contrib.solver.solvers.highs import Highs

from vru_model.scenario.schema import Scenario
from vru_model.solving import interrupt
from vru_model.solving.status import SolveInfo, Status, highs_options

logging.getLogger("pyomo.contrib.solver").setLevel(logging.ERROR)


class _InterruptibleHighs(Highs):
    """Pyomo's persistent HiGHS interface whose runs of HiGHS stop on Ctrl-C (`interrupt.run`). Pyomo loads the
    model into HiGHS in Python on the main thread, where Ctrl-C acts at once; only HiGHS's run is handed over.
    (Through Pyomo alone a Ctrl-C during the run was swallowed and came back as "the solver failed".)"""

    def set_instance(self, model: pyo.ConcreteModel) -> None:
        super().set_instance(model)
        h = self._solver_model
        run = h.run
        h.run = lambda: interrupt.call(run, lambda: h)


def make_solver(scenario: Scenario, threads: int = 1) -> Highs:
    """Pyomo's persistent HiGHS interface with the scenario's settings (the `pyomo` interface)."""
    opt = _InterruptibleHighs()
    opt.config.load_solutions = False
    opt.config.raise_exception_on_nonoptimal_result = False
    opt.config.time_limit = scenario.policy.time_limit_seconds
    opt.config.rel_gap = scenario.policy.mip_rel_gap
    opt.config.threads = threads
    opt.config.solver_options.update(highs_options())
    return opt


def run_solver(opt: Highs, model: pyo.ConcreteModel) -> tuple[Status, SolveInfo | None]:
    """Solve through Pyomo and load the solution when there is one; map the termination to a Status."""
    started = time.perf_counter()
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
    return status, SolveInfo(
        termination=tc.name,
        incumbent_objective=res.incumbent_objective,
        objective_bound=res.objective_bound,
        seconds=time.perf_counter() - started,
        time_limit_reached=tc == TerminationCondition.maxTimeLimit,
        time_limit=float(opt.config.time_limit or 0.0),
    )


class PyomoSolver:
    """Pyomo's persistent HiGHS interface behind the same methods as `DirectSolver`."""

    def __init__(self, model: pyo.ConcreteModel, opt: Highs) -> None:
        self.model = model
        self.opt = opt
        updates = opt.config.auto_updates  # changes are announced by the refresh methods below
        for flag in (
            "check_for_new_or_removed_constraints", "check_for_new_or_removed_vars", "check_for_new_or_removed_params",
            "check_for_new_objective", "update_constraints", "update_vars", "update_named_expressions",
            "update_objective",
        ):
            setattr(updates, flag, False)
        self._first = True

    @property
    def time_limit(self) -> float:
        return float(self.opt.config.time_limit)

    @time_limit.setter
    def time_limit(self, seconds: float) -> None:
        self.opt.config.time_limit = seconds

    def solve(self) -> tuple[Status, SolveInfo | None]:
        status, info = run_solver(self.opt, self.model)
        self._first = False
        return status, info

    def lp_duals(self) -> dict[Any, float]:
        """Duals of the LP with the integer variables pinned at their optimum (`solve_relaxation`)."""
        pinned = []
        for var in self.model.component_data_objects(pyo.Var):
            if var.is_integer() and not var.fixed:
                pinned.append((var, var.lb, var.ub))
                value = round(var.value or 0.0)
                var.setlb(value)
                var.setub(value)
        self.opt.update_variables([v for v, _, _ in pinned])
        self.opt.config.solver_options["solve_relaxation"] = True
        try:
            res = self.opt.solve(self.model)
            if res.termination_condition != TerminationCondition.convergenceCriteriaSatisfied:
                return {}
            return dict(res.solution_loader.get_duals())
        except Exception:  # shadow prices are a bonus; never fail a solve for them
            return {}
        finally:
            del self.opt.config.solver_options["solve_relaxation"]
            for var, lb, ub in pinned:
                var.setlb(lb)
                var.setub(ub)
            self.opt.update_variables([v for v, _, _ in pinned])

    def set_grants(self, data: Any) -> None:
        from vru_model.model.build import set_grants

        set_grants(self.model, data)
        self.refresh_rows()

    def refresh_rows(self) -> None:
        if not self._first:
            self.opt.update_parameters()

    def refresh_objective(self) -> None:
        if not self._first:
            self.opt.set_objective(next(self.model.component_data_objects(pyo.Objective, active=True)))

    def refresh_bounds(self) -> None:
        if not self._first:
            self.opt.update_variables(list(self.model.component_data_objects(pyo.Var)))

    def set_rows_active(self, constraints: list[Any], active: bool) -> None:
        for con in constraints:
            con.activate() if active else con.deactivate()
        if not self._first and constraints:
            (self.opt.add_constraints if active else self.opt.remove_constraints)(list(constraints))

    def column_values(self) -> list[float]:
        return list(self.opt._solver_model.getSolution().col_value)

    def model_values(self) -> list[float]:
        if self.opt._solver_model is None:
            self.opt.set_instance(self.model)
            self._first = False
        order = self.opt._pyomo_var_to_solver_var_map
        values = [0.0] * len(order)
        for var in self.model.component_data_objects(pyo.Var):
            if id(var) in order and var.value is not None:
                values[order[id(var)]] = float(var.value)
        return values

    def offer_model_values(self, *, hint_only: bool = False) -> None:
        self.warm_start(self.model_values(), hint_only=hint_only)

    def warm_start(self, values: list[float], *, hint_only: bool = False) -> None:
        """A first incumbent for HiGHS's MIP (here every plan offered is a hint only: there is no search)."""
        if self.opt._solver_model is None:  # not loaded yet
            self.opt.set_instance(self.model)
            self._first = False
        solution = highspy.HighsSolution()
        solution.col_value = list(values)
        solution.value_valid = True
        self.opt._solver_model.setSolution(solution)

    def set_options(self, options: dict[str, Any]) -> None:
        """HiGHS options for this solver's later solves (on top of HIGHS_OPTIONS)."""
        self.opt.config.solver_options.update(options)
