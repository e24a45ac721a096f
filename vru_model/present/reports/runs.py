"""The runs that feed the reports: solve, write the result files, and hand the results to the page sections.

Kept apart from the pages: everything here solves or writes files (the contract in docs/contracts.md); the
section modules only read what it returns.
"""

from __future__ import annotations

import json
import platform
from pathlib import Path
from typing import Any, NamedTuple

from vru_model.analysis import cliff_edge, frontier, robustness
from vru_model.analysis.replan import replan
from vru_model.analysis.results import input_hash
from vru_model.analysis.solve import solve
from vru_model.scenario.load import load_scenario

FRONTIER_LEVELS = (0.0, 1.5, 31)  # 0% to 150% in 5-point steps: about 10 s on the baseline, so the batch stays fast
ROBUSTNESS_SAMPLES = 20  # the batch's default (`vru batch --samples`): a first look that keeps the batch quick
ROBUSTNESS_EPSILONS = (0.02,)  # the batch's alternatives: `vru robustness` runs 1%, 2% and 5%
ROBUSTNESS_ALTERNATIVE_SECONDS = 10.0  # each alternative's solve in the batch stops here with the best found


class ScenarioRun(NamedTuple):
    """What a scenario report shows: the solved result and what it is compared with."""

    result: Any  # vru_model.analysis.results.Result
    baseline: dict[str, Any] | None
    kernel: dict[str, str]
    cliff: dict[str, Any] | None
    replan: Any = None  # vru_model.analysis.replan.Replan, for a scenario re-planned from actuals
    cliff_funding: Any = None  # the cliff-edge plan's plan_funding.csv as a DataFrame, when it has a plan


def run_scenario(scenario_path: str, overrides: dict[str, Any] | None, output_dir: str, baseline_path: str,
                 threads: int = 1) -> ScenarioRun:
    """Load, solve and write the scenario's result files (and cliff_edge.json when the grant is uncertain); then
    find the baseline to compare with."""
    scenario = load_scenario(scenario_path, overrides or None)
    plan = replan(scenario, threads=threads, price_rules=True) if scenario.actuals is not None else None
    result = plan.result if plan is not None else solve(scenario, threads=threads, price_rules=True)
    (plan or result).write(output_dir, overwrite=True)
    baseline = None
    if baseline_path and Path(baseline_path).resolve() != Path(scenario_path).resolve():
        baseline = baseline_summary(baseline_path, output_dir, threads)
    cliff, funding = cliff_edge_plan(scenario, output_dir, threads) if scenario.uncertainty is not None else (
        None, None)
    return ScenarioRun(result, baseline, kernel_info(), cliff, plan, funding)


def kernel_info() -> dict[str, str]:
    """How this kernel was reached (the batch runs kernels over IPC, never TCP ports)."""
    try:
        from ipykernel.connect import get_connection_info

        info = get_connection_info(unpack=True)
    except Exception:  # not in a kernel (tests, scripts): nothing to report
        return {}
    return {"transport": str(info.get("transport", "")), "python": platform.python_version()}


def baseline_summary(baseline_path: str, output_dir: str, threads: int = 1) -> dict[str, Any] | None:
    """The baseline's summary: from the batch's own output when it is current, else solved here."""
    scenario = load_scenario(baseline_path)
    written = Path(output_dir) / scenario.name / "summary.json"
    if written.is_file():
        try:
            summary = json.loads(written.read_text(encoding="utf-8"))
            if summary.get("provenance", {}).get("input_hash") == input_hash(scenario):
                return summary
        except (OSError, ValueError):
            pass
    return solve(scenario, threads=threads, shadow_prices=False).summary


def cliff_edge_plan(scenario: Any, output_dir: str, threads: int = 1) -> tuple[dict[str, Any], Any]:
    """Solve the cliff-edge plan once, write it next to the scenario's results (cliff_edge.json, plan.csv,
    plan_funding.csv) for the index and the comparison, and return its summary and funding table (None without
    a plan); a failure becomes a summary."""
    try:
        plan = cliff_edge.solve_cliff_edge(scenario, threads=threads)
        plan.write(output_dir, overwrite=True)
        return plan.summary, (plan.funding if plan.summary.get("status") in ("optimal", "time_limit") else None)
    except Exception as exc:  # the report must still render when the extra analysis fails
        return {"status": "error", "status_text": f"The cliff-edge analysis failed: {type(exc).__name__}: {exc}"}, None


def run_frontier(baseline_path: str, output_dir: str, threads: int = 1) -> Any:
    """The baseline's funding frontier (vru_model.analysis.frontier), written next to its results as frontier.csv,
    breakpoints.csv and frontier.json; None when the batch has no baseline."""
    if not baseline_path:
        return None
    result = frontier.frontier(load_scenario(baseline_path), *FRONTIER_LEVELS, threads=threads)
    result.write(output_dir, overwrite=True)
    return result


def run_robustness(scenario: Any, output_dir: str, samples: int = ROBUSTNESS_SAMPLES, seed: int = 0,
                   threads: int = 1, ranges: str = "none") -> Any:
    """The scenario's robustness analysis (vru_model.analysis.robustness), written to OUT/<name>/robustness/; None when
    `samples` is 0 (the batch was asked to skip it)."""
    if samples <= 0:
        return None
    if scenario.policy.objective != "max_value":
        return ("This scenario looks for the least grant that keeps a target value, not the most value for a "
                "grant, so there is no plan value to test against the evidence.")
    result = robustness.robustness(scenario, samples, seed, epsilons=ROBUSTNESS_EPSILONS, threads=threads,
                                   alternative_seconds=ROBUSTNESS_ALTERNATIVE_SECONDS, ranges_for=ranges)
    result.write(output_dir, overwrite=True)
    return result
