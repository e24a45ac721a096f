"""Where the year stands: re-plan the rest of the horizon from the actual spend so far.

The re-plan is the scenario solved with its months up to `as_of` held at the actuals (`model.history`); the
scenario's own plan, made without them, is what the actuals are measured against (`variance`), and the re-plan's
spend after `as_of` is what the rest of each year is forecast to cost (`forecast`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import pandas as pd

from vru_model.analysis.results import Result, WrittenResult
from vru_model.analysis.solve import solve
from vru_model.analysis.states import plan_states
from vru_model.core import periods
from vru_model.core.errors import Problem, ScenarioError
from vru_model.core.text import money
from vru_model.model.data import LIABILITY, prepare
from vru_model.scenario.actuals import Actuals
from vru_model.scenario.load import with_actuals
from vru_model.scenario.schema import Scenario

VARIANCE_COLUMNS = ["stream", "intervention", "period", "planned", "actual", "variance"]
FORECAST_COLUMNS = ["fy", "stream", "actual_to_date", "planned_remaining", "forecast_outturn", "available",
                    "unclaimed"]


@dataclass(frozen=True)
class Replan(WrittenResult):
    """The re-plan (a Result over the whole horizon), the plan it replaces, and the year's figures; written as the
    result-folder contract plus variance.csv and forecast.csv."""

    FILES: ClassVar[dict[str, str]] = {"allocation.csv": "allocation", "funding.csv": "funding",
                                       "variance.csv": "variance", "forecast.csv": "forecast",
                                       "summary.json": "summary"}
    result: Result
    planned: Result
    actuals: Actuals
    variance: pd.DataFrame
    forecast: pd.DataFrame

    @property
    def scenario(self) -> Scenario:  # type: ignore[override]
        return self.result.scenario

    @property
    def status(self) -> Any:
        return self.result.status

    @property
    def allocation(self) -> pd.DataFrame:
        return self.result.allocation

    @property
    def funding(self) -> pd.DataFrame:
        return self.result.funding

    @property
    def summary(self) -> dict[str, Any]:
        return self.result.summary


def check_payable(scenario: Scenario) -> None:
    """Refuse actual spend the grant's terms could not have paid for (a stream outside its funded years,
    underwriting after confirmation): bad input, raised (ScenarioError) before anything is solved or written."""
    actuals = scenario.actuals.loaded if scenario.actuals is not None else None
    if actuals is None:
        return
    pays = prepare(scenario).pays
    problems = [Problem(actuals.file, actuals.rows.get((s, i, t), f"{s}, {i}, {t}"),
                        f"{s} cannot pay for {i} in {t} (no amount of it for {periods.fy_of(t)}, or outside the "
                        "months it covers)")
                for (s, i, t) in actuals.amounts if t not in pays.get((s, i), ())]
    if problems:
        raise ScenarioError(problems)


def overspent(scenario: Scenario, actuals: Actuals) -> list[str]:
    """Sentences naming each stream whose actual spend in a financial year is already above its amount for it: a
    re-plan cannot undo it, so it is infeasible, and these say why first."""
    out = []
    for s, stream in scenario.funding.items():
        for fy, amount in stream.amounts.items():
            keys = [k for k in actuals.amounts if k[0] == s and periods.fy_of(k[2]) == fy]
            spent = sum(actuals.amounts[k] for k in keys)
            if spent > amount + 0.5:
                rows = [where for k, where in actuals.rows.items() if k in set(keys)]  # in the file's order
                out.append(f"The actual spend from {stream.title or s} in {fy} to {periods.month_name(actuals.as_of)} "
                           f"({money(spent)}) is already above its {money(amount)} for the year ({len(keys)} rows of "
                           f"{Path(actuals.file).name}: {', '.join(rows[:3])}{' ...' if len(rows) > 3 else ''}).")
    return out


def stopped(scenario: Scenario, allocation: pd.DataFrame) -> list[dict[str, Any]]:
    """Services the actuals show stopping (no spend after running): what happened, not the plan's closures."""
    return [{"intervention": i, "title": months.item.title, "stopped_from": month}
            for i, months in plan_states(scenario, allocation).items() for month in months.stopped()]


def variance_table(planned: pd.DataFrame, actuals: Actuals) -> pd.DataFrame:
    """Planned and actual spend for every stream x service x month up to `as_of` where either is not zero."""
    plan = planned[planned["period"] <= actuals.as_of]
    keys = {(r.stream, r.intervention, r.period): float(r.amount) for r in plan.itertuples()}
    rows = []
    for key in sorted(set(keys) | set(actuals.amounts)):
        p, a = round(keys.get(key, 0.0), 2), round(actuals.amounts.get(key, 0.0), 2)
        rows.append((*key, p, a, round(a - p, 2)))
    return pd.DataFrame(rows, columns=VARIANCE_COLUMNS)


def forecast_table(scenario: Scenario, funding: pd.DataFrame, as_of: str) -> pd.DataFrame:
    """For each financial year the plan touches by `as_of` or later, and each stream with money that year: spent
    so far, planned for the rest of the year, outturn, what the stream makes available, and what goes unclaimed."""
    rows = []
    spent = funding.assign(done=funding["period"] <= as_of)
    for fy in scenario.fys:
        for s, stream in scenario.funding.items():
            if s == LIABILITY:
                continue
            available = (stream.cap or 0.0) if stream.kind == "underwriting" else stream.amounts.get(fy, 0.0)
            in_year = spent[(spent["fy"] == fy) & (spent["stream"] == s)]
            if in_year.empty and (not available or stream.kind == "underwriting"):
                continue  # underwriting shows where it is drawn, not in every year
            to_date = round(float(in_year.loc[in_year["done"], "amount"].sum()), 2)
            remaining = round(float(in_year.loc[~in_year["done"], "amount"].sum()), 2)
            outturn = round(to_date + remaining, 2)
            unclaimed = round(max(0.0, available - outturn), 2) if stream.kind != "underwriting" else 0.0
            rows.append((fy, s, to_date, remaining, outturn, round(available, 2), unclaimed))
    return pd.DataFrame(rows, columns=FORECAST_COLUMNS)


def _totals(variance: pd.DataFrame) -> dict[str, Any]:
    by_stream = variance.groupby("stream")[["planned", "actual", "variance"]].sum().round(2)
    return {
        "planned": round(float(variance["planned"].sum()), 2),
        "actual": round(float(variance["actual"].sum()), 2),
        "variance": round(float(variance["variance"].sum()), 2),
        "by_stream": {str(s): {k: float(v) for k, v in row.items()} for s, row in by_stream.iterrows()},
    }


def replan(
    scenario: Scenario, actuals: str | Path | None = None, as_of: str | None = None, *, threads: int = 1,
    price_rules: bool = False,
) -> Replan:
    """Re-plan `scenario` from its actual spend so far: `actuals` (a CSV or XLSX in funding.csv's columns) and
    `as_of` (its last month), or the scenario's own `actuals:`. Bad actuals raise ScenarioError before any solve.

    >>> plan = replan(load_scenario("scenarios/replan_2021_09.yaml"))  # doctest: +SKIP
    >>> plan.forecast[["fy", "stream", "forecast_outturn", "unclaimed"]]  # doctest: +SKIP
    """
    if actuals is not None:
        scenario = with_actuals(scenario, str(Path(actuals).resolve()), as_of)
    if scenario.actuals is None or scenario.actuals.loaded is None:
        raise ScenarioError([Problem(scenario.name, "actuals", "no actuals to re-plan from: give --actuals FILE "
                                     "(or actuals: {file: ...} in the scenario)")])
    check_payable(scenario)
    loaded = scenario.actuals.loaded
    planned = solve(scenario.model_copy(update={"actuals": None}), threads=threads, shadow_prices=False)
    result = solve(scenario, threads=threads, price_rules=price_rules)
    variance = variance_table(planned.funding, loaded)
    forecast = forecast_table(scenario, result.funding, loaded.as_of)
    result.summary["as_of"] = loaded.as_of
    result.summary["actuals_file"] = Path(loaded.file).name
    result.summary["forecast"] = json.loads(forecast.to_json(orient="records"))
    result.summary["variance_totals"] = _totals(variance)
    result.summary["planned_objective"] = planned.summary.get("objective")
    result.summary["stopped"] = stopped(scenario, result.allocation)
    explanation = result.summary.get("explanation")
    if explanation and overspent(scenario, loaded):
        explanation["sentences"] = overspent(scenario, loaded) + explanation.get("sentences", [])
        explanation["text"] = " ".join(explanation["sentences"])
    return Replan(result, planned, loaded, variance, forecast)
