"""The objective: expected social value less exit costs, disruption and the penalties on last-resort money."""

from __future__ import annotations

import pyomo.environ as pyo

from vru_model.model.data import LIABILITY
from vru_model.model.decisions import Context
from vru_model.model.rules import Family

TIE_BREAK = 1e-4  # value units per pound of VRU spend

OBJECTIVE = Family(
    "Objective",
    "The plan maximises expected social value (participants x effect x harm avoided, discounted by evidence "
    "confidence) less exit and start-up costs, a disruption penalty per participant who loses support, and "
    "penalties on underwriting and unfunded liability; or it finds the least grant that keeps a target value.",
    __name__,
)


@OBJECTIVE.rule("the plan must keep at least the target value")
def value_target(c: Context) -> object:
    return c.m.value[c.first] - c.m.losses[c.first] >= c.policy.target_value


def _social_value(c: Context, w: str) -> object:
    d = c.d
    return sum(d.discount[t] * c.m.unit_value[i] * c.m.scale[w, i, t] for i in d.interventions for t in d.months)


def _exit_costs(c: Context, w: str) -> object:
    m, d, items = c.m, c.d, c.items
    return sum(
        d.discount[t] * (items[i].exit_cost * m.close[w, i, t] + items[i].startup_cost * m.open[w, i, t])
        for i in d.interventions
        for t in d.months
    )


def _disruption(c: Context, w: str) -> object:
    """The penalty per participant who loses support, by a reduction or a closure."""
    return sum(
        c.d.discount[t] * c.rate * c.items[i].participants_per_year * c.m.lost[w, i, t]
        for i in c.penalised
        for t in c.d.months
    )


def _stream_penalty(c: Context, w: str, stream: str | None, weight: float) -> object:
    return weight * sum(c.m.spend[k] for k in c.stream_spend(w, stream))


def add_objective(m: pyo.ConcreteModel, c: Context) -> None:
    """Value and losses per grant outcome (`m.value`, `m.losses`), and the objective over the outcomes."""
    sc, policy = c.d.scenario, c.policy
    m.value = pyo.Expression(m.W, rule=lambda _, w: _social_value(c, w))
    liability_weight = sc.uncertainty.unfunded_penalty if sc.uncertainty else 10.0  # only two-stage owes any
    m.exit_costs = pyo.Expression(m.W, rule=lambda _, w: _exit_costs(c, w))
    m.disruption = pyo.Expression(m.W, rule=lambda _, w: _disruption(c, w))
    m.underwriting_penalty = pyo.Expression(
        m.W, rule=lambda _, w: _stream_penalty(c, w, c.d.underwriting, policy.underwriting_cost_weight)
    )
    m.liability_penalty = pyo.Expression(m.W, rule=lambda _, w: _stream_penalty(c, w, LIABILITY, liability_weight))
    m.losses = pyo.Expression(
        m.W, rule=lambda _, w: m.exit_costs[w] + m.disruption[w] + m.underwriting_penalty[w] + m.liability_penalty[w]
    )
    if c.min_grant:
        m.value_target = pyo.Constraint(expr=value_target(c))
        m.objective = pyo.Objective(expr=sum(m.grant_needed[y] for y in m.Y), sense=pyo.minimize)
    else:
        # A tiny cost per VRU pound breaks ties: partners' money is used before the grant, and grant the
        # plan cannot turn into value is left visibly unspent rather than parked on an arbitrary service.
        probability = {o.name: o.probability for o in c.d.outcomes}
        tie_break = TIE_BREAK * sum(probability[k[0]] * m.spend[k] for k in c.spend_keys)
        m.objective = pyo.Objective(
            expr=sum(probability[w] * (m.value[w] - m.losses[w]) for w in m.W) - tie_break, sense=pyo.maximize
        )
