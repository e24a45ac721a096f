"""How sure is the plan? Monte Carlo over the value inputs, and near-optimal alternatives.

The effect sizes and harm costs (see `distributions`) enter the model only through each service's value
per month at scale 1 (`m.unit_value`, an objective coefficient). So one persistent model per worker is
re-solved for every sample with only those coefficients changed. The recommended plan (the optimum with
the scenario's own figures) is evaluated under each sample exactly: its objective is linear in the
coefficients, so it is read off once and the regret is the sample's optimum less the plan's value.

Samples are solved to a relative gap of `SAMPLE_MIP_GAP`, and a sample whose optimum the recommended plan
reaches within the gap of both solves (`objective.gap_slack`) keeps the recommended plan's fates: a fate that
differs only within the gap is a tie, not a change. Every share carries its 95% Wilson interval, and a
closure is robust or fragile only when its interval says so.

Samples run in chunks on processes (`workers`) or on a Dask cluster (`scheduler`); a worker receives the
scenario as YAML text and the samples' coefficients, never a path, and the results come back in sample
order, so the same seed gives the same files.
"""

from __future__ import annotations

import math
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
from vru_model.analysis import ranges as room
from vru_model.analysis.alternatives import read_plan
from vru_model.analysis.objective import gap_slack
from vru_model.analysis.results import check_same_run, dump_json, provenance
from vru_model.analysis.states import Fate
from vru_model.core.errors import Problem, ScenarioError
from vru_model.core.files import atomic_write_text
from vru_model.core.pools import executor
from vru_model.core.text import money
from vru_model.model.build import build_model, set_values
from vru_model.model.data import ModelData, prepare
from vru_model.scenario.distributions import draw, max_correlation, uncertain_inputs, unit_values
from vru_model.scenario.load import dump_yaml, scenario_to_dict
from vru_model.scenario.schema import Scenario
from vru_model.solving.highs_direct import DirectSolver
from vru_model.solving.solver import open_solver, solve_model
from vru_model.solving.status import SAMPLE_HIGHS_OPTIONS, Status

SERVICES_COLUMNS = [
    "scenario", "intervention", "kept_share", "reduced_share", "closes_share", "earliest_closes_from",
    "median_closes_from", "not_run_share", "kept_low", "kept_high", "closes_low", "closes_high",
]
SAMPLE_MIP_GAP = 1e-6  # relative: fates that differ only within it are ties with the recommended plan
Z95 = 1.959964  # the normal quantile of a two-sided 95% interval
ROBUST_SHARE = 0.9  # a closure whose share's 95% interval starts at this or above is robust
FRAGILE_SHARE = 0.5  # a recommended closure whose share's 95% interval ends below this is fragile
DEFAULT_EPSILONS = room.DEFAULT_EPSILONS
MAX_SAMPLES = 100_000
RANGES_FOR = ("unsettled", "all", "none")
METHOD = ("Latin hypercube (scipy.stats.qmc, random-cd) with its columns reordered to cut their correlation "
          "(Iman-Conover); two-piece triangular or uniform marginals whose median is the scenario's value")


@dataclass(frozen=True)
class RobustnessResult:
    """services.csv, samples.csv, summary.json and the alternatives, ready to write."""

    scenario: Scenario
    services: pd.DataFrame
    samples: pd.DataFrame
    summary: dict[str, Any]
    alternatives: list[mga.Alternative] = field(default_factory=list)
    ranges: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=room.RANGES_COLUMNS))

    @property
    def optimal(self) -> bool:
        return self.summary["base_status"] == Status.OPTIMAL.value

    def write(self, directory: str | Path, *, overwrite: bool = False) -> Path:
        """Write DIR/<name>/robustness/ whole: built in a temporary folder, then swapped in. Beside another
        run's result (`check_same_run`) it raises OutputError unless `overwrite`."""
        parent = Path(directory) / self.scenario.name
        if not overwrite:
            check_same_run(parent, self.scenario)
        parent.mkdir(parents=True, exist_ok=True)
        final = parent / "robustness"
        tmp = parent / f".robustness-{os.getpid()}"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir()
        try:
            atomic_write_text(tmp / "services.csv", self.services.to_csv(index=False, lineterminator="\n"))
            atomic_write_text(tmp / "samples.csv", self.samples.to_csv(index=False, lineterminator="\n"))
            atomic_write_text(tmp / "ranges.csv", self.ranges.to_csv(index=False, lineterminator="\n"))
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
            solver = open_solver(sc, m, threads, rel_gap=SAMPLE_MIP_GAP)
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


def wilson(k: float, n: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval of a share of k in n (0 to 1 when n is 0): right near 0 and 1, where the
    normal approximation is not."""
    if n <= 0:
        return 0.0, 1.0
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


def samples_to_settle(share: float, threshold: float) -> int | None:
    """The fewest samples at which the same share's Wilson interval would lie wholly on one side of `threshold`
    (None: the share is the threshold, or more than MAX_SAMPLES would be needed)."""
    if share == threshold:
        return None

    def settled(n: int) -> bool:
        low, high = wilson(share * n, n)
        return low >= threshold if share > threshold else high < threshold

    if not settled(MAX_SAMPLES):
        return None
    lo, hi = 1, MAX_SAMPLES
    while lo < hi:
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if settled(mid) else (mid + 1, hi)
    return lo


def tie_fates(rows: list[dict[str, Any]], base_fates: dict[str, Fate]) -> int:
    """Give the recommended plan's fates to every sample whose optimum it reaches within the gap slack (the two
    plans tie at this gap: a different fate there is solver noise); how many samples that was."""
    tied = 0
    for row in rows:
        opt = row["objective"]
        if opt is not None and opt - row["plan_objective"] <= gap_slack(SAMPLE_MIP_GAP, opt):
            row["fates"] = dict(base_fates)
            tied += 1
    return tied


def _interval(k: int, n: int) -> tuple[float, float]:
    low, high = wilson(k, n)
    return round(low, 4), round(high, 4)


def _services(sc: Scenario, rows: list[dict[str, Any]]) -> pd.DataFrame:
    solved = [r for r in rows if r["fates"]]
    n = max(1, len(solved))
    records = []
    for i in sc.interventions:
        fates = [r["fates"][i] for r in solved]
        months = [f.closes_from for f in fates if f.closes_from]
        kept = sum(f.fate == "kept" for f in fates)
        closes = sum(f.fate == "closes" for f in fates)
        (kept_low, kept_high), (closes_low, closes_high) = _interval(kept, len(solved)), _interval(closes, len(solved))
        records.append({
            "scenario": sc.name,
            "intervention": i,
            "kept_share": round(kept / n, 4),
            "reduced_share": round(sum(f.fate == "reduced" for f in fates) / n, 4),
            "closes_share": round(closes / n, 4),
            "earliest_closes_from": min(months) if months else "",
            "median_closes_from": _median_month(months) if months else "",
            "not_run_share": round(sum(not f.runs for f in fates) / n, 4),
            "kept_low": kept_low, "kept_high": kept_high, "closes_low": closes_low, "closes_high": closes_high,
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


def _share_text(c: dict[str, Any]) -> str:
    return f"{c['closes_share']:.0%} (95% interval {c['low']:.0%}-{c['high']:.0%})"


def _sentences(sc: Scenario, summary: dict[str, Any], services: pd.DataFrame) -> list[str]:
    n = summary["samples"]
    out = []
    robust = summary["robust_closures"]
    fragile = summary["fragile_decisions"]
    named = {c["intervention"]: c for c in summary["recommended_closures"]}
    if robust:
        out.append(f"{_titles(sc, robust)} close{'s' if len(robust) == 1 else ''} in so many of {n} samples of "
                   f"the evidence that the 95% interval of the share is at least {ROBUST_SHARE:.0%}: a robust "
                   "decision.")
    for i in fragile:
        c = named[i]
        out.append(f"The recommended closure of {sc.interventions[i].title} is fragile: it happens in "
                   f"{c['closes_share']:.0%} of samples (95% interval {c['closes_low']:.0%}-{c['closes_high']:.0%}),"
                   f" below {FRAGILE_SHARE:.0%}.")
    for c in summary["uncertain_closures"]:
        more = (f"about {c['samples_to_settle']} samples at this share would settle it" if c["samples_to_settle"]
                else "more samples would not settle it")
        out.append(f"{sc.interventions[c['intervention']].title} closes in {_share_text(c)} of samples: uncertain "
                   f"whether {c['threshold']:.0%} or more; more samples needed ({more}).")
    if summary["samples_tied_with_plan"]:
        k = summary["samples_tied_with_plan"]
        out.append(f"In {k} of {n} samples the recommended plan is as good as that sample's best within the solver's "
                   "gap; there its fates count as the sample's.")
    settled = set(robust) | set(fragile) | {c["intervention"] for c in summary["uncertain_closures"]}
    closing = services["closes_share"] - services["not_run_share"]
    flips = services[(closing > 0) & (closing < ROBUST_SHARE) & ~services["intervention"].isin(settled)]
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
    "figures (GBP of discounted social value net of exit costs and the disruption weight)",
    "kept_low, kept_high, closes_low, closes_high": "95% Wilson intervals of kept_share and closes_share: the "
    "sampling error of this many samples, not the choice of ranges",
    "service_years": "ranges.csv: running months x scale / 12; min and max over plans within epsilon of the "
    "optimum, each from its own solve, for one service at a time",
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


def _closure_verdicts(sc: Scenario, base_fates: dict[str, Fate], rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Which closures hold across the samples (robust: the interval of the share that stops the service is at
    least ROBUST_SHARE), which recommended ones do not (fragile: its interval is below FRAGILE_SHARE), which
    the samples cannot yet settle (the interval spans a threshold), and the recommended plan's closures."""
    recommended = [i for i, f in base_fates.items() if f.fate == "closes"]
    # a closure is a service that runs and stops: one the plan never starts is not a decision to close it
    solved = [r for r in rows if r["fates"]]
    n = len(solved)
    stops = {i: sum(r["fates"][i].closed for r in solved) for i in sc.interventions}
    bounds = {i: _interval(k, n) for i, k in stops.items()}
    share = {i: round(k / n, 4) if n else 0.0 for i, k in stops.items()}
    decided = [i for i in recommended if base_fates[i].runs]
    robust = [i for i in sc.interventions if n and bounds[i][0] >= ROBUST_SHARE]
    fragile = [i for i in decided if n and bounds[i][1] < FRAGILE_SHARE]
    uncertain = []
    for i in sc.interventions:
        low, high = bounds[i]
        threshold = (ROBUST_SHARE if stops[i] and low < ROBUST_SHARE <= high and i not in robust
                     else FRAGILE_SHARE if i in decided and low < FRAGILE_SHARE <= high else None)
        if n and threshold is not None:
            uncertain.append({"intervention": i, "threshold": threshold, "closes_share": share[i], "low": low,
                              "high": high, "samples_to_settle": samples_to_settle(share[i], threshold)})
    return {
        "robust_closures": robust,
        "fragile_decisions": fragile,
        "uncertain_closures": uncertain,
        "recommended_closures": [{"intervention": i, "closes_from": base_fates[i].closes_from,
                                  "closes_share": share.get(i), "closes_low": bounds[i][0],
                                  "closes_high": bounds[i][1], "not_started": not base_fates[i].runs}
                                 for i in recommended],
    }


@dataclass
class _Solved:
    """What the solves give, for the files: the samples, the alternatives and the ranges."""

    base_objective: float | None = None
    base_fates: dict[str, Fate] = field(default_factory=dict)
    rows: list[dict[str, Any]] = field(default_factory=list)
    tied: int = 0
    at_mean: dict[str, Any] | None = None
    alts: list[mga.Alternative] = field(default_factory=list)
    ranges: room.Ranges | None = None


def _plan_at_mean(sc: Scenario, row: dict[str, Any], base_fates: dict[str, Fate]) -> dict[str, Any]:
    """The optimum at the samples' mean inputs, against the recommended plan (at the scenario's own values)."""
    if not row["fates"]:
        return {"status": row["status"], "objective": None, "differs": [], "sentence": ""}
    differs = [{"intervention": i, "recommended": base_fates[i].fate, "at_mean": f.fate}
               for i, f in row["fates"].items() if f.fate != base_fates[i].fate]
    sentence = ("The plan at the samples' mean inputs gives every service the same fate as the recommended plan."
                if not differs else
                f"At the samples' mean inputs (not the scenario's own values) the best plan treats "
                f"{_titles(sc, [x['intervention'] for x in differs])} differently; the recommended plan is still "
                "the one at the scenario's values.")
    return {"status": row["status"], "objective": round(row["objective"], 2), "differs": differs,
            "sentence": sentence}


def _solve_all(sc: Scenario, values: list[dict[str, float]], mean: dict[str, float], epsilons: Sequence[float],
               ranges_for: str, opts: dict[str, Any]) -> tuple[Status, _Solved]:
    """The recommended plan, every sample (and the samples' mean, solved last), the alternatives and the ranges."""
    d = prepare(sc)
    m = build_model(sc, d)
    status, _ = solve_model(sc, m, opts["threads"])
    got = _Solved()
    if status not in (Status.OPTIMAL, Status.TIME_LIMIT):
        return status, got
    got.base_objective = float(pyo.value(m.objective))
    got.base_fates = read_plan(sc, d, m)
    c0, slopes = _coefficients(m, d)
    rows = run_samples(sc, [*values, mean], workers=opts["workers"], scheduler=opts["scheduler"],
                       persistent=opts["persistent"], start=plan_values(m))
    got.at_mean = _plan_at_mean(sc, rows.pop(), got.base_fates)
    for row, v in zip(rows, values, strict=True):
        row["plan_objective"] = c0 + sum(slopes[i] * v[i] for i in d.interventions)
    got.rows, got.tied = rows, tie_fates(rows, got.base_fates)
    got.alts = mga.near_optimal(sc, d, m, got.base_objective, epsilons, opts["threads"], opts["alternative_seconds"],
                                opts["spread"])
    if epsilons and ranges_for != "none":
        unsettled = {i for r in rows if r["fates"] for i, f in r["fates"].items() if f != got.base_fates[i]}
        got.ranges = room.ranges(sc, d, m, got.base_objective, epsilons,
                                 services=None if ranges_for == "all" else sorted(unsettled),
                                 workers=opts["workers"], scheduler=opts["scheduler"], threads=opts["threads"])
    return status, got


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
    ranges_for: str = "none",
    alternatives: int = 1,
) -> RobustnessResult:
    """Sample the evidence, re-solve per sample, score the recommended plan, find near-optimal plans and each
    service's room within epsilon.

    Each alternative's solve stops after `alternative_seconds` with the best plan found. `draws` replaces the
    Latin hypercube with given rows of input values (one column per uncertain input,
    in `uncertain_inputs` order): the tests use it for a hand-worked sample set. `ranges_for`: "all" (the
    command's default), "unsettled" (the services whose fate some sample changes) or "none" (the default
    here: the batch and the explorer stay quick). `alternatives`: how many spreading plans follow
    the fewest-closures one at each epsilon."""
    n = len(draws) if draws is not None else samples
    check(scenario, n, epsilons, workers)
    if ranges_for not in RANGES_FOR:
        raise ScenarioError([Problem(scenario.name, "--ranges", f"one of {', '.join(RANGES_FOR)} (got {ranges_for})")])
    sc = scenario
    started = time.perf_counter()
    inputs = uncertain_inputs(sc)
    table = np.asarray(draws, dtype=float) if draws is not None else draw(inputs, n, seed)
    if table.shape != (n, len(inputs)):
        raise ScenarioError([Problem(sc.name, "draws", f"need {n} rows of {len(inputs)} inputs")])
    values = [unit_values(sc, inputs, row) for row in table]
    mean = unit_values(sc, inputs, table.mean(axis=0)) if n else {}
    opts = {"workers": workers, "scheduler": scheduler, "persistent": persistent, "threads": threads,
            "alternative_seconds": alternative_seconds, "spread": alternatives}
    status, got = _solve_all(sc, values, mean, epsilons, ranges_for, opts)
    rows = got.rows
    samples_table, regret = _sample_table(rows, table, inputs)
    services = _services(sc, rows) if rows else pd.DataFrame(columns=SERVICES_COLUMNS)
    ranges = got.ranges.table if got.ranges else pd.DataFrame(columns=room.RANGES_COLUMNS)
    base_objective, alts = got.base_objective, got.alts
    summary: dict[str, Any] = {
        "scenario": sc.name,
        "title": sc.title,
        "samples": n,
        "seed": seed if draws is None else None,
        "method": METHOD if draws is None else "given sample set",
        "base_status": status.value,
        "base_objective": round(base_objective, 2) if base_objective is not None else None,
        "statuses": {s: sum(r["status"] == s for r in rows) for s in sorted({r["status"] for r in rows})},
        "sample_mip_gap": SAMPLE_MIP_GAP,
        "samples_tied_with_plan": got.tied,
        "regret": _quantiles(regret),
        **_closure_verdicts(sc, got.base_fates, rows),
        "plan_at_mean": got.at_mean,
        "alternatives": [a.entry for a in alts],
        "ranges": _ranges_entry(got.ranges, ranges_for),
        "inputs": [inp.as_dict() for inp in inputs],
        "max_input_correlation": round(max_correlation(table), 4),
        "thresholds": {"robust_closure": ROBUST_SHARE, "fragile_decision": FRAGILE_SHARE, "interval": "95% Wilson"},
        "definitions": DEFINITIONS,
        "sentences": [],
        "workers": 0 if scheduler is not None else workers,
        "persistent_solver": persistent,
        "seconds": 0.0,
        "provenance": provenance(sc),
    }
    summary["sentences"] = _sentences(sc, summary, services) if got.base_fates else [
        f"The scenario has no plan ({status.value}), so there is nothing to test against the evidence."]
    if got.at_mean and got.at_mean["differs"]:
        summary["sentences"].append(got.at_mean["sentence"])
    summary["sentences"] += room.sentences(sc, ranges) + [a.entry["sentence"] for a in alts]
    summary["seconds"] = round(time.perf_counter() - started, 2)
    return RobustnessResult(sc, services, samples_table, summary, alts, ranges)


def _ranges_entry(found: room.Ranges | None, ranges_for: str) -> dict[str, Any]:
    """How ranges.csv was made, for summary.json."""
    if found is None:
        return {"services": "none", "solves": 0}
    return {"services": ranges_for, "solves": found.solves, "screened_directions": found.screened,
            "settled_at_bound": found.at_bound,
            "statuses": found.statuses, "mip_rel_gap": room.RANGE_MIP_GAP, "seconds_per_solve": room.RANGE_SECONDS}
