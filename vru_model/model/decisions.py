"""The plan's decisions: sets, grant parameters and variables, and the lookups every rule family reads.

Variables are indexed by grant outcome w, intervention i and month t. With a known grant there is one
outcome; in cliff-edge mode each outcome has its own plan after the confirmation month, and the decisions
before it are one variable shared by every outcome (`_decisions`). Closures and openings of a service
running at the start that may not re-open are expressions of `on`, not variables.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pyomo.environ as pyo

from vru_model.model import rules
from vru_model.model.data import ModelData, liability_bound, underwriting_bound

Key = tuple[str, str, str]  # (outcome, intervention, month)
SpendKey = tuple[str, str, str, str]  # (outcome, stream, intervention, month)


class Context:
    """The model being built, its data, and the lookups derived from them that the rule families share."""

    def __init__(self, m: pyo.ConcreteModel, d: ModelData) -> None:
        self.m = m
        self.d = d
        self.items = d.scenario.interventions
        self.policy = d.scenario.policy
        self.min_grant = self.policy.objective == "min_grant"
        self.outcome = {o.name: o for o in d.outcomes}
        self.first = d.outcomes[0].name
        months = self.months = d.months
        self.prev = {months[k]: months[k - 1] for k in range(1, len(months))}
        self.nxt = {months[k]: months[k + 1] for k in range(len(months) - 1)}
        self.pos = {t: k for k, t in enumerate(months)}
        self.year_start = {y: next(t for t in months if d.fy_of[t] == y) for y in d.fys}
        self.shared_months = set(d.shared_months)
        self.last_shared = d.shared_months[-1] if d.shared_months else None
        self.yearly = self.policy.scale_changes == "yearly"
        # Services whose closing and opening follow from `on` alone: running at the start and never re-opened,
        # so `on` can only fall and a closure is `on` falling (`close[t] = on[t-1] - on[t]`, no variable).
        self.implied = {
            i for i in d.interventions if self.items[i].running_at_start and not self.policy.allow_reopening
        }
        self.wit: list[Key] = [(o.name, i, t) for o in d.outcomes for i in d.interventions for t in months]
        self.general: list[Key] = [(w, i, t) for (w, i, t) in self.wit if i not in self.implied]
        self.rate = self.policy.disruption_penalty_per_participant
        self.penalised = [i for i in d.interventions if self.rate * self.items[i].participants_per_year > 0]
        self.spend_keys: list[SpendKey] = [
            (o.name, s, i, t) for o in d.outcomes for (s, i), ts in d.pays.items() for t in ts
        ]
        self.spend_by: dict[Key, list[SpendKey]] = {}
        self.by_stream_fy: dict[Key, list[SpendKey]] = {}  # keyed (outcome, stream, FY)
        for key in self.spend_keys:
            w, s, i, t = key
            self.spend_by.setdefault((w, i, t), []).append(key)
            self.by_stream_fy.setdefault((w, s, d.fy_of[t]), []).append(key)

    def decided(self, i: str, t: str) -> bool:
        """Is (i, t) decided before the grant is known? Every month before confirmation is; so, for a service
        running at the start that may not re-open, under yearly contracts, is every month of that year whose
        closure notice served before confirmation fixes: it runs at the year's scale (let in April) unless
        that notice closed it, whatever the grant turns out to be."""
        if t in self.shared_months:
            return True
        return (
            self.yearly and i in self.implied and self.last_shared is not None
            and self.d.fy_of[t] == self.d.fy_of[self.last_shared]
            and self.pos[t] <= self.pos[self.last_shared] + self.items[i].notice_months
        )

    def decided_before(self, w: str, i: str, t: str) -> Key:
        """The key of the variable holding a decision: one decision for every outcome if taken before the
        grant is known."""
        return (self.first, i, t) if self.decided(i, t) else (w, i, t)

    def level_key(self, w: str, i: str, y: str) -> Key:
        """The key of a year's contract scale: let in April, so shared by every outcome when April is decided
        before the grant is known, for every service already running then."""
        if self.year_start[y] in self.shared_months and i in self.implied:
            return (self.first, i, y)
        return (w, i, y)

    def repeat(self, w: str, i: str, t: str) -> bool:
        """A row over shared decisions only is the same row in every outcome: state it once."""
        return w != self.first and self.decided(i, t)

    def partner_pays(self, i: str, t: str) -> float:
        """Most a partner pays per unit of scale: the untapered share, times how much of it is picked up."""
        return (1 - self.d.vru_share[i, t]) * self.d.pickup[i] * self.d.cost[i, t]

    def granted(self, w: str, t: str) -> bool:
        """Is there a core grant in t's financial year (always, when the model finds the least grant)?"""
        return self.min_grant or self.d.grant(self.outcome[w], self.d.fy_of[t]) > 0

    def was_on(self, w: str, i: str, t: str) -> object:
        return self.m.on[w, i, self.prev[t]] if t in self.prev else (1 if self.items[i].running_at_start else 0)

    def scale_before(self, w: str, i: str, t: str) -> object:
        return self.m.scale[w, i, self.prev[t]] if t in self.prev else self.items[i].start_scale

    def grant_of(self, w: str, y: str) -> object:
        return self.m.grant_needed[y] if self.min_grant else self.m.grant[w, y]

    def stream_spend(self, w: str, stream: str | None) -> list[SpendKey]:
        """Every spend variable of one stream in one outcome, over the whole horizon."""
        return [k for (ww, s, _y), ks in self.by_stream_fy.items() if ww == w and s == stream for k in ks]

    def rows(self, stater: Callable[..., object]) -> Callable[..., object]:
        """A Pyomo constraint rule from a rule function of (context, *index)."""
        return lambda _, *key: stater(self, *key)

    def bound(self, rule: str, var: pyo.Var, side: str, value: float) -> None:
        rules.bound(self.m, rule, var, side, value)


def _decisions(m: pyo.ConcreteModel, name: str, keys: list[tuple[str, ...]], key_of: Any, **options: Any) -> Any:
    """Variables indexed by `keys`, where keys that `key_of` maps to the same key are one variable (a decision
    taken before the grant is known is the same in every outcome): no rows are needed to tie them."""
    own = list(dict.fromkeys(key_of(*k) for k in keys))
    if len(own) == len(keys):
        return pyo.Var(keys, **options)
    decided = pyo.Var(own, **options)
    m.add_component(f"{name}_decided", decided)
    return pyo.Reference({k: decided[key_of(*k)] for k in keys})


def add_decisions(m: pyo.ConcreteModel, d: ModelData) -> Context:
    """The sets, the grant amounts and values as mutable parameters (`set_grants`, `set_values`), and every
    decision variable, with closures and openings as expressions of them."""
    c = Context(m, d)
    items = c.items
    m.W = pyo.Set(initialize=[o.name for o in d.outcomes], ordered=True)
    m.I = pyo.Set(initialize=d.interventions, ordered=True)
    m.T = pyo.Set(initialize=d.months, ordered=True)
    m.Y = pyo.Set(initialize=d.fys, ordered=True)
    m.S = pyo.Set(initialize=d.streams, ordered=True)
    m.grant = pyo.Param(
        m.W, m.Y, mutable=True, initialize={(o.name, y): d.grant(o, y) for o in d.outcomes for y in d.fys}
    )
    # Monthly value at scale 1 of each service: mutable, so that a robustness re-solve changes only the
    # objective's coefficients (see `set_values`).
    m.unit_value = pyo.Param(m.I, mutable=True, initialize={i: d.value[i] for i in d.interventions})
    grant_then = {o.name: d.grant(o, d.confirmation_fy or "") for o in d.outcomes}
    m.underwriting_bound = pyo.Param(
        m.W, mutable=True, initialize={w: underwriting_bound(d, grant) for w, grant in grant_then.items()}
    )
    m.liability_bound = pyo.Param(
        m.W, mutable=True, initialize={w: liability_bound(d, grant) for w, grant in grant_then.items()}
    )

    m.scale = _decisions(m, "scale", c.wit, c.decided_before, bounds=lambda _, w, i, t: (0, items[i].scale.max))
    m.on = _decisions(m, "on", c.wit, c.decided_before, domain=pyo.Binary)
    if c.yearly:  # the contract scale of each financial year
        m.level = _decisions(m, "level", [(w, i, y) for w in m.W for i in d.interventions for y in d.fys],
                             c.level_key, bounds=lambda _, w, i, y: (0, items[i].scale.max))
    m.closing = pyo.Var(c.general, bounds=(0, 1))  # closures and openings of the other services
    m.opening = pyo.Var(c.general, bounds=(0, 1))
    m.lost = pyo.Var([(w, i, t) for w in m.W for i in c.penalised for t in d.months], domain=pyo.NonNegativeReals)
    # Where the VRU pays everything the partner's spend is held at zero by its bounds, so those
    # services need no taper row (most of them: it keeps the model small).
    m.partner = pyo.Var(c.wit, bounds=lambda _, w, i, t: (0, None if c.partner_pays(i, t) > 0 else 0))
    m.spend = pyo.Var(c.spend_keys, domain=pyo.NonNegativeReals)
    if c.min_grant:
        m.grant_needed = pyo.Var(m.Y, domain=pyo.NonNegativeReals)

    m.close = pyo.Expression(
        c.wit, rule=lambda _, w, i, t: c.was_on(w, i, t) - m.on[w, i, t] if i in c.implied else m.closing[w, i, t]
    )
    m.open = pyo.Expression(c.wit, rule=lambda _, w, i, t: 0 if i in c.implied else m.opening[w, i, t])
    m.natural_bounds = {}
    m.rule_bounds = {}
    return c


def set_grants(m: pyo.ConcreteModel, data: ModelData) -> None:
    """Load `data`'s grant amounts into a built model's mutable parameters, for a persistent re-solve.

    Valid only when `data` has the same shape as the model was built from (same outcomes, and the same
    years with and without a grant: the central capability floor depends on that)."""
    for o in data.outcomes:
        for y in data.fys:
            m.grant[o.name, y].set_value(data.grant(o, y))
        m.underwriting_bound[o.name].set_value(underwriting_bound(data, data.grant(o, data.confirmation_fy or "")))
        m.liability_bound[o.name].set_value(liability_bound(data, data.grant(o, data.confirmation_fy or "")))


def set_values(m: pyo.ConcreteModel, values: dict[str, float]) -> None:
    """Load each service's monthly value at scale 1 into a built model, for a persistent re-solve."""
    for i, v in values.items():
        m.unit_value[i].set_value(v)
