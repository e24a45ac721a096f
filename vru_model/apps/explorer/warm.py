"""Re-solving in place: the explorer's moves mostly change grant amounts, which need no rebuild of the model."""

from __future__ import annotations

import json
import time
from typing import Any

from vru_model.analysis.decisions import annotate
from vru_model.analysis.diagnostics import explain
from vru_model.analysis.results import Result, make_result
from vru_model.model.build import build_model
from vru_model.model.data import prepare
from vru_model.scenario.load import scenario_to_dict
from vru_model.scenario.schema import Scenario
from vru_model.solving.solver import open_solver
from vru_model.solving.status import Status


class WarmModel:
    """One built model and persistent HiGHS solver (`solver.open_solver`), re-solved in place when only the
    core grant amounts or the underwriting cap change (both reach the model as mutable parameters:
    `m.grant`, `m.underwriting_bound`; `set_grants` changes the affected rows in HiGHS). Any other change, or
    a change in which years have a grant (the central capability floor exists only in those) or whether
    underwriting exists at all, rebuilds the model. Shadow prices are not computed: the explorer does not
    show them."""

    def __init__(self) -> None:
        self.shape: str | None = None
        self.model: Any = None
        self.opt: Any = None  # the persistent solver (a `solver.ModelSolver`)
        self.rebuilds = 0

    @staticmethod
    def _shape(scenario: Scenario) -> str:
        data = scenario_to_dict(scenario)
        core = data["funding"][scenario.core_stream]
        core["amounts"] = sorted(fy for fy, amount in core["amounts"].items() if amount > 0)
        for stream in data["funding"].values():
            if stream["kind"] == "underwriting":
                stream["cap"] = bool(stream["cap"])
        return json.dumps(data, sort_keys=True)

    def solve(self, scenario: Scenario) -> Result:
        started = time.perf_counter()
        data = prepare(scenario)
        shape = self._shape(scenario)
        if shape != self.shape:
            self.model = build_model(scenario, data)
            self.opt, self.shape = open_solver(scenario, self.model), shape
            self.rebuilds += 1
        else:
            self.opt.set_grants(data)
        built = time.perf_counter()
        status, res = self.opt.solve()
        solved = time.perf_counter()
        explanation = explain(scenario, data, self.model) if status == Status.INFEASIBLE else None
        timings = {"build_seconds": built - started, "solve_seconds": solved - built,
                   "total_seconds": time.perf_counter() - started}
        result = make_result(scenario, data, self.model, status, res, {}, explanation, timings)
        if result.objective is not None:  # as `solve` does: every closure says why (its cost to keep is not measured)
            annotate(scenario, data, result.summary, result.allocation)
        return result

