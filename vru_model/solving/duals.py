"""Shadow prices of a solved MIP: HiGHS gives no duals for a MIP, so they come from the LP with every integer
column pinned at its (rounded) optimum, solved on the compiled model itself; the MIP model is restored after.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import highspy
import numpy as np

from vru_model.solving import interrupt
from vru_model.solving.compiled_model import CompiledModel


@contextmanager
def _pinned_lp(compiled: CompiledModel) -> Iterator[None]:
    """The LP with every integer column pinned at its (rounded) optimum, for the duration; the MIP model is
    restored afterwards."""
    h = compiled.h
    cols = compiled.integer_cols
    if len(cols):
        values = np.array([round(compiled.columns[k].value or 0.0) for k in cols], dtype=float)
        lower, upper = compiled.column_bounds()
        h.changeColsBounds(len(cols), cols, values, values)
    h.setOptionValue("solve_relaxation", True)
    try:
        yield
    finally:
        h.setOptionValue("solve_relaxation", False)
        if len(cols):
            h.changeColsBounds(len(cols), cols, lower[cols], upper[cols])


def _run_lp(h: highspy.Highs, time_limit: float) -> bool:
    """Run the pinned LP; True when it is optimal."""
    # an LP on this object is timed against every run it made before, the MIP's included (HiGHS 1.16)
    h.setOptionValue("time_limit", float(h.getRunTime()) + float(time_limit))
    interrupt.run(h)
    if h.getModelStatus() == highspy.HighsModelStatus.kInterrupt:
        raise KeyboardInterrupt
    return h.getModelStatus() == highspy.HighsModelStatus.kOptimal


def lp_duals(compiled: CompiledModel, time_limit: float) -> dict[Any, float]:
    """Row duals of the pinned LP, summed by constraint: the shadow prices a MIP cannot give. Empty if the LP
    does not solve within `time_limit`."""
    with _pinned_lp(compiled):
        if not _run_lp(compiled.h, time_limit):
            return {}
        duals: dict[Any, float] = {}
        for row, y in zip(compiled.rows, compiled.h.getSolution().row_dual, strict=True):
            duals[row.con] = duals.get(row.con, 0.0) + float(y)
        return duals


def lp_margins(compiled: CompiledModel, time_limit: float, params: dict[str, Any], step: float
               ) -> dict[str, tuple[float, float]]:
    """For each named mutable parameter (a grant), what `step` more and `step` less of it change the pinned
    LP's optimum, per unit: (a unit more, a unit less). Where the LP is degenerate its dual is only one of
    the two (cut_50's 2022/23 grant: £2.29 a pound for the last pound, £1.12 for the next). Rows reading the
    parameter are re-read in place (`refresh_rows`), so a grant's other rows (the commissioning minimum
    on the grant awarded) move with it. A side whose LP does not solve is left out."""
    h = compiled.h
    found: dict[str, tuple[float, float]] = {}
    with _pinned_lp(compiled):
        if not _run_lp(h, time_limit):
            return found
        base = h.getInfo().objective_function_value
        for name, param in params.items():
            own = float(param.value)
            slopes = []
            try:
                for sign in (1.0, -1.0):
                    param.set_value(own + sign * step)
                    compiled.refresh_rows()
                    solved = _run_lp(h, time_limit)
                    value = h.getInfo().objective_function_value
                    slopes.append(sign * (value - base) / step if solved else None)
            finally:
                param.set_value(own)
                compiled.refresh_rows()
            if None not in slopes:
                found[name] = (slopes[0], slopes[1])
    return found
