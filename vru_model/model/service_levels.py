"""Service levels: how much of each service runs, month by month and year by year."""

from __future__ import annotations

import pyomo.environ as pyo

from vru_model.model.decisions import Context
from vru_model.model.rules import Family

SERVICE_LEVELS = Family(
    "Service levels",
    "A running service runs between its minimum viable scale and its capacity, and a closed one delivers nothing; "
    "its scale is a contract term, the same in every month of a financial year (unless the scenario lets it change "
    "monthly); committed contracts run at their committed scale; and the participants who lose support when a "
    "service is reduced or closed are counted for the disruption penalty.",
    __name__,
)


@SERVICE_LEVELS.rule("a running service must run at least at its minimum viable scale")
def viable_scale(c: Context, w: str, i: str, t: str) -> object:
    return c.m.scale[w, i, t] >= c.items[i].scale.min * c.m.on[w, i, t]


@SERVICE_LEVELS.rule("a service cannot run above its capacity")
def capacity(c: Context, w: str, i: str, t: str) -> object:
    return c.m.scale[w, i, t] <= c.items[i].scale.max * c.m.on[w, i, t]


@SERVICE_LEVELS.rule("a running service's scale is a contract term: the same in every month of a financial year")
def yearly_scale(c: Context, w: str, i: str, t: str, part: str) -> object:
    if c.repeat(w, i, t) and c.level_key(w, i, c.d.fy_of[t])[0] == c.first:
        return pyo.Constraint.Skip
    level = c.m.level[w, i, c.d.fy_of[t]]
    if part == "at_most":
        return c.m.scale[w, i, t] <= level
    return c.m.scale[w, i, t] >= level - c.items[i].scale.max * (1 - c.m.on[w, i, t])


@SERVICE_LEVELS.rule("within a financial year a service runs at its year's scale until it stops")
def yearly_scale_steady(c: Context, w: str, i: str, t: str) -> object:
    return c.m.scale[w, i, t] >= c.m.scale[w, i, c.nxt[t]]


@SERVICE_LEVELS.rule(
    "committed contracts must run, at no less than their committed scale, until their committed month",
    stated="bounds",
)
def committed_contracts(c: Context) -> None:
    for w, i, t in c.wit:
        if c.items[i].committed_until is not None and t <= c.items[i].committed_until:
            c.bound("committed_contracts", c.m.on[w, i, t], "lb", 1)
            c.bound("committed_contracts", c.m.scale[w, i, t], "lb", c.items[i].committed_level)


@SERVICE_LEVELS.rule("the participants who lose support when a service is reduced or closed")
def participants_lost(c: Context, w: str, i: str, t: str) -> object:
    # Counted against the service as it runs now (its scale at start, else its design scale), even where
    # the plan may set the first year's scale: starting lower also takes support away from people.
    before = c.scale_before(w, i, t)
    if before is None:
        before = min(max(1.0, c.items[i].scale.min), c.items[i].scale.max)
    return c.m.lost[w, i, t] >= before - c.m.scale[w, i, t]


def add_service_levels(m: pyo.ConcreteModel, c: Context) -> None:
    own = [(w, i, t) for (w, i, t) in c.wit if not c.repeat(w, i, t)]
    m.viable_scale = pyo.Constraint(own, rule=c.rows(viable_scale))
    m.capacity = pyo.Constraint(own, rule=c.rows(capacity))
    if c.yearly:
        m.yearly_scale = pyo.Constraint(c.wit, ["at_most", "at_least"], rule=c.rows(yearly_scale))
        # Implied for a service that cannot re-open (it runs at its year's scale until it stops), and worth
        # stating: the relaxation can no longer dip a service for a few months and restore it.
        steady = [
            (w, i, t)
            for (w, i, t) in c.wit
            if t in c.nxt and c.d.fy_of[c.nxt[t]] == c.d.fy_of[t] and i in c.implied and not c.repeat(w, i, c.nxt[t])
        ]
        m.yearly_scale_steady = pyo.Constraint(steady, rule=c.rows(yearly_scale_steady))
    committed_contracts(c)
    m.participants_lost = pyo.Constraint(list(m.lost.keys()), rule=c.rows(participants_lost))
