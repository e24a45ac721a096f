"""Finance re-runs `vru batch` after changing a figure: the changed scenario's report is run again and shows
the change; so is every report when the notebook changes; an unchanged re-run is skipped."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import nbformat
import pytest
from click.testing import CliRunner

from vru_model.apps.batch import REPORT_NOTEBOOK
from vru_model.apps.cli import main
from vru_model.core.periods import month_name

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
NOTE = "Prepared for the finance committee (re-run test)."

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("kernels")]


def test_a_changed_scenario_or_notebook_is_run_again(tmp_path: Path) -> None:
    scenario = tmp_path / "scenarios" / "tiny.yaml"
    scenario.parent.mkdir()
    shutil.copy(FIXTURES / "tiny.yaml", scenario)
    notebook = tmp_path / "report.ipynb"
    shutil.copy(REPORT_NOTEBOOK, notebook)
    out = tmp_path / "out"
    html = out / "tiny" / "report.html"

    def batch() -> str:
        run = CliRunner().invoke(main, ["batch", str(scenario), "--out", str(out), "--workers", "1",
                                        "--notebook", str(notebook)])
        assert run.exit_code == 0, run.output
        return run.output

    assert "tiny: report ready (optimal)" in batch()
    first = html.read_text()
    assert "Every service runs throughout." in first and NOTE not in first
    stamp = html.stat().st_mtime_ns

    assert "tiny: up to date" in batch()  # nothing changed: skipped, the report untouched
    assert html.stat().st_mtime_ns == stamp

    # finance cuts the 2022/23 grant: mentoring can no longer be afforded from April 2022
    text = scenario.read_text()
    scenario.write_text(text.replace("2022/23: 120000", "2022/23: 50000"))
    assert "tiny: report ready (optimal)" in batch()
    (closure,) = json.loads((out / "tiny" / "summary.json").read_text())["closures"]
    closes = (f"<th scope=\"row\">Mentoring</th><td>{month_name(closure['notice_by'])}</td>"
              f"<td>{month_name(closure['closes_from'])}</td>")  # the closures table: serve notice by, closes from
    assert closes in html.read_text() and "Every service runs throughout." not in html.read_text()

    # a note added to the report notebook: the report is run again with it
    nb = nbformat.read(notebook, as_version=4)
    nb.cells.insert(1, nbformat.v4.new_markdown_cell(NOTE))
    nbformat.write(nb, notebook)
    assert "tiny: report ready (optimal)" in batch()
    assert NOTE in html.read_text() and closes in html.read_text()
