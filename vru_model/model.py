"""The allocation model in Pyomo: every grant rule is a named constraint (no I/O, no solving).

Variables are indexed by grant outcome w, intervention i and month t. With a known grant there
is one outcome; in cliff-edge mode each outcome has its own plan after the confirmation month
and `non_anticipativity` ties the plans together before it.
"""

from __future__ import annotations

import pyomo.environ as pyo

from vru_model.data import LIABILITY, ModelData, prepare
from vru_model.schema import Scenario

# Human names of each rule, used by diagnostics and reports.
RULES: dict[str, str] = {
    "cost_split": "each running service's cost is paid by the VRU's streams and its partners",
    "taper": "the VRU pays at least its taper share of a service's cost (partners pay at most the rest)",
    "stream_budget": "a funding stream cannot spend more than its amount in a financial year",
    "underwriting_cap": "OPCC underwriting covers pre-confirmation spend only up to its cap",
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
    "no_reopening": "a closed service cannot re-open",
    "notice": "closing a service needs notice served its notice period earlier",
    "notice_before_horizon": "no notice (of closure or of a reduction) was served before the plan starts",
    "central_capability_floor": "the central team and mandatory products must run while there is a grant",
    "protected_services": "services the scenario protects keep running, at no less than their scale, while there "
    "is a grant",
    "no_new_commitments_before_confirmation": "no new service starts before the grant is confirmed",
    "non_anticipativity": "decisions before the confirmation month are the same whatever the grant turns out to be",
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


def set_grants(m: pyo.ConcreteModel, data: ModelData) -> None:
    """Load `data`'s grant amounts into a built model's mutable parameters, for a persistent re-solve.

    Valid only when `data` has the same shape as the model was built from (same outcomes, and the same
    years with and without a grant: the central capability floor depends on that)."""
    for o in data.outcomes:
        for y in data.fys:
            m.grant[o.name, y].set_value(data.grant(o, y))
        m.underwriting_bound[o.name].set_value(_underwriting_bound(data, data.grant(o, data.confirmation_fy or "")))


def set_values(m: pyo.ConcreteModel, values: dict[str, float]) -> None:
    """Load each service's monthly value at scale 1 into a built model, for a persistent re-solve."""
    for i, v in values.items():
        m.unit_value[i].set_value(v)


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

    WIT = [(w, i, t) for w in m.W for i in d.interventions for t in months]
    m.scale = pyo.Var(WIT, bounds=lambda _, w, i, t: (0, items[i].scale.max))
    m.on = pyo.Var(WIT, domain=pyo.Binary)
    m.close = pyo.Var(WIT, bounds=(0, 1))
    m.open = pyo.Var(WIT, bounds=(0, 1))
    m.notice_served = pyo.Var(WIT, bounds=(0, 1))
    yearly = policy.scale_changes == "yearly"
    if yearly:  # the contract scale of each financial year
        m.level = pyo.Var(m.W, m.I, m.Y, bounds=lambda _, w, i, y: (0, items[i].scale.max))
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

    # --- money -------------------------------------------------------------------------------
    def cost_split(_, w, i, t):
        exit_next = m.close[w, i, nxt[t]] if t in nxt else 0
        exit_now = m.close[w, i, t] if pos[t] == 0 else 0
        needed = d.cost[i, t] * m.scale[w, i, t] + items[i].exit_cost * (exit_next + exit_now)
        needed += items[i].startup_cost * m.open[w, i, t]
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
    m.viable_scale = pyo.Constraint(WIT, rule=lambda _, w, i, t: m.scale[w, i, t] >= items[i].scale.min * m.on[w, i, t])
    m.capacity = pyo.Constraint(WIT, rule=lambda _, w, i, t: m.scale[w, i, t] <= items[i].scale.max * m.on[w, i, t])

    if yearly:
        def yearly_scale(_, w, i, t, part):
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
            if t in nxt and d.fy_of[nxt[t]] == d.fy_of[t] and items[i].running_at_start and not policy.allow_reopening
        ]
        m.yearly_scale_steady = pyo.Constraint(
            steady, rule=lambda _, w, i, t: m.scale[w, i, t] >= m.scale[w, i, nxt[t]]
        )

    committed = [
        (w, i, t, part)
        for (w, i, t) in WIT
        if items[i].committed_until is not None and t <= items[i].committed_until
        for part in ("running", "scale")
    ]

    def committed_contracts(_, w, i, t, part):
        if part == "running":
            return m.on[w, i, t] == 1
        return m.scale[w, i, t] >= items[i].committed_level

    m.committed_contracts = pyo.Constraint(committed, rule=committed_contracts)

    def participants_lost(_, w, i, t):
        before = scale_before(w, i, t)
        if before is None:  # the plan sets the first scale: nobody is counted as lost in its first month
            return pyo.Constraint.Skip
        return m.lost[w, i, t] >= before - m.scale[w, i, t]

    m.participants_lost = pyo.Constraint(list(m.lost.keys()), rule=participants_lost)

    def reduction_notice(_, w, i, t):
        # No notice was served before the plan starts, so the scale cannot fall while the service runs
        # until its variation notice could have run out. Later reductions are served notice inside the plan.
        before = scale_before(w, i, t)
        if pos[t] >= items[i].variation_notice or before is None or not items[i].running_at_start:
            return pyo.Constraint.Skip
        return m.scale[w, i, t] >= before - items[i].scale.max * (1 - m.on[w, i, t])

    m.reduction_notice = pyo.Constraint(WIT, rule=reduction_notice)

    # --- closures, notice, re-opening --------------------------------------------------------
    def closure_definition(_, w, i, t, part):
        if part == "drop":
            return m.close[w, i, t] >= was_on(w, i, t) - m.on[w, i, t]
        if part == "was_on":
            return m.close[w, i, t] <= was_on(w, i, t)
        return m.close[w, i, t] <= 1 - m.on[w, i, t]

    m.closure_definition = pyo.Constraint(WIT, ["drop", "was_on", "now_off"], rule=closure_definition)
    def opening_definition(_, w, i, t, part):
        # Bounded on both sides, like a closure: a loose `open` would let the plan "spend" grant on
        # phantom start-up costs (e.g. to meet the commissioning minimum). The upper bounds are not
        # needed where `no_reopening` already holds every opening at zero.
        if part == "rise":
            return m.open[w, i, t] >= m.on[w, i, t] - was_on(w, i, t)
        if not policy.allow_reopening and items[i].running_at_start:
            return pyo.Constraint.Skip
        if part == "was_off":
            return m.open[w, i, t] <= 1 - was_on(w, i, t)
        return m.open[w, i, t] <= m.on[w, i, t]

    m.opening_definition = pyo.Constraint(WIT, ["rise", "was_off", "now_on"], rule=opening_definition)
    if not policy.allow_reopening:
        m.no_reopening = pyo.Constraint(
            m.W,
            m.I,
            rule=lambda _, w, i: sum(m.open[w, i, t] for t in months) <= (0 if items[i].running_at_start else 1),
        )

    def notice(_, w, i, t):
        n = items[i].notice_months
        k = pos[t]
        if k < n:
            return pyo.Constraint.Skip
        return m.close[w, i, t] == m.notice_served[w, i, months[k - n]]

    m.notice = pyo.Constraint(WIT, rule=notice)
    m.notice_before_horizon = pyo.Constraint(
        [(w, i, t) for (w, i, t) in WIT if pos[t] < items[i].notice_months],
        rule=lambda _, w, i, t: m.close[w, i, t] == 0,
    )
    for w, i, t in WIT:  # notice for a closure after the horizon is outside the plan
        if pos[t] + items[i].notice_months >= len(months):
            m.notice_served[w, i, t].fix(0)

    # --- grant conditions and scenario rules -------------------------------------------------
    floor = [
        (o.name, i, t)
        for o in d.outcomes
        for i in d.interventions
        for t in months
        if items[i].mandatory and (min_grant or d.grant(o, d.fy_of[t]) > 0)
    ]
    m.central_capability_floor = pyo.Constraint(floor, rule=lambda _, w, i, t: m.on[w, i, t] == 1)
    # Protected: kept running at no less than its scale so far, in every month with a core grant.
    protected = [
        (o.name, i, t, part)
        for o in d.outcomes
        for i in d.interventions
        for t in months
        if items[i].protected and items[i].running_at_start and (min_grant or d.grant(o, d.fy_of[t]) > 0)
        for part in ("running", "scale")
    ]

    def protected_services(_, w, i, t, part):
        if part == "running":
            return m.on[w, i, t] == 1
        before = scale_before(w, i, t)
        return pyo.Constraint.Skip if before is None else m.scale[w, i, t] >= before

    m.protected_services = pyo.Constraint(protected, rule=protected_services)
    confirmed = sc.funding[d.core].confirmed_month
    early = [
        (w, i, t)
        for (w, i, t) in WIT
        if not items[i].running_at_start
        and (
            (confirmed is not None and t < confirmed)
            or (d.two_stage and d.fy_of[t] == d.confirmation_fy and t < (d.confirmation_month or ""))
        )
    ]
    m.no_new_commitments_before_confirmation = pyo.Constraint(early, rule=lambda _, w, i, t: m.open[w, i, t] == 0)

    first = d.outcomes[0].name
    shared = [
        (w, i, t, var)
        for w in m.W
        if w != first
        for i in d.interventions
        for t in d.shared_months
        for var in ("scale", "on", "notice_served")
    ]
    # The contract scale of the year in which the grant is confirmed is let in April, before it is known,
    # for every service already running then (implied by the shared months, but stated: it tightens the
    # relaxation a great deal).
    if yearly and d.shared_months and not policy.allow_reopening:
        y0 = d.fy_of[d.shared_months[0]]
        shared += [(w, i, y0, "level") for w in m.W if w != first for i in d.interventions if items[i].running_at_start]

    def non_anticipativity(_, w, i, t, var):
        return getattr(m, var)[w, i, t] == getattr(m, var)[first, i, t]

    m.non_anticipativity = pyo.Constraint(shared, rule=non_anticipativity)

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
