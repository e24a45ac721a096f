"""The allocation model in Pyomo: every grant rule is a named piece (no I/O, no solving).

Variables are indexed by grant outcome w, intervention i and month t. With a known grant there
is one outcome; in cliff-edge mode each outcome has its own plan after the confirmation month, and
the decisions before it are one variable shared by every outcome (`_decisions`).

The formulation is compact: a rule that only holds a decision at a value (committed contracts, the
central capability floor, protected services kept running, no closure before notice can run out, no
new service before confirmation) is a bound on that variable, recorded by rule in `m.rule_bounds` so
that diagnostics can name it and a what-if can lift it (`apply_rule_bounds`); closures, openings and
notice of a service running at the start that may not re-open are expressions of `on`, not variables.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pyomo.environ as pyo

from vru_model.model.data import LIABILITY, ModelData, prepare
from vru_model.scenario.schema import Scenario

# Human names of each rule, used by diagnostics and reports.
RULES: dict[str, str] = {
    "cost_split": "each running service's cost is paid by the VRU's streams and its partners",
    "taper": "the VRU pays at least its taper share of a service's cost (partners pay at most the rest)",
    "stream_budget": "a funding stream cannot spend more than its amount in a financial year",
    "underwriting_cap": "OPCC underwriting covers pre-confirmation spend only up to its cap",
    "liability_cap": "an outcome owes (as an unfunded liability) only what its grant cannot cover of the costs "
    "committed before confirmation: spend then, notice periods running on, committed contracts",
    "commissioning_minimum": "the commissioning minimum share of the core grant (claimed or awarded, as the policy "
    "says) must go to commissioned services",
    "viable_scale": "a running service must run at least at its minimum viable scale",
    "capacity": "a service cannot run above its capacity",
    "committed_contracts": "committed contracts must run, at no less than their committed scale, until their "
    "committed month",
    "yearly_scale": "a running service's scale is a contract term: the same in every month of a financial year",
    "yearly_scale_steady": "within a financial year a service runs at its year's scale until it stops",
    "reduction_notice": "reducing a service's scale needs notice (its variation notice period), as closing does",
    "participants_lost": "the participants who lose support when a service is reduced or closed",
    "commissioning_credit": "exit and start-up costs do not count as commissioned spend (policy)",
    "closure_definition": "a closure is a service stopping after a running month",
    "opening_definition": "an opening is a service starting after a month without it",
    "no_reopening": "a closed service cannot re-open (a service running at the start can only stop)",
    "notice": "closing a service needs notice served its notice period earlier",
    "notice_before_horizon": "no notice (of closure or of a reduction) was served before the plan starts",
    "central_capability_floor": "the central team and mandatory products must run while there is a grant",
    "protected_services": "services the scenario protects keep running, at no less than their scale, while there "
    "is a grant",
    "no_new_commitments_before_confirmation": "no new service starts before the grant is confirmed",
    "non_anticipativity": "decisions before the confirmation month are the same whatever the grant turns out to be "
    "(one shared decision; rows only for closures that notice served before then fixes)",
    "value_target": "the plan must keep at least the target value",
}


TIE_BREAK = 1e-4  # value units per pound of VRU spend


def _underwriting_bound(data: ModelData, grant_in_conf_fy: float) -> float:
    """Underwriting covers only what the grant cannot: zero when the grant exceeds any possible
    pre-confirmation spend (running costs at full capacity plus the exit costs of services stopped then)."""
    if data.underwriting is None:
        return 0.0
    cap = data.scenario.funding[data.underwriting].cap or 0.0
    items = data.scenario.interventions
    covered = {(i, t) for (s, i), months in data.pays.items() if s == data.underwriting for t in months}
    most = sum(data.cost[i, t] * items[i].scale.max for i, t in covered)
    most += sum(items[i].exit_cost for i in {i for i, _t in covered})  # a service stopped then pays its exit
    return min(cap, max(0.0, most - grant_in_conf_fy))


def _liability_bound(data: ModelData, grant_in_conf_fy: float) -> float:
    """The most an outcome may owe: what its grant cannot cover of the most the committed months could cost
    (running at full capacity, plus the exit costs of the services stopped then). Zero when the grant covers
    it all, so an outcome with enough grant owes nothing."""
    items = data.scenario.interventions
    owed = {(i, t) for (s, i), months in data.pays.items() if s == LIABILITY for t in months}
    most = sum(data.cost[i, t] * items[i].scale.max for i, t in owed)
    most += sum(items[i].exit_cost for i in {i for i, _t in owed})
    return max(0.0, most - grant_in_conf_fy)


def set_grants(m: pyo.ConcreteModel, data: ModelData) -> None:
    """Load `data`'s grant amounts into a built model's mutable parameters, for a persistent re-solve.

    Valid only when `data` has the same shape as the model was built from (same outcomes, and the same
    years with and without a grant: the central capability floor depends on that)."""
    for o in data.outcomes:
        for y in data.fys:
            m.grant[o.name, y].set_value(data.grant(o, y))
        m.underwriting_bound[o.name].set_value(_underwriting_bound(data, data.grant(o, data.confirmation_fy or "")))
        m.liability_bound[o.name].set_value(_liability_bound(data, data.grant(o, data.confirmation_fy or "")))


def set_values(m: pyo.ConcreteModel, values: dict[str, float]) -> None:
    """Load each service's monthly value at scale 1 into a built model, for a persistent re-solve."""
    for i, v in values.items():
        m.unit_value[i].set_value(v)


def _decisions(m: pyo.ConcreteModel, name: str, keys: list[tuple[str, ...]], key_of: Any, **options: Any) -> Any:
    """Variables indexed by `keys`, where keys that `key_of` maps to the same key are one variable (a decision
    taken before the grant is known is the same in every outcome): no rows are needed to tie them."""
    own = list(dict.fromkeys(key_of(*k) for k in keys))
    if len(own) == len(keys):
        return pyo.Var(keys, **options)
    decided = pyo.Var(own, **options)
    m.add_component(f"{name}_decided", decided)
    return pyo.Reference({k: decided[key_of(*k)] for k in keys})


def apply_rule_bounds(m: pyo.ConcreteModel, without: Iterable[str | tuple[str, str]] = ()) -> None:
    """Set the bounds of every variable a rule holds (`m.rule_bounds`) from its own bounds and those of the
    rules, leaving out what `without` names: a rule (to price it), or a (rule, intervention) pair (to lift a
    rule for one service only, as a what-if that keeps another service does)."""
    lower = {k: lb for k, (_v, lb, _ub) in m.natural_bounds.items()}
    upper = {k: ub for k, (_v, _lb, ub) in m.natural_bounds.items()}
    skip = set(without)
    for rule, entries in m.rule_bounds.items():
        if rule in skip:
            continue
        for var, side, value in entries:
            if (rule, var.index()[1]) in skip:  # variables are indexed (outcome, intervention, month or year)
                continue
            k = id(var)
            if side == "lb":
                lower[k] = value if lower[k] is None else max(lower[k], value)
            else:
                upper[k] = value if upper[k] is None else min(upper[k], value)
    for k, (var, _lb, _ub) in m.natural_bounds.items():
        var.setlb(lower[k])
        var.setub(upper[k])


def bound_rules_of(m: pyo.ConcreteModel) -> dict[int, list[tuple[str, str]]]:
    """For each variable a rule holds by its bounds (by id), the (rule, "lb" or "ub") pairs that hold it."""
    found: dict[int, list[tuple[str, str]]] = {}
    for rule, entries in m.rule_bounds.items():
        for var, side, _value in entries:
            held = found.setdefault(id(var), [])
            if (rule, side) not in held:
                held.append((rule, side))
    return found


def build_model(scenario: Scenario, data: ModelData | None = None) -> pyo.ConcreteModel:
    """A Pyomo model of the scenario. Grant amounts are mutable parameters (`m.grant`)."""
    d = data or prepare(scenario)
    sc = d.scenario
    items = sc.interventions
    policy = sc.policy
    min_grant = policy.objective == "min_grant"

    m = pyo.ConcreteModel(name=sc.name)
    m.W = pyo.Set(initialize=[o.name for o in d.outcomes], ordered=True)
    m.I = pyo.Set(initialize=d.interventions, ordered=True)
    m.T = pyo.Set(initialize=d.months, ordered=True)
    m.Y = pyo.Set(initialize=d.fys, ordered=True)
    m.S = pyo.Set(initialize=d.streams, ordered=True)
    prob = {o.name: o.probability for o in d.outcomes}
    months = d.months
    prev = {months[k]: months[k - 1] for k in range(1, len(months))}
    nxt = {months[k]: months[k + 1] for k in range(len(months) - 1)}
    pos = {t: k for k, t in enumerate(months)}
    year_start = {y: next(t for t in months if d.fy_of[t] == y) for y in d.fys}

    m.grant = pyo.Param(
        m.W, m.Y, mutable=True, initialize={(o.name, y): d.grant(o, y) for o in d.outcomes for y in d.fys}
    )
    # Monthly value at scale 1 of each service: mutable, so that a robustness re-solve changes only the
    # objective's coefficients (see `set_values`).
    m.unit_value = pyo.Param(m.I, mutable=True, initialize={i: d.value[i] for i in d.interventions})
    m.underwriting_bound = pyo.Param(
        m.W,
        mutable=True,
        initialize={o.name: _underwriting_bound(d, d.grant(o, d.confirmation_fy or "")) for o in d.outcomes},
    )

    first = d.outcomes[0].name
    shared_months = set(d.shared_months)
    # Services whose closing and opening follow from `on` alone: running at the start and never re-opened,
    # so `on` can only fall and a closure is `on` falling (`close[t] = on[t-1] - on[t]`, no variable).
    implied = {i for i in d.interventions if items[i].running_at_start and not policy.allow_reopening}
    yearly = policy.scale_changes == "yearly"
    last_shared = d.shared_months[-1] if d.shared_months else None

    def decided(i: str, t: str) -> bool:
        """Is (i, t) decided before the grant is known? Every month before confirmation is; so, for a service
        running at the start that may not re-open, under yearly contracts, is every month of that year whose
        closure notice served before confirmation fixes: it runs at the year's scale (let in April) unless
        that notice closed it, whatever the grant turns out to be."""
        if t in shared_months:
            return True
        return (
            yearly and i in implied and last_shared is not None and d.fy_of[t] == d.fy_of[last_shared]
            and pos[t] <= pos[last_shared] + items[i].notice_months
        )

    def decided_before(w: str, i: str, t: str) -> tuple[str, str, str]:
        """The key of the variable holding a decision: one decision for every outcome if taken before the
        grant is known."""
        return (first, i, t) if decided(i, t) else (w, i, t)

    def level_key(w: str, i: str, y: str) -> tuple[str, str, str]:
        # A year's contract scale is let in April: before the grant is known if April is, for every service
        # already running then.
        if year_start[y] in shared_months and i in implied:
            return (first, i, y)
        return (w, i, y)

    def repeat(w: str, i: str, t: str) -> bool:
        """A row over shared decisions only is the same row in every outcome: state it once."""
        return w != first and decided(i, t)

    m.liability_bound = pyo.Param(
        m.W,
        mutable=True,
        initialize={o.name: _liability_bound(d, d.grant(o, d.confirmation_fy or "")) for o in d.outcomes},
    )

    WIT = [(w, i, t) for w in m.W for i in d.interventions for t in months]
    m.scale = _decisions(m, "scale", WIT, decided_before, bounds=lambda _, w, i, t: (0, items[i].scale.max))
    m.on = _decisions(m, "on", WIT, decided_before, domain=pyo.Binary)
    if yearly:  # the contract scale of each financial year
        m.level = _decisions(m, "level", [(w, i, y) for w in m.W for i in d.interventions for y in d.fys],
                             level_key, bounds=lambda _, w, i, y: (0, items[i].scale.max))
    general = [(w, i, t) for (w, i, t) in WIT if i not in implied]
    m.closing = pyo.Var(general, bounds=(0, 1))  # closures and openings of the other services
    m.opening = pyo.Var(general, bounds=(0, 1))
    rate = policy.disruption_penalty_per_participant
    penalised = [i for i in d.interventions if rate * items[i].participants_per_year > 0]
    m.lost = pyo.Var([(w, i, t) for w in m.W for i in penalised for t in months], domain=pyo.NonNegativeReals)

    def partner_pays(i: str, t: str) -> float:
        """Most a partner pays per unit of scale: the untapered share, times how much of it is picked up."""
        return (1 - d.vru_share[i, t]) * d.pickup[i] * d.cost[i, t]

    # Where the VRU pays everything the partner's spend is held at zero by its bounds, so those
    # services need no taper row (most of them: it keeps the model small).
    m.partner = pyo.Var(WIT, bounds=lambda _, w, i, t: (0, None if partner_pays(i, t) > 0 else 0))
    FI = [(w, s, i, t) for w in m.W for (s, i), ts in d.pays.items() for t in ts]
    m.spend = pyo.Var(FI, domain=pyo.NonNegativeReals)
    spend_by: dict[tuple[str, str, str], list[tuple[str, str, str, str]]] = {}
    for key in FI:
        w, s, i, t = key
        spend_by.setdefault((w, i, t), []).append(key)
    if min_grant:
        m.grant_needed = pyo.Var(m.Y, domain=pyo.NonNegativeReals)

    def was_on(w: str, i: str, t: str) -> object:
        return m.on[w, i, prev[t]] if t in prev else (1 if items[i].running_at_start else 0)

    def scale_before(w: str, i: str, t: str) -> object:
        return m.scale[w, i, prev[t]] if t in prev else items[i].start_scale

    def grant_of(w: str, y: str) -> object:
        return m.grant_needed[y] if min_grant else m.grant[w, y]

    m.close = pyo.Expression(
        WIT, rule=lambda _, w, i, t: was_on(w, i, t) - m.on[w, i, t] if i in implied else m.closing[w, i, t]
    )
    m.open = pyo.Expression(WIT, rule=lambda _, w, i, t: 0 if i in implied else m.opening[w, i, t])
    # Notice of a closure is served its notice period before it (none for a closure after the horizon).
    m.notice_served = pyo.Expression(
        WIT, rule=lambda _, w, i, t: m.close[w, i, months[pos[t] + items[i].notice_months]]
        if pos[t] + items[i].notice_months < len(months) else 0,
    )
    m.natural_bounds = {}
    m.rule_bounds = {}

    def bound(rule: str, var: pyo.Var, side: str, value: float) -> None:
        """A rule that holds a decision at a value, stated as the variable's bound rather than a row."""
        m.natural_bounds.setdefault(id(var), (var, var.lb, var.ub))
        m.rule_bounds.setdefault(rule, []).append((var, side, value))

    # --- money -------------------------------------------------------------------------------
    def cost_split(_, w, i, t):
        needed = d.cost[i, t] * m.scale[w, i, t]
        if items[i].exit_cost:
            exit_next = m.close[w, i, nxt[t]] if t in nxt else 0
            exit_now = m.close[w, i, t] if pos[t] == 0 else 0
            needed += items[i].exit_cost * (exit_next + exit_now)
        if items[i].startup_cost and i not in implied:
            needed += items[i].startup_cost * m.opening[w, i, t]
        return sum(m.spend[k] for k in spend_by.get((w, i, t), [])) + m.partner[w, i, t] == needed

    m.cost_split = pyo.Constraint(WIT, rule=cost_split)

    def taper(_, w, i, t):
        if partner_pays(i, t) <= 0:
            return pyo.Constraint.Skip
        return m.partner[w, i, t] <= partner_pays(i, t) * m.scale[w, i, t]

    m.taper = pyo.Constraint(WIT, rule=taper)

    by_stream_fy: dict[tuple[str, str, str], list[tuple[str, str, str, str]]] = {}
    for key in FI:
        w, s, i, t = key
        by_stream_fy.setdefault((w, s, d.fy_of[t]), []).append(key)

    def stream_budget(_, w, s, y):
        keys = by_stream_fy.get((w, s, y))
        if not keys or s in (LIABILITY, d.underwriting):
            return pyo.Constraint.Skip
        limit = grant_of(w, y) if s == d.core else d.amounts.get((s, y), 0.0)
        return sum(m.spend[k] for k in keys) <= limit

    m.stream_budget = pyo.Constraint(m.W, m.S, m.Y, rule=stream_budget)

    def underwriting_cap(_, w):
        keys = [k for (ww, s, _y), ks in by_stream_fy.items() if ww == w and s == d.underwriting for k in ks]
        if not keys:
            return pyo.Constraint.Skip
        return sum(m.spend[k] for k in keys) <= m.underwriting_bound[w]

    m.underwriting_cap = pyo.Constraint(m.W, rule=underwriting_cap)

    def liability_cap(_, w):
        keys = [k for (ww, s, _y), ks in by_stream_fy.items() if ww == w and s == LIABILITY for k in ks]
        if not keys:
            return pyo.Constraint.Skip
        return sum(m.spend[k] for k in keys) <= m.liability_bound[w]

    m.liability_cap = pyo.Constraint(m.W, rule=liability_cap)

    commissioned = [i for i in d.interventions if items[i].is_commissioned]

    # Exit and start-up costs are paid for closing or opening a service, not for delivering it: unless
    # the policy says otherwise only the core grant's part of a service's running cost counts.
    credited = [
        (w, i, t)
        for w in m.W
        for i in commissioned
        for t in months
        if not policy.exit_costs_count_as_commissioned and (items[i].exit_cost > 0 or items[i].startup_cost > 0)
        and (w, d.core, i, t) in m.spend
    ] if policy.commissioning_min_share > 0 else []
    m.credit = pyo.Var(credited, domain=pyo.NonNegativeReals)

    def commissioning_credit(_, w, i, t, part):
        if part == "core":
            return m.credit[w, i, t] <= m.spend[w, d.core, i, t]
        return m.credit[w, i, t] <= d.cost[i, t] * m.scale[w, i, t] - m.partner[w, i, t]

    m.commissioning_credit = pyo.Constraint(credited, ["core", "running"], rule=commissioning_credit)

    def commissioned_spend(w: str, i: str, t: str) -> object:
        if (w, i, t) in m.credit:
            return m.credit[w, i, t]
        return m.spend[w, d.core, i, t] if (w, d.core, i, t) in m.spend else 0  # noqa: SIM401 (a Pyomo Var)

    def commissioning_minimum(_, w, y):
        share = policy.commissioning_min_share
        if share == 0:
            return pyo.Constraint.Skip
        in_year = [t for t in months if d.fy_of[t] == y]
        got = sum(commissioned_spend(w, i, t) for i in commissioned for t in in_year)
        if policy.commissioning_basis == "awarded":
            return got >= share * grant_of(w, y)
        claimed = sum(m.spend[k] for k in by_stream_fy.get((w, d.core, y), []))
        return got >= share * claimed

    m.commissioning_minimum = pyo.Constraint(m.W, m.Y, rule=commissioning_minimum)

    # --- service levels ----------------------------------------------------------------------
    own = [(w, i, t) for (w, i, t) in WIT if not repeat(w, i, t)]
    m.viable_scale = pyo.Constraint(own, rule=lambda _, w, i, t: m.scale[w, i, t] >= items[i].scale.min * m.on[w, i, t])
    m.capacity = pyo.Constraint(own, rule=lambda _, w, i, t: m.scale[w, i, t] <= items[i].scale.max * m.on[w, i, t])

    if yearly:
        def yearly_scale(_, w, i, t, part):
            if repeat(w, i, t) and level_key(w, i, d.fy_of[t])[0] == first:
                return pyo.Constraint.Skip
            level = m.level[w, i, d.fy_of[t]]
            if part == "at_most":
                return m.scale[w, i, t] <= level
            return m.scale[w, i, t] >= level - items[i].scale.max * (1 - m.on[w, i, t])

        m.yearly_scale = pyo.Constraint(WIT, ["at_most", "at_least"], rule=yearly_scale)

        # Implied for a service that cannot re-open (it runs at its year's scale until it stops), and worth
        # stating: the relaxation can no longer dip a service for a few months and restore it.
        steady = [
            (w, i, t)
            for (w, i, t) in WIT
            if t in nxt and d.fy_of[nxt[t]] == d.fy_of[t] and i in implied and not repeat(w, i, nxt[t])
        ]
        m.yearly_scale_steady = pyo.Constraint(
            steady, rule=lambda _, w, i, t: m.scale[w, i, t] >= m.scale[w, i, nxt[t]]
        )

    for w, i, t in WIT:  # committed contracts run, at no less than their committed scale, until their month
        if items[i].committed_until is not None and t <= items[i].committed_until:
            bound("committed_contracts", m.on[w, i, t], "lb", 1)
            bound("committed_contracts", m.scale[w, i, t], "lb", items[i].committed_level)

    def participants_lost(_, w, i, t):
        # Counted against the service as it runs now (its scale at start, else its design scale), even where
        # the plan may set the first year's scale: starting lower also takes support away from people.
        before = scale_before(w, i, t)
        if before is None:
            before = min(max(1.0, items[i].scale.min), items[i].scale.max)
        return m.lost[w, i, t] >= before - m.scale[w, i, t]

    m.participants_lost = pyo.Constraint(list(m.lost.keys()), rule=participants_lost)

    def reduction_notice(_, w, i, t):
        # No notice was served before the plan starts, so the scale cannot fall while the service runs
        # until its variation notice could have run out. Later reductions are served notice inside the plan.
        before = scale_before(w, i, t)
        if pos[t] >= items[i].variation_notice or before is None or not items[i].running_at_start or repeat(w, i, t):
            return pyo.Constraint.Skip
        return m.scale[w, i, t] >= before - items[i].scale.max * (1 - m.on[w, i, t])

    m.reduction_notice = pyo.Constraint(WIT, rule=reduction_notice)

    # --- closures, notice, re-opening --------------------------------------------------------
    # For the `implied` services these are no rows at all: `close` is `on` falling, and `on` may only fall.
    def closure_definition(_, w, i, t, part):
        if part == "drop":
            return m.closing[w, i, t] >= was_on(w, i, t) - m.on[w, i, t]
        if part == "was_on":
            return m.closing[w, i, t] <= was_on(w, i, t)
        return m.closing[w, i, t] <= 1 - m.on[w, i, t]

    m.closure_definition = pyo.Constraint(general, ["drop", "was_on", "now_off"], rule=closure_definition)

    def opening_definition(_, w, i, t, part):
        # Bounded on both sides, like a closure: a loose `open` would let the plan "spend" grant on
        # phantom start-up costs (e.g. to meet the commissioning minimum).
        if part == "rise":
            return m.opening[w, i, t] >= m.on[w, i, t] - was_on(w, i, t)
        if part == "was_off":
            return m.opening[w, i, t] <= 1 - was_on(w, i, t)
        return m.opening[w, i, t] <= m.on[w, i, t]

    m.opening_definition = pyo.Constraint(general, ["rise", "was_off", "now_on"], rule=opening_definition)
    if not policy.allow_reopening:
        def no_reopening(_, w, i, t):
            if i in implied:
                if t not in prev or repeat(w, i, t):
                    return pyo.Constraint.Skip
                return m.on[w, i, t] <= m.on[w, i, prev[t]]
            if t != months[-1]:
                return pyo.Constraint.Skip
            return sum(m.opening[w, i, u] for u in months) <= 1  # a service not running at the start opens once

        m.no_reopening = pyo.Constraint(WIT, rule=no_reopening)

    for w, i, t in WIT:  # no notice was served before the plan starts: no closure before notice can run out
        if pos[t] < items[i].notice_months:
            if i in implied:
                bound("notice_before_horizon", m.on[w, i, t], "lb", 1)
            else:
                bound("notice_before_horizon", m.closing[w, i, t], "ub", 0)

    # --- grant conditions and scenario rules -------------------------------------------------
    for o in d.outcomes:
        for i in d.interventions:
            for t in months:
                granted = min_grant or d.grant(o, d.fy_of[t]) > 0
                if items[i].mandatory and granted:  # the central team and mandatory products run
                    bound("central_capability_floor", m.on[o.name, i, t], "lb", 1)
                if items[i].protected and items[i].running_at_start and granted:
                    bound("protected_services", m.on[o.name, i, t], "lb", 1)
    # Protected: kept running (a bound, above) at no less than its scale so far, in every month with a grant.
    protected: dict[tuple[str, str, str], None] = {}  # a shared decision's row once, whichever outcome has a grant
    for o in d.outcomes:
        for i in d.interventions:
            for t in months:
                if items[i].protected and items[i].running_at_start and (min_grant or d.grant(o, d.fy_of[t]) > 0) \
                        and scale_before(o.name, i, t) is not None:
                    protected[decided_before(o.name, i, t)] = None
    m.protected_services = pyo.Constraint(
        list(protected), rule=lambda _, w, i, t: m.scale[w, i, t] >= scale_before(w, i, t)
    )
    confirmed = sc.funding[d.core].confirmed_month
    for w, i, t in general:  # no new service starts before the grant is confirmed
        if not items[i].running_at_start and (
            (confirmed is not None and t < confirmed)
            or (d.two_stage and d.fy_of[t] == d.confirmation_fy and t < (d.confirmation_month or ""))
        ):
            bound("no_new_commitments_before_confirmation", m.opening[w, i, t], "ub", 0)

    # Decisions before confirmation are shared variables (see `decided_before`); a closure that notice
    # served before then already fixes must be the same in every outcome too.
    tied = []
    for w in m.W:
        for i in d.interventions:
            n = items[i].notice_months
            for t in d.shared_months:
                later = pos[t] + n
                if w != first and later < len(months) and not decided(i, months[later]):
                    tied.append((w, i, months[later]))
    m.non_anticipativity = pyo.Constraint(tied, rule=lambda _, w, i, t: m.close[w, i, t] == m.close[first, i, t])
    apply_rule_bounds(m)

    # --- objective ---------------------------------------------------------------------------
    def social_value(w: str) -> object:
        return sum(d.discount[t] * m.unit_value[i] * m.scale[w, i, t] for i in d.interventions for t in months)

    m.value = pyo.Expression(m.W, rule=lambda _, w: social_value(w))

    def exit_costs(w: str) -> object:
        return sum(
            d.discount[t] * (items[i].exit_cost * m.close[w, i, t] + items[i].startup_cost * m.open[w, i, t])
            for i in d.interventions
            for t in months
        )

    def disruption(w: str) -> object:
        """The penalty per participant who loses support, by a reduction or a closure."""
        return sum(
            d.discount[t] * rate * items[i].participants_per_year * m.lost[w, i, t] for i in penalised for t in months
        )

    def stream_penalty(w: str, stream: str | None, weight: float) -> object:
        keys = [k for (ww, s, _y), ks in by_stream_fy.items() if ww == w and s == stream for k in ks]
        return weight * sum(m.spend[k] for k in keys)

    liability_weight = sc.uncertainty.unfunded_penalty if sc.uncertainty else 10.0  # only two-stage has a liability
    m.exit_costs = pyo.Expression(m.W, rule=lambda _, w: exit_costs(w))
    m.disruption = pyo.Expression(m.W, rule=lambda _, w: disruption(w))
    m.underwriting_penalty = pyo.Expression(
        m.W, rule=lambda _, w: stream_penalty(w, d.underwriting, policy.underwriting_cost_weight)
    )
    m.liability_penalty = pyo.Expression(m.W, rule=lambda _, w: stream_penalty(w, LIABILITY, liability_weight))
    m.losses = pyo.Expression(
        m.W, rule=lambda _, w: m.exit_costs[w] + m.disruption[w] + m.underwriting_penalty[w] + m.liability_penalty[w]
    )
    if min_grant:
        m.value_target = pyo.Constraint(expr=m.value[first] - m.losses[first] >= policy.target_value)
        m.objective = pyo.Objective(expr=sum(m.grant_needed[y] for y in m.Y), sense=pyo.minimize)
    else:
        # A tiny cost per VRU pound breaks ties: partners' money is used before the grant, and grant the
        # plan cannot turn into value is left visibly unspent rather than parked on an arbitrary service.
        tie_break = TIE_BREAK * sum(prob[k[0]] * m.spend[k] for k in FI)
        m.objective = pyo.Objective(
            expr=sum(prob[w] * (m.value[w] - m.losses[w]) for w in m.W) - tie_break, sense=pyo.maximize
        )
    m.data = d  # the derived numbers travel with the model, for results and diagnostics
    return m
