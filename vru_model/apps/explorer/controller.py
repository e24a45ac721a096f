"""The explorer's state and moves: a starting scenario, the director's changes as dotted overrides (the same form
as `vru solve --set`), a re-solve after each change, and the `ExplorerView` it shows."""

from __future__ import annotations

import json
import math
import os
import re
import time
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

from vru_model.analysis.decisions import annotate
from vru_model.analysis.ranges import room_within
from vru_model.analysis.replan import replan
from vru_model.analysis.results import Result
from vru_model.analysis.robustness import robustness
from vru_model.analysis.solve import WhatIfs, cost_parts, keepable, plan_changes, plan_parts, solve, summary_parts
from vru_model.apps.explorer.saving import shipped_names, shipped_refusal, write_scenario
from vru_model.apps.explorer.view import (
    ExplorerView,
    RoomView,
    cliff_edge_view,
    room_view,
    service_rows,
    spend_by_year,
)
from vru_model.apps.explorer.warm import WarmModel
from vru_model.apps.explorer.words import one_line, parse_grant, parse_share
from vru_model.core import periods
from vru_model.core.errors import Problem, ScenarioError
from vru_model.core.resources import working_scenarios
from vru_model.model.data import prepare
from vru_model.scenario.load import (
    apply_overrides,
    dump_yaml,
    load_dict,
    read_yaml,
    scenario_to_dict,
    validate,
    with_actuals,
)
from vru_model.scenario.schema import NAME_PATTERN, Scenario
from vru_model.solving.status import Status

SCENARIOS_ENV = "VRU_SCENARIOS_DIR"
CACHE_SIZE = 32
# The cliff-edge button (two-stage plan with VSS and EVPI) on the shipped late_confirmation scenario, measured
# on the 2-core development machine: 20 s (issue 13's test) to 105-124 s (three runs with load 15-19 from other
# jobs). The explorer says this range until it has timed a run of its own.
CLIFF_EDGE_SECONDS = (20, 120)
# "How much room does each service have?" (two solves per service, on `ROOM_WORKERS` processes), measured on
# the 2-core development machine: 31 s on the baseline, 53 s on cut_50. Said until a run here is timed.
ROOM_SECONDS = (30, 60)
ROOM_WORKERS = min(4, os.cpu_count() or 1)
REPO_SCENARIOS = working_scenarios()


def _plain(value: Any) -> Any:
    """Whole-pound floats as ints, so saved YAML reads `2500000`, not `2500000.0`."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, int | float) and isinstance(b, int | float) and not isinstance(a, bool):
        return math.isclose(float(a), float(b), rel_tol=1e-12, abs_tol=1e-9)
    return a == b


def _lookup(data: dict[str, Any], key: str) -> Any:
    node: Any = data
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def _nest(overrides: dict[str, Any]) -> dict[str, Any]:
    """Dotted keys to the nested mapping a scenario file holds."""
    return apply_overrides({}, {k: _plain(v) for k, v in sorted(overrides.items())})


def scenario_names(scenarios_dir: Path) -> dict[str, str]:
    """Scenario name -> title for every loadable YAML file in the folder (others are skipped)."""
    found: dict[str, str] = {}
    for path in sorted(scenarios_dir.glob("*.yaml")):
        if not re.fullmatch(NAME_PATTERN[1:-1], path.stem):
            continue
        try:
            data = load_dict(path)
        except ScenarioError:
            continue
        found[path.stem] = str(data.get("title") or path.stem)
    return found


def default_scenarios_dir() -> Path:
    """$VRU_SCENARIOS_DIR when set (tests and `vru explore --scenarios`), else the repository's scenarios/."""
    return Path(os.environ.get(SCENARIOS_ENV) or REPO_SCENARIOS)


class ExplorerController:
    """The explorer's state: a starting scenario plus the director's changes, as dotted overrides.

    Every control method records an override, re-solves and returns the new `ExplorerView`.
    A value the schema rejects leaves the plan as it was and puts a one-line error in the view;
    an infeasible setting shows the plain-English explanation. Nothing here raises for bad input
    except `save` (a bad name or an existing file), which raises ScenarioError.
    """

    def __init__(self, scenarios_dir: str | Path | None = None, start: str | None = None, persistent: bool = True):
        """`persistent=False` rebuilds the model for every change (the benchmark's comparison)."""
        self.warm = WarmModel() if persistent else None
        self.scenarios_dir = Path(scenarios_dir) if scenarios_dir else default_scenarios_dir()
        self.available = scenario_names(self.scenarios_dir)
        if not self.available:
            raise ScenarioError([Problem(str(self.scenarios_dir), "", "no loadable scenario files (*.yaml) here")])
        self._cache: OrderedDict[str, Result] = OrderedDict()
        self.cliff_seconds: float | None = None
        self.room_seconds: float | None = None
        self.set_start(start or ("baseline" if "baseline" in self.available else next(iter(self.available))))

    # --- starting point -------------------------------------------------------------------
    def set_start(self, name: str) -> ExplorerView:
        """Start again from another shipped scenario (the director's changes are cleared)."""
        if name not in self.available:  # saved since the list was made?
            self.available = scenario_names(self.scenarios_dir)
        if name not in self.available:
            raise ScenarioError([Problem(str(self.scenarios_dir), "start", f"no scenario named {name!r}")])
        path = self.scenarios_dir / f"{name}.yaml"
        start_dict = load_dict(path)
        base = self._validated(start_dict, path)  # a broken file raises here, leaving the explorer as it was
        self.start, self.path, self._start_dict, self.base = name, path, start_dict, base
        self._base_plain = scenario_to_dict(self.base)
        self._cache.clear()
        self.overrides: dict[str, Any] = {}
        started = time.perf_counter()
        self.base_result = self._solve(self.base)
        self.base_services = service_rows(self.base, self.base_result)
        self.scenario = self.base
        self.result = self.base_result
        self.view = self._make_view(time.perf_counter() - started)
        return self.view

    def reset(self) -> ExplorerView:
        """Drop every change: back to the starting scenario."""
        return self._apply({})

    # --- what the controls know about the scenario -----------------------------------------
    @property
    def core_stream(self) -> str:
        return self.base.core_stream

    @property
    def underwriting_stream(self) -> str | None:
        return next((k for k, s in self.base.funding.items() if s.kind == "underwriting"), None)

    @property
    def fys(self) -> list[str]:
        return self.base.fys

    def base_grant(self, fy: str) -> float:
        return self.base.core_grant(fy)

    def grant(self, fy: str) -> float:
        return self.scenario.core_grant(fy)

    def confirmation_months(self) -> list[str]:
        """Months the grant could be confirmed in: the financial year of the starting confirmation."""
        conf = self.base.funding[self.core_stream].confirmed_month or self.base.months[0]
        fy = periods.fy_of(conf)
        return [m for m in self.base.months if periods.fy_of(m) == fy]

    # --- controls ---------------------------------------------------------------------------
    def set_grant(self, fy: str, pounds: float) -> ExplorerView:
        """Core grant for one financial year, in pounds."""
        self._check_fy(fy)
        return self._set({f"funding.{self.core_stream}.amounts.{fy}": pounds})

    def set_grant_percent(self, fy: str, percent: float) -> ExplorerView:
        """Core grant for one financial year as a percentage of the starting scenario's."""
        self._check_fy(fy)
        base = self.base_grant(fy)
        if base <= 0:
            raise ValueError(f"the starting scenario has no core grant in {fy}; set it in pounds")
        return self.set_grant(fy, round(base * percent / 100.0, 2))

    def set_grant_text(self, fy: str, text: str) -> ExplorerView:
        """Core grant for one year as typed: pounds ('2,500,000', '£2.5m') or '% of the starting scenario'."""
        self._check_fy(fy)
        try:
            pounds = parse_grant(text, self.base_grant(fy))
        except ValueError as exc:
            return self._refuse(f"the {fy} grant: {exc}")
        return self.set_grant(fy, pounds)

    def set_confirmation_month(self, month: str) -> ExplorerView:
        return self._set({f"funding.{self.core_stream}.confirmed_month": month})

    def set_underwriting_cap(self, pounds: float) -> ExplorerView:
        stream = self.underwriting_stream
        if stream is None:
            raise ValueError(f"scenario {self.start!r} has no underwriting stream")
        return self._set({f"funding.{stream}.cap": pounds})

    def set_partner_pickup(self, share: str | float) -> ExplorerView:
        """How much of the promised partner pick-up of tapers really happens ('80', '80%' or 0.8)."""
        return self._set_share("policy.partner_pickup", "the partners' pick-up", share)

    def set_commissioning_min(self, share: str | float) -> ExplorerView:
        """The commissioning minimum as a share of each year's core grant ('20', '20%' or 0.2)."""
        return self._set_share("policy.commissioning_min_share", "the commissioning minimum", share)

    def _set_share(self, key: str, what: str, share: str | float) -> ExplorerView:
        try:
            value = parse_share(share)
        except ValueError as exc:
            return self._refuse(f"{what}: {exc}")
        if not 0 <= value <= 1:
            return self._refuse(f"{what} must be between 0% and 100% (you typed {value:.0%})")
        return self._set({key: round(value, 6)})

    def set_protected(self, names: Iterable[str]) -> ExplorerView:
        """Exactly these services are protected from closure (others as in the starting scenario minus these)."""
        chosen = set(names)
        unknown = chosen - set(self.base.interventions)
        if unknown:
            raise ValueError(f"unknown interventions: {', '.join(sorted(unknown))}")
        return self._set({f"interventions.{i}.protected": i in chosen for i in self.base.interventions})

    def uncertainty_months(self) -> list[str]:
        """Months the uncertain grant (cliff edge) could be confirmed in: its financial year."""
        unc = self.scenario.uncertainty
        return [m for m in self.base.months if unc is not None and periods.fy_of(m) == unc.fy]

    def set_uncertainty_month(self, month: str) -> ExplorerView:
        """When the cliff-edge grant is revealed (scenarios with an `uncertainty` block)."""
        if self.base.uncertainty is None:
            raise ValueError(f"scenario {self.start!r} has no uncertain grant (no uncertainty block)")
        return self._set({"uncertainty.confirmed_month": month})

    def cliff_edge(self) -> ExplorerView:
        """The two-stage plan for the current settings, with VSS and EVPI (slower: on request); once worked out,
        it is the plan the page leads with, and the plan as if the grant were known is shown for comparison."""
        from vru_model.analysis.cliff_edge import solve_cliff_edge

        if self.scenario.uncertainty is None:
            raise ValueError(f"scenario {self.start!r} has no uncertain grant (no uncertainty block)")
        started = time.perf_counter()
        found = solve_cliff_edge(self.scenario, costs_to_keep=False)  # the explorer shows the plan, not costs
        self.cliff_seconds = time.perf_counter() - started
        self.view = replace(self.view, cliff_edge=cliff_edge_view(found), seconds=self.cliff_seconds)
        return self.view

    def measure_costs_to_keep(self) -> ExplorerView:
        """What keeping each closing service would cost on the current settings (the value lost if it were
        protected), as `vru solve` and the reports give it: one re-solve per closure, so on request, not on
        every move. The figures and reasons stay with this plan: coming back to these settings shows them."""
        res = self.result
        if not self.view.costs_measurable or res.objective is None:
            return self.view
        started = time.perf_counter()
        data = prepare(self.scenario)
        names = keepable(self.scenario, data, plan_changes(self.scenario, res))
        if not names:
            return self.view
        what_if = WhatIfs(self.scenario, data, names)
        keep = what_if.costs_to_keep(res.objective, names, read=plan_parts)
        parts = {i: cost_parts(summary_parts(res.summary), kept) for i, kept in what_if.kept.items()}
        annotate(self.scenario, data, res.summary, res.allocation, keep, keep_parts=parts)
        self.view = replace(self._make_view(time.perf_counter() - started), cliff_edge=self.view.cliff_edge,
                            room=self.view.room)
        return self.view

    def room_for_each_service(self) -> ExplorerView:
        """Each service's room within 1%, 2% and 5% of the best value on the current settings: the same ranges
        `vru robustness` writes (ranges.csv), from two solves per service, so on request. Only a plan that
        maximises value has a best value to be within a few percent of."""
        if not self.view.costs_measurable:
            why = ("These settings have no workable plan, so there is no best value to be within a few percent of."
                   if not self.view.optimal else "This scenario looks for the least grant, not the most value, so "
                   "there is no best value to be within a few percent of.")
            self.view = replace(self.view, room=RoomView([], [], [], None, why, 0.0))
            return self.view
        started = time.perf_counter()
        found = room_within(self.scenario, workers=ROOM_WORKERS)
        self.room_seconds = time.perf_counter() - started
        self.view = replace(self.view, room=room_view(self.scenario, found, self.room_seconds))
        return self.view

    def how_sure(self, samples: int) -> list[str]:
        """The robustness findings for the current settings, in words: `samples` samples of the evidence, no
        alternatives or ranges (quick; `vru robustness` and "How much room…?" give those)."""
        return list(robustness(self.scenario, samples, 0, epsilons=()).summary["sentences"])

    def room_estimate(self) -> str:
        """How long the room for each service takes, as measured: the last run here, else the measured range."""
        if self.room_seconds is not None:
            return f"last time it took {self.room_seconds:.0f} seconds"
        return f"this takes {ROOM_SECONDS[0]} to {ROOM_SECONDS[1]} seconds"

    def cliff_edge_estimate(self) -> str:
        """How long the cliff-edge plan takes, as measured: the last run here, else the measured range."""
        if self.cliff_seconds is not None:
            return f"last time it took {self.cliff_seconds:.0f} seconds"
        low, high = CLIFF_EDGE_SECONDS
        return f"this takes {low} to {high} seconds"

    @property
    def protected(self) -> list[str]:
        return [i for i, item in self.scenario.interventions.items() if item.protected]

    # --- save -------------------------------------------------------------------------------
    def scenario_yaml(self, name: str, title: str | None = None) -> str:
        """The minimal `extends:` scenario for the current state: name, title and the overridden keys only."""
        changes = "; ".join(f"{k} = {_plain(v)}" for k, v in sorted(self.overrides.items())) or "no changes"
        head = {
            "extends": self.start,
            "name": name,
            "title": title or f"{self.base.title} (explorer: {name})",
            "description": f"Saved from the explorer, starting from {self.start}. Changes: {changes}.",
        }
        return f"# Saved by the VRU explorer on {date.today().isoformat()}.\n" + dump_yaml(
            {**head, **_nest(self.overrides)}
        )

    def save(self, name: str, title: str | None = None, overwrite: bool = False) -> Path:
        """Write scenarios/<name>.yaml, only if every scenario that loads now still loads after the save.

        Refused: a bad name, an existing file unless `overwrite`, and, even with `overwrite`, a shipped
        scenario or one that others extend. A replaced file is kept in `.history/` first. The check runs on
        a copy of the folder as it would be after the save (a cycle through the replaced file shows there),
        under a lock on the folder so two explorer tabs cannot interleave their saves.
        """
        name = name.strip()
        target = self.scenarios_dir / f"{name}.yaml"
        where = str(target)
        if not re.fullmatch(NAME_PATTERN[1:-1], name) or len(name) > 64:
            raise ScenarioError([Problem(where, "name", "use lower-case letters, digits and _ (e.g. grant_cut_30)")])
        if target.exists() and name in shipped_names(self.scenarios_dir):
            raise ScenarioError([Problem(where, "name", shipped_refusal(name))])
        if name == self.start:
            raise ScenarioError([Problem(where, "name", "a scenario cannot extend itself; choose another name")])
        write_scenario(self.scenarios_dir, name, self.scenario_yaml(name, title), overwrite=overwrite,
                       like=self.path)
        self.available = dict(sorted({**self.available, name: str(read_yaml(target)["title"])}.items()))
        return target

    # --- internals --------------------------------------------------------------------------
    def _check_fy(self, fy: str) -> None:
        if fy not in self.fys:
            raise ValueError(f"{fy} is not a financial year of scenario {self.start!r} ({', '.join(self.fys)})")

    def _set(self, changes: dict[str, Any]) -> ExplorerView:
        new = dict(self.overrides)
        for key, value in changes.items():
            if _same(value, _lookup(self._base_plain, key)):
                new.pop(key, None)  # back at the starting value: not an override any more
            else:
                new[key] = value
        return self._apply(new)

    def _refuse(self, problem: str) -> ExplorerView:
        """Keep the plan as it was and say why in one line."""
        self.view = replace(self.view, error=f"That value was not accepted ({problem}). "
                                             "The plan shown is the last valid one.")
        return self.view

    @property
    def titles(self) -> dict[str, str]:
        """Service titles by id, for messages in words."""
        return {k: item.title for k, item in self.base.interventions.items()}

    def _apply(self, overrides: dict[str, Any]) -> ExplorerView:
        started = time.perf_counter()
        try:
            merged = apply_overrides(self._start_dict, overrides)
            scenario = self._validated(merged, self.path) if overrides else self.base
        except ScenarioError as exc:
            return self._refuse(one_line(exc, self.titles))
        self.overrides = overrides
        self.scenario = scenario
        self.result = self._solve(scenario)
        self.view = self._make_view(time.perf_counter() - started)
        return self.view

    @staticmethod
    def _validated(data: dict[str, Any], path: Path) -> Scenario:
        """A scenario from its settings; one with `actuals:` has its actuals file (beside the scenario) read too."""
        scenario = validate(data, str(path))
        if scenario.actuals is None:
            return scenario
        return with_actuals(scenario, str((path.parent / scenario.actuals.file).resolve()), scenario.actuals.as_of)

    def _solve(self, scenario: Scenario) -> Result:
        """The plan for these settings; re-planned from the actual spend so far when the scenario has actuals."""
        key = json.dumps(scenario_to_dict(scenario), sort_keys=True)
        if key in self._cache:
            self._cache.move_to_end(key)
            return self._cache[key]
        if scenario.actuals is not None:
            result = replan(scenario).result
        else:
            result = self.warm.solve(scenario) if self.warm else solve(scenario, shadow_prices=False)
        self._cache[key] = result
        while len(self._cache) > CACHE_SIZE:
            self._cache.popitem(last=False)
        return result

    def _make_view(self, seconds: float) -> ExplorerView:
        sc, res = self.scenario, self.result
        services = service_rows(sc, res) if res.optimal or not res.allocation.empty else []
        before = {s.key: s for s in self.base_services}
        changes = [
            (s.title, before[s.key].text, s.text)
            for s in services
            if s.key in before and (before[s.key].text != s.text)
        ]
        explanation = (res.summary.get("explanation") or {}).get("text")
        totals = res.summary["totals"]
        notes = []
        if sc.uncertainty is not None:
            notes.append(f"This plan assumes the grant amounts set on the left. The {sc.uncertainty.fy} grant is "
                         "uncertain in this scenario: use 'Work out the cliff-edge plan' to plan for every outcome.")
        if sc.policy.objective == "min_grant":
            notes.append("This scenario looks for the least core grant that keeps its target value: the headline "
                         "figure is that grant, not a value.")
        return ExplorerView(
            start=self.start,
            start_title=self.base.title,
            overrides=dict(self.overrides),
            status=res.status.value,
            status_text=res.summary["status_text"],
            objective=res.objective,
            base_objective=self.base_result.objective,
            total_value=totals.get("value"),
            participants=totals.get("participants"),
            base_participants=self.base_result.summary["totals"].get("participants"),
            services=services,
            closures=sorted((s for s in services if s.status == "closes"),
                            key=lambda s: (s.notice_by or "", s.closes_from or "", s.title)),
            spend=spend_by_year(sc, res) if services else {},
            compliance=list(res.summary.get("compliance") or []),
            changes=changes,
            explanation=explanation,
            error=None,
            seconds=seconds,
            notes=notes,
            costs_measurable=res.status == Status.OPTIMAL and sc.policy.objective == "max_value",
            as_of=res.summary.get("as_of"),
        )


