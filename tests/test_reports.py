"""The report pieces, without papermill: narrative, charts, tables, escaping, pages."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import pytest

from vru_model import load_scenario
from vru_model.charts import Chart
from vru_model.narrative import narrative
from vru_model.reports import (
    Comparison,
    Html,
    ScenarioReport,
    describe_cliff_edge,
    frontier_section,
    headline,
    page,
    run_frontier,
    table,
)
from vru_model.solve import solve

FIXTURES = Path(__file__).parent / "fixtures"
EVIL = ["<script>alert(1)</script>", "<img src=x onerror=alert(1)>"]
PNG = b"\x89PNG\r\n\x1a\n"


def _html(items: list[object]) -> str:
    return "".join(str(i) if isinstance(i, Html) else "" for i in items)


@pytest.fixture(scope="module")
def tiny_report() -> ScenarioReport:
    return ScenarioReport(solve(load_scenario(FIXTURES / "tiny.yaml")))


@pytest.fixture(scope="module")
def evil_report() -> ScenarioReport:
    overrides = {"name": "evil", "title": f"Cut {EVIL[0]} {EVIL[1]}", "description": EVIL[0],
                 "interventions.mentoring.title": f"Mentoring {EVIL[1]}",
                 "funding.core.amounts.2022/23": 60000}
    return ScenarioReport(solve(load_scenario(FIXTURES / "tiny.yaml", overrides)))


def _sections(report: ScenarioReport) -> list[list[object]]:
    return [report.introduction(), report.headline_section(), report.feasibility(), report.spending(),
            report.commissioning(), report.closures(), report.value(), report.shadow_prices(), report.compliance(),
            report.comparison(), report.cliff_edge(), report.provenance()]


def test_every_section_renders_and_charts_carry_alt_text(tiny_report: ScenarioReport) -> None:
    charts = [i for s in _sections(tiny_report) for i in s if isinstance(i, Chart)]
    assert len(charts) == 4  # spend, commissioning, timeline, value
    for chart in charts:
        assert chart.png.startswith(PNG)
        assert len(chart.alt) > 40 and chart.caption
        data, meta = chart._repr_mimebundle_()
        assert base64.b64decode(data["image/png"]).startswith(PNG)
        assert meta["image/png"]["alt"] == chart.alt


def test_scenario_text_is_escaped_in_every_section(evil_report: ScenarioReport) -> None:
    sections = _sections(evil_report)
    html = _html([i for s in sections for i in s])
    for bad in EVIL:
        assert bad not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    alts = " ".join(i.alt for s in sections for i in s if isinstance(i, Chart))
    assert "Mentoring <img" in alts  # alt text is plain text; nbconvert escapes it into the attribute


def test_narrative_names_closures_in_words(evil_report: ScenarioReport) -> None:
    text = narrative(evil_report.summary, None)
    assert evil_report.summary["closures"], "the cut should close mentoring"
    assert "one service closes: Mentoring" in text
    assert "notice by" in text and "Every grant condition is met" in text


def test_narrative_against_a_baseline_gives_the_funding_level(tiny_report: ScenarioReport,
                                                              evil_report: ScenarioReport) -> None:
    text = narrative(evil_report.summary, tiny_report.summary)
    assert text.startswith("With the core grant at 50% of the baseline in 2022/23 (as the baseline in other years)")
    assert "less than the baseline" in text
    assert narrative(tiny_report.summary, tiny_report.summary).startswith(
        "At 100% of the baseline's core grant in every year, every service keeps running.")


def test_infeasible_summary_explains_itself() -> None:
    summary = {"status": "infeasible", "status_text": "No plan.", "fy": {"2021/22": {"core_grant": 1e6}},
               "explanation": {"text": "The £1.00m core grant cannot cover committed contracts.",
                               "sentences": ["The £1.00m core grant cannot cover committed contracts."]},
               "totals": {"services": 3}}
    assert "no plan can meet every rule. The £1.00m core grant cannot cover" in narrative(summary, None)
    h = headline(summary)
    assert h["value"] is None and h["services_closed"] is None and h["core_grant_total"] == 1e6


def test_tables_have_captions_and_header_cells() -> None:
    html = table([["<b>x</b>", 1]], ["Name", "Count"], "A <caption>", [False, True])
    assert "<caption>A &lt;caption&gt;</caption>" in html
    assert '<th scope="col">Name</th>' in html and '<th scope="col" class="num">Count</th>' in html
    assert '<th scope="row">&lt;b&gt;x&lt;/b&gt;</th>' in html


def test_page_is_accessible_and_forbids_scripts() -> None:
    html = page("A <title>", "<h1>Hi</h1>", home="index.html")
    assert '<html lang="en-GB">' in html
    assert "<title>A &lt;title&gt;</title>" in html
    assert re.search(r"Content-Security-Policy\" content=\"default-src 'none'", html)
    assert "<script" not in html


def test_cliff_edge_summary_in_words_and_a_chart() -> None:
    summary = {"status": "optimal", "sentences": ["The grant is not known until June.", "Keep every <b> service."],
               "expected_value": 6e6, "wait_and_see": 6.7e6, "evpi": 7e5, "vss": 2e4,
               "outcomes": [{"name": "full", "probability": 0.5, "grant": 3.3e6, "value": 9.9e6, "closures": []},
                            {"name": "ends", "probability": 0.5, "grant": 0.0, "value": 2e6, "closures": [{}]}],
               "no_regret_core": [{"intervention": "a", "title": "A <i>"}]}
    items = describe_cliff_edge(summary)
    html = _html(items)
    assert "EVPI" in html and "£700k" in html and "Keep every &lt;b&gt; service." in html
    assert "A &lt;i&gt;" in html
    assert any(isinstance(i, Chart) for i in items)


def test_comparison_over_written_results(tmp_path: Path, tiny_report: ScenarioReport,
                                         evil_report: ScenarioReport) -> None:
    tiny_report.result.write(tmp_path)
    evil_report.result.write(tmp_path)
    comparison = Comparison.load(str(tmp_path), ["tiny"])
    assert [s["scenario"] for s in comparison.summaries] == ["tiny"]
    comparison = Comparison.load(str(tmp_path))
    assert len(comparison.summaries) == 2
    items = (comparison.introduction() + comparison.headline_table() + comparison.value_chart()
             + comparison.closures_chart() + comparison.commissioning_table())
    assert sum(isinstance(i, Chart) for i in items) == 2
    assert EVIL[0] not in _html(items)


def test_frontier_section_in_plain_words_with_a_chart(tmp_path: Path) -> None:
    small = FIXTURES / "frontier_small.yaml"
    hostile = tmp_path / "frontier_small.yaml"
    hostile.write_text(small.read_text().replace("title: Sports programme", f'title: "Sports {EVIL[1]}"'))
    result = run_frontier(str(hostile), str(tmp_path / "out"))
    assert {p.name for p in (tmp_path / "out" / "frontier_small").iterdir()} >= {
        "frontier.csv", "breakpoints.csv", "frontier.json"}
    items = frontier_section(result)
    html = _html(items)
    assert "A lawful plan exists from 35%." in html
    assert "Below 95% of the baseline grant, Workforce training closes (from December 2022)." in html
    assert "Below 45% of the baseline grant, Mentoring closes" in html
    assert '<th scope="col">Core grant</th>' in html and '<th scope="row">below 65%</th>' in html
    assert "of the baseline&#x27;s core grant" in html and "this scenario" not in html  # the sentences, reworded
    assert EVIL[1] not in html and "Sports &lt;img src=x onerror=alert(1)&gt;" in html
    [chart] = [i for i in items if isinstance(i, Chart)]
    assert chart.png.startswith(PNG) and "No lawful plan below 35%" in chart.alt and "(undiscounted)" in chart.alt
    assert "100%" in chart.caption


def test_frontier_section_without_a_baseline_says_so() -> None:
    assert run_frontier("", "unused") is None
    assert "no baseline scenario" in _html(frontier_section(None))
