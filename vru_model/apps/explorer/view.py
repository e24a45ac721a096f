"""What the explorer shows, as data: each service's fate in a plan and the spend by year (HTML is rendered from it)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from vru_model.analysis import ranges as room
from vru_model.analysis.results import Result
from vru_model.analysis.states import closure_count
from vru_model.apps.explorer.words import month_label
from vru_model.core.text import money
from vru_model.present.charts import Chart
from vru_model.present.reports.robustness import range_chart
from vru_model.scenario.schema import Scenario


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
class Notice:
    title: str
    notice_by: str
    closes_from: str


@dataclass(frozen=True)
class OutcomeRow:
    """One grant outcome of the cliff-edge plan, in the director's words (never the scenario's outcome id)."""

    words: str  # "if the 2022/23 grant is cut by 25% (£2.48m)"
    probability: float
    value: float  # the objective of this outcome's plan
    closes: int  # services the plan closes, over the whole plan (`closure_count`, as every surface counts them)
    closing: list[str]  # their titles
    notices_now: int  # notices served before the grant is known (the same in every outcome)
    notices_later: list[Notice]  # notices served once the grant is known


@dataclass(frozen=True)
class CliffEdgeView:
    """The cliff-edge plan as the explorer shows it: the plan to act on while the grant is uncertain."""

    fy: str
    known_in: str  # the month the grant becomes known
    expected_value: float | None
    status_text: str
    outcomes: list[OutcomeRow]
    notices_now: list[Notice]  # to serve before the grant is known, whatever it turns out to be
    sentences: list[str]  # the rest of the plan in sentences (underwriting, liability, what planning is worth)

    @property
    def optimal(self) -> bool:
        return self.expected_value is not None


def cliff_edge_view(found: Any) -> CliffEdgeView:
    """A `CliffEdgeResult` as the explorer shows it."""
    sc = found.scenario
    unc = sc.uncertainty
    if not found.optimal:
        return CliffEdgeView(unc.fy, unc.confirmed_month, None, found.summary.get("status_text", ""), [], [],
                             list(found.sentences))
    conf = found.here_and_now.get("confirmed_month") or unc.confirmed_month
    rows = []
    for r in found.outcomes:
        closing = dict.fromkeys(c["intervention"] for c in r["closures"])
        later = [Notice(c["title"], c["notice_by"], c["closes_from"]) for c in r["notices_after_confirmation"]]
        rows.append(OutcomeRow(
            f"if the {unc.fy} grant {r['label']} ({money(r['grant'])})" if r["grant"] > 0.5 else
            f"if the {unc.fy} grant {r['label']}",
            r["probability"], r["objective"], closure_count(r["closures"]),
            [sc.interventions[i].title for i in closing],
            len({c["intervention"] for c in r["closures"] if c["notice_by"] < conf}), later,
        ))
    now = [Notice(n["title"], n["notice_by"], n["closes_from"]) for n in found.here_and_now["notices"]]
    return CliffEdgeView(unc.fy, conf, found.expected_value, found.summary.get("status_text", ""), rows, now,
                         list(found.sentences))


@dataclass(frozen=True)
class RoomRow:
    """One service's service-years in the best plan and the least and most within each epsilon."""

    title: str
    best: float
    bounds: list[tuple[float, float]]  # (least, most), one per epsilon, smallest epsilon first


@dataclass(frozen=True)
class RoomView:
    """Each service's room within a few percent of the best value (ranges.csv, as `vru robustness` writes it)."""

    epsilons: list[float]
    rows: list[RoomRow]
    sentences: list[str]  # the board's question answered: must run in every near plan; could close cheaply
    chart: Chart | None
    status_text: str  # why there are no ranges, when there are none
    seconds: float


def room_view(sc: Scenario, found: room.Ranges, seconds: float) -> RoomView:
    """`ranges.room_within`'s table as the explorer shows it: the report's range chart and sentences, and the
    figures per service."""
    table = found.table
    if not found.optimal or table.empty:
        return RoomView([], [], [], None, f"No best plan to measure room around ({found.base_status.value}).",
                        seconds)
    epsilons = sorted(float(e) for e in table["epsilon"].unique())
    rows = []
    for i, part in table.groupby("intervention", sort=False):
        part = part.sort_values("epsilon")
        rows.append(RoomRow(sc.interventions[str(i)].title, float(part["best_service_years"].iloc[0]),
                            list(zip(part["min_service_years"].astype(float), part["max_service_years"].astype(float),
                                     strict=True))))
    return RoomView(epsilons, rows, room.sentences(sc, table), range_chart(sc, table), "", seconds)


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
    cliff_edge: CliffEdgeView | None = None  # the two-stage plan, when asked for: then the plan to act on
    room: RoomView | None = None  # each service's room within 1%, 2% and 5% of the best value, when asked for
    as_of: str | None = None  # the last month of actual spend, when the plan is re-planned from actuals
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


def service_rows(scenario: Scenario, result: Result) -> list[ServiceRow]:
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


def spend_by_year(scenario: Scenario, result: Result) -> dict[str, dict[str, Any]]:
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

