"""Loading scenario files: safe YAML with bounds, `extends` inheritance, merging and dotted overrides."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vru_model.core.errors import ScenarioError
from vru_model.scenario.load import (
    MAX_ALIASES,
    apply_overrides,
    deep_merge,
    dump_yaml,
    load_dict,
    load_scenario,
    parse_override,
    read_yaml,
    scenario_to_dict,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
SMALL = FIXTURES / "small.yaml"


def _problems(exc: pytest.ExceptionInfo[ScenarioError]) -> list[tuple[str, str]]:
    return [(p.key, p.message) for p in exc.value.problems]


# ---- deep_merge properties -------------------------------------------------------------------

keys = st.sampled_from(["a", "b", "c", "d", "amounts", "2021/22"])
leaves = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text("ab/ 1", max_size=4)
trees = st.recursive(
    leaves,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(keys, children, max_size=4),
    max_leaves=12,
)
mappings = st.dictionaries(keys, trees, max_size=5)


def _leaf_paths(tree: dict, prefix: tuple = ()) -> dict[tuple, object]:
    """Every path to a non-mapping value (an empty mapping counts as a leaf)."""
    out: dict[tuple, object] = {}
    for key, value in tree.items():
        if isinstance(value, dict) and value:
            out.update(_leaf_paths(value, (*prefix, key)))
        else:
            out[(*prefix, key)] = value
    return out


def _get(tree: dict, path: tuple) -> object:
    for key in path:
        tree = tree[key]
    return tree


@given(mappings)
def test_merging_an_empty_override_is_the_identity(base):
    assert deep_merge(base, {}) == base
    assert deep_merge({}, base) == base


@given(mappings, mappings)
def test_the_child_wins_on_every_key_it_sets(base, child):
    merged = deep_merge(base, child)
    for path, value in _leaf_paths(child).items():
        got = _get(merged, path)
        if isinstance(value, dict):  # an empty mapping merged into a mapping keeps the parent's keys
            assert isinstance(got, dict)
        else:
            assert got == value


@given(mappings, mappings)
def test_keys_the_child_does_not_set_keep_the_parent_value(base, child):
    merged = deep_merge(base, child)
    for key, value in base.items():
        if key not in child:
            assert merged[key] == value


@given(mappings, mappings)
def test_disjoint_merges_commute(left, right):
    right = {f"{key}_r": value for key, value in right.items()}
    assert deep_merge(left, right) == deep_merge(right, left) == {**left, **right}


@given(mappings, mappings)
def test_disjoint_nested_merges_commute(left, right):
    a = {"shared": {f"l_{k}": v for k, v in left.items()}}
    b = {"shared": {f"r_{k}": v for k, v in right.items()}}
    assert deep_merge(a, b) == deep_merge(b, a)


@given(mappings, mappings)
def test_merge_does_not_mutate_its_inputs(base, child):
    before = (copy.deepcopy(base), copy.deepcopy(child))
    merged = deep_merge(base, child)
    assert (base, child) == before
    if isinstance(merged.get("a"), list):
        merged["a"].append("x")
        assert (base, child) == before


def test_lists_and_scalars_replace_dicts_merge():
    base = {"eligible": ["a", "b"], "amounts": {"2021/22": 1, "2022/23": 2}, "cap": 5}
    child = {"eligible": ["c"], "amounts": {"2022/23": 3}, "cap": None}
    assert deep_merge(base, child) == {"eligible": ["c"], "amounts": {"2021/22": 1, "2022/23": 3}, "cap": None}


# ---- dotted overrides ------------------------------------------------------------------------


def test_dotted_override_of_a_grant_amount():
    scenario = load_scenario(SMALL, overrides=["funding.core.amounts.2022/23=250000"])
    assert scenario.core_grant("2022/23") == 250000
    assert scenario.core_grant("2021/22") == 500000  # siblings untouched


def test_overrides_apply_after_inheritance_and_are_validated():
    scenario = load_scenario(FIXTURES / "small_cut.yaml", overrides=["interventions.mentoring.scale.max=1.1"])
    assert scenario.interventions["mentoring"].scale.max == 1.1
    assert scenario.interventions["mentoring"].scale.min == 0.25  # from the child file
    with pytest.raises(ScenarioError) as info:
        load_scenario(SMALL, overrides=["interventions.mentoring.anual_cost=1"])
    assert ("interventions.mentoring.anual_cost", "unknown key (check the spelling)") in _problems(info)


def test_baseline_override_with_the_documented_key():
    root = Path(__file__).resolve().parents[2]
    scenario = load_scenario(
        root / "scenarios" / "baseline.yaml", ["funding.home_office_grant.amounts.2022/23=2500000"]
    )
    assert scenario.core_grant("2022/23") == 2500000
    assert scenario.core_grant("2023/24") == 3307000


def test_overrides_as_a_mapping_and_typed_values():
    data = apply_overrides({"policy": {"partner_pickup": 1.0}}, {"policy.partner_pickup": 0.5, "a.b": "x"})
    assert data == {"policy": {"partner_pickup": 0.5}, "a": {"b": "x"}}
    assert parse_override("policy.allow_reopening=true") == (["policy", "allow_reopening"], True)
    assert parse_override("interventions.x.taper={2021/22: 0.5}") == (["interventions", "x", "taper"], {"2021/22": 0.5})


@pytest.mark.parametrize("text", ["no_equals_sign", "=1", "a..b=1", "a.=1", "a=[unclosed"])
def test_bad_overrides_are_reported(text):
    with pytest.raises(ScenarioError) as info:
        parse_override(text)
    assert info.value.problems[0].file == "--set"


# ---- inheritance -----------------------------------------------------------------------------


def test_child_holds_only_what_differs(small):
    data = load_dict(FIXTURES / "small_cut.yaml")
    assert "extends" not in data
    assert data["funding"]["core"]["amounts"] == {"2020/21": 500000, "2021/22": 500000, "2022/23": 250000}
    assert data["interventions"]["mentoring"]["evidence"] == small["interventions"]["mentoring"]["evidence"]
    assert data["name"] == "small_cut"


def test_three_generations(write, small):
    write("small", small)
    write("middle", {"name": "middle", "title": "m", "extends": "small", "policy": {"partner_pickup": 0.5}})
    child = write(
        "child", {"name": "child", "title": "c", "extends": "middle", "policy": {"commissioning_min_share": 0.3}}
    )
    scenario = load_scenario(child)
    assert scenario.policy.partner_pickup == 0.5
    assert scenario.policy.commissioning_min_share == 0.3
    assert scenario.name == "child"


def test_a_child_must_name_itself(write, small):
    write("small", small)
    child = write("child", {"title": "c", "extends": "small"})
    with pytest.raises(ScenarioError) as info:
        load_dict(child)
    assert _problems(info)[0][0] == "name"


@pytest.mark.parametrize("extends", ["../small", "Small", 3, ["small", 4]])
def test_bad_parent_names(write, small, extends):
    write("small", small)
    child = write("child", {"name": "child", "title": "c", "extends": extends})
    with pytest.raises(ScenarioError) as info:
        load_dict(child)
    assert _problems(info)[0][0] == "extends"


def test_extends_cycle(write):
    first = write("a", {"name": "a", "title": "a", "extends": "b"})
    write("b", {"name": "b", "title": "b", "extends": "a"})
    with pytest.raises(ScenarioError, match="inheritance cycle: a -> b -> a"):
        load_dict(first)


def test_self_cycle(write):
    path = write("a", {"name": "a", "title": "a", "extends": "a"})
    with pytest.raises(ScenarioError, match="inheritance cycle"):
        load_dict(path)


def test_missing_parent(write):
    path = write("a", {"name": "a", "title": "a", "extends": "nope"})
    with pytest.raises(ScenarioError, match="parent scenario 'nope' not found"):
        load_dict(path)


def test_missing_file(tmp_path):
    with pytest.raises(ScenarioError, match="scenario file not found"):
        load_dict(tmp_path / "absent.yaml")


# ---- reading YAML safely ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "file is empty"),
        ("   \n\n", "file is empty"),
        ("# only a comment\n", "file is empty"),
        ("- a\n- b\n", "top level must be a mapping"),
        ("name: [unclosed\n", "malformed YAML at line"),
        ("a: 1\n---\nb: 2\n", "malformed YAML"),
        ("a: !!python/object/apply:os.system ['true']\n", "malformed YAML"),
        (b"\x00\x01\x02binary", "not a text file"),
        (b"\xff\xfe\xfa not utf-8", "not a UTF-8 text file"),
        ("a: \x07\n", "malformed YAML"),
    ],
)
def test_unreadable_files(write, content, message):
    with pytest.raises(ScenarioError, match=message):
        read_yaml(write("bad", content))


def test_billion_laughs_is_refused_for_its_aliases(write):
    lines = ['lol0: &lol0 "lol"']
    lines += [f"lol{i}: &lol{i} [{', '.join([f'*lol{i - 1}'] * 9)}]" for i in range(1, 10)]
    with pytest.raises(ScenarioError) as info:
        read_yaml(write("bomb", "\n".join(lines)))
    assert "aliases" in info.value.problems[0].message


def test_few_aliases_that_expand_hugely_are_refused(write):
    # 2 aliases per level, 24 levels: under the alias count, but 2**24 nodes when expanded
    lines = ['a0: &a0 ["x"]'] + [f"a{i}: &a{i} [*a{i - 1}, *a{i - 1}]" for i in range(1, 25)]
    assert MAX_ALIASES >= 2 * 24
    with pytest.raises(ScenarioError, match="aliases expand"):
        read_yaml(write("bomb", "\n".join(lines)))


def test_recursive_alias_is_refused(write):
    with pytest.raises(ScenarioError, match="aliases"):
        read_yaml(write("loop", "a: &a [*a]\n"))


def test_modest_aliases_are_fine(write):
    assert read_yaml(write("ok", "a: &x {k: 1}\nb: *x\nc: {<<: *x, j: 2}\n")) == {
        "a": {"k": 1},
        "b": {"k": 1},
        "c": {"k": 1, "j": 2},
    }


@pytest.mark.parametrize("text", ["a: " + "[" * 5000 + "]" * 5000, "a: " + "{b: " * 3000 + "1" + "}" * 3000])
def test_deep_nesting_is_refused_without_a_recursion_error(write, text):
    with pytest.raises(ScenarioError, match="nested deeper than"):
        read_yaml(write("deep", text))


def test_duplicate_keys_are_refused_with_their_path(write):
    text = "name: x\npolicy:\n  partner_pickup: 1.0\n  partner_pickup: 0.5\n"
    with pytest.raises(ScenarioError) as info:
        read_yaml(write("dup", text))
    assert _problems(info) == [("policy.partner_pickup", "duplicate key at line 4 (first set at line 3)")]


@pytest.mark.parametrize(
    ("text", "key", "message"),
    [
        # the case: a same-line duplicate in the flow style the shipped scenarios use
        ("name: x\nfunding: {core: {amounts: {2022/23: 2480250, 2022/23: 1000}}}\n", "funding.core.amounts.2022/23",
         "duplicate key at line 2, column 46 (first set at column 28)"),
        ("name: x\npolicy: {partner_pickup: 1.0,\n  partner_pickup: 0.5}\n", "policy.partner_pickup",
         "duplicate key at line 3 (first set at line 2)"),
        # 1 and 01 are one key once read, and YAML would keep the last
        ("a: {1: x, 01: y}\n", "a.01", "duplicate key at line 1, column 11 (first set at column 5)"),
        ("a: [{b: 1, b: 2}]\n", "a.0.b", "duplicate key at line 1, column 12 (first set at column 6)"),
    ],
)
def test_duplicate_keys_are_refused_wherever_they_are(write, text, key, message):
    with pytest.raises(ScenarioError) as info:
        read_yaml(write("dup", text))
    assert _problems(info) == [(key, message)]


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1e15", 1e15), ("2.5E+6", 2_500_000.0), ("-1e3", -1000.0), ("1.0e+15", 1e15), (".5", 0.5),
        ("1_000_000", 1_000_000), ("2_480_250.50", 2480250.5), ("0700", 700), ("+42", 42),
        ("1:30", "1:30"), ("0x1F", "0x1F"), ("1__0", "1__0"),
    ],
)
def test_numbers_read_as_written(write, text, value):
    """Numbers in the forms people write are numbers with the value they mean; YAML 1.1's octal (0700 = 448)
    and base-60 (1:30 = 90) readings, which would silently change a figure, are not used."""
    read = read_yaml(write("n", f"a: {text}\nb: {{c: {text}}}\n"))
    assert read == {"a": value, "b": {"c": value}}
    assert type(read["a"]) is type(value)


def test_a_grant_of_1e15_is_read_as_a_number():
    scenario = load_scenario(SMALL, ["funding.core.amounts.2022/23=1e15"])
    assert scenario.core_grant("2022/23") == 1e15


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ('"3,307,000"', "'3,307,000' is text, not a number: write 3307000 ("),
        ('"£2,480,250"', "'£2,480,250' is text, not a number: write 2480250 ("),
        ("1:30", "'1:30' is text, not a number: write it as a number, e.g. 2480250 ("),
    ],
)
def test_text_where_a_number_belongs_says_how_to_write_it(write, value, message):
    text = SMALL.read_text(encoding="utf-8").replace("2022/23: 400000}", f"2022/23: {value}}}")
    assert text != SMALL.read_text(encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        load_scenario(write("text_number", text))
    [(key, said)] = _problems(info)
    assert key == "funding.core.amounts.2022/23" and said.startswith(message) and "1e6" in said


def test_commas_inside_a_flow_mapping_are_refused_not_split(write):
    text = SMALL.read_text(encoding="utf-8").replace("2022/23: 400000}", "2022/23: 3,307,000}")
    with pytest.raises(ScenarioError) as info:
        load_scenario(write("commas", text))
    assert _problems(info) == [("funding.core.amounts.2022/23", "'3,307,000' is read as separate entries (commas "
                                "split a {...} mapping): write the number without commas, e.g. 3307000")]


def test_a_big_file_is_refused(write):
    with pytest.raises(ScenarioError, match="larger than"):
        read_yaml(write("big", "a: " + "x" * 1_100_000))


# ---- validation reports every problem with its key --------------------------------------------


def test_every_schema_problem_is_listed_with_file_and_key(write, small):
    small["interventions"]["mentoring"]["annual_cost"] = -1
    small["interventions"]["mentoring"]["taper"]["2021/22"] = 1.5
    small["funding"]["core"]["amounts"]["2021-22"] = 5
    small["policy"]["partner_pikup"] = 1
    path = write("several", small)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    problems = info.value.problems
    assert {p.file for p in problems} == {str(path)}
    assert {p.key for p in problems} == {
        "interventions.mentoring.annual_cost",
        "interventions.mentoring.taper.2021/22",
        "funding.core.amounts.2021-22",
        "policy.partner_pikup",
    }


def test_resolved_round_trip(small):
    scenario = load_scenario(SMALL)
    text = dump_yaml(scenario_to_dict(scenario))
    assert "partner_pickup: 1.0" in text  # defaults are filled in
    again = scenario.model_validate(scenario_to_dict(scenario))
    assert again == scenario
