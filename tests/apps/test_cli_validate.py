"""`vru validate`: the shipped scenarios pass; bad input exits 2 with one line per problem naming the
file, the key path and the problem, and never a traceback."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from vru_model.apps.cli import main

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ROOT / "scenarios"
VRU = Path(sys.executable).parent / "vru"
LINE = re.compile(r"^error: (?P<file>.+?): (?P<key>\(top level\)|\S+): (?P<message>.+)$")


def _validate(*paths: Path) -> tuple[int, list[dict[str, str]], str]:
    result = CliRunner().invoke(main, ["validate", *map(str, paths)])
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    parsed = []
    for line in lines:
        match = LINE.match(line)
        assert match, f"not a one-line problem: {line!r}"
        parsed.append(match.groupdict())
    return result.exit_code, parsed, result.output


def test_shipped_scenarios_validate_from_the_command_line():
    paths = sorted(str(p.relative_to(ROOT)) for p in SCENARIOS.glob("*.yaml"))
    assert len(paths) >= 9
    done = subprocess.run([str(VRU), "validate", *paths], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert len(done.stdout.splitlines()) == len(paths)


def test_shipped_scenarios_validate_in_process():
    code, problems, output = _validate(*sorted(SCENARIOS.glob("*.yaml")))
    assert (code, problems) == (0, [])
    assert output.count("ok: ") == len(list(SCENARIOS.glob("*.yaml")))


# ---- bad input: one row each ---------------------------------------------------------------------
# Each row writes a file and names the (key, part of the message) lines it expects.

Row = Callable[[dict[str, Any], Callable[..., Path]], tuple[Path, list[tuple[str, str]]]]


def _set(data: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    node = data
    *parents, last = path.split("|")
    for part in parents:
        node = node[part]
    node[last] = value
    return data


def _field(path: str, value: Any, key: str, fragment: str) -> Row:
    def row(small, write):
        return write("bad", _set(small, path, value)), [(key, fragment)]

    return row


def _text(content: str | bytes, key: str, fragment: str) -> Row:
    def row(small, write):
        return write("bad", content), [(key, fragment)]

    return row


def _typo(small, write):
    small["interventions"]["mentoring"]["anual_cost"] = small["interventions"]["mentoring"].pop("annual_cost")
    small["fundng"] = small.pop("funding")
    return write("bad", small), [
        ("interventions.mentoring.anual_cost", "unknown key"),
        ("interventions.mentoring.annual_cost", "required key is missing"),
        ("fundng", "unknown key"),
        ("funding", "required key is missing"),
    ]


def _cycle(small, write):
    write("other", {"name": "other", "title": "o", "extends": "bad"})
    return write("bad", {"name": "bad", "title": "b", "extends": "other"}), [("extends", "inheritance cycle")]


def _missing_parent(small, write):
    return write("bad", {"name": "bad", "title": "b", "extends": "no_such_parent"}), [
        ("extends", "parent scenario 'no_such_parent' not found")
    ]


def _bomb(small, write):
    lines = ['lol0: &lol0 "lol"']
    lines += [f"lol{i}: &lol{i} [{', '.join([f'*lol{i - 1}'] * 9)}]" for i in range(1, 10)]
    return write("bad", "\n".join(lines)), [("lol6", "YAML aliases")]


def _several(small, write):
    item = small["interventions"]["mentoring"]
    item["annual_cost"] = -5
    item["scale"] = {"min": 2, "max": 1}
    item["taper"]["2022/23"] = 1.5
    small["funding"]["core"]["amounts"]["2021-22"] = 1
    small["policy"]["discount_rate_anual"] = 0.03
    return write("bad", small), [
        ("interventions.mentoring.annual_cost", "greater than or equal to 0"),
        ("interventions.mentoring.scale", "scale min 2.0 is above max 1.0"),
        ("interventions.mentoring.taper.2022/23", "less than or equal to 1"),
        ("funding.core.amounts.2021-22", "not a financial year"),
        ("policy.discount_rate_anual", "unknown key"),
    ]


def _several_cross(small, write):
    small["funding"]["yjb"]["eligible"] = ["nope"]
    small["interventions"]["mentoring"]["committed_until"] = "2030-01"
    small["funding"]["core"]["confirmed_month"] = "2019-06"
    return write("bad", small), [
        ("funding.yjb.eligible", "names unknown intervention 'nope'"),
        ("interventions.mentoring.committed_until", "outside the horizon"),
        ("funding.core.confirmed_month", "outside the horizon"),
    ]


def _schema_and_cross(small, write):
    small["interventions"]["mentoring"]["anual_cost"] = 5
    small["funding"]["yjb"]["eligible"] = ["nope"]
    small["interventions"]["mentoring"]["committed_until"] = "2030-01"
    return write("bad", small), [
        ("interventions.mentoring.anual_cost", "unknown key"),
        ("funding.yjb.eligible", "names unknown intervention 'nope'"),
        ("interventions.mentoring.committed_until", "outside the horizon"),
    ]


ROWS: dict[str, Row] = {
    "negative money": _field(
        "interventions|mentoring|annual_cost", -1, "interventions.mentoring.annual_cost", "greater than or equal to 0"
    ),
    "non-numeric money": _field(
        "funding|core|amounts|2021/22", "3,307,000", "funding.core.amounts.2021/22", "write 3307000"
    ),
    "commas inside a flow mapping": _text(
        (Path(__file__).resolve().parents[1] / "fixtures" / "small.yaml")
        .read_text(encoding="utf-8")
        .replace("2022/23: 400000}", "2022/23: 3,307,000}"),
        "funding.core.amounts.2022/23",
        "write the number without commas, e.g. 3307000",
    ),
    "NaN": _text(
        (Path(__file__).resolve().parents[1] / "fixtures" / "small.yaml")
        .read_text(encoding="utf-8")
        .replace("annual_cost: 200000", "annual_cost: .nan"),
        "interventions.mentoring.annual_cost",
        "finite number",
    ),
    "infinity": _field("funding|opcc|cap", float("inf"), "funding.opcc.cap", "finite number"),
    "taper above 1": _field(
        "interventions|mentoring|taper|2022/23", 1.2, "interventions.mentoring.taper.2022/23", "less than or equal to 1"
    ),
    "taper below 0": _field(
        "interventions|mentoring|taper|2022/23",
        -0.1,
        "interventions.mentoring.taper.2022/23",
        "greater than or equal to 0",
    ),
    "share above 1": _field(
        "policy|commissioning_min_share", 20, "policy.commissioning_min_share", "less than or equal to 1"
    ),
    "scale min above max": _field(
        "interventions|mentoring|scale", {"min": 1.5, "max": 1.0}, "interventions.mentoring.scale", "above max"
    ),
    "unknown keys": _typo,
    "eligible names an unknown intervention": _field(
        "funding|yjb|eligible", ["parenting", "parentng"], "funding.yjb.eligible", "unknown intervention 'parentng'"
    ),
    "financial year 2021/23": _field(
        "funding|core|amounts|2021/23", 1, "funding.core.amounts.2021/23", "not a financial year"
    ),
    "financial year 2021-22": _field(
        "interventions|mentoring|taper|2021-22", 1, "interventions.mentoring.taper.2021-22", "not a financial year"
    ),
    "committed month outside the horizon": _field(
        "interventions|mentoring|committed_until", "2024-04", "interventions.mentoring.committed_until", "outside"
    ),
    "confirmed month outside the horizon": _field(
        "funding|core|confirmed_month", "2021-03", "funding.core.confirmed_month", "outside the horizon"
    ),
    "malformed month": _field("funding|core|confirmed_month", "2021-13", "funding.core.confirmed_month", "YYYY-MM"),
    "extends cycle": _cycle,
    "missing parent": _missing_parent,
    "malformed YAML": _text("name: small\ntitle: [unclosed\n", "(top level)", "malformed YAML at line"),
    "empty file": _text("", "(top level)", "file is empty"),
    "binary file": _text(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "(top level)", "not a text file"),
    "alias bomb": _bomb,
    "scenario name with a path": _field("name", "../../etc", "name", "should match pattern"),
    "several problems": _several,
    "several cross-reference problems": _several_cross,
    "a typo and dangling references together": _schema_and_cross,
    "deep nesting": _text("a: " + "[" * 2000 + "]" * 2000, "a.0.0", "nested deeper than"),
    "duplicate key": _text("name: a\nname: b\n", "name", "duplicate key at line 2"),
    "duplicate key on one line": _text(
        (Path(__file__).resolve().parents[1] / "fixtures" / "small.yaml")
        .read_text(encoding="utf-8")
        .replace("2022/23: 400000}", "2022/23: 400000, 2022/23: 1000}"),
        "funding.core.amounts.2022/23",
        "duplicate key at line 10, column",
    ),
    "top level is a list": _text("- name: a\n", "(top level)", "top level must be a mapping"),
}


@pytest.mark.parametrize("row", list(ROWS), ids=list(ROWS))
def test_bad_input_exits_2_with_one_line_per_problem(row, small, write):
    path, expected = ROWS[row](small, write)
    code, problems, output = _validate(path)
    assert code == 2, output
    assert problems, "no problem reported"
    assert all(p["file"] == str(path) for p in problems), problems
    assert len(problems) == len(expected), problems
    for key, fragment in expected:
        assert any((p["key"] == key or p["key"].startswith(key)) and fragment in p["message"] for p in problems), (
            f"expected {key}: ...{fragment}... in {problems}"
        )


def test_a_good_and_a_bad_file_together(small, write):
    good = ROOT / "tests" / "fixtures" / "small.yaml"
    bad = write("bad", _set(small, "interventions|mentoring|annual_cost", -1))
    code, problems, output = _validate(good, bad)
    assert code == 2
    assert f"ok: {good}" in output
    assert [p["file"] for p in problems] == [str(bad)]


def test_numbers_as_people_write_them_validate(small, write):
    text = (ROOT / "tests" / "fixtures" / "small.yaml").read_text(encoding="utf-8")
    text = text.replace("2022/23: 400000}", "2022/23: 1e15}").replace("annual_cost: 200000", "annual_cost: 200_000")
    code, problems, output = _validate(write("numbers", text))
    assert (code, problems) == (0, []), output


def test_missing_file_and_bad_override(tmp_path):
    code, problems, _ = _validate(tmp_path / "absent.yaml")
    assert code == 2 and problems[0]["message"] == "scenario file not found"
    result = CliRunner().invoke(
        main, ["validate", str(ROOT / "tests" / "fixtures" / "small.yaml"), "--set", "policy.partner_pickup=2"]
    )
    assert result.exit_code == 2
    assert "policy.partner_pickup" in result.stderr and "Traceback" not in result.output
