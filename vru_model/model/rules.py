"""Each rule's plain-English words, recorded beside the code that states it, and the rules stated as bounds.

A family module declares a `Family` and decorates the function that states each of its rules, so the words
a partner reads (diagnostics, reports, docs/rules.md) and the maths sit together. A rule that only holds a
decision at a value is a bound on that variable rather than a row, recorded by rule in `m.rule_bounds` so
that diagnostics can name it and a what-if can lift it (`apply_rule_bounds`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TypeVar

import pyomo.environ as pyo

Stater = TypeVar("Stater", bound=Callable[..., object])


@dataclass(frozen=True)
class Rule:
    name: str  # the name of the rows (a Pyomo constraint) or of the bounds (`m.rule_bounds`) that state it
    text: str
    stated: str  # how the model states it: "rows", "bounds", both, or an expression of the decisions


@dataclass
class Family:
    """Rules that belong together, as one `add_<family>` adds them to the model."""

    title: str
    about: str
    module: str
    rules: list[Rule] = field(default_factory=list)

    def rule(self, text: str, name: str | None = None, stated: str = "rows") -> Callable[[Stater], Stater]:
        """Record the decorated function as the rule of its own name (or `name`), in these words."""

        def record(stater: Stater) -> Stater:
            self.rules.append(Rule(name or stater.__name__, text, stated))
            return stater

        return record


def rule_texts(families: Iterable[Family]) -> dict[str, str]:
    """Each rule's name and words, family by family."""
    return {r.name: r.text for family in families for r in family.rules}


def render_markdown(families: Iterable[Family]) -> str:
    """The rule table as Markdown, one section per family: docs/rules.md is this text."""
    lines = [
        "# The model's rules",
        "",
        "Generated from the words beside each rule's code in `vru_model/model/` (a test checks it matches); "
        "regenerate with",
        "`python -c \"from vru_model.model.build import rules_markdown; print(rules_markdown(), end='')\" "
        "> docs/rules.md`.",
        "A rule's name is the name diagnostics and reports use: of the model's rows (a constraint) or of its bounds "
        "on decisions (`m.rule_bounds`) that state it.",
    ]
    for family in families:
        where = family.module.replace(".", "/") + ".py"
        lines += ["", f"## {family.title}", "", family.about, "", f"Stated in `{where}`.", ""]
        lines += ["| rule | what it means | stated as |", "|---|---|---|"]
        lines += [f"| `{r.name}` | {r.text} | {r.stated} |" for r in family.rules]
    return "\n".join(lines) + "\n"


def bound(m: pyo.ConcreteModel, rule: str, var: pyo.Var, side: str, value: float) -> None:
    """A rule that holds a decision at a value, stated as the variable's bound rather than a row."""
    m.natural_bounds.setdefault(id(var), (var, var.lb, var.ub))
    m.rule_bounds.setdefault(rule, []).append((var, side, value))


def apply_rule_bounds(m: pyo.ConcreteModel, without: Iterable[str | tuple[str, str]] = ()) -> None:
    """Set the bounds of every variable a rule holds (`m.rule_bounds`) from its own bounds and those of the
    rules, leaving out what `without` names: a rule (to price it), or a (rule, intervention) pair (to lift a
    rule for one service only, as a what-if that keeps another service does)."""
    lower = {k: lb for k, (_v, lb, _ub) in m.natural_bounds.items()}
    upper = {k: ub for k, (_v, _lb, ub) in m.natural_bounds.items()}
    skip = set(without)
    for rule, entries in m.rule_bounds.items():
        if rule in skip:
            continue
        for var, side, value in entries:
            if (rule, var.index()[1]) in skip:  # variables are indexed (outcome, intervention, month or year)
                continue
            k = id(var)
            if side == "lb":
                lower[k] = value if lower[k] is None else max(lower[k], value)
            else:
                upper[k] = value if upper[k] is None else min(upper[k], value)
    for k, (var, _lb, _ub) in m.natural_bounds.items():
        var.setlb(lower[k])
        var.setub(upper[k])


def bound_rules_of(m: pyo.ConcreteModel) -> dict[int, list[tuple[str, str]]]:
    """For each variable a rule holds by its bounds (by id), the (rule, "lb" or "ub") pairs that hold it."""
    found: dict[int, list[tuple[str, str]]] = {}
    for rule, entries in m.rule_bounds.items():
        for var, side, _value in entries:
            held = found.setdefault(id(var), [])
            if (rule, side) not in held:
                held.append((rule, side))
    return found
