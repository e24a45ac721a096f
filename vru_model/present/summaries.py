"""What a batch's summary files say: the figures and sentences the index, the workbook and the reports share.

Read from summary.json and cliff_edge.json as the batch wrote them, so every page that shows a scenario's
headline, or its cliff-edge plan in a sentence, shows the same figures in the same words.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from vru_model.analysis.states import closure_count
from vru_model.core.periods import month_name
from vru_model.core.text import money, plural
from vru_model.present.narrative import common_reductions, core_grant_total, has_plan

UNDISCOUNTED = "undiscounted"
OBJECTIVE = "in today's money"


def status_label(status: str) -> str:
    return {"optimal": "Plan found", "infeasible": "No possible plan (infeasible)",
            "time_limit": "Plan found (solver time limit reached)", "error": "Solver failed"}.get(status, status)


def load_summaries(output_dir: str, names: Sequence[str] | None = None) -> list[dict[str, Any]]:
    """The summaries of the named scenarios, in that order; by default every scenario under OUTPUT_DIR."""
    out = Path(output_dir)
    if names is None:
        names = sorted(p.parent.name for p in out.glob("*/summary.json"))
    found = []
    for name in names:
        path = out / name / "summary.json"
        if path.is_file():
            found.append(json.loads(path.read_text(encoding="utf-8")))
    return found


def read_cliff_edge(folder: Path, summary: dict[str, Any] | None = None) -> dict[str, Any] | None:
    """cliff_edge.json next to a scenario's results, when it was made from the same inputs as its summary."""
    try:
        cliff = json.loads((folder / "cliff_edge.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    mine = (cliff.get("provenance") or {}).get("input_hash")
    if summary is not None and mine != (summary.get("provenance") or {}).get("input_hash"):
        return None
    return cliff


def headline(summary: dict[str, Any]) -> dict[str, Any]:
    """The handful of figures an index or a spreadsheet shows for one scenario."""
    fy = summary.get("fy", {})
    shares = [row["commissioned_share"] for row in fy.values() if row.get("commissioned_share") is not None]
    totals = summary.get("totals", {})
    planned = has_plan(summary)
    core = next(iter(summary.get("fy", {}).values()), {}).get("spent_by_stream", {})
    core_stream = next(iter(core), None)
    unspent = sum(row["unspent_by_stream"].get(core_stream, 0.0) for row in fy.values()) if core_stream else 0.0
    return {
        "status": summary.get("status", "unknown"),
        "core_grant_total": core_grant_total(summary),
        "value": totals.get("value") if planned else None,
        "participants": totals.get("participants") if planned else None,
        "services": totals.get("services"),
        "services_closed": totals.get("services_closed") if planned else None,
        "exit_costs": totals.get("exit_costs") if planned else None,
        "lowest_commissioned_share": min(shares) if shares and planned else None,
        "unspent_core_grant": round(unspent, 2) if planned else None,
    }


def is_cliff_edge(summary: dict[str, Any]) -> bool:
    """Whether the scenario's plan of record (summary.json `plan_of_record`) is its cliff-edge plan."""
    return summary.get("plan_of_record") == "cliff_edge"


def record_headline(summary: dict[str, Any], cliff: dict[str, Any] | None) -> dict[str, Any]:
    """The headline of the plan of record: `headline` for a plan; for a cliff-edge plan the same keys, each
    outcome's figure weighted by its probability (`expected`), and the closures over the whole plan counted once
    each by outcome (`closed_by_outcome`, least to most)."""
    h = headline(summary)
    if not is_cliff_edge(summary) or not cliff or not has_plan(cliff) or not cliff.get("outcomes"):
        return h | {"expected": False}
    outcomes = cliff["outcomes"]
    unc = cliff.get("uncertainty") or {}

    def expected(figure: Any) -> float:
        return round(sum(o["probability"] * figure(o) for o in outcomes), 2)

    grant = sum(row["core_grant"] for y, row in summary.get("fy", {}).items() if y != unc.get("fy"))
    closed = sorted(closure_count(o.get("closures") or []) for o in outcomes)
    return h | {
        "status": cliff.get("status", h["status"]),
        "core_grant_total": round(grant + expected(lambda o: o["grant"]), 2),
        "value": expected(lambda o: o["value"]),
        "participants": None,
        "services_closed": closed[0],
        "closed_by_outcome": closed,
        "exit_costs": expected(lambda o: sum(c.get("exit_cost", 0.0) for c in o.get("closures") or [])),
        "lowest_commissioned_share": None,
        "unspent_core_grant": expected(lambda o: sum((o.get("core_unspent") or {}).values())),
        "expected": True,
    }


def closed_text(h: dict[str, Any]) -> str:
    """'12 of 25', or for a cliff-edge plan '4 to 25 of 25 (by grant outcome)'."""
    if h.get("services_closed") is None:
        return "–"
    by = h.get("closed_by_outcome")
    if by and by[0] != by[-1]:
        return f"{by[0]} to {by[-1]} of {h['services']} (by grant outcome)"
    return f"{h['services_closed']} of {h['services']}"


def outcome_name(o: dict[str, Any]) -> str:
    """A grant outcome of the cliff-edge plan as a reader says it: "the grant ends"."""
    return f"the grant {o['label']}" if o.get("label") else o["name"].replace("_", " ")


def cliff_headline(cliff: dict[str, Any] | None) -> dict[str, Any] | None:
    """The cliff-edge plan's headline (from cliff_edge.json), or None when there is no two-stage plan."""
    if not cliff or not has_plan(cliff) or not cliff.get("outcomes"):
        return None
    worst = min(cliff["outcomes"], key=lambda o: (o["grant"], o.get("objective", 0.0)))
    here = cliff.get("here_and_now") or {}
    unc = cliff.get("uncertainty") or {}

    def counts(o: dict[str, Any]) -> dict[str, Any]:
        """Closures over the whole plan (as a plan with every grant known counts them) and cuts of services that
        do not close, in one outcome's plan."""
        closing = {c["intervention"] for c in o.get("closures") or []}
        cut = {r["intervention"] for r in o.get("reductions") or []} - closing
        return {"name": outcome_name(o), "closes": closure_count(o.get("closures") or []), "reduces": len(cut)}

    return {
        "fy": unc.get("fy", ""),
        "confirmed_month": unc.get("confirmed_month"),
        "expected_value": cliff.get("expected_value"),
        "services": len(here.get("services", [])),
        "notices_now": len(here.get("notices", [])),
        "variations_now": len(common_reductions(cliff["outcomes"], unc.get("confirmed_month"))),
        "closed_everywhere": len(cliff.get("closed_in_every_outcome") or []),
        "by_outcome": [counts(o) for o in cliff["outcomes"]],
        "no_regret_core": len(cliff.get("no_regret_core") or []),
        "worst": worst.get("label") or worst["name"].replace("_", " "),
        "worst_grant": worst["grant"],
        "worst_underwriting": worst.get("underwriting_drawn", 0.0),
        "worst_liability": worst.get("unfunded_liability", 0.0),
    }


def now_text(c: dict[str, Any]) -> str:
    """What to do before the grant is confirmed, in a few words."""
    when = f"before {month_name(c['confirmed_month'])}" if c.get("confirmed_month") else "before confirmation"
    variations = c.get("variations_now", 0)
    cuts = f"notice of variation on {plural(variations, 'service')}" if variations else ""
    if c["notices_now"]:
        return (f"serve notice on {plural(c['notices_now'], 'service')}{f' and {cuts}' if cuts else ''} {when}, "
                "whatever the grant")
    if cuts:
        return f"serve {cuts} {when}, whatever the grant; every closure can wait until the grant is known"
    return f"serve no notices {when}: every closure can wait until the grant is known"


def closing_counts(c: dict[str, Any]) -> str:
    """'closes if the grant ends: 23; if it is cut by 25%: 4; if it continues in full: 0'."""
    return "; ".join(f"{o['name']}: {o['closes']} close" + (f", {o['reduces']} reduced" if o["reduces"] else "")
                     for o in c["by_outcome"])


def cliff_text(c: dict[str, Any]) -> str:
    """The cliff-edge headline in one sentence, for the index and the comparison: what to do now first."""
    liability = (f"an unfunded liability of {money(c['worst_liability'])}" if c["worst_liability"] > 0.5
                 else "no unfunded liability")
    return (f"Cliff-edge plan ({c['fy']} grant uncertain): now, {now_text(c)}. Services by grant outcome: "
            f"{closing_counts(c)}. Expected value {money(c['expected_value'])} ({OBJECTIVE}, after underwriting "
            f"and liability penalties); if the grant {c['worst']} ({money(c['worst_grant'])}): "
            f"{money(c['worst_underwriting'])} underwriting drawn and {liability}.")


def cliff_rows(c: dict[str, Any]) -> list[list[str]]:
    """The cliff-edge headline as rows of figures, what to do now first."""
    now = now_text(c)
    rows = [["What to do now", now[:1].upper() + now[1:]]]
    rows += [[f"Services that close over the plan if {o['name']}", f"{o['closes']} of {c['services']}"
              + (f" ({o['reduces']} more reduced)" if o["reduces"] else "")] for o in c["by_outcome"]]
    return [
        *rows,
        ["Expected value after underwriting and liability penalties (discounted)", money(c["expected_value"])],
        ["No-regret core (services running all year in every outcome)", f"{c['no_regret_core']} of {c['services']}"],
        [f"Underwriting drawn if the grant {c['worst']} ({money(c['worst_grant'])})", money(c["worst_underwriting"])],
        [f"Unfunded liability if the grant {c['worst']}", money(c["worst_liability"])],
    ]
