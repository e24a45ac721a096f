"""Grant conditions: the commissioning minimum, and the services that must keep running while there is a grant.

Ring-fences need no rule of their own: a ring-fenced stream has spend variables only for the services it may
pay for (`ModelData.pays`).
"""

from __future__ import annotations

import pyomo.environ as pyo

from vru_model.model.decisions import Context, Key
from vru_model.model.rules import Family

GRANT_CONDITIONS = Family(
    "Grant conditions",
    "What the grant agreement asks of every plan: a share of the core grant goes to commissioned services, and the "
    "central team and mandatory products (and any services the scenario protects) run while there is a grant. A "
    "ring-fence is no rule of its own: a ring-fenced stream can only pay for its eligible services.",
    __name__,
)


@GRANT_CONDITIONS.rule(
    "the commissioning minimum share of the core grant (claimed or awarded, as the policy says) must go to "
    "commissioned services"
)
def commissioning_minimum(c: Context, w: str, y: str) -> object:
    share = c.policy.commissioning_min_share
    if share == 0:
        return pyo.Constraint.Skip
    in_year = [t for t in c.months if c.d.fy_of[t] == y]
    got = sum(_commissioned_spend(c, w, i, t) for i in _commissioned(c) for t in in_year)
    if c.policy.commissioning_basis == "awarded":
        return got >= share * c.grant_of(w, y)
    claimed = sum(c.m.spend[k] for k in c.by_stream_fy.get((w, c.d.core, y), []))
    return got >= share * claimed


@GRANT_CONDITIONS.rule("exit and start-up costs do not count as commissioned spend (policy)")
def commissioning_credit(c: Context, w: str, i: str, t: str, part: str) -> object:
    if part == "core":
        return c.m.credit[w, i, t] <= c.m.spend[w, c.d.core, i, t]
    return c.m.credit[w, i, t] <= c.d.cost[i, t] * c.m.scale[w, i, t] - c.m.partner[w, i, t]


def _commissioned(c: Context) -> list[str]:
    return [i for i in c.d.interventions if c.items[i].is_commissioned]


def _commissioned_spend(c: Context, w: str, i: str, t: str) -> object:
    m = c.m
    if (w, i, t) in m.credit:
        return m.credit[w, i, t]
    return m.spend[w, c.d.core, i, t] if (w, c.d.core, i, t) in m.spend else 0  # noqa: SIM401 (a Pyomo Var)


def add_commissioning_minimum(m: pyo.ConcreteModel, c: Context) -> None:
    """The commissioning minimum, counting only the running cost of a service with exit or start-up costs."""
    policy = c.policy
    # Exit and start-up costs are paid for closing or opening a service, not for delivering it: unless
    # the policy says otherwise only the core grant's part of a service's running cost counts.
    credited = [
        (w, i, t)
        for w in m.W
        for i in _commissioned(c)
        for t in c.months
        if not policy.exit_costs_count_as_commissioned and (c.items[i].exit_cost > 0 or c.items[i].startup_cost > 0)
        and (w, c.d.core, i, t) in m.spend
    ] if policy.commissioning_min_share > 0 else []
    m.credit = pyo.Var(credited, domain=pyo.NonNegativeReals)
    m.commissioning_credit = pyo.Constraint(credited, ["core", "running"], rule=c.rows(commissioning_credit))
    m.commissioning_minimum = pyo.Constraint(m.W, m.Y, rule=c.rows(commissioning_minimum))


@GRANT_CONDITIONS.rule("the central team and mandatory products must run while there is a grant", stated="bounds")
def central_capability_floor(c: Context, w: str, i: str, t: str) -> bool:
    """Does the floor keep (w, i, t) running?"""
    return c.items[i].mandatory and c.granted(w, t)


@GRANT_CONDITIONS.rule(
    "services the scenario protects keep running, at no less than their scale, while there is a grant",
    stated="bounds (running) and rows (scale)",
)
def protected_services(c: Context, w: str, i: str, t: str) -> object:
    return c.m.scale[w, i, t] >= c.scale_before(w, i, t)


def _protected(c: Context, w: str, i: str, t: str) -> bool:
    """Does the scenario's protection keep (w, i, t) running?"""
    return c.items[i].protected and c.items[i].running_at_start and c.granted(w, t)


def add_services_kept_running(m: pyo.ConcreteModel, c: Context) -> None:
    """The central capability floor and protected services: kept running (bounds), a protected one at no less
    than its scale so far (rows), in every month with a grant."""
    for w, i, t in c.wit:
        if central_capability_floor(c, w, i, t):
            c.bound("central_capability_floor", m.on[w, i, t], "lb", 1)
        if _protected(c, w, i, t):
            c.bound("protected_services", m.on[w, i, t], "lb", 1)
    kept: dict[Key, None] = {}  # a shared decision's row once, whichever outcome has a grant
    for w, i, t in c.wit:
        if _protected(c, w, i, t) and c.scale_before(w, i, t) is not None:
            kept[c.decided_before(w, i, t)] = None
    m.protected_services = pyo.Constraint(list(kept), rule=c.rows(protected_services))
