"""`vru batch`: the output contract over the shipped scenarios, escaping, failure isolation, re-runs, Dask.

Tests that read the shipped batch share the xdist group "papermill", so the batch runs once per session on one
worker; the other tests that start kernels are in the group "kernels", which runs on the other worker meanwhile.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
import shutil
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from click.testing import CliRunner
from openpyxl import load_workbook
from shipped import EVIL, SHIPPED, SHIPPED_SAMPLES

from vru_model.analysis.results import ALLOCATION_COLUMNS, FUNDING_COLUMNS
from vru_model.apps.batch import (
    FRONTIER_FILES,
    SCENARIO_FILES,
    Task,
    discover,
    is_template,
    plan,
    run_batch,
    run_one,
)
from vru_model.apps.cli import main
from vru_model.present.workbook import sheet_names

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"
def _text(page: str) -> str:
    """A page's text as a reader sees it (terms linked to the glossary are still the same words)."""
    return html.unescape(re.sub(r"<[^>]+>", "", page))


def _names(out: Path) -> list[str]:
    return sorted(p.name for p in out.iterdir() if p.is_dir())


# -- fast: no kernels --------------------------------------------------------------------------


def test_bad_input_exits_2_with_one_line_and_writes_nothing(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text((FIXTURES / "tiny.yaml").read_text().replace("annual_cost: 120000", "annual_cost: -1"))
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["batch", str(FIXTURES / "tiny.yaml"), str(bad), "--out", str(out)])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "bad.yaml" in lines[0] and "interventions.mentoring.annual_cost" in lines[0]
    assert "Traceback" not in result.output
    assert not out.exists()


def test_duplicate_names_are_bad_input(tmp_path: Path) -> None:
    copy = tmp_path / "copy.yaml"
    shutil.copy(FIXTURES / "tiny.yaml", copy)
    result = CliRunner().invoke(main, ["batch", str(FIXTURES / "tiny.yaml"), str(copy), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2 and "'tiny' is also the name of" in result.output


def test_templates_are_left_out_of_the_default_set(tmp_path: Path) -> None:
    shutil.copy(FIXTURES / "tiny.yaml", tmp_path / "tiny.yaml")
    (tmp_path / "_draft.yaml").write_text("name: draft\n")
    (tmp_path / "new.yaml").write_text("name: new_scenario\ntitle: Template for a new scenario\n")
    assert is_template(tmp_path / "new.yaml") and is_template(tmp_path / "_draft.yaml")
    assert discover([], tmp_path) == [tmp_path / "tiny.yaml"]


def test_the_key_follows_the_resolved_scenario(tmp_path: Path) -> None:
    shutil.copy(FIXTURES / "tiny.yaml", tmp_path / "tiny.yaml")
    first = plan([tmp_path / "tiny.yaml"], tmp_path / "out")[0]
    assert plan([tmp_path / "tiny.yaml"], tmp_path / "out")[0].key == first.key
    text = (tmp_path / "tiny.yaml").read_text()
    (tmp_path / "tiny.yaml").write_text(text.replace("# A tiny", "# Only a comment changed in a tiny"))
    assert plan([tmp_path / "tiny.yaml"], tmp_path / "out")[0].key == first.key
    (tmp_path / "tiny.yaml").write_text(text.replace("exit_cost: 5000", "exit_cost: 6000"))
    assert plan([tmp_path / "tiny.yaml"], tmp_path / "out")[0].key != first.key


def test_asking_for_ranges_is_part_of_the_key(tmp_path: Path) -> None:
    shutil.copy(FIXTURES / "tiny.yaml", tmp_path / "tiny.yaml")
    keys = {plan([tmp_path / "tiny.yaml"], tmp_path / "out", samples=4, ranges=r)[0].key for r in ("none", "all")}
    assert len(keys) == 2


@pytest.mark.slow
@pytest.mark.xdist_group("kernels")
def test_a_batch_asked_for_ranges_draws_each_services_room(tmp_path: Path) -> None:
    """`vru batch --ranges all`: the report's "How sure is this plan?" draws the range chart at the batch's 2%
    (robust_hand: within 2%, steady may lose a month to the flipper), and ranges.csv holds every service."""
    shutil.copy(FIXTURES / "robust_hand.yaml", tmp_path / "robust_hand.yaml")
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["batch", str(tmp_path / "robust_hand.yaml"), "--out", str(out),
                                       "--workers", "1", "--samples", "4", "--ranges", "all"])
    assert result.exit_code == 0, result.output
    ranges = pd.read_csv(out / "robust_hand" / "robustness" / "ranges.csv")
    assert sorted(ranges["intervention"]) == ["central", "doomed", "flipper", "steady"]
    assert set(ranges["epsilon"]) == {0.02}
    steady = ranges.set_index("intervention").loc["steady"]
    assert (steady["min_service_years"], steady["max_service_years"]) == pytest.approx((11 / 12, 1.0), abs=1e-4)
    page = (out / "robust_hand" / "report.html").read_text()
    assert 'alt="Range bars, one per service' in page and "was not worked out here" not in page


def test_sheet_names_fit_excel() -> None:
    names = sheet_names(["a" * 40, "a" * 35, "summary", "baseline"])
    assert all(len(n) <= 31 for n in names.values())
    assert len({n.lower() for n in names.values()} | {"summary"}) == 5


# -- the shipped batch -------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.xdist_group("papermill")
def test_batch_writes_the_whole_contract(shipped_batch: tuple[Path, object]) -> None:
    out, result = shipped_batch
    assert result.exit_code == 0, result.output  # an infeasible scenario is a result, not a failure
    assert set(SHIPPED) | {"xss_probe"} <= set(_names(out))
    for name in [*SHIPPED, "xss_probe"]:
        folder = out / name
        for f in SCENARIO_FILES:
            assert (folder / f).is_file(), f"{name}/{f}"
        assert (folder / "allocation.csv").read_text().splitlines()[0].split(",")[:11] == ALLOCATION_COLUMNS[:11]
        assert (folder / "funding.csv").read_text().splitlines()[0].split(",") == FUNDING_COLUMNS
        summary = json.loads((folder / "summary.json").read_text())
        assert {"scenario", "status", "objective", "solve_seconds", "fy", "closures", "shadow_prices",
                "compliance", "explanation", "provenance"} <= set(summary)
        nb = nbformat.read(folder / "report.ipynb", as_version=4)
        assert not [o for c in nb.cells for o in c.get("outputs", []) if o.output_type == "error"], name
        html = (folder / "report.html").read_text()
        assert '<html lang="en-GB">' in html
        assert "ScenarioReport.run" not in html and "In&nbsp;[" not in html  # no code, no prompts
        headings = re.findall(r"<h([1-6])", html)
        assert headings[0] == "1" and headings.count("1") == 1 and set(headings[1:]) <= {"2", "3"}
        assert "<script" not in html.replace("&lt;script", "")
        if summary["status"] == "optimal":
            imgs = re.findall(r"<img [^>]*>", html)
            assert len(imgs) >= 4 and all(re.search(r'alt="[^"]{40,}"', i) for i in imgs)
            assert '<th scope="col"' in html
        assert "<td>ipc</td>" in html  # the kernel was reached over IPC, not TCP
    index = (out / "index.html").read_text()
    assert '<html lang="en-GB">' in index and '<th scope="col"' in index
    for name in [*SHIPPED, "xss_probe"]:
        assert f'href="{name}/report.html"' in index
    assert index.count("✓&nbsp;Report&nbsp;ready") == len(SHIPPED) + 1
    assert "No possible plan (infeasible)" in _text(index)
    compare = (out / "compare.html").read_text()
    assert "<h1" in compare and re.search(r'<img [^>]*alt="', compare) and "Headline figures by scenario" in compare
    assert "Funding frontier" in compare and "Where services close as the baseline" in compare
    assert re.search(r"Below \d+% of the baseline grant, [^<]+ closes", compare)
    assert re.search(r'<img [^>]*alt="Two line charts against the core grant', compare)
    frontier = pd.read_csv(out / "baseline" / "frontier.csv")
    assert len(frontier) == 31 and frontier["level"].iloc[[0, -1]].tolist() == [0.0, 1.5]
    assert (out / "baseline" / "breakpoints.csv").is_file() and (out / "baseline" / "frontier.json").is_file()


@pytest.mark.slow
@pytest.mark.xdist_group("papermill")
def test_infeasible_report_explains_why(shipped_batch: tuple[Path, object]) -> None:
    out, _ = shipped_batch
    summary = json.loads((out / "infeasible_example" / "summary.json").read_text())
    assert summary["status"] == "infeasible"
    html = _text((out / "infeasible_example" / "report.html").read_text())
    assert "No plan can meet every rule of this scenario" in html
    assert summary["explanation"]["sentences"][0] in html


@pytest.mark.slow
@pytest.mark.xdist_group("papermill")
def test_cliff_edge_figures_for_a_scenario_with_uncertainty(shipped_batch: tuple[Path, object]) -> None:
    out = shipped_batch[0]
    html = _text((out / "late_confirmation" / "report.html").read_text())
    assert "What knowing the grant from the start would be worth (EVPI)" in html
    assert "Each grant outcome" in html
    assert "Cliff-edge plan: headline figures" in html and "If the grant ends (£0)" in html
    # the page leads with the plan to act on, and the plan made as if the grant were known is labelled so
    assert "so the plan to act on is the cliff-edge plan" in html and "if it is as planned" not in html
    assert html.index("Cliff-edge plan: headline figures") < html.index("Plan status")
    assert "A plan made as if the grant were known from the start is kept further down, folded, as a comparison." \
        in html and "The plan made as if the grant were known (a comparison)" in html
    assert "not the cliff-edge plan: the evidence is sampled for one grant at a time" in html
    assert (out / "late_confirmation" / "cliff_edge.json").is_file()
    index = _text((out / "index.html").read_text())
    assert "(OPCC underwrites until then): cliff-edge plan" in index and "Services by grant outcome" in index
    assert "Social value (see below)" in index and "Cliff-edge plans" in (out / "compare.html").read_text()


@pytest.mark.slow
@pytest.mark.xdist_group("papermill")
def test_scenario_text_is_escaped_in_every_page(shipped_batch: tuple[Path, object]) -> None:
    out, _ = shipped_batch
    for page in [out / "index.html", out / "compare.html", out / "xss_probe" / "report.html"]:
        html = page.read_text()
        for bad in EVIL:
            assert bad not in html, page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html, page
    report = (out / "xss_probe" / "report.html").read_text()
    assert "IRIS &lt;img src=x onerror=alert(1)&gt;" in report
    assert "&lt;script&gt;window.__xss=1&lt;/script&gt;" in report


@pytest.mark.slow
@pytest.mark.xdist_group("papermill")
def test_spreadsheet_and_manifest(shipped_batch: tuple[Path, object]) -> None:
    out, _ = shipped_batch
    wb = load_workbook(out / "allocations.xlsx")
    assert wb.sheetnames[:3] == ["Summary", "Funding", "Services by year"] and len(wb.sheetnames) == len(SHIPPED) + 4
    assert all(len(n) <= 31 for n in wb.sheetnames)
    summary = wb["Summary"]
    rows = [[c.value for c in row] for row in summary[summary.tables["Scenarios"].ref]]
    ids = [r[rows[0].index("Scenario id")] for r in rows[1:]]
    assert len(ids) == len(SHIPPED) + 1 and "Social value, undiscounted" in rows[0]
    notes = dict(zip(ids, (r[rows[0].index("Note")] for r in rows[1:]), strict=True))
    assert notes["infeasible_example"].startswith("No plan") and notes["late_confirmation"].startswith("Cliff-edge")
    for k, name in enumerate(ids, 2):  # an absolute link to the report, its path in words beside it
        assert summary.cell(k, rows[0].index("Report") + 1).hyperlink.target.startswith("file:///"), name
        assert Path(summary.cell(k, rows[0].index("Report file") + 1).value).is_file(), name
    years = wb["Services by year"]
    by_year = [[c.value for c in row] for row in years[years.tables["Services_by_year"].autoFilter.ref]]
    for name, file in [("baseline", "allocation.csv"), ("late_confirmation", "plan.csv")]:  # the plan of record
        ws, tab = wb[name], wb[name].tables[f"Allocation_{name}"]
        assert (int(ws.page_setup.paperSize), ws.freeze_panes, tab.totalsRowCount) == (9, "A2", 1)
        table = [[c.value for c in row] for row in ws[tab.autoFilter.ref]]
        csv = pd.read_csv(out / name / file)
        assert len(table) - 1 == len(csv) and "Service id" in table[0]
        spent = table[0].index("Spent by the VRU")
        assert sum(r[spent] for r in table[1:]) == pytest.approx(csv["vru_spend"].sum())
        assert str(ws.cell(len(table) + 1, spent + 1).value).startswith("=SUBTOTAL(109,")
        mine = [r for r in by_year[1:] if r[-1] == name]
        assert sum(r[by_year[0].index("Spent by the VRU")] for r in mine) == pytest.approx(csv["vru_spend"].sum())
        if "outcome" in csv:  # every outcome of the cliff-edge plan, VRU spend as plan.csv has it
            assert table[0][:2] == ["Outcome", "Probability"] and table[0][-1] == "Outcome id"
            assert {r[-1] for r in table[1:]} == set(csv["outcome"]) and len(set(csv["outcome"])) == 3
            for oid, want in csv.groupby("outcome")["vru_spend"].sum().items():
                assert sum(r[spent] for r in table[1:] if r[-1] == oid) == pytest.approx(want)
    assert "No possible plan" in " ".join(str(c.value) for c in wb["infeasible_example"]["A"] if c.value)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["exit_code"] == 0 and "pyomo" in manifest["versions"]
    assert manifest["scenarios"]["infeasible_example"] == manifest["scenarios"]["infeasible_example"] | {
        "report": "ok", "status": "infeasible"}
    for rel, entry in manifest["files"].items():
        assert hashlib.sha256((out / rel).read_bytes()).hexdigest() == entry["sha256"], rel
    for name in SHIPPED:
        assert {f"{name}/{f}" for f in SCENARIO_FILES} <= set(manifest["files"])
    assert {"index.html", "compare.html", "allocations.xlsx"} <= set(manifest["files"])
    assert {f"baseline/{f}" for f in FRONTIER_FILES} <= set(manifest["files"])
    assert not list(out.rglob(".*.tmp")) and not list(out.rglob(".report-*"))


@pytest.mark.slow
@pytest.mark.xdist_group("papermill")
def test_each_report_samples_the_evidence(shipped_batch: tuple[Path, object]) -> None:
    out, _ = shipped_batch
    summary = json.loads((out / "baseline" / "robustness" / "summary.json").read_text())
    assert summary["samples"] == SHIPPED_SAMPLES and summary["statuses"] == {"optimal": SHIPPED_SAMPLES}
    assert [a["epsilon"] for a in summary["alternatives"]] == [0.02, 0.02]
    assert (out / "baseline" / "robustness" / "alternatives" / "1" / "allocation.csv").is_file()
    assert not (out / "infeasible_example" / "robustness" / "services.csv").read_text().splitlines()[1:]


@pytest.mark.slow
@pytest.mark.xdist_group("papermill")
def test_rerun_skips_what_is_up_to_date(shipped_batch: tuple[Path, object]) -> None:
    out, _ = shipped_batch
    before = {p: p.stat().st_mtime_ns for p in [*out.glob("*/report.html"), out / "compare.html"]}
    scenarios = sorted((out.parent / "scenarios").glob("*.yaml"))
    result = CliRunner().invoke(main, ["batch", *map(str, scenarios), "--out", str(out), "--workers", "2",
                                       "--samples", str(SHIPPED_SAMPLES)])  # the same settings as the first run
    assert result.exit_code == 0, result.output
    assert result.output.count("up to date") == len(SHIPPED) + 1
    assert before == {p: p.stat().st_mtime_ns for p in [*out.glob("*/report.html"), out / "compare.html"]}
    assert (out / "baseline" / "frontier.csv").is_file()  # the comparison was up to date: its frontier stays
    assert json.loads((out / "manifest.json").read_text())["compare"]["state"] == "ok"


# -- failures ----------------------------------------------------------------------------------


def _failing_notebook(tmp: Path) -> Path:
    """The real report notebook with one more cell that the scenario named `broken` cannot get past."""
    nb = nbformat.read(ROOT / "notebooks" / "scenario_report.ipynb", as_version=4)
    nb.cells.insert(3, nbformat.v4.new_code_cell(
        'if report.scenario.name == "broken":\n    raise RuntimeError("this report cannot handle the scenario")'))
    path = tmp / "report.ipynb"
    nbformat.write(nb, path)
    return path


@pytest.mark.slow
@pytest.mark.xdist_group("kernels")
def test_a_failing_notebook_leaves_the_rest_whole(tmp_path: Path) -> None:
    scenarios = tmp_path / "scenarios"
    scenarios.mkdir()
    shutil.copy(FIXTURES / "tiny.yaml", scenarios / "tiny.yaml")
    (scenarios / "broken.yaml").write_text((FIXTURES / "tiny.yaml").read_text().replace("name: tiny", "name: broken"))
    out = tmp_path / "out"
    args = ["batch", str(scenarios / "tiny.yaml"), str(scenarios / "broken.yaml"), "--out", str(out),
            "--workers", "2", "--notebook", str(_failing_notebook(tmp_path))]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1
    assert "broken: REPORT FAILED: RuntimeError: this report cannot handle the scenario" in result.output
    assert "tiny: report ready (optimal)" in result.output
    assert all((out / "tiny" / f).is_file() for f in SCENARIO_FILES)
    kept = nbformat.read(out / "broken" / "report.ipynb", as_version=4)
    errors = [o for c in kept.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.output_type == "error"]
    assert errors and errors[0].ename == "RuntimeError"
    assert "this report cannot handle the scenario" in (out / "broken" / "report.html").read_text()
    index = (out / "index.html").read_text()
    assert "✗&nbsp;Report&nbsp;failed" in index and "1 report failed" in index
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["scenarios"]["broken"]["report"] == "failed" and manifest["exit_code"] == 1
    # the re-run skips the good scenario and tries the failed one again
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1
    assert "tiny: up to date" in result.output and "broken: REPORT FAILED" in result.output


@pytest.mark.slow
@pytest.mark.xdist_group("kernels")
def test_a_notebook_that_runs_too_long_is_stopped_and_kept(tmp_path: Path) -> None:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("import time\ntime.sleep(60)")],
                                  metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                           "language": "python"}})
    slow = tmp_path / "slow.ipynb"
    nbformat.write(nb, slow)
    task = Task("tiny", "Tiny", str(FIXTURES / "tiny.yaml"), "", str(tmp_path / "out"), str(slow), "k", timeout=3)
    outcome = run_one(task)
    assert outcome.state == "timed_out" and "took longer than 3 s" in outcome.error
    kept = nbformat.read(tmp_path / "out" / "tiny" / "report.ipynb", as_version=4)
    assert kept.metadata["papermill"]["exception"] is True
    cut = next(c for c in kept.cells if "time.sleep" in c.source)
    assert cut.metadata["papermill"]["status"] == "failed"
    assert [(o.output_type, o.ename) for o in cut.outputs] == [("error", "TimeoutError")]
    assert "took longer than 3 s" in cut.outputs[0].evalue
    assert "took longer than 3 s" in (tmp_path / "out" / "tiny" / "report.html").read_text()


@pytest.mark.slow
@pytest.mark.xdist_group("kernels")
def test_dask_executor_with_a_local_cluster(tmp_path: Path) -> None:
    from distributed import LocalCluster

    out = tmp_path / "out"
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None) as cluster:
        report = run_batch([FIXTURES / "tiny.yaml"], out, scheduler=cluster.scheduler_address, progress=False)
    assert report.exit_code == 0 and report.outcomes["tiny"].state == "ok"
    assert all((out / "tiny" / f).is_file() for f in SCENARIO_FILES)
    assert (out / "index.html").is_file() and (out / "manifest.json").is_file()
