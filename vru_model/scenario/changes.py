"""A scenario changed from Python or with `--set`: validated as a file is, and given a name of its own, so
that its results never land in the folder of the scenario it was changed from."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from vru_model.scenario.load import apply_overrides, load_dict, scenario_to_dict, validate, with_actuals
from vru_model.scenario.load import load_scenario as load_file
from vru_model.scenario.schema import Scenario


def overrides_name(base: str, overrides: Iterable[str]) -> str:
    """A name for a scenario with overrides, so it never replaces the plain scenario's folder: the scenario
    name, then each override's last key part and value (e.g. baseline_set_2022_23_2500000). The same
    overrides always give the same name; a long one is cut and ends in a short hash to stay unique."""
    overrides = tuple(overrides)
    parts = []
    for text in overrides:
        key, _, value = text.partition("=")
        parts.append(f"{key.strip().split('.')[-1]}_{value.strip()}")
    slug = re.sub(r"[^a-z0-9]+", "_", "_".join(parts).lower()).strip("_") or "changed"
    name = f"{base}_set_{slug}"
    if len(name) > 64:
        digest = hashlib.sha256("\n".join(overrides).encode()).hexdigest()[:8]
        name = f"{name[:55].rstrip('_')}_{digest}"
    return name


def _as_texts(changes: Iterable[str] | Mapping[str, Any]) -> list[str]:
    if isinstance(changes, Mapping):
        return [f"{key}={value}" for key, value in changes.items()]
    return list(changes)


def load_scenario(
    path: str | Path, overrides: Iterable[str] | Mapping[str, Any] | None = None, *, name: str | None = None
) -> Scenario:
    """A scenario file, loaded and validated; with `overrides` (``"KEY=VALUE"`` texts as `vru solve --set`
    takes, or a ``{dotted key: value}`` dict) it is named after them (`overrides_name`) unless `name` is given.
    Returns a `Scenario`; bad input raises ScenarioError listing every problem with its file and key.

    Examples:
        >>> vru.load_scenario("scenarios/baseline.yaml", overrides=["policy.commissioning_min_share=0.3"]).name
        'baseline_set_commissioning_min_share_0_3'
    """
    if not overrides and name is None:
        return load_file(path)
    if name is None:
        name = overrides_name(str(load_dict(path).get("name")), _as_texts(overrides or []))
    if isinstance(overrides, Mapping):
        return load_file(path, {**overrides, "name": name})
    return load_file(path, [*(overrides or []), f"name={name}"])


def with_changes(scenario: Scenario, changes: Mapping[str, Any], *, name: str | None = None) -> Scenario:
    """The scenario with these changes (``{"dotted.key": value}``, as `--set` names keys), validated as a
    file is and named after the changes unless `name` is given. Returns a new `Scenario` (the one given is
    frozen); bad values raise ScenarioError.

    Examples:
        >>> stronger = vru.with_changes(baseline, {"interventions.iris.evidence.effect": 0.2})
        >>> stronger.name, stronger.interventions["iris"].evidence.effect
        ('baseline_set_effect_0_2', 0.2)
    """
    data = apply_overrides(scenario_to_dict(scenario), dict(changes))
    data["name"] = name or overrides_name(scenario.name, _as_texts(changes))
    changed = validate(data, scenario.name)
    if changed.actuals is None:
        return changed
    return with_actuals(changed, changed.actuals.file, changed.actuals.as_of)
