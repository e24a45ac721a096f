"""A small branch and bound on a warm LP relaxation: a robustness sample's MIP settled without running HiGHS's.

A sample changes only the objective, and its LP relaxation re-solves from a kept basis in a few hundred
simplex iterations. When that relaxation is fractional, HiGHS's MIP starts again from scratch: presolve,
the root LP, an analytic centre by interior point, then branching; about 0.6 s on the baseline, for a root
gap that is usually a few hundredths of a percent. This search does the same thing on the relaxation that is
already solved, with few enough nodes that it is quicker or gives up:

1. the relaxation with every integer column fixed at its rounded value gives a plan (when it is feasible);
2. best-first branching on the most fractional integer column, each child re-solved from its parent's basis,
   until the best open bound is within `rel_gap` of the best plan (HiGHS's own test for optimality), or the
   next pair of children would take it past `node_limit` LPs (the rounding counts; the root does not), or past
   `plan_by` LPs while the search has found no plan of its own, or the deadline passes.

What it proves is what HiGHS's optimality test proves: the plan returned is within `rel_gap` of the optimum
(plus an absolute 1e-6), and the bound returned is an upper bound on the optimum (in the maximising
direction) taken over every node left open or dropped for being within the gap. It is *a* plan within the
gap, not necessarily the one HiGHS's MIP would pick among equally good ones. When every branch is infeasible
and no limit was reached, the model has no whole plan (`NoPlan`). When it gives up it returns its best plan,
marked unproved, with the root's bound (or None without one), and the caller runs HiGHS's MIP; nothing of the
search stays on the LP (every column gets its own bounds back).

HiGHS 1.16 counts an LP object's `time_limit` against its run time summed over every `run()`, so each run
here sets the limit to the run time so far plus what is left before the deadline (`run_until`).
"""

from __future__ import annotations

import heapq
import math
import time
from dataclasses import dataclass
from typing import Any

import highspy
import numpy as np

from vru_model.solving import interrupt


@dataclass(frozen=True)
class Found:
    """A plan, its objective, the columns, a bound on the optimum and the LPs it took. `proved`: within the gap
    of that bound (HiGHS's test of optimality); when False the search stopped at a limit first, and the plan is
    only the best it had (the caller's fallback if HiGHS's MIP finds none)."""

    objective: float
    columns: np.ndarray
    bound: float
    nodes: int
    proved: bool = True


@dataclass(frozen=True)
class NoPlan:
    """Every branch ended infeasible, none cut short: the model has no whole plan (the LPs it took)."""

    nodes: int


def run_until(lp: highspy.Highs, deadline: float) -> None:
    """`lp.run()` with at most until `deadline` (a `time.perf_counter()` time) to run."""
    lp.setOptionValue("time_limit", float(lp.getRunTime()) + max(0.0, deadline - time.perf_counter()))
    interrupt.run(lp)


class _GiveUp(Exception):
    """The search stops unsettled: a node's LP ended neither optimal nor infeasible, or a limit was reached."""


@dataclass(order=True)
class _Node:
    priority: float  # minus the node's bound in the maximising direction: the heap pops the best bound first
    order: int  # ties broken by creation order: the same search every time
    bounds: dict[int, tuple[float, float]]  # position in the integer columns -> (lower, upper) branched to
    branch_on: int
    value: float
    basis: Any


def mip_tolerance(lp: highspy.Highs) -> float:
    """`lp`'s `mip_feasibility_tolerance` (HiGHS's default 1e-6): the one tolerance HiGHS's MIP accepts a plan
    with, on its column bounds, its row bounds and the integrality of its integer columns alike
    (`HighsMipSolverData::checkSolution`). The LP's own primal feasibility tolerance (1e-7) is not it."""
    return float(lp.getOptionValue("mip_feasibility_tolerance")[1])


def _fractional(x: np.ndarray, integer_cols: np.ndarray) -> np.ndarray:
    xi = x[integer_cols]
    return np.abs(xi - np.round(xi))


def whole(x: np.ndarray, integer_cols: np.ndarray, tolerance: float) -> bool:
    """Whether every integer column of `x` is within `tolerance` (`mip_tolerance`) of an integer."""
    return not len(integer_cols) or bool(_fractional(x, integer_cols).max() <= tolerance)


def _feasible(model: highspy.HighsLp, x: np.ndarray, integer_cols: np.ndarray, tolerance: float) -> bool:
    """Whether `x` keeps every column bound, row bound and integrality of the model within `tolerance`, as
    HiGHS's MIP checks a plan offered to it."""
    if len(x) != model.num_col_ or model.a_matrix_.format_ != highspy.MatrixFormat.kColwise:
        return False  # (HiGHS keeps its matrix column-wise; anything else is not read here)
    lower, upper = np.asarray(model.col_lower_), np.asarray(model.col_upper_)
    if np.any(x < lower - tolerance) or np.any(x > upper + tolerance):
        return False
    if not whole(x, integer_cols, tolerance):
        return False
    a = model.a_matrix_
    start, index = np.asarray(a.start_, dtype=np.int64), np.asarray(a.index_, dtype=np.int64)
    value = np.asarray(a.value_)
    activity = np.zeros(model.num_row_)
    columns = np.repeat(np.arange(model.num_col_), np.diff(start))  # column-wise storage
    np.add.at(activity, index, value * x[columns])
    return not (np.any(activity < np.asarray(model.row_lower_) - tolerance)
                or np.any(activity > np.asarray(model.row_upper_) + tolerance))


def _solve_node(lp: highspy.Highs, integer_cols: np.ndarray, box: tuple[np.ndarray, np.ndarray],
                bounds: dict[int, tuple[float, float]], basis: Any, until: float, sign: float
                ) -> tuple[float, np.ndarray, Any] | None:
    """The LP with the integer columns' own bounds `box` narrowed to a node's `bounds`, solved from `basis`:
    its value in the maximising direction (`sign`), solution and basis; None when it is infeasible."""
    lower, upper = box[0].copy(), box[1].copy()
    for k, (lo, up) in bounds.items():
        lower[k], upper[k] = lo, up
    lp.changeColsBounds(len(integer_cols), integer_cols, lower, upper)
    lp.setBasis(basis)
    run_until(lp, until)
    status = lp.getModelStatus()
    if status == highspy.HighsModelStatus.kInfeasible:
        return None  # nothing below this node
    if status != highspy.HighsModelStatus.kOptimal:
        raise _GiveUp  # cut short or unclear: the node cannot be pruned, so nothing is proved
    x = np.asarray(lp.getSolution().col_value)
    return sign * float(lp.getInfo().objective_function_value), x, lp.getBasis()


def search(lp: highspy.Highs, integer_cols: np.ndarray, *, rel_gap: float, node_limit: int, deadline: float,
           start: np.ndarray | None = None, rounding_deadline: float | None = None,
           plan_by: int | None = None) -> Found | NoPlan | None:
    """Branch and bound on `lp`, the LP relaxation just solved to optimality (its solution and basis are the
    root), solving at most `node_limit` LPs. `start` is a plan to beat (used only if it is feasible). The
    rounding may run until `rounding_deadline` (default `deadline`): on a model whose relaxation took most of
    the time, it is the plan there is. Not settled within the limits: the best plan found, `proved` False, or
    None when there is none. `plan_by`: give up after that many LPs while the search has found no plan of its
    own, an offered `start` not counting (a search that has found none by then rarely proves one; HiGHS's MIP,
    with its cuts, is quicker there)."""
    if lp.getModelStatus() != highspy.HighsModelStatus.kOptimal:  # e.g. bounds changed since, by a search
        raise ValueError("search needs the LP relaxation solved to optimality just before it")
    model = lp.getLp()
    tolerance = mip_tolerance(lp)
    sign = -1.0 if model.sense_ == highspy.ObjSense.kMinimize else 1.0  # work in the maximising direction
    cost, offset = np.asarray(model.col_cost_), float(model.offset_)
    lower0 = np.asarray(model.col_lower_)[integer_cols].copy()
    upper0 = np.asarray(model.col_upper_)[integer_cols].copy()
    root_x = np.asarray(lp.getSolution().col_value)
    root_value = sign * float(lp.getInfo().objective_function_value)
    root_basis = lp.getBasis()
    best_value, best_x = -math.inf, None
    searched = False  # whether the search found a plan itself (for plan_by; an offered start does not count)
    dropped = -math.inf  # the best bound of nodes dropped for being within the gap of the plan of the time
    if start is not None and _feasible(model, start, integer_cols, tolerance):
        best_value, best_x = sign * float(cost @ start + offset), start

    def proved(bound: float) -> bool:
        return best_x is not None and bound - best_value <= rel_gap * max(abs(best_value), 1e-9) + 1e-6

    def solve(bounds: dict[int, tuple[float, float]], basis: Any, until: float = deadline
              ) -> tuple[float, np.ndarray, Any] | None:
        return _solve_node(lp, integer_cols, (lower0, upper0), bounds, basis, until, sign)

    open_nodes: list[_Node] = []
    nodes = created = 0

    def consider(bounds: dict[int, tuple[float, float]], solved: tuple[float, np.ndarray, Any]) -> None:
        nonlocal best_value, best_x, created, dropped, searched
        value, x, basis = solved
        if whole(x, integer_cols, tolerance):
            searched = True
            if value > best_value:
                best_value, best_x = value, x
        elif proved(value):
            dropped = max(dropped, value)
        else:
            k = int(np.argmax(_fractional(x, integer_cols)))
            created += 1
            heapq.heappush(open_nodes, _Node(-value, created, bounds, k, float(x[integer_cols[k]]), basis))

    try:
        rounded = np.clip(np.round(root_x[integer_cols]), np.ceil(lower0), np.floor(upper0))
        try:
            found = solve({k: (float(v), float(v)) for k, v in enumerate(rounded)}, root_basis,
                          deadline if rounding_deadline is None else rounding_deadline)
        except _GiveUp:
            found = None  # the rounding is only a heuristic: its LP not settling proves nothing either way
        nodes += 1
        searched = found is not None
        if found is not None and found[0] > best_value:
            best_value, best_x = found[0], found[1]
        consider({}, (root_value, root_x, root_basis))
        try:
            while open_nodes and not proved(-open_nodes[0].priority):
                if (nodes + 2 > node_limit or time.perf_counter() > deadline
                        or (not searched and plan_by is not None and nodes + 2 > plan_by)):
                    raise _GiveUp
                node = heapq.heappop(open_nodes)
                k = node.branch_on
                lower_k, upper_k = node.bounds.get(k, (lower0[k], upper0[k]))  # a column branched on before
                for child in ({**node.bounds, k: (lower_k, math.floor(node.value))},
                              {**node.bounds, k: (math.ceil(node.value), upper_k)}):
                    nodes += 1
                    solved = solve(child, node.basis)
                    if solved is not None:
                        consider(child, solved)
        except _GiveUp:
            if best_x is None:
                return None
            # the node being branched when an LP was cut short is no longer in the heap: the root bounds all
            return Found(sign * best_value, best_x, sign * max(root_value, best_value), nodes, proved=False)
        if best_x is None:
            return NoPlan(nodes)  # the whole tree searched (no limit reached, no LP cut short): none is whole
        bound = max([best_value, dropped] + [-n.priority for n in open_nodes])
        return Found(sign * best_value, best_x, sign * bound, nodes)
    finally:
        lp.changeColsBounds(len(integer_cols), integer_cols, lower0, upper0)
