"""The objective of a solved plan in its parts, and how far a solver's figure may be from the true optimum.

The objective is discounted social value less four losses: exit and start-up costs (money), the disruption
penalty for participants who lose support, and the underwriting and unfunded-liability weights (weights of
the model, not money). A cost to keep, VSS and EVPI are differences of such objectives, so each says how
much of it is social value and how much the model's weights, from one `ObjectiveParts`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pyomo.environ as pyo

# cliff_edge.json's `breakdown_parts`: the signed parts (value positive, losses negative) of VSS and EVPI
BREAKDOWN_WORDS = {
    "social_value": "discounted social value of the services delivered",
    "exit_and_disruption": "exit and start-up costs and the disruption penalty for participants who lose support "
    "(subtracted)",
    "underwriting_penalty": "underwriting drawn, times the policy's underwriting weight (a penalty weight; subtracted)",
    "unfunded_liability_penalty": "unfunded liability, times the uncertainty's unfunded penalty (a penalty weight; "
    "subtracted)",
}


def gap_slack(rel_gap: float, objective: float, pounds: float = 0.0) -> float:
    """How far two solves stopped at a relative MIP gap of `rel_gap` may disagree about an objective of about
    `objective`: twice the gap (each may be off by it), on at least £1, plus `pounds` (the tie-break's)."""
    return 2 * rel_gap * max(1.0, abs(objective)) + pounds


@dataclass(frozen=True)
class ObjectiveParts:
    """A plan's objective in its parts, discounted and weighted by each grant outcome's probability (one outcome
    of probability 1 outside the cliff edge); the losses are positive numbers."""

    social_value: float
    exit_costs: float  # exit and start-up costs
    disruption: float  # the disruption penalty: a weight per participant who loses support
    underwriting: float  # underwriting drawn times policy.underwriting_cost_weight
    liability: float  # unfunded liability times its penalty (two-stage plans only)

    @classmethod
    def of(cls, m: pyo.ConcreteModel) -> ObjectiveParts:
        """The parts of a solved model's objective at its loaded solution."""
        prob = {w: o.probability for w, o in zip(m.W, m.data.outcomes, strict=True)}

        def expected(component: Any) -> float:
            return sum(prob[w] * float(pyo.value(component[w])) for w in m.W)

        return cls(expected(m.value), expected(m.exit_costs), expected(m.disruption),
                   expected(m.underwriting_penalty), expected(m.liability_penalty))

    @classmethod
    def from_totals(cls, totals: dict[str, Any]) -> ObjectiveParts:
        """The parts a summary.json's `totals` holds (rounded to the penny). A plan with every grant known has
        no unfunded liability, so its penalty weights are the underwriting's."""
        return cls(totals["value_discounted"], totals["exit_costs_discounted"], totals["disruption_weight"],
                   totals["penalty_weights"], 0.0)

    @property
    def penalty_weights(self) -> float:
        return self.underwriting + self.liability

    def weighted(self, probability: float) -> ObjectiveParts:
        return ObjectiveParts(*(probability * x for x in self._fields()))

    def __add__(self, other: ObjectiveParts) -> ObjectiveParts:
        return ObjectiveParts(*(a + b for a, b in zip(self._fields(), other._fields(), strict=True)))

    def _fields(self) -> tuple[float, float, float, float, float]:
        return self.social_value, self.exit_costs, self.disruption, self.underwriting, self.liability

    def totals(self) -> dict[str, float]:
        """summary.json's `totals` keys for the parts, to the penny."""
        return {"value_discounted": round(self.social_value, 2), "exit_costs_discounted": round(self.exit_costs, 2),
                "disruption_weight": round(self.disruption, 2), "penalty_weights": round(self.penalty_weights, 2)}

    def breakdown(self) -> dict[str, float]:
        """cliff_edge.json's signed parts (`BREAKDOWN_WORDS`): value positive and losses negative, so that they
        add up to the objective less the tie-break; unrounded (`breakdown_difference` rounds)."""
        return {"social_value": self.social_value, "exit_and_disruption": -(self.exit_costs + self.disruption),
                "underwriting_penalty": -self.underwriting, "unfunded_liability_penalty": -self.liability}

    def cost_to_keep(self, kept: ObjectiveParts) -> dict[str, float]:
        """`cost_to_keep_parts` of a closure or reduction, this plan against the plan that `kept` the service:
        social value lost, and exit costs, disruption penalty and penalty weights added (negative where keeping
        it saves some); they add up to the cost to keep, less the tie-break's fraction of a penny a pound."""
        return {"social_value": round(self.social_value - kept.social_value, 2),
                "exit_costs": round(kept.exit_costs - self.exit_costs, 2),
                "disruption": round(kept.disruption - self.disruption, 2),
                "penalty_weights": round(kept.penalty_weights - self.penalty_weights, 2)}


def breakdown_difference(a: ObjectiveParts, b: ObjectiveParts) -> dict[str, float]:
    """VSS or EVPI (`a` less `b`) in cliff_edge.json's signed parts, to the penny."""
    mine, theirs = a.breakdown(), b.breakdown()
    return {k: round(mine[k] - theirs[k], 2) for k in mine}
