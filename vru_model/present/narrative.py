"""Plain-English sentences about a solved scenario, built from its summary alone.

Kept apart from the HTML in `vru_model.present.reports` so the words can be read, tested and reused
without any page around them; `reports` escapes whatever it takes from here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from vru_model.core.periods import month_name
from vru_model.core.text import money

NUMBER_WORDS = ["no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve"]


def words(n: int) -> str:
    """Small counts in words, as a partner would write them."""
    return NUMBER_WORDS[n] if 0 <= n < len(NUMBER_WORDS) else f"{n:,}"


def core_grant_total(summary: dict[str, Any]) -> float:
    """The core grant over the whole plan: the figure a funding level is stated against."""
    return sum(row["core_grant"] for row in summary.get("fy", {}).values())


def has_plan(summary: dict[str, Any]) -> bool:
    """Whether the summary holds a plan to describe (a time-limited plan counts)."""
    return summary.get("status") in ("optimal", "time_limit")


def narrative(summary: dict[str, Any], baseline: dict[str, Any] | None) -> str:
    """A few plain-English sentences a partner can read without the tables."""
    status = summary["status"]
    fy = summary.get("fy", {})
    level = funding_level(summary, baseline)
    if status == "infeasible":
        exp = (summary.get("explanation") or {}).get("text", "")
        return f"{level}no plan can meet every rule. {exp}".strip()
    if status == "error":
        return "The solver failed, so this scenario has no plan."
    closed = summary.get("closures", [])
    totals = summary.get("totals", {})
    n = len(closed)
    if n == 0:
        first = f"{level}every service keeps running."
    else:
        listed = [f"{c['title'].split(' (')[0]} (notice by {month_name(c['notice_by'])}, closes from "
                  f"{month_name(c['closes_from'])})" for c in closed[:5]]
        more = f"; and {words(n - 5)} more (see the timeline)" if n > 5 else ""
        first = (f"{level}{words(n)} service{'s' if n != 1 else ''} close{'s' if n == 1 else ''}: "
                 f"{'; '.join(listed)}{more}.")
    value = totals.get("value") or 0.0
    second = (f"The plan supports about {totals.get('participants', 0):,.0f} participants and delivers an estimated "
              f"{money(value)} of social value")
    if baseline and has_plan(baseline) and (baseline.get("totals") or {}).get("value"):
        bv = baseline["totals"]["value"]
        diff = value - bv
        second += (f", {money(abs(diff))} ({abs(diff) / bv:.0%}) {'less' if diff < 0 else 'more'} than the baseline"
                   if abs(diff) >= 0.005 * bv else ", about the same as the baseline")
    second += "."
    shares = [r["commissioned_share"] for r in fy.values() if r.get("commissioned_share") is not None]
    ledger = summary.get("compliance", [])
    failed = [c for c in ledger if not c["passed"]]
    third = ("Every grant condition is met" if not failed else f"{words(len(failed)).capitalize()} grant condition"
             f"{'s are' if len(failed) > 1 else ' is'} not met")
    if shares:
        third += f"; the commissioned share of the core grant is at least {min(shares):.0%} in every year"
    third += "."
    if status == "time_limit":
        third += " The solver stopped at its time limit, so a better plan may exist."
    return " ".join([first, second, third])


def funding_level(summary: dict[str, Any], baseline: dict[str, Any] | None) -> str:
    """'At 75% of the baseline's core grant in 2022/23 and 2023/24, ' or 'With a core grant of ..., '."""
    fy = summary.get("fy", {})
    base = (baseline or {}).get("fy", {})
    if not base or not any(b.get("core_grant") for b in base.values()):
        return f"With a core grant of {money(core_grant_total(summary))} over the plan, "
    levels: dict[str, list[str]] = {}
    for y, row in fy.items():
        b = base.get(y, {}).get("core_grant") or 0.0
        pct = f"{row['core_grant'] / b:.0%}" if b else money(row["core_grant"])
        levels.setdefault(pct, []).append(y)
    if len(levels) == 1:
        return f"At {next(iter(levels))} of the baseline's core grant in every year, "
    parts = [f"{pct} of the baseline in {' and '.join(ys)}" for pct, ys in levels.items() if pct != "100%"]
    same = " (as the baseline in other years)" if "100%" in levels else ""
    return f"With the core grant at {'; '.join(parts)}{same}, "


@dataclass(frozen=True)
class Finding:
    """A scenario's finding, said first: in the report's heading, its first sentence and the index's row."""

    heading: str  # follows the scenario's title in the report's <h1>: "six services close, social value 34% lower"
    sentence: str  # the report's first sentence: what closes, what it costs, what to do by when
    line: str  # the index's one line
    kind: str  # "plan", "closures" or "no_plan" (the page styles a plan without closures apart from a failure)


def _value_change(summary: dict[str, Any], baseline: dict[str, Any] | None) -> tuple[str, str]:
    """(' social value 34% lower', ', 34% less than the full grant') against the baseline, or ('', '')."""
    value = (summary.get("totals") or {}).get("value") or 0.0
    if not baseline or not has_plan(baseline) or not (baseline.get("totals") or {}).get("value"):
        return "", ""
    bv = baseline["totals"]["value"]
    change = (value - bv) / bv
    if abs(change) < 0.005:
        return "", ", about the same as the baseline"
    more = "higher" if change > 0 else "lower"
    return (f", social value {abs(change):.0%} {more}",
            f", {abs(change):.0%} {'more' if change > 0 else 'less'} than the baseline")


def _notice_clause(closed: list[dict[str, Any]]) -> str:
    """'by September 2021' or 'the first by September 2021, the last by March 2022'."""
    dates = sorted(c["notice_by"] for c in closed)
    if dates[0] == dates[-1]:
        return f"by {month_name(dates[0])}"
    return f"first notice by {month_name(dates[0])}, last by {month_name(dates[-1])}"


def finding(summary: dict[str, Any], baseline: dict[str, Any] | None = None,
            cliff: dict[str, Any] | None = None) -> Finding:
    """What a reader must know first about a scenario, in words, from its summary (and its cliff-edge plan)."""
    status = summary.get("status")
    if status == "infeasible":
        exp = summary.get("explanation") or {}
        extra = {y: v for y, v in (exp.get("extra_core_grant_needed") or {}).items() if v > 0.005}
        need = "; ".join(f"at least {money(v)} more core grant in {y}" for y, v in extra.items())
        first = next(iter(exp.get("sentences") or []), "") or exp.get("text", "")
        heading = "no plan can meet every rule" + (f": it needs {need}" if need else "")
        sentence = f"No plan can meet every rule of this scenario. {first}".strip()
        if need and need not in sentence:
            sentence += f" A lawful plan needs {need}."
        return Finding(heading, sentence, f"No possible plan{f': needs {need}' if need else ''}.", "no_plan")
    if not has_plan(summary):
        text = "The solver failed, so this scenario has no plan; re-run it, and check its figures if it fails again."
        return Finding("no plan (the solver failed)", text, "No plan: the solver failed.", "no_plan")
    totals = summary.get("totals") or {}
    closed = summary.get("closures") or []
    value, exits = totals.get("value") or 0.0, totals.get("exit_costs") or 0.0
    short, long = _value_change(summary, baseline)
    grant = core_grant_total(summary)
    n = len(closed)
    cut = summary.get("reductions") or []
    if n == 0:
        heading = "every service keeps running" + short
        notice = " and no notice needs to be served" if not cut else ""
        sentence = (f"Every service keeps running{notice}: the plan delivers {money(value)} "
                    f"of social value{long} from {money(grant)} of core grant over the plan.")
        line = f"Every service keeps running; social value {money(value)}{long}."
        kind = "plan"
    else:
        services = f"{words(n)} service{'s' if n != 1 else ''}"
        heading = f"{services} close{'s' if n == 1 else ''}" + short
        named = _some([c["title"].split(" (")[0] for c in closed])
        sentence = (f"Serve notice on {services} ({_notice_clause(closed)}): {named}. Closing them costs "
                    f"{money(exits)} in exit costs, and the plan delivers {money(value)} of social value{long}.")
        line = (f"{services.capitalize()} close{'s' if n == 1 else ''} ({_notice_clause(closed)}); "
                f"exit costs {money(exits)}; social value {money(value)}{long}.")
        kind = "closures"
    if cut:
        k = len(cut)
        sentence += (f" Serve notice of variation on {words(k)} service{'s' if k != 1 else ''} that "
                     f"{'keep' if k != 1 else 'keeps'} running at a reduced scale ({_notice_clause(cut)}): "
                     f"{_cuts_clause(cut)}.")
        line += (f" Notice of variation (a reduced scale) on {words(k)} service{'s' if k != 1 else ''} "
                 f"({_notice_clause(cut)}).")
    grown = summary.get("starts_and_growth") or []
    if grown:
        g = len(grown)
        named = _some([f"{r['title'].split(' (')[0]} "
                       + (f"starts from {month_name(r['from'])}" if r["kind"] == "starts"
                          else f"to {r['scale']:.0%} from {month_name(r['from'])}") for r in grown], 4)
        sentence += (f" It starts or grows {words(g)} service{'s' if g != 1 else ''} (to agree with providers "
                     f"before each change): {named}.")
        line += f" Starts or grows {words(g)} service{'s' if g != 1 else ''}."
    set_now = summary.get("scales_set_at_start") or []
    if set_now:
        k = len(set_now)
        named = _some([f"{r['title'].split(' (')[0]} at {r['scale']:.0%}" for r in set_now])
        sentence += (f" It also sets the scale of {words(k)} running service{'s' if k != 1 else ''} away from design "
                     f"strength from {month_name(set_now[0]['from'])}, with no notice as the scenario gives no "
                     f"contract scale at the start: {named}.")
        line += (f" {words(k).capitalize()} service{'s' if k != 1 else ''} set away from design strength from the "
                 "start.")
    uncertain = _cliff_clause(cliff)
    if uncertain:
        as_known = (f"Made as if the {uncertain.fy} grant were known from the start to be as planned, the plan "
                    f"{'closes ' + services if n else 'closes no service'}"
                    f"{f' and cuts {words(len(cut))} in scale' if cut else ''}: a comparison, kept further "
                    "down this page.")
        heading = uncertain.heading
        sentence = f"{uncertain.sentence} {as_known}"
        line = f"{uncertain.line} As if the grant were known: {line[:1].lower()}{line[1:]}"
        kind = "closures" if uncertain.closes or n else kind
        if cliff and cliff.get("status") == "time_limit":
            sentence += " The cliff-edge plan's solver stopped at its time limit, so a better plan may exist."
        if status == "time_limit":
            sentence += (" The plan made as if the grant were known stopped at the solver's time limit, so a better "
                         "one may exist.")
    elif cliff is not None:  # a late grant whose cliff-edge plan could not be worked out: say so first
        why = cliff.get("status_text") or cliff.get("status", "it failed")
        heading = f"no cliff-edge plan for the uncertain grant; as if it were known, {heading}"
        sentence = (f"The cliff-edge plan for the uncertain grant could not be worked out ({why.rstrip('.')}), so "
                    "this page has only the plan made as if the grant were known from the start: " + sentence)
        line = f"No cliff-edge plan ({why.rstrip('.')}). As if the grant were known: {line[:1].lower()}{line[1:]}"
    if status == "time_limit" and not uncertain:
        sentence += " The solver stopped at its time limit, so a better plan may exist."
    return Finding(heading, sentence, line, kind)


@dataclass(frozen=True)
class _CliffClause:
    """The cliff-edge plan's part of a finding: the plan to act on when a year's grant is confirmed late."""

    fy: str
    heading: str
    sentence: str
    line: str
    closes: bool  # whether any outcome closes a service


def common_reductions(outcomes: list[dict[str, Any]], confirmed: str | None) -> list[dict[str, Any]]:
    """Cuts in scale decided before the grant is known: the same cut, with notice before confirmation, in every
    outcome's plan."""
    def key(r: dict[str, Any]) -> tuple[str, str, float]:
        return r["intervention"], r["from"], round(r["scale"], 4)

    shared = set.intersection(*({key(r) for r in o.get("reductions") or []} for o in outcomes))
    return [r for r in outcomes[0].get("reductions") or []
            if key(r) in shared and (confirmed is None or r["notice_by"] < confirmed)]


def _some(named: list[str], shown: int = 3) -> str:
    """'a; b; c; and two more': the first few of a list a sentence names, and how many it leaves out."""
    more = len(named) - shown
    return "; ".join(named[:shown]) + (f"; and {words(more)} more" if more > 0 else "")


def _cuts_clause(cuts: list[dict[str, Any]]) -> str:
    """'Education advisers to 50% from April 2022; ...; and two more'."""
    return _some([f"{r['title'].split(' (')[0]} to {r['scale']:.0%} from {month_name(r['from'])}" for r in cuts])


def _later_closures(outcome: dict[str, Any], notices: list[dict[str, Any]]) -> list[str]:
    """The months from which an outcome's plan closes services beyond those closed whatever the grant."""
    now = {n["intervention"] for n in notices}
    return sorted(c["closes_from"] for c in outcome.get("closures") or [] if c["intervention"] not in now)


def _label(outcome: dict[str, Any]) -> str:
    """What a grant outcome means, to follow "if it": 'ends', 'is cut by 25%' (or its name, for an old file)."""
    return outcome.get("label") or f"turns out as {outcome['name'].replace('_', ' ')}"


def _more_close(n: int, more: bool) -> str:
    """'19 more services close', 'one service closes', 'no more services close'."""
    if n == 0:
        return f"no {'more ' if more else ''}services close"
    return f"{words(n)} {'more ' if more else ''}service{'s close' if n != 1 else ' closes'}"


def _cliff_clause(cliff: dict[str, Any] | None) -> _CliffClause | None:
    """For a grant confirmed late, what to do now whatever the grant and what follows in each outcome, from its
    cliff-edge plan: the plan to act on, so the page leads with it (counts are over the whole plan, as for a
    plan with every grant known)."""
    if not cliff or not has_plan(cliff) or not cliff.get("outcomes"):
        return None
    unc = cliff.get("uncertainty") or {}
    fy, confirmed = unc.get("fy", "next year's"), unc.get("confirmed_month")
    when = f" until {month_name(confirmed)}" if confirmed else " until late"
    outcomes = cliff["outcomes"]
    notices = (cliff.get("here_and_now") or {}).get("notices") or []
    cuts = common_reductions(outcomes, confirmed)
    k, c = len(notices), len(cuts)
    decided = ([f"{words(k)} service{'s' if k != 1 else ''} close{'s' if k == 1 else ''}"] if k else []) + (
        [f"{words(c)}{'' if k else ' service' + ('s' if c != 1 else '')} {'is' if c == 1 else 'are'} cut in scale"]
        if c else [])
    now = (" and ".join(decided) + f" whatever the {fy} grant" if decided
           else f"no service closes before the {fy} grant is known")
    worst = min(outcomes, key=lambda o: (o["grant"], o.get("objective", 0.0)))
    drawn = worst.get("underwriting_drawn", 0.0)
    worst_text = (f"if it {_label(worst)}, {_more_close(len(_later_closures(worst, notices)), bool(k))}"
                  + (f" and {money(drawn)} of OPCC underwriting is drawn" if drawn > 0.5 else ""))
    heading = f"{now}; {worst_text}"
    closing = (f"serve notice on {words(k)} service{'s' if k != 1 else ''} ({_notice_clause(notices)}): "
               + _some([c["title"].split(" (")[0] for c in notices])) if notices else ""
    cutting = (f"notice of variation on {words(len(cuts))} service{'s' if len(cuts) != 1 else ''} "
               f"({_notice_clause(cuts)}): {_cuts_clause(cuts)} (the {fy} contracts; later years' depend on the "
               "grant)") if cuts else ""
    if closing:
        first = f"Whatever the grant, {closing}." + (f" Also serve {cutting}." if cutting else "")
    else:
        first = (f"Whatever the grant, serve {cutting}." if cutting
                 else "No notice needs to be served before the grant is known.")
    then = []
    for o in outcomes:
        extra = _later_closures(o, notices)
        under = o.get("underwriting_drawn", 0.0)
        then.append(f"if it {_label(o)} ({o.get('probability', 0.0):.0%} chance), {_more_close(len(extra), bool(k))}"
                    + (f" from {month_name(extra[0])}" if extra else "")
                    + (f" and {money(under)} of OPCC underwriting is drawn" if under > 0.5 else ""))
    sentence = (f"The {fy} grant is not known{when}, so the plan to act on is the cliff-edge plan, made for "
                f"every outcome at once. {first} Once the grant is known: {'; '.join(then)}.")
    line = f"The {fy} grant is not known{when}. Cliff-edge plan: {now}; {worst_text}."
    return _CliffClause(fy, heading, sentence, line, any(o.get("closures") for o in outcomes))
