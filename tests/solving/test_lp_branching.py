"""The short branch and bound on a warm LP relaxation (`lp_branching.search`): hand-worked knapsacks whose
optimum is known, the limits that make it give up, and the baseline's robustness samples it settles, each
against HiGHS's own MIP on the same objective."""

from __future__ import annotations

import time
from pathlib import Path

import highspy
import numpy as np
import pyomo.environ as pyo
import pytest

from vru_model import load_scenario
from vru_model.model.build import build_model, set_values
from vru_model.model.data import prepare
from vru_model.scenario.distributions import draw, uncertain_inputs, unit_values
from vru_model.solving import lp_branching
from vru_model.solving.solver import open_solver
from vru_model.solving.status import SAMPLE_HIGHS_OPTIONS, Status, Strategy

ROOT = Path(__file__).resolve().parents[2]
FAR = time.perf_counter() + 3600.0
BINARIES = np.arange(3, dtype=np.int32)


def knapsack(sense: int, row_lower: float, row_upper: float) -> highspy.Highs:
    """Three binaries a, b, c worth 5, 4, 3 weighing 2, 3, 1 (`sense` -1 maximises, 1 minimises the negated
    worth), their relaxation solved. Capacity 4: the LP takes a and c whole and a third of b (9 1/3); the best
    whole choice is a and c (8)."""
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("threads", 1)  # as every HiGHS of the workbench: a process's first run fixes the count
    cost = np.array([5.0, 4.0, 3.0]) * (1 if sense == -1 else -1)
    h.passModel(3, 1, 3, 1, sense, 0.0, cost, np.zeros(3), np.ones(3), np.array([row_lower]),
                np.array([row_upper]), np.array([0, 1, 2], dtype=np.int32), np.array([0, 0, 0], dtype=np.int32),
                np.array([2.0, 3.0, 1.0]), np.zeros(3, dtype=np.int32))  # continuous: the relaxation
    h.run()
    assert h.getModelStatus() == highspy.HighsModelStatus.kOptimal
    return h


@pytest.mark.parametrize("sense, optimum", [(-1, 8.0), (1, -8.0)])
def test_a_hand_worked_knapsack_is_solved_to_its_optimum_either_way_round(sense: int, optimum: float):
    lp = knapsack(sense, -highspy.kHighsInf, 4.0)
    assert lp.getInfo().objective_function_value == pytest.approx(-sense * 28 / 3)
    found = lp_branching.search(lp, BINARIES, rel_gap=0.0, node_limit=20, deadline=FAR)
    assert found is not None
    assert found.objective == pytest.approx(optimum)
    assert np.allclose(found.columns, [1.0, 0.0, 1.0])
    assert found.bound == pytest.approx(optimum)
    assert np.allclose(lp.getLp().col_upper_, 1.0) and np.allclose(lp.getLp().col_lower_, 0.0)  # bounds back


def settled(found: lp_branching.Found | lp_branching.NoPlan | None) -> bool:
    return isinstance(found, lp_branching.Found) and found.proved


@pytest.mark.parametrize("sense", [-1, 1])
def test_it_gives_up_at_the_node_limit_keeping_its_best_plan_and_leaves_the_lp_as_it_was(sense: int):
    """At one LP only the rounding has run: its plan (a and c, worth 8) comes back unproved, with the root's
    bound (28/3), either way round."""
    lp = knapsack(sense, -highspy.kHighsInf, 4.0)
    found = lp_branching.search(lp, BINARIES, rel_gap=0.0, node_limit=1, deadline=FAR)
    assert isinstance(found, lp_branching.Found) and not found.proved
    assert found.objective == pytest.approx(-sense * 8.0) and found.bound == pytest.approx(-sense * 28 / 3)
    assert np.allclose(found.columns, [1.0, 0.0, 1.0])
    if sense == 1:
        return
    assert np.allclose(lp.getLp().col_upper_, 1.0) and np.allclose(lp.getLp().col_lower_, 0.0)
    with pytest.raises(ValueError, match="solved to optimality just before"):  # its last solve was a node's
        lp_branching.search(lp, BINARIES, rel_gap=0.0, node_limit=20, deadline=FAR)
    lp_branching.run_until(lp, FAR)
    assert not settled(lp_branching.search(lp, BINARIES, rel_gap=0.0, node_limit=20, deadline=0.0))  # past it
    lp_branching.run_until(lp, FAR)  # (a search leaves the LP's time limit at its deadline)
    assert lp_branching.search(lp, BINARIES, rel_gap=0.0, node_limit=20, deadline=FAR).objective == pytest.approx(8.0)


def test_a_relaxation_with_no_whole_solution_is_no_plan_once_every_branch_is_searched():
    """2a + 3b + c = 4.5 has fractional solutions only: searched to the end, that is a proof (NoPlan); cut
    short by the node limit it proves nothing (None: no plan found, and the MIP decides)."""
    lp = knapsack(-1, 4.5, 4.5)
    assert lp_branching.search(lp, BINARIES, rel_gap=0.0, node_limit=3, deadline=FAR) is None
    lp_branching.run_until(lp, FAR)
    assert isinstance(lp_branching.search(lp, BINARIES, rel_gap=0.0, node_limit=50, deadline=FAR),
                      lp_branching.NoPlan)


def test_an_offered_plan_counts_only_when_it_is_feasible():
    lp = knapsack(-1, -highspy.kHighsInf, 4.0)
    # a and b together weigh 5: over the capacity, so it must not be returned as worth 9
    found = lp_branching.search(lp, BINARIES, rel_gap=0.0, node_limit=20, deadline=FAR, start=np.array([1.0, 1.0, 0.0]))
    assert found is not None and found.objective == pytest.approx(8.0)
    # a feasible plan within the gap of the bound is enough: the search stops at it, and the bound it gives
    # is the root's (9 1/3: the root was dropped for being within the gap, not searched)
    lp.run()
    found = lp_branching.search(lp, BINARIES, rel_gap=0.2, node_limit=20, deadline=FAR, start=np.array([1.0, 0.0, 1.0]))
    assert found is not None and found.objective == pytest.approx(8.0) and found.bound == pytest.approx(28 / 3)


def test_plan_by_counts_only_plans_the_search_found_itself():
    """Capacity 4.6: the relaxation takes a and c and 0.53 of b, and rounding b up overweighs the sack, so the
    rounding finds nothing. An offered plan (b and c, worth 7) is not the search's own: with `plan_by` 2 it
    gives up at once and hands the offered plan back unproved; without `plan_by` it finds a and c (8)."""
    start = np.array([0.0, 1.0, 1.0])
    lp = knapsack(-1, -highspy.kHighsInf, 4.6)
    found = lp_branching.search(lp, BINARIES, rel_gap=0.0, node_limit=20, deadline=FAR, start=start, plan_by=2)
    assert isinstance(found, lp_branching.Found) and not found.proved and found.objective == pytest.approx(7.0)
    lp_branching.run_until(lp, FAR)
    found = lp_branching.search(lp, BINARIES, rel_gap=0.0, node_limit=20, deadline=FAR, start=start)
    assert settled(found) and found.objective == pytest.approx(8.0)


def test_baseline_samples_settled_by_the_search_are_highs_optima():
    """Robustness samples of the baseline whose relaxation is fractional: the ones the search settles give
    HiGHS's MIP optimum (within the gap), a whole plan that the model's rows accept, and the search settles
    most of them (that is what makes it worth having)."""
    scenario = load_scenario(ROOT / "scenarios" / "baseline.yaml")
    model = build_model(scenario, prepare(scenario))
    solver = open_solver(scenario, model, 1)
    solver.set_options(SAMPLE_HIGHS_OPTIONS)
    solver.prime_relaxation()
    reference = open_solver(scenario, model, 1, strategy=Strategy.MIP)
    inputs = uncertain_inputs(scenario)
    settled = fractional = 0
    for row in draw(inputs, 16, 0):
        set_values(model, unit_values(scenario, inputs, row))
        solver.refresh_objective()
        status, info = solver.solve()
        assert status == Status.OPTIMAL
        if info.termination == "optimal (LP relaxation integral)":
            continue
        fractional += 1
        if not info.termination.startswith("optimal (branching on the LP relaxation"):
            continue
        settled += 1
        assert info.objective_bound >= info.incumbent_objective
        assert info.objective_bound - info.incumbent_objective <= scenario.policy.mip_rel_gap * info.incumbent_objective
        for c in model.component_data_objects(pyo.Constraint, active=True):
            body = pyo.value(c.body)
            assert c.lower is None or body >= pyo.value(c.lower) - 1e-5, c.name
            assert c.upper is None or body <= pyo.value(c.upper) + 1e-5, c.name
        for v in model.component_data_objects(pyo.Var):
            if v.is_integer():
                assert abs(v.value - round(v.value)) <= 1e-6, v.name
        reference.refresh_objective()
        _, mip = reference.solve()
        assert info.incumbent_objective == pytest.approx(mip.incumbent_objective, rel=scenario.policy.mip_rel_gap)
    assert fractional >= 4 and settled >= fractional / 2, (settled, fractional)


def test_the_relaxation_keeps_settling_samples_after_its_runs_add_up_past_the_time_limit():
    """HiGHS 1.16 counts an LP's time limit against the run time of all its runs together: a second reading
    found every sample after about the 500th of a worker sent to the MIP. Each run now gets its own limit."""
    scenario = load_scenario(ROOT / "scenarios" / "baseline.yaml")
    scenario = scenario.model_copy(update={"policy": scenario.policy.model_copy(update={"time_limit_seconds": 1.0})})
    model = build_model(scenario, prepare(scenario))
    solver = open_solver(scenario, model, 1)
    solver.prime_relaxation()
    inputs = uncertain_inputs(scenario)
    set_values(model, unit_values(scenario, inputs, draw(inputs, 2, 0)[1]))  # a sample the search settles
    solver.refresh_objective()
    runs = 0
    while solver.relaxation.lp.getRunTime() < 2.5 and runs < 200:
        status, info = solver.solve()
        assert status == Status.OPTIMAL
        assert info.termination.startswith("optimal (branching on the LP relaxation"), (runs, info.termination)
        runs += 1
    assert solver.relaxation.lp.getRunTime() >= 2.5, "the relaxation's runs never added up past the time limit"
