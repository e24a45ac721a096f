"""Numbers the model needs, derived once from a Scenario (no Pyomo here).

Costs per month, VRU shares, monthly value at scale 1, discount factors, which stream may
pay for which service in which month, and the grant outcomes (one outcome when the grant
is known; several in cliff-edge mode).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from vru_model.core import periods
from vru_model.scenario.actuals import Actuals
from vru_model.scenario.schema import Scenario
from vru_model.scenario.value import monthly_value

LIABILITY = "unfunded_liability"
BASE_OUTCOME = "known"


@dataclass(frozen=True)
class Outcome:
    name: str
    probability: float
    core_amounts: dict[str, float]  # FY -> core grant in this outcome


@dataclass(frozen=True)
class ModelData:
    scenario: Scenario
    interventions: list[str]
    months: list[str]
    fys: list[str]
    fy_of: dict[str, str]
    streams: list[str]
    core: str
    underwriting: str | None
    outcomes: list[Outcome]
    confirmation_fy: str | None
    confirmation_month: str | None
    two_stage: bool
    cost: dict[tuple[str, str], float]  # monthly cost at scale 1, all payers
    vru_share: dict[tuple[str, str], float]
    pickup: dict[str, float]
    value: dict[str, float]  # monthly value at scale 1, undiscounted
    discount: dict[str, float]
    amounts: dict[tuple[str, str], float]  # non-core stream amounts by (stream, FY)
    pays: dict[tuple[str, str], list[str]] = field(default_factory=dict)  # (stream, intervention) -> months
    actuals: Actuals | None = None  # the actual spend so far, held fixed (a re-plan)

    @property
    def shared_months(self) -> list[str]:
        """Months decided before the grant is known (all outcomes share them)."""
        if not self.two_stage or self.confirmation_month is None:
            return []
        return [m for m in self.months if m < self.confirmation_month]

    def grant(self, outcome: Outcome, fy: str) -> float:
        return outcome.core_amounts.get(fy, 0.0)


def claimable(data: ModelData, grant_in_conf_fy: float) -> float:
    """The most of the confirmation year's core grant a plan could claim: all of it, unless the commissioning
    minimum is a share of the grant claimed, when commissioned services at full capacity cap the claim (so more
    grant than that pays for nothing more, and the bounds below do not fall as the grant rises)."""
    policy = data.scenario.policy
    if policy.commissioning_basis != "claimed" or policy.commissioning_min_share <= 0:
        return grant_in_conf_fy
    capacity = commissioned_capacity(data, data.confirmation_fy or "")
    return min(grant_in_conf_fy, capacity / policy.commissioning_min_share)


def commissioned_capacity(data: ModelData, fy: str) -> float:
    """The most commissioned services can cost in a financial year: each at its largest scale every month."""
    items = data.scenario.interventions
    return sum(data.cost[i, t] * items[i].scale.max for i in data.interventions if items[i].is_commissioned
               for t in data.months if data.fy_of[t] == fy)


def underwriting_bound(data: ModelData, grant_in_conf_fy: float) -> float:
    """Underwriting covers only what the grant cannot: zero when the grant a plan could claim exceeds any
    possible pre-confirmation spend (running costs at full capacity plus the exit costs of services stopped
    then)."""
    if data.underwriting is None:
        return 0.0
    cap = data.scenario.funding[data.underwriting].cap or 0.0
    items = data.scenario.interventions
    covered = dict.fromkeys((i, t) for (s, i), months in data.pays.items() if s == data.underwriting for t in months)
    most = sum(data.cost[i, t] * items[i].scale.max for i, t in covered)
    # a service stopped then pays its exit; sums in a fixed order, so the bound is the same in every process
    most += sum(items[i].exit_cost for i in dict.fromkeys(i for i, _t in covered))
    return min(cap, max(0.0, most - claimable(data, grant_in_conf_fy)))


def liability_bound(data: ModelData, grant_in_conf_fy: float) -> float:
    """The most an outcome may owe: what its grant cannot cover of the most the committed months could cost
    (running at full capacity, plus the exit costs of the services stopped then). Zero when the grant covers
    it all, so an outcome with enough grant owes nothing."""
    items = data.scenario.interventions
    owed = dict.fromkeys((i, t) for (s, i), months in data.pays.items() if s == LIABILITY for t in months)
    most = sum(data.cost[i, t] * items[i].scale.max for i, t in owed)
    most += sum(items[i].exit_cost for i in dict.fromkeys(i for i, _t in owed))
    return max(0.0, most - claimable(data, grant_in_conf_fy))


def _outcomes(scenario: Scenario, known: dict[str, float], two_stage: bool) -> tuple[list[Outcome], str | None]:
    """The grant outcomes to plan for, and the month the grant is confirmed: the scenario's `uncertainty`
    outcomes when planning two-stage, else the one known grant."""
    unc = scenario.uncertainty if two_stage else None
    if unc is None:
        return [Outcome(BASE_OUTCOME, 1.0, known)], scenario.funding[scenario.core_stream].confirmed_month
    settled = [fy for fy in scenario.fys if fy == unc.fy or (unc.persists and fy > unc.fy)]
    outcomes = [Outcome(o.name, o.probability, {**known, **dict.fromkeys(settled, o.amount)}) for o in unc.outcomes]
    return outcomes, unc.confirmed_month


def _stream_payments(
    scenario: Scenario, fy_of: dict[str, str], conf_month: str | None, two_stage: bool
) -> tuple[list[str], dict[tuple[str, str], float], dict[tuple[str, str], list[str]]]:
    """The streams that can pay, the non-core streams' amounts by (stream, FY), and which stream may pay for
    which service in which months (a ring-fence is a stream paying only for its eligible services)."""
    months = scenario.months
    fys = scenario.fys
    conf_fy = periods.fy_of(conf_month) if conf_month else None
    names = list(scenario.interventions)
    amounts: dict[tuple[str, str], float] = {}
    pays: dict[tuple[str, str], list[str]] = {}
    streams: list[str] = []
    for s, stream in scenario.funding.items():
        if stream.kind == "core_grant":
            streams.append(s)
            for i in names:
                pays[s, i] = list(months)
        elif stream.kind == "underwriting":
            if not conf_month or not stream.cap:
                continue
            # Spending before confirmation, and the notice period of a service stopped at confirmation.
            for i in names:
                until = periods.add_months(conf_month, scenario.interventions[i].notice_months)
                covered = [m for m in months if fy_of[m] == conf_fy and m < until]
                if covered:
                    pays[s, i] = covered
            if any(key[0] == s for key in pays):
                streams.append(s)
        else:
            funded_fys = {fy for fy, amount in stream.amounts.items() if amount > 0 and fy in fys}
            if not funded_fys:
                continue
            streams.append(s)
            for fy in funded_fys:
                amounts[s, fy] = stream.amounts[fy]
            for i in stream.eligible or names:
                pays[s, i] = [m for m in months if fy_of[m] in funded_fys]
    if two_stage:
        # An unfunded liability is what the realised grant cannot cover of what was committed before it was
        # known: spend before confirmation, the notice period of a service stopped then, a contract running on.
        streams.append(LIABILITY)
        for i in names:
            item = scenario.interventions[i]
            until = periods.add_months(conf_month, item.notice_months) if conf_month else months[0]
            owed = [m for m in months if fy_of[m] == conf_fy
                    and (m < until or (item.committed_until is not None and m <= item.committed_until))]
            if owed:
                pays[LIABILITY, i] = owed
    return streams, amounts, pays


def prepare(scenario: Scenario, core_amounts: dict[str, float] | None = None, two_stage: bool = False) -> ModelData:
    """Derive model data. `core_amounts` replaces the core grant (the frontier sweep uses it);
    `two_stage` plans for the scenario's `uncertainty` outcomes instead of its known amounts."""
    months = scenario.months
    fys = scenario.fys
    fy_of = {m: periods.fy_of(m) for m in months}
    year_index = {fy: k for k, fy in enumerate(fys)}
    policy = scenario.policy
    core = scenario.core_stream
    known = {fy: scenario.funding[core].amounts.get(fy, 0.0) for fy in fys}
    if core_amounts is not None:
        known.update(core_amounts)
    two_stage = two_stage and scenario.uncertainty is not None
    outcomes, conf_month = _outcomes(scenario, known, two_stage)

    cost, share, value = {}, {}, {}
    for i, item in scenario.interventions.items():
        value[i] = monthly_value(scenario, item)
        for m in months:
            inflation = (1 + policy.cost_inflation_annual) ** year_index[fy_of[m]]
            cost[i, m] = item.annual_cost / 12.0 * inflation
            share[i, m] = item.vru_share(fy_of[m])
    pickup = {
        i: (item.pickup if item.pickup is not None else policy.partner_pickup)
        for i, item in scenario.interventions.items()
    }
    start = periods.month_index(months[0])
    discount = {m: (1 + policy.discount_rate_annual) ** (-(periods.month_index(m) - start) / 12.0) for m in months}
    streams, amounts, pays = _stream_payments(scenario, fy_of, conf_month, two_stage)
    underwriting = next((k for k, s in scenario.funding.items() if s.kind == "underwriting"), None)

    return ModelData(
        scenario=scenario,
        interventions=list(scenario.interventions),
        months=months,
        fys=fys,
        fy_of=fy_of,
        streams=streams,
        core=core,
        underwriting=underwriting if underwriting in streams else None,
        outcomes=outcomes,
        confirmation_fy=periods.fy_of(conf_month) if conf_month else None,
        confirmation_month=conf_month,
        two_stage=two_stage,
        cost=cost,
        vru_share=share,
        pickup=pickup,
        value=value,
        discount=discount,
        amounts=amounts,
        pays=pays,
        actuals=scenario.actuals.loaded if scenario.actuals is not None else None,
    )
