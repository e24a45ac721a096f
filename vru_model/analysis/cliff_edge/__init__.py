"""Cliff-edge planning: what to commit before the grant is confirmed, and what each grant level then needs.

The two-stage model (`prepare(two_stage=True)` + `build_model`) has one plan per grant outcome, tied
together before the confirmation month (`solve`). Around its solution we measure what the uncertainty costs
(`value_of_information`: VSS and EVPI), read each outcome's plan (`plans`), say why each closure is made
(`closures`), and turn the plans into sentences a director can act on (`words`); `serialise` writes
cliff_edge.json.
"""

from vru_model.analysis.cliff_edge.solve import CliffEdgeResult, solve_cliff_edge, two_stage_gap
from vru_model.analysis.cliff_edge.value_of_information import expected_outcome

__all__ = ["CliffEdgeResult", "expected_outcome", "solve_cliff_edge", "two_stage_gap"]
