"""`vru solve` for finance: the headline on the terminal by titles, `--set` solves in their own folder with the
overrides recorded, and help that is not cut short."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from vru_model.apps.cli import main, overrides_name
from vru_model.scenario.load import load_scenario

ROOT = Path(__file__).resolve().parents[2]
TINY = ROOT / "tests" / "fixtures" / "tiny.yaml"
HALF = "funding.core.amounts.2022/23=50000"


def _solve(*args: str) -> tuple[int, str]:
    run = CliRunner().invoke(main, ["solve", *args])
    assert "Traceback" not in run.output
    return run.exit_code, run.output


def test_solve_prints_the_headline_by_titles(tmp_path: Path) -> None:
    code, output = _solve(str(TINY), "--set", HALF, "--out", str(tmp_path), "--name", "tiny_half")
    assert code == 0, output
    summary = json.loads((tmp_path / "tiny_half" / "summary.json").read_text())
    sc = load_scenario(TINY)
    assert output.startswith(f"{sc.title}: plan found.")
    assert re.search(r"^Value: £[\d.,]+[km]? of social value", output, re.M)
    assert "Core grant used: 2021/22 £" in output and "2022/23 £50k of £50k" in output
    assert summary["closures"], "the half grant should close a service"
    for c in summary["closures"]:
        title = sc.interventions[c["intervention"]].title
        assert f"  - {title}: notice by " in output
        assert c["intervention"] not in output.replace(title, "")  # the id never shows, only the title
    assert "optimal" not in output and "core:" not in output


def test_an_infeasible_solve_says_why_and_exits_1(tmp_path: Path) -> None:
    code, output = _solve(str(TINY), "--set", "funding.core.amounts.2021/22=1000", "--out", str(tmp_path))
    assert code == 1
    assert "no possible plan" in output.lower() and "Value:" not in output


def test_a_solve_with_overrides_writes_its_own_folder_and_records_them(tmp_path: Path) -> None:
    code, _ = _solve(str(TINY), "--out", str(tmp_path))
    assert code == 0
    plain = (tmp_path / "tiny" / "summary.json").read_text()
    code, output = _solve(str(TINY), "--set", HALF, "--out", str(tmp_path))
    assert code == 0, output
    folder = tmp_path / overrides_name("tiny", (HALF,))
    assert folder.name == "tiny_set_2022_23_50000" and f"Written to {folder}/" in output
    assert (tmp_path / "tiny" / "summary.json").read_text() == plain  # the plain solve is untouched
    resolved = (folder / "resolved.yaml").read_text()
    assert resolved.startswith("# Solved from") and f"#   --set {HALF}\n" in resolved
    assert json.loads((folder / "summary.json").read_text())["overrides"] == [HALF]
    again = load_scenario(folder / "resolved.yaml")
    assert again.name == folder.name and again.core_grant("2022/23") == 50000
    run = CliRunner().invoke(main, ["validate", str(folder / "resolved.yaml")])
    assert run.exit_code == 0, run.output


def test_overrides_name_is_stable_and_fits_a_name() -> None:
    many = tuple(f"interventions.service_{k}.protected=true" for k in range(12))
    name = overrides_name("baseline", many)
    assert name == overrides_name("baseline", many) and len(name) <= 64 and re.fullmatch(r"[a-z0-9_]+", name)
    assert name != overrides_name("baseline", many[:-1])


def test_a_bad_name_is_one_line_and_writes_nothing(tmp_path: Path) -> None:
    run = CliRunner().invoke(main, ["solve", str(TINY), "--set", HALF, "--name", "Bad Name!", "--out",
                                    str(tmp_path)])
    assert run.exit_code == 2 and len(run.stderr.strip().splitlines()) == 1 and "name" in run.stderr
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("args", [["--help"], ["solve", "--help"]])
def test_help_is_not_cut_short(args: list[str]) -> None:
    run = CliRunner().invoke(main, args, terminal_width=80, prog_name="vru")
    assert run.exit_code == 0 and "..." not in run.output.split("\n", 1)[1]  # the usage line's [ARGS]... aside
    if args == ["--help"]:
        for name in ["validate", "solve", "batch", "explore", "cliff-edge", "frontier"]:
            assert re.search(rf"^  {name}\s+\S", run.output, re.M), name
    else:
        flat = " ".join(run.output.split())
        assert "vru solve scenarios/baseline.yaml --set funding.home_office_grant.amounts.2022/23=2500000" in flat
        assert "--name NAME" in flat and "Exit 0 when a plan is found, 1 when" in flat


def test_a_solve_of_an_uncertain_grant_says_it_is_the_comparison_not_the_plan_to_act_on() -> None:
    from vru_model.apps.cli import solve_headline

    summary = {"title": "Late grant", "status": "optimal", "plan_of_record": "cliff_edge",
               "totals": {"value": 1.0e6}, "objective": 9.0e5, "closures": []}
    first, value = solve_headline(summary, "core")[:2]
    assert "a comparison: the plan to act on is the cliff-edge plan" in first
    assert "in today's money, net of exit costs and the model's disruption weight (a weight, not money)" in value
    assert "a comparison" not in solve_headline({**summary, "plan_of_record": "plan"}, "core")[0]
