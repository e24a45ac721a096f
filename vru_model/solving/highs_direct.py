"""HiGHS straight from Pyomo's matrices: the model is built in Pyomo, compiled once to sparse matrices
(`pyomo.repn.plugins.standard_form.LinearStandardFormCompiler`), passed to `highspy` in one call, and the
solution is mapped back to the Pyomo variables by column. Pyomo's solver layer hands the model over one
constraint object at a time, which costs two to three times HiGHS's own solve on the baseline.

The solver stays persistent: later solves change the HiGHS model in place instead of compiling again.

    solver = DirectSolver(model, time_limit=60, rel_gap=1e-4)
    status, info = solver.solve()      # values loaded into the model's variables; `info` holds the gap
    duals = solver.lp_duals()          # {ConstraintData: dual} of the LP with integer columns pinned
    solver.set_grants(data)            # `model.set_grants` + the rows that read mutable parameters re-read
    solver.refresh_rows()              # ...the same after changing any mutable parameter in a row yourself
    solver.refresh_objective()         # re-read the active objective (its coefficients changed, or it was
                                       #   replaced by a new Objective component) and push the costs in place
    solver.refresh_bounds()            # re-read every column's bounds and fixings (after `var.fix()`)
    solver.set_rows_active(cons, False) # lift rows in place (a what-if without a rule); True restores them
    solver.column_values()             # the last solution by column; `warm_start(values)` offers one to HiGHS
    solver.relaxation_first = True     # every solve: the LP relaxation first, a short branching on it when it
    solver.prime_relaxation()          #   is fractional, HiGHS's MIP only when that does not settle it; the
                                       #   basis kept now is where each relaxation starts

Robustness samples re-solve with only the objective's value coefficients changed: change them in the
model (mutable parameters, or a replacement Objective), call `refresh_objective()`, then `solve()`
(optionally `warm_start(column_values())` of the recommended plan first: every sample's rows are the same).
Columns come in the order Pyomo's own interface uses, so column values are interchangeable between the two.
Constraints added, removed, activated or deactivated after the compile are not seen: build a new solver.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

import highspy
import numpy as np
import pyomo.environ as pyo
from pyomo.common.errors import InfeasibleConstraintException
from pyomo.common.numeric_types import native_types
from pyomo.common.tee import capture_output
from pyomo.core.expr.visitor import identify_mutable_parameters, identify_variables
from pyomo.repn.plugins.standard_form import LinearStandardFormCompiler
from pyomo.repn.standard_repn import generate_standard_repn

from vru_model.solving import interrupt, lp_branching
from vru_model.solving.status import SolveInfo, Status, highs_options

INF = highspy.kHighsInf
_banner_shown = False


def _new_highs() -> highspy.Highs:
    """A HiGHS instance; the first one in a process prints a banner on stdout, which is swallowed."""
    global _banner_shown
    if _banner_shown:
        return highspy.Highs()
    with capture_output(capture_fd=True):
        h = highspy.Highs()
    _banner_shown = True
    return h


def _pyomo_column_order(model: pyo.ConcreteModel) -> list[Any]:
    """Columns in the order Pyomo's own HiGHS interface adds them (as met depth-first, left to right, in the
    constraints, then the objective), so that both interfaces hand HiGHS the same model and get the same
    plan, even where several plans are equally good. A plain stack walk: twice as quick as
    `identify_variables`, with the same order."""
    seen: dict[int, Any] = {}
    exprs = [c.expr for c in model.component_data_objects(pyo.Constraint, active=True, descend_into=True)]
    exprs += [o.expr for o in model.component_data_objects(pyo.Objective, active=True, descend_into=True)]
    for expr in exprs:
        stack = [expr]
        while stack:
            node = stack.pop()
            if node.__class__ in native_types:
                continue
            if node.is_variable_type():
                if id(node) not in seen:
                    seen[id(node)] = node
            elif node.is_expression_type():
                stack.extend(reversed(node.args))
    return list(seen.values())


@contextmanager
def _unfixed(variables: Iterable[Any]) -> Iterator[None]:
    """Fixed variables stay columns (bounds lb = ub) so that fixing and unfixing later needs no compile."""
    fixed = [v for v in variables if v.fixed]
    for v in fixed:
        v.unfix()
    try:
        yield
    finally:
        for v in fixed:
            v.fix()


def _bound(x: Any, default: float) -> float:
    return default if x is None else float(x)


@dataclass
class _Row:
    """One HiGHS row: the Pyomo constraint and which side it is (0 equality, 1 upper bound, -1 lower)."""

    con: Any
    side: int


class DirectSolver:
    """A persistent HiGHS model compiled from a Pyomo model (see the module docstring)."""

    def __init__(self, model: pyo.ConcreteModel, *, time_limit: float, rel_gap: float, threads: int = 1) -> None:
        self.model = model
        self.time_limit = time_limit
        self.rel_gap = rel_gap
        every_var = list(model.component_data_objects(pyo.Var, descend_into=True))
        self.trivially_infeasible = False
        try:
            with _unfixed(every_var):
                info = LinearStandardFormCompiler().write(
                    model, mixed_form=True, set_sense=None, column_order=_pyomo_column_order(model)
                )
        except InfeasibleConstraintException:  # a row without variables that cannot hold
            self.trivially_infeasible = True
            info = LinearStandardFormCompiler().write(pyo.ConcreteModel(), mixed_form=True, set_sense=None)
        self.columns: list[Any] = list(info.columns)
        self.col_of = {id(v): k for k, v in enumerate(self.columns)}
        # Variables in no row and no objective term: not columns, but they get a value after a solve
        self.unused = [v for v in every_var if id(v) not in self.col_of]
        self.rows = [_Row(r[0], r[1]) for r in info.rows]
        self.objective = info.objectives[0] if info.objectives else None
        self._param_rows: list[int] | None = None
        self._objective_form: tuple[Any, ...] | None = None  # see refresh_objective
        self.relaxation_first = False  # see _solve_relaxation_first
        self._relaxation: highspy.Highs | None = None
        self._relaxation_basis: Any = None
        self._last_columns: list[float] | None = None  # see column_values
        self._offered: np.ndarray | None = None  # the plan of the last warm_start, until the next solve
        n, m = len(self.columns), len(self.rows)
        rhs = np.asarray(info.rhs, dtype=float) if m else np.zeros(0)
        sides = np.array([r.side for r in self.rows], dtype=int)
        row_lower = np.where(sides == 1, -INF, rhs)
        row_upper = np.where(sides == -1, INF, rhs)
        lower, upper = self._column_bounds()
        integrality = np.array([1 if v.is_integer() else 0 for v in self.columns], dtype=np.int32)
        cost = info.c.toarray()[0] if info.objectives else np.zeros(n)
        offset = float(info.c_offset[0]) if info.objectives else 0.0
        sense = -1 if self.objective is not None and self.objective.sense == pyo.maximize else 1
        a = info.A.tocsc()
        a.sort_indices()
        self._a = a.tocsr()  # rows as stored in HiGHS, for re-reading rows in place
        self._row_bounds = (row_lower, row_upper)
        self._rows_of: dict[int, list[int]] = {}
        for k, row in enumerate(self.rows):
            self._rows_of.setdefault(id(row.con), []).append(k)
        self.h = _new_highs()
        h = self.h
        h.setOptionValue("output_flag", False)
        h.setOptionValue("threads", threads)
        for key, value in highs_options().items():
            h.setOptionValue(key, value)
        h.setOptionValue("time_limit", float(time_limit))
        h.setOptionValue("mip_rel_gap", float(rel_gap))
        status = h.passModel(
            n, m, int(a.nnz), 1, sense, offset, cost, lower, upper, row_lower, row_upper,
            a.indptr[:-1].astype(np.int32), a.indices.astype(np.int32), a.data.astype(float),
            integrality,
        )
        if status == highspy.HighsStatus.kError:
            raise RuntimeError("HiGHS rejected the compiled model")
        self.integer_cols = np.flatnonzero(integrality).astype(np.int32)

    # --- reading the model again, in place --------------------------------------------------
    def _column_bounds(self) -> tuple[np.ndarray, np.ndarray]:
        lower = np.empty(len(self.columns))
        upper = np.empty(len(self.columns))
        for k, v in enumerate(self.columns):
            if v.fixed:
                lower[k] = upper[k] = float(v.value)
            else:
                lower[k] = _bound(v.lb, -INF)
                upper[k] = _bound(v.ub, INF)
        return lower, upper

    def refresh_bounds(self) -> None:
        """Push every column's current bounds (a fixed variable: lb = ub = its value) to HiGHS."""
        lower, upper = self._column_bounds()
        idx = np.arange(len(self.columns), dtype=np.int32)
        self.h.changeColsBounds(len(idx), idx, lower, upper)

    def _rows_with_parameters(self) -> list[int]:
        """Rows whose constraint reads a mutable parameter (found once, on the first refresh)."""
        if self._param_rows is None:
            found: dict[int, bool] = {}
            self._param_rows = []
            for k, row in enumerate(self.rows):
                key = id(row.con)
                if key not in found:
                    found[key] = next(iter(identify_mutable_parameters(row.con.expr)), None) is not None
                if found[key]:
                    self._param_rows.append(k)
        return self._param_rows

    def refresh_rows(self) -> None:
        """Re-read the bounds and coefficients of every row that depends on a mutable parameter."""
        h = self.h
        for k in self._rows_with_parameters():
            con, side = self.rows[k].con, self.rows[k].side
            lb, body, ub = con.to_bounded_expression()
            with _unfixed(identify_variables(body, include_fixed=True)):
                repn = generate_standard_repn(body, compute_values=True, quadratic=False)
            const = float(repn.constant)
            lo = -INF if side == 1 or lb is None else float(pyo.value(lb)) - const
            hi = INF if side == -1 or ub is None else float(pyo.value(ub)) - const
            h.changeRowBounds(k, lo, hi)
            new = {self.col_of[id(v)]: float(c) for v, c in zip(repn.linear_vars, repn.linear_coefs, strict=True)}
            start, end = self._a.indptr[k], self._a.indptr[k + 1]
            old = dict(zip(self._a.indices[start:end].tolist(), self._a.data[start:end].tolist(), strict=True))
            for col in set(old) | set(new):
                if old.get(col, 0.0) != new.get(col, 0.0):
                    h.changeCoeff(k, col, new.get(col, 0.0))
                    if self._relaxation is not None:
                        self._relaxation.changeCoeff(k, col, new.get(col, 0.0))
                    self._a[k, col] = new.get(col, 0.0)

    def set_rows_active(self, constraints: Iterable[Any], active: bool) -> None:
        """Lift these constraints' rows (bounds at infinity) or restore them, in place: a what-if without a
        rule costs a solve, not a compile."""
        rows = np.array(sorted({k for c in constraints for k in self._rows_of.get(id(c), [])}), dtype=np.int32)
        if not len(rows):
            return
        lower, upper = self._row_bounds
        if active:
            self.h.changeRowsBounds(len(rows), rows, lower[rows], upper[rows])
        else:
            self.h.changeRowsBounds(len(rows), rows, np.full(len(rows), -INF), np.full(len(rows), INF))

    def set_grants(self, data: Any) -> None:
        """Load `data`'s grant amounts into the model's parameters (`model.set_grants`) and into HiGHS."""
        from vru_model.model.build import set_grants

        set_grants(self.model, data)
        self.refresh_rows()

    def refresh_objective(self) -> None:
        """Re-read the model's active objective and change HiGHS's costs, offset and sense in place.

        The objective's standard form is generated once, with mutable parameters kept as expressions; a
        re-read of the same objective only re-evaluates the coefficients that hold parameters (a robustness
        sample changes 25 values: re-generating the form cost more than a fifth of the sample's HiGHS time)."""
        objectives = list(self.model.component_data_objects(pyo.Objective, active=True))
        if len(objectives) != 1:
            raise ValueError(f"expected one active objective, found {len(objectives)}")
        obj = objectives[0]
        form = self._objective_form
        if form is None or form[0] is not obj or form[1] is not obj.expr:
            with _unfixed(identify_variables(obj.expr, include_fixed=True)):
                repn = generate_standard_repn(obj.expr, compute_values=False, quadratic=False)
            columns = []
            for v in repn.linear_vars:
                if id(v) not in self.col_of:
                    raise ValueError(f"objective term {v.name} is not a column of the compiled model: "
                                     "build a new solver")
                columns.append(self.col_of[id(v)])
            self._objective_form = (obj, obj.expr, np.asarray(columns, dtype=np.int64), list(repn.linear_coefs),
                                    repn.constant)
        _obj, _expr, columns, coefs, constant = self._objective_form
        cost = np.zeros(len(self.columns))
        np.add.at(cost, columns, [float(c) if type(c) in native_types else float(pyo.value(c)) for c in coefs])
        idx = np.arange(len(cost), dtype=np.int32)
        self.h.changeColsCost(len(idx), idx, cost)
        self.h.changeObjectiveOffset(float(pyo.value(constant)))
        self.h.changeObjectiveSense(highspy.ObjSense.kMaximize if obj.sense == pyo.maximize
                                    else highspy.ObjSense.kMinimize)
        self.objective = obj

    # --- solving -------------------------------------------------------------------------
    def solve(self) -> tuple[Status, SolveInfo]:
        """Run HiGHS; load the solution into the model when there is one; map the outcome to a Status. With
        `relaxation_first` set, the LP relaxation comes first (see `_solve_relaxation_first`)."""
        return self._solve_relaxation_first() if self.relaxation_first else self._solve_mip()

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
            self._load(h.getSolution().col_value)
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

    def _solve_relaxation_first(self, node_limit: int = 50, plan_by: int | None = 12) -> tuple[Status, SolveInfo]:
        """The LP relaxation first, then HiGHS's MIP only when a short search on the relaxation does not settle it.

        When the relaxation has no solution, neither has the MIP. When its solution is integral (every integer
        column within HiGHS's integrality tolerance), it is the MIP's optimum, exactly. When it is fractional,
        `lp_branching.search` rounds it and branches on it, each LP re-solved from its parent's basis, for at
        most `node_limit` LPs, or `plan_by` LPs while it has no plan (on the baseline's frontier levels and
        robustness samples a search with a plan by then mostly settles within 50; one without rarely does, and
        HiGHS's MIP, with its cuts, is quicker there). A plan it proves within the gap passes HiGHS's own test
        of optimality (it may be another of several equally good plans than the one HiGHS's MIP would return).
        The relaxation is a second HiGHS model. After `prime_relaxation` every solve of it starts from the basis
        kept there (robustness samples: only the objective changes, and the kept basis stays feasible), and
        without one from scratch with HiGHS's presolve (frontier levels and single solves), so a result never
        depends on what this solver solved before. A plan offered by `warm_start` is the search's first plan to
        beat when it is feasible, unless offered as a hint only.
        On the baseline's robustness samples about half the relaxations are integral and four in five of the
        rest are settled by the search: 0.1 s a sample instead of HiGHS's 0.6 s MIP. When HiGHS's MIP then
        runs out of time with no plan of its own, the search's best plan is the answer (`TIME_LIMIT`, with its
        gap to the relaxation's bound): on a large model the relaxation and its rounding may be all the time
        limit allows."""
        started = time.perf_counter()
        deadline = started + self.time_limit
        offered, self._offered = self._offered, None
        if self.trivially_infeasible or not len(self.integer_cols):
            return self._solve_mip()
        lp = self._relaxation_in_step()
        lp.clearSolver()  # nothing of the last solve may carry over (a result must not depend on it)
        if self._relaxation_basis is not None:
            lp.setBasis(self._relaxation_basis)
        lp_branching.run_until(lp, deadline)
        if lp.getModelStatus() == highspy.HighsModelStatus.kInfeasible:  # no plan, whole or fractional
            return self._no_plan("infeasible (LP relaxation)", started)
        if lp.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            return self._solve_mip(self._left(deadline))
        x = np.asarray(lp.getSolution().col_value)
        if lp_branching.whole(x, self.integer_cols):
            value = float(lp.getInfo().objective_function_value)
            found: lp_branching.Found | lp_branching.NoPlan | None = lp_branching.Found(value, x, value, 0)
            termination = "optimal (LP relaxation integral)"
        else:
            found = lp_branching.search(lp, self.integer_cols, rel_gap=self.rel_gap, node_limit=node_limit,
                                        deadline=started + self.time_limit / 2, start=offered,
                                        rounding_deadline=deadline, plan_by=plan_by)
            termination = ""
        if isinstance(found, lp_branching.NoPlan):
            return self._no_plan(f"infeasible (branching on the LP relaxation, {found.nodes} LPs)", started)
        if found is None:  # HiGHS still holds any plan offered: setSolution waits for its run
            return self._solve_mip(self._left(deadline))
        if not found.proved:
            return self._mip_after_search(found, deadline, started)
        termination = termination or f"optimal (branching on the LP relaxation, {found.nodes} LPs)"
        return self._answer(found, Status.OPTIMAL, termination, found.bound, started)

    def _answer(self, found: lp_branching.Found, status: Status, termination: str, bound: float, started: float
                ) -> tuple[Status, SolveInfo]:
        """The plan of the relaxation or the search, loaded into the model, as the solve's outcome."""
        self._load(found.columns)
        return status, SolveInfo(
            termination=termination,
            incumbent_objective=found.objective,
            objective_bound=bound,
            seconds=time.perf_counter() - started,
            time_limit_reached=status == Status.TIME_LIMIT,
            time_limit=self.time_limit,
        )

    def _mip_after_search(self, found: lp_branching.Found, deadline: float, started: float
                          ) -> tuple[Status, SolveInfo]:
        """HiGHS's MIP after a search that stopped with a plan it could not prove: HiGHS starts from that plan,
        and when it stops at the time limit the better of the two plans is the answer, with the tighter of the
        two bounds (a MIP stopped early may hold a worse plan than the search's, and a looser bound)."""
        self.warm_start(list(found.columns), hint_only=True)
        status, info = self._solve_mip(self._left(deadline))
        if not info.time_limit_reached or status not in (Status.TIME_LIMIT, Status.ERROR):
            return status, info
        maximising = self.h.getLp().sense_ == highspy.ObjSense.kMaximize
        theirs, bound = info.incumbent_objective, info.objective_bound
        bounds = [found.bound] + ([bound] if bound is not None else [])
        bound = min(bounds) if maximising else max(bounds)
        if theirs is not None and (theirs >= found.objective if maximising else theirs <= found.objective):
            return status, replace(info, objective_bound=bound)
        termination = "time limit (the best plan of the branching on the LP relaxation)"
        return self._answer(found, Status.TIME_LIMIT, termination, bound, started)

    @staticmethod
    def _left(deadline: float) -> float:
        """What is left of the time limit for HiGHS's MIP (a sliver when nothing is: HiGHS stops at once)."""
        return max(1e-3, deadline - time.perf_counter())

    def _no_plan(self, termination: str, started: float) -> tuple[Status, SolveInfo]:
        return Status.INFEASIBLE, SolveInfo(termination, None, None, time.perf_counter() - started, False,
                                            self.time_limit)

    def prime_relaxation(self) -> None:
        """Solve the LP relaxation of the model as it stands now and keep its basis as the start of every later
        relaxation-first solve (prime it at a state every caller shares, e.g. the scenario's own values)."""
        lp = self._relaxation_in_step()
        lp.clearSolver()
        lp_branching.run_until(lp, time.perf_counter() + self.time_limit)
        self._relaxation_basis = lp.getBasis() if lp.getModelStatus() == highspy.HighsModelStatus.kOptimal else None

    def _relaxation_in_step(self) -> highspy.Highs:
        """The LP relaxation of the HiGHS model as it stands now (costs, offset, sense, bounds and rows)."""
        lp = self._relaxation
        model = self.h.getLp()
        if lp is None:
            lp = self._relaxation = _new_highs()
            lp.setOptionValue("output_flag", False)
            lp.setOptionValue("threads", 1)
            lp.setOptionValue("random_seed", 0)
            # Devex pricing in the dual simplex: more iterations, each cheaper. Measured against HiGHS's default
            # (dual steepest edge): 100 robustness samples of the baseline 13.0 s against 20.7 s, 51 frontier
            # levels 15.2 s against 17.6 s, the relaxation of 500 services 8.9 s against 10.4 s
            lp.setOptionValue("simplex_dual_edge_weight_strategy", 1)
            lp.passModel(model)
            k = len(self.integer_cols)
            lp.changeColsIntegrality(k, self.integer_cols, np.zeros(k, dtype=np.uint8))
            return lp
        every = np.arange(model.num_col_, dtype=np.int32)
        lp.changeColsCost(model.num_col_, every, np.asarray(model.col_cost_))
        lp.changeColsBounds(model.num_col_, every, np.asarray(model.col_lower_), np.asarray(model.col_upper_))
        rows = np.arange(model.num_row_, dtype=np.int32)
        lp.changeRowsBounds(model.num_row_, rows, np.asarray(model.row_lower_), np.asarray(model.row_upper_))
        lp.changeObjectiveOffset(model.offset_)
        lp.changeObjectiveSense(model.sense_)
        return lp

    def _load(self, values: Iterable[float]) -> None:
        values = self._last_columns = [float(x) for x in values]
        for v, x in zip(self.columns, values, strict=True):
            v.set_value(x, skip_validation=True)
        for v in self.unused:
            if v.value is None and not v.fixed:
                v.set_value(min(max(0.0, _bound(v.lb, -INF)), _bound(v.ub, INF)), skip_validation=True)

    def column_values(self) -> list[float]:
        """The last solution loaded (the MIP's, or the relaxation's when that settled it), one value per column."""
        return list(self._last_columns) if self._last_columns is not None else list(self.h.getSolution().col_value)

    def warm_start(self, values: list[float], *, hint_only: bool = False) -> None:
        """Offer HiGHS a plan (one value per column) as its first incumbent for the next solve. With
        `relaxation_first`, the search on the relaxation may return that plan when it is within the gap;
        `hint_only` keeps it for HiGHS's MIP alone (a plan that differs from solve to solve, such as the last
        frontier level's, would otherwise make a result depend on the order of the solves)."""
        solution = highspy.HighsSolution()
        solution.col_value = list(values)
        solution.value_valid = True
        self.h.setSolution(solution)
        self._offered = None if hint_only else np.asarray(values, dtype=float)

    def set_options(self, options: dict[str, Any]) -> None:
        """HiGHS options for this solver's later solves (on top of HIGHS_OPTIONS); the relaxation keeps its own."""
        for key, value in options.items():
            if self.h.setOptionValue(key, value) == highspy.HighsStatus.kError:
                raise ValueError(f"HiGHS does not take the option {key}={value!r}")

    def model_values(self) -> list[float]:
        """The values the model's variables hold now, one per column (a plan to `warm_start` from)."""
        return [float(v.value) if v.value is not None else 0.0 for v in self.columns]

    def offer_model_values(self, *, hint_only: bool = False) -> None:
        """Offer the values the model's variables hold now (a plan known to be feasible) as the first incumbent."""
        self.warm_start(self.model_values(), hint_only=hint_only)

    @contextmanager
    def _pinned_lp(self) -> Iterator[None]:
        """The LP with every integer column pinned at its (rounded) optimum, for the duration; the MIP model is
        restored afterwards."""
        h = self.h
        cols = self.integer_cols
        if len(cols):
            values = np.array([round(self.columns[k].value or 0.0) for k in cols], dtype=float)
            lower, upper = self._column_bounds()
            h.changeColsBounds(len(cols), cols, values, values)
        h.setOptionValue("solve_relaxation", True)
        try:
            yield
        finally:
            h.setOptionValue("solve_relaxation", False)
            if len(cols):
                h.changeColsBounds(len(cols), cols, lower[cols], upper[cols])

    def _run_lp(self) -> bool:
        """Run the pinned LP; True when it is optimal."""
        h = self.h
        # an LP on this object is timed against every run it made before, the MIP's included (HiGHS 1.16)
        h.setOptionValue("time_limit", float(h.getRunTime()) + float(self.time_limit))
        interrupt.run(h)
        if h.getModelStatus() == highspy.HighsModelStatus.kInterrupt:
            raise KeyboardInterrupt
        return h.getModelStatus() == highspy.HighsModelStatus.kOptimal

    def lp_duals(self) -> dict[Any, float]:
        """Row duals of the LP with every integer column pinned at its (rounded) optimum: the shadow prices
        a MIP cannot give. Empty if the LP does not solve."""
        with self._pinned_lp():
            if not self._run_lp():
                return {}
            duals: dict[Any, float] = {}
            for row, y in zip(self.rows, self.h.getSolution().row_dual, strict=True):
                duals[row.con] = duals.get(row.con, 0.0) + float(y)
            return duals

    def lp_margins(self, params: dict[str, Any], step: float) -> dict[str, tuple[float, float]]:
        """For each named mutable parameter (a grant), what `step` more and `step` less of it change the pinned
        LP's optimum, per unit: (a unit more, a unit less). Where the LP is degenerate its dual is only one of
        the two (cut_50's 2022/23 grant: £2.29 a pound for the last pound, £1.12 for the next). Rows reading the
        parameter are re-read in place (`refresh_rows`), so a grant's other rows (the commissioning minimum
        on the grant awarded) move with it. A side whose LP does not solve is left out."""
        found: dict[str, tuple[float, float]] = {}
        with self._pinned_lp():
            if not self._run_lp():
                return found
            base = self.h.getInfo().objective_function_value
            for name, param in params.items():
                own = float(param.value)
                slopes = []
                try:
                    for sign in (1.0, -1.0):
                        param.set_value(own + sign * step)
                        self.refresh_rows()
                        solved = self._run_lp()
                        value = self.h.getInfo().objective_function_value
                        slopes.append(sign * (value - base) / step if solved else None)
                finally:
                    param.set_value(own)
                    self.refresh_rows()
                if None not in slopes:
                    found[name] = (slopes[0], slopes[1])
        return found
