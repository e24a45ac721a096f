"""The months already spent: a re-plan holds every month up to the actuals' as-of month at what happened.

Each stream x service x month up to `as_of` is the actual spend (a month with no row is GBP 0); a service with no
spend in a month was not running; its scale is what the spend paid for, with the partner paying its promised share;
value is credited on that. The rules that govern how a plan changes a service (viable scale, the yearly contract
scale, notice, no re-opening) do not apply to what has happened; from the next month they do, counted from then:
no notice was served in the past, so a service running in the as-of month runs, at no less than its scale then,
until notice served the month after could run out (unless `notice_served` says notice was served earlier). Every
grant rule over a financial year (stream budgets, ring-fences, the commissioning minimum) counts the whole year,
history included.
"""

from __future__ import annotations

import pyomo.environ as pyo

from vru_model.core import periods
from vru_model.model.data import ModelData
from vru_model.model.decisions import Context
from vru_model.model.rules import Family

HISTORY = Family(
    "History (a re-plan from actuals)",
    "In a re-plan the months up to the actuals' as-of month are what happened; notice and contract variations are "
    "counted from the month after it. Only a scenario with `actuals:` (or `vru replan`) has these rules.",
    __name__,
)
# Rows indexed (outcome, service, month, ...) that govern how a plan changes a service: not for what happened.
CHANGE_ROWS = ("cost_split", "taper", "viable_scale", "capacity", "yearly_scale", "yearly_scale_steady",
               "reduction_notice", "no_reopening", "protected_services", "participants_lost")
# Rules held as bounds on the plan's own decisions: not for what happened.
PLAN_BOUNDS = ("committed_contracts", "notice_before_horizon", "central_capability_floor", "protected_services",
               "no_new_commitments_before_confirmation")


def delivered_scale(d: ModelData, i: str, t: str, spent: float) -> float:
    """The scale a month's VRU spend paid for, with the partner paying its promised share of the rest (capped at
    the service's largest scale: spend beyond it is an overrun, not more service)."""
    vru_fraction = 1.0 - (1.0 - d.vru_share[i, t]) * d.pickup[i]
    if spent <= 0 or d.cost[i, t] <= 0 or vru_fraction <= 0:
        return 0.0
    return min(spent / (d.cost[i, t] * vru_fraction), d.scenario.interventions[i].scale.max)


@HISTORY.rule("the months up to the actuals' as-of month are what was spent: each stream's spend on each service, "
              "whether it ran, and the scale the spend paid for", stated="bounds")
def actual_spend(c: Context) -> None:
    m, d, actuals = c.m, c.d, c.d.actuals
    for name in CHANGE_ROWS:
        rows = getattr(m, name, None)
        for index in list(rows.keys()) if rows is not None else []:
            if isinstance(index, tuple) and len(index) >= 3 and index[2] <= actuals.as_of:
                rows[index].deactivate()
    for rule in PLAN_BOUNDS:
        m.rule_bounds[rule] = [e for e in m.rule_bounds.get(rule, []) if e[0].index()[2] > actuals.as_of]
    past = [t for t in c.months if t <= actuals.as_of]
    for w in m.W:
        for i in d.interventions:
            for t in past:
                spent = actuals.spent(i, t)
                scale = delivered_scale(d, i, t, spent)
                for side in ("lb", "ub"):
                    c.bound("actual_spend", m.on[w, i, t], side, 1 if spent > 0 else 0)
                    c.bound("actual_spend", m.scale[w, i, t], side, scale)
                    c.bound("actual_spend", m.partner[w, i, t], side, max(0.0, d.cost[i, t] * scale - spent))
        for (s, i), months in d.pays.items():
            for t in months:
                if t <= actuals.as_of:
                    for side in ("lb", "ub"):
                        c.bound("actual_spend", m.spend[w, s, i, t], side, actuals.amount(s, i, t))


def _running_at_as_of(c: Context) -> dict[str, float]:
    """Each service running in the as-of month, with the scale it ran at then."""
    as_of = c.d.actuals.as_of
    scales = {i: delivered_scale(c.d, i, as_of, c.d.actuals.spent(i, as_of)) for i in c.d.interventions}
    return {i: s for i, s in scales.items() if s > 0}


def _free_from(c: Context, i: str) -> str:
    """The first month a service running at the as-of month may be closed in."""
    item = c.items[i]
    first = periods.add_months(c.d.actuals.as_of, 1 + item.notice_months)
    if item.notice_served is not None:
        first = min(first, periods.add_months(item.notice_served, item.notice_months))
    return first


@HISTORY.rule("no notice was served before the re-plan (unless the scenario says so): a service running in the "
              "as-of month runs until notice served the month after could run out", stated="bounds")
def notice_from_as_of(c: Context) -> None:
    for i in _running_at_as_of(c):
        free_from = _free_from(c, i)
        for w in c.m.W:
            for t in c.months:
                if c.d.actuals.as_of < t < free_from:
                    c.bound("notice_from_as_of", c.m.on[w, i, t], "lb", 1)


@HISTORY.rule("no notice of variation was served before the re-plan: a service running in the as-of month keeps "
              "at least its scale then until a variation served the month after could run out")
def variation_from_as_of(c: Context, w: str, i: str, t: str) -> object:
    floor = _running_at_as_of(c)[i]
    return c.m.scale[w, i, t] >= floor - c.items[i].scale.max * (1 - c.m.on[w, i, t])


def add_history(m: pyo.ConcreteModel, c: Context) -> None:
    """The actual spend so far, when the scenario is re-planned from actuals (`ModelData.actuals`)."""
    if c.d.actuals is None:
        return
    actual_spend(c)
    notice_from_as_of(c)
    as_of, running = c.d.actuals.as_of, _running_at_as_of(c)
    held = [(w, i, t) for w in m.W for i in running for t in c.months
            if as_of < t < periods.add_months(as_of, 1 + c.items[i].variation_notice)]
    m.variation_from_as_of = pyo.Constraint(held, rule=c.rows(variation_from_as_of))
