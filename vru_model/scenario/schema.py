"""The scenario schema: pydantic models with unknown keys forbidden and every value checked.

A `Scenario` is the fully merged, validated, frozen input to the model. Cross-references
(eligible interventions, months inside the horizon) are checked in `cross_check`, which
returns every problem rather than stopping at the first.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PrivateAttr, model_validator

from vru_model.core import periods

NAME_PATTERN = r"^[a-z0-9_]+$"


def _month(value: str) -> str:
    if not periods.is_month(value):
        raise ValueError(f"{value!r} is not a month of the form YYYY-MM")
    return value


def _fy(value: str) -> str:
    if not periods.is_fy(value):
        raise ValueError(f"{value!r} is not a financial year of the form YYYY/YY (e.g. 2021/22)")
    return value


Month = Annotated[str, Field(strict=True), AfterValidator(_month)]
FY = Annotated[str, Field(strict=True), AfterValidator(_fy)]
Name = Annotated[str, Field(strict=True, pattern=NAME_PATTERN, max_length=64)]
Money = Annotated[float, Field(strict=True, ge=0, allow_inf_nan=False)]
Share = Annotated[float, Field(strict=True, ge=0, le=1, allow_inf_nan=False)]
NonNegative = Annotated[float, Field(strict=True, ge=0, allow_inf_nan=False)]
Text = Annotated[str, Field(strict=True, max_length=4000)]

Confidence = Literal["very_low", "low", "moderate", "high"]
System = Literal["sports", "education", "health", "exploitation", "criminal_justice", "cross_cutting"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class Horizon(Strict):
    start: Month
    months: Annotated[int, Field(strict=True, ge=1, le=240)]


class Policy(Strict):
    commissioning_min_share: Share = 0.20
    partner_pickup: Share = Field(1.0, description="share of the promised partner pick-up that happens")
    allow_reopening: bool = False
    disruption_penalty_per_participant: Money = 0.0
    discount_rate_annual: Share = 0.035
    cost_inflation_annual: Share = 0.0
    underwriting_cost_weight: NonNegative = 5.0  # a last resort: below the unfunded-liability penalty (10)
    confidence_factors: dict[Confidence, Share] = Field(
        default_factory=lambda: {"very_low": 0.25, "low": 0.5, "moderate": 0.75, "high": 1.0}
    )
    objective: Literal["max_value", "min_grant"] = "max_value"
    target_value: Money | None = None
    time_limit_seconds: Annotated[float, Field(gt=0, le=3600, allow_inf_nan=False)] = 60.0
    mip_rel_gap: Share = 1e-4
    # Two-stage (cliff-edge) solves prove the last tenths of a per cent slowly, and 0.1% of the expected value
    # is far inside what the grant probabilities can tell; VSS, EVPI and costs to keep are reported to within it.
    two_stage_rel_gap: Share = Field(1e-3, description="relative MIP gap of the two-stage (cliff-edge) solves")
    scale_changes: Literal["yearly", "monthly"] = Field(
        "yearly", description="a running service's scale is a contract term set per financial year, or per month"
    )
    commissioning_basis: Literal["claimed", "awarded"] = Field(
        "claimed", description="the commissioning minimum is a share of the core grant claimed (spent), or awarded"
    )
    exit_costs_count_as_commissioned: bool = Field(
        False, description="exit and start-up costs paid from the core grant count towards the commissioning minimum"
    )
    # How the model reaches HiGHS: "direct" compiles it to matrices for highspy (fast), "pyomo" goes through
    # Pyomo's solver interface (the reference path); both give the same plans.
    solver_interface: Literal["direct", "pyomo"] = "direct"
    sources: dict[str, Text] = Field(default_factory=dict)


class Stream(Strict):
    kind: Literal["core_grant", "ring_fenced", "underwriting", "other"]
    title: Text = ""
    amounts: dict[FY, Money] = Field(default_factory=dict)
    confirmed_month: Month | None = None
    eligible: list[Name] | None = None
    cap: Money | None = None
    source: Text = ""

    @model_validator(mode="after")
    def _kind_fields(self) -> Stream:
        if self.kind == "underwriting" and self.cap is None:
            raise ValueError("an underwriting stream needs a cap (GBP)")
        if self.kind == "ring_fenced" and not self.eligible:
            raise ValueError("a ring-fenced stream needs a non-empty eligible list")
        return self


class Distribution(Strict):
    """How uncertain an input is: triangular from low to high, peaking at the input's own value, or uniform.

    Absent, `vru_model.scenario.distributions` derives one (from the evidence band and confidence for an effect)."""

    kind: Literal["triangular", "uniform"] = "triangular"
    low: NonNegative
    high: NonNegative
    source: Text = ""

    @model_validator(mode="after")
    def _ordered(self) -> Distribution:
        if self.low > self.high:
            raise ValueError(f"bounds inverted: low {self.low:g} is above high {self.high:g}")
        return self


class EffectDistribution(Distribution):
    """An effect's distribution: a share of violence avoided, so both bounds lie in [0, 1]."""

    low: Share
    high: Share


class HarmCost(Strict):
    gbp: Money
    price_year: FY
    source: Text
    distribution: Distribution | None = None

    @model_validator(mode="after")
    def _inside(self) -> HarmCost:
        d = self.distribution
        if d is not None and not d.low <= self.gbp <= d.high:
            raise ValueError(f"gbp {self.gbp:g} is outside its distribution's range {d.low:g} to {d.high:g}")
        return self


class Value(Strict):
    price_year: FY
    inflation_to_price_year: Annotated[float, Field(strict=True, gt=0, le=10, allow_inf_nan=False)] = 1.0
    inflation_source: Text = ""
    harm_costs: dict[Name, HarmCost] = Field(default_factory=dict)


class Evidence(Strict):
    effect: Share
    band: Literal["high", "moderate", "low", "insufficient"]
    confidence: Confidence
    incidents_per_participant: NonNegative
    harm: Name
    source: Text
    effect_distribution: EffectDistribution | None = None

    @model_validator(mode="after")
    def _inside(self) -> Evidence:
        d = self.effect_distribution
        if d is not None and not d.low <= self.effect <= d.high:
            raise ValueError(f"effect {self.effect:g} is outside its effect_distribution {d.low:g} to {d.high:g}")
        return self


class Scale(Strict):
    min: NonNegative
    max: Annotated[float, Field(strict=True, gt=0, le=10, allow_inf_nan=False)]

    @model_validator(mode="after")
    def _ordered(self) -> Scale:
        if self.min > self.max:
            raise ValueError(f"scale min {self.min} is above max {self.max}")
        return self


class Intervention(Strict):
    title: Text
    kind: Literal["commissioned", "central", "place_based"]
    commissioned: bool | None = None
    system: System
    area: Text = "all"
    annual_cost: Money
    scale: Scale = Scale(min=1.0, max=1.0)
    participants_per_year: NonNegative = 0.0
    taper: dict[FY, Share] = Field(default_factory=dict)
    pickup: Share | None = None
    notice_months: Annotated[int, Field(strict=True, ge=0, le=24)] = 3
    variation_notice_months: Annotated[int, Field(strict=True, ge=0, le=24)] | None = Field(
        None, description="notice needed to reduce the service's scale; notice_months when not given"
    )
    exit_cost: Money = 0.0
    startup_cost: Money = 0.0
    committed_until: Month | None = None
    scale_at_start: NonNegative | None = Field(
        None, description="scale of the running contract when the plan starts; reducing it needs notice "
        "(default: none given, the plan sets the first year's scale)"
    )
    committed_scale: NonNegative | None = Field(
        None, description="the contract cannot be cut below this scale before committed_until (default: "
        "scale_at_start, else scale.min)"
    )
    running_at_start: bool = True
    notice_served: Month | None = Field(
        None, description="notice of closure already served in this month: the service may close from this month "
        "plus notice_months (keeping it running after that means withdrawing the notice)"
    )
    units: Annotated[int, Field(strict=True, ge=1)] = 1
    mandatory: bool = False
    protected: bool = False
    evidence: Evidence | None = None
    sources: dict[str, Text] = Field(default_factory=dict)

    @property
    def is_commissioned(self) -> bool:
        """Counts towards the grant's commissioning minimum."""
        if self.kind == "commissioned":
            return True
        return self.kind == "place_based" and bool(self.commissioned)

    @property
    def variation_notice(self) -> int:
        """Months of notice needed to reduce the scale (a contract variation)."""
        return self.notice_months if self.variation_notice_months is None else self.variation_notice_months

    @property
    def start_scale(self) -> float | None:
        """The scale the service runs at just before the plan starts (None: the plan sets its first scale)."""
        if not self.running_at_start:
            return 0.0
        if self.scale_at_start is None:
            return None
        return min(max(self.scale_at_start, self.scale.min), self.scale.max)

    @property
    def committed_level(self) -> float:
        """The least scale of a committed contract before its committed month."""
        level = self.committed_scale if self.committed_scale is not None else self.start_scale
        return min(max(level or 0.0, self.scale.min), self.scale.max)

    def vru_share(self, fy: str) -> float:
        """VRU share of cost in a year: the latest taper entry at or before it, else 1."""
        known = sorted(k for k in self.taper if k <= fy)
        return self.taper[known[-1]] if known else 1.0


class GrantOutcome(Strict):
    name: Name
    probability: Share
    amount: Money


class Uncertainty(Strict):
    """One financial year's core grant is uncertain until its confirmation month."""

    stream: Name = "home_office_grant"
    fy: FY
    confirmed_month: Month
    outcomes: Annotated[list[GrantOutcome], Field(min_length=1, max_length=50)]
    unfunded_penalty: NonNegative = 10.0
    persists: bool = Field(True, description="the outcome's amount also holds for every later year of the horizon")
    sources: dict[str, Text] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _check(self) -> Uncertainty:
        total = sum(o.probability for o in self.outcomes)
        if abs(total - 1.0) > 1e-6:
            raise ValueError(f"outcome probabilities sum to {total:g}, not 1")
        names = [o.name for o in self.outcomes]
        if len(set(names)) != len(names):
            raise ValueError("outcome names must be unique")
        if periods.fy_of(self.confirmed_month) != self.fy:
            raise ValueError(f"confirmed_month {self.confirmed_month} is not inside {self.fy}")
        return self


class Reference(Strict):
    """Published figures the baseline must reconcile with (see tests)."""

    fy: FY
    core_grant: Money
    commissioned_share: Share
    source: Text


class ActualsFile(Strict):
    """The actual spend so far (`scenario.actuals`): history the plan cannot change."""

    file: Text = Field(description="CSV or XLSX in funding.csv's columns, relative to the scenario file")
    as_of: Month | None = Field(None, description="the last month the actuals cover (default: the file's latest)")
    _loaded: Any = PrivateAttr(default=None)  # the checked figures (scenario.actuals.Actuals), set when loaded

    @property
    def loaded(self) -> Any:
        """The actual spend as read and checked by `load_scenario` (None until then)."""
        return self._loaded


class Scenario(Strict):
    """A validated scenario (the keys of docs/contracts.md), frozen: change one with `vru_model.with_changes`.

    Example: `vru.load_scenario("scenarios/baseline.yaml").interventions["iris"].evidence.effect` is 0.08."""

    name: Name
    title: Text
    description: Text = ""
    extends: None = None
    horizon: Horizon
    policy: Policy = Policy()
    funding: Annotated[dict[Name, Stream], Field(min_length=1)]
    interventions: Annotated[dict[Name, Intervention], Field(min_length=1)]
    value: Value | None = None
    uncertainty: Uncertainty | None = None
    reference: Reference | None = None
    actuals: ActualsFile | None = None

    @property
    def months(self) -> list[str]:
        return periods.months(self.horizon.start, self.horizon.months)

    @property
    def fys(self) -> list[str]:
        return periods.fys(self.horizon.start, self.horizon.months)

    @property
    def core_stream(self) -> str:
        return next(k for k, s in self.funding.items() if s.kind == "core_grant")

    def core_grant(self, fy: str) -> float:
        return self.funding[self.core_stream].amounts.get(fy, 0.0)


def cross_check(data: Scenario) -> list[tuple[str, str]]:
    """Problems that need more than one field to see, as (key path, message) pairs."""
    problems: list[tuple[str, str]] = []
    months = set(data.months)
    first, last = data.months[0], data.months[-1]
    cores = [k for k, s in data.funding.items() if s.kind == "core_grant"]
    if len(cores) != 1:
        problems.append(("funding", f"needs exactly one stream of kind core_grant, found {len(cores)}"))
    for key, stream in data.funding.items():
        for name in stream.eligible or []:
            if name not in data.interventions:
                problems.append((f"funding.{key}.eligible", f"names unknown intervention {name!r}"))
        if stream.confirmed_month is not None and stream.confirmed_month not in months:
            problems.append(
                (f"funding.{key}.confirmed_month", f"{stream.confirmed_month} is outside the horizon {first} to {last}")
            )
    harms = set(data.value.harm_costs) if data.value else set()
    for key, item in data.interventions.items():
        if item.committed_until is not None and item.committed_until not in months:
            where = f"{item.committed_until} is outside the horizon {first} to {last}"
            problems.append((f"interventions.{key}.committed_until", where))
        if item.evidence is not None and item.evidence.harm not in harms:
            unknown = f"unknown harm {item.evidence.harm!r} (not in value.harm_costs)"
            problems.append((f"interventions.{key}.evidence.harm", unknown))
        if item.committed_until is not None and not item.running_at_start:
            not_running = "a service not running at the start cannot be committed"
            problems.append((f"interventions.{key}.committed_until", not_running))
    decided_from = data.actuals.as_of if data.actuals is not None and data.actuals.as_of else None
    for key, item in data.interventions.items():
        if item.notice_served is None:
            continue
        if decided_from is not None and item.notice_served > decided_from:
            problems.append((f"interventions.{key}.notice_served", f"{item.notice_served} is after the actuals' "
                             f"as-of month {decided_from}: notice not yet served is the plan's to decide"))
        elif decided_from is None and data.actuals is None and item.notice_served >= first:
            problems.append((f"interventions.{key}.notice_served", f"{item.notice_served} is not before the plan "
                             f"starts ({first}): notice served inside the plan is the plan's to decide"))
    if data.actuals is not None and data.actuals.as_of is not None and data.actuals.as_of not in months:
        problems.append(("actuals.as_of", f"{data.actuals.as_of} is outside the horizon {first} to {last}"))
    if data.actuals is not None and data.uncertainty is not None:
        problems.append(("actuals", "a re-plan from actuals is for a known grant: remove uncertainty, or re-plan "
                         "once the grant is confirmed"))
    if data.policy.objective == "min_grant" and data.policy.target_value is None:
        problems.append(("policy.target_value", "objective min_grant needs a target_value"))
    if data.uncertainty is not None:
        unc = data.uncertainty
        if unc.stream not in data.funding or data.funding[unc.stream].kind != "core_grant":
            problems.append(("uncertainty.stream", f"{unc.stream!r} is not the core grant stream"))
        if unc.confirmed_month not in months:
            where = f"{unc.confirmed_month} is outside the horizon {first} to {last}"
            problems.append(("uncertainty.confirmed_month", where))
        if unc.fy not in data.fys:
            problems.append(("uncertainty.fy", f"{unc.fy} is outside the horizon"))
    return problems
