"""A partner's view in a real browser: index -> a report, its tables and charts, and no script from scenario text;
every page at a phone's width, axe-core's WCAG 2.1 AA rules, and a report printed as a board paper.

Uses Debian's chromium (never a downloaded browser). Locally the test skips, saying so, when chromium is
missing; in CI (env CI set) a missing chromium is a failure.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from browser import ARTIFACTS, chromium, launch, need_chromium


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.xdist_group("papermill")
def test_partner_reads_index_and_a_report(shipped_batch: tuple[Path, object]) -> None:
    need_chromium()
    from playwright.sync_api import sync_playwright

    out, _ = shipped_batch
    dialogs: list[str] = []
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = launch(p)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
            page.goto((out / "index.html").as_uri())
            assert page.locator("html").get_attribute("lang") == "en-GB"
            assert page.locator("h1").inner_text() == "Scenario reports"
            assert page.locator("table th[scope=col]").count() >= 5
            assert "<script>alert(1)</script>" in page.locator("main").inner_text()  # shown as text, not run
            page.screenshot(path=str(ARTIFACTS / "index.png"), full_page=True)

            page.locator('a[href="xss_probe/report.html"]').first.click()
            page.wait_for_load_state("load")
            assert page.url.endswith("xss_probe/report.html")
            heading = page.locator("h1")
            assert heading.count() == 1 and heading.inner_text().startswith("Hostile <script>alert(1)</script>")
            # the finding, in the heading and the first sentence (the baseline lets two pilots in development go)
            assert heading.locator(".scenario-finding").inner_text().strip()
            assert page.locator("main > * .finding, main .finding").first.inner_text().startswith(
                ("Every service keeps running", "Serve notice"))
            assert page.locator("h2").count() >= 10
            assert page.locator("table").count() >= 5 and page.locator("table th[scope=col]").count() >= 10
            images = page.locator("img")
            assert images.count() >= 4
            for k in range(images.count()):
                img = images.nth(k)
                assert len(img.get_attribute("alt") or "") > 40
                assert img.evaluate("i => i.complete && i.naturalWidth > 100")  # the chart really rendered
            text = page.locator("main").inner_text()
            assert "<script>alert(1)</script>" in text and "<img src=x onerror=alert(1)>" in text
            assert page.evaluate("typeof window.__xss") == "undefined"
            # How sure is this plan? (the shipped batch's few samples of the evidence)
            assert page.locator("h2", has_text="How sure is this plan?").count() == 1
            fates = "share of 4 samples in which it is kept, reduced, closes or never runs"
            assert page.locator(f"img[alt*='{fates}']").count() == 1
            assert page.locator("img[alt^='Histogram of the value lost by keeping to the recommended']").count() == 1
            assert page.locator("table caption", has_text="Near-optimal alternatives").count() == 1
            page.screenshot(path=str(ARTIFACTS / "report.png"), full_page=True)

            page.locator("a", has_text="All scenarios").click()
            page.wait_for_load_state("load")
            assert page.url.endswith("index.html")
        finally:
            browser.close()
    assert dialogs == [], f"a script from scenario text ran: {dialogs}"


def _pages(out: Path) -> list[Path]:
    return [out / "index.html", out / "glossary.html", out / "compare.html",
            *(out / name / "report.html" for name in ("cut_50", "late_confirmation", "infeasible_example",
                                                      "xss_probe"))]


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.xdist_group("papermill")
def test_no_page_scrolls_sideways_on_a_phone(shipped_batch: tuple[Path, object]) -> None:
    need_chromium()
    from playwright.sync_api import sync_playwright

    out, _ = shipped_batch
    with sync_playwright() as p:
        browser = launch(p)
        try:
            page = browser.new_page(viewport={"width": 375, "height": 800})
            for path in _pages(out):
                page.goto(path.as_uri())
                width = page.evaluate("document.documentElement.scrollWidth")
                assert width <= 375, f"{path} is {width} px wide at 375 px"
                # wide tables scroll inside their own box, which a keyboard can reach
                for box in page.locator(".table-scroll").all():
                    assert box.get_attribute("tabindex") == "0" and box.get_attribute("aria-label")
            page.screenshot(path=str(ARTIFACTS / "report-375px.png"), full_page=True)
        finally:
            browser.close()


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.xdist_group("papermill")
def test_pages_pass_axe_wcag21_aa(shipped_batch: tuple[Path, object]) -> None:
    need_chromium()
    from axe_playwright_python.sync_playwright import Axe
    from playwright.sync_api import sync_playwright

    out, _ = shipped_batch
    axe = Axe()
    rules = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}
    found = {}
    with sync_playwright() as p:
        browser = launch(p)
        try:
            page = browser.new_context(bypass_csp=True).new_page()  # the pages' CSP forbids injecting axe
            for path in _pages(out):
                page.goto(path.as_uri())
                results = axe.run(page, options=rules)
                if results.violations_count:
                    found[str(path.relative_to(out))] = results.generate_report()
        finally:
            browser.close()
    assert not found, "\n\n".join(f"{k}:\n{v}" for k, v in found.items())


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.xdist_group("papermill")
def test_a_report_prints_as_a_board_paper(shipped_batch: tuple[Path, object], tmp_path: Path) -> None:
    need_chromium()
    from pypdf import PdfReader

    from vru_model.present.pages import print_pdf

    out, _ = shipped_batch
    html = out / "cut_50" / "report.html"
    sections = html.read_text(encoding="utf-8").count("<h2")
    pdf = tmp_path / "report.pdf"
    print_pdf(html, pdf, str(chromium()))
    reader = PdfReader(pdf)
    pages = len(reader.pages)
    # each section starts a page; nothing runs on for ever (cut_50 prints 25 A4 pages for 11 sections with its
    # folds open, the closure reasons as prose under their table and the robustness tables among them)
    assert sections + 1 <= pages <= 2 * sections + 4
    box = reader.pages[0].mediabox
    assert (round(float(box.width) * 25.4 / 72), round(float(box.height) * 25.4 / 72)) == (210, 297)  # A4
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert f"Page 1 of {pages}" in text and f"Page {pages} of {pages}" in text
    assert text.index("Grant cut by half from 2022/23") < text.index("Summary")  # the finding opens the paper
    assert "Cost to keep" in text and "Commissioning minimum by year" in text  # the folds print open
    for navigation in ("All scenarios", "Skip to main content", "Glossary: the words", "Show all sources"):
        assert navigation not in text
    for code in ("ScenarioReport", "import ", "show(report", "In [", "def "):
        assert code not in text


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.xdist_group("papermill")
def test_a_report_fits_eight_laptop_screens_before_a_fold_is_opened(shipped_batch: tuple[Path, object]) -> None:
    """cut_50 was 21.7 screens at 1366x768 and late_confirmation 22.2; a partner now sees the finding, what to do
    and by when, the headline figures and the spending in at most 8, and opens the rest fold by fold."""
    need_chromium()
    from playwright.sync_api import sync_playwright

    out, _ = shipped_batch
    with sync_playwright() as p:
        browser = launch(p)
        try:
            page = browser.new_page(viewport={"width": 1366, "height": 768})
            for name in ("cut_50", "late_confirmation"):
                page.goto((out / name / "report.html").as_uri())
                height = page.evaluate("document.documentElement.scrollHeight")
                assert height <= 8 * 768, (name, height / 768)
                folds = page.locator("details.fold")
                assert folds.count() >= 7
                assert page.locator("details.fold[open]").count() == 0
                first = folds.first
                first.locator(":scope > summary").click()
                assert first.evaluate("d => d.open") and page.evaluate(
                    "document.documentElement.scrollHeight") > height
                levels = page.evaluate("[...document.querySelectorAll('h1,h2,h3')].map(h => +h.tagName[1])")
                assert levels[0] == 1 and levels.count(1) == 1
                assert all(b <= a + 1 for a, b in itertools.pairwise(levels))  # no level skipped
            page.goto((out / "compare.html").as_uri())  # was 9.2 screens, most of it where each service closes
            assert page.evaluate("document.documentElement.scrollHeight") <= 8 * 768
        finally:
            browser.close()
