"""The direct path to HiGHS (`policy.solver_interface: direct`) against Pyomo's own interface (`pyomo`):
the same model handed to HiGHS, the same plans and shadow prices, and persistent re-solves (grants,
objective, bounds changed in place) that agree with compiling afresh."""

from __future__ import annotations

from pathlib import Path

import highspy
import numpy as np
import pyomo.environ as pyo
import pytest
from scipy import sparse

from vru_model import load_scenario
from vru_model.analysis.solve import solve
from vru_model.model.build import build_model, set_values
from vru_model.model.data import prepare
from vru_model.scenario.schema import Scenario
from vru_model.solving.highs_direct import DirectSolver
from vru_model.solving.pyomo_highs import make_solver
from vru_model.solving.solver import open_solver
from vru_model.solving.status import SolveInfo, Status, Strategy, status_text

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"
EVERY_SCENARIO = sorted((ROOT / "scenarios").glob("*.yaml")) + sorted(FIXTURES.glob("*.yaml"))
# A re-plan's history switches off rows, so a few variables sit in no row at all: Pyomo's interface keeps them as
# columns (with no value), the direct one leaves them out. Every other scenario must give HiGHS the same model.
SAME_LP = [p for p in EVERY_SCENARIO if "\nactuals:" not in p.read_text(encoding="utf-8")]


def interface(scenario: Scenario, name: str) -> Scenario:
    return scenario.model_copy(update={"policy": scenario.policy.model_copy(update={"solver_interface": name})})


def direct(scenario: Scenario, model: pyo.ConcreteModel, strategy: Strategy = Strategy.MIP) -> DirectSolver:
    p = scenario.policy
    return DirectSolver(model, time_limit=p.time_limit_seconds, rel_gap=p.mip_rel_gap, strategy=strategy)


def lp_arrays(lp) -> dict[str, np.ndarray]:
    a = lp.a_matrix_
    parts = (np.array(a.value_), np.array(a.index_), np.array(a.start_))
    rowwise = a.format_ == highspy.MatrixFormat.kRowwise
    matrix = (sparse.csr_array if rowwise else sparse.csc_array)(parts, shape=(lp.num_row_, lp.num_col_)).tocsc()
    matrix.sort_indices()
    return {
        "cost": np.array(lp.col_cost_), "col_lower": np.array(lp.col_lower_), "col_upper": np.array(lp.col_upper_),
        "row_lower": np.array(lp.row_lower_), "row_upper": np.array(lp.row_upper_),
        "start": matrix.indptr, "index": matrix.indices, "value": matrix.data,
        "integrality": np.array([int(k) for k in lp.integrality_]), "offset": np.array([lp.offset_]),
        "sense": np.array([int(lp.sense_)]),
    }


def assert_same_lp(one, other) -> None:
    x, y = lp_arrays(one), lp_arrays(other)
    for key in x:
        np.testing.assert_array_equal(x[key], y[key], err_msg=key)


@pytest.mark.parametrize("path", SAME_LP, ids=lambda p: p.stem)
def test_both_interfaces_hand_highs_the_same_model(path: Path):
    """The same columns, rows, bounds, costs and integrality in the same order: with HiGHS's fixed random
    seed, the same plan follows, even where several plans are equally good."""
    scenario = load_scenario(path)
    model = build_model(scenario, prepare(scenario))
    opt = make_solver(scenario)
    opt.set_instance(model)
    assert_same_lp(direct(scenario, model).h.getLp(), opt._solver_model.getLp())


@pytest.mark.slow
@pytest.mark.parametrize("path", SAME_LP, ids=lambda p: p.stem)
def test_both_interfaces_give_identical_plans_from_highs_mip(path: Path):
    """With the relaxation-first path off, both interfaces run HiGHS's MIP on the same model: the same plan,
    to the last digit, even where several plans are equally good."""
    scenario = load_scenario(path)
    model = build_model(scenario, prepare(scenario))
    fast_status, fast = direct(scenario, model).solve()
    fast_plan = [v.value for v in model.component_data_objects(pyo.Var)]
    for v in model.component_data_objects(pyo.Var):
        v.set_value(None, skip_validation=True)
    ref_status, ref = open_solver(interface(scenario, "pyomo"), model).solve()
    assert fast_status == ref_status
    if ref_status != Status.OPTIMAL:
        return
    assert fast.incumbent_objective == pytest.approx(ref.incumbent_objective, rel=1e-9)
    assert fast_plan == [v.value for v in model.component_data_objects(pyo.Var)]


@pytest.mark.slow
@pytest.mark.parametrize("path", EVERY_SCENARIO, ids=lambda p: p.stem)
def test_both_interfaces_give_the_same_optimum(path: Path):
    """A scenario's solve: the direct path's relaxation first (and its branching) against HiGHS's MIP through
    Pyomo. The same status and the same optimum within the gap; where several plans are within the gap of
    each other the two may pick different ones."""
    scenario = load_scenario(path)
    fast, reference = solve(interface(scenario, "direct")), solve(interface(scenario, "pyomo"))
    assert fast.status == reference.status
    if reference.status != Status.OPTIMAL:
        return
    # each is within the gap of the optimum, so they are within twice the gap of each other
    assert fast.objective == pytest.approx(reference.objective, rel=2 * scenario.policy.mip_rel_gap)
    # Shadow prices come from a degenerate LP whose duals need not be unique (grant_ends: the two paths
    # returned different, equally valid duals), so here only their availability is compared; the baseline's
    # agree exactly (test_shadow_prices_agree_on_the_baseline).
    assert fast.summary["shadow_prices"]["available"] == reference.summary["shadow_prices"]["available"]
    assert fast.summary["provenance"]["solver"] == "HiGHS via highspy (direct)"


def test_shadow_prices_agree_on_the_baseline():
    """Row duals mapped back by row: the value of a pound of grant in each year, through both interfaces."""
    scenario = load_scenario(ROOT / "scenarios" / "baseline.yaml")
    fast, reference = solve(interface(scenario, "direct")), solve(interface(scenario, "pyomo"))
    assert fast.summary["shadow_prices"]["available"]
    ours = fast.summary["shadow_prices"]["grant_value_per_pound"]
    theirs = reference.summary["shadow_prices"]["grant_value_per_pound"]
    assert ours.keys() == theirs.keys()
    # The pinned LP is degenerate across years (a pound can move between 2022/23 and 2023/24 through the
    # services that span them), so the split by year may differ between two valid duals; a pound in every
    # year together is worth the same.
    assert sum(ours.values()) == pytest.approx(sum(theirs.values()), abs=1e-3)
    assert fast.objective == pytest.approx(reference.objective, rel=1e-9)


def test_set_grants_changes_the_rows_in_place():
    """After `set_grants` the HiGHS model is the one a fresh compile at the new grant gives, and so is the plan."""
    scenario = load_scenario(FIXTURES / "frontier_small.yaml")
    own = {y: scenario.core_grant(y) for y in scenario.fys}
    model = build_model(scenario, prepare(scenario))
    solver = direct(scenario, model)
    assert solver.solve()[0] == Status.OPTIMAL
    data = prepare(scenario, core_amounts={y: 0.6 * a for y, a in own.items()})
    solver.set_grants(data)
    fresh_model = build_model(scenario, data)
    fresh = direct(scenario, fresh_model)
    assert_same_lp(solver.h.getLp(), fresh.h.getLp())
    status, info = solver.solve()
    fresh_status, fresh_info = fresh.solve()
    assert status == fresh_status == Status.OPTIMAL
    assert info.incumbent_objective == pytest.approx(fresh_info.incumbent_objective, rel=1e-9)
    assert pyo.value(model.objective) == pytest.approx(pyo.value(fresh_model.objective), rel=1e-9)


def test_refresh_objective_takes_new_value_coefficients():
    """What a robustness sample does: new value coefficients in the objective, the same rows."""
    scenario = load_scenario(FIXTURES / "frontier_small.yaml")
    data = prepare(scenario)
    model = build_model(scenario, data)
    solver = direct(scenario, model)
    base_status, base = solver.solve()
    assert base_status == Status.OPTIMAL
    halved = {i: 0.5 if i == "mentoring" else 1.0 for i in data.interventions}
    w = data.outcomes[0].name
    value = sum(
        halved[i] * data.discount[t] * data.value[i] * model.scale[w, i, t]
        for i in data.interventions
        for t in data.months
    )
    model.objective.deactivate()
    model.sample_objective = pyo.Objective(expr=value - model.losses[w], sense=pyo.maximize)
    solver.refresh_objective()
    status, info = solver.solve()
    assert status == Status.OPTIMAL
    fresh = direct(scenario, model)  # compiled with the new objective from the start
    assert_same_lp(solver.h.getLp(), fresh.h.getLp())
    assert info.incumbent_objective == pytest.approx(fresh.solve()[1].incumbent_objective, rel=1e-9)
    assert info.incumbent_objective < base.incumbent_objective  # mentoring is worth half as much


def test_refresh_objective_re_reads_changed_parameters_of_the_same_objective():
    """A robustness sample changes `m.unit_value` and re-reads the same objective: its cached form must take
    the new values every time (twice here), as a fresh compile with those values does."""
    scenario = load_scenario(FIXTURES / "frontier_small.yaml")
    data = prepare(scenario)
    model = build_model(scenario, data)
    solver = direct(scenario, model)
    for factor in (0.5, 2.0):
        scaled = {i: factor * data.value[i] if i == "mentoring" else data.value[i] for i in data.interventions}
        set_values(model, scaled)
        solver.refresh_objective()
        status, info = solver.solve()
        assert status == Status.OPTIMAL
        fresh = direct(scenario, model)
        assert_same_lp(solver.h.getLp(), fresh.h.getLp())
        assert info.incumbent_objective == pytest.approx(fresh.solve()[1].incumbent_objective, rel=1e-9)


@pytest.mark.parametrize("name, settled", [("frontier_small.yaml", True), ("robust_hand.yaml", False)])
def test_the_relaxation_first_gives_the_mip_optimum_and_runs_no_mip_when_it_is_integral(name: str, settled: bool):
    """A robustness sample's solve: the LP relaxation from the kept basis, the MIP only when the relaxation is
    fractional. frontier_small's relaxation is integral at every draw, robust_hand's fractional at every one."""
    from vru_model.scenario.distributions import draw, uncertain_inputs, unit_values

    scenario = load_scenario(FIXTURES / name)
    model = build_model(scenario, prepare(scenario))
    solver = direct(scenario, model, Strategy.RELAXATION_FIRST)
    solver.prime_relaxation()
    inputs = uncertain_inputs(scenario)
    for row in draw(inputs, 5, 3):
        set_values(model, unit_values(scenario, inputs, row))
        solver.refresh_objective()
        status, info = solver.solve()
        assert status == Status.OPTIMAL
        assert (info.termination == "optimal (LP relaxation integral)") is settled
        assert pyo.value(model.objective) == pytest.approx(info.incumbent_objective, rel=1e-9)  # the plan loaded
        for v in model.component_data_objects(pyo.Var):
            if v.is_integer():
                assert abs(v.value - round(v.value)) <= 1e-6, v.name
        fresh = direct(scenario, model)  # the MIP, compiled afresh at these values
        assert info.incumbent_objective == pytest.approx(fresh.solve()[1].incumbent_objective,
                                                         rel=scenario.policy.mip_rel_gap)


def test_refresh_bounds_pins_and_releases_columns():
    scenario = load_scenario(FIXTURES / "frontier_small.yaml")
    model = build_model(scenario, prepare(scenario))
    solver = open_solver(scenario, model, strategy=Strategy.MIP)
    _, free = solver.solve()
    w = next(iter(model.W))
    month = list(model.T)[6]
    target = model.on[w, "mentoring", month]
    assert round(target.value) == 1
    later = [model.on[w, "mentoring", t] for t in list(model.T)[6:]]
    for var in later:
        var.fix(0)  # close mentoring from the seventh month: costs value
    solver.refresh_bounds()
    status, pinned = solver.solve()
    assert status == Status.OPTIMAL and round(target.value) == 0
    assert pinned.incumbent_objective < free.incumbent_objective - 1.0
    for var in later:
        var.unfix()
    solver.refresh_bounds()
    _, again = solver.solve()
    assert again.incumbent_objective == pytest.approx(free.incumbent_objective, rel=1e-9)


def test_a_time_limit_without_a_plan_says_so_and_names_the_setting():
    scenario = load_scenario(ROOT / "scenarios" / "baseline.yaml",
                             {"policy.time_limit_seconds": 1e-6, "policy.solver_interface": "pyomo"})
    result = solve(scenario)
    assert result.status == Status.ERROR
    assert "time limit" in result.summary["status_text"]
    assert "policy.time_limit_seconds" in result.summary["status_text"]
    assert "before finding any plan" in result.summary["status_text"]


def test_the_relaxation_first_path_keeps_to_the_time_limit_and_says_so():
    """The baseline needs a few LPs of branching to prove its plan: at a microsecond's limit the direct path
    does not return it as optimal (HiGHS's MIP once got a second of its own after the relaxation). Whether the
    rounding of the relaxation got done in time depends on the machine: with it, the plan and its gap; without,
    no plan. Either way the status names the setting."""
    scenario = load_scenario(ROOT / "scenarios" / "baseline.yaml", {"policy.time_limit_seconds": 1e-6})
    result = solve(scenario)
    assert result.status in (Status.TIME_LIMIT, Status.ERROR)
    assert "policy.time_limit_seconds" in result.summary["status_text"]
    if result.status == Status.TIME_LIMIT:
        assert result.objective is not None and "best possible plan" in result.summary["status_text"]


@pytest.mark.parametrize("theirs", [None, -1e7], ids=["no plan", "a worse plan"])
def test_when_highs_mip_runs_out_of_time_the_better_plan_and_the_tighter_bound_are_the_answer(monkeypatch, theirs):
    """A large model: the relaxation and its rounding fit in the time limit, HiGHS's MIP after them does not
    (its root LP alone outlasts what is left). Which happens first depends on the machine, so HiGHS's MIP is
    made to report what it reports then: the time limit, with no plan or a worse one than the rounding's (a
    second reading saw the baseline's plan given as "within 394%" that way) and a looser bound. The rounded
    plan comes back, with the relaxation's bound, as a plan found at the time limit."""
    scenario = load_scenario(ROOT / "scenarios" / "baseline.yaml")
    model = build_model(scenario, prepare(scenario))
    solver = direct(scenario, model, Strategy.RELAXATION_FIRST)
    out_of_time = (Status.ERROR if theirs is None else Status.TIME_LIMIT,
                   SolveInfo("kTimeLimit", theirs, None if theirs is None else 2e7, 60.0, True, 60.0))
    monkeypatch.setattr(solver, "_solve_mip", lambda time_limit=None: out_of_time)
    status, info = solver.relaxation.solve(solver._solve_mip, time_limit=solver.time_limit, rel_gap=solver.rel_gap,
                                           offered=None, node_limit=1)  # the rounding only: not proved in the gap
    assert status == Status.TIME_LIMIT and info.time_limit_reached
    assert info.incumbent_objective > 9.7e6  # the rounding's plan, not HiGHS's
    assert info.objective_bound > info.incumbent_objective * (1 + scenario.policy.mip_rel_gap)
    assert info.objective_bound < 9.8e6  # the relaxation's bound, not HiGHS's 2e7
    assert pyo.value(model.objective) == pytest.approx(info.incumbent_objective, rel=1e-9)  # the plan loaded
    for c in model.component_data_objects(pyo.Constraint, active=True):
        body = pyo.value(c.body)
        assert c.lower is None or body >= pyo.value(c.lower) - 1e-5, c.name
        assert c.upper is None or body <= pyo.value(c.upper) + 1e-5, c.name
    gap = (info.objective_bound - info.incumbent_objective) / info.incumbent_objective
    assert "policy.time_limit_seconds" in status_text(status, info) and f"within {gap:.2%}" in status_text(status, info)


def test_a_time_limit_with_a_plan_reports_its_gap():
    info = SolveInfo("kTimeLimit", 100.0, 102.5, 60.0, True, 60.0)
    text = status_text(Status.TIME_LIMIT, info)
    assert "policy.time_limit_seconds = 60 s" in text and "2.50%" in text
    assert status_text(Status.OPTIMAL, SolveInfo("kOptimal", 1.0, 1.0, 0.1, False, 60.0)) == "A best plan was found."


def test_a_level_whose_relaxation_has_no_solution_is_infeasible_without_running_the_mip():
    """frontier_small at 15% of its grant cannot meet its commitments: the relaxation-first solve says so from
    the LP alone, as HiGHS's MIP does for the same model."""
    scenario = load_scenario(FIXTURES / "frontier_small.yaml")
    amounts = {y: 0.15 * scenario.core_grant(y) for y in scenario.fys}
    model = build_model(scenario, prepare(scenario, core_amounts=amounts))
    solver = direct(scenario, model, Strategy.RELAXATION_FIRST)
    status, info = solver.solve()
    assert status == Status.INFEASIBLE and info.termination == "infeasible (LP relaxation)"
    assert solver.h.getModelStatus() == highspy.HighsModelStatus.kNotset  # the MIP never ran
    assert direct(scenario, model).solve()[0] == Status.INFEASIBLE


def test_shadow_prices_come_back_after_the_solver_has_run_longer_than_its_time_limit():
    """HiGHS 1.16 times an LP on the MIP's object against all its earlier runs: once a persistent solver's
    runs added up past the time limit, `lp_duals` returned nothing. Each LP now gets its own limit."""
    scenario = load_scenario(FIXTURES / "frontier_small.yaml")
    model = build_model(scenario, prepare(scenario))
    solver = DirectSolver(model, time_limit=0.5, rel_gap=scenario.policy.mip_rel_gap, strategy=Strategy.MIP)
    runs = 0
    while solver.h.getRunTime() < 0.6 and runs < 500:
        assert solver.solve()[0] == Status.OPTIMAL
        runs += 1
    assert solver.h.getRunTime() >= 0.6, "the solves never added up past the time limit"
    assert solver.lp_duals()
