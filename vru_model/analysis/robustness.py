"""How sure is the plan? Monte Carlo over the value inputs, and near-optimal alternatives.

The effect sizes and harm costs (see `distributions`) enter the model only through each service's value
per month at scale 1 (`m.unit_value`, an objective coefficient). So one persistent model per worker is
re-solved for every sample with only those coefficients changed. The recommended plan (the optimum with
the scenario's own figures) is evaluated under each sample exactly: its objective is linear in the
coefficients, so it is read off once and the regret is the sample's optimum less the plan's value.

Samples run in chunks on processes (`workers`) or on a Dask cluster (`scheduler`); a worker receives the
scenario as YAML text and the samples' coefficients, never a path, and the results come back in sample
order, so the same seed gives the same files.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyomo.environ as pyo
import yaml

from vru_model.analysis import alternatives as mga
from vru_model.analysis.alternatives import read_plan
from vru_model.analysis.results import dump_json, provenance
from vru_model.analysis.states import Fate
from vru_model.core.errors import Problem, ScenarioError
from vru_model.core.files import atomic_write_text
from vru_model.core.pools import executor
from vru_model.core.text import money
from vru_model.model.build import build_model, set_values
from vru_model.model.data import ModelData, prepare
from vru_model.scenario.distributions import draw, uncertain_inputs, unit_values
from vru_model.scenario.load import dump_yaml, scenario_to_dict
from vru_model.scenario.schema import Scenario
from vru_model.solving.highs_direct import DirectSolver
from vru_model.solving.solver import open_solver, solve_model
from vru_model.solving.status import SAMPLE_HIGHS_OPTIONS, Status

SERVICES_COLUMNS = [
    "scenario", "intervention", "kept_share", "reduced_share", "closes_share", "earliest_closes_from",
    "median_closes_from", "not_run_share",
]
ROBUST_SHARE = 0.9  # a closure in at least this share of samples is robust
FRAGILE_SHARE = 0.5  # a recommended closure in under this share of samples is fragile
DEFAULT_EPSILONS = (0.01, 0.02, 0.05)
MAX_SAMPLES = 100_000


@dataclass(frozen=True)
class RobustnessResult:
    """services.csv, samples.csv, summary.json and the alternatives, ready to write."""

    scenario: Scenario
    services: pd.DataFrame
    samples: pd.DataFrame
    summary: dict[str, Any]
    alternatives: list[mga.Alternative] = field(default_factory=list)

    @property
    def optimal(self) -> bool:
        return self.summary["base_status"] == Status.OPTIMAL.value

    def write(self, directory: str | Path) -> Path:
        """Write DIR/<name>/robustness/ whole: built in a temporary folder, then swapped in."""
        parent = Path(directory) / self.scenario.name
        parent.mkdir(parents=True, exist_ok=True)
        final = parent / "robustness"
        tmp = parent / f".robustness-{os.getpid()}"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir()
        try:
            atomic_write_text(tmp / "services.csv", self.services.to_csv(index=False, lineterminator="\n"))
            atomic_write_text(tmp / "samples.csv", self.samples.to_csv(index=False, lineterminator="\n"))
            atomic_write_text(tmp / "summary.json", dump_json(self.summary))
            for alt in self.alternatives:
                alt.write(tmp / "alternatives")
            old = parent / f".robustness-old-{os.getpid()}"
            if final.exists():
                final.rename(old)
            tmp.rename(final)
            shutil.rmtree(old, ignore_errors=True)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        return final


def check(scenario: Scenario, samples: int, epsilons: Sequence[float], workers: int) -> None:
    """Bad requests are located errors (exit 2), found before anything is solved or written."""
    problems = []
    if scenario.policy.objective != "max_value":
        problems.append(Problem(scenario.name, "policy.objective", "robustness samples value: needs max_value"))
    if not 1 <= samples <= MAX_SAMPLES:
        problems.append(Problem(scenario.name, "--samples", f"need 1 to {MAX_SAMPLES} samples (got {samples})"))
    if any(not 0 <= e < 1 for e in epsilons):
        problems.append(Problem(scenario.name, "--epsilon", "each epsilon must be at least 0 and below 1"))
    if workers < 1:
        problems.append(Problem(scenario.name, "--workers", f"need at least 1 worker (got {workers})"))
    if problems:
        raise ScenarioError(problems)


# -- one worker's samples ------------------------------------------------------------------------


def plan_values(m: pyo.ConcreteModel) -> list[float | None]:
    """The values of a solved model's variables, in component order: a start for the same model built elsewhere."""
    return [v.value for v in m.component_data_objects(pyo.Var)]


def solve_samples(scenario_text: str, values: list[dict[str, float]], threads: int = 1,
                  persistent: bool = True, start: list[float | None] | None = None) -> list[dict[str, Any]]:
    """Solve the scenario once per sample of unit values. Runs in a worker: plain data in and out.

    `persistent=False` rebuilds the model and solver for every sample (the benchmark's comparison). `start`
    (`plan_values` of the recommended plan) is offered to HiGHS as every sample's first plan: samples change
    only the objective, so it is feasible, and HiGHS starts with a good plan instead of searching for one.
    Every sample starts from the same plan, so a sample's result does not depend on which worker solved it
    or what it solved before. On the direct interface each sample first solves the LP relaxation from the
    basis of the relaxation at the scenario's own values; about half the baseline's samples have an integral
    relaxation, which is their optimum, and four in five of the rest are settled by a short branching on it
    (`DirectSolver.relaxation_first`, `lp_branching`): one in ten runs HiGHS's MIP. Each row also says how it
    was solved (`solved_by`) and how long it took (`seconds`, the one field that varies from run to run);
    neither is written to the output files."""
    sc = Scenario.model_validate(yaml.safe_load(scenario_text))
    base = prepare(sc)
    out = []
    m = solver = None
    first_plan: list[float] | None = None
    for v in values:
        started = time.perf_counter()
        if m is None or solver is None or not persistent:
            m = build_model(sc, base if persistent else replace(base, value=dict(v)))
            solver = open_solver(sc, m, threads)
            solver.set_options(SAMPLE_HIGHS_OPTIONS)
            if isinstance(solver, DirectSolver) and persistent:
                solver.prime_relaxation()  # at the scenario's own values: the same start in every worker
            if start is not None:
                for var, x in zip(m.component_data_objects(pyo.Var), start, strict=True):
                    var.set_value(x, skip_validation=True)
                first_plan = solver.model_values()
        if persistent:
            set_values(m, v)
            solver.refresh_objective()
        if first_plan is not None:
            solver.warm_start(first_plan)
        status, info = solver.solve()
        row: dict[str, Any] = {"status": status.value, "objective": None, "fates": {}}
        if status in (Status.OPTIMAL, Status.TIME_LIMIT):
            held = info.incumbent_objective if info is not None else None  # HiGHS's own: no Pyomo walk
            row["objective"] = float(pyo.value(m.objective)) if held is None else float(held)
            row["fates"] = read_plan(sc, base, m)
        # for the benchmark only (not written: the files stay the same from run to run)
        row["solved_by"] = info.termination if info is not None else ""
        row["seconds"] = time.perf_counter() - started
        out.append(row)
    return out


def _chunks(n: int, parts: int) -> list[range]:
    """`parts` contiguous ranges covering 0..n-1 (results are put back in sample order)."""
    parts = max(1, min(parts, n))
    cuts = [round(k * n / parts) for k in range(parts + 1)]
    return [range(cuts[k], cuts[k + 1]) for k in range(parts) if cuts[k] < cuts[k + 1]]


def run_samples(sc: Scenario, values: list[dict[str, float]], *, workers: int = 1, scheduler: str | Any | None = None,
                persistent: bool = True, start: list[float | None] | None = None) -> list[dict[str, Any]]:
    """Every sample solved, in sample order: in this process, on `workers` processes, or on Dask."""
    text = dump_yaml(scenario_to_dict(sc))
    if scheduler is None and workers <= 1:
        return solve_samples(text, values, 1, persistent, start)

    with executor(workers, scheduler) as (pool, capacity):
        chunks = _chunks(len(values), capacity)
        futures = [pool.submit(solve_samples, text, [values[k] for k in r], 1, persistent, start) for r in chunks]
        return [row for f in futures for row in f.result()]


# -- the whole analysis --------------------------------------------------------------------------


def _coefficients(m: pyo.ConcreteModel, d: ModelData) -> tuple[float, dict[str, float]]:
    """The solved plan's objective as c0 + sum_i k_i v_i in the unit values v (it is linear in them)."""
    base = {i: float(m.unit_value[i].value) for i in d.interventions}
    at_base = float(pyo.value(m.objective))
    slopes = {}
    for i in d.interventions:
        m.unit_value[i].set_value(base[i] + 1.0)
        slopes[i] = float(pyo.value(m.objective)) - at_base
        m.unit_value[i].set_value(base[i])
    return at_base - sum(slopes[i] * base[i] for i in d.interventions), slopes


def _median_month(months: list[str]) -> str:
    ordered = sorted(months)
    return ordered[(len(ordered) - 1) // 2]


def _services(sc: Scenario, rows: list[dict[str, Any]]) -> pd.DataFrame:
    solved = [r for r in rows if r["fates"]]
    n = max(1, len(solved))
    records = []
    for i in sc.interventions:
        fates = [r["fates"][i] for r in solved]
        months = [f.closes_from for f in fates if f.closes_from]
        records.append({
            "scenario": sc.name,
            "intervention": i,
            "kept_share": round(sum(f.fate == "kept" for f in fates) / n, 4),
            "reduced_share": round(sum(f.fate == "reduced" for f in fates) / n, 4),
            "closes_share": round(sum(f.fate == "closes" for f in fates) / n, 4),
            "earliest_closes_from": min(months) if months else "",
            "median_closes_from": _median_month(months) if months else "",
            "not_run_share": round(sum(not f.runs for f in fates) / n, 4),
        })
    return pd.DataFrame(records, columns=SERVICES_COLUMNS)


def _quantiles(regret: list[float]) -> dict[str, float | None]:
    if not regret:
        return {"mean": None, "p50": None, "p90": None, "max": None}
    a = np.asarray(regret, dtype=float)
    return {"mean": round(float(a.mean()), 2), "p50": round(float(np.percentile(a, 50)), 2),
            "p90": round(float(np.percentile(a, 90)), 2), "max": round(float(a.max()), 2)}


def _titles(sc: Scenario, names: list[str]) -> str:
    titles = [sc.interventions[i].title for i in names]
    return titles[0] if len(titles) == 1 else ", ".join(titles[:-1]) + " and " + titles[-1]


def _sentences(sc: Scenario, summary: dict[str, Any], services: pd.DataFrame) -> list[str]:
    n = summary["samples"]
    out = []
    robust = summary["robust_closures"]
    fragile = summary["fragile_decisions"]
    if robust:
        out.append(f"{_titles(sc, robust)} close{'s' if len(robust) == 1 else ''} in at least "
                   f"{ROBUST_SHARE:.0%} of {n} samples of the evidence: a robust decision.")
    if fragile:
        out.append(f"The recommended closure of {_titles(sc, fragile)} is fragile: it happens in fewer than "
                   f"{FRAGILE_SHARE:.0%} of samples.")
    closing = services["closes_share"] - services["not_run_share"]
    flips = services[(closing > 0) & (closing < ROBUST_SHARE) & ~services["intervention"].isin(fragile)]
    if len(flips):
        verb = "services close" if len(flips) != 1 else "service closes"
        out.append(f"{len(flips)} other {verb} in some samples and not in others: the evidence cannot settle them.")
    r = summary["regret"]
    if r["max"] == 0:
        out.append("In every sample the recommended plan is also the best plan: keeping to it loses nothing.")
    elif r["mean"] is not None:
        out.append(f"Keeping to the recommended plan loses on average {money(r['mean'])} of value against the best "
                   f"plan for each sample ({money(r['p90'])} in the worst tenth, at most {money(r['max'])}).")
    return out


DEFINITIONS = {
    "kept_share": "share of samples in which the service runs to the end of the plan at no lower level "
    "than it starts at",
    "reduced_share": "share in which it runs to the end but at a lower level for some months",
    "closes_share": "share in which it is not running at the end of the plan (a service that never "
    "runs counts here too, and in not_run_share)",
    "not_run_share": "share in which the plan never runs it",
    "regret": "a sample's best objective less the recommended plan's objective under that sample's "
    "figures (GBP of discounted social value net of exit and disruption costs)",
}


def _sample_table(rows: list[dict[str, Any]], table: np.ndarray, inputs: list[Any]) -> tuple[pd.DataFrame, list[float]]:
    """samples.csv (each sample's inputs, optimum, the recommended plan's value and the regret) and the regrets."""
    records = []
    regret = []
    for k, (row, x) in enumerate(zip(rows, table, strict=False)):
        rec: dict[str, Any] = {"sample": k + 1}
        rec.update({inp.column: round(float(v), 6) for inp, v in zip(inputs, x, strict=True)})
        rec["status"] = row["status"]
        opt = row["objective"]
        plan = row["plan_objective"]
        rec["optimal_objective"] = round(opt, 2) if opt is not None else None
        rec["plan_objective"] = round(plan, 2)
        # A re-solve stops within the MIP gap of its optimum, so a hair below the plan is no regret.
        rec["regret"] = round(max(0.0, opt - plan), 2) if opt is not None else None
        closed = [i for i, f in row["fates"].items() if f.closed]
        rec["services_closed"] = len(closed)
        rec["closed"] = ";".join(closed)
        if rec["regret"] is not None:
            regret.append(rec["regret"])
        records.append(rec)
    columns = ["sample", *(inp.column for inp in inputs), "status", "optimal_objective", "plan_objective", "regret",
               "services_closed", "closed"]
    return pd.DataFrame(records, columns=columns), regret


def _closure_verdicts(sc: Scenario, base_fates: dict[str, Fate], services: pd.DataFrame) -> dict[str, Any]:
    """Which closures hold across the samples (robust), which recommended ones do not (fragile), and the
    recommended plan's closures with the share of samples that close each."""
    recommended = [i for i, f in base_fates.items() if f.fate == "closes"]
    # a closure is a service that runs and stops: one the plan never starts is not a decision to close it
    share = dict(zip(services["intervention"], services["closes_share"] - services["not_run_share"], strict=True))
    decided = [i for i in recommended if base_fates[i].runs]
    return {
        "robust_closures": [i for i in sc.interventions if share.get(i, 0) >= ROBUST_SHARE],
        "fragile_decisions": [i for i in decided if share.get(i, 0) < FRAGILE_SHARE],
        "recommended_closures": [{"intervention": i, "closes_from": base_fates[i].closes_from,
                                  "closes_share": share.get(i), "not_started": not base_fates[i].runs}
                                 for i in recommended],
    }


def robustness(
    scenario: Scenario,
    samples: int = 200,
    seed: int = 0,
    *,
    workers: int = 1,
    scheduler: str | Any | None = None,
    epsilons: Sequence[float] = DEFAULT_EPSILONS,
    draws: np.ndarray | None = None,
    persistent: bool = True,
    threads: int = 1,
    alternative_seconds: float = mga.TIME_LIMIT,
) -> RobustnessResult:
    """Sample the evidence, re-solve per sample, score the recommended plan, and find near-optimal plans.

    Each alternative's solve stops after `alternative_seconds` with the best plan found. `draws` replaces the
    Latin hypercube with given rows of input values (one column per uncertain input,
    in `uncertain_inputs` order): the tests use it for a hand-worked sample set."""
    n = len(draws) if draws is not None else samples
    check(scenario, n, epsilons, workers)
    sc = scenario
    started = time.perf_counter()
    inputs = uncertain_inputs(sc)
    table = np.asarray(draws, dtype=float) if draws is not None else draw(inputs, n, seed)
    if table.shape != (n, len(inputs)):
        raise ScenarioError([Problem(sc.name, "draws", f"need {n} rows of {len(inputs)} inputs")])
    values = [unit_values(sc, inputs, row) for row in table]

    d = prepare(sc)
    m = build_model(sc, d)
    status, _ = solve_model(sc, m, threads)
    base_ok = status in (Status.OPTIMAL, Status.TIME_LIMIT)
    rows: list[dict[str, Any]] = []
    alts: list[mga.Alternative] = []
    base_objective = None
    base_fates: dict[str, Fate] = {}
    if base_ok:
        base_objective = float(pyo.value(m.objective))
        base_fates = read_plan(sc, d, m)
        c0, slopes = _coefficients(m, d)
        rows = run_samples(sc, values, workers=workers, scheduler=scheduler, persistent=persistent,
                           start=plan_values(m))
        for row, v in zip(rows, values, strict=True):
            row["plan_objective"] = c0 + sum(slopes[i] * v[i] for i in d.interventions)
        alts = mga.near_optimal(sc, d, m, base_objective, epsilons, threads, alternative_seconds)

    samples_table, regret = _sample_table(rows, table, inputs)
    services = _services(sc, rows) if rows else pd.DataFrame(columns=SERVICES_COLUMNS)
    summary: dict[str, Any] = {
        "scenario": sc.name,
        "title": sc.title,
        "samples": n,
        "seed": seed if draws is None else None,
        "method": "Latin hypercube (scipy.stats.qmc), triangular or uniform marginals" if draws is None
        else "given sample set",
        "base_status": status.value,
        "base_objective": round(base_objective, 2) if base_objective is not None else None,
        "statuses": {s: sum(r["status"] == s for r in rows) for s in sorted({r["status"] for r in rows})},
        "regret": _quantiles(regret),
        **_closure_verdicts(sc, base_fates, services),
        "alternatives": [a.entry for a in alts],
        "inputs": [inp.as_dict() for inp in inputs],
        "thresholds": {"robust_closure": ROBUST_SHARE, "fragile_decision": FRAGILE_SHARE},
        "definitions": DEFINITIONS,
        "sentences": [],
        "workers": 0 if scheduler is not None else workers,
        "persistent_solver": persistent,
        "seconds": 0.0,
        "provenance": provenance(sc),
    }
    summary["sentences"] = _sentences(sc, summary, services) if base_ok else [
        f"The scenario has no plan ({status.value}), so there is nothing to test against the evidence."]
    summary["sentences"] += [a.entry["sentence"] for a in alts]
    summary["seconds"] = round(time.perf_counter() - started, 2)
    return RobustnessResult(sc, services, samples_table, summary, alts)
