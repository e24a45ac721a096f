"""The funding frontier: value and services kept as the core grant runs from nothing to more than now.

Every level scales the scenario's own core grant in every FY of the horizon. One persistent HiGHS
solver is reused (`solver.open_solver`): between levels only the mutable parameters change (`m.grant`,
`m.underwriting_bound`) and `set_grants` changes the affected row bounds in place; the model is rebuilt
only when the set of FYs without grant changes, because the central capability floor exists only in FYs
with a grant. On the direct path each level solves its LP relaxation first, from scratch with HiGHS's presolve
(which proves a level below the lowest feasible grant infeasible in a few milliseconds, where a start from a
kept basis took 0.4 s), and runs HiGHS's MIP only when neither the relaxation nor a short branching on it
settles the level (`DirectSolver.relaxation_first`); a level whose relaxation has no solution has no plan.
No plan carries over from one level to the next, so a level's plan does not depend on which levels the sweep
covers: HiGHS 1.16, offered the last level's plan as a start, returned plans up to 5% below a level's
optimum as optimal (baseline, levels 0.5 and 0.55), although it cut the sweep's time by about a quarter.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass
from typing import Any, ClassVar

import pandas as pd
import pyomo.environ as pyo

from vru_model.analysis.results import WrittenResult, provenance, undiscounted_value
from vru_model.analysis.states import model_states
from vru_model.core.errors import Problem, ScenarioError
from vru_model.core.text import money
from vru_model.model.build import build_model
from vru_model.model.data import ModelData, prepare
from vru_model.scenario.schema import Scenario
from vru_model.solving.solver import ModelSolver, interface_name, open_solver
from vru_model.solving.status import Status

FRONTIER_COLUMNS = [
    "scenario", "level", "grant", "status", "objective", "value", "services_running", "services_closed",
    "closed", "core_spent", "underwriting_drawn",
]
BREAKPOINT_COLUMNS = [
    "scenario", "level", "grant", "level_above", "grant_above", "event", "intervention", "title", "closes_from",
]
MAX_STEPS = 2001


@dataclass(frozen=True)
class FrontierResult(WrittenResult):
    """One row per grant level, the levels where services close, and how the sweep ran."""

    FILES: ClassVar[dict[str, str]] = {"frontier.csv": "table", "breakpoints.csv": "breakpoints",
                                       "frontier.json": "summary"}
    scenario: Scenario
    table: pd.DataFrame  # frontier.csv
    breakpoints: pd.DataFrame  # breakpoints.csv
    summary: dict[str, Any]  # frontier.json


def levels(start: float, stop: float, steps: int) -> list[float]:
    """`steps` evenly spaced levels from start to stop inclusive (0, 0.01, ..., 1.5 for 151)."""
    if steps == 1:
        return [round(start, 10)]
    return [round(start + k * (stop - start) / (steps - 1), 10) for k in range(steps)]


def _check(scenario: Scenario, start: float, stop: float, steps: int) -> None:
    problems = []
    if scenario.policy.objective != "max_value":
        problems.append(Problem(scenario.name, "policy.objective", "the frontier sweeps value: needs max_value"))
    if not 0 <= start <= stop:
        problems.append(Problem(scenario.name, "--from/--to", f"need 0 <= from <= to (got {start:g} and {stop:g})"))
    if not 1 <= steps <= MAX_STEPS:
        problems.append(Problem(scenario.name, "--steps", f"need 1 to {MAX_STEPS} levels (got {steps})"))
    if problems:
        raise ScenarioError(problems)


def _read_level(sc: Scenario, d: ModelData, m: pyo.ConcreteModel) -> dict[str, Any]:
    """What the solved model says at one level: value, services running at the end, closures."""
    w = d.outcomes[0].name
    last = d.months[-1]
    closing = {i: months.closes_from() for i, months in model_states(sc, d, m, w).items()}
    closed = {i: found[0] for i, found in closing.items() if found}
    core = underwriting = 0.0
    for (ww, s, _i, _t), var in m.spend.items():
        if ww == w and s == d.core:
            core += var.value or 0.0
        elif ww == w and s == d.underwriting:
            underwriting += var.value or 0.0
    return {
        "objective": round(float(pyo.value(m.objective)), 2),
        "value": round(undiscounted_value(d, m, w), 2),
        "value_discounted": round(float(pyo.value(m.value[w])), 2),
        "services_running": sum(round(m.on[w, i, last].value or 0.0) for i in d.interventions),
        "services_closed": len(closed),
        "closed": ";".join(sorted(closed)),
        "core_spent": round(core, 2),
        "underwriting_drawn": round(underwriting, 2),
        "_closes_from": closed,
    }


def underwriting_sentences(planned: pd.DataFrame) -> list[str]:
    """Whether the lowest levels with a plan lean on the underwriting: a plan that exists only because the
    underwriter pays is not one the core grant alone supports (frontier rows with a plan)."""
    low = planned.loc[planned["level"].idxmin()]
    drawn = float(low["underwriting_drawn"] or 0.0)
    if drawn <= 0.5:
        return []
    alone = planned[planned["underwriting_drawn"].fillna(0.0) <= 0.5]
    after = (f"; the lowest level whose plan draws none is {alone['level'].min():.0%}" if len(alone)
             else "; the plan draws some at every level")
    return [f"At {low['level']:.0%} the plan leans on the underwriting, drawing {money(drawn)}{after}."]


def _breakpoints(sc: Scenario, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Between neighbouring solved levels, services closed at the lower level but kept at the higher one
    ("closes" as the grant falls) and the reverse ("kept", which alternative optima can produce)."""
    solved = [r for r in rows if r["status"] == Status.OPTIMAL.value]
    found = []
    for lo, hi in itertools.pairwise(solved):
        lo_closed, hi_closed = lo["_closes_from"], hi["_closes_from"]
        changes = [(i, "closes", lo_closed[i]) for i in sorted(set(lo_closed) - set(hi_closed))]
        changes += [(i, "kept", hi_closed[i]) for i in sorted(set(hi_closed) - set(lo_closed))]
        for i, event, month in changes:
            found.append({
                "scenario": sc.name, "level": lo["level"], "grant": lo["grant"], "level_above": hi["level"],
                "grant_above": hi["grant"], "event": event, "intervention": i,
                "title": sc.interventions[i].title, "closes_from": month,
            })
    found.sort(key=lambda b: (-b["level"], b["event"], b["intervention"]))
    return found


def frontier(
    scenario: Scenario,
    start: float = 0.0,
    stop: float = 1.5,
    steps: int = 31,
    *,
    threads: int = 1,
    persistent: bool = True,
) -> FrontierResult:
    """Sweep the core grant from `start` to `stop` times the scenario's own amounts in `steps` levels.
    `persistent=False` rebuilds the model and solver at every level (the benchmark's comparison)."""
    _check(scenario, start, stop, steps)
    sc = scenario
    fys = sc.fys
    own = {y: sc.core_grant(y) for y in fys}
    solver: ModelSolver | None = None
    zero_fys: frozenset[str] | None = None
    rebuilds = 0
    rows: list[dict[str, Any]] = []
    started = time.perf_counter()
    for level in levels(start, stop, steps):
        amounts = {y: level * own[y] for y in fys}
        zeros = frozenset(y for y in fys if amounts[y] <= 0)
        d = prepare(sc, core_amounts=amounts)
        if solver is None or zeros != zero_fys or not persistent:
            solver = open_solver(sc, build_model(sc, d), threads)
            zero_fys = zeros
            rebuilds += 1
        else:
            # No hint from the last level's plan: HiGHS 1.16 given it as a start returned plans up to 5% below the
            # level's optimum as optimal (baseline, levels 0.5 and 0.55; tests/analysis/test_sweep.py)
            solver.set_grants(d)
        status, _ = solver.solve()
        row: dict[str, Any] = {
            "scenario": sc.name, "level": level, "grant": round(sum(amounts.values()), 2), "status": status.value,
        }
        if status in (Status.OPTIMAL, Status.TIME_LIMIT):
            row.update(_read_level(sc, d, solver.model))
        else:
            row["_closes_from"] = {}
        rows.append(row)
    seconds = time.perf_counter() - started

    table = pd.DataFrame([{k: r.get(k) for k in FRONTIER_COLUMNS} for r in rows], columns=FRONTIER_COLUMNS)
    for col in ("services_running", "services_closed"):
        table[col] = table[col].astype("Int64")
    found = _breakpoints(sc, rows)
    breakpoints = pd.DataFrame(found, columns=BREAKPOINT_COLUMNS)
    statuses = table["status"].value_counts().sort_index()
    feasible = table[table["status"] == Status.OPTIMAL.value]
    annual = sum(own.values()) / max(1, sum(1 for v in own.values() if v > 0))
    sentences = [
        f"{b['title']} closes when the grant falls to {b['level']:.0%} of this scenario's "
        f"(about {money(b['level'] * annual)} a year; kept at {b['level_above']:.0%})."
        for b in found if b["event"] == "closes"
    ]
    if len(feasible):
        sentences[:0] = [f"A lawful plan exists from {feasible['level'].min():.0%} of this scenario's core grant.",
                         *underwriting_sentences(feasible)]
    summary = {
        "scenario": sc.name,
        "title": sc.title,
        "levels": {"from": start, "to": stop, "steps": steps},
        "core_grant": own,
        "statuses": {str(k): int(v) for k, v in statuses.items()},
        "lowest_feasible_level": float(feasible["level"].min()) if len(feasible) else None,
        "breakpoints": found,
        "sentences": sentences,
        "persistent_solver": persistent,
        "model_builds": rebuilds,
        "solves": len(rows),
        "seconds": round(seconds, 3),
        "provenance": provenance(
            sc, f"HiGHS via {interface_name(sc)}" + (" (persistent)" if persistent else "")
        ),
    }
    return FrontierResult(sc, table, breakpoints, summary)
