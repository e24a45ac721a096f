"""The cliff-edge section: the plan made for every grant outcome at once, when next year's grant is confirmed late."""

from __future__ import annotations

from typing import Any

from vru_model.analysis.states import closure_count
from vru_model.core.periods import month_name
from vru_model.core.text import money, plural
from vru_model.present import charts
from vru_model.present.narrative import words
from vru_model.present.reports.fragments import Html, bullets, esc, figure_text, one_line, para, table
from vru_model.present.summaries import OBJECTIVE, UNDISCOUNTED, outcome_name


def describe_cliff_edge(summary: dict[str, Any]) -> list[object]:
    """The cliff-edge plan in full, for its fold (what to do now is `cliff_first`, at first sight): each service in
    each grant outcome (a table), counts per outcome, and what the uncertainty costs (VSS, EVPI) split into value
    and penalty weights."""
    if summary.get("status") not in ("optimal", "time_limit"):
        why = (summary.get("explanation") or {}).get("text", "")
        return [para("The cliff-edge plan has no solution:", summary.get("status_text", ""), why)]
    sentences = summary.get("sentences") or []
    here = summary.get("here_and_now") or {}
    out: list[object] = [para(sentences[0])] if sentences else []
    outcomes = summary.get("outcomes") or []
    services = summary.get("services_by_outcome") or []
    if outcomes and services:
        out += _services_by_outcome(summary, outcomes, services, here.get("confirmed_month") or "")
    out += _uncertainty_costs(summary)
    if outcomes:
        out += _outcome_plans(outcomes)
    core = summary.get("no_regret_core") or []
    if core:
        n = len(core)
        out += [para(f"The no-regret core: {words(n)} service{'s run' if n != 1 else ' runs'} all year whatever the "
                     "grant turns out to be."), Html("<details><summary>Show the no-regret core</summary>"
                                     + bullets(c.get("title", c.get("intervention", "")) for c in core)
                                     + "</details>")]
    if len(sentences) > 1:
        out.append(Html("<details><summary>The plan in sentences (notices, underwriting, liability)</summary>"
                        + bullets(sentences[1:]) + "</details>"))
    return out


def cliff_first(summary: dict[str, Any]) -> list[object]:
    """The cliff-edge plan at first sight: what to do now, each notice to serve whatever the grant with its reason
    in one line, then what follows in each grant outcome (the by-outcome table and the rest are folded)."""
    if summary.get("status") not in ("optimal", "time_limit"):
        return []
    here = summary.get("here_and_now") or {}
    outcomes = summary.get("outcomes") or []
    confirmed = here.get("confirmed_month") or ""
    reasons = {x["intervention"]: x.get("reason", "") for o in outcomes for x in o.get("closures") or []}
    out = _what_to_do_now(here)
    notices = here.get("notices") or []
    if notices:
        out.append(table([[n["title"], month_name(n["notice_by"]), month_name(n["closes_from"]),
                           one_line(reasons.get(n["intervention"], ""))] for n in notices],
                         ["Service", "Serve notice by", "Closes from", "Why, in one line"],
                         "Services that close whatever the grant, and when notice must be served",
                         [False, False, False, False]))
    then = []
    for o in outcomes:
        later = [c for c in o.get("closures") or [] if c["notice_by"] >= confirmed]
        by = sorted({c["notice_by"] for c in later})
        then.append(f"If {outcome_name(o)} ({o['probability']:.0%} chance): "
                    + (f"serve notice on {plural(len(later), 'more service')} by {month_name(by[0])}"
                       if later else "no more notices") + f"; {closure_count(o.get('closures') or [])} of "
                    f"{len(here.get('services', []))} services close over the plan.")
    out += [para(f"Once the grant is known in {month_name(confirmed) if confirmed else 'the confirmation month'}:"),
            bullets(then), *[para(t) for t in unspent_texts(outcomes, confirmed)]]
    return out


def _what_to_do_now(here: dict[str, Any]) -> list[object]:
    """The decisions taken before the grant is confirmed: the notices (listed in a table below), contracts let below
    design scale, the rest kept."""
    conf = month_name(here["confirmed_month"]) if here.get("confirmed_month") else "confirmation"
    notices = here.get("notices", [])
    now = [f"Serve notice on the {plural(len(notices), 'service')} in the table below, whatever the grant."
           ] if notices else []
    lower = [f"{x['title']} ({x['scale_min']:.0%})" for x in here.get("services", [])
             if x.get("runs_until_confirmation") and x.get("scale_min", 1.0) < 0.995]
    if lower:
        now.append("Let these contracts below design scale for the year: " + ", ".join(lower) + ".")
    kept = sum(1 for x in here.get("services", []) if x.get("runs_until_confirmation"))
    now.append(f"Keep {plural(kept, 'service')} running until the grant is confirmed in {conf}"
               + ("; serve no other notices before then." if now else "; serve no notices before then."))
    return [para(f"What to do now, before {conf}:"), bullets(now)]


def _services_by_outcome(summary: dict[str, Any], outcomes: list[dict[str, Any]], services: list[dict[str, Any]],
                         confirmed: str) -> list[object]:
    """Each service in each grant outcome (a table), why, how many close in each, and grant left unspent."""
    names = [o["name"] for o in outcomes]
    order = sorted(services, key=lambda r: (-sum(r["outcomes"][n]["status"] != "keeps" for n in names),
                                            r["title"]))
    out: list[object] = [table(
        [[r["title"], *[_state_text(r["outcomes"][n]) for n in names]] for r in order],
        ["Service", *[f"If {outcome_name(o)} ({o['probability']:.0%})" for o in outcomes]],
        "Each service in each grant outcome, from the uncertain year on", [False] * (len(names) + 1))]
    out.append(_cliff_reasons(outcomes, confirmed))
    # the table's counts, from the uncertain year on; closures before it are the same in every outcome
    counts = summary.get("counts_by_outcome") or {}
    fy = (summary.get("uncertainty") or {}).get("fy", "the uncertain year")
    def later(n: dict[str, int]) -> int:  # closures from the uncertain year on (an older file counted only those)
        return n.get("closes_from_uncertain_year", n.get("closes", 0))

    earlier = {closure_count(o.get("closures") or []) - later(counts.get(o["name"], {})) for o in outcomes}

    def tally(o: dict[str, Any]) -> str:
        n = counts.get(o["name"], {})
        return (f"if {outcome_name(o)}, {later(n)} close, {n.get('reduces', 0)} are reduced, "
                f"{n.get('keeps', 0)} keep their scale"
                + (f", {n['starts']} start{'s' if n['starts'] == 1 else ''}" if n.get("starts") else ""))

    out.append(para(f"In the table, from {fy} on: " + "; ".join(tally(o) for o in outcomes) + "."
                    + (f" {plural(next(iter(earlier)), 'more service', 'closes')} before {fy} in every "
                       "outcome (not in the table)." if len(earlier) == 1 and next(iter(earlier)) > 0 else "")))
    return out


def unspent_texts(outcomes: list[dict[str, Any]], confirmed: str) -> list[str]:
    """Grant an outcome's plan leaves unspent, and why, in the same sentence: the contracts for the uncertain year
    are let before the grant is known, at what every outcome can afford."""
    when = month_name(confirmed) if confirmed else "the grant is confirmed"
    return [f"If {outcome_name(o)}, " + " and ".join(f"{money(v)} of the {y} core grant" for y, v in
                                                    o["core_unspent"].items())
            + f" goes unspent, because the contracts for that year are let, and services closed, before {when}, at "
            "what every grant outcome can afford, and those closed cannot come back in time to spend it; nothing "
            "carries over to a later year." for o in outcomes if o.get("core_unspent")]


def _uncertainty_costs(summary: dict[str, Any]) -> list[object]:
    """What the uncertainty costs (EVPI) and what planning for it gains (VSS), in value and penalty weights."""
    vss = "unbounded (planning for the average grant leaves some outcome with no lawful plan)" if summary.get(
        "vss_unbounded") else figure_text(summary.get("vss"))
    rows = [["Expected value after underwriting and liability penalties (discounted)",
             figure_text(summary.get("expected_value"))],
            ["Expected value if the grant were known from the start", figure_text(summary.get("wait_and_see"))],
            ["What knowing the grant from the start would be worth (EVPI)", figure_text(summary.get("evpi"))],
            ["What planning for every outcome gains over planning for the average grant (VSS)", vss]]
    out: list[object] = [table(rows, ["Figure", "Value"], "Cliff-edge plan: what the uncertainty costs",
                               [False, True])]
    split = " ".join(t for t in (_breakdown_text(summary.get("vss_breakdown"), "VSS"),
                                 _breakdown_text(summary.get("evpi_breakdown"), "EVPI")) if t)
    if split:
        out.append(para(split))
    return out


def _outcome_plans(outcomes: list[dict[str, Any]]) -> list[object]:
    """Each grant outcome's plan in figures, and its social value as a chart."""
    names = [outcome_name(o) for o in outcomes]
    values = [float(o["value"]) for o in outcomes]
    return [
        table([[outcome_name(o), f"{o['probability']:.0%}", money(o["grant"]), money(o["value"]),
                figure_text(o.get("objective")), f"{len(o.get('closures', []))}",
                money(o.get("underwriting_drawn", 0.0)), money(o.get("unfunded_liability", 0.0))] for o in outcomes],
              ["Grant outcome", "Probability", "Grant", "Social value (undiscounted)",
               f"Value net of costs ({OBJECTIVE})", "Services closing", "Underwriting drawn", "Unfunded liability"],
              "Each grant outcome's plan", [False] + [True] * 7),
        charts.horizontal_bars(
            [(f"Social value by grant outcome ({UNDISCOUNTED})", names, values)],
            alt=f"Bar chart of the plan's social value ({UNDISCOUNTED}) under each grant outcome: " + ", ".join(
                f"{n} {money(v)} (probability {o['probability']:.0%})" for n, v, o in zip(names, values, outcomes,
                                                                                          strict=True)) + ".",
            caption=f"Social value ({UNDISCOUNTED}) of the cliff-edge plan under each grant outcome."),
    ]


def _state_text(state: dict[str, Any]) -> str:
    """One cell of the outcomes-by-service table."""
    if state["status"] == "closes":
        return (f"closes from {month_name(state['closes_from'])} (notice by {month_name(state['notice_by'])})")
    if state["status"] == "reduces":
        again = (f", then {state['then']:.0%} from {month_name(state['until'])}" if state.get("until") else "")
        return f"reduces to {state['scale']:.0%}{again}"
    if state["status"] == "keeps":
        return f"keeps ({state['scale']:.0%})"
    if state["status"] == "starts":
        return f"starts from {month_name(state['from'])} ({state['scale']:.0%})"
    return state["status"]


def _breakdown_text(parts: dict[str, float] | None, name: str) -> str:
    if not parts:
        return ""
    value = parts.get("social_value", 0.0)
    penalties = parts.get("underwriting_penalty", 0.0) + parts.get("unfunded_liability_penalty", 0.0)
    losses = parts.get("exit_and_disruption", 0.0)
    return (f"Of the {name}, {money(value)} is social value, {money(losses)} exit costs and the disruption weight, and "
            f"{money(penalties)} the model's penalty weights on underwriting and unfunded liability (a weight, "
            "not money).")


def _cliff_reasons(outcomes: list[dict[str, Any]], confirmed: str) -> Html:
    """Why each service closes or is reduced, and what keeping it would cost: the decisions taken before the
    grant is known once (they are the same in every outcome), then each outcome's own."""

    def item(x: dict[str, Any]) -> str:
        # a measured cost to keep is the reason's last sentence; say so where it was not measured
        unmeasured = "" if x.get("cost_to_keep") is not None else (
            f" <em>Cost to keep: {esc(x.get('cost_to_keep_note', 'not measured'))}.</em>")
        return f'<p class="reason"><strong>{esc(x["title"])}.</strong> {esc(x.get("reason", ""))}{unmeasured}</p>'

    def changes(o: dict[str, Any]) -> list[dict[str, Any]]:
        return [*o.get("closures", []), *o.get("reductions", [])]

    before: dict[tuple[str, str], dict[str, Any]] = {}
    for o in outcomes:
        for x in changes(o):
            if x["notice_by"] < confirmed:
                before.setdefault((x["intervention"], x.get("closes_from", x.get("from", ""))), x)
    parts = []
    if before:
        parts.append(f"<h3>Decided before the grant is confirmed in {esc(month_name(confirmed))} (every outcome)</h3>"
                     + "".join(item(x) for x in before.values()))
    for o in outcomes:
        after = [x for x in changes(o) if x["notice_by"] >= confirmed]
        if after:
            parts.append(f"<h3>If {esc(outcome_name(o))}</h3>" + "".join(item(x) for x in after))
    if not parts:
        return Html("")
    return Html("<details><summary>Why each service closes or is reduced, and what keeping it would cost"
                "</summary>" + "".join(parts) + "</details>")
