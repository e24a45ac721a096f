"""The relaxation-first strategy (`Strategy.RELAXATION_FIRST`): the LP relaxation first, then HiGHS's MIP
only when a short search on the relaxation does not settle it.

When the relaxation has no solution, neither has the MIP. When its solution is integral (every integer column
within HiGHS's integrality tolerance), it is the MIP's optimum, exactly. When it is fractional,
`lp_branching.search` rounds it and branches on it, each LP re-solved from its parent's basis, for at most
`NODE_LIMIT` LPs, or `PLAN_BY` LPs while it has no plan (on the baseline's frontier levels and robustness
samples a search with a plan by then mostly settles within 50; one without rarely does, and HiGHS's MIP,
with its cuts, is quicker there). A plan it proves within the gap passes HiGHS's own test of optimality (it
may be another of several equally good plans than the one HiGHS's MIP would return).

The relaxation is a second HiGHS model. After `Relaxation.prime` every solve of it starts from the basis kept
there (robustness samples: only the objective changes, and the kept basis stays feasible), and without one
from scratch with HiGHS's presolve (frontier levels and single solves), so a result never depends on what the
solver solved before. A plan offered to the solve is the search's first plan to beat when it is feasible.
On the baseline's robustness samples about half the relaxations are integral and four in five of the rest
are settled by the search: 0.1 s a sample instead of HiGHS's 0.6 s MIP. When HiGHS's MIP then runs out of
time with no plan of its own, the search's best plan is the answer (`TIME_LIMIT`, with its gap to the
relaxation's bound): on a large model the relaxation and its rounding may be all the time limit allows.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import highspy
import numpy as np

from vru_model.solving import lp_branching
from vru_model.solving.compiled_model import CompiledModel, new_highs
from vru_model.solving.status import SolveInfo, Status

NODE_LIMIT = 50  # LPs a search may take
PLAN_BY = 12  # LPs a search may take while it has found no plan of its own

# HiGHS's MIP on the compiled model, with at most this many seconds (None: the solver's time limit)
RunMip = Callable[[float | None], tuple[Status, SolveInfo]]


class Relaxation:
    """The LP relaxation of a compiled model, and the relaxation-first solve of it (see the module docstring)."""

    def __init__(self, compiled: CompiledModel) -> None:
        self.compiled = compiled
        self.lp: highspy.Highs | None = None  # made on first use
        self._basis: Any = None

    def prime(self, time_limit: float) -> None:
        """Solve the LP relaxation of the model as it stands now and keep its basis as the start of every later
        relaxation-first solve (prime it at a state every caller shares, e.g. the scenario's own values)."""
        lp = self._in_step()
        lp.clearSolver()
        lp_branching.run_until(lp, time.perf_counter() + time_limit)
        self._basis = lp.getBasis() if lp.getModelStatus() == highspy.HighsModelStatus.kOptimal else None

    def _in_step(self) -> highspy.Highs:
        """The LP relaxation of the HiGHS model as it stands now (costs, offset, sense, bounds and rows)."""
        lp = self.lp
        model = self.compiled.h.getLp()
        if lp is None:
            lp = self.lp = new_highs()
            lp.setOptionValue("output_flag", False)
            lp.setOptionValue("threads", 1)
            lp.setOptionValue("random_seed", 0)
            # Devex pricing in the dual simplex: more iterations, each cheaper. Measured against HiGHS's default
            # (dual steepest edge): 100 robustness samples of the baseline 13.0 s against 20.7 s, 51 frontier
            # levels 15.2 s against 17.6 s, the relaxation of 500 services 8.9 s against 10.4 s
            lp.setOptionValue("simplex_dual_edge_weight_strategy", 1)
            lp.passModel(model)
            k = len(self.compiled.integer_cols)
            lp.changeColsIntegrality(k, self.compiled.integer_cols, np.zeros(k, dtype=np.uint8))
            self.compiled.followers.append(lp)  # its rows change with the MIP's
            return lp
        every = np.arange(model.num_col_, dtype=np.int32)
        lp.changeColsCost(model.num_col_, every, np.asarray(model.col_cost_))
        lp.changeColsBounds(model.num_col_, every, np.asarray(model.col_lower_), np.asarray(model.col_upper_))
        rows = np.arange(model.num_row_, dtype=np.int32)
        lp.changeRowsBounds(model.num_row_, rows, np.asarray(model.row_lower_), np.asarray(model.row_upper_))
        lp.changeObjectiveOffset(model.offset_)
        lp.changeObjectiveSense(model.sense_)
        return lp

    def solve(self, run_mip: RunMip, *, time_limit: float, rel_gap: float, offered: np.ndarray | None,
              node_limit: int = NODE_LIMIT, plan_by: int | None = PLAN_BY) -> tuple[Status, SolveInfo]:
        """The relaxation, its search, and `run_mip` only when they do not settle it; the plan is loaded into
        the model. `offered`: a plan for the search to beat (None: none)."""
        started = time.perf_counter()
        deadline = started + time_limit
        compiled = self.compiled
        if compiled.trivially_infeasible or not len(compiled.integer_cols):
            return run_mip(None)
        lp = self._in_step()
        lp.clearSolver()  # nothing of the last solve may carry over (a result must not depend on it)
        if self._basis is not None:
            lp.setBasis(self._basis)
        lp_branching.run_until(lp, deadline)
        if lp.getModelStatus() == highspy.HighsModelStatus.kInfeasible:  # no plan, whole or fractional
            return _no_plan("infeasible (LP relaxation)", started, time_limit)
        if lp.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            return run_mip(_left(deadline))
        x = np.asarray(lp.getSolution().col_value)
        if lp_branching.whole(x, compiled.integer_cols, lp_branching.mip_tolerance(lp)):
            value = float(lp.getInfo().objective_function_value)
            found: lp_branching.Found | lp_branching.NoPlan | None = lp_branching.Found(value, x, value, 0)
            termination = "optimal (LP relaxation integral)"
        else:
            found = lp_branching.search(lp, compiled.integer_cols, rel_gap=rel_gap, node_limit=node_limit,
                                        deadline=started + time_limit / 2, start=offered,
                                        rounding_deadline=deadline, plan_by=plan_by)
            termination = ""
        if isinstance(found, lp_branching.NoPlan):
            return _no_plan(f"infeasible (branching on the LP relaxation, {found.nodes} LPs)", started, time_limit)
        if found is None:  # HiGHS still holds any plan offered: setSolution waits for its run
            return run_mip(_left(deadline))
        if not found.proved:
            return self._mip_after_search(run_mip, found, deadline, started, time_limit)
        termination = termination or f"optimal (branching on the LP relaxation, {found.nodes} LPs)"
        return self._answer(found, Status.OPTIMAL, termination, found.bound, started, time_limit)

    def _answer(self, found: lp_branching.Found, status: Status, termination: str, bound: float, started: float,
                time_limit: float) -> tuple[Status, SolveInfo]:
        """The plan of the relaxation or the search, loaded into the model, as the solve's outcome."""
        self.compiled.load(found.columns)
        return status, SolveInfo(
            termination=termination,
            incumbent_objective=found.objective,
            objective_bound=bound,
            seconds=time.perf_counter() - started,
            time_limit_reached=status == Status.TIME_LIMIT,
            time_limit=time_limit,
        )

    def _mip_after_search(self, run_mip: RunMip, found: lp_branching.Found, deadline: float, started: float,
                          time_limit: float) -> tuple[Status, SolveInfo]:
        """HiGHS's MIP after a search that stopped with a plan it could not prove: HiGHS starts from that plan,
        and when it stops at the time limit the better of the two plans is the answer, with the tighter of the
        two bounds (a MIP stopped early may hold a worse plan than the search's, and a looser bound)."""
        self.compiled.offer(found.columns)
        status, info = run_mip(_left(deadline))
        if not info.time_limit_reached or status not in (Status.TIME_LIMIT, Status.ERROR):
            return status, info
        maximising = self.compiled.h.getLp().sense_ == highspy.ObjSense.kMaximize
        theirs, bound = info.incumbent_objective, info.objective_bound
        bounds = [found.bound] + ([bound] if bound is not None else [])
        bound = min(bounds) if maximising else max(bounds)
        if theirs is not None and (theirs >= found.objective if maximising else theirs <= found.objective):
            return status, replace(info, objective_bound=bound)
        termination = "time limit (the best plan of the branching on the LP relaxation)"
        return self._answer(found, Status.TIME_LIMIT, termination, bound, started, time_limit)


def _left(deadline: float) -> float:
    """What is left of the time limit for HiGHS's MIP (a sliver when nothing is: HiGHS stops at once)."""
    return max(1e-3, deadline - time.perf_counter())


def _no_plan(termination: str, started: float, time_limit: float) -> tuple[Status, SolveInfo]:
    return Status.INFEASIBLE, SolveInfo(termination, None, None, time.perf_counter() - started, False, time_limit)
