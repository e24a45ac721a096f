"""The public API (`import vru_model as vru`): every name documented with what it returns and an example, a
light import, typed results, scenarios changed in Python with names of their own, and write() that never
replaces another run's folder unless told to."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pyomo.environ as pyo
import pytest

import vru_model as vru

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / "tests" / "fixtures" / "tiny.yaml"
EFFECT = "interventions.mentoring.evidence.effect"
NAMES = ["load_scenario", "solve", "solve_cliff_edge", "frontier", "robustness", "replan", "build_model",
         "with_changes", "Scenario", "ScenarioError", "Problem"]


@pytest.mark.parametrize("name", NAMES)
def test_every_public_name_is_at_the_top_and_documented(name: str) -> None:
    assert name in vru.__all__
    doc = getattr(vru, name).__doc__ or ""
    assert len(doc.strip()) > 40, f"{name} needs a docstring"
    if name not in ("ScenarioError", "Problem"):
        assert "xample" in doc, f"{name}'s docstring has no example"


def test_importing_the_package_does_not_load_the_solver() -> None:
    code = "import sys, vru_model; print(any(m.split('.')[0] in ('pyomo', 'highspy') for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_a_solve_returns_tables_a_summary_and_closures() -> None:
    result = vru.solve(vru.load_scenario(TINY))
    assert result.optimal and result.objective is not None
    assert isinstance(result.allocation, pd.DataFrame) and isinstance(result.funding, pd.DataFrame)
    assert {"intervention", "period", "vru_spend"} <= set(result.allocation.columns)
    assert {"stream", "amount"} <= set(result.funding.columns)
    assert isinstance(result.summary, dict) and result.summary["scenario"] == "tiny"
    assert result.closures == result.summary["closures"]


def test_a_scenario_changed_in_python_is_validated_and_named_after_its_changes() -> None:
    tiny = vru.load_scenario(TINY)
    changed = vru.with_changes(tiny, {EFFECT: 0.3})
    assert changed.interventions["mentoring"].evidence.effect == 0.3
    assert changed.name != tiny.name and changed.name == vru.with_changes(tiny, {EFFECT: 0.3}).name
    assert vru.with_changes(tiny, {EFFECT: 0.3}, name="tiny_strong").name == "tiny_strong"
    with pytest.raises(vru.ScenarioError) as caught:
        vru.with_changes(tiny, {EFFECT: 1.5})
    assert any(p.key == EFFECT for p in caught.value.problems)


def test_overrides_name_the_scenario_as_vru_solve_set_does() -> None:
    from vru_model.apps.cli import overrides_name

    texts = [f"{EFFECT}=0.3"]
    assert vru.load_scenario(TINY, overrides=texts).name == overrides_name("tiny", texts)
    assert vru.load_scenario(TINY, overrides={EFFECT: 0.3}).name == overrides_name("tiny", texts)
    assert vru.load_scenario(TINY, overrides=texts, name="mine").name == "mine"
    assert vru.load_scenario(TINY).name == "tiny"


def test_a_changed_solve_written_beside_the_plain_one_leaves_it_untouched(tmp_path: Path) -> None:
    plain = vru.solve(vru.load_scenario(TINY)).write(tmp_path)
    before = {p.name: p.read_bytes() for p in plain.iterdir()}
    changed = vru.solve(vru.load_scenario(TINY, overrides=[f"{EFFECT}=0.3"]))
    where = changed.write(tmp_path)
    assert where != plain and (where / "summary.json").is_file()
    assert {p.name: p.read_bytes() for p in plain.iterdir()} == before


def test_write_refuses_another_runs_folder_unless_told(tmp_path: Path) -> None:
    tiny = vru.load_scenario(TINY)
    plain = vru.solve(tiny).write(tmp_path)
    vru.solve(tiny).write(tmp_path)  # the same inputs again: the same run, rewritten
    before = (plain / "resolved.yaml").read_bytes()
    other = vru.solve(vru.with_changes(tiny, {EFFECT: 0.3}, name="tiny"))
    with pytest.raises(vru.OutputError, match="another run's result"):
        other.write(tmp_path)
    assert (plain / "resolved.yaml").read_bytes() == before
    assert other.write(tmp_path, overwrite=True) == plain and (plain / "resolved.yaml").read_bytes() != before


def test_a_rule_of_ones_own_is_solved_into_a_result() -> None:
    tiny = vru.load_scenario(TINY)
    model = vru.build_model(tiny)
    assert isinstance(model, pyo.ConcreteModel)
    model.smaller = pyo.ConstraintList()
    for w in model.W:
        for t in model.T:
            model.smaller.add(model.scale[w, "mentoring", t] <= 0.6)
    mine = vru.solve(tiny, model=model)
    assert mine.optimal
    assert mine.allocation.query("intervention == 'mentoring'")["scale"].max() == pytest.approx(0.6)
    assert mine.objective < vru.solve(tiny).objective


@pytest.mark.slow
def test_the_analyst_guide_runs_headless_and_shows_a_table_and_a_chart(tmp_path: Path) -> None:
    import ast

    import nbformat
    import papermill

    source = ROOT / "notebooks" / "analyst_guide.ipynb"
    notebook = nbformat.read(source, as_version=4)
    code = [c for c in notebook.cells if c.cell_type == "code"]
    assert all(not c.get("outputs") and c.get("execution_count") is None for c in code), "clear outputs in git"
    for cell in code:
        python = "\n".join(line for line in cell.source.splitlines() if not line.startswith("%"))  # no magics
        defined = [n for n in ast.walk(ast.parse(python)) if isinstance(n, ast.FunctionDef | ast.ClassDef)]
        assert not defined, "the notebook calls into vru_model; it defines no function or class"
    assert "import vru_model as vru" in code[0].source
    done = papermill.execute_notebook(
        str(source), str(tmp_path / "out.ipynb"), parameters={"scenarios": str(ROOT / "scenarios"),
                                                              "outputs": str(tmp_path / "outputs")},
        kernel_name="python3", cwd=str(tmp_path), progress_bar=False,
    )
    outputs = [o for c in done.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.output_type == "error"]
    assert any("image/png" in o.get("data", {}) for o in outputs), "a chart"
    assert any("text/html" in o.get("data", {}) for o in outputs), "a table"
    assert (tmp_path / "outputs" / "baseline_set_effect_0_2_2022_23_2500000" / "summary.json").is_file()


@pytest.mark.slow
def test_the_docs_site_builds_with_warnings_as_errors(tmp_path: Path) -> None:
    """`python3 dev.py docs`: the notebook executed into the site, mkdocs --strict; the home page says what the
    design card asks a new reader to meet first."""
    done = subprocess.run([sys.executable, str(ROOT / "dev.py"), "docs", "--site-dir", str(tmp_path / "site")],
                          cwd=ROOT, capture_output=True, text=True, timeout=1800)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    home = (tmp_path / "site" / "index.html").read_text(encoding="utf-8")
    for words in ("solve_cliff_edge", "commissioning minimum", "scale_at_start"):
        assert words in home
    api = (tmp_path / "site" / "guides" / "api" / "index.html").read_text(encoding="utf-8")
    assert "load_scenario" in api and "solve_cliff_edge" in api
    assert "vru init" in (tmp_path / "site" / "guides" / "cli" / "index.html").read_text(encoding="utf-8")
    notebook = (tmp_path / "site" / "guides" / "analyst_guide" / "index.html").read_text(encoding="utf-8")
    assert "data:image/png" in notebook, "the notebook is executed into the site, charts and all"
