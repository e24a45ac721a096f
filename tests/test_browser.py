"""A partner's view in a real browser: index -> a report, its tables and charts, and no script from scenario text.

Uses Debian's chromium (never a downloaded browser). Locally the test skips, saying so, when chromium is
missing; in CI (env CI set) a missing chromium is a failure.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from test_batch import shipped_batch  # noqa: F401 - the session's batch run, shared with test_batch

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


def _need_chromium() -> None:
    if Path(CHROMIUM).is_file() or shutil.which("chromium"):
        return
    message = f"browser test needs Debian's chromium at {CHROMIUM} (apt-get install chromium)"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.xdist_group("papermill")
def test_partner_reads_index_and_a_report(shipped_batch: tuple[Path, object]) -> None:  # noqa: F811
    _need_chromium()
    from playwright.sync_api import sync_playwright

    out, _ = shipped_batch
    dialogs: list[str] = []
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM if Path(CHROMIUM).is_file() else shutil.which("chromium"),
                                    args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
            page.goto((out / "index.html").as_uri())
            assert page.locator("html").get_attribute("lang") == "en-GB"
            assert page.locator("h1").inner_text() == "Scenario reports"
            assert page.locator("table th[scope=col]").count() >= 5
            assert "<script>alert(1)</script>" in page.locator("main").inner_text()  # shown as text, not run
            page.screenshot(path=str(ARTIFACTS / "index.png"), full_page=True)

            page.locator('a[href="xss_probe/report.html"]').click()
            page.wait_for_load_state("load")
            assert page.url.endswith("xss_probe/report.html")
            assert page.locator("h1").inner_text() == "Scenario report"
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
            # How sure is this plan? (the batch's default 20 samples of the evidence)
            assert page.locator("h2", has_text="How sure is this plan?").count() == 1
            assert page.locator("img[alt*='share of 20 samples in which it is kept, reduced or closes']").count() == 1
            assert page.locator("img[alt^='Histogram of the value lost by keeping to the recommended']").count() == 1
            assert page.locator("table caption", has_text="Near-optimal alternatives").count() == 1
            page.screenshot(path=str(ARTIFACTS / "report.png"), full_page=True)

            page.locator("a", has_text="All scenarios").click()
            page.wait_for_load_state("load")
            assert page.url.endswith("index.html")
        finally:
            browser.close()
    assert dialogs == [], f"a script from scenario text ran: {dialogs}"
