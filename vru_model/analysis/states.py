"""A service's plan month by month, and what a commissioning lead acts on in it.

Every reading of a plan (closures, reductions, growth, a scale set at the start, a service's fate across
samples and alternatives, its state in each grant outcome, the frontier's closures) walks the same
`ServiceMonths`: whether the service runs each month and at what scale, starting from where it stood
before the plan (`running_at_start`, `start_scale`). Scale changes within `SCALE_STEP` are round-off.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pandas as pd
import pyomo.environ as pyo

from vru_model.core import periods
from vru_model.model.data import ModelData
from vru_model.scenario.schema import Intervention, Scenario

SCALE_STEP = 0.005  # scale changes smaller than this are solver round-off, not a decision


@dataclass(frozen=True)
class Step:
    """One month of a service's plan with the month before it (before the plan: the scenario's start)."""

    month: str
    ran: bool  # running the month before
    scale_before: float | None  # its scale then (None: the scenario gives none at the start)
    runs: bool
    scale: float

    @property
    def closes(self) -> bool:
        return self.ran and not self.runs

    @property
    def reduced(self) -> bool:
        """Still running, at a lower contract scale than the month before."""
        return self.ran and self.runs and self.scale_before is not None and self.scale < self.scale_before - SCALE_STEP

    @property
    def grows(self) -> bool:
        """Started (or started again), or running at a higher contract scale than the month before."""
        rise = self.ran and self.scale_before is not None and self.scale > self.scale_before + SCALE_STEP
        return self.runs and (not self.ran or rise)


@dataclass(frozen=True)
class Fate:
    """A service's fate over a whole plan: kept, reduced (runs to the end, but at a lower level at some point than
    it starts at) or closes (not running at the end), the month it first closes from, and whether it runs at all
    (one not running at the start that the plan never starts "closes" without a month)."""

    fate: str
    closes_from: str | None
    runs: bool

    @property
    def closed(self) -> bool:
        """A service the plan closes: it runs, then stops (one the plan never starts is not closed)."""
        return self.fate == "closes" and self.runs


@dataclass(frozen=True)
class ServiceMonths:
    """One service's plan: running (0/1) and scale in each month, as allocation.csv gives them."""

    item: Intervention
    months: tuple[str, ...]
    running: tuple[int, ...]
    scale: tuple[float, ...]
    as_of: str | None = None  # a re-plan: the months up to here happened, and hold no decision

    def _all_steps(self) -> Iterator[Step]:
        ran, before = self.item.running_at_start, self.item.start_scale
        for month, on, scale in zip(self.months, self.running, self.scale, strict=True):
            yield Step(month, ran, before, on == 1, scale)
            ran, before = on == 1, scale

    def steps(self) -> Iterator[Step]:
        """The months the plan decides (in a re-plan, those after `as_of`), each with the month before it."""
        return (s for s in self._all_steps() if self.as_of is None or s.month > self.as_of)

    def stopped(self) -> list[str]:
        """In a re-plan, the months up to `as_of` a service stopped in, having run the month before: what the
        actuals say happened, not a decision."""
        return [s.month for s in self._all_steps() if self.as_of is not None and s.month <= self.as_of and s.closes]

    def closes_from(self) -> list[str]:
        """Every month the service stops in, having run the month before."""
        return [s.month for s in self.steps() if s.closes]

    def notice_by(self, closes_from: str) -> str:
        return periods.add_months(closes_from, -self.item.notice_months)

    def reductions(self) -> list[Step]:
        return [s for s in self.steps() if s.reduced]

    def growth(self) -> list[Step]:
        return [s for s in self.steps() if s.grows]

    def scale_set_at_start(self) -> float | None:
        """The first month's scale of a service running at the start whose scale the scenario does not give
        (`scale_at_start`), when the plan sets it away from design strength; else None."""
        if not self.item.running_at_start or self.item.start_scale is not None or not self.months or self.as_of:
            return None
        if self.running[0] == 1 and abs(self.scale[0] - 1.0) > SCALE_STEP:
            return self.scale[0]
        return None

    def scale_before(self, month: str) -> float:
        """The scale in the month before `month` (before the plan: the scenario's start, design strength if none)."""
        k = self.months.index(month)
        return self.scale[k - 1] if k > 0 else (self.item.start_scale or 1.0)

    def fate(self) -> Fate:
        runs = self.item.running_at_start or any(self.running)
        if not self.running or self.running[-1] == 0:
            closing = self.closes_from()
            return Fate("closes", closing[0] if closing else None, runs)
        reduced = any(s < self.scale[0] - SCALE_STEP for s in self.scale)
        return Fate("reduced" if reduced else "kept", None, runs)


def as_of(sc: Scenario) -> str | None:
    """The last month a re-plan's actuals cover (None for a plan from the start)."""
    return sc.actuals.as_of if sc.actuals is not None else None


def plan_states(sc: Scenario, alloc: pd.DataFrame) -> dict[str, ServiceMonths]:
    """Each service's months in an allocation table (one outcome's rows, in month order)."""
    return {
        str(i): ServiceMonths(sc.interventions[str(i)], tuple(rows["period"]), tuple(int(x) for x in rows["running"]),
                              tuple(float(x) for x in rows["scale"]), as_of(sc))
        for i, rows in alloc.groupby("intervention", sort=False)
    }


def model_states(sc: Scenario, d: ModelData, m: pyo.ConcreteModel, w: str | None = None) -> dict[str, ServiceMonths]:
    """Each service's months in a solved model (outcome `w`, default the first), read as allocation.csv reads
    them: scale within its bounds, 0 when not running, to 4 places."""
    w = w or d.outcomes[0].name
    states = {}
    for i in d.interventions:
        item = sc.interventions[i]
        running = tuple(round(_value(m.on[w, i, t])) for t in d.months)
        scale = tuple(round(min(max(_value(m.scale[w, i, t]), 0.0), item.scale.max), 4) + 0.0 if on else 0.0
                      for t, on in zip(d.months, running, strict=True))
        states[i] = ServiceMonths(item, tuple(d.months), running, scale, as_of(sc))
    return states


def _value(var: Any) -> float:
    return float(var.value or 0.0)


def closure_count(closures: list[dict[str, Any]], since: str = "") -> int:
    """How many services a plan closes (each once, however often it stops), from month `since` on (default: over
    the whole plan); `closures` as summary.json lists them."""
    return len({c["intervention"] for c in closures if c["closes_from"] >= since})
