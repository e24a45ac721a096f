"""Contracts and notice: closing or reducing a service needs notice, and a closed service stays closed.

For a service running at the start that may not re-open these are no rows at all: its closure is `on` falling,
and `on` may only fall (`Context.implied`).
"""

from __future__ import annotations

import pyomo.environ as pyo

from vru_model.core import periods
from vru_model.model.decisions import Context
from vru_model.model.rules import Family

CONTRACTS = Family(
    "Contracts and notice",
    "A closure or an opening is a change in whether a service runs; closing a service needs notice served its "
    "notice period earlier, and reducing its scale needs its variation notice; no notice was served before the "
    "plan starts; and a closed service cannot re-open unless the scenario allows it (then with a start-up cost).",
    __name__,
)


@CONTRACTS.rule("reducing a service's scale needs notice (its variation notice period), as closing does")
def reduction_notice(c: Context, w: str, i: str, t: str) -> object:
    # No notice was served before the plan starts, so the scale cannot fall while the service runs
    # until its variation notice could have run out. Later reductions are served notice inside the plan.
    item = c.items[i]
    before = c.scale_before(w, i, t)
    if c.pos[t] >= item.variation_notice or before is None or not item.running_at_start or c.repeat(w, i, t):
        return pyo.Constraint.Skip
    return c.m.scale[w, i, t] >= before - item.scale.max * (1 - c.m.on[w, i, t])


@CONTRACTS.rule(
    "closing a service needs notice served its notice period earlier",
    name="notice",
    stated="expression `notice_served`",
)
def notice_served(c: Context, w: str, i: str, t: str) -> object:
    """Notice of a closure is served its notice period before it (none for a closure after the horizon)."""
    later = c.pos[t] + c.items[i].notice_months
    return c.m.close[w, i, c.months[later]] if later < len(c.months) else 0


@CONTRACTS.rule("a closure is a service stopping after a running month")
def closure_definition(c: Context, w: str, i: str, t: str, part: str) -> object:
    m = c.m
    if part == "drop":
        return m.closing[w, i, t] >= c.was_on(w, i, t) - m.on[w, i, t]
    if part == "was_on":
        return m.closing[w, i, t] <= c.was_on(w, i, t)
    return m.closing[w, i, t] <= 1 - m.on[w, i, t]


@CONTRACTS.rule("an opening is a service starting after a month without it")
def opening_definition(c: Context, w: str, i: str, t: str, part: str) -> object:
    # Bounded on both sides, like a closure: a loose `open` would let the plan "spend" grant on
    # phantom start-up costs (e.g. to meet the commissioning minimum).
    m = c.m
    if part == "rise":
        return m.opening[w, i, t] >= m.on[w, i, t] - c.was_on(w, i, t)
    if part == "was_off":
        return m.opening[w, i, t] <= 1 - c.was_on(w, i, t)
    return m.opening[w, i, t] <= m.on[w, i, t]


@CONTRACTS.rule("a closed service cannot re-open (a service running at the start can only stop)")
def no_reopening(c: Context, w: str, i: str, t: str) -> object:
    m = c.m
    if i in c.implied:
        if t not in c.prev or c.repeat(w, i, t):
            return pyo.Constraint.Skip
        return m.on[w, i, t] <= m.on[w, i, c.prev[t]]
    if t != c.months[-1]:
        return pyo.Constraint.Skip
    return sum(m.opening[w, i, u] for u in c.months) <= 1  # a service not running at the start opens once


@CONTRACTS.rule("no notice (of closure or of a reduction) was served before the plan starts", stated="bounds")
def notice_before_horizon(c: Context) -> None:
    """No closure before notice served in the plan's first month can run out."""
    served = {i: periods.add_months(c.items[i].notice_served, c.items[i].notice_months)
              for i in c.d.interventions if c.items[i].notice_served is not None}  # notice served before the start
    for w, i, t in c.wit:
        if c.pos[t] < c.items[i].notice_months and (i not in served or t < served[i]):
            if i in c.implied:
                c.bound("notice_before_horizon", c.m.on[w, i, t], "lb", 1)
            else:
                c.bound("notice_before_horizon", c.m.closing[w, i, t], "ub", 0)


def add_contracts_and_notice(m: pyo.ConcreteModel, c: Context) -> None:
    m.notice_served = pyo.Expression(c.wit, rule=c.rows(notice_served))
    m.reduction_notice = pyo.Constraint(c.wit, rule=c.rows(reduction_notice))
    m.closure_definition = pyo.Constraint(c.general, ["drop", "was_on", "now_off"], rule=c.rows(closure_definition))
    m.opening_definition = pyo.Constraint(c.general, ["rise", "was_off", "now_on"], rule=c.rows(opening_definition))
    if not c.policy.allow_reopening:
        m.no_reopening = pyo.Constraint(c.wit, rule=c.rows(no_reopening))
    notice_before_horizon(c)
