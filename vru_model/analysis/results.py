"""The frozen result of a solve: allocation and funding tables, a summary, and writing them out.

Tables are rounded (pounds to the penny, scales to 4 places) so that the same inputs give
byte-identical CSV files; funding is rounded so that no stream ever shows more spent than it has.
"""

from __future__ import annotations

import hashlib
import json
import math
import platform
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any, ClassVar

import pandas as pd
import pyomo.environ as pyo
import yaml

from vru_model.analysis.objective import ObjectiveParts
from vru_model.analysis.states import closure_count, plan_states
from vru_model.core.errors import OutputError
from vru_model.core.files import atomic_write_text
from vru_model.core.text import money
from vru_model.model.data import LIABILITY, ModelData
from vru_model.scenario.load import dump_yaml, scenario_to_dict
from vru_model.scenario.schema import Scenario
from vru_model.solving.solver import interface_name
from vru_model.solving.status import Status, mip_gap, status_text

ALLOCATION_COLUMNS = [
    "scenario", "intervention", "period", "fy", "running", "scale", "total_cost",
    "vru_spend", "partner_spend", "participants", "value", "exit_cost", "startup_cost",
]
FUNDING_COLUMNS = ["scenario", "stream", "intervention", "period", "fy", "amount"]
TOL = 0.01  # pounds
VALUE_DEFINITIONS = {
    "value": "social value: violence avoided priced with Home Office unit costs of crime, weighted by the "
    "confidence of the evidence; summed month by month, not discounted (as in allocation.csv)",
    "value_discounted": "the same, discounted at the scenario's rate (Green Book 3.5% a year by default)",
    "objective": "value_discounted minus exit costs and the disruption penalty of closures (and, in cliff-edge "
    "plans, the weighted cost of underwriting and unfunded liability)",
    "exit_costs_discounted": "exit and start-up costs, discounted as value_discounted is",
    "disruption_weight": "the model's disruption penalty, discounted: its weight per participant who loses support "
    "(policy.disruption_penalty_per_participant) times those who do; a weight, not money",
    "penalty_weights": "underwriting drawn times policy.underwriting_cost_weight (a weight, not money)",
}


def input_hash(scenario: Scenario) -> str:
    """The scenario's inputs, merged, with a re-plan's actual spend (its file may change while the YAML does not)."""
    text = json.dumps(scenario_to_dict(scenario), sort_keys=True)
    actuals = scenario.actuals.loaded if scenario.actuals is not None else None
    if actuals is not None:
        text += json.dumps([[*key, amount] for key, amount in actuals.amounts.items()])
    return hashlib.sha256(text.encode()).hexdigest()


def versions() -> dict[str, str]:
    found = {"python": platform.python_version()}
    for pkg in ("vru-workbench", "pyomo", "highspy", "pandas", "pydantic"):
        try:
            found[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            found[pkg] = "unknown"
    return found


def provenance(sc: Scenario, solver: str | None = None) -> dict[str, Any]:
    """Where a set of figures came from: the input's hash, package and solver versions, and when."""
    return {
        "input_hash": input_hash(sc),
        "versions": versions(),
        "solver": solver or f"HiGHS via {interface_name(sc)}",
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


class WrittenResult:
    """A result written into DIR/<scenario name>/ (or DIR/<folder>/) by `write_outputs`: resolved.yaml and the
    `FILES` it names (file name: the attribute holding that table or document)."""

    FILES: ClassVar[dict[str, str]]
    scenario: Scenario

    def write(self, directory: str | Path, folder: str | None = None, *, overwrite: bool = False) -> Path:
        """Write the files atomically into DIR/<scenario name>/ and return that folder. A folder holding another
        run's result (`check_same_run`) raises OutputError unless `overwrite`."""
        tables = {name: getattr(self, key) for name, key in self.FILES.items() if name.endswith(".csv")}
        documents = {name: getattr(self, key) for name, key in self.FILES.items() if not name.endswith(".csv")}
        return write_outputs(directory, self.scenario, tables, documents, folder, overwrite=overwrite)


@dataclass(frozen=True)
class Result(WrittenResult):
    """One solved scenario: the output contract of `vru solve` (docs/contracts.md)."""

    FILES: ClassVar[dict[str, str]] = {"allocation.csv": "allocation", "funding.csv": "funding",
                                       "summary.json": "summary"}
    scenario: Scenario
    status: Status
    objective: float | None
    allocation: pd.DataFrame
    funding: pd.DataFrame
    summary: dict[str, Any]
    plans: pd.DataFrame = field(repr=False, default_factory=pd.DataFrame)  # every outcome (cliff-edge)

    @property
    def optimal(self) -> bool:
        return self.status == Status.OPTIMAL

    @property
    def closures(self) -> list[dict[str, Any]]:
        """Services that close during the plan, with notice dates (summary.json's `closures`)."""
        return list(self.summary.get("closures") or [])


def check_same_run(out: Path, scenario: Scenario) -> None:
    """Refuse to write into a folder holding another run's result: one whose resolved.yaml is not this
    scenario's (another scenario of the same name, or the same one with other inputs), so a changed scenario
    never silently replaces the batch's folder."""
    resolved = out / "resolved.yaml"
    if not resolved.is_file():
        return
    try:
        held = yaml.safe_load(resolved.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        held = None
    if held != scenario_to_dict(scenario):
        raise OutputError(f"{out} holds another run's result (its resolved.yaml is not {scenario.name}'s inputs): "
                          "write to another folder, name the scenario differently, or pass overwrite=True")


def write_outputs(
    directory: str | Path,
    scenario: Scenario,
    tables: dict[str, pd.DataFrame],
    documents: dict[str, Any],
    folder: str | None = None,
    *,
    overwrite: bool = False,
) -> Path:
    """DIR/<scenario name>/ (or DIR/<folder>/) with resolved.yaml, CSV tables and JSON documents, each
    written atomically; without `overwrite`, never over another run's result (`check_same_run`).

    CSVs use "\n" line ends whatever the platform, so identical inputs give identical bytes."""
    out = Path(directory) / (folder or scenario.name)
    if not overwrite:
        check_same_run(out, scenario)
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out / "resolved.yaml", dump_yaml(scenario_to_dict(scenario)))
    for name, table in tables.items():
        atomic_write_text(out / name, table.to_csv(index=False, lineterminator="\n"))
    for name, document in documents.items():
        atomic_write_text(out / name, dump_json(document))
    return out


def dump_json(document: Any) -> str:
    """A JSON document as every output file holds one: indented, UTF-8 as written, a final newline."""
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def _round(x: float, digits: int) -> float:
    """Rounded for the CSVs, with no negative zero ("-0.0" reads as a bug to finance)."""
    return round(x, digits) + 0.0


def undiscounted_value(d: ModelData, m: pyo.ConcreteModel, w: str) -> float:
    """Social value as allocation.csv adds it up: per month at the month's scale, not discounted."""
    return sum(d.value[i] * _val(m.scale[w, i, t]) for i in d.interventions for t in d.months)


def _val(var: Any) -> float:
    """A variable's or an expression's value after a solve (0 where a variable has none)."""
    v = pyo.value(var, exception=False)
    return 0.0 if v is None else float(v)


def pence_within(amounts: list[float], limit: float) -> list[int]:
    """Amounts in whole pence whose sum never exceeds `limit`, each within a penny or so of the solver's figure.

    Rounding each amount on its own can put a stream's total pennies above its budget (the solver meets
    budgets only to its tolerance); finance reads that as an overspend. So the total is rounded once, capped
    at the budget, and the pennies shared out by largest remainder."""
    cents = [max(0.0, a) * 100.0 for a in amounts]
    floors = [math.floor(c + 1e-6) for c in cents]
    cap = math.floor(limit * 100.0 + 1e-6) if math.isfinite(limit) else None
    target = round(sum(cents))
    target = min(target, cap) if cap is not None else target
    order = sorted(range(len(cents)), key=lambda k: -(cents[k] - floors[k]))  # stable: ties keep their order
    left = target - sum(floors)
    while left > 0:
        for k in order[:left]:
            floors[k] += 1
        left = target - sum(floors)
    while left < 0:  # the floors alone exceed the budget: take pennies back from the largest amounts
        for k in sorted(range(len(floors)), key=lambda k: -floors[k])[:-left]:
            floors[k] -= 1
        left = target - sum(floors)
    return floors


def _stream_limits(d: ModelData, m: pyo.ConcreteModel) -> dict[tuple[str, str, str | None], float]:
    """What each stream may spend, keyed (outcome, stream, FY); underwriting's cap spans the horizon (FY None)."""
    min_grant = d.scenario.policy.objective == "min_grant"
    limits: dict[tuple[str, str, str | None], float] = {}
    for w in m.W:
        for s in d.streams:
            if s == d.underwriting:
                limits[w, s, None] = float(pyo.value(m.underwriting_bound[w]))
            elif s == LIABILITY:
                limits[w, s, None] = math.inf
            else:
                for y in d.fys:
                    grant = round(_val(m.grant_needed[y]), 2) if min_grant else float(pyo.value(m.grant[w, y]))
                    limits[w, s, y] = grant if s == d.core else d.amounts.get((s, y), 0.0)
    return limits


def _funding_pence(d: ModelData, m: pyo.ConcreteModel) -> dict[tuple[str, str, str, str], float]:
    """Every stream's spend per service and month in whole pence, no stream above its budget."""
    groups: dict[tuple[str, str, str | None], list[tuple[tuple[str, str, str, str], float]]] = {}
    for key, var in m.spend.items():
        w, s, _i, t = key
        fy = None if s in (d.underwriting, LIABILITY) else d.fy_of[t]
        groups.setdefault((w, s, fy), []).append((key, _val(var)))
    limits = _stream_limits(d, m)
    out = {}
    for group, rows in groups.items():
        pence = pence_within([v for _, v in rows], limits.get(group, math.inf))
        out.update({key: p / 100 for (key, _), p in zip(rows, pence, strict=True)})
    return out


def plan_tables(sc: Scenario, d: ModelData, m: pyo.ConcreteModel) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Allocation and funding rows for every outcome (column `outcome`)."""
    items = sc.interventions
    spend: dict[tuple[str, str, str], float] = {}
    frows = []
    for (w, s, i, t), amount in _funding_pence(d, m).items():
        if amount > 0:
            spend[w, i, t] = spend.get((w, i, t), 0.0) + amount
            frows.append((w, sc.name, s, i, t, d.fy_of[t], amount))
    arows = []
    months = d.months
    for w in m.W:
        for i in d.interventions:
            for k, t in enumerate(months):
                running = round(_val(m.on[w, i, t]))
                # Money and people from the unrounded scale (rounding it first could put the cost
                # identity off by pounds on a large service); solver noise around zero is cleared.
                scale = min(max(_val(m.scale[w, i, t]), 0.0), items[i].scale.max) if running else 0.0
                closes_next = _val(m.close[w, i, months[k + 1]]) if k + 1 < len(months) else 0.0
                closes_now = _val(m.close[w, i, t]) if k == 0 else 0.0
                exit_cost = round(items[i].exit_cost * round(closes_next + closes_now), 2)
                if d.actuals is not None and t <= d.actuals.as_of:
                    exit_cost = 0.0  # a stop the actuals show: what it cost is in the actual spend
                arows.append((
                    w, sc.name, i, t, d.fy_of[t], running, _round(scale, 4),
                    _round(d.cost[i, t] * scale, 2),
                    _round(spend.get((w, i, t), 0.0), 2),
                    _round(_val(m.partner[w, i, t]), 2),
                    _round(items[i].participants_per_year / 12.0 * scale, 4),
                    _round(d.value[i] * scale, 2),
                    exit_cost,
                    _round(items[i].startup_cost * round(_val(m.open[w, i, t])), 2),  # paid in the opening month
                ))
    allocation = pd.DataFrame(arows, columns=["outcome", *ALLOCATION_COLUMNS])
    funding = pd.DataFrame(frows, columns=["outcome", *FUNDING_COLUMNS])
    funding = funding.sort_values(["outcome", "stream", "intervention", "period"], kind="stable").reset_index(drop=True)
    return allocation, funding


def closures(sc: Scenario, alloc: pd.DataFrame) -> list[dict[str, Any]]:
    """Services that stop during the horizon: when notice must be served and from when they close."""
    found = []
    for i, months in plan_states(sc, alloc).items():
        item = months.item
        found += [{
            "intervention": i,
            "title": item.title,
            "closes_from": month,
            "notice_by": months.notice_by(month),
            "notice_months": item.notice_months,
            "exit_cost": item.exit_cost,
            "participants_per_year": item.participants_per_year,
        } for month in months.closes_from()]
    return sorted(found, key=lambda c: (c["closes_from"], c["intervention"]))


def commissioned_core_spend(sc: Scenario, alloc: pd.DataFrame, core: pd.DataFrame, commissioned: set[str]) -> float:
    """Core grant spent on commissioned services that counts towards the minimum: the VRU's part of each
    service's running cost, not its exit or start-up costs (unless the policy counts them)."""
    paid = core[core["intervention"].isin(commissioned)].groupby(["intervention", "period"])["amount"].sum()
    if sc.policy.exit_costs_count_as_commissioned or paid.empty:
        return float(paid.sum())
    running = alloc.set_index(["intervention", "period"])
    running = (running["total_cost"] - running["partner_spend"]).reindex(paid.index).fillna(0.0)
    return float(paid.clip(upper=running.clip(lower=0.0)).sum())


def fy_summary(sc: Scenario, d: ModelData, alloc: pd.DataFrame, funding: pd.DataFrame, grant: dict[str, float]) -> dict:
    out: dict[str, Any] = {}
    commissioned = {i for i, item in sc.interventions.items() if item.is_commissioned}
    for y in d.fys:
        f = funding[funding["fy"] == y]
        spent = {s: round(float(f[f["stream"] == s]["amount"].sum()), 2) for s in d.streams}
        available = {}
        for s in d.streams:
            if s == d.core:
                available[s] = grant.get(y, 0.0)
            elif s in (LIABILITY,) or s == d.underwriting:
                continue
            else:
                available[s] = d.amounts.get((s, y), 0.0)
        core_f = f[f["stream"] == d.core]
        com = commissioned_core_spend(sc, alloc[alloc["fy"] == y], core_f, commissioned)
        core_grant = grant.get(y, 0.0)
        claimed = float(core_f["amount"].sum())
        basis = claimed if sc.policy.commissioning_basis == "claimed" else core_grant
        a = alloc[alloc["fy"] == y]
        out[y] = {
            "core_grant": round(core_grant, 2),
            "spent_by_stream": spent,
            "unspent_by_stream": {s: round(max(0.0, v - spent.get(s, 0.0)), 2) for s, v in available.items()},
            "core_claimed": round(claimed, 2),
            "core_unclaimed": round(max(0.0, core_grant - claimed), 2),
            "commissioning_basis": sc.policy.commissioning_basis,
            "commissioning_base": round(basis, 2),
            "commissioned_spend": round(com, 2),
            "commissioned_share": round(com / basis, 4) if basis > 0.005 else None,
            "partner_spend": round(float(a["partner_spend"].sum()), 2),
            "participants": round(float(a["participants"].sum()), 1),
            "value": round(float(a["value"].sum()), 2),
            "services_running_at_year_end": int(a[a["period"] == a["period"].max()]["running"].sum()) if len(a) else 0,
        }
    return out


def compliance(sc: Scenario, d: ModelData, alloc: pd.DataFrame, funding: pd.DataFrame, fy: dict) -> list[dict]:
    """Every grant condition, with passed / headroom and one sentence a partner can read."""
    kappa = sc.policy.commissioning_min_share
    ledger = []
    for y, row in fy.items():
        grant = row["core_grant"]
        if grant <= 0:
            continue
        base = row["commissioning_base"]
        need = kappa * base
        head = row["commissioned_spend"] - need
        share = row["commissioned_share"] or 0.0
        claimed = sc.policy.commissioning_basis == "claimed"
        of = f"the {money(base)} of core grant claimed" if claimed else f"the {money(grant)} core grant awarded"
        text = (f"In {y}, {share:.0%} of {of} goes to commissioned services (minimum {kappa:.0%} of the grant "
                f"{'claimed' if claimed else 'awarded'}, {money(need)}); headroom {money(head)}.")
        if row["core_unclaimed"] > 0.5:
            text += f" {money(row['core_unclaimed'])} of the {y} grant would not be claimed."
        ledger.append({
            "rule": "commissioning_minimum", "fy": y, "passed": head >= -TOL, "headroom": round(head, 2),
            "basis": sc.policy.commissioning_basis, "text": text,
        })
    for y, row in fy.items():
        for s, left in row["unspent_by_stream"].items():
            spent = row["spent_by_stream"].get(s, 0.0)
            if spent == 0 and left == 0:
                continue
            title = sc.funding[s].title or s
            ledger.append({
                "rule": "stream_budget", "fy": y, "stream": s, "passed": left >= -TOL, "headroom": round(left, 2),
                "text": f"In {y}, {title} spends {money(spent)}, within its amount ({money(left)} unspent; "
                        "no carry-over to the next year).",
            })
    for s, stream in sc.funding.items():
        if stream.kind != "ring_fenced" or s not in d.streams:
            continue
        f = funding[funding["stream"] == s]
        bad = sorted(set(f["intervention"]) - set(stream.eligible or []))
        ledger.append({
            "rule": "ring_fence", "stream": s, "passed": not bad, "headroom": None,
            "text": f"{stream.title or s} is spent only on {_titles(sc, stream.eligible or [])}."
            if not bad else f"{stream.title or s} was spent on ineligible services: {_titles(sc, bad)}.",
        })
    mandatory = [i for i, item in sc.interventions.items() if item.mandatory]
    for y, row in fy.items():
        if row["core_grant"] <= 0 or not mandatory:
            continue
        a = alloc[(alloc["fy"] == y) & alloc["intervention"].isin(mandatory)]
        ok = bool((a["running"] == 1).all())
        ledger.append({
            "rule": "central_capability_floor", "fy": y, "passed": ok, "headroom": None,
            "text": f"In {y} the mandatory central products (strategic needs assessment, response strategy, annual "
                    f"report, evaluation) are {'funded all year' if ok else 'NOT funded all year'}.",
        })
    broken = []
    for i, item in sc.interventions.items():
        if item.committed_until:
            a = alloc[(alloc["intervention"] == i) & (alloc["period"] <= item.committed_until)]
            if not (a["running"] == 1).all():
                broken.append(i)
    ledger.append({
        "rule": "committed_contracts", "passed": not broken, "headroom": None,
        "text": "Every committed contract runs to its committed month." if not broken
        else f"Committed contracts broken: {', '.join(broken)}.",
    })
    if d.underwriting:
        drawn = float(funding[funding["stream"] == d.underwriting]["amount"].sum())
        cap = sc.funding[d.underwriting].cap or 0.0
        ledger.append({
            "rule": "underwriting_cap", "passed": drawn <= cap + TOL, "headroom": round(cap - drawn, 2),
            "text": f"OPCC underwriting drawn: {money(drawn)} of a {money(cap)} cap.",
        })
    return ledger


RULE_WORDS = {
    "commissioning_minimum": "the commissioning minimum",
    "central_capability_floor": "the central capability floor (mandatory products, which the model gives no "
    "direct value)",
    "committed_contracts": "committed contracts",
    "notice_periods": "contract notice periods",
    "protected_services": "protecting the chosen services from closure",
}


def _titles(sc: Scenario, ids: list[str]) -> str:
    """Services by the titles people know them by (the ids stay in the ledger's own fields)."""
    return ", ".join(sc.interventions[i].title if i in sc.interventions else i for i in ids)


def rule_cost_texts(costs: list[dict[str, Any]]) -> list[str]:
    """What each rule costs over the plan, in words (from what-if re-solves)."""
    texts = []
    for c in costs:
        if c["rule"] == "commissioning_minimum" and c["cost"] == 0:
            continue  # the shadow prices already say the rule does not bind
        if c["rule"] == "central_capability_floor":
            texts.append(
                "The central capability floor (the central team and the mandatory products: needs assessment, "
                "response strategy, annual report, evaluation) is a condition of the grant that must be funded, "
                f"not a choice: the model gives it no direct value, so the {money(c['cost'])} of value the same "
                "money would buy on services is the price of the grant's conditions, not a cost the plan could avoid."
                if c["cost"] > 0 else "The central capability floor is a condition of the grant and is funded."
            )
            continue
        words = RULE_WORDS.get(c["rule"], c["rule"])
        rule = f"The rule of {words}" if c["rule"] == "protected_services" else words[:1].upper() + words[1:]
        verb = "cost" if c["rule"] in ("committed_contracts", "notice_periods") else "costs"
        if c["cost"] > 0:
            texts.append(f"{rule} {verb} {money(c['cost'])} of value over the plan "
                         "(the best plan without that rule would be worth that much more).")
        else:
            texts.append(f"{rule} {verb} nothing here: the best plan meets {'them' if verb == 'cost' else 'it'} "
                         "anyway.")
    return texts


GRANT_STEP = 1000.0  # £: the core grant's margins are measured over this much more and less (`lp_margins`)


def shadow_price_report(
    sc: Scenario, d: ModelData, m: pyo.ConcreteModel, duals: dict[Any, float], costs: list[dict] | None = None,
    margins: dict[str, tuple[float, float]] | None = None,
) -> dict:
    """Marginal values in words, from the LP with running decisions fixed: what one more pound of each
    stream is worth, and what the commissioning rule costs where it binds. `margins` ({FY: (a pound more, a
    pound less)} of core grant, `DirectSolver.lp_margins`) give the core grant's two sides; without them the
    dual stands for both, which it is not where the LP is degenerate."""
    margins = margins or {}
    if not duals:
        return {
            "available": False, "grant_value_per_pound": {}, "streams": {}, "commissioning_rule": {},
            "grant_value_of_a_pound_more": {}, "grant_cost_of_a_pound_less": {},
            "rule_costs": costs or [], "text": rule_cost_texts(costs or []),
        }
    first = d.outcomes[0].name
    kappa = sc.policy.commissioning_min_share
    required = {  # value lost per pound the commissioning minimum requires, by FY
        y: abs(duals.get(m.commissioning_minimum[first, y], 0.0))
        for y in d.fys
        if (first, y) in m.commissioning_minimum
    }
    streams: dict[str, dict[str, float]] = {}
    texts = []
    for s in d.streams:
        for y in d.fys:
            if (first, s, y) not in m.stream_budget:
                continue
            v = abs(duals.get(m.stream_budget[first, s, y], 0.0))
            if s == d.core and sc.policy.commissioning_basis == "awarded":
                v -= kappa * required.get(y, 0.0)  # the minimum grows with the grant awarded
            streams.setdefault(s, {})[y] = round(v, 4)
            if s == d.core and y in margins:
                more, less = margins[y]
                text = (f"One more pound of {y} core grant is worth £{more:,.2f} of value net of exit costs "
                        "and the disruption weight")
                if abs(more - less) >= 0.005:
                    text += f"; a pound less would cost £{less:,.2f}"
                texts.append(text + ".")
            elif s == d.core and d.grant(d.outcomes[0], y) <= GRANT_STEP:
                # the LP's price at no grant holds for no real grant: a grant brings its conditions with it (the
                # central capability floor), and grant_ends with £1 of 2022/23 grant has no lawful plan at all
                texts.append(f"There is no {y} core grant, so no value of a pound of it is given: a grant, however "
                             "small, would bring the grant's conditions with it.")
            elif s == d.core:
                texts.append(f"One more pound of {y} core grant is worth £{v:,.2f} of value net of exit costs and "
                             "the disruption weight.")
            elif v > 1e-6:
                texts.append(f"One more pound of {sc.funding[s].title or s} in {y} is worth £{v:,.2f} of value.")
    rule: dict[str, dict[str, float]] = {}
    for y, v in required.items():
        base = d.grant(d.outcomes[0], y)
        if sc.policy.commissioning_basis == "claimed":
            base = sum(float(var.value or 0.0) for (w, s, _i, t), var in m.spend.items()
                       if w == first and s == d.core and d.fy_of[t] == y)
        cost = v * kappa * base
        rule[y] = {"value_per_pound_required": round(v, 4), "cost": round(cost, 2)}
        if v > 1e-6:
            texts.append(f"The {kappa:.0%} commissioning rule binds in {y}: it costs about {money(cost)} of value "
                         f"(£{v:.2f} for each pound it requires).")
    if not any(r["value_per_pound_required"] > 1e-6 for r in rule.values()):
        texts.append(f"The {kappa:.0%} commissioning rule does not bind: the best plan exceeds it anyway.")
    texts.append(
        "These are values at the margin with the running services held as planned; a larger change in the "
        "grant can change which services run (the funding frontier shows that)."
    )
    return {
        "available": True,
        "grant_value_per_pound": streams.get(d.core, {}),
        # measured over GRANT_STEP either way on the same LP; the dual above is one of the two, or between them
        "grant_value_of_a_pound_more": {y: round(more, 4) for y, (more, _less) in margins.items()},
        "grant_cost_of_a_pound_less": {y: round(less, 4) for y, (_more, less) in margins.items()},
        "streams": streams,
        "commissioning_rule": rule,
        "rule_costs": costs or [],
        "text": texts + rule_cost_texts(costs or []),
    }


def make_result(
    sc: Scenario,
    d: ModelData,
    m: pyo.ConcreteModel,
    status: Status,
    res: Any,
    duals: dict[Any, float],
    explanation: dict[str, Any] | None,
    timings: dict[str, float],
    rule_costs: list[dict[str, Any]] | None = None,
    margins: dict[str, tuple[float, float]] | None = None,
) -> Result:
    has_plan = status in (Status.OPTIMAL, Status.TIME_LIMIT)
    if has_plan:
        plans, fplans = plan_tables(sc, d, m)
    else:
        plans = pd.DataFrame(columns=["outcome", *ALLOCATION_COLUMNS])
        fplans = pd.DataFrame(columns=["outcome", *FUNDING_COLUMNS])
    first = d.outcomes[0].name
    alloc = plans[plans["outcome"] == first].drop(columns="outcome").reset_index(drop=True)
    funding = fplans[fplans["outcome"] == first].drop(columns="outcome").reset_index(drop=True)
    grant = {y: d.grant(d.outcomes[0], y) for y in d.fys}
    if sc.policy.objective == "min_grant" and has_plan:
        grant = {y: round(_val(m.grant_needed[y]), 2) for y in d.fys}
    objective = float(pyo.value(m.objective)) if has_plan else None
    fy = fy_summary(sc, d, alloc, funding, grant)
    closed = closures(sc, alloc) if has_plan else []
    parts = ObjectiveParts.of(m).totals() if has_plan else {}
    by = {}
    if has_plan:
        enriched = alloc.assign(
            system=alloc["intervention"].map(lambda i: sc.interventions[i].system),
            area=alloc["intervention"].map(lambda i: sc.interventions[i].area),
        )
        for key in ("intervention", "system", "area"):
            g = enriched.groupby(key, sort=True)[["participants", "value", "vru_spend"]].sum().round(2)
            by[key] = {str(k): {c: float(v) for c, v in row.items()} for k, row in g.iterrows()}
    summary: dict[str, Any] = {
        "scenario": sc.name,
        "title": sc.title,
        "status": status.value,
        "status_text": status_text(status, res),
        # the plan to act on: the cliff-edge plan (cliff_edge.json) when a year's grant is uncertain
        "plan_of_record": "cliff_edge" if sc.uncertainty is not None else "plan",
        "objective": round(objective, 2) if objective is not None else None,
        "objective_sense": "least core grant (GBP)" if sc.policy.objective == "min_grant"
        else "discounted social value minus exit costs and the disruption weight (GBP)",
        "mip_gap": mip_gap(res),
        "solve_seconds": round(timings["solve_seconds"], 4),
        "build_seconds": round(timings["build_seconds"], 4),
        "horizon": {"start": d.months[0], "end": d.months[-1], "months": len(d.months)},
        "fy": fy,
        "closures": closed,
        "totals": {
            "value": round(float(alloc["value"].sum()), 2) if has_plan else None,
            "value_discounted": parts.get("value_discounted"),
            "participants": round(float(alloc["participants"].sum()), 1) if has_plan else None,
            "services": len(sc.interventions),
            "services_closed": closure_count(closed),
            "exit_costs": round(float(alloc["exit_cost"].sum()), 2) if has_plan else None,
            # the objective's parts in today's money: value_discounted less these (and the tie-break's pennies)
            "exit_costs_discounted": parts.get("exit_costs_discounted"),
            "disruption_weight": parts.get("disruption_weight"),
            "penalty_weights": parts.get("penalty_weights"),
        },
        "value_definitions": VALUE_DEFINITIONS,
        "by": by,
        "shadow_prices": shadow_price_report(sc, d, m, duals, rule_costs, margins) if has_plan
        else {"available": False, "text": []},
        "compliance": compliance(sc, d, alloc, funding, fy) if has_plan else [],
        "explanation": explanation,
        "provenance": provenance(sc),
    }
    return Result(sc, status, objective, alloc, funding, summary, plans)
