"""A Pyomo model compiled once into a HiGHS model and kept in step with it in place.

The model is compiled to sparse matrices (`pyomo.repn.plugins.standard_form.LinearStandardFormCompiler`) and
passed to `highspy` in one call; Pyomo's solver layer hands the model over one constraint object at a time,
which costs two to three times HiGHS's own solve on the baseline. Later changes to the Pyomo model (mutable
parameters in rows, the objective, bounds and fixings, rows lifted) are pushed into HiGHS in place instead of
compiling again; a solution comes back into the Pyomo variables by column. Columns come in the order Pyomo's
own interface uses, so column values are interchangeable between the two. Constraints added, removed,
activated or deactivated after the compile are not seen: compile again.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
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

INF = highspy.kHighsInf
_banner_shown = False


def new_highs() -> highspy.Highs:
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


class CompiledModel:
    """A Pyomo model compiled into the HiGHS model `h` (see the module docstring), with `options` set on it.

    `followers` are other HiGHS models with the same rows (the LP relaxation): a coefficient changed in
    place changes there too."""

    def __init__(self, model: pyo.ConcreteModel, options: dict[str, Any]) -> None:
        self.model = model
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
        self.followers: list[highspy.Highs] = []
        self._param_rows: list[int] | None = None
        self._objective_form: tuple[Any, ...] | None = None  # see refresh_objective
        self._last_columns: list[float] | None = None  # see column_values
        n, m = len(self.columns), len(self.rows)
        rhs = np.asarray(info.rhs, dtype=float) if m else np.zeros(0)
        sides = np.array([r.side for r in self.rows], dtype=int)
        row_lower = np.where(sides == 1, -INF, rhs)
        row_upper = np.where(sides == -1, INF, rhs)
        lower, upper = self.column_bounds()
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
        self.h = h = new_highs()
        h.setOptionValue("output_flag", False)
        for key, value in options.items():
            h.setOptionValue(key, value)
        status = h.passModel(
            n, m, int(a.nnz), 1, sense, offset, cost, lower, upper, row_lower, row_upper,
            a.indptr[:-1].astype(np.int32), a.indices.astype(np.int32), a.data.astype(float),
            integrality,
        )
        if status == highspy.HighsStatus.kError:
            raise RuntimeError("HiGHS rejected the compiled model")
        self.integer_cols = np.flatnonzero(integrality).astype(np.int32)

    def column_bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """Every column's bounds as the model has them now (a fixed variable: lb = ub = its value)."""
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
        lower, upper = self.column_bounds()
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
                    for model in (h, *self.followers):
                        model.changeCoeff(k, col, new.get(col, 0.0))
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

    def load(self, values: Iterable[float]) -> None:
        """A solution (one value per column) into the model's variables; unused variables get a value too."""
        values = self._last_columns = [float(x) for x in values]
        for v, x in zip(self.columns, values, strict=True):
            v.set_value(x, skip_validation=True)
        for v in self.unused:
            if v.value is None and not v.fixed:
                v.set_value(min(max(0.0, _bound(v.lb, -INF)), _bound(v.ub, INF)), skip_validation=True)

    def column_values(self) -> list[float]:
        """The last solution loaded (the MIP's, or the relaxation's when that settled it), one value per column."""
        return list(self._last_columns) if self._last_columns is not None else list(self.h.getSolution().col_value)

    def model_values(self) -> list[float]:
        """The values the model's variables hold now, one per column (a plan to offer HiGHS)."""
        return [float(v.value) if v.value is not None else 0.0 for v in self.columns]

    def offer(self, values: Iterable[float]) -> None:
        """A plan (one value per column) as the first incumbent of HiGHS's next MIP."""
        solution = highspy.HighsSolution()
        solution.col_value = list(values)
        solution.value_valid = True
        self.h.setSolution(solution)

    def set_options(self, options: dict[str, Any]) -> None:
        """HiGHS options for later solves of `h` (on top of those it was compiled with); followers keep theirs."""
        for key, value in options.items():
            if self.h.setOptionValue(key, value) == highspy.HighsStatus.kError:
                raise ValueError(f"HiGHS does not take the option {key}={value!r}")
