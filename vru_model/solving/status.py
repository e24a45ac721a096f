"""What a solve reports (its Status and SolveInfo), the HiGHS settings every solve uses and how a solve goes
(its Strategy).

A leaf module: every solver path and every analysis may import it, and it imports none of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import highspy
from pyomo.common.tee import capture_output

# HiGHS settings beyond the scenario's time limit and gap, the same through both interfaces (same options and
# same model give the same plan). The model's LP relaxation is tight (the baseline's root bound is within 0.06%
# of its optimum), so HiGHS's costliest heuristics, the sub-MIPs (RINS, RENS, root reduced cost) and restarting
# after them, buy little: without them the baseline solves in a third of the time (3.1 -> 1.0 CPU s, same
# optimum) and a robustness sample, which starts from the recommended plan, in half; every shipped scenario and
# fixture keeps its optimum (`benchmarks/bench_solver.py`, README). Light presolve ("presolve_mode": 2)
# was measured at half the baseline's HiGHS time too, but it changes which of several equally good plans HiGHS
# returns, so it is not on until the tests that pin those plans are reviewed.
HIGHS_OPTIONS: dict[str, Any] = {
    "random_seed": 0,
    "mip_heuristic_run_rins": False,
    "mip_heuristic_run_rens": False,
    "mip_heuristic_run_root_reduced_cost": False,
    "mip_allow_restart": False,
}

# Robustness samples only, on top of HIGHS_OPTIONS: presolve's probing (rule 15 in HiGHS 1.16's numbering,
# named "Probing" in its log when `presolve_rule_logging` is on) fixes no column and removes no row in this
# model (a presolved sample has the same 6,415 rows and 2,991 columns either way) yet was 0.18 of a sample's
# 0.30 s presolve; off, a sample's MIP takes about a quarter less, same optima. Presolve reductions are exact,
# so on a HiGHS that numbers its rules otherwise only the time can differ. Not for every solve: on the
# 5-outcome cliff edge it returned a different plan within the gap, and the main solves' tied plans are
# pinned by tests.
SAMPLE_HIGHS_OPTIONS: dict[str, Any] = {"presolve_rule_off": 1 << 15}


def highs_options() -> dict[str, Any]:
    """`HIGHS_OPTIONS` that this HiGHS knows (`presolve_mode` is newer than some supported versions)."""
    global _known_options
    if _known_options is None:
        with capture_output(capture_fd=True):
            probe = highspy.Highs()
        probe.setOptionValue("output_flag", False)
        _known_options = {k: v for k, v in HIGHS_OPTIONS.items()
                          if probe.setOptionValue(k, v) != highspy.HighsStatus.kError}
    return _known_options


_known_options: dict[str, Any] | None = None


class Strategy(StrEnum):
    """How the direct interface settles a MIP (Pyomo's interface always runs HiGHS's MIP).

    `RELAXATION_FIRST`, the default for every kind of solve (`DEFAULT_STRATEGY`): the LP relaxation first, a
    short branching on it when it is fractional (`lp_branching`), HiGHS's MIP only when those do not settle
    it. The model's relaxation is tight, so a one-off solve of a plan mostly ends without HiGHS's MIP, and a
    persistent model re-solved many times (frontier levels, robustness samples, the explorer) gains most: its
    relaxation re-solves from scratch or from a kept basis, never from the solve before.
    `MIP`: HiGHS's MIP straight away, for a solve whose relaxation is weak or whose offered plan is a poor start
    for a search (the two-stage cliff edge, the alternative plans; each says why where it solves), and for the
    what-if re-solves behind rule costs and costs to keep (`WhatIfs`), whose figures the shipped reports give as
    differences of HiGHS's MIP optima."""

    RELAXATION_FIRST = "relaxation_first"
    MIP = "mip"


DEFAULT_STRATEGY = Strategy.RELAXATION_FIRST


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


@dataclass(frozen=True)
class SolveInfo:
    """What a solve reports besides its Status: objective, best bound (for the gap), time, time limit."""

    termination: str
    incumbent_objective: float | None
    objective_bound: float | None
    seconds: float
    time_limit_reached: bool
    time_limit: float


def mip_gap(res: Any) -> float | None:
    if res is None or res.incumbent_objective is None or res.objective_bound is None:
        return None
    obj, bound = res.incumbent_objective, res.objective_bound
    return abs(bound - obj) / max(1.0, abs(obj))


def status_text(status: Status, info: SolveInfo | None) -> str:
    """The status in plain words; a time limit names `policy.time_limit_seconds` (and the gap, with a plan)."""
    if info is not None and info.time_limit_reached:
        limit = f"policy.time_limit_seconds = {info.time_limit:g} s"
        if status == Status.TIME_LIMIT:
            gap = mip_gap(info)
            within = f"; it is within {gap:.2%} of the best possible plan" if gap is not None else ""
            return (f"The solver stopped at its time limit ({limit}); the plan shown is the best found so far"
                    f"{within}. A longer limit may find a better one.")
        return (f"The solver reached its time limit ({limit}) before finding any plan, so there is none. "
                "Raise policy.time_limit_seconds to give it longer.")
    return STATUS_TEXT[status]
