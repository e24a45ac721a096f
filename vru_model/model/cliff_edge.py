"""Cliff edge: what may be decided before the grant is confirmed, and how the grant outcomes' plans are tied.

Decisions before confirmation are one variable shared by every outcome (`Context.decided_before`); the
underwriting and the unfunded liability that pay for them are streams with caps (`money`).
"""

from __future__ import annotations

import pyomo.environ as pyo

from vru_model.model.decisions import Context, Key
from vru_model.model.rules import Family

CLIFF_EDGE = Family(
    "Cliff edge",
    "When the next year's grant is confirmed late, no new service starts before confirmation, and, planning for "
    "several grant outcomes, decisions before the confirmation month are the same whatever the grant turns out to "
    "be.",
    __name__,
)


@CLIFF_EDGE.rule("no new service starts before the grant is confirmed", stated="bounds")
def no_new_commitments_before_confirmation(c: Context) -> None:
    confirmed = c.d.scenario.funding[c.d.core].confirmed_month
    for w, i, t in c.general:
        if not c.items[i].running_at_start and (
            (confirmed is not None and t < confirmed)
            or (c.d.two_stage and c.d.fy_of[t] == c.d.confirmation_fy and t < (c.d.confirmation_month or ""))
        ):
            c.bound("no_new_commitments_before_confirmation", c.m.opening[w, i, t], "ub", 0)


@CLIFF_EDGE.rule(
    "decisions before the confirmation month are the same whatever the grant turns out to be (one shared "
    "decision; rows only for closures that notice served before then fixes)"
)
def non_anticipativity(c: Context, w: str, i: str, t: str) -> object:
    return c.m.close[w, i, t] == c.m.close[c.first, i, t]


def _closures_fixed_by_early_notice(c: Context) -> list[Key]:
    """A closure that notice served before confirmation already fixes, in each outcome but the first, where it
    is not a shared decision itself."""
    tied = []
    for w in c.m.W:
        for i in c.d.interventions:
            n = c.items[i].notice_months
            for t in c.d.shared_months:
                later = c.pos[t] + n
                if w != c.first and later < len(c.months) and not c.decided(i, c.months[later]):
                    tied.append((w, i, c.months[later]))
    return tied


def add_cliff_edge(m: pyo.ConcreteModel, c: Context) -> None:
    no_new_commitments_before_confirmation(c)
    m.non_anticipativity = pyo.Constraint(_closures_fixed_by_early_notice(c), rule=c.rows(non_anticipativity))
