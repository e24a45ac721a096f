"""The explorer as the director sees it: `vru explore` serves Voila behind a token, a real Chromium moves the
grant, the headline and the closures change, a scenario is saved, and a screenshot is kept in test-artifacts/.
Closing the page shuts its kernel down, and no request goes to another host."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from browser import ARTIFACTS, launch, need_chromium

from vru_model import load_scenario
from vru_model.apps.explorer import SCENARIOS_ENV, ExplorerController, free_port

ROOT = Path(__file__).resolve().parents[2]
START_SECONDS = 90
SOLVE_MS = 60_000

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("voila")]


@pytest.fixture(scope="module", autouse=True)
def _need_chromium() -> None:
    need_chromium()


@pytest.fixture(scope="module")
def explorer_url(shipped: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`vru explore` on a free localhost port, on a copy of the scenarios; stopped at teardown."""
    port = free_port()
    log = tmp_path_factory.mktemp("voila") / "voila.log"
    vru = Path(sys.executable).with_name("vru")
    env = {k: v for k, v in os.environ.items() if k != SCENARIOS_ENV}
    with log.open("w") as out:
        proc = subprocess.Popen(
            [str(vru), "explore", "--port", str(port), "--no-browser", "--scenarios", str(shipped)],
            stdout=out, stderr=subprocess.STDOUT, env=env, cwd=ROOT,
        )
    try:
        deadline = time.monotonic() + START_SECONDS
        url = None
        while True:
            if proc.poll() is not None:
                pytest.fail(f"vru explore exited with {proc.returncode}:\n{log.read_text()}")
            found = re.search(rf"Explorer: (http://127\.0\.0\.1:{port}/\?token=[0-9a-f]{{48}}) ", log.read_text())
            url = url or (found and found.group(1))
            try:
                if url:
                    with urllib.request.urlopen(url, timeout=5) as resp:
                        if resp.status == 200 and "/login" not in resp.url:
                            break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"Voila did not answer on port {port} within {START_SECONDS} s:\n{log.read_text()}")
            time.sleep(0.5)
        yield url
    finally:
        proc.send_signal(signal.SIGTERM)  # Voila shuts its kernels down on SIGTERM
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def test_director_moves_the_grant_and_saves_a_scenario(explorer_url: str, shipped: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = launch(p)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1400})
            page.goto(explorer_url, timeout=START_SECONDS * 1000)
            headline = page.locator(".vru-headline-value")
            expect(headline).to_be_visible(timeout=START_SECONDS * 1000)
            assert "import" not in page.locator("body").inner_text()  # code cells are hidden
            value_before = headline.inner_text()
            closures_before = page.locator(".vru-closures").inner_text()

            box = page.locator(".vru-grant-text-2022-23 input")
            box.fill("1653500")  # half the 2022/23 grant
            box.press("Enter")
            expect(headline).not_to_have_text(value_before, timeout=SOLVE_MS)
            expect(page.locator(".vru-closures")).not_to_have_text(closures_before, timeout=SOLVE_MS)
            expect(page.locator(".vru-grant-pct-2022-23")).to_contain_text("50% of the starting grant")
            shown = page.locator(".vru-closures").inner_text()
            expected = ExplorerController(shipped, "baseline").set_grant("2022/23", 1653500).closures
            assert expected and all(c.title in shown for c in expected)

            page.locator(".vru-save-name input").fill("browser_half_grant")
            page.locator(".vru-save-title input").fill("Half the 2022/23 grant (browser test)")
            page.locator(".vru-save-button").click()
            expect(page.locator(".vru-save-message")).to_contain_text("Saved", timeout=SOLVE_MS)
            page.get_by_text("Funding scenario explorer").scroll_into_view_if_needed()
            page.screenshot(path=str(ARTIFACTS / "explorer.png"), full_page=True)
        finally:
            browser.close()
    saved = load_scenario(shipped / "browser_half_grant.yaml")
    assert saved.core_grant("2022/23") == 1653500
    assert saved.title == "Half the 2022/23 grant (browser test)"
    assert not (ROOT / "scenarios" / "browser_half_grant.yaml").exists()


def _kernel_status(url: str, kernel_id: str) -> int:
    """HTTP status of the server's record of one kernel: 200 while it runs, 404 once it is shut down."""
    base, token = url.split("?token=")
    try:
        with urllib.request.urlopen(f"{base}api/kernels/{kernel_id}?token={token}", timeout=10) as resp:
            return resp.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_the_explorer_needs_its_token(explorer_url: str) -> None:
    base = explorer_url.split("?")[0]
    with urllib.request.urlopen(base, timeout=10) as resp:  # no token: the login page, not the explorer
        assert "/login" in resp.url and "vru-headline" not in resp.read().decode()
    with urllib.request.urlopen(base + "?token=" + "0" * 48, timeout=10) as resp:
        assert "/login" in resp.url
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(base + "api/kernels/00000000-0000-0000-0000-000000000000", timeout=10)
    assert info.value.code == 403


def test_closing_the_page_shuts_its_kernel_down(explorer_url: str) -> None:
    """Each tab has a kernel of about 200 MB; before the fix the shutdown request was refused (403, '_xsrf'
    argument missing) and every closed tab left its kernel running."""
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as p:
        browser = launch(p)
        try:
            page = browser.new_page()
            page.goto(explorer_url, timeout=START_SECONDS * 1000)
            expect(page.locator(".vru-headline-value")).to_be_visible(timeout=START_SECONDS * 1000)
            kernel_id = json.loads(page.locator("#jupyter-config-data").text_content() or "{}")["kernelId"]
            assert _kernel_status(explorer_url, kernel_id) == 200
            # Leaving the page runs its beforeunload handler, which asks the server to shut the kernel down, as
            # closing the tab does (headless Chromium's page.close(run_before_unload=True) may drop that request).
            page.goto("about:blank")
            deadline = time.monotonic() + 60
            while _kernel_status(explorer_url, kernel_id) == 200 and time.monotonic() < deadline:
                time.sleep(0.5)
        finally:
            browser.close()
    assert _kernel_status(explorer_url, kernel_id) == 404, "the closed page's kernel is still running"


def test_no_request_leaves_the_machine(explorer_url: str) -> None:
    from playwright.sync_api import expect, sync_playwright

    local = explorer_url.split("/")[2]
    hosts: set[str] = set()
    with sync_playwright() as p:
        browser = launch(p)
        try:
            page = browser.new_page()
            page.on("request", lambda r: hosts.add(r.url.split("/")[2] if "://" in r.url else r.url.split(":")[0]))
            page.goto(explorer_url, timeout=START_SECONDS * 1000)
            headline = page.locator(".vru-headline-value")
            expect(headline).to_be_visible(timeout=START_SECONDS * 1000)
            before = headline.inner_text()
            box = page.locator(".vru-grant-text-2022-23 input")
            box.fill("2000000")
            box.press("Enter")
            expect(headline).not_to_have_text(before, timeout=SOLVE_MS)
            icon = page.locator(".vru-save-button i").first
            font = icon.evaluate("i => getComputedStyle(i).fontFamily")
        finally:
            browser.close()
    assert local in hosts
    assert hosts - {local, "data", "blob"} == set(), f"requests to other hosts: {sorted(hosts - {local})}"
    assert "Font Awesome" in font  # the button's icon still has its font, served from this machine


@pytest.mark.parametrize("width", [375, 800])
def test_explorer_on_a_narrow_screen_stacks_and_dims_while_working(explorer_url: str, width: int) -> None:
    """Phone (375 px) and small laptop window (800 px): settings above results, no sideways scrolling, a typed
    percentage accepted, and the old figures dimmed while the new plan is worked out."""
    from playwright.sync_api import expect, sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = launch(p)
        try:
            page = browser.new_page(viewport={"width": width, "height": 900})
            page.goto(explorer_url, timeout=START_SECONDS * 1000)
            expect(page.locator(".vru-headline-value")).to_be_visible(timeout=START_SECONDS * 1000)
            controls = page.locator(".vru-controls").bounding_box()
            results = page.locator(".vru-results").bounding_box()
            assert controls and results
            assert results["y"] >= controls["y"] + controls["height"] - 1  # stacked: results below the settings
            assert results["width"] >= 0.85 * width and controls["width"] >= 0.85 * width
            assert page.evaluate("document.documentElement.scrollWidth") <= width  # nothing scrolls sideways
            page.evaluate("""() => {
                window.vruDimmed = false;
                const out = document.querySelector('.vru-output');
                new MutationObserver(() => { if (out.classList.contains('vru-stale')) window.vruDimmed = true; })
                    .observe(out, {attributes: true, attributeFilter: ['class']});
            }""")
            box = page.locator(".vru-grant-text-2022-23 input")
            box.fill("50%")
            box.press("Enter")
            expect(page.locator(".vru-grant-pct-2022-23")).to_contain_text("50% of the starting grant",
                                                                           timeout=SOLVE_MS)
            expect(page.locator(".vru-output")).not_to_have_class(re.compile(r"\bvru-stale\b"), timeout=SOLVE_MS)
            expect(page.locator(".vru-closures")).to_contain_text("Notice must be served by", timeout=SOLVE_MS)
            assert page.evaluate("window.vruDimmed")
            assert page.evaluate("document.documentElement.scrollWidth") <= width
            page.locator(".vru-results").scroll_into_view_if_needed()
            page.screenshot(path=str(ARTIFACTS / f"explorer-{width}px-results.png"))
        finally:
            browser.close()


CLIFF_EDGE_MS = 400_000  # the cliff-edge button takes 20 to 120 s on a 2-core machine, more under load


def test_the_cliff_edge_plan_is_the_one_answer_on_a_laptop(explorer_url: str, shipped: Path) -> None:
    """late_confirmation at 1366x768: after "Work out the cliff-edge plan" the top figure is the cliff-edge plan's,
    labelled, the as-if-known plan is a labelled comparison, outcomes are named in words, and there is one month
    control."""
    from playwright.sync_api import expect, sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = launch(p)
        try:
            page = browser.new_page(viewport={"width": 1366, "height": 768})
            page.goto(explorer_url, timeout=START_SECONDS * 1000)
            headline = page.locator(".vru-headline-value")
            expect(headline).to_be_visible(timeout=START_SECONDS * 1000)
            title = load_scenario(shipped / "late_confirmation.yaml").title
            page.locator(".vru-start select").select_option(label=f"{title} (late_confirmation)")
            button = page.locator(".vru-cliff-edge-button")
            expect(button).to_be_visible(timeout=SOLVE_MS)
            assert page.locator(".vru-confirmation").count() == 0
            assert page.locator(".vru-uncertainty-month").count() == 1
            expect(page.locator(".vru-controls")).to_contain_text("Month the 2022/23 grant becomes known")
            picker = page.locator(".vru-protect")
            picker.locator(".vru-protect-filter input").fill("pilot")
            titles = [i.title for i in load_scenario(shipped / "late_confirmation.yaml").interventions.values()]
            assert picker.locator("input[type=checkbox]").count() == len(titles)
            pilots = sum("pilot" in t.lower() for t in titles)
            assert 0 < pilots < len(titles)
            expect(picker.locator("input[type=checkbox]:visible")).to_have_count(pilots)
            picker.scroll_into_view_if_needed()
            page.screenshot(path=str(ARTIFACTS / "explorer-protect-1366.png"))
            picker.locator(".vru-protect-filter input").fill("")
            button.click()
            cliff = page.locator(".vru-output .vru-cliff-edge")
            expect(cliff).to_be_visible(timeout=CLIFF_EDGE_MS)
            output = page.locator(".vru-output")
            top = output.locator("h3").first.inner_text()
            assert top.startswith("Cliff-edge plan (the plan to act on): expected value")
            assert headline.count() == 1 and headline.inner_text() in top
            text = output.inner_text()
            assert "Value of this plan" not in text
            expect(output.locator(".vru-as-if-known > summary")).to_contain_text(
                "For comparison: the plan as if the grant were known from the start")
            for words in ("If the 2022/23 grant continues in full", "If the 2022/23 grant is cut by 25%",
                          "If the 2022/23 grant ends"):
                expect(cliff.locator("td", has_text=words)).to_have_count(1)
            assert not re.search(r"\b(cut_25|full|ends) £", text) and "cut_25" not in text
            possible = page.locator(".vru-controls p", has_text="Possible outcomes").inner_text()
            assert "cut_25" not in possible and "the grant is cut by 25% (£2.48m, 30% chance)" in possible
            assert page.evaluate("document.documentElement.scrollWidth") <= 1366
            page.get_by_text("Funding scenario explorer").scroll_into_view_if_needed()
            box = headline.bounding_box()
            assert box and box["y"] + box["height"] <= 768  # the answer is on the first screen
            page.screenshot(path=str(ARTIFACTS / "explorer-cliff-edge-1366.png"))
        finally:
            browser.close()
    expected = ExplorerController(shipped, "late_confirmation").cliff_edge().cliff_edge
    assert expected is not None and [o.closes for o in expected.outcomes] == [
        int(n) for n in re.findall(r"(\d+) if the 2022/23 grant", text)[:3]]


ROOM_MS = 300_000  # two solves per service: 31 s on the baseline on a 2-core machine, more under load


def test_each_services_room_is_shown_when_asked(explorer_url: str, shipped: Path) -> None:
    """On the baseline, "How much room does each service have?" draws the range chart (an image whose alt text
    names every service), says which services every near plan runs, and folds the figures."""
    from playwright.sync_api import expect, sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    titles = [i.title for i in load_scenario(shipped / "baseline.yaml").interventions.values()]
    with sync_playwright() as p:
        browser = launch(p)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(explorer_url, timeout=START_SECONDS * 1000)
            expect(page.locator(".vru-headline-value")).to_be_visible(timeout=START_SECONDS * 1000)
            page.locator(".vru-room-button").click()
            room = page.locator(".vru-output .vru-room")
            image = room.locator("img")
            expect(image).to_be_visible(timeout=ROOM_MS)
            assert page.evaluate("img => img.naturalWidth", image.element_handle()) > 0
            alt = image.get_attribute("alt") or ""
            assert all(t in alt for t in titles)
            expect(room).to_contain_text("Every plan within 5% of the best value runs")
            assert room.locator("details table tbody tr").count() == len(titles)
            room.scroll_into_view_if_needed()
            page.screenshot(path=str(ARTIFACTS / "explorer-room.png"))
        finally:
            browser.close()
