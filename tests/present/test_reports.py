"""The report pieces, without papermill: narrative, charts, tables, escaping, pages."""

from __future__ import annotations

import base64
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from vru_model import load_scenario
from vru_model.analysis.solve import solve
from vru_model.core.text import money
from vru_model.model.build import RULES
from vru_model.present import charts, pages
from vru_model.present.charts import Chart
from vru_model.present.glossary import COMPILED, TERMS, link_terms
from vru_model.present.narrative import finding, narrative
from vru_model.present.pages import glossary_page, index_page, page
from vru_model.present.reports import (
    Comparison,
    Html,
    Names,
    ScenarioReport,
    describe_cliff_edge,
    frontier_section,
    headline,
    run_frontier,
    table,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
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
    return [report.introduction(), report.headline_section(), report.feasibility(), report.changes(),
            report.spending(), report.commissioning(), report.closures(), report.value(), report.shadow_prices(),
            report.compliance(), report.comparison(), report.cliff_edge(), report.as_if_known(), report.provenance()]


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
    assert _html(comparison.introduction()).startswith('<p class="finding">Two scenarios compared. Services close in '
                                                      "one of them; most in “Cut &lt;script&gt;")


def test_frontier_section_in_plain_words_with_a_chart(tmp_path: Path) -> None:
    small = FIXTURES / "frontier_small.yaml"
    hostile = tmp_path / "frontier_small.yaml"
    hostile.write_text(small.read_text().replace("title: Sports programme", f'title: "Sports {EVIL[1]}"'))
    result = run_frontier(str(hostile), str(tmp_path / "out"))
    assert {p.name for p in (tmp_path / "out" / "frontier_small").iterdir()} >= {
        "frontier.csv", "breakpoints.csv", "frontier.json"}
    items = frontier_section(result)
    html = _html(items)
    assert "A lawful plan exists from 30%." in html
    # there only with the underwriter's money: 8,000 drawn at 30% (frontier.csv), none from 35%
    assert ("At 30% the plan leans on the underwriting, drawing £8,000; the lowest level whose plan draws none "
            "is 35%.") in html
    assert "Below 95% of the baseline grant, Workforce training closes (from December 2022)." in html
    # at 40% keeping Mentoring for its last month or not is worth exactly the same (538,234 either way): which
    # of the two plans HiGHS returns depends on its path, so the level it closes below is 40% or 45%
    assert re.search(r"Below (40|45)% of the baseline grant, Mentoring closes", html)
    assert '<th scope="col">Core grant</th>' in html and '<th scope="row">below 65%</th>' in html
    assert "of the baseline&#x27;s core grant" in html and "this scenario" not in html  # the sentences, reworded
    assert EVIL[1] not in html and "Sports &lt;img src=x onerror=alert(1)&gt;" in html
    [chart] = [i for i in items if isinstance(i, Chart)]
    assert chart.png.startswith(PNG) and "No lawful plan below 30%" in chart.alt and "(undiscounted)" in chart.alt
    assert "100%" in chart.caption


def test_frontier_section_without_a_baseline_says_so() -> None:
    assert run_frontier("", "unused") is None
    assert "no baseline scenario" in _html(frontier_section(None))


# -- finding first, plain names, one money style, glossary, templates ----------------------------------------


@pytest.mark.parametrize(("amount", "text"), [
    (0, "£0"), (0.3, "<£1"), (120, "£120"), (9_400, "£9,400"), (45_200, "£45.2k"), (198_000, "£198k"),
    (999_499, "£999k"), (999_600, "£1m"), (3_307_000, "£3.31m"), (3_300_000, "£3.3m"), (12_340_000, "£12.3m"),
    (123_400_000, "£123m"), (1.5e9, "£1.5bn"), (2e12, "£2tn"), (1e15, "£1,000tn"), (-45_000, "-£45k"),
])
def test_one_money_style_at_every_size(amount: float, text: str) -> None:
    assert money(amount) == text
    assert charts.millions(amount) == text  # chart axes and bar labels say the same


def test_shipped_titles_and_descriptions_use_the_money_style() -> None:
    for path in sorted((Path(__file__).resolve().parents[2] / "scenarios").glob("*.yaml")):
        sc = load_scenario(path)
        for text in (sc.title, sc.description or ""):
            assert "GBP" not in text and not re.search(r"£\d{1,3},\d{3},\d{3}|£\d+(\.\d+)?M\b", text), (path, text)


def test_the_finding_comes_first(tiny_report: ScenarioReport, evil_report: ScenarioReport) -> None:
    f = finding(evil_report.summary, tiny_report.summary)
    assert f.heading == "one service closes, social value 34% lower"
    assert f.sentence.startswith("Serve notice on one service (by ")
    assert "Mentoring" in f.sentence and "in exit costs" in f.sentence and "34% less than the baseline" in f.sentence
    assert f.line.startswith("One service closes (by ")
    intro = _html(evil_report.introduction())
    assert intro.startswith("<h1>Cut &lt;script&gt;")  # the page's one h1: the title, then the finding
    assert "One service closes" in intro.split("</h1>")[0]
    assert intro.split("</h1>")[1].startswith('<p class="finding finding-closures">Serve notice on one service')
    assert finding(tiny_report.summary).heading == "every service keeps running"


def test_an_infeasible_finding_says_what_would_fix_it() -> None:
    summary = {"status": "infeasible", "fy": {"2021/22": {"core_grant": 1e6}},
               "explanation": {"sentences": ["The £1m core grant cannot cover committed contracts (£1.2m in all, a "
                                             "gap of £198k)."], "extra_core_grant_needed": {"2021/22": 438_000}}}
    f = finding(summary)
    assert f.heading == "no plan can meet every rule: it needs at least £438k more core grant in 2021/22"
    assert f.sentence.startswith("No plan can meet every rule of this scenario. The £1m core grant")
    assert f.line == "No possible plan: needs at least £438k more core grant in 2021/22."


def test_ids_become_titles_in_what_people_read(tiny_report: ScenarioReport) -> None:
    names = Names(tiny_report.scenario)
    text = "Keep mentoring (stream_budget); spend the core grant on central (mentoring), commissioning_minimum."
    assert names.plain(text) == ("Keep mentoring; spend the core grant on central (Mentoring), commissioning "
                                 "minimum.")
    ledger = _html(tiny_report.compliance()) + _html(tiny_report.shadow_prices())
    assert "(commissioning_minimum)" not in ledger and "central_capability_floor" not in ledger


def test_glossary_links_the_first_use_of_each_term_only_in_text() -> None:
    html = ('<h2>Shadow prices</h2><p>The shadow price of the <a href="x">core grant</a>.</p>'
            '<img alt="EVPI and the shadow price"><p>Again the shadow price and EVPI; evpi is not the acronym.</p>')
    linked = link_terms(html, "../glossary.html")
    assert linked.count('href="../glossary.html#shadow-price"') == 1
    assert '<h2>Shadow prices</h2><p>The <a class="gloss" href="../glossary.html#shadow-price"' in linked
    assert '<a href="x">core grant</a>' in linked and '<img alt="EVPI and the shadow price">' in linked
    assert linked.count("#evpi") == 1 and "evpi is not" in linked
    page_html = glossary_page()
    for term in TERMS:
        assert f'<dt id="{term.slug}">' in page_html
    for word in ("shadow price", "discounted", "no-regret core", "here-and-now", "central capability floor", "taper",
                 "headroom", "design strength", "VSS", "EVPI"):
        assert any(re.search(p.pattern, word) for _, p in COMPILED), word  # every term the issue lists is glossed


def test_pages_escape_by_default(tmp_path: Path) -> None:
    class Task:  # what index_page reads from batch.Task and batch.Outcome
        def __init__(self, name: str, title: str) -> None:
            self.name, self.title, self.state, self.error = name, title, "failed", EVIL[0]

    task = Task("evil", f"Evil {EVIL[1]}")
    html = index_page(tmp_path, [task], {"evil": task}, Task("compare", "x"))
    assert EVIL[0] not in html and EVIL[1] not in html and "Evil &lt;img src=x onerror=alert(1)&gt;" in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html  # the error, shown as text
    assert "summary (JSON)" not in html.split("<details")[0]  # data files are for analysts, out of the way
    assert page(EVIL[0], Html("<p>trusted</p>")).count("<p>trusted</p>") == 1


class _ReadableText(HTMLParser):
    """What a person reads on a page: its text, and the alt, title and aria-label of its elements."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._hidden += tag in ("style", "script")
        self.parts += [v for k, v in attrs if k in ("alt", "title", "aria-label") and v]

    def handle_endtag(self, tag: str) -> None:
        self._hidden -= tag in ("style", "script")

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.parts.append(data)


def internal_ids(out: Path) -> set[str]:
    """Every rule id (model.RULES) and every service and funding stream id of the batch's scenarios."""
    found = set(RULES)
    for resolved in out.glob("*/resolved.yaml"):
        scenario = load_scenario(resolved)
        found |= set(scenario.interventions) | set(scenario.funding)
    return found


def leaked_ids(html: str, ids: set[str]) -> set[str]:
    """Ids a reader would see: any id with an underscore as a word, and any id at all in brackets, "(iris)"."""
    parser = _ReadableText()
    parser.feed(html)
    text = " ".join(parser.parts)
    spelled = "|".join(sorted((i for i in ids if "_" in i), key=len, reverse=True))
    pattern = re.compile(rf"(?<![\w-])({spelled})(?![\w-])|\(({'|'.join(ids)})\)")
    return {m.group(0) for m in pattern.finditer(text)}


def test_the_scan_finds_ids() -> None:
    ids = {"parenting_peer_support", "stream_budget", "iris"}
    html = '<p>Spent only on parenting_peer_support (stream_budget).</p><img alt="IRIS (iris)"><p>iris, IRIS</p>'
    assert leaked_ids(html, ids) == {"parenting_peer_support", "(stream_budget)", "(iris)"}


@pytest.mark.slow
@pytest.mark.xdist_group("papermill")
def test_no_page_shows_an_internal_id(shipped_batch: tuple[Path, object]) -> None:
    out, _ = shipped_batch
    ids = internal_ids(out)
    assert {"commissioning_minimum", "home_office_grant", "parenting_peer_support"} <= ids
    pages = sorted(out.rglob("*.html"))
    assert len(pages) >= 12  # index, glossary, comparison and every scenario's report
    for path in pages:
        html = path.read_text(encoding="utf-8")
        assert not leaked_ids(html, ids), path
        parser = _ReadableText()
        parser.feed(re.sub(r"<details.*?</details>", "", html, flags=re.S))  # sources quote their documents
        text = " ".join(parser.parts)
        assert not re.search(r"\(\d\.\d\d\)", text), path  # scales as percentages, not "(0.50)"
        assert "GBP" not in text and not re.search(r"£\d{1,3}(,\d{3}){2,}|£\d+\.\d0m", text), path  # one style
    infeasible = (out / "infeasible_example" / "report.html").read_text(encoding="utf-8")
    gap = re.search(r"a gap of (£[\d.,]+[km]?)", infeasible)
    assert gap and infeasible.index(gap.group(0)) < infeasible.index(f"the {gap.group(1)} gap")  # stated before use


def test_pdfs_are_skipped_with_a_message_without_chromium(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(pages.shutil, "which", lambda _name: None)
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "report.html").write_text("<p>report</p>")
    printed, problems = pages.write_pdfs(tmp_path, ["a"])
    assert printed == [] and problems == ["no Chromium found (install Debian's chromium), so no PDFs were written"]
    assert not (tmp_path / "a" / "report.pdf").exists()


def test_cliff_edge_story_leads_with_what_to_do_now_and_counts_each_outcome() -> None:
    # Issue 9 point 4: what to do now first, then a table of services by outcome, counts per outcome, and
    # never "0 closed in every outcome" when some outcome closes services.
    from vru_model.present.reports import cliff_headline, cliff_text

    keeps = {"status": "keeps", "scale": 1.0}
    summary = {
        "status": "optimal", "sentences": ["The 2022/23 grant is not known until June 2022."],
        "expected_value": 6e6, "wait_and_see": 6.1e6, "evpi": 1e5, "vss": 4.3e4,
        "vss_breakdown": {"social_value": 4e4, "exit_and_disruption": 0.0, "underwriting_penalty": 3e3,
                          "unfunded_liability_penalty": 0.0},
        "uncertainty": {"fy": "2022/23", "confirmed_month": "2022-06"},
        "here_and_now": {"confirmed_month": "2022-06", "notices": [], "services": [
            {"title": "Mentors", "runs_until_confirmation": True, "scale_min": 0.5},
            {"title": "Pilot", "runs_until_confirmation": True, "scale_min": 1.0}]},
        "outcomes": [
            {"name": "full", "label": "continues in full", "probability": 0.6, "grant": 3.3e6, "value": 9e6,
             "closures": []},
            {"name": "ends", "label": "ends", "probability": 0.4, "grant": 0.0, "value": 2e6, "closures": [{
                "intervention": "m", "title": "Mentors", "closes_from": "2022-09", "notice_by": "2022-06",
                "reason": "Decided once the grant is known: it ends. Closes from September 2022.",
                "cost_to_keep": None, "cost_to_keep_note": "none: no grant pays for it in this outcome"}]}],
        "services_by_outcome": [
            {"intervention": "m", "title": "Mentors", "outcomes": {"full": keeps, "ends": {
                "status": "closes", "closes_from": "2022-09", "notice_by": "2022-06", "scale": 0.5}}},
            {"intervention": "p", "title": "Pilot", "outcomes": {"full": {"status": "reduces", "scale": 0.6},
                                                                  "ends": keeps}}],
        "counts_by_outcome": {"full": {"keeps": 1, "reduces": 1, "closes": 0},
                              "ends": {"keeps": 1, "reduces": 0, "closes": 1}},
        "closed_in_every_outcome": [], "no_regret_core": [],
    }
    from vru_model.present.reports.cliff import cliff_first

    first = _html(cliff_first(summary))  # at first sight: what to do now, then each outcome in a line
    assert first.index("What to do now, before June 2022") < first.index("Once the grant is known in June 2022")
    assert "If the grant ends (40% chance): serve notice on 1 more service by June 2022; 1 of 2 services close" in first
    assert "Let these contracts below design scale for the year: Mentors (50%)" in first
    html = _html(describe_cliff_edge(summary))  # in full, folded
    assert "What to do now" not in html
    assert "closes from September 2022 (notice by June 2022)" in html and "reduces to 60%" in html
    assert "if the grant ends, 1 close, 0 are reduced, 1 keep their scale" in html
    why = html[html.index("Why each service closes or is reduced"):]  # every closure's reason and cost to keep
    assert "<h3>If the grant ends</h3>" in why and "Decided once the grant is known: it ends." in why
    assert "Cost to keep: none: no grant pays for it in this outcome." in why
    assert "£40k is social value" in html and "£3,000 the model&#x27;s penalty weights" in html
    text = cliff_text(cliff_headline(summary))
    assert text.index("now, serve no notices") < text.index("the grant ends: 1 close")
    assert "closed in every outcome" not in text


def _closure(i: str, notice_by: str, closes_from: str) -> dict[str, str]:
    return {"intervention": i, "title": f"Service {i} (its description)", "notice_by": notice_by,
            "closes_from": closes_from}


def test_a_late_grant_leads_with_the_cliff_edge_plan_and_counts_closures_alike_everywhere() -> None:
    """late_confirmation's heading said "if it is as planned, two services close" (the plan made as if the grant
    were known) where the plan to act on, the cliff-edge plan, closes four whatever the grant; and the worst
    outcome closed 23 services in the heading and 21 in the table under it."""
    from vru_model.present.reports import cliff_headline, cliff_rows

    cut = {"intervention": "c", "title": "Service c (its description)", "from": "2022-04", "scale": 0.5,
           "scale_before": 1.0, "notice_by": "2022-01"}
    cliff = {
        "status": "optimal", "expected_value": 5e6, "uncertainty": {"fy": "2022/23", "confirmed_month": "2022-06"},
        "here_and_now": {"services": [{}] * 5, "notices": [_closure("a", "2021-04", "2021-05")]},
        "outcomes": [
            {"name": "full", "label": "continues in full", "probability": 0.7, "grant": 3e6, "objective": 6e6,
             "closures": [_closure("a", "2021-04", "2021-05")], "reductions": [cut]},
            {"name": "ends", "label": "ends", "probability": 0.3, "grant": 0.0, "objective": 1e6,
             "underwriting_drawn": 1.25e6, "reductions": [cut],
             "closures": [_closure("a", "2021-04", "2021-05"), _closure("b", "2022-06", "2022-09"),
                          _closure("c", "2022-06", "2022-09")]}],
    }
    summary = {"status": "optimal", "totals": {"value": 1e7, "exit_costs": 0.0}, "reductions": [],
               "closures": [{**_closure("a", "2021-04", "2021-05"), "notice_months": 1}],
               "fy": {"2021/22": {"core_grant": 3e6}}}
    f = finding(summary, None, cliff)
    assert f.heading == ("one service closes and one is cut in scale whatever the 2022/23 grant; if it ends, two "
                         "more services close and £1.25m of OPCC underwriting is drawn")
    assert f.sentence.startswith("The 2022/23 grant is not known until June 2022, so the plan to act on is the "
                                 "cliff-edge plan")
    assert "Whatever the grant, serve notice on one service (by April 2021): Service a." in f.sentence
    assert ("Also serve notice of variation on one service (by January 2022): Service c to 50% from April 2022 (the "
            "2022/23 contracts; later years' depend on the grant).") in f.sentence
    assert "if it continues in full (70% chance), no more services close" in f.sentence
    assert "if it ends (30% chance), two more services close from September 2022" in f.sentence
    assert f.sentence.endswith("Made as if the 2022/23 grant were known from the start to be as planned, the plan "
                               "closes one service: a comparison, kept further down this page.")
    assert f.line.startswith("The 2022/23 grant is not known until June 2022. Cliff-edge plan: one service closes")
    # no decision before the grant is known, and nothing more closes in the worst outcome: words, not "no close"
    quiet = {**cliff, "here_and_now": {"services": [{}] * 5, "notices": []},
             "outcomes": [{**o, "closures": [], "reductions": [], "underwriting_drawn": 0.0, "label": None}
                          for o in cliff["outcomes"]]}
    assert finding(summary, None, quiet).heading == ("no service closes before the 2022/23 grant is known; if it "
                                                     "turns out as ends, no services close")
    # a cliff-edge plan that could not be worked out is said first, not passed over
    failed = finding(summary, None, {"status": "error", "status_text": "The solver failed."})
    assert failed.heading.startswith("no cliff-edge plan for the uncertain grant; as if it were known, one service")
    assert failed.sentence.startswith("The cliff-edge plan for the uncertain grant could not be worked out (The "
                                      "solver failed), so this page has only the plan made as if the grant were known")
    rows = dict(cliff_rows(cliff_headline(cliff)))  # the same counts over the whole plan as the heading
    assert rows["Services that close over the plan if the grant ends"] == "3 of 5"
    assert rows["Services that close over the plan if the grant continues in full"] == "1 of 5 (1 more reduced)"
    assert rows["What to do now"] == ("Serve notice on 1 service and notice of variation on 1 service before June "
                                      "2022, whatever the grant")


def test_a_contract_cut_in_scale_is_reported_with_its_notice_of_variation() -> None:
    """A reduction needs notice served by a date just as a closure does; summary.json had it, the page did not
    (the baseline's parenting peer support to 50% from April 2022, with notice by January 2022, was nowhere)."""
    overrides = {"interventions.mentoring.scale_at_start": 0.8, "funding.core.amounts.2022/23": 100000}
    report = ScenarioReport(solve(load_scenario(FIXTURES / "tiny.yaml", overrides)))
    [cut] = report.summary["reductions"]
    assert (cut["intervention"], cut["from"], cut["notice_by"]) == ("mentoring", "2022-04", "2022-01")
    # by hand: 2022/23 leaves 100,000 - 24,000 (central team) = 76,000 of 120,000 a year for Mentoring: 63%
    assert cut["scale_before"] == 0.8 and cut["scale"] == pytest.approx(76000 / 120000, abs=1e-4)
    items = report.closures()
    html = _html(items) + _html(report.changes())
    assert "Services that keep running at a reduced scale, and when notice of variation must be served" in html
    [timeline] = [i for i in items if isinstance(i, Chart)]
    assert "A service cut in scale keeps its full bar" in timeline.caption
    assert "<td>January 2022</td>" in html and "80% to 63%" in html
    assert "Why each service is reduced" in html and "Reduced from 80% to 63% of design scale from April 2022" in html
    f = finding(report.summary)
    assert f.heading == "every service keeps running"
    assert "no notice needs to be served" not in f.sentence
    assert ("Serve notice of variation on one service that keeps running at a reduced scale (by January 2022): "
            "Mentoring to 63% from April 2022.") in f.sentence
    assert "Notice of variation (a reduced scale) on one service (by January 2022)." in f.line


def test_a_scale_the_plan_sets_from_the_start_is_said(tiny_report: ScenarioReport) -> None:
    """Mentoring runs when the plan starts, with no contract scale given (scale_at_start): the plan runs it at 80%
    from April 2021 (120,000 of grant less 24,000 for the central team, of 120,000 a year), a cut no notice
    covers, so the page says so and how to make the plan give notice."""
    html = _html(tiny_report.closures())
    assert ("The plan sets the scale of one running service away from design strength from April 2021: Mentoring at "
            "80%.") in html
    assert "give that scale in the scenario file (the service&#x27;s scale at the start)" in html
    assert "scale_at_start" not in html
    stated = {"interventions.mentoring.scale_at_start": 0.8}
    given = ScenarioReport(solve(load_scenario(FIXTURES / "tiny.yaml", stated)))
    assert "The plan sets the scale" not in _html(given.closures())
    # and the finding says it first: partner_fails ran IRIS at 50% from April 2021 with only this note to say so
    f = tiny_report.finding()
    assert f.sentence.endswith("It also sets the scale of one running service away from design strength from April "
                               "2021, with no notice as the scenario gives no contract scale at the start: Mentoring "
                               "at 80%.")
    assert f.line.endswith("One service set away from design strength from the start.")
    assert "away from design strength" not in given.finding().sentence
    # a service that closes says it in its reason (cut_50's ACEs ran at 50% from April 2021 until it closed). By
    # hand, with no 2022/23 grant: 120,000 - 24,000 (central team) - 5,000 (its exit cost, paid in its last month)
    # leaves 91,000 of 120,000 a year for Mentoring in 2021/22: 76%
    closing = ScenarioReport(solve(load_scenario(FIXTURES / "tiny.yaml", {"funding.core.amounts.2022/23": 0})))
    [c] = [c for c in closing.summary["closures"] if c["intervention"] == "mentoring"]
    assert ("From April 2021 it runs at 76% of design strength, a scale the plan sets as the scenario gives none "
            "at the start (scale_at_start).") in c["reason"]
    assert closing.summary["scales_set_at_start"] == []
    # above design strength too (every shipped plan runs Reachable Moments from custody at 130% from April 2021):
    # with 200,000 a year, Mentoring at its largest scale (1.3 x 120,000) and the central team (24,000) fit
    above = solve(load_scenario(FIXTURES / "tiny.yaml", {"interventions.mentoring.scale.max": 1.3,
                                                         "funding.core.amounts.2021/22": 200000,
                                                         "funding.core.amounts.2022/23": 200000}))
    assert [(r["intervention"], r["scale"]) for r in above.summary["scales_set_at_start"]] == [("mentoring", 1.3)]


def test_reasons_say_when_a_change_is_not_for_value_forced_or_optional() -> None:
    """A reason said "It frees ... for services that do more with it" where keeping the service would add social
    value (cut_50's hospital service: the cost to keep is all the model's disruption weight); "That outweighs
    its exit cost" of a closure forced by the grant ending; and "another plan of equal value keeps it" of a
    notice of variation the plan does not need."""
    from vru_model.analysis.decisions import annotate
    from vru_model.model.data import prepare
    from vru_model.present.reports.plan_changes import _keep_cell

    ends = load_scenario(FIXTURES / "tiny.yaml", {"funding.core.amounts.2022/23": 0})
    result = solve(ends)
    [c] = [c for c in result.summary["closures"] if c["intervention"] == "mentoring"]
    assert c["closes_from"] >= "2022-04" and "That outweighs" not in c["reason"]
    assert "no core grant from 2022/23 on to pay for it: the grant ends. Closing it costs its exit cost" in c["reason"]
    # no price for a year with no grant: the LP's at zero held for no real grant (grant_ends with £1 is infeasible)
    assert "There is no 2022/23 core grant, so no value of a pound of it is given: a grant, however small, would " \
        "bring the grant's conditions with it." in result.summary["shadow_prices"]["text"]
    assert not any("One more pound of 2022/23" in t for t in result.summary["shadow_prices"]["text"])
    # the same plan, given a cost to keep that adds social value and one inside the gap
    parts = {"social_value": -5577.0, "exit_costs": -6917.0, "disruption": 81373.0, "penalty_weights": 0.0}
    summary = {**result.summary, "closures": [{**c} for c in result.summary["closures"]]}
    annotate(ends, prepare(ends), summary, result.allocation, {"mentoring": 68879.0},
             keep_parts={"mentoring": parts}, grant_of=lambda _fy: 1.0)
    by = {c["intervention"]: c for c in summary["closures"]}
    assert ("Not for its social value: keeping it would add £5,577 of social value, but also £81.4k more of the "
            "model's disruption weight on participants who lose support elsewhere (a weight, not money). Closing it "
            "costs its exit cost") in by["mentoring"]["reason"]  # not "more in exit costs": keeping saves them
    assert "for services that do more with it" not in by["mentoring"]["reason"]
    assert _keep_cell(by["mentoring"]) == "£68.9k, though keeping it adds £5,577 of social value"
    assert _keep_cell({"cost_to_keep": 23215.0, "cost_to_keep_parts": {"social_value": 84467.0}}) == \
        "£23.2k: £84.5k of social value, less £61.3k it saves"
    # money from another stream makes a change a trade-off, not forced: with a 90,000 top-up in 2022/23 mentoring
    # runs on, cut from 80% to 75%, and its reason weighs value, not the grant ending
    topped = solve(load_scenario(FIXTURES / "tiny.yaml", {"funding.core.amounts.2022/23": 0, "funding.top_up": {
        "kind": "other", "amounts": {"2022/23": 90000}}}))
    [cut] = [r for r in topped.summary["reductions"] if r["intervention"] == "mentoring"]
    assert "the grant ends" not in cut["reason"] and "That outweighs" in cut["reason"]
    annotate(ends, prepare(ends), summary, result.allocation, {"mentoring": 0.0}, grant_of=lambda _fy: 1.0)
    assert summary["closures"][-1]["reason"].endswith("a plan of about equal value keeps it, so this change is "
                                                      "optional.")


def test_grant_left_unspent_is_explained() -> None:
    """growth_20 left £305k of core grant unspent with no word on the page but "worth £0.00" a pound. By hand:
    tiny's 2022/23 grant of 200,000 buys Mentoring at its largest scale (120,000) and the central team (24,000):
    56,000 is left, and nothing carries over."""
    report = ScenarioReport(solve(load_scenario(FIXTURES / "tiny.yaml", {"funding.core.amounts.2022/23": 200000})))
    html = _html(report.spending())
    assert ("£56k of the 2022/23 core grant is left unspent: every service the plan runs is at its largest scale "
            "all year, so the grant has nothing more to buy.") in html
    assert "2021/22 core grant is left unspent" not in html


def test_services_the_plan_starts_or_grows_are_named() -> None:
    """growth_20 restarted the micro-charities fund and took three services above design scale from April 2022,
    and no page named one of them. By hand: tiny's Mentoring runs at 80% in 2021/22 (its contract scale); with
    200,000 of 2022/23 grant it can run at 100% from April 2022, and the plan takes it there."""
    overrides = {"interventions.mentoring.scale_at_start": 0.8, "funding.core.amounts.2022/23": 200000}
    report = ScenarioReport(solve(load_scenario(FIXTURES / "tiny.yaml", overrides)))
    [grown] = report.summary["starts_and_growth"]
    assert (grown["intervention"], grown["kind"], grown["from"], grown["scale_before"], grown["scale"]) == (
        "mentoring", "grows", "2022-04", 0.8, 1.0)
    assert grown["vru_spend_that_year"] == pytest.approx(120000, abs=1)
    assert ("It starts or grows one service (to agree with providers before each change): Mentoring to 100% from "
            "April 2022.") in report.finding().sentence
    assert "Services the plan starts or grows, to agree with providers before they begin" in _html(report.changes())


def test_the_plan_of_record_is_in_the_summary_and_leads_every_headline() -> None:
    """A scenario with an uncertain grant acts on its cliff-edge plan: summary.json says so (`plan_of_record`),
    and the index and the comparison take their figures from that plan, counted one way."""
    from vru_model.present.summaries import closed_text, record_headline

    plain = solve(load_scenario(FIXTURES / "tiny.yaml")).summary
    assert plain["plan_of_record"] == "plan"
    assert record_headline(plain, None)["expected"] is False
    uncertain = solve(load_scenario(FIXTURES / "cliff_edge_hand.yaml")).summary
    assert uncertain["plan_of_record"] == "cliff_edge"
    cliff = {"status": "optimal", "uncertainty": {"fy": "2022/23", "confirmed_month": "2022-06"},
             "here_and_now": {"services": [{}] * 5, "notices": []},
             "outcomes": [{"name": "full", "label": "continues in full", "probability": 0.75, "grant": 4e5,
                           "value": 8e5, "core_unspent": {"2022/23": 1000.0},
                           "closures": [{**_closure("a", "2021-04", "2021-05"), "exit_cost": 100.0}]},
                          {"name": "ends", "label": "ends", "probability": 0.25, "grant": 0.0, "value": 4e5,
                           "closures": [{**_closure(i, "2022-06", "2022-09"), "exit_cost": 100.0}
                                        for i in "abc"]}]}
    summary = {"plan_of_record": "cliff_edge", "status": "optimal", "totals": {"services": 5},
               "fy": {"2021/22": {"core_grant": 4e5, "spent_by_stream": {}}, "2022/23": {"core_grant": 4e5}}}
    h = record_headline(summary, cliff)
    # by hand: 0.75 x 800,000 + 0.25 x 400,000 of value; 400,000 + 0.75 x 400,000 of grant; 1 or 3 closures
    assert (h["value"], h["core_grant_total"], h["unspent_core_grant"]) == (700000.0, 700000.0, 750.0)
    assert h["closed_by_outcome"] == [1, 3] and closed_text(h) == "1 to 3 of 5 (by grant outcome)"
    assert h["exit_costs"] == pytest.approx(0.75 * 100 + 0.25 * 300)


def test_a_closure_reason_in_one_line() -> None:
    from vru_model.present.reports.fragments import one_line

    reason = ("Closes from May 2021 (notice of 1 month by April 2021). It frees £43.8k of VRU money (£13.8k in "
              "2021/22, £15k in 2022/23) for services that do more with it: a VRU pound here buys £0.22 of value, "
              "while a pound of 2021/22 core grant is worth £0.55 on the services the plan keeps (value net of exit "
              "costs and the disruption weight). That outweighs its exit cost.")
    assert one_line(reason) == ("It frees £43.8k of VRU money for services that do more with it: a VRU pound here "
                                "buys £0.22 of value, while a pound of 2021/22 core grant is worth £0.55 on the "
                                "services the plan keeps.")
    assert one_line("Decided once the grant is known: it ends. Closes from September 2022.") == \
        "Decided once the grant is known: it ends."


def test_folds_show_one_line_at_first_sight_and_print_open() -> None:
    """Everything but the finding, what to do, the headline and the spending is a <details> fold; the board paper
    prints the folds open, and the reminder that a weight is not money is said at most twice a page."""
    from vru_model.present.glossary import limit_weight_notes
    from vru_model.present.pages import fold_sections, open_folds

    body = ('<div class="cell border-box-sizing code_cell rendered" id="a"><p>first</p></div>\n'
            '<div class="cell border-box-sizing code_cell rendered" id="b"><div class="output_html">'
            '<h2 class="fold">Value by system and area</h2><p>inside</p></div></div>\n')
    folded = fold_sections(body)
    assert folded.index("<p>first</p>") < folded.index('<details class="fold"><summary><h2>Value by system and '
                                                       'area</h2></summary>') < folded.index("<p>inside</p>")
    assert folded.rstrip().endswith("</div></div>\n</details>".rstrip())
    assert open_folds(folded).count("<details open") == 1 and open_folds('<details open class="x">') == \
        '<details open class="x">'
    text = "a (a weight, not money). b (a weight, not money). c (weights, not money). d (a weight, not money)."
    assert limit_weight_notes(text) == "a (a weight, not money). b (a weight, not money). c. d."
    css = (Path(pages.__file__).parent / "templates" / "page.css").read_text(encoding="utf-8")
    printing = css[css.index("@media print"):]
    assert "details{display:block}" in printing and "details::details-content" in printing


def test_the_glossary_explains_every_term_a_page_leans_on() -> None:
    words = {t.slug: t for t in TERMS}
    assert "weight, not money" in words["disruption-weight"].meaning
    linked = link_terms("<p>The disruption weight and the underwriting penalty weights; expected value.</p>", "g")
    for slug in ("disruption-weight", "penalty-weights", "expected"):
        assert f'href="g#{slug}"' in linked
    assert "notice of variation" in words["notice"].meaning


def first_sight(html: str) -> str:
    """A page's text before any fold is opened: outside every <details>, but each fold's summary line."""
    html = re.sub(r"<(style|script|head)\b.*?</\1>", "", html, flags=re.S)
    out, depth = [], 0
    for part in re.split(r"(<details\b[^>]*>|</details>|<summary>.*?</summary>)", html, flags=re.S):
        if part.startswith("<details"):
            depth += 1
        elif part == "</details>":
            depth -= 1
        elif depth == 0 or (depth == 1 and part.startswith("<summary>")):
            out.append(part)
    parser = _ReadableText()
    parser.feed("".join(out))
    return " ".join(parser.parts)


BANNED = ("scale_at_start", "scale.max", "Latin hypercube", "seed ", "cut_25", "cut_50", "grant_ends")


@pytest.mark.slow
@pytest.mark.xdist_group("papermill")
def test_a_partner_reads_a_report_in_minutes(shipped_batch: tuple[Path, object]) -> None:
    """cut_50's report was about 12,000 words and late_confirmation's led with the plan made as if the grant were
    known; now at most 3,000 words show before a fold is opened, no code names show anywhere, and the cliff-edge
    plan comes first for a late grant, its closures counted as on the index."""
    out, _ = shipped_batch
    for name in ("cut_50", "late_confirmation"):
        html = (out / name / "report.html").read_text(encoding="utf-8")
        words = len(first_sight(html).split())
        assert words <= 3000, (name, words)
        parser = _ReadableText()
        parser.feed(re.sub(r"<td>[a-z0-9_]+\.yaml</td>", "", html))  # the provenance names the scenario's file
        text = " ".join(parser.parts)
        assert not [b for b in BANNED if b in text], name
        assert html.count("(a weight, not money)") <= 2, name
        assert html.count("<h1") == 1
    late = (out / "late_confirmation" / "report.html").read_text(encoding="utf-8")
    assert late.index("Cliff-edge plan: headline figures") < late.index("The plan made as if the grant were known")
    assert late.index("What to do now") < late.index("Spending by funding stream")
    index = (out / "index.html").read_text(encoding="utf-8")
    assert re.search(r"\d+ to \d+ of \d+ \(by grant outcome\)", index)


def test_chart_labels_that_would_shorten_alike_keep_their_last_words() -> None:
    from vru_model.present.reports.fragments import short_titles

    titles = ["Reachable moments in hospital, A&E model 1", "Reachable moments in hospital, A&E model 2",
              "Community navigators in the local violence reduction partnerships", "Short one"]
    assert short_titles(titles, 40) == ["Reachable moments in… A&E model 1", "Reachable moments in… A&E model 2",
                                        "Community navigators in the local viole…", "Short one"]
