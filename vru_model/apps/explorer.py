"""The director's explorer without widgets: move a control, re-solve, see what runs, what closes and what is lost.

`ExplorerController` is plain Python (tested without a browser): it starts from a shipped
scenario, keeps the director's changes as dotted override keys (the same form as `vru solve
--set`), re-solves after each change and builds an `ExplorerView`. `render_html` turns a view
into escaped HTML; `vru_model.apps.widgets` puts ipywidgets controls over the controller, and
`voila_command` serves that notebook for `vru explore`.
"""

from __future__ import annotations

import html
import json
import math
import os
import re
import secrets
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
import time
import webbrowser
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from vru_model.analysis.decisions import annotate
from vru_model.analysis.diagnostics import explain
from vru_model.analysis.results import Result, make_result
from vru_model.analysis.solve import WhatIfs, cost_parts, keepable, plan_changes, plan_parts, solve, summary_parts
from vru_model.core import periods
from vru_model.core.errors import Problem, ScenarioError
from vru_model.core.files import atomic_write_bytes
from vru_model.core.text import money
from vru_model.model.build import build_model
from vru_model.model.data import prepare
from vru_model.scenario.load import (
    apply_overrides,
    dump_yaml,
    load_dict,
    load_scenario,
    read_yaml,
    scenario_to_dict,
    validate,
)
from vru_model.scenario.schema import NAME_PATTERN, Scenario
from vru_model.solving.solver import open_solver
from vru_model.solving.status import Status

try:
    import fcntl
except ImportError:  # not on Windows: saves there are not locked against each other
    fcntl = None  # type: ignore[assignment]

SCENARIOS_ENV = "VRU_SCENARIOS_DIR"
CACHE_SIZE = 32
# The cliff-edge button (two-stage plan with VSS and EVPI) on the shipped late_confirmation scenario, measured
# on the 2-core development machine: 20 s (issue 13's test) to 105-124 s (three runs with load 15-19 from other
# jobs). The explorer says this range until it has timed a run of its own.
CLIFF_EDGE_SECONDS = (20, 120)
REPO_SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"
NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "explorer.ipynb"
VOILA_DIR = NOTEBOOK.parent / "jupyter"  # voila.py settings and voila/templates/vru
KERNEL_IDLE_SECONDS = 3600  # a kernel with no open page and no activity for an hour is shut down
KERNEL_CULL_INTERVAL = 120


def month_label(month: str | None) -> str:
    """'2021-09' -> 'September 2021' (what a reader expects, not an ISO code)."""
    if not month:
        return "not set"
    return periods.month_name(month)


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


def setting_label(key: str, titles: dict[str, str] | None = None) -> str:
    """A scenario key in the words of the control that sets it ('the 2022/23 grant', not a dotted key)."""
    parts = key.split(".")
    if parts[0] == "funding" and len(parts) >= 4 and parts[2] == "amounts":
        return f"the {parts[3]} grant"
    if parts[0] == "funding" and parts[-1] == "confirmed_month":
        return "the month the grant is confirmed"
    if parts[0] == "funding" and parts[-1] == "cap":
        return "the OPCC underwriting cap"
    if parts[0] == "interventions" and len(parts) >= 3:
        return f"{(titles or {}).get(parts[1], 'a service')}: {parts[-1].replace('_', ' ')}"
    words = {"policy.partner_pickup": "the partners' pick-up", "uncertainty.confirmed_month": "the month the "
             "uncertain grant becomes known", "policy.commissioning_min_share": "the commissioning minimum",
             "name": "the file name", "title": "the title"}
    return words.get(key, key.replace(".", " ").replace("_", " "))


def one_line(exc: ScenarioError, titles: dict[str, str] | None = None) -> str:
    """A validation error as one line for the director: the setting in words and the problem, no paths or keys."""
    return "; ".join(f"{setting_label(p.key, titles) if p.key else 'the scenario'}: {p.message}"
                     for p in exc.problems)


def parse_share(value: str | float) -> float:
    """A share as a director types it: '50', '50%' and '0.5' all mean 50%.

    A % sign always means percent; without one, a number above 1 is a percentage and 1 or less a fraction."""
    if isinstance(value, int | float):
        number, percent = float(value), False
    else:
        text = value.strip().replace(",", "")
        percent = text.endswith("%")
        try:
            number = float(text.rstrip("%").strip())
        except ValueError:
            raise ValueError(f"{value.strip()!r} is not a percentage (type 50, 50% or 0.5)") from None
    if not math.isfinite(number):
        raise ValueError("type a percentage such as 50, 50% or 0.5")
    return number / 100.0 if percent or number > 1 else number


def parse_grant(value: str | float, base: float) -> float:
    """A grant as typed: pounds ('2,314,900', '£2.3m', '450k') or a percentage of `base` ('70%')."""
    if isinstance(value, int | float):
        return float(value)
    text = value.strip().lower().replace(",", "").replace("£", "").replace(" ", "")
    scale = 1.0
    if text.endswith("%"):
        if base <= 0:
            raise ValueError("the starting scenario has no grant in this year, so type it in pounds")
        text, scale = text[:-1], base / 100.0
    elif text.endswith(("m", "k")):
        text, scale = text[:-1], 1e6 if text.endswith("m") else 1e3
    try:
        number = float(text)
    except ValueError:
        raise ValueError(f"{value.strip()!r} is not an amount (type pounds, e.g. 2,500,000 or £2.5m, "
                         "or a percentage of the starting grant, e.g. 70%)") from None
    if not math.isfinite(number):
        raise ValueError("type an amount in pounds or a percentage")
    return round(number * scale, 2)


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


@dataclass(frozen=True)
class ServiceRow:
    key: str
    title: str
    status: str  # runs | closes | not_running | opens | partial
    text: str  # one phrase a reader understands
    mean_scale: float | None
    notice_by: str | None = None
    closes_from: str | None = None
    exit_cost: float = 0.0
    reason: str = ""  # why the plan closes it (summary.json closures[].reason)
    cost_to_keep: float | None = None  # value lost if it were kept (None: not measured, or `cost_to_keep_note`)
    cost_to_keep_note: str = ""  # why it has no cost to keep (no core grant that year to keep it with)


@dataclass(frozen=True)
class ExplorerView:
    """Everything the explorer shows, as data (HTML is rendered from it)."""

    start: str
    start_title: str
    overrides: dict[str, Any]
    status: str
    status_text: str
    objective: float | None
    base_objective: float | None
    total_value: float | None
    participants: float | None
    base_participants: float | None
    services: list[ServiceRow]
    closures: list[ServiceRow]
    spend: dict[str, dict[str, Any]]  # FY -> {core_grant, streams{title: spent}, unspent_core, commissioned_share}
    compliance: list[dict[str, Any]]
    changes: list[tuple[str, str, str]]  # (service title, in the starting scenario, now)
    explanation: str | None = None
    error: str | None = None
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)
    cliff_edge: list[str] = field(default_factory=list)  # sentences of the two-stage plan, when asked for
    costs_measurable: bool = False  # an optimal plan that maximises value: its closures have costs to keep

    @property
    def optimal(self) -> bool:
        return self.status == "optimal"

    @property
    def value_change(self) -> float | None:
        if self.objective is None or self.base_objective is None:
            return None
        return self.objective - self.base_objective


def _strength(running: Any) -> str:
    """Service level by financial year, when it is not simply design strength throughout."""
    by_fy = running.groupby("fy", sort=True)["scale"].mean().round(2)
    if by_fy.empty or all(abs(v - 1.0) < 0.005 for v in by_fy):
        return ""
    if by_fy.nunique() == 1:
        return f" at {by_fy.iloc[0]:.0%} of design strength"
    return "; strength " + ", ".join(f"{v:.0%} in {fy}" for fy, v in by_fy.items())


def _services(scenario: Scenario, result: Result) -> list[ServiceRow]:
    """What happens to each service in the plan."""
    if result.allocation.empty:
        return []
    closes = {}
    for c in result.summary["closures"]:
        closes.setdefault(c["intervention"], c)
    rows = []
    for key, alloc in result.allocation.groupby("intervention", sort=False):
        item = scenario.interventions[str(key)]
        running = alloc["running"].tolist()
        on = alloc[alloc["running"] == 1]
        scale = round(float(on["scale"].mean()), 2) if len(on) else None
        level = _strength(on)
        c = closes.get(str(key))
        if c is not None:
            rows.append(ServiceRow(
                str(key), item.title, "closes",
                f"closes from {month_label(c['closes_from'])} (notice by {month_label(c['notice_by'])})",
                scale, c["notice_by"], c["closes_from"], float(c["exit_cost"]),
                c.get("reason", ""), c.get("cost_to_keep"), c.get("cost_to_keep_note", ""),
            ))
        elif all(running):
            rows.append(ServiceRow(str(key), item.title, "runs", f"runs throughout{level}", scale))
        elif not any(running):
            rows.append(ServiceRow(str(key), item.title, "not_running", "does not run", None))
        elif not item.running_at_start:
            first = alloc.loc[alloc["running"] == 1, "period"].iloc[0]
            rows.append(ServiceRow(str(key), item.title, "opens", f"opens from {month_label(first)}{level}", scale))
        else:
            rows.append(ServiceRow(str(key), item.title, "partial", f"runs part of the time{level}", scale))
    return rows


def _spend(scenario: Scenario, result: Result) -> dict[str, dict[str, Any]]:
    out = {}
    core = scenario.core_stream
    for fy, row in result.summary["fy"].items():
        streams = {
            (scenario.funding[s].title or s) if s in scenario.funding else s: amount
            for s, amount in row["spent_by_stream"].items()
        }
        out[fy] = {
            "core_grant": row["core_grant"],
            "streams": streams,
            "partners": row.get("partner_spend", 0.0),
            "unspent_core": row["unspent_by_stream"].get(core, 0.0),
            "commissioned_share": row["commissioned_share"],
        }
    return out


class WarmModel:
    """One built model and persistent HiGHS solver (`solver.open_solver`), re-solved in place when only the
    core grant amounts or the underwriting cap change (both reach the model as mutable parameters:
    `m.grant`, `m.underwriting_bound`; `set_grants` changes the affected rows in HiGHS). Any other change, or
    a change in which years have a grant (the central capability floor exists only in those) or whether
    underwriting exists at all, rebuilds the model. Shadow prices are not computed: the explorer does not
    show them."""

    def __init__(self) -> None:
        self.shape: str | None = None
        self.model: Any = None
        self.opt: Any = None  # the persistent solver (a `solver.ModelSolver`)
        self.rebuilds = 0

    @staticmethod
    def _shape(scenario: Scenario) -> str:
        data = scenario_to_dict(scenario)
        core = data["funding"][scenario.core_stream]
        core["amounts"] = sorted(fy for fy, amount in core["amounts"].items() if amount > 0)
        for stream in data["funding"].values():
            if stream["kind"] == "underwriting":
                stream["cap"] = bool(stream["cap"])
        return json.dumps(data, sort_keys=True)

    def solve(self, scenario: Scenario) -> Result:
        started = time.perf_counter()
        data = prepare(scenario)
        shape = self._shape(scenario)
        if shape != self.shape:
            self.model = build_model(scenario, data)
            self.opt, self.shape = open_solver(scenario, self.model, relaxation_first=True), shape
            self.rebuilds += 1
        else:
            self.opt.set_grants(data)
        built = time.perf_counter()
        status, res = self.opt.solve()
        solved = time.perf_counter()
        explanation = explain(scenario, data, self.model) if status == Status.INFEASIBLE else None
        timings = {"build_seconds": built - started, "solve_seconds": solved - built,
                   "total_seconds": time.perf_counter() - started}
        result = make_result(scenario, data, self.model, status, res, {}, explanation, timings)
        if result.objective is not None:  # as `solve` does: every closure says why (its cost to keep is not measured)
            annotate(scenario, data, result.summary, result.allocation)
        return result


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
        base = validate(start_dict, str(path))  # a broken file raises here, leaving the explorer as it was
        self.start, self.path, self._start_dict, self.base = name, path, start_dict, base
        self._base_plain = scenario_to_dict(self.base)
        self._cache.clear()
        self.overrides: dict[str, Any] = {}
        started = time.perf_counter()
        self.base_result = self._solve(self.base)
        self.base_services = _services(self.base, self.base_result)
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
        """The two-stage plan for the current settings, with VSS and EVPI, in sentences (slower: on request)."""
        from vru_model.analysis.cliff_edge import solve_cliff_edge

        if self.scenario.uncertainty is None:
            raise ValueError(f"scenario {self.start!r} has no uncertain grant (no uncertainty block)")
        started = time.perf_counter()
        found = solve_cliff_edge(self.scenario, costs_to_keep=False)  # the explorer shows sentences, not costs
        self.cliff_seconds = time.perf_counter() - started
        if found.optimal:
            head = f"Expected value of the cliff-edge plan: {money(found.expected_value or 0.0)}."
            sentences = [head, *found.sentences]
        else:
            sentences = [found.summary.get("status_text", "No cliff-edge plan was found."), *found.sentences]
        self.view = replace(self.view, cliff_edge=sentences, seconds=self.cliff_seconds)
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
        self.view = replace(self._make_view(time.perf_counter() - started), cliff_edge=self.view.cliff_edge)
        return self.view

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
        if name == self.start:
            raise ScenarioError([Problem(where, "name", "a scenario cannot extend itself; choose another name")])
        text = self.scenario_yaml(name, title)
        with _folder_lock(self.scenarios_dir):
            exists = target.exists() or target.is_symlink()
            if exists and not overwrite:
                message = "a scenario with this name exists; tick 'Replace' to overwrite it"
                raise ScenarioError([Problem(where, "name", message)])
            if exists:
                why = replace_refusal(self.scenarios_dir, name)
                if why:
                    raise ScenarioError([Problem(where, "name", why)])
            check_save(self.scenarios_dir, name, text)
            mode = _file_mode(target if exists else self.path)
            if exists:
                keep_history(target, mode)
            atomic_write_bytes(target, text.encode("utf-8"), mode=mode)
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
            scenario = validate(merged, str(self.path)) if overrides else self.base
        except ScenarioError as exc:
            return self._refuse(one_line(exc, self.titles))
        self.overrides = overrides
        self.scenario = scenario
        self.result = self._solve(scenario)
        self.view = self._make_view(time.perf_counter() - started)
        return self.view

    def _solve(self, scenario: Scenario) -> Result:
        key = json.dumps(scenario_to_dict(scenario), sort_keys=True)
        if key in self._cache:
            self._cache.move_to_end(key)
            return self._cache[key]
        result = self.warm.solve(scenario) if self.warm else solve(scenario, shadow_prices=False)
        self._cache[key] = result
        while len(self._cache) > CACHE_SIZE:
            self._cache.popitem(last=False)
        return result

    def _make_view(self, seconds: float) -> ExplorerView:
        sc, res = self.scenario, self.result
        services = _services(sc, res) if res.optimal or not res.allocation.empty else []
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
            spend=_spend(sc, res) if services else {},
            compliance=list(res.summary.get("compliance") or []),
            changes=changes,
            explanation=explanation,
            error=None,
            seconds=seconds,
            notes=notes,
            costs_measurable=res.status == Status.OPTIMAL and sc.policy.objective == "max_value",
        )



# --- saving safely ----------------------------------------------------------------------------
SHIPPED = ("baseline", "cut_25", "cut_50", "grant_ends", "growth_20", "infeasible_example", "inflation_erosion",
           "late_confirmation", "partner_fails_to_mainstream")  # what scenarios/ ships (a test keeps it in step)
HISTORY = ".history"


def shipped_names(folder: Path) -> set[str]:
    """Scenarios the project ships: those git tracks in the folder, and the shipped names (a copy of the
    folder, or a checkout without git, still protects them)."""
    names = set(SHIPPED)
    try:
        done = subprocess.run(["git", "-C", str(folder), "ls-files", "-z", "--", "*.yaml"],
                              capture_output=True, timeout=20, check=True)
    except (OSError, subprocess.SubprocessError):
        return names
    return names | {p[:-5] for p in done.stdout.decode("utf-8", "replace").split("\0") if p and "/" not in p}


def _extends(path: Path) -> list[str]:
    try:
        parents = read_yaml(path).get("extends")
    except ScenarioError:
        return []
    if isinstance(parents, str):
        return [parents]
    return [p for p in parents if isinstance(p, str)] if isinstance(parents, list) else []


def replace_refusal(folder: Path, name: str) -> str | None:
    """Why scenarios/<name>.yaml must not be replaced from the explorer, or None when it may be."""
    path = folder / f"{name}.yaml"
    if not path.is_file():
        return f"{path.name} is not a scenario file; choose another name"
    if name in shipped_names(folder):
        return f"{name} is a shipped scenario and cannot be replaced from the explorer; save under another name"
    children = sorted(p.stem for p in folder.glob("*.yaml") if p.stem != name and name in _extends(p))
    if children:
        verb = "extends" if len(children) == 1 else "extend"
        return f"{', '.join(children)} {verb} {name}, so it cannot be replaced; save under another name"
    return None


def check_save(folder: Path, name: str, text: str) -> None:
    """Refuse a save unless the new file loads and every scenario it would reach still loads.

    The check runs on a copy of the folder as it would be after the save, so a cycle through the replaced
    file shows. Only the new file and the scenarios that extend it, directly or not, can change, so only
    they are loaded (baseline is large: loading every file would take seconds on a busy machine).
    """
    target = folder / f"{name}.yaml"
    with tempfile.TemporaryDirectory(prefix="vru-save-") as tmp:
        trial = Path(tmp)
        parents: dict[str, list[str]] = {}
        for path in folder.glob("*.yaml"):
            if path.is_file() and path.name != target.name:
                shutil.copyfile(path, trial / path.name)
                parents[path.stem] = _extends(path)
        (trial / target.name).write_text(text, encoding="utf-8")
        try:
            load_scenario(trial / target.name)
        except ScenarioError as exc:
            raise ScenarioError([replace(p, file=str(target)) for p in exc.problems]) from None
        reached, grew = {name}, True
        while grew:
            before = len(reached)
            reached |= {child for child, ps in parents.items() if reached.intersection(ps)}
            grew = len(reached) > before
        broken = []
        for child in sorted(reached - {name}):
            try:
                load_scenario(trial / f"{child}.yaml")
            except ScenarioError as exc:
                try:
                    load_scenario(folder / f"{child}.yaml")
                except ScenarioError:
                    continue  # broken before this save: not its doing
                broken.append(f"{child} ({exc.problems[0].message})")
    if broken:
        raise ScenarioError([Problem(str(target), "name", "saving would break " + "; ".join(broken))])


def keep_history(path: Path, mode: int) -> Path:
    """Copy a file about to be replaced to .history/<name>.<UTC time>.yaml (never over an earlier copy)."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    folder = path.parent / HISTORY
    kept = folder / f"{path.stem}.{stamp}.yaml"
    count = 1
    while kept.exists():
        count += 1
        kept = folder / f"{path.stem}.{stamp}-{count}.yaml"
    atomic_write_bytes(kept, path.read_bytes(), mode=mode)
    return kept


def _file_mode(path: Path) -> int:
    """The permissions of a scenario file, so a saved file is readable and writable as the others are."""
    try:
        return stat.S_IMODE(path.stat().st_mode) | stat.S_IRUSR | stat.S_IWUSR
    except OSError:
        return 0o644


@contextmanager
def _folder_lock(folder: Path) -> Iterator[None]:
    """An exclusive lock on the scenarios folder itself (no lock file), held while a save checks and writes."""
    if fcntl is None:
        yield
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


# --- HTML -------------------------------------------------------------------------------------
_e = html.escape
_TABLE = 'style="border-collapse:collapse;margin:0.3em 0 1em 0;max-width:100%"'
_CELL = 'style="border:1px solid #999;padding:3px 8px;text-align:left;vertical-align:top"'
_NUM = 'style="border:1px solid #999;padding:3px 8px;text-align:right"'


def _signed(x: float) -> str:
    return ("+" if x >= 0 else "") + money(x)


def _table(headers: list[str], rows: list[list[str]], numeric: set[int] | None = None) -> str:
    numeric = numeric or set()
    head = "".join(f"<th scope=\"col\" {_CELL}>{_e(h)}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f"<td {_NUM if k in numeric else _CELL}>{c}</td>" for k, c in enumerate(r)) + "</tr>"
        for r in rows
    )
    return (f'<div class="vru-scroll" style="overflow-x:auto;max-width:100%"><table {_TABLE}><thead><tr>{head}'
            f"</tr></thead><tbody>{body}</tbody></table></div>")


def banner(kind: str, title: str, text: str) -> str:
    """A coloured status line; shared with the widgets, so a refusal looks the same wherever it appears."""
    colours = {"error": ("#fdecea", "#b3261e"), "ok": ("#e8f4ea", "#1e6b2f")}
    bg, fg = colours[kind]
    return (f'<div class="vru-banner vru-{kind}" role="status" style="background:{bg};border-left:6px solid {fg};'
            f'padding:8px 12px;margin:0 0 10px 0"><strong>{_e(title)}</strong> {_e(text)}</div>')


def render_html(view: ExplorerView) -> str:
    """The explorer's results as HTML. Every piece of scenario text is escaped."""
    parts = ['<div class="vru-explorer-view" style="font-size:14px;line-height:1.4">']
    if view.error:
        parts.append(banner("error", "Not accepted:", view.error))
    if not view.optimal:
        parts.append(banner("error", "No workable plan with these settings.",
                             view.explanation or view.status_text))
        parts.append("<p>Change a setting (for example, raise the grant) to see a plan again.</p>")
    else:
        parts.append(_headline(view))
        if view.cliff_edge:
            items = "".join(f"<li>{_e(t)}</li>" for t in view.cliff_edge)
            parts.append('<h4>Cliff-edge plan: what to do before the grant is known</h4>'
                         f'<ul class="vru-cliff-edge">{items}</ul>')
        parts.append(_closures(view))
        parts.append(_changes(view))
        parts.append(_spend_table(view))
        parts.append(_ledger(view))
        parts.append(_all_services(view))
    for note in view.notes:
        parts.append(f"<p><em>{_e(note)}</em></p>")
    parts.append(f'<p style="color:#555">Solved in {view.seconds:.1f} s. Values are discounted social value '
                 "(harm avoided) minus exit costs, from the scenario's evidence figures.</p></div>")
    return "".join(parts)


def _headline(view: ExplorerView) -> str:
    running = sum(1 for s in view.services if s.status in ("runs", "opens", "partial"))
    closing = len(view.closures)
    change = view.value_change
    if not view.overrides:
        versus = "nothing changed yet (change a setting to see what it does)"
    elif change is None or abs(change) < 0.5:
        versus = "the same value"
    else:
        pct = f" ({change / abs(view.base_objective):+.0%})" if view.base_objective else ""
        versus = f"{_signed(change)}{pct}"
    people = ""
    if view.participants is not None and view.base_participants is not None:
        lost = view.base_participants - view.participants
        more = f" ({lost:,.0f} fewer)" if lost > 0.5 else f" ({-lost:,.0f} more)" if lost < -0.5 else ""
        people = f" People reached over the plan: {view.participants:,.0f}{more}."
    return (
        f'<h3 style="margin:0 0 4px 0">Value of this plan: <span class="vru-headline-value">'
        f"{_e(money(view.objective or 0.0))}</span></h3>"
        f'<p class="vru-headline" style="margin:0 0 8px 0">Compared with the starting scenario, '
        f'“{_e(view.start_title)}” as loaded: <strong class="vru-value-change">{_e(versus)}</strong>. '
        f'<span class="vru-services-count">{running} of {len(view.services)} services run; '
        f"{closing} {'closes' if closing == 1 else 'close'}.</span>{_e(people)}</p>"
    )


KEEP_BUTTON = "What would keeping each closure cost?"  # the explorer's button (widgets.py)


def _closures(view: ExplorerView) -> str:
    if not view.closures:
        return '<h4>Services that close</h4><p class="vru-closures">None: every running service continues.</p>'
    rows = [[_e(s.title), _e(month_label(s.notice_by)), _e(month_label(s.closes_from)), _e(money(s.exit_cost)),
             _e(money(s.cost_to_keep) if s.cost_to_keep is not None else s.cost_to_keep_note or "not measured")]
            for s in view.closures]
    unmeasured = view.costs_measurable and any(s.cost_to_keep is None and not s.cost_to_keep_note
                                               for s in view.closures)
    hint = ('<p class="vru-keep-hint">Costs to keep are not worked out on every move (each is a re-solve): '
            f"use “{KEEP_BUTTON}” on the left.</p>" if unmeasured else "")
    # The reasons read as prose under the table: as a column they ran off the right of the page
    reasons = "".join(f'<p class="vru-reason"><strong>{_e(s.title)}.</strong> {_e(s.reason)}</p>'
                      for s in view.closures if s.reason)
    return ('<h4>Services that close</h4><div class="vru-closures">'
            + _table(["Service", "Notice must be served by", "Closes from", "Exit cost", "Cost to keep"],
                     rows, {3, 4}) + hint + (f"<h4>Why each service closes</h4>{reasons}" if reasons else "")
            + "</div>")


def _changes(view: ExplorerView) -> str:
    title = f"What changed compared with “{view.start_title}” as loaded"
    if not view.overrides:
        return (f"<h4>{_e(title)}</h4><p class=\"vru-changes\">Nothing yet: this is the starting scenario as "
                "loaded. The services that close above close in it too.</p>")
    if not view.changes:
        return f"<h4>{_e(title)}</h4><p class=\"vru-changes\">No service changes.</p>"
    rows = [[_e(t), _e(a), _e(b)] for t, a, b in view.changes]
    return (f"<h4>{_e(title)}</h4><div class=\"vru-changes\">"
            + _table(["Service", "Starting scenario", "With your changes"], rows) + "</div>")


def _spend_table(view: ExplorerView) -> str:
    fys = list(view.spend)
    streams: list[str] = []
    for row in view.spend.values():
        streams += [s for s in row["streams"] if s not in streams]
    rows = [[_e("Core grant available")] + [_e(money(view.spend[y]["core_grant"])) for y in fys]]
    rows += [[f"Spent from {_e(s)}"] + [_e(money(view.spend[y]["streams"].get(s, 0.0))) for y in fys] for s in streams]
    rows.append(["Paid by partners"] + [_e(money(view.spend[y]["partners"])) for y in fys])
    rows.append(["Core grant left unspent"] + [_e(money(view.spend[y]["unspent_core"])) for y in fys])
    rows.append(["Share of core grant on commissioned services"] + [
        _e(f"{view.spend[y]['commissioned_share']:.0%}") if view.spend[y]["commissioned_share"] is not None else "–"
        for y in fys
    ])
    return "<h4>Spend by funding stream</h4>" + _table(["", *fys], rows, set(range(1, len(fys) + 1)))


def _ledger(view: ExplorerView) -> str:
    rows = [["Met" if c.get("passed") else "<strong>NOT met</strong>", _e(str(c.get("text", "")))]
            for c in view.compliance]
    return "<h4>Grant conditions</h4>" + _table(["Met?", "Condition"], rows)


def _all_services(view: ExplorerView) -> str:
    rows = [[_e(s.title), _e(s.text)] for s in view.services]
    return (f"<details><summary>All services ({len(view.services)})</summary>"
            + _table(["Service", "In this plan"], rows) + "</details>")


# --- serving with Voila -----------------------------------------------------------------------
def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def voila_command(port: int, notebook: Path = NOTEBOOK) -> list[str]:
    """Voila serving the explorer notebook on 127.0.0.1 only, behind a token (from $JUPYTER_TOKEN, set by
    `voila_environ`, so it never shows in the process list), with code cells stripped, no tracebacks sent to
    the page, kernels talking over IPC rather than TCP ports, and no silent move to another port.

    A kernel is shut down when its tab closes (the prelaunch hook in VOILA_DIR/voila.py makes that request
    pass the XSRF check) and culled after KERNEL_IDLE_SECONDS without activity and without an open page.
    The `vru` template is Voila's lab template without its CDN links: no request leaves the machine.
    Voila reads its settings from VOILA_DIR only, never from a voila.py in the current folder.
    """
    return [
        sys.executable, "-m", "voila", str(notebook),
        f"--port={port}",
        "--Voila.ip=127.0.0.1",
        "--Voila.port_retries=0",
        "--Voila.auto_token=True",
        f"--Voila.config_file_paths={VOILA_DIR}",
        "--template=vru",
        "--strip_sources=True",
        "--show_tracebacks=False",
        "--KernelManager.transport=ipc",
        f"--MappingKernelManager.cull_idle_timeout={KERNEL_IDLE_SECONDS}",
        f"--MappingKernelManager.cull_interval={KERNEL_CULL_INTERVAL}",
        "--MappingKernelManager.cull_connected=False",
        "--no-browser",
    ]


def voila_environ(token: str) -> dict[str, str]:
    """Environment additions for `voila_command`: the access token and where the `vru` template lives."""
    paths = [str(VOILA_DIR), *filter(None, os.environ.get("JUPYTER_PATH", "").split(os.pathsep))]
    return {"JUPYTER_TOKEN": token, "JUPYTER_PATH": os.pathsep.join(paths)}


def new_token() -> str:
    """A fresh access token for one `vru explore` server (as Jupyter makes one)."""
    return secrets.token_hex(24)


def open_when_listening(url: str, port: int, parent: int | None = None, seconds: float = 120.0) -> None:
    """Open the browser at `url` once something listens on 127.0.0.1:`port` (Voila takes a few seconds);
    give up after `seconds`, or as soon as process `parent` (the server) is gone."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and (parent is None or os.getppid() == parent):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                webbrowser.open(url)
                return
        except OSError:
            time.sleep(0.5)
