"""The director's explorer without a browser: the controller agrees with `vru solve --set`, saved
scenarios load on their own, bad settings are explained rather than raised, and the widgets re-render."""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
from html import escape
from pathlib import Path

import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

from vru_model import ScenarioError, load_scenario
from vru_model.analysis.robustness import robustness
from vru_model.apps.cli import main
from vru_model.apps.explorer import (
    SHIPPED,
    VOILA_DIR,
    ExplorerController,
    check_save,
    one_line,
    render_html,
    shipped_names,
    voila_command,
    voila_environ,
)
from vru_model.apps.widgets import ExplorerApp, build_explorer, find_control
from vru_model.core.text import money
from vru_model.scenario.load import scenario_to_dict

ROOT = Path(__file__).resolve().parents[2]
TINY = ROOT / "tests" / "fixtures" / "tiny.yaml"
GRANT = "funding.home_office_grant.amounts"



@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    folder = tmp_path / "scenarios"
    folder.mkdir()
    shutil.copy(TINY, folder / "tiny.yaml")
    return folder


def _cli_allocation(scenario: Path, sets: list[str], out: Path) -> tuple[str, dict]:
    args = ["solve", str(scenario), "--out", str(out), "--name", load_scenario(scenario).name]
    for s in sets:
        args += ["--set", s]
    run = CliRunner().invoke(main, args)
    assert run.exit_code == 0, run.output
    folder = out / load_scenario(scenario).name
    summary = yaml.safe_load((folder / "summary.json").read_text())
    return (folder / "allocation.csv").read_text(), summary


def _csv(frame: pd.DataFrame) -> str:
    return frame.to_csv(index=False, lineterminator="\n")


def test_grant_control_gives_the_same_plan_as_the_set_override(shipped: Path, tmp_path: Path) -> None:
    ctl = ExplorerController(shipped, "baseline")
    view = ctl.set_grant_percent("2022/23", 50)
    assert ctl.overrides == {f"{GRANT}.2022/23": 1653500.0}
    allocation, summary = _cli_allocation(shipped / "baseline.yaml", [f"{GRANT}.2022/23=1653500"], tmp_path)
    assert _csv(ctl.result.allocation) == allocation
    assert ctl.result.summary["objective"] == summary["objective"]
    assert view.objective == pytest.approx(summary["objective"], abs=0.01)
    assert view.value_change is not None and view.value_change < 0
    assert {c.key for c in view.closures} == {c["intervention"] for c in summary["closures"]}


def test_every_other_control_maps_to_its_set_override(shipped: Path, tmp_path: Path) -> None:
    ctl = ExplorerController(shipped, "baseline")
    first = next(iter(ctl.base.interventions))
    ctl.set_confirmation_month("2021-08")
    ctl.set_underwriting_cap(300000)
    ctl.set_partner_pickup(0.5)
    ctl.set_commissioning_min(0.3)
    view = ctl.set_protected([first])
    sets = [
        "funding.home_office_grant.confirmed_month=2021-08",
        "funding.opcc_underwriting.cap=300000",
        "policy.partner_pickup=0.5",
        "policy.commissioning_min_share=0.3",
        f"interventions.{first}.protected=true",
    ]
    assert len(ctl.overrides) == len(sets)
    allocation, summary = _cli_allocation(shipped / "baseline.yaml", sets, tmp_path)
    assert view.optimal
    assert _csv(ctl.result.allocation) == allocation
    assert ctl.result.summary["objective"] == summary["objective"]


def test_saved_scenario_validates_and_round_trips(shipped: Path) -> None:
    ctl = ExplorerController(shipped, "baseline")
    ctl.set_grant("2023/24", 2500000)
    ctl.set_partner_pickup(0.75)
    path = ctl.save("explorer_round_trip", "Explorer <test> & round trip")
    try:
        saved = yaml.safe_load(path.read_text())
        assert saved["extends"] == "baseline"
        assert set(saved) == {"extends", "name", "title", "description", "funding", "policy"}
        assert saved["funding"] == {"home_office_grant": {"amounts": {"2023/24": 2500000}}}
        assert saved["policy"] == {"partner_pickup": 0.75}
        run = CliRunner().invoke(main, ["validate", str(path)])
        assert run.exit_code == 0, run.output
        loaded = scenario_to_dict(load_scenario(path))
        current = scenario_to_dict(ctl.scenario)
        meta = ("name", "title", "description")
        assert loaded["name"] == "explorer_round_trip" and loaded["title"] == "Explorer <test> & round trip"
        assert {k: v for k, v in loaded.items() if k not in meta} == {k: v for k, v in current.items() if k not in meta}
        assert "explorer_round_trip" in ctl.available
    finally:
        path.unlink()


def test_save_refuses_bad_names_and_existing_files(tiny: Path) -> None:
    ctl = ExplorerController(tiny, "tiny")
    ctl.set_partner_pickup(0.5)
    before = sorted(p.name for p in tiny.iterdir())
    for name in ["Bad-Name", "../escape", "", "a b", "tiny"]:
        with pytest.raises(ScenarioError):
            ctl.save(name)
    first = ctl.save("mine")
    with pytest.raises(ScenarioError, match="exists"):
        ctl.save("mine")
    ctl.set_partner_pickup(0.25)
    assert ctl.save("mine", overwrite=True) == first
    assert yaml.safe_load(first.read_text())["policy"] == {"partner_pickup": 0.25}
    assert sorted(p.name for p in tiny.iterdir()) == sorted([*before, ".history", "mine.yaml"])  # no temporary files


@pytest.fixture
def portfolio(shipped: Path, tmp_path: Path) -> Path:
    """This test's own copy of the shipped scenarios (a refused save must leave every file as it was)."""
    folder = tmp_path / "portfolio"
    shutil.copytree(shipped, folder)
    return folder


def _every_scenario_loads(folder: Path) -> None:
    for path in sorted(folder.glob("*.yaml")):
        load_scenario(path)


def test_saving_over_baseline_from_cut_25_is_refused_and_the_set_still_validates(portfolio: Path) -> None:
    """The issue's case: baseline would become `extends: cut_25`, a cycle that breaks every scenario."""
    before = {p.name: p.read_bytes() for p in portfolio.glob("*.yaml")}
    entries = sorted(p.name for p in portfolio.iterdir())
    ctl = ExplorerController(portfolio, "cut_25")
    ctl.set_partner_pickup(0.5)
    with pytest.raises(ScenarioError) as info:
        ctl.save("baseline", overwrite=True)
    assert "cannot be replaced" in one_line(info.value)
    assert {p.name: p.read_bytes() for p in portfolio.glob("*.yaml")} == before
    assert sorted(p.name for p in portfolio.iterdir()) == entries  # no history, no temporary files
    _every_scenario_loads(portfolio)
    run = CliRunner().invoke(main, ["validate", *map(str, sorted(portfolio.glob("*.yaml")))])
    assert run.exit_code == 0, run.output


def test_a_save_is_checked_against_the_set_as_it_would_be(portfolio: Path) -> None:
    """Even without the shipped and extended rules, the cycle is found: the check loads every scenario from
    a copy of the folder with the new file in place."""
    ctl = ExplorerController(portfolio, "cut_25")
    with pytest.raises(ScenarioError, match="inheritance cycle"):
        check_save(portfolio, "baseline", ctl.scenario_yaml("baseline"))
    check_save(portfolio, "new_one", ctl.scenario_yaml("new_one"))  # a new name breaks nothing


def test_a_save_that_would_break_a_scenario_further_down_is_refused(tiny: Path) -> None:
    """mine_too extends mine and protects `parenting`, which only small has: re-basing mine on tiny breaks it."""
    shutil.copy(ROOT / "tests" / "fixtures" / "small.yaml", tiny / "small.yaml")
    ExplorerController(tiny, "small").save("mine")
    mine = ExplorerController(tiny, "mine")
    mine.set_protected(["parenting"])
    mine.save("mine_too")
    with pytest.raises(ScenarioError, match="saving would break mine_too"):
        check_save(tiny, "mine", ExplorerController(tiny, "tiny").scenario_yaml("mine"))
    check_save(tiny, "mine", ExplorerController(tiny, "small").scenario_yaml("mine"))


def test_shipped_scenarios_are_never_replaced_from_the_explorer(portfolio: Path) -> None:
    ctl = ExplorerController(portfolio, "baseline")
    ctl.set_partner_pickup(0.5)
    for name in ["cut_25", "infeasible_example"]:  # cut_25 extends baseline; nothing extends infeasible_example
        before = (portfolio / f"{name}.yaml").read_bytes()
        with pytest.raises(ScenarioError, match=f"{name} is a shipped scenario"):
            ctl.save(name, overwrite=True)
        assert (portfolio / f"{name}.yaml").read_bytes() == before
    with pytest.raises(ScenarioError, match="cut_25 is a shipped scenario and cannot be replaced: save under"):
        ExplorerController(portfolio, "cut_25").save("cut_25", overwrite=True)


def test_saving_over_the_shipped_starting_scenario_says_it_is_shipped(portfolio: Path) -> None:
    """Saving as the scenario the explorer started from was refused as 'a scenario cannot extend itself': true,
    but not the reason a director can act on."""
    ctl = ExplorerController(portfolio, "baseline")
    ctl.set_partner_pickup(0.5)
    for overwrite in (False, True):
        with pytest.raises(ScenarioError) as info:
            ctl.save("baseline", overwrite=overwrite)
        assert one_line(info.value) == ("the file name: baseline is a shipped scenario and cannot be replaced: "
                                        "save under another name")


def test_the_shipped_list_is_what_git_tracks() -> None:
    tracked = subprocess.run(["git", "-C", str(ROOT), "ls-files", "scenarios/*.yaml"], capture_output=True,
                             text=True)
    if tracked.returncode != 0 or not tracked.stdout.strip():
        pytest.skip("not a git checkout")
    assert set(SHIPPED) == {Path(p).stem for p in tracked.stdout.split()}
    assert shipped_names(ROOT / "scenarios") >= set(SHIPPED)


def test_a_scenario_others_extend_is_not_replaced(tiny: Path) -> None:
    ctl = ExplorerController(tiny, "tiny")
    ctl.set_partner_pickup(0.5)
    ctl.save("mine")
    ExplorerController(tiny, "mine").save("mine_too")
    ctl.set_partner_pickup(0.25)
    with pytest.raises(ScenarioError, match="mine_too extends mine, so it cannot be replaced"):
        ctl.save("mine", overwrite=True)
    assert yaml.safe_load((tiny / "mine.yaml").read_text())["policy"] == {"partner_pickup": 0.5}


def test_replacing_a_user_saved_scenario_keeps_the_previous_version(tiny: Path) -> None:
    (tiny / "tiny.yaml").chmod(0o664)
    ctl = ExplorerController(tiny, "tiny")
    ctl.set_partner_pickup(0.5)
    path = ctl.save("mine")
    assert stat.S_IMODE(path.stat().st_mode) == 0o664  # as the other scenario files are
    first = path.read_bytes()
    ctl.set_partner_pickup(0.25)
    ctl.save("mine", overwrite=True)
    ctl.set_partner_pickup(0.75)
    ctl.save("mine", overwrite=True)
    kept = sorted((tiny / ".history").iterdir())
    assert [re.fullmatch(r"mine\.\d{8}T\d{6}Z(-\d+)?\.yaml", p.name) is not None for p in kept] == [True, True]
    assert first in [p.read_bytes() for p in kept]
    assert {yaml.safe_load(p.read_text())["policy"]["partner_pickup"] for p in kept} == {0.5, 0.25}
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o664 for p in kept)
    assert yaml.safe_load(path.read_text())["policy"] == {"partner_pickup": 0.75}
    assert sorted(p.name for p in tiny.glob("*.yaml")) == ["mine.yaml", "tiny.yaml"]
    assert load_scenario(path).policy.partner_pickup == 0.75


def test_infeasible_setting_shows_the_explanation(tiny: Path) -> None:
    ctl = ExplorerController(tiny, "tiny")
    view = ctl.set_grant("2021/22", 20000)  # less than the mandatory central team costs
    assert view.status == "infeasible"
    assert view.explanation and "core grant for 2021/22" in view.explanation
    assert view.services == [] and view.closures == []
    page = render_html(view)
    assert "No workable plan" in page and "£20k core grant" in page


def test_bad_value_shows_one_line_error_and_keeps_the_plan(tiny: Path) -> None:
    ctl = ExplorerController(tiny, "tiny")
    good = ctl.set_grant("2022/23", 60000)
    view = ctl.set_grant("2022/23", -5)
    assert view.error is not None and "\n" not in view.error
    assert "2022/23" in view.error and "greater than or equal to 0" in view.error
    assert view.objective == good.objective
    assert ctl.overrides == {"funding.core.amounts.2022/23": 60000.0}
    assert "Not accepted" in render_html(view)
    assert ctl.set_grant("2022/23", 60000).error is None


def test_returning_to_the_starting_value_drops_the_override(tiny: Path) -> None:
    ctl = ExplorerController(tiny, "tiny")
    ctl.set_commissioning_min(0.4)
    assert ctl.overrides == {"policy.commissioning_min_share": 0.4}
    view = ctl.set_commissioning_min(0.2)
    assert ctl.overrides == {}
    assert view.objective == ctl.base_result.objective and view.changes == []
    ctl.set_grant_percent("2022/23", 50)
    ctl.reset()
    assert ctl.overrides == {} and ctl.scenario == ctl.base


def test_html_escapes_scenario_text(tmp_path: Path) -> None:
    data = yaml.safe_load(TINY.read_text())
    data["title"] = "<script>alert('t')</script>"
    data["interventions"]["mentoring"]["title"] = "Mentoring <b>& co</b>"
    data["funding"]["core"]["title"] = "<img src=x onerror=alert(1)>"
    (tmp_path / "tiny.yaml").write_text(yaml.safe_dump(data))
    ctl = ExplorerController(tmp_path, "tiny")
    page = render_html(ctl.set_grant("2022/23", 50000))  # mentoring closes: its title is in the table
    assert "<script>" not in page and "<b>" not in page and "<img" not in page
    assert "Mentoring &lt;b&gt;&amp; co&lt;/b&gt;" in page and "&lt;img src=x" in page


def test_widget_tree_builds_and_a_slider_change_updates_the_page(tiny: Path) -> None:
    root = build_explorer(scenarios_dir=tiny, start="tiny")
    output = find_control(root, "vru-output")
    slider, text = find_control(root, "vru-grant-2022-23"), find_control(root, "vru-grant-text-2022-23")
    assert slider.continuous_update is False and text.continuous_update is False
    before = output.value
    assert "Value of this plan" in before and "None: every running service continues" in before
    text.value = "50,000"
    assert output.value != before
    assert "Mentoring" in output.value and "Notice must be served by" in output.value
    assert slider.value == 42 and text.value == "50,000"  # the slider is in % of the starting grant
    assert "42% of the starting grant" in find_control(root, "vru-grant-pct-2022-23").value
    text.value = "-1"  # typed nonsense: a one-line error, the plan stays
    assert "Not accepted" in output.value and slider.value == 42
    find_control(root, "vru-save-name").value = "from_widgets"
    find_control(root, "vru-save-button").click()
    assert "Saved" in find_control(root, "vru-save-message").value
    assert load_scenario(tiny / "from_widgets.yaml").core_grant("2022/23") == 50000
    find_control(root, "vru-reset").click()
    assert "Nothing yet: this is the starting scenario as loaded" in output.value and slider.value == 100


def test_protect_control_keeps_a_service(shipped: Path) -> None:
    # Half the grant from 2022/23: services close. Protecting one of them is affordable (others close or
    # shrink instead), so the plan keeps it running to the last month and is worth no more than before.
    ctl = ExplorerController(shipped, "baseline")
    cut = ctl.set_grant_percent("2022/23", 50)
    assert cut.optimal and cut.closures
    kept = cut.closures[0].key
    view = ctl.set_protected([kept])
    assert ctl.overrides[f"interventions.{kept}.protected"] is True
    assert view.optimal, view.explanation
    assert kept not in [c.key for c in view.closures]
    assert next(s for s in view.services if s.key == kept).status == "runs"
    rows = ctl.result.allocation[ctl.result.allocation["intervention"] == kept]
    assert rows["period"].tolist() == ctl.scenario.months and rows["running"].eq(1).all()
    assert view.objective <= cut.objective + 1.0


def test_voila_serves_on_localhost_only_with_code_hidden() -> None:
    cmd = voila_command(8899)
    assert "--Voila.ip=127.0.0.1" in cmd and "--port=8899" in cmd and "--Voila.port_retries=0" in cmd
    assert "--strip_sources=True" in cmd and "--KernelManager.transport=ipc" in cmd and "--no-browser" in cmd
    assert Path(cmd[3]).is_file() and cmd[3].endswith("explorer.ipynb")
    assert "--Voila.auto_token=True" in cmd and not any(c.startswith(("--token", "--Voila.token")) for c in cmd)
    assert "--MappingKernelManager.cull_idle_timeout=3600" in cmd  # a kernel left without a page is shut down
    assert "--MappingKernelManager.cull_connected=False" in cmd  # an open page's kernel is not
    assert "--template=vru" in cmd and f"--Voila.config_file_paths={VOILA_DIR}" in cmd
    env = voila_environ("abc")
    assert env["JUPYTER_TOKEN"] == "abc"
    root = Path(env["JUPYTER_PATH"].split(os.pathsep)[0])
    assert (root / "voila" / "templates" / "vru" / "index.html.j2").is_file() and (VOILA_DIR / "voila.py").is_file()


def test_explore_rejects_a_missing_scenarios_folder(tmp_path: Path) -> None:
    run = CliRunner().invoke(main, ["explore", "--no-browser", "--scenarios", str(tmp_path / "missing")])
    assert run.exit_code == 2 and "does not exist" in run.output


def test_one_line_joins_problems() -> None:
    from vru_model.core.errors import Problem

    exc = ScenarioError([Problem("f.yaml", "a.b", "bad"), Problem("f.yaml", "c", "worse")])
    assert one_line(exc) == "a b: bad; c: worse"
    grant = ScenarioError([Problem("f.yaml", "funding.home_office_grant.amounts.2022/23", "must be >= 0")])
    assert one_line(grant) == "the 2022/23 grant: must be >= 0"
    protect = ScenarioError([Problem("f.yaml", "interventions.iris.protected", "bad")])
    assert one_line(protect, {"iris": "IRIS"}) == "IRIS: protected: bad"


def test_persistent_model_gives_the_same_plans_as_fresh_solves(tiny: Path) -> None:
    from vru_model.analysis.solve import solve

    ctl = ExplorerController(tiny, "tiny")
    moves = [
        lambda: ctl.set_grant("2022/23", 70000),
        lambda: ctl.set_underwriting_cap(5000),
        lambda: ctl.set_grant("2021/22", 20000),  # infeasible, in place
        lambda: ctl.set_grant("2021/22", 100000),
        lambda: ctl.set_grant("2022/23", 0),  # no grant in a year: the model is rebuilt
        lambda: ctl.set_grant("2022/23", 90000),
    ]
    for move in moves:
        view = move()
        fresh = solve(ctl.scenario, shadow_prices=False)
        assert view.status == fresh.status.value
        assert _csv(ctl.result.allocation) == _csv(fresh.allocation)
        assert ctl.result.objective == fresh.objective
    assert ctl.warm is not None and ctl.warm.rebuilds == 3  # start, zero grant, grant back


def test_a_broken_starting_scenario_is_refused_in_words(tiny: Path) -> None:
    root = build_explorer(scenarios_dir=tiny, start="tiny")
    (tiny / "broken.yaml").write_text("extends: tiny\nname: broken\nhorizon: {months: -3}\n")
    start = find_control(root, "vru-start")
    start.options = [*start.options, ("Broken", "broken")]
    start.value = "broken"
    busy = find_control(root, "vru-busy").value
    assert "Not accepted" in busy and "horizon months" in busy
    assert start.value == "tiny" and "Value of this plan" in find_control(root, "vru-output").value


def _uncertain_tiny(folder: Path) -> Path:
    """Tiny with its 2022/23 grant uncertain; the outcome ids are ones no reader should see."""
    data = yaml.safe_load(TINY.read_text())
    data["uncertainty"] = {
        "stream": "core", "fy": "2022/23", "confirmed_month": "2022-06",
        "outcomes": [{"name": "full_x", "probability": 0.5, "amount": 120000},
                     {"name": "cut_x", "probability": 0.3, "amount": 90000},
                     {"name": "ends_x", "probability": 0.2, "amount": 0}],
    }
    (folder / "tiny.yaml").write_text(yaml.safe_dump(data))
    return folder


def _texts(widget: object) -> str:
    return str(getattr(widget, "value", "")) + "".join(_texts(c) for c in getattr(widget, "children", ()))


def test_cliff_edge_plan_on_request(tmp_path: Path) -> None:
    root = build_explorer(scenarios_dir=_uncertain_tiny(tmp_path), start="tiny")
    month = find_control(root, "vru-uncertainty-month")
    assert month.value == "2022-06"

    # the plan on show is the as-if-known one; the controls say which plan is the one to act on
    assert ("The plan shown takes the grant as £120k, as if it were known from the start; the plan to act on "
            "before it is known is the cliff-edge plan.") in _texts(root)
    assert ("Possible outcomes: the grant continues in full (£120k, 50% chance); the grant is cut by 25% (£90k, "
            "30% chance); the grant ends (20% chance).") in _texts(root)
    month.value = "2022-08"
    find_control(root, "vru-cliff-edge-button").click()
    page = find_control(root, "vru-output").value
    assert "Cliff-edge plan (the plan to act on): expected value" in page and "August 2022" in page
    find_control(root, "vru-costs-to-keep").click()  # measuring costs to keep does not drop the cliff-edge plan
    assert "Cliff-edge plan (the plan to act on)" in find_control(root, "vru-output").value
    ctl = ExplorerController(tmp_path, "tiny")
    assert ctl.set_uncertainty_month("2022-08").cliff_edge is None  # a change clears the old cliff-edge plan
    assert ctl.overrides == {"uncertainty.confirmed_month": "2022-08"}


def test_once_worked_out_the_cliff_edge_plan_is_the_one_answer(tmp_path: Path) -> None:
    """The page led with "Value of this plan" (the as-if-known plan) above a cliff-edge block with another value
    and another closure count, and named outcomes by their ids ("cut_25 £2.48m (30%)")."""
    from vru_model.analysis.cliff_edge import solve_cliff_edge
    from vru_model.analysis.states import closure_count

    ctl = ExplorerController(_uncertain_tiny(tmp_path), "tiny")
    known = ctl.view
    view = ctl.cliff_edge()
    cliff = view.cliff_edge
    assert cliff is not None and cliff.optimal
    page = render_html(view)
    found = solve_cliff_edge(ctl.scenario, costs_to_keep=False)
    # the top figure is the cliff-edge plan's, labelled; the as-if-known plan is folded below, labelled too
    top = page.index("Cliff-edge plan (the plan to act on): expected value")
    assert re.findall(r'class="vru-headline-value">([^<]*)<', page) == [escape(money(found.expected_value))]
    assert "Value of this plan" not in page
    comparison = page.index("<details class=\"vru-as-if-known\"><summary><strong>For comparison: the plan as if "
                            "the grant were known from the start (value " + escape(money(known.objective)))
    assert top < page.index('<table', top) < comparison
    # closures counted one way (over the whole plan), outcomes in words, never their ids
    by_words = {"if the 2022/23 grant continues in full (£120k)": "full_x",
                "if the 2022/23 grant is cut by 25% (£90k)": "cut_x", "if the 2022/23 grant ends": "ends_x"}
    assert [o.words for o in cliff.outcomes] == list(by_words)
    for outcome in cliff.outcomes:
        report = next(r for r in found.outcomes if r["name"] == by_words[outcome.words])
        assert outcome.closes == closure_count(report["closures"]) == len(outcome.closing)
        assert f"{outcome.closes} {outcome.words}" in page.replace("&#x27;", "'")
    text = re.sub(r"<[^>]+>", " ", page)
    assert not re.search(r"\b(full_x|cut_x|ends_x)\b", text)
    # a small table, not a bullet list: one row per outcome with its chance, value, closures and notices
    head = ["Outcome", "Chance", "Value of the plan", "Services closing", "Notices to serve now"]
    assert all(f">{h}</th>" in page for h in head)
    assert "If the 2022/23 grant ends</td><td" in page and '<ul class="vru-cliff-edge">' not in page


def test_one_confirmation_month_control(tmp_path: Path, tiny: Path) -> None:
    """Two month controls (the core grant's "June 2021" under Timing and the uncertain grant's "June 2022") read as
    one setting twice: a scenario with an uncertain grant shows its month only, others the core grant's."""
    root = build_explorer(scenarios_dir=_uncertain_tiny(tmp_path), start="tiny")
    assert find_control(root, "vru-confirmation") is None
    assert find_control(root, "vru-uncertainty-month").value == "2022-06"
    assert "Month the 2022/23 grant becomes known" in _texts(root)
    assert _texts(root).count("Month the") == 1
    plain = build_explorer(scenarios_dir=tiny, start="tiny")
    assert find_control(plain, "vru-uncertainty-month") is None and find_control(plain, "vru-confirmation")
    assert _texts(plain).count("Month the") == 1


def test_protection_is_ticked_in_a_filtered_list(tiny: Path) -> None:
    """A 10-row list that needed Ctrl-click to choose several: now a tick per service, and a box to find one."""
    app = ExplorerApp(ExplorerController(tiny, "tiny"))
    picker = find_control(app.root, "vru-protect")
    assert picker is app.protect.root
    titles = {k: box.description for k, box in app.protect.boxes.items()}
    key = next(iter(titles))
    find_control(app.root, f"vru-protect-{key}").value = True
    assert app.ctl.overrides[f"interventions.{key}.protected"] is True and app.ctl.protected == [key]
    find_control(app.root, "vru-protect-filter").value = titles[key][:4].upper()
    shown = [k for k, box in app.protect.boxes.items() if box.layout.display != "none"]
    assert key in shown and all(titles[k][:4].lower() in titles[k].lower() for k in shown)
    find_control(app.root, "vru-protect-filter").value = "no service is called this"
    assert all(box.layout.display == "none" for box in app.protect.boxes.values())
    assert app.ctl.protected == [key]  # hiding a ticked service keeps it ticked
    find_control(app.root, "vru-reset").click()
    assert not any(box.value for box in app.protect.boxes.values()) and app.ctl.overrides == {}


# -- the explorer for a director (issue 13) ------------------------------------------------------


@pytest.mark.parametrize("typed", ["30", "30%", "0.3", " 30 % ", 0.3, 30])
def test_a_percentage_typed_any_way_means_the_same(tiny: Path, typed: object) -> None:
    ctl = ExplorerController(tiny, "tiny")
    view = ctl.set_commissioning_min(typed)
    assert view.error is None and ctl.overrides == {"policy.commissioning_min_share": 0.3}


def test_a_percentage_box_in_the_widgets(tiny: Path) -> None:
    app = ExplorerApp(ExplorerController(tiny, "tiny"))
    box, slider = find_control(app.root, "vru-pickup-text"), find_control(app.root, "vru-pickup")
    assert box.value == "100%" and slider.value == 100 and slider.step == 1
    box.value = "80"
    assert app.ctl.scenario.policy.partner_pickup == 0.8 and slider.value == 80 and box.value == "80%"
    box.value = "lots"
    page = find_control(app.root, "vru-output").value
    assert "Not accepted" in page and "partners&#x27; pick-up" in page and "policy." not in page
    assert app.ctl.scenario.policy.partner_pickup == 0.8
    find_control(app.root, "vru-commissioning").value = 35  # one key press is one point
    assert app.ctl.scenario.policy.commissioning_min_share == 0.35
    assert app.ctl.set_commissioning_min("150%").error is not None


def test_grant_typed_in_pounds_or_as_a_percentage_of_the_start(tiny: Path) -> None:
    ctl = ExplorerController(tiny, "tiny")
    assert ctl.set_grant_text("2022/23", "70%").error is None and ctl.grant("2022/23") == 84000
    assert ctl.set_grant_text("2022/23", "£90k").error is None and ctl.grant("2022/23") == 90000
    assert ctl.set_grant_text("2022/23", "0.1m").error is None and ctl.grant("2022/23") == 100000
    assert ctl.set_grant_text("2022/23", "95,500").error is None and ctl.grant("2022/23") == 95500
    view = ctl.set_grant_text("2022/23", "a lot")
    assert view.error and "the 2022/23 grant" in view.error and ctl.grant("2022/23") == 95500
    app = ExplorerApp(ExplorerController(tiny, "tiny"))
    slider = find_control(app.root, "vru-grant-2022-23")
    assert (slider.min, slider.max, slider.step, slider.value) == (0, 150, 1, 100)
    slider.value = 71  # one key press from 70%
    assert app.ctl.grant("2022/23") == pytest.approx(0.71 * 120000)
    assert find_control(app.root, "vru-grant-text-2022-23").value == "85,200"


def test_what_changed_names_the_starting_scenario_as_loaded(tiny: Path) -> None:
    (tiny / "tiny_cut.yaml").write_text("extends: tiny\nname: tiny_cut\ntitle: Tiny with a cut\n"
                                        "funding: {core: {amounts: {2022/23: 50000}}}\n")
    app = ExplorerApp(ExplorerController(tiny, "tiny"))
    find_control(app.root, "vru-grant-text-2022-23").value = "60000"
    find_control(app.root, "vru-start").value = "tiny_cut"  # a new start: its own closures are not a change
    page = find_control(app.root, "vru-output").value
    assert "“Tiny with a cut” as loaded: <strong class=\"vru-value-change\">nothing changed yet" in page
    assert "Mentoring" in page and "Nothing yet: this is the starting scenario as loaded" in page
    assert "no change" not in page
    find_control(app.root, "vru-grant-text-2022-23").value = "120000"
    page = find_control(app.root, "vru-output").value
    assert "What changed compared with “Tiny with a cut” as loaded" in page and "+£" in page


def test_closures_are_listed_by_notice_date(shipped: Path) -> None:
    view = ExplorerController(shipped, "grant_ends").view
    notices = [c.notice_by for c in view.closures]
    assert len(set(notices)) > 1 and notices == sorted(notices)
    html = render_html(view)
    positions = [html.index(escape(c.title)) for c in view.closures]
    assert positions == sorted(positions)


def test_figures_are_dimmed_while_a_plan_is_worked_out(tiny: Path) -> None:
    app = ExplorerApp(ExplorerController(tiny, "tiny"))
    seen = []

    def move() -> None:
        seen.append(("vru-stale" in app.output._dom_classes, app.busy.value))
        app.ctl.set_grant("2022/23", 60000)

    app._run(move)
    dimmed, busy = seen[0]
    assert dimmed and "Working out the plan" in busy and "role='status'" in busy
    assert "vru-stale" not in app.output._dom_classes and app.busy.value == ""


def test_narrow_screens_stack_the_controls(tiny: Path) -> None:
    root = build_explorer(scenarios_dir=tiny, start="tiny")
    css = root.children[0].value
    assert "@media (max-width: 900px)" in css and ".vru-columns { flex-direction: column !important; }" in css
    assert find_control(root, "vru-columns") is not None and find_control(root, "vru-controls") is not None
    assert 'class="vru-scroll" style="overflow-x:auto' in find_control(root, "vru-output").value


def test_how_sure_button_tests_the_current_plan_against_the_evidence(tiny: Path) -> None:
    root = build_explorer(scenarios_dir=tiny, start="tiny")
    find_control(root, "vru-grant-text-2022-23").value = "50000"  # mentoring must close in 2022/23
    find_control(root, "vru-how-sure").click()
    shown = find_control(root, "vru-how-sure-output").value
    assert "How sure is this plan? (20 samples of the evidence)" in shown
    assert "Mentoring closes in " in shown  # the sentence is robustness.py's: the button shows it, on this plan


def test_costs_to_keep_on_request_are_the_re_solves_vru_solve_reports(shipped: Path) -> None:
    """Each closure's cost to keep is a re-solve, so the explorer measures them on request only; once asked,
    they are what `vru solve` reports for the same settings, and the page stops saying "not measured"."""
    root = build_explorer(scenarios_dir=shipped, start="grant_ends")
    app_html = find_control(root, "vru-output")
    assert "not measured" in app_html.value and "What would keeping each closure cost?" in app_html.value
    find_control(root, "vru-costs-to-keep").click()
    shown = find_control(root, "vru-output").value
    assert "not measured" not in shown and "vru-keep-hint" not in shown
    _, summary = _cli_allocation(shipped / "grant_ends.yaml", [], shipped.parent / "cli")
    expected = {c["intervention"]: c["cost_to_keep"] for c in summary["closures"]}
    ctl = ExplorerController(shipped, "grant_ends")
    view = ctl.measure_costs_to_keep()
    page = render_html(view)
    priced = [s for s in view.closures if s.cost_to_keep is not None]
    assert 0 < len(priced) < len(view.closures)  # closures in 2021/22 are priced; those once the grant ends are not
    for s in view.closures:
        if s.cost_to_keep is not None:
            assert s.cost_to_keep == pytest.approx(expected[s.key], abs=1.0) and money(s.cost_to_keep) in page
        else:  # not "free to keep": there is nothing to keep it with
            assert expected[s.key] is None and s.closes_from >= "2022-04"
            assert s.cost_to_keep_note == "none: there is no core grant in 2022/23 to keep it with"
            assert "would cost nothing measurable" not in s.reason
    assert page.count("none: there is no core grant in 2022/23 to keep it with") == len(view.closures) - len(priced)


def test_a_scenario_with_actuals_is_re_planned_from_them(tiny: Path) -> None:
    """Mentoring ran at half scale to September 2021: the explorer says so and shows the re-plan, not the plan made
    without the actuals."""
    from vru_model.analysis.replan import replan

    months = [f"2021-{m:02d}" for m in range(4, 10)]
    rows = ["stream,intervention,period,amount"] + [f"core,{i},{t},{a}" for t in months
                                                   for i, a in (("central", 2000), ("mentoring", 5000))]
    (tiny / "actuals.csv").write_text("\n".join(rows) + "\n")
    (tiny / "tiny_actuals.yaml").write_text("extends: tiny\nname: tiny_actuals\ntitle: Tiny, to September\n"
                                            "actuals: {file: actuals.csv, as_of: 2021-09}\n")
    ctl = ExplorerController(tiny, "tiny_actuals")
    assert ctl.view.as_of == "2021-09"
    assert ("Actual spend to September 2021; the plan below is re-planned from October 2021."
            in render_html(ctl.view))
    expected = replan(load_scenario(tiny / "tiny_actuals.yaml")).result
    assert ctl.view.objective == pytest.approx(expected.objective)
    mentoring = ctl.result.allocation[ctl.result.allocation["intervention"] == "mentoring"]
    assert list(mentoring["scale"][:6]) == [0.5] * 6
    view = ctl.set_grant_percent("2022/23", 50)  # a move re-plans from the same actuals
    assert view.as_of == "2021-09" and "re-planned from October 2021" in render_html(view)
    assert "re-planned" not in render_html(ExplorerController(tiny, "tiny").view)


def test_the_room_for_each_service_is_the_ranges_vru_robustness_writes(tmp_path: Path) -> None:
    """tests/fixtures/robust_hand.yaml, worked in tests/analysis/test_ranges.py: the best plan runs steady 12
    months and the flipper 4 (250,000). Within 1% (247,500) neither can move a month (steady 11 and the
    flipper 5 is 245,833); within 2% (245,000) that one month can."""
    hand = ROOT / "tests" / "fixtures" / "robust_hand.yaml"
    shutil.copy(hand, tmp_path / "robust_hand.yaml")
    ctl = ExplorerController(tmp_path, "robust_hand")
    assert ctl.view.room is None  # on request only
    room = ctl.room_for_each_service().room
    assert room is not None and room.epsilons == [0.01, 0.02, 0.05]
    rows = {r.title: r for r in room.rows}
    assert [x for pair in rows["Steady service"].bounds[:2] for x in pair] == pytest.approx(
        [1.0, 1.0, 11 / 12, 1.0], abs=1e-4)
    assert [x for pair in rows["Flipper service"].bounds[:2] for x in pair] == pytest.approx(
        [4 / 12, 4 / 12, 4 / 12, 5 / 12], abs=1e-4)
    same = robustness(load_scenario(hand), draws=[[0.2, 0.15, 0.01, 10000.0]], ranges_for="all").ranges
    shown = [(r.title, r.best, *[x for pair in r.bounds for x in pair]) for r in room.rows]
    written = [(load_scenario(hand).interventions[i].title, float(g["best_service_years"].iloc[0]),
                *[x for pair in zip(g["min_service_years"], g["max_service_years"], strict=True) for x in pair])
               for i, g in same.groupby("intervention", sort=False)]
    assert shown == written
    page = render_html(ctl.view)
    assert "Room within a few percent of the best value" in page and 'src="data:image/png;base64,' in page
    assert "Every plan within 5% of the best value runs 2 of these 3 services" in page
    ctl.set_partner_pickup("90%")
    assert ctl.view.room is None  # a new plan: the old room is not shown beside it


def test_no_room_is_measured_without_a_best_value(tiny: Path) -> None:
    ctl = ExplorerController(tiny, "tiny")
    ctl.set_grant("2021/22", 20000)  # less than the mandatory central team costs
    assert not ctl.view.optimal
    room = ctl.room_for_each_service().room
    assert room is not None and room.chart is None and "no workable plan" in room.status_text
    assert "no workable plan" in render_html(ctl.view)
