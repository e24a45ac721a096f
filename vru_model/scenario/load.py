"""Loading scenario files: safe YAML, `extends` inheritance, dotted overrides, validation.

Dicts merge recursively, scalars and lists replace. The merged result is validated once, as a
whole, and every problem is reported with the file and key path it belongs to.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from vru_model.core import periods
from vru_model.core.errors import Problem, ScenarioError
from vru_model.scenario.actuals import read_actuals
from vru_model.scenario.schema import NAME_PATTERN, Scenario, cross_check

MAX_FILE_BYTES = 1_000_000
MAX_ALIASES = 50
MAX_EXPANDED_NODES = 100_000
MAX_DEPTH = 50
MAX_EXTENDS_DEPTH = 20


_INT_TAG = "tag:yaml.org,2002:int"
_FLOAT_TAG = "tag:yaml.org,2002:float"
_DIGITS = r"[0-9](?:_?[0-9])*"
# Numbers as people write them (YAML 1.2 style): 2480250, 1_000_000, 0.75, 1e15, 2.5E+6. YAML 1.1's other
# forms are not numbers here: 0700 is not octal 448 and 1:30 is not sexagesimal 90 (they would silently
# change a figure), and 0x1F is text; text where a number belongs is refused with how to write it.
_INT = re.compile(rf"^[-+]?{_DIGITS}$")
_FLOAT = re.compile(
    rf"^(?:[-+]?(?:{_DIGITS}\.(?:{_DIGITS})?|\.{_DIGITS})(?:[eE][-+]?[0-9]+)?"
    rf"|[-+]?{_DIGITS}[eE][-+]?[0-9]+"
    r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
)


class _BoundedLoader(yaml.SafeLoader):
    """SafeLoader that refuses alias bombs, very deep nesting and duplicate keys, and reads numbers exactly.

    Aliases are counted, and a document that uses any is refused if, with every alias expanded,
    it would have more than MAX_EXPANDED_NODES nodes (a few aliases nested in each other are
    enough for a billion laughs; a recursive alias expands without end). Nesting is bounded so
    that a file of brackets cannot exhaust Python's recursion limit. A key given twice in one
    mapping is refused wherever it is (flow or block style, on one line or two), because YAML
    would silently keep the last one.
    """

    def __init__(self, stream: str):
        super().__init__(stream)
        self._aliases = 0
        self._depth = 0
        self._path: list[str] = []

    def _refuse(self, key: str, message: str) -> ScenarioError:
        return ScenarioError([Problem(self.name, key, message)])

    def compose_node(self, parent, index):  # type: ignore[no-untyped-def]
        if self.check_event(yaml.AliasEvent):
            self._aliases += 1
            if self._aliases > MAX_ALIASES:
                raise self._refuse(".".join(self._path), f"more than {MAX_ALIASES} YAML aliases (refused)")
            return super().compose_node(parent, index)
        if isinstance(index, yaml.ScalarNode):
            label: str | None = index.value
        elif isinstance(index, int):
            label = str(index)
        else:
            label = None
        if label is not None:
            self._path.append(label)
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise self._refuse(".".join(self._path), f"nested deeper than {MAX_DEPTH} levels (refused)")
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1
            if label is not None:
                self._path.pop()

    def compose_mapping_node(self, anchor):  # type: ignore[no-untyped-def]
        node = super().compose_mapping_node(anchor)
        if node.flow_style:
            self._refuse_split_numbers(node)
        seen: dict[Any, yaml.Node] = {}
        for key_node, _ in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node)  # as the dict will see it: 1 and 01, or yes and on, are one key
            first = seen.setdefault(key, key_node)
            if first is not key_node:
                path = ".".join([*self._path, key_node.value])
                raise self._refuse(path, f"duplicate key at {_where(key_node, first)}")
        return node

    def _refuse_split_numbers(self, node: yaml.MappingNode) -> None:
        """`{2022/23: 3,307,000}` reads as `{2022/23: 3, 307: null, 0: null}`: refuse, saying how to write it."""
        pairs = node.value
        for k in range(1, len(pairs)):
            key, value = pairs[k]
            if not (_dangling_number(key, value) and _plain_number(pairs[k - 1][1])):
                continue
            last = k
            while last + 1 < len(pairs) and _dangling_number(*pairs[last + 1]):
                last += 1
            start, end = pairs[k - 1][1].start_mark.index, pairs[last][0].end_mark.index
            text = self.buffer[start:end]
            path = ".".join([*self._path, pairs[k - 1][0].value])
            digits = text.replace(",", "").replace(" ", "")
            raise self._refuse(path, f"{text!r} is read as separate entries (commas split a {{...}} mapping): "
                                     f"write the number without commas, e.g. {digits}")

    def get_single_node(self):  # type: ignore[no-untyped-def]
        node = super().get_single_node()
        if node is not None and self._aliases:
            stack, count = [node], 0
            while stack:
                item = stack.pop()
                count += 1
                if count > MAX_EXPANDED_NODES:
                    raise self._refuse("", f"YAML aliases expand to more than {MAX_EXPANDED_NODES} nodes (refused)")
                if isinstance(item, yaml.SequenceNode):
                    stack.extend(item.value)
                elif isinstance(item, yaml.MappingNode):
                    for pair in item.value:
                        stack.extend(pair)
        return node



def _where(node: yaml.Node, first: yaml.Node) -> str:
    """`line 4 (first set at line 3)`, with columns when both are on one line."""
    line, first_line = node.start_mark.line + 1, first.start_mark.line + 1
    if line != first_line:
        return f"line {line} (first set at line {first_line})"
    return f"line {line}, column {node.start_mark.column + 1} (first set at column {first.start_mark.column + 1})"


def _plain_number(node: yaml.Node) -> bool:
    return isinstance(node, yaml.ScalarNode) and node.style is None and node.tag in (_INT_TAG, _FLOAT_TAG)


def _dangling_number(key: yaml.Node, value: yaml.Node) -> bool:
    """A number given as a key with nothing after it: what `, 307` becomes inside `{...}`."""
    return (_plain_number(key) and isinstance(value, yaml.ScalarNode) and value.value == ""
            and value.style is None)


def _construct_int(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> int:
    return int(loader.construct_scalar(node).replace("_", ""), 10)


def _construct_float(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> float:
    text = loader.construct_scalar(node).replace("_", "").lower()
    return float(text.replace(".inf", "inf").replace(".nan", "nan"))


_BoundedLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag not in (_INT_TAG, _FLOAT_TAG)]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_BoundedLoader.add_implicit_resolver(_FLOAT_TAG, _FLOAT, list("-+0123456789."))
_BoundedLoader.add_implicit_resolver(_INT_TAG, _INT, list("-+0123456789"))
_BoundedLoader.add_constructor(_INT_TAG, _construct_int)
_BoundedLoader.add_constructor(_FLOAT_TAG, _construct_float)


def read_yaml(path: Path) -> dict[str, Any]:
    """Read one scenario file into a dict, or raise ScenarioError naming the file."""
    name = str(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ScenarioError([Problem(name, "", f"cannot read file ({exc.strerror or exc})")]) from None
    if len(raw) > MAX_FILE_BYTES:
        raise ScenarioError([Problem(name, "", f"file is larger than {MAX_FILE_BYTES} bytes")])
    if b"\x00" in raw:
        raise ScenarioError([Problem(name, "", "not a text file (contains NUL bytes)")])
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ScenarioError([Problem(name, "", "not a UTF-8 text file")]) from None
    if not text.strip():
        raise ScenarioError([Problem(name, "", "file is empty")])
    try:
        loader = _BoundedLoader(text)
        loader.name = name
        try:
            data = loader.get_single_data()
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ScenarioError([Problem(name, "", f"malformed YAML{where}: {problem}")]) from None
    if data is None:
        raise ScenarioError([Problem(name, "", "file is empty")])
    if not isinstance(data, dict):
        raise ScenarioError([Problem(name, "", f"top level must be a mapping, not {type(data).__name__}")])
    return data


def deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """Child wins; dicts merge recursively, everything else replaces."""
    merged = copy.deepcopy(dict(base))
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def _parents(data: Mapping[str, Any], name: str) -> list[str]:
    parents = data.get("extends")
    if parents is None:
        return []
    if isinstance(parents, str):
        return [parents]
    if isinstance(parents, list) and all(isinstance(p, str) for p in parents):
        return list(parents)
    raise ScenarioError([Problem(name, "extends", "must be a scenario name or a list of names")])


def _resolve(path: Path, chain: tuple[Path, ...]) -> dict[str, Any]:
    path = path.resolve()
    if path in chain:
        cycle = " -> ".join(p.stem for p in (*chain, path))
        raise ScenarioError([Problem(str(chain[0]), "extends", f"inheritance cycle: {cycle}")])
    if len(chain) > MAX_EXTENDS_DEPTH:
        raise ScenarioError([Problem(str(path), "extends", f"inheritance deeper than {MAX_EXTENDS_DEPTH}")])
    data = read_yaml(path)
    if not chain and data.get("extends") is not None and "name" not in data:
        raise ScenarioError(
            [Problem(str(path), "name", "required key is missing (a scenario does not take its parent's name)")]
        )
    merged: dict[str, Any] = {}
    for parent in _parents(data, str(path)):
        if not re.match(NAME_PATTERN, parent):
            raise ScenarioError([Problem(str(path), "extends", f"{parent!r} is not a scenario name ([a-z0-9_]+)")])
        parent_path = path.parent / f"{parent}.yaml"
        if not parent_path.is_file():
            missing = f"parent scenario {parent!r} not found ({parent_path.name})"
            raise ScenarioError([Problem(str(path), "extends", missing)])
        merged = deep_merge(merged, _resolve(parent_path, (*chain, path)))
    own = {k: v for k, v in data.items() if k != "extends"}
    return deep_merge(merged, own)


def parse_override(text: str) -> tuple[list[str], Any]:
    """Split `a.b.c=value` into a key path and a YAML-typed value."""
    if "=" not in text:
        raise ScenarioError([Problem("--set", text, "expected KEY=VALUE with a dotted key")])
    key, _, raw = text.partition("=")
    parts = [p for p in key.strip().split(".")]
    if not key.strip() or any(not p for p in parts):
        raise ScenarioError([Problem("--set", key, "empty key path")])
    try:
        value = yaml.load(raw, Loader=_BoundedLoader) if raw.strip() else None
    except (yaml.YAMLError, ScenarioError):
        raise ScenarioError([Problem("--set", key, f"cannot read value {raw!r}")]) from None
    return parts, value


def apply_overrides(data: dict[str, Any], overrides: Iterable[str] | Mapping[str, Any] | None) -> dict[str, Any]:
    """Apply dotted-key overrides (`funding.home_office_grant.amounts.2022/23=2500000`)."""
    if not overrides:
        return data
    items: list[tuple[list[str], Any]]
    if isinstance(overrides, Mapping):
        items = [(str(k).split("."), v) for k, v in overrides.items()]
    else:
        items = [parse_override(o) for o in overrides]
    result = copy.deepcopy(data)
    for parts, value in items:
        node = result
        for part in parts[:-1]:
            child = node.get(part)
            if not isinstance(child, dict):
                child = {}
                node[part] = child
            node = child
        node[parts[-1]] = value
    return result


def _loc_to_key(loc: tuple[Any, ...]) -> str:
    """Pydantic error locations to our dotted key paths, without its internal tags."""
    parts: list[str] = []
    for item in loc:
        text = str(item)
        if text in {"[key]"} or text.startswith("function-after") or text.startswith("constrained-"):
            continue
        parts.append(text)
    return ".".join(parts)


def raw_cross_check(data: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The cross-reference checks that can still be made on a dict that failed schema validation, so
    that a file with a typo *and* a dangling reference gets both reported in one go."""
    problems: list[tuple[str, str]] = []
    interventions = data.get("interventions")
    funding = data.get("funding")
    if not isinstance(interventions, Mapping) or not isinstance(funding, Mapping):
        return problems
    for key, stream in funding.items():
        eligible = stream.get("eligible") if isinstance(stream, Mapping) else None
        for name in eligible if isinstance(eligible, list) else []:
            if isinstance(name, str) and name not in interventions:
                problems.append((f"funding.{key}.eligible", f"names unknown intervention {name!r}"))
    horizon = data.get("horizon")
    if isinstance(horizon, Mapping) and periods.is_month(horizon.get("start")) and isinstance(
        horizon.get("months"), int
    ) and 1 <= horizon["months"] <= 240:
        months = set(periods.months(horizon["start"], horizon["months"]))
        first, last = min(months), max(months)
        for key, item in interventions.items():
            until = item.get("committed_until") if isinstance(item, Mapping) else None
            if periods.is_month(until) and until not in months:
                problems.append(
                    (f"interventions.{key}.committed_until", f"{until} is outside the horizon {first} to {last}")
                )
    return problems


def number_hint(text: str) -> str:
    """Why text where a number belongs was refused, and how to write the number instead."""
    forms = "digits only, no commas, £ or spaces; 1_000_000 and 1e6 also work"
    digits = re.sub(r"[£,\s_]", "", text)
    if re.fullmatch(r"[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?", digits):
        return f"{text!r} is text, not a number: write {digits} ({forms})"
    return f"{text!r} is text, not a number: write it as a number, e.g. 2480250 ({forms})"


def validate(data: dict[str, Any], source: str) -> Scenario:
    """Validate a fully merged scenario dict, reporting every problem at once."""
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors(include_url=False):
            message = err["msg"].removeprefix("Value error, ")
            if err["type"] == "extra_forbidden":
                message = "unknown key (check the spelling)"
            elif err["type"] == "missing":
                message = "required key is missing"
            elif err["type"] in ("float_type", "int_type") and isinstance(err.get("input"), str):
                message = number_hint(err["input"])
            elif err["type"] == "string_pattern_mismatch":
                message = "should match pattern [a-z0-9_]+: use only lower-case letters, digits and _ (e.g. cut_25)"
            problems.append(Problem(source, _loc_to_key(err["loc"]), message))
        seen = {(p.key, p.message) for p in problems}
        problems += [Problem(source, k, m) for k, m in raw_cross_check(data) if (k, m) not in seen]
        raise ScenarioError(problems) from None
    problems = [Problem(source, key, msg) for key, msg in cross_check(scenario)]
    if problems:
        raise ScenarioError(problems)
    return scenario


def load_dict(path: str | Path, overrides: Iterable[str] | Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The merged scenario as a plain dict (with overrides), before validation."""
    path = Path(path)
    if not path.is_file():
        raise ScenarioError([Problem(str(path), "", "scenario file not found")])
    return apply_overrides(_resolve(path, ()), overrides)


def load_scenario(path: str | Path, overrides: Iterable[str] | Mapping[str, Any] | None = None) -> Scenario:
    """Load, merge, override and validate a scenario file; a scenario with `actuals:` has its actuals file found
    (relative to the scenario file) and checked too, so bad actuals stop here, before anything is solved."""
    scenario = validate(load_dict(path, overrides), str(path))
    if scenario.actuals is None:
        return scenario
    file = Path(path).parent / scenario.actuals.file
    return with_actuals(scenario, str(file.resolve()), scenario.actuals.as_of)


def with_actuals(scenario: Scenario, file: str, as_of: str | None) -> Scenario:
    """The scenario re-planned from an actuals file (`vru replan --actuals FILE --as-of MONTH`): validated again,
    since notice already served is checked against the as-of month."""
    data = scenario_to_dict(scenario)
    data["actuals"] = {"file": file, "as_of": as_of}
    scenario = validate(data, scenario.name)
    loaded = read_actuals(file, scenario, as_of)
    if as_of is None:  # the file's latest month: said in resolved.yaml, and checked as the given one would be
        scenario = validate({**data, "actuals": {"file": file, "as_of": loaded.as_of}}, scenario.name)
    scenario.actuals._loaded = loaded
    return scenario


def scenario_to_dict(scenario: Scenario) -> dict[str, Any]:
    """Plain data for `resolved.yaml`, with defaults filled in."""
    return scenario.model_dump(mode="json")


def dump_yaml(data: Mapping[str, Any]) -> str:
    return yaml.safe_dump(dict(data), sort_keys=False, allow_unicode=True, width=100)
