"""The cliff-edge plan in sentences a director can act on: what to do before the grant is confirmed, what each
outcome then needs, and what the uncertainty is worth."""

from __future__ import annotations

from typing import Any

from vru_model.core import periods
from vru_model.core.text import money, plural
from vru_model.model.data import ModelData
from vru_model.scenario.schema import Scenario


def _titles(sc: Scenario, names: list[str]) -> str:
    return ", ".join(sc.interventions[i].title for i in names) or "none"


def _if(r: dict[str, Any]) -> str:
    return f"If the grant {r['label']} ({money(r['grant'])})"


def sentences(
    sc: Scenario,
    d: ModelData,
    here: dict[str, Any],
    reports: list[dict[str, Any]],
    core: list[str],
    figures: dict[str, Any],
) -> list[str]:
    unc = sc.uncertainty
    assert unc is not None
    conf = periods.month_name(d.confirmation_month) if d.confirmation_month else "the confirmation month"
    out = [
        f"The {unc.fy} grant is not known until {conf}. It may be that the grant "
        + "; or ".join(f"{r['label']} ({money(r['grant'])}, {r['probability']:.0%} chance)" for r in reports) + ".",
        f"The plan's expected value after underwriting and liability penalties (discounted) is "
        f"{money(figures['expected_value'])}.",
    ]
    start = periods.month_name(here["from"]) if here["from"] else ""
    kept = [s for s in here["services"] if s["runs_until_confirmation"]]
    others = [s["intervention"] for s in here["services"] if not s["runs_until_confirmation"]]
    if here["from"] and kept and len(others) < len(kept):
        out.append(
            f"From {start} until the grant is confirmed in {conf}, whatever happens, keep running "
            + (f"every service except: {_titles(sc, others)}." if others else "every service.")
        )
    elif here["from"] and kept:
        out.append(
            f"From {start} until the grant is confirmed in {conf}, whatever happens, keep running: "
            f"{_titles(sc, [s['intervention'] for s in kept])}."
        )
    reduced = [f"{s['title']} ({s['scale_min']:.0%})" for s in kept if s["scale_min"] < 0.995]
    if reduced:
        out.append(
            f"Let these {unc.fy} contracts below design scale in April, before the grant is known (the scale "
            f"holds for the whole year): {', '.join(reduced)}."
        )
    for n in here["notices"]:
        out.append(
            f"Serve notice on {n['title']} by {periods.month_name(n['notice_by'])} whatever happens: it closes from "
            f"{periods.month_name(n['closes_from'])} in every outcome."
        )
    if not here["notices"]:
        out.append(f"Serve no notices before {conf}: every closure can wait until the grant is known.")
    for r in reports:
        later = r["notices_after_confirmation"]
        if not later:
            out.append(f"{_if(r)}, no further notices are needed.")
            continue
        groups: dict[str, list[str]] = {}
        for c in later:
            closes = periods.month_name(c["closes_from"])
            groups.setdefault(c["notice_by"], []).append(f"{c['title']} (closes from {closes})")
        for by, closing in sorted(groups.items()):
            out.append(f"{_if(r)}, serve notice by {periods.month_name(by)} on {', '.join(closing)}.")
    if core:
        out.append(
            f"No-regret core: {plural(len(core), 'service')} {'runs' if len(core) == 1 else 'run'} all through "
            f"{unc.fy} in every outcome: {_titles(sc, core)}."
        )
    else:
        out.append(f"No service runs all through {unc.fy} in every outcome.")
    cap = sc.funding[d.underwriting].cap if d.underwriting else None
    for r in reports:
        if r["underwriting_drawn"] > 0:
            out.append(
                f"{_if(r)}, {money(r['underwriting_drawn'])} of "
                f"{sc.funding[d.underwriting].title or d.underwriting} is drawn (cap {money(cap or 0)}) "
                f"for spending before {conf} and the notice periods of services stopped then."
            )
    owing = [r for r in reports if r["unfunded_liability"] > 0]
    for r in owing:
        out.append(
            f"{_if(r)}, {money(r['unfunded_liability'])} of {unc.fy} spending has no funding "
            f"(unfunded liability: {money(r['unfunded_liability_before_confirmation'])} before {conf}, "
            f"{money(r['unfunded_liability_after_confirmation'])} from {conf} on, for services still on notice "
            "or kept for later years); serving notice earlier would avoid it but costs value in the other outcomes."
        )
    if not owing:
        out.append("No outcome leaves an unfunded liability.")
    if figures.get("vss") is not None:
        out.append(
            f"Planning for these outcomes instead of for the expected grant ({money(figures['expected_grant'])}) "
            f"is worth {money(figures['vss'])} of expected value (VSS, discounted){_weights(figures, 'vss')}."
        )
    elif figures.get("eev_status") not in (None, "optimal", "not computed"):
        out.append(
            f"Planning for the expected grant ({money(figures['expected_grant'])}) would leave some outcome "
            f"without a lawful plan ({figures['eev_status']}); planning for the outcomes avoids that."
        )
    if figures.get("evpi") is not None:
        out.append(
            f"Knowing the {unc.fy} grant from the start ({periods.month_name(d.months[0])}) instead of in {conf} "
            f"would be worth {money(figures['evpi'])} of expected value (EVPI, discounted){_weights(figures, 'evpi')}."
        )
    return out


def _weights(figures: dict[str, Any], name: str) -> str:
    """VSS or EVPI split into money (social value, exit costs and disruption) and the model's penalty weights
    on underwriting and unfunded liability, when the weights are a visible part of it: the expected value
    counts those at their weights, so the figure alone would read as money it is not."""
    parts = figures.get(f"{name}_breakdown") or {}
    weights = parts.get("underwriting_penalty", 0.0) + parts.get("unfunded_liability_penalty", 0.0)
    if abs(weights) < 0.01 * max(1.0, abs(figures.get(name) or 0.0)):
        return ""
    real = parts.get("social_value", 0.0) + parts.get("exit_and_disruption", 0.0)
    money_part = (f"{money(real)} in social value, exit costs and disruption" if real >= 0 else
                  f"a loss of {money(-real)} in social value, exit costs and disruption")
    return (f": {money_part}, {'and' if weights > 0 else 'against'} {money(abs(weights))} "
            f"{'less' if weights > 0 else 'more'} of the model's penalty weights on underwriting and unfunded "
            "liability (weights, not money)")
