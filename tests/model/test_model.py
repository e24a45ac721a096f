"""The compact formulation keeps the optima of the formulation it replaced, and is smaller.

The objectives below were measured with the replaced formulation (every rule a row; closures, openings and
notice as variables with defining rows; non-anticipativity rows over copies of the shared decisions) at
commit 7d199ac, with each scenario's own settings. Both solves stop within the MIP gap of the optimum, so
they agree to within twice the gap.
"""

from __future__ import annotations

from pathlib import Path

import pyomo.environ as pyo
import pytest

from vru_model.analysis.cliff_edge import solve_cliff_edge, two_stage_gap
from vru_model.analysis.solve import solve
from vru_model.model.build import build_model
from vru_model.model.data import prepare
from vru_model.scenario.load import load_scenario

ROOT = Path(__file__).resolve().parents[2]

# path: (objective, variables, rows) of the replaced formulation; the shipped scenarios' objectives are those
# with every running service's contract at design strength when the plan starts (scale_at_start: 1.0)
BEFORE: dict[str, tuple[float | None, int, int]] = {
    "scenarios/baseline.yaml": (9719130.51, 7909, 12085),
    "scenarios/cut_25.yaml": (7717389.05, 7909, 12085),
    "scenarios/cut_50.yaml": (5260827.1, 7909, 12085),
    "scenarios/grant_ends.yaml": (-446623.37, 7909, 12037),
    "scenarios/growth_20.yaml": (10104053.79, 7909, 12085),
    "scenarios/infeasible_example.yaml": (None, 7791, 12108),
    "scenarios/inflation_erosion.yaml": (9345847.2, 7909, 12085),
    "scenarios/late_confirmation.yaml": (9719130.51, 7909, 12085),
    "scenarios/partner_fails_to_mainstream.yaml": (9206635.74, 7909, 12049),
    "tests/fixtures/cliff_edge_hand.yaml": (11999.4, 46, 68),
    "tests/fixtures/cliff_edge_persists.yaml": (167992.8, 340, 565),
    "tests/fixtures/cliff_edge_two_year.yaml": (383976.0, 372, 605),
    "tests/fixtures/frontier_small.yaml": (1169961.6, 720, 1133),
    "tests/fixtures/robust_hand.yaml": (249989.99999999997, 340, 541),
    "tests/fixtures/small.yaml": (464457.55706246523, 559, 895),
    "tests/fixtures/small_cut.yaml": (387042.75588538777, 559, 895),
    "tests/fixtures/tiny.yaml": (383976.0, 372, 605),
}
# Two-stage (cliff-edge) expected value of the recourse plan, same commit
BEFORE_TWO_STAGE = {
    "scenarios/late_confirmation.yaml": 5265928.81,
    "tests/fixtures/cliff_edge_hand.yaml": 1499.9,
    "tests/fixtures/cliff_edge_persists.yaml": 99995.4,
    "tests/fixtures/cliff_edge_two_year.yaml": 194985.1,
}


def _size(model: pyo.ConcreteModel) -> tuple[int, int]:
    variables = {id(v) for v in model.component_data_objects(pyo.Var)}
    rows = sum(1 for _ in model.component_data_objects(pyo.Constraint, active=True))
    return len(variables), rows


@pytest.mark.parametrize("path", sorted(BEFORE))
def test_same_optimum_as_the_replaced_formulation(path: str) -> None:
    scenario = load_scenario(ROOT / path)
    objective, variables, rows = BEFORE[path]
    result = solve(scenario, shadow_prices=False)
    if objective is None:
        assert result.objective is None and result.status.value == "infeasible"
    else:
        gap = scenario.policy.mip_rel_gap
        assert result.objective == pytest.approx(objective, abs=2 * gap * abs(objective) + 0.01)
    now_variables, now_rows = _size(build_model(scenario, prepare(scenario)))
    smaller = 0.9 if path.startswith("tests") else 0.8  # a shipped scenario loses a third of each
    assert now_variables < smaller * variables and now_rows < smaller * rows


@pytest.mark.parametrize("path", sorted(BEFORE_TWO_STAGE))
def test_same_two_stage_optimum_as_the_replaced_formulation(path: str) -> None:
    scenario = load_scenario(ROOT / path)
    expected = BEFORE_TWO_STAGE[path]
    result = solve_cliff_edge(scenario, value_of_information=False)
    gap = two_stage_gap(scenario)
    assert result.expected_value == pytest.approx(expected, abs=2 * gap * abs(expected) + 0.01)
