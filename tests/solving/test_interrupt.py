"""Ctrl-C stops a HiGHS run where it is, not when it ends (`vru_model.solving.interrupt`)."""

from __future__ import annotations

import os
import signal
import threading
from pathlib import Path
from typing import Any

import highspy
import numpy as np
import pytest
import scipy.sparse as sp

from vru_model.solving import interrupt

INF = highspy.kHighsInf


def _random_lp(h: highspy.Highs, n: int, density: float) -> None:
    """max c.x with A x <= b, 0 <= x <= 1: at n=2,500 the dual simplex takes thousands of iterations (seconds)."""
    rng = np.random.default_rng(0)
    a = sp.random(n, n, density=density, random_state=0, format="csc")
    h.passModel(n, n, a.nnz, 1, -1, 0.0, rng.random(n), np.zeros(n), np.ones(n), np.full(n, -INF),
                np.full(n, n * density / 4), a.indptr[:-1].astype(np.int32), a.indices.astype(np.int32), a.data,
                np.zeros(n, dtype=np.int32))


def test_ctrl_c_stops_a_long_lp_at_once_and_the_solver_can_be_run_again():
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("threads", 1)
    h.setOptionValue("presolve", "off")
    _random_lp(h, 2500, 0.03)
    ctrl_c = threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGINT))
    ctrl_c.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            interrupt.run(h)
    finally:
        ctrl_c.cancel()
    # HiGHS itself stopped, in the middle of the LP; before the fix the LP ran to its optimum first
    assert h.getModelStatus() == highspy.HighsModelStatus.kInterrupt
    # the explorer runs the same object again after a Ctrl-C: nothing is left to interrupt that run
    _random_lp(h, 200, 0.05)
    interrupt.run(h)
    assert h.getModelStatus() == highspy.HighsModelStatus.kOptimal



def test_ctrl_c_stops_a_long_lp_run_through_pyomo():
    """On `solver_interface: pyomo` Pyomo runs HiGHS itself; without help a Ctrl-C there was swallowed and the
    solve came back as "the solver failed" once the LP had run to its end."""
    import pyomo.environ as pyo

    from vru_model.scenario.load import load_scenario
    from vru_model.solving.pyomo_highs import make_solver, run_solver
    from vru_model.solving.status import Status

    n, density = 2500, 0.03
    rng = np.random.default_rng(0)
    a = sp.random(n, n, density=density, random_state=0, format="csr")
    m = pyo.ConcreteModel()
    m.x = pyo.Var(range(n), bounds=(0, 1))
    m.objective = pyo.Objective(expr=sum(float(c) * m.x[j] for j, c in enumerate(rng.random(n))), sense=pyo.maximize)
    def row(m: pyo.ConcreteModel, k: int) -> Any:
        span = slice(a.indptr[k], a.indptr[k + 1])
        terms = zip(a.indices[span], a.data[span], strict=True)
        return sum(float(v) * m.x[int(j)] for j, v in terms) <= n * density / 4

    m.rows = pyo.Constraint(range(n), rule=row)
    opt = make_solver(load_scenario(Path(__file__).resolve().parents[2] / "scenarios" / "baseline.yaml"))
    opt.config.solver_options["presolve"] = "off"
    opt.set_instance(m)  # Pyomo's loading first, so that the Ctrl-C below comes during HiGHS's run
    ctrl_c = threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGINT))
    ctrl_c.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            run_solver(opt, m)
    finally:
        ctrl_c.cancel()
    assert opt._solver_model.getModelStatus() == highspy.HighsModelStatus.kInterrupt
    m.rows.deactivate()  # and the same solver runs again to the end
    opt.remove_constraints(list(m.rows.values()))
    assert run_solver(opt, m)[0] == Status.OPTIMAL


def test_a_forked_child_runs_highs_too():
    """After a run the solver thread exists in this process only: a child forked from it (user code with a
    fork-based pool) hung forever on its first run, queued for a thread it does not have."""
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("threads", 1)
    _random_lp(h, 200, 0.05)
    interrupt.run(h)  # the solver thread is up
    pid = os.fork()
    if pid == 0:  # the child: one run, then out, whatever happens
        try:
            child = highspy.Highs()
            child.setOptionValue("output_flag", False)
            child.setOptionValue("threads", 1)
            _random_lp(child, 200, 0.05)
            interrupt.run(child)
            os._exit(0 if child.getModelStatus() == highspy.HighsModelStatus.kOptimal else 1)
        finally:
            os._exit(2)
    for _ in range(300):  # up to 30 s
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            assert os.waitstatus_to_exitcode(status) == 0
            return
        threading.Event().wait(0.1)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    pytest.fail("the forked child's run never came back")
