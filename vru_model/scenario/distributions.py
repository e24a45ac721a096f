"""How uncertain the value inputs are, and joint samples of them (Latin hypercube, seeded).

Every effect size and every harm cost used by the plan is an uncertain input. A scenario may give
each one a distribution (`evidence.effect_distribution`, `value.harm_costs.<h>.distribution`); where
it does not, one is derived here and its source says how:

- an effect spans its Youth Endowment Fund Toolkit impact band (high: 30% or more, moderate: 10-30%,
  low: 2-9% less violence), widened for weaker evidence, and always includes the scenario's own value;
- a harm cost spans +/-30% of the Home Office unit cost (an illustrative assumption: Heeks et al.
  publish point estimates only).

Every distribution is centred: its median is the scenario's own value, so the samples spread around the
plan's central estimate instead of shifting it. A triangular range becomes a two-piece triangle (half the
draws below the value, rising to it; half above, falling from it), a uniform one two uniform halves. The
range is never narrowed: a band that starts at 0 keeps its 0, and only the weight on each side changes.
Where the value sits at an end of its range, half the draws equal the value.

The draws are a Latin hypercube (random-cd optimisation), then reordered within each column to cut the
correlation between inputs (Iman and Conover's rank method): each input keeps its strata.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.stats import norm, qmc, rankdata

from vru_model.scenario.schema import Distribution, Evidence, Scenario
from vru_model.scenario.value import monthly_value

YEF_SOURCE = (
    "public: Youth Endowment Fund Toolkit impact bands (high = 30%+ reduction in violence, moderate 10-30%, "
    "low 2-9%)"
)
# Effect ranges of each band. The top of "high" (50%) and the "insufficient" range are illustrative
# assumptions: the Toolkit gives no upper bound and no band for programmes without enough evidence.
BAND_RANGES: dict[str, tuple[float, float]] = {
    "high": (0.30, 0.50),
    "moderate": (0.10, 0.30),
    "low": (0.02, 0.09),
    "insufficient": (0.0, 0.10),
}
# Illustrative assumption: weaker evidence may be wrong about the band itself, so the range grows by
# this share of the band's width on each side.
CONFIDENCE_WIDENING: dict[str, float] = {"high": 0.0, "moderate": 0.25, "low": 0.5, "very_low": 1.0}
HARM_COST_SPREAD = 0.30
HARM_SOURCE = (
    "illustrative assumption: +/-30% around the Home Office unit cost (Heeks et al. 2018 publish point "
    "estimates, not ranges)"
)


@dataclass(frozen=True)
class UncertainInput:
    """One uncertain number: where it lives in the scenario, its range and where the range comes from."""

    key: str  # dotted path in the scenario, e.g. interventions.mentoring.evidence.effect
    column: str  # its column in samples.csv
    kind: str  # triangular | uniform: each as two pieces meeting at the value
    low: float
    mode: float  # the scenario's own value: the median
    high: float
    source: str

    def ppf(self, u: np.ndarray) -> np.ndarray:
        """Quantiles for uniform draws `u` in [0, 1): half the mass on each side of the value."""
        u = np.asarray(u, dtype=float)
        below, above = self.mode - self.low, self.high - self.mode
        lower = 2 * u if self.kind == "uniform" else np.sqrt(2 * u)
        upper = 2 * (1 - u) if self.kind == "uniform" else np.sqrt(2 * (1 - u))
        return np.where(u < 0.5, self.low + below * lower, self.high - above * upper)

    @property
    def mean(self) -> float:
        """The two pieces' mean: each piece's mean, half each (a triangle's piece sits 2/3 of the way to the peak)."""
        toward = 0.5 if self.kind == "uniform" else 2 / 3
        return 0.5 * (self.low + toward * (self.mode - self.low)) + 0.5 * (self.high - toward * (self.high - self.mode))

    def as_dict(self) -> dict[str, object]:
        return {"key": self.key, "column": self.column, "kind": self.kind, "shape": f"two-piece {self.kind}",
                "low": self.low, "value": self.mode, "median": self.mode, "mean": round(self.mean, 6),
                "high": self.high, "source": self.source}


def effect_range(ev: Evidence) -> tuple[str, float, float, str]:
    """(kind, low, high, source) of an effect: the scenario's distribution, else the band's, widened."""
    if ev.effect_distribution is not None:
        d = ev.effect_distribution
        return d.kind, d.low, d.high, d.source or "given in the scenario"
    lo, hi = BAND_RANGES[ev.band]
    widen = CONFIDENCE_WIDENING[ev.confidence] * (hi - lo)
    low = max(0.0, min(lo - widen, ev.effect))
    high = min(1.0, max(hi + widen, ev.effect))
    source = f"{YEF_SOURCE}: the {ev.band} band"
    if widen:
        source += f", widened by {CONFIDENCE_WIDENING[ev.confidence]:.0%} of its width each side for {ev.confidence}"
        source += " confidence (illustrative assumption)"
    return "triangular", round(low, 6), round(high, 6), source


def harm_range(gbp: float, given: Distribution | None) -> tuple[str, float, float, str]:
    if given is not None:
        return given.kind, given.low, given.high, given.source or "given in the scenario"
    return "triangular", gbp * (1 - HARM_COST_SPREAD), gbp * (1 + HARM_COST_SPREAD), HARM_SOURCE


def uncertain_inputs(sc: Scenario) -> list[UncertainInput]:
    """Every effect of an intervention with evidence, then every harm cost some intervention uses."""
    found = []
    used: list[str] = []
    for i, item in sc.interventions.items():
        ev = item.evidence
        if ev is None:
            continue
        if ev.harm not in used:
            used.append(ev.harm)
        kind, low, high, source = effect_range(ev)
        found.append(UncertainInput(f"interventions.{i}.evidence.effect", f"effect.{i}", kind, low, ev.effect, high,
                                    source))
    costs = sc.value.harm_costs if sc.value else {}
    for h in sorted(used):
        cost = costs[h]
        kind, low, high, source = harm_range(cost.gbp, cost.distribution)
        found.append(UncertainInput(f"value.harm_costs.{h}.gbp", f"harm_cost.{h}", kind, low, cost.gbp, high,
                                    source))
    return found


def max_correlation(table: np.ndarray) -> float:
    """The largest absolute Pearson correlation between two columns (0 with fewer than two columns or rows)."""
    if table.shape[1] < 2 or table.shape[0] < 2:
        return 0.0
    with np.errstate(invalid="ignore", divide="ignore"):
        c = np.nan_to_num(np.corrcoef(table.T))
    np.fill_diagonal(c, 0.0)
    return float(np.abs(c).max())


def decorrelate(u: np.ndarray, rounds: int = 4) -> np.ndarray:
    """Reorder each column of a Latin hypercube so the columns correlate less (Iman-Conover on normal scores);
    each column keeps its values, so the strata hold. A round that does not lower the largest correlation ends it."""
    n, d = u.shape
    best = u
    for _ in range(rounds):
        scores = norm.ppf(np.column_stack([rankdata(best[:, k]) for k in range(d)]) / (n + 1))
        try:
            lower = np.linalg.cholesky(np.corrcoef(scores.T))
        except np.linalg.LinAlgError:  # fewer samples than inputs: no full-rank correlation to undo
            break
        target = scores @ np.linalg.inv(lower).T
        order = [rankdata(target[:, k], method="ordinal").astype(int) - 1 for k in range(d)]
        new = np.column_stack([np.sort(best[:, k])[order[k]] for k in range(d)])
        if max_correlation(new) >= max_correlation(best):
            break
        best = new
    return best


def draw(inputs: list[UncertainInput], n: int, seed: int) -> np.ndarray:
    """`n` joint samples (rows) of the inputs (columns): a seeded Latin hypercube, space-filling (random-cd)
    and decorrelated."""
    if not inputs:
        return np.zeros((n, 0))
    u = qmc.LatinHypercube(d=len(inputs), optimization="random-cd", rng=np.random.default_rng(seed)).random(n)
    if n > 2 and len(inputs) > 1:
        u = decorrelate(u)
    return np.column_stack([inp.ppf(u[:, k]) for k, inp in enumerate(inputs)])


def with_inputs(sc: Scenario, inputs: list[UncertainInput], row: np.ndarray | list[float]) -> Scenario:
    """The scenario with one sample's effects and harm costs in place of its own."""
    effects: dict[str, float] = {}
    harms: dict[str, float] = {}
    for inp, x in zip(inputs, row, strict=True):
        parts = inp.key.split(".")
        if parts[0] == "interventions":
            effects[parts[1]] = float(x)
        else:
            harms[parts[2]] = float(x)
    items = {
        i: item.model_copy(update={"evidence": item.evidence.model_copy(update={"effect": effects[i]})})
        if i in effects and item.evidence is not None else item
        for i, item in sc.interventions.items()
    }
    update: dict[str, object] = {"interventions": items}
    if sc.value is not None and harms:
        costs = {h: c.model_copy(update={"gbp": harms[h]}) if h in harms else c for h, c in sc.value.harm_costs.items()}
        update["value"] = sc.value.model_copy(update={"harm_costs": costs})
    return sc.model_copy(update=update)


def unit_values(sc: Scenario, inputs: list[UncertainInput], row: np.ndarray | list[float]) -> dict[str, float]:
    """Each intervention's monthly value at scale 1 under one sample (the model's objective coefficients)."""
    sampled = with_inputs(sc, inputs, row)
    return {i: monthly_value(sampled, item) for i, item in sampled.interventions.items()}
