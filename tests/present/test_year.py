"""Where the year stands: a re-plan's report leads with the year in words finance and the director act on."""

from __future__ import annotations

from pathlib import Path

import pytest
from browser import launch, need_chromium

from vru_model import load_scenario
from vru_model.analysis.replan import replan
from vru_model.present.charts import Chart
from vru_model.present.reports.year import year_lines, year_section

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def tiny_plan(tmp_path_factory: pytest.TempPathFactory):
    """Tiny re-planned at September 2021: mentoring ran at half scale, so £6,000 of 2021/22's grant cannot be
    spent (tests/analysis/test_replan.py works it by hand)."""
    path = tmp_path_factory.mktemp("year") / "actuals.csv"
    path.write_text("stream,intervention,period,amount\n" + "".join(
        f"core,central,2021-0{m},2000\ncore,mentoring,2021-0{m},5000\n" for m in range(4, 10)))
    return replan(load_scenario(ROOT / "tests" / "fixtures" / "tiny.yaml"), path, "2021-09")


def test_the_year_in_words(tiny_plan) -> None:
    words = " ".join(year_lines(tiny_plan))
    assert "To the end of September 2021 the VRU spent £42k against" in words
    assert "is forecast to be £114k of £120k: £6,000 is at risk of not being claimed" in words
    assert "the minimum is 20%" in words


def test_the_section_has_its_heading_tables_and_a_described_chart(tiny_plan) -> None:
    items = year_section(tiny_plan)
    assert items[0].startswith('<h2 id="year">Where the year stands: actual spend to September 2021</h2>')
    [chart] = [i for i in items if isinstance(i, Chart)]
    assert "actual spend line runs to September 2021" in chart.alt and chart.png.startswith(b"\x89PNG")
    tables = [str(i) for i in items if "<table" in str(i)]
    assert len(tables) == 3 and all('<th scope="col"' in t for t in tables)
    assert year_section(None) == []


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.xdist_group("papermill")
def test_the_shipped_re_plan_leads_with_where_the_year_stands(shipped_batch: tuple[Path, object]) -> None:
    need_chromium()
    from playwright.sync_api import sync_playwright

    out, _ = shipped_batch
    folder = out / "replan_2021_09"
    assert {"variance.csv", "forecast.csv"} <= {p.name for p in folder.iterdir()}
    with sync_playwright() as p:
        browser = launch(p)
        try:
            page = browser.new_page(viewport={"width": 1366, "height": 768})
            page.goto((folder / "report.html").as_uri())
            first = page.locator("h2").first
            assert first.inner_text() == "Where the year stands: actual spend to September 2021"
            assert first.bounding_box()["y"] < 2 * 768  # on the first two screens, before the summary
            text = page.locator("main").inner_text() if page.locator("main").count() else page.inner_text("body")
            assert "at risk of not being claimed" in text and "stopped from August 2021" in text
        finally:
            browser.close()
