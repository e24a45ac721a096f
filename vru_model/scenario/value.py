"""The social value of a service: the one formula the model's objective and the sampled inputs share."""

from __future__ import annotations

from vru_model.scenario.schema import Intervention, Scenario


def monthly_value(scenario: Scenario, item: Intervention) -> float:
    """Participants x effect x incidents avoided x harm cost x confidence, per month at scale 1."""
    ev = item.evidence
    if ev is None or scenario.value is None:
        return 0.0
    harm = scenario.value.harm_costs[ev.harm].gbp * scenario.value.inflation_to_price_year
    confidence = scenario.policy.confidence_factors.get(ev.confidence, 0.0)
    return item.participants_per_year * ev.incidents_per_participant * ev.effect * harm * confidence / 12.0
