"""The allocation model in Pyomo, read as a table of contents: one `add_<family>` per rule family (no I/O, no
solving). Each rule's plain-English words sit beside its code in its family's module; `RULES` (diagnostics,
reports) and docs/rules.md are read from them.

The formulation is compact: a rule that only holds a decision at a value (committed contracts, the central
capability floor, protected services kept running, no closure before notice can run out, no new service before
confirmation) is a bound on that variable, recorded by rule in `m.rule_bounds` (see `rules`); closures, openings
and notice of a service running at the start that may not re-open are expressions of `on`, not variables.
"""

from __future__ import annotations

import pyomo.environ as pyo

from vru_model.model.cliff_edge import CLIFF_EDGE, add_cliff_edge
from vru_model.model.contracts import CONTRACTS, add_contracts_and_notice
from vru_model.model.data import ModelData, prepare
from vru_model.model.decisions import add_decisions, set_grants, set_values
from vru_model.model.grant_conditions import GRANT_CONDITIONS, add_commissioning_minimum, add_services_kept_running
from vru_model.model.history import HISTORY, add_history
from vru_model.model.money import MONEY, add_money
from vru_model.model.objective import OBJECTIVE, TIE_BREAK, add_objective
from vru_model.model.rules import apply_rule_bounds, bound_rules_of, render_markdown, rule_texts
from vru_model.model.service_levels import SERVICE_LEVELS, add_service_levels
from vru_model.scenario.schema import Scenario

__all__ = [
    "FAMILIES", "RULES", "TIE_BREAK", "apply_rule_bounds", "bound_rules_of", "build_model", "rules_markdown",
    "set_grants", "set_values",
]

FAMILIES = (MONEY, GRANT_CONDITIONS, SERVICE_LEVELS, CONTRACTS, CLIFF_EDGE, HISTORY, OBJECTIVE)

# Human names of each rule, used by diagnostics and reports.
RULES: dict[str, str] = rule_texts(FAMILIES)


def rules_markdown() -> str:
    """docs/rules.md: every rule family and its rules in words."""
    return render_markdown(FAMILIES)


def build_model(scenario: Scenario, data: ModelData | None = None) -> pyo.ConcreteModel:
    """A Pyomo model of the scenario. Grant amounts are mutable parameters (`m.grant`).

    The families are added in this order because HiGHS's path depends on the order of rows and columns."""
    d = data or prepare(scenario)
    m = pyo.ConcreteModel(name=d.scenario.name)
    c = add_decisions(m, d)
    add_money(m, c)
    add_commissioning_minimum(m, c)  # a grant condition, stated among the money rows
    add_service_levels(m, c)
    add_contracts_and_notice(m, c)
    add_services_kept_running(m, c)  # the grant conditions' central capability floor, and protected services
    add_cliff_edge(m, c)
    add_history(m, c)  # a re-plan only: the months already spent
    apply_rule_bounds(m)
    add_objective(m, c)
    m.data = d  # the derived numbers travel with the model, for results and diagnostics
    return m
