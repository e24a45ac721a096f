"""Money and streams: who pays for each service, and how much each funding stream may spend."""

from __future__ import annotations

import pyomo.environ as pyo

from vru_model.model.data import LIABILITY
from vru_model.model.decisions import Context
from vru_model.model.rules import Family

MONEY = Family(
    "Money and streams",
    "Each month's cost of a service (and its exit and start-up costs) is paid by the funding streams that may pay "
    "for it and by its partners, and no stream spends more than it has in a financial year, with no carry-over. "
    "OPCC underwriting and, when planning for the cliff edge, an unfunded liability are streams too, each with a "
    "cap.",
    __name__,
)


@MONEY.rule("each running service's cost is paid by the VRU's streams and its partners")
def cost_split(c: Context, w: str, i: str, t: str) -> object:
    m, item = c.m, c.items[i]
    needed = c.d.cost[i, t] * m.scale[w, i, t]
    if item.exit_cost:
        exit_next = m.close[w, i, c.nxt[t]] if t in c.nxt else 0
        exit_now = m.close[w, i, t] if c.pos[t] == 0 else 0
        needed += item.exit_cost * (exit_next + exit_now)
    if item.startup_cost and i not in c.implied:
        needed += item.startup_cost * m.opening[w, i, t]
    return sum(m.spend[k] for k in c.spend_by.get((w, i, t), [])) + m.partner[w, i, t] == needed


@MONEY.rule("the VRU pays at least its taper share of a service's cost (partners pay at most the rest)")
def taper(c: Context, w: str, i: str, t: str) -> object:
    if c.partner_pays(i, t) <= 0:  # the partner's spend is held at zero by its bounds
        return pyo.Constraint.Skip
    return c.m.partner[w, i, t] <= c.partner_pays(i, t) * c.m.scale[w, i, t]


@MONEY.rule("a funding stream cannot spend more than its amount in a financial year")
def stream_budget(c: Context, w: str, s: str, y: str) -> object:
    keys = c.by_stream_fy.get((w, s, y))
    if not keys or s in (LIABILITY, c.d.underwriting):
        return pyo.Constraint.Skip
    limit = c.grant_of(w, y) if s == c.d.core else c.d.amounts.get((s, y), 0.0)
    return sum(c.m.spend[k] for k in keys) <= limit


@MONEY.rule("OPCC underwriting covers pre-confirmation spend only up to its cap")
def underwriting_cap(c: Context, w: str) -> object:
    keys = c.stream_spend(w, c.d.underwriting)
    if not keys:
        return pyo.Constraint.Skip
    return sum(c.m.spend[k] for k in keys) <= c.m.underwriting_bound[w]


@MONEY.rule(
    "an outcome owes (as an unfunded liability) only what its grant cannot cover of the costs committed before "
    "confirmation: spend then, notice periods running on, committed contracts"
)
def liability_cap(c: Context, w: str) -> object:
    keys = c.stream_spend(w, LIABILITY)
    if not keys:
        return pyo.Constraint.Skip
    return sum(c.m.spend[k] for k in keys) <= c.m.liability_bound[w]


def add_money(m: pyo.ConcreteModel, c: Context) -> None:
    m.cost_split = pyo.Constraint(c.wit, rule=c.rows(cost_split))
    m.taper = pyo.Constraint(c.wit, rule=c.rows(taper))
    m.stream_budget = pyo.Constraint(m.W, m.S, m.Y, rule=c.rows(stream_budget))
    m.underwriting_cap = pyo.Constraint(m.W, rule=c.rows(underwriting_cap))
    m.liability_cap = pyo.Constraint(m.W, rule=c.rows(liability_cap))
