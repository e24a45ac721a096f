"""VRU Workbench: plan a Violence Reduction Unit's spending under an uncertain grant.

The public API, for analysts in Python and Jupyter (the `vru` command does the same from a terminal):

    >>> import vru_model as vru
    >>> baseline = vru.load_scenario("scenarios/baseline.yaml")
    >>> result = vru.solve(baseline)
    >>> result.allocation.groupby("fy")["vru_spend"].sum()

Importing the package is light: the solving stages (Pyomo, HiGHS) load on the first call that needs them.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from vru_model.core.errors import OutputError, Problem, ScenarioError
from vru_model.scenario.changes import load_scenario, with_changes
from vru_model.scenario.schema import Scenario

if TYPE_CHECKING:
    import pyomo.environ as pyo

    from vru_model.analysis.cliff_edge import CliffEdgeResult
    from vru_model.analysis.frontier import FrontierResult
    from vru_model.analysis.replan import Replan
    from vru_model.analysis.results import Result
    from vru_model.analysis.robustness import RobustnessResult

__all__ = [
    "OutputError", "Problem", "Scenario", "ScenarioError", "build_model", "frontier", "load_scenario", "replan",
    "robustness", "solve", "solve_cliff_edge", "with_changes",
]
__version__ = "0.1.0"


def solve(scenario: Scenario, *, model: pyo.ConcreteModel | None = None, threads: int = 1,
          price_rules: bool = False) -> Result:
    """Solve one scenario for the plan of most social value the grant's rules allow.

    Returns a `Result` whatever the outcome: `.status` (optimal, infeasible, ...), `.objective` (£, None without
    a plan), `.allocation` and `.funding` (DataFrames in the columns of allocation.csv and funding.csv),
    `.summary` (the summary.json dict: totals, per-year figures, grant conditions, shadow prices), `.closures`
    (services that close, with the date notice must be served) and `.write(folder)` (writes
    FOLDER/<scenario name>/, refusing to replace another run's result unless `overwrite=True`).

    `model` solves a model from `build_model(scenario)` that you have added rules to; `price_rules` adds a
    what-if re-solve per grant rule to say what each costs (as the reports do).

    Examples:
        >>> result = vru.solve(vru.load_scenario("scenarios/baseline.yaml"))
        >>> result.status.value, result.summary["totals"]["value"]
        ('optimal', ...)
    """
    from vru_model.analysis.solve import solve as solve_scenario

    return solve_scenario(scenario, model=model, threads=threads, price_rules=price_rules and model is None)


def solve_cliff_edge(scenario: Scenario, *, threads: int = 1, value_of_information: bool = True) -> CliffEdgeResult:
    """Plan for a grant that is not yet confirmed (a two-stage plan: decide now, adapt once the grant is known).

    The scenario needs an `uncertainty:` block (the FY, its possible grants with probabilities, the month it is
    confirmed). Returns a `CliffEdgeResult`: `.here_and_now` (the decisions to take now), `.plans` and
    `.funding` (each outcome's plan, DataFrames as plan.csv and plan_funding.csv), `.expected_value`, `.vss`
    and `.evpi` (what planning for the uncertainty is worth, and what knowing the grant now would be worth; with
    `value_of_information`), `.sentences` (the findings in words), `.summary` (cliff_edge.json) and
    `.write(folder)`.

    Examples:
        >>> plan = vru.solve_cliff_edge(vru.load_scenario("scenarios/late_confirmation.yaml"))
        >>> plan.sentences[0]
    """
    from vru_model.analysis.cliff_edge import solve_cliff_edge as solve_two_stage

    return solve_two_stage(scenario, threads=threads, value_of_information=value_of_information)


def frontier(scenario: Scenario, start: float = 0.0, stop: float = 1.5, steps: int = 31, *,
             threads: int = 1) -> FrontierResult:
    """Sweep the core grant from `start` to `stop` times the scenario's own, in `steps` levels (ends included).

    Returns a `FrontierResult`: `.table` (one row per level: grant, status, objective, value, services running
    and closed; frontier.csv), `.breakpoints` (the levels where a service closes; breakpoints.csv), `.summary`
    (frontier.json, with its findings in `summary["sentences"]`) and `.write(folder)`.

    Examples:
        >>> sweep = vru.frontier(vru.load_scenario("scenarios/baseline.yaml"), 0.5, 1.0, 6)
        >>> sweep.table[["level", "grant", "value", "services_closed"]]
    """
    from vru_model.analysis.frontier import frontier as sweep

    return sweep(scenario, start, stop, steps, threads=threads)


def robustness(scenario: Scenario, samples: int = 200, seed: int = 0, *, workers: int = 1,
               epsilons: Sequence[float] = (0.01, 0.02, 0.05), threads: int = 1) -> RobustnessResult:
    """How sure is the plan? Re-solve under `samples` joint draws of the evidence (effects and harm costs,
    Latin hypercube from `seed`), score the recommended plan against each, and find near-optimal alternatives
    within each share in `epsilons` of the optimum.

    Returns a `RobustnessResult`: `.services` (how often each service is kept, per service), `.samples` (one
    row per draw: the best value and the plan's regret), `.summary` (with `summary["sentences"]`),
    `.alternatives` and `.write(folder)` (FOLDER/<name>/robustness/). The same seed gives the same figures.

    Examples:
        >>> sure = vru.robustness(vru.load_scenario("scenarios/baseline.yaml"), samples=20, epsilons=())
        >>> sure.summary["sentences"]
    """
    from vru_model.analysis.robustness import robustness as sample

    return sample(scenario, samples, seed, workers=workers, epsilons=tuple(epsilons), threads=threads)


def replan(scenario: Scenario, actuals: str | Path | None = None, as_of: str | None = None, *,
           threads: int = 1) -> Replan:
    """Re-plan the rest of the horizon from the money actually spent so far.

    `actuals` is a CSV or XLSX in funding.csv's columns and `as_of` its last month ("2021-09"); without them
    the scenario's own `actuals:` block is used. Returns a `Replan`: `.result` (the re-plan, a `Result` over the
    whole horizon), `.planned` (the plan it replaces), `.variance` (planned against actual spend), `.forecast`
    (each year's outturn and what would go unclaimed) and `.write(folder)`. Bad actuals raise ScenarioError.

    Examples:
        >>> update = vru.replan(vru.load_scenario("scenarios/baseline.yaml"), "spend.csv", "2021-09")
        >>> update.forecast[["fy", "stream", "forecast_outturn", "unclaimed"]]
    """
    from vru_model.analysis.replan import replan as replan_from

    return replan_from(scenario, actuals, as_of, threads=threads)


def build_model(scenario: Scenario) -> pyo.ConcreteModel:
    """The scenario's Pyomo model, for an analyst who wants to add a rule of their own before solving it.

    Returns a `pyomo.environ.ConcreteModel` with sets `W` (grant outcomes; one unless the grant is uncertain),
    `I` (services), `T` (months), `Y` (financial years), `S` (funding streams) and variables `on[w, i, t]`
    (running, 0/1), `scale[w, i, t]` and `spend[w, s, i, t]` (£); every rule is listed in docs/rules.md.
    Solve it with `solve(scenario, model=m)` to get a `Result` like any other.

    Examples:
        >>> import pyomo.environ as pyo
        >>> m = vru.build_model(scenario)
        >>> m.keep_iris = pyo.Constraint(expr=sum(m.on[w, "iris", t] for w in m.W for t in m.T) == len(m.T))
        >>> vru.solve(scenario, model=m).closures
    """
    from vru_model.model.build import build_model as build

    return build(scenario)
