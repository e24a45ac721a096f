"""Numbers the model needs, derived once from a Scenario (no Pyomo here).

Costs per month, VRU shares, monthly value at scale 1, discount factors, which stream may
pay for which service in which month, and the grant outcomes (one outcome when the grant
is known; several in cliff-edge mode).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from vru_model.core import periods
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

    @property
    def shared_months(self) -> list[str]:
        """Months decided before the grant is known (all outcomes share them)."""
        if not self.two_stage or self.confirmation_month is None:
            return []
        return [m for m in self.months if m < self.confirmation_month]

    def grant(self, outcome: Outcome, fy: str) -> float:
        return outcome.core_amounts.get(fy, 0.0)


def prepare(scenario: Scenario, core_amounts: dict[str, float] | None = None, two_stage: bool = False) -> ModelData:
    """Derive model data. `core_amounts` replaces the core grant (the frontier sweep uses it);
    `two_stage` plans for the scenario's `uncertainty` outcomes instead of its known amounts."""
    months = scenario.months
    fys = scenario.fys
    fy_of = {m: periods.fy_of(m) for m in months}
    year_index = {fy: k for k, fy in enumerate(fys)}
    policy = scenario.policy
    core = scenario.core_stream
    core_stream = scenario.funding[core]
    known = {fy: core_stream.amounts.get(fy, 0.0) for fy in fys}
    if core_amounts is not None:
        known.update(core_amounts)

    unc = scenario.uncertainty if two_stage else None
    if unc is not None:
        settled = [fy for fy in fys if fy == unc.fy or (unc.persists and fy > unc.fy)]
        outcomes = [
            Outcome(o.name, o.probability, {**known, **dict.fromkeys(settled, o.amount)}) for o in unc.outcomes
        ]
        conf_month: str | None = unc.confirmed_month
    else:
        outcomes = [Outcome(BASE_OUTCOME, 1.0, known)]
        conf_month = core_stream.confirmed_month
    conf_fy = periods.fy_of(conf_month) if conf_month else None

    names = list(scenario.interventions)
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

    underwriting = next((k for k, s in scenario.funding.items() if s.kind == "underwriting"), None)
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
    if unc is not None:
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

    return ModelData(
        scenario=scenario,
        interventions=names,
        months=months,
        fys=fys,
        fy_of=fy_of,
        streams=streams,
        core=core,
        underwriting=underwriting if underwriting in streams else None,
        outcomes=outcomes,
        confirmation_fy=conf_fy,
        confirmation_month=conf_month,
        two_stage=unc is not None,
        cost=cost,
        vru_share=share,
        pickup=pickup,
        value=value,
        discount=discount,
        amounts=amounts,
        pays=pays,
    )
