"""The `vru` command: a thin layer over the library. Every command's exit code means one thing (EXIT_CODES);
bad input and unusable output folders exit 2 with one line per problem, before any work starts."""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any

import click

from vru_model.core.errors import OutputError, Problem, ScenarioError
from vru_model.core.files import PLAIN_ERRORS, check_output_dir, plain_os_error
from vru_model.scenario.changes import overrides_name
from vru_model.scenario.load import load_scenario, with_actuals

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT, EXIT_INTERRUPTED = 0, 1, 2, 130
EXIT_CODES = ("Exit codes: 0 all done; 1 a solve or report failed (infeasible is an answer, but exit 1); 2 bad "
              "input or an unusable output folder (nothing solved); 130 interrupted (Ctrl-C).")


def _user_errors(func: Callable[..., Any]) -> Callable[..., Any]:
    """Bad input, an unusable output folder or a disk error become one line and exit 2; Ctrl-C one line and
    exit 130; no traceback unless --debug."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        ctx = click.get_current_context()
        debug = bool(ctx.obj and ctx.obj.get("debug"))
        try:
            return func(*args, **kwargs)
        except ScenarioError as exc:
            if debug:
                raise
            for problem in exc.problems:
                click.echo(f"error: {problem}", err=True)
            sys.exit(EXIT_BAD_INPUT)
        except OutputError as exc:
            if debug:
                raise
            click.echo(f"error: {exc}", err=True)
            sys.exit(EXIT_BAD_INPUT)
        except OSError as exc:  # a disk that filled up or a folder that changed under a running command
            if debug or exc.errno not in PLAIN_ERRORS:
                raise
            where = f"cannot write to {exc.filename}: " if exc.filename else ""
            click.echo(f"error: {where}{plain_os_error(exc)}", err=True)
            sys.exit(EXIT_BAD_INPUT)
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            sys.exit(EXIT_INTERRUPTED)

    return wrapper


class _Group(click.Group):
    """A command list whose one-line summaries are never cut off with '...' (click's default on 80 columns)."""

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, cmd.get_short_help_str(limit=400)) for name in self.list_commands(ctx)
                if (cmd := self.get_command(ctx, name)) is not None and not cmd.hidden]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


@click.group(cls=_Group, epilog=EXIT_CODES,
             context_settings={"max_content_width": 120, "help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, help="Show tracebacks for bad input.")
@click.pass_context
def main(ctx: click.Context, debug: bool) -> None:
    """VRU Workbench: scenario planning for a Violence Reduction Unit's grant."""
    ctx.obj = {"debug": debug}


@main.command(epilog=EXIT_CODES)
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE", help="Override a key (dotted path).")
@_user_errors
def validate(paths: tuple[Path, ...], overrides: tuple[str, ...]) -> None:
    """Check scenario files; list every problem in every file."""
    problems = []
    for path in paths:
        try:
            scenario = load_scenario(path, list(overrides))
        except ScenarioError as exc:
            problems.extend(exc.problems)
        else:
            click.echo(f"ok: {path} ({scenario.name}: {len(scenario.interventions)} interventions)")
    if problems:
        raise ScenarioError(problems)


@main.command("init", epilog=EXIT_CODES)
@click.argument("folder", type=click.Path(path_type=Path, file_okay=False))
@_user_errors
def init_command(folder: Path) -> None:
    """Make FOLDER a working folder: the shipped scenarios, the analyst's notebook, a README and outputs/.

    Refuses a folder that already has scenarios/, outputs/ or a README (exit 2, nothing written).

    \b
    Example:
      vru init myvru && cd myvru && vru batch scenarios/baseline.yaml --out outputs --workers 1
    """
    from vru_model.apps.init import init_folder

    written = init_folder(folder)
    click.echo(f"Made {folder}/ with {sum(p.suffix == '.yaml' for p in written)} scenarios; next: cd {folder} "
               "and read README.md")


SET_HELP = ("Override a key (dotted path), e.g. --set funding.home_office_grant.amounts.2022/23=2500000 or "
            "--set policy.partner_pickup=0.5; repeat for several.")


def solve_headline(summary: dict[str, Any], core_stream: str) -> list[str]:
    """What finance reads first after a solve: value, closures with notice dates, grant used; titles, not ids."""
    from vru_model.core.periods import month_name
    from vru_model.core.text import money, plural
    from vru_model.present.reports import status_label

    lines = [f"{summary['title']}: {status_label(summary['status']).lower()}."]
    if summary.get("plan_of_record") == "cliff_edge":  # vru solve makes the comparison, not the plan to act on
        lines[0] += (" This is the plan made as if the uncertain grant were known from the start, a comparison: "
                     "the plan to act on is the cliff-edge plan (vru cliff-edge, or the batch's report).")
    totals = summary.get("totals") or {}
    if totals.get("value") is None:
        return lines
    lines.append(f"Value: {money(totals['value'])} of social value over the plan (undiscounted); "
                 f"{money(summary.get('objective') or 0.0)} in today's money, net of exit costs and the model's "
                 "disruption weight (a weight, not money).")
    used = []
    for fy, row in (summary.get("fy") or {}).items():
        grant = row.get("core_grant") or 0.0
        left = row.get("unspent_by_stream", {}).get(core_stream, 0.0)
        if grant > 0:
            used.append(f"{fy} {money(grant - left)} of {money(grant)} ({(grant - left) / grant:.0%})")
    if used:
        lines.append("Core grant used: " + "; ".join(used) + ".")
    closures = summary.get("closures") or []
    if not closures:
        lines.append("No service closes.")
    else:
        lines.append(f"{plural(len(closures), 'service')} "
                     f"{'closes' if len(closures) == 1 else 'close'} (serve notice by the date shown):")
        for c in sorted(closures, key=lambda c: (c["notice_by"], c["title"])):
            lines.append(f"  - {c['title']}: notice by {month_name(c['notice_by'])}, "
                         f"closes from {month_name(c['closes_from'])}")
    return lines


@main.command("solve", epilog=EXIT_CODES)
@click.argument("scenario", type=click.Path(path_type=Path))
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE", help=SET_HELP)
@click.option("--name", default=None, metavar="NAME",
              help="Folder (and scenario) name for a solve with --set [default: made from the overrides].")
@click.option("--out", "out_dir", type=click.Path(path_type=Path), default=Path("outputs"), show_default=True,
              help="Where to write: the results go into OUT/<name>/.")
@_user_errors
def solve_command(scenario: Path, overrides: tuple[str, ...], name: str | None, out_dir: Path) -> None:
    """Solve one scenario, print its headline and write OUT/<name>/.

    With --set the result goes to its own folder (named from the overrides, or --name), never over the
    plain solve's, and resolved.yaml starts with the overrides as comments. Exit 0 when a plan is found,
    1 when the scenario is infeasible or the solver failed (the reason is printed), 2 for bad input.

    \b
    Examples:
      vru solve scenarios/baseline.yaml
      vru solve scenarios/baseline.yaml --set funding.home_office_grant.amounts.2022/23=2500000
      vru solve scenarios/cut_25.yaml --set policy.commissioning_min_share=0.3 --name cut_25_min_30
    """
    from vru_model.analysis.replan import replan
    from vru_model.analysis.solve import solve
    from vru_model.core.files import atomic_write_text

    loaded = load_scenario(scenario, list(overrides))
    if overrides or name:
        loaded = load_scenario(scenario, [*overrides, f"name={name or overrides_name(loaded.name, overrides)}"])
    check_output_dir(out_dir)
    plan = replan(loaded, price_rules=True) if loaded.actuals is not None else None  # a scenario with actuals:
    result = plan.result if plan is not None else solve(loaded, price_rules=True)
    if overrides:
        result.summary["overrides"] = list(overrides)
    where = (plan or result).write(out_dir, overwrite=True)  # the command's own folder, as it always was
    if overrides:
        resolved = where / "resolved.yaml"
        head = "".join(f"#   --set {o}\n" for o in overrides)
        atomic_write_text(resolved, f"# Solved from {scenario} with these overrides:\n{head}"
                          + resolved.read_text(encoding="utf-8"))
    lines = solve_headline(result.summary, loaded.core_stream)
    click.echo(lines[0])
    for o in overrides:
        click.echo(f"  with --set {o}")
    for line in lines[1:]:
        click.echo(line)
    _year_and_explanation(plan, result.summary)
    click.echo(f"Written to {where}/")
    sys.exit(EXIT_OK if result.optimal else EXIT_FAILED)


def _year_and_explanation(plan: Any, summary: dict[str, Any]) -> None:
    """A re-plan's year in sentences, then why there is no plan (when there is none)."""
    if plan is not None:
        from vru_model.present.reports.year import year_lines

        click.echo("Where the year stands:")
        for line in year_lines(plan):
            if line:
                click.echo(f"  {line}")
    explanation = summary.get("explanation")
    if explanation:
        click.echo(explanation["text"])


@main.command("replan", epilog=EXIT_CODES)
@click.argument("scenario", type=click.Path(path_type=Path))
@click.option("--actuals", "actuals_file", type=click.Path(path_type=Path), default=None,
              help="CSV or XLSX of the actual spend so far, in funding.csv's columns (stream, intervention, period, "
                   "amount) [default: the scenario's actuals:].")
@click.option("--as-of", "as_of", default=None, metavar="YYYY-MM",
              help="The last month the actuals cover [default: the latest month in the file].")
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE", help=SET_HELP)
@click.option("--out", "out_dir", type=click.Path(path_type=Path), default=Path("outputs"), show_default=True,
              help="Where to write: the results go into OUT/<name>/ (with --actuals: <scenario>_replan_<as-of>).")
@_user_errors
def replan_command(scenario: Path, actuals_file: Path | None, as_of: str | None, overrides: tuple[str, ...],
                   out_dir: Path) -> None:
    """Re-plan the rest of the horizon from the actual spend so far: months up to --as-of are held at the
    actuals, notice counts from the month after, every grant rule counts whole years. Writes the result folder
    plus variance.csv (actual against the plan it replaces) and forecast.csv (outturn, grant at risk).

    \b
    Examples:
      vru replan scenarios/replan_2021_09.yaml
      vru replan scenarios/baseline.yaml --actuals actuals/2021-09.xlsx --as-of 2021-09
    """
    from vru_model.analysis.replan import check_payable, replan

    loaded = load_scenario(scenario, list(overrides))
    if actuals_file is None and loaded.actuals is None:
        raise ScenarioError([Problem(str(scenario), "actuals", "no actuals to re-plan from: give --actuals FILE, "
                                     "or actuals: {file: ..., as_of: YYYY-MM} in the scenario")])
    file = actuals_file or (Path(loaded.actuals.file) if as_of and loaded.actuals else None)  # --as-of alone:
    if file is not None:  # the scenario's own file, to another month; read and checked before any output
        loaded = with_actuals(loaded, str(file.resolve()), as_of)
    if actuals_file is not None:  # a folder of its own, named by the month the actuals run to
        month = loaded.actuals.as_of
        renamed = load_scenario(scenario, [*overrides, f"name={loaded.name}_replan_{month.replace('-', '_')}"])
        loaded = with_actuals(renamed, str(actuals_file.resolve()), month)
    check_payable(loaded)
    check_output_dir(out_dir)
    plan = replan(loaded, price_rules=True)
    where = plan.write(out_dir, overwrite=True)
    lines = solve_headline(plan.summary, loaded.core_stream)
    for line in lines:
        click.echo(line)
    _year_and_explanation(plan, plan.summary)
    click.echo(f"Written to {where}/")
    sys.exit(EXIT_OK if plan.result.optimal else EXIT_FAILED)


@main.command(epilog=EXIT_CODES)
@click.option("--port", type=click.IntRange(1024, 65535), default=None, help="Port on 127.0.0.1 [default: a free one].")
@click.option("--no-browser", is_flag=True, help="Print the address only; do not open a browser.")
@click.option(
    "--scenarios", "scenarios_dir", type=click.Path(path_type=Path, file_okay=False, exists=True), default=None,
    help="Folder of scenario files to start from and save into [default: $VRU_SCENARIOS_DIR, else scenarios/].",
)
@_user_errors
def explore(port: int | None, no_browser: bool, scenarios_dir: Path | None) -> None:
    """Serve the director's explorer as an app (Voila, code hidden) on this machine only."""
    import os

    from vru_model.apps.explorer import (
        NOTEBOOK,
        SCENARIOS_ENV,
        default_scenarios_dir,
        free_port,
        new_token,
        open_when_listening,
        voila_command,
        voila_environ,
    )
    from vru_model.core.errors import Problem

    if not NOTEBOOK.is_file():
        raise ScenarioError([Problem(str(NOTEBOOK), "", "the explorer notebook is missing")])
    folder = (scenarios_dir or default_scenarios_dir()).resolve()
    os.environ[SCENARIOS_ENV] = str(folder)
    port = port or free_port()
    token = new_token()
    os.environ.update(voila_environ(token))
    url = f"http://127.0.0.1:{port}/?token={token}"
    click.echo(f"Explorer: {url}  (scenarios from {folder}; press Ctrl-C to stop)")
    sys.stdout.flush()
    command = voila_command(port)
    if os.name == "posix":
        server = os.getpid()
        if not no_browser and os.fork() == 0:  # the child opens the browser once Voila listens, then exits
            try:
                open_when_listening(url, port, parent=server)
            finally:
                os._exit(0)
        os.execv(command[0], command)  # the server becomes this process: Ctrl-C and kill reach it directly
    import subprocess
    import threading

    if not no_browser:
        threading.Thread(target=open_when_listening, args=(url, port), daemon=True).start()
    sys.exit(subprocess.call(command))


@main.command("batch", epilog=EXIT_CODES)
@click.argument("scenarios", nargs=-1, type=click.Path(path_type=Path))
@click.option("--out", "out_dir", type=click.Path(path_type=Path), default=Path("outputs"), show_default=True)
@click.option("--workers", type=click.IntRange(1, 64), default=2, show_default=True,
              help="Reports run at once (local pool; a Dask cluster uses its own workers).")
@click.option("--timeout", type=click.FloatRange(min=1), default=600.0, show_default=True,
              help="Seconds one scenario's report may take before it is stopped and marked failed.")
@click.option("--scheduler", default=None, metavar="ADDRESS", help="Run on a Dask cluster (e.g. tcp://host:8786).")
@click.option("--force", is_flag=True, help="Re-run every scenario, even those that are up to date.")
@click.option("--wait", is_flag=True, help="If another batch is writing to the same --out, wait for it to finish "
              "(default: exit 2 at once).")
@click.option("--notebook", type=click.Path(path_type=Path, exists=True, dir_okay=False), default=None,
              help="Report notebook to run [default: notebooks/scenario_report.ipynb].")
@click.option("--samples", type=click.IntRange(0, 100_000), default=20, show_default=True,
              help="Samples of the evidence for each report's \"How sure is this plan?\" section (0 skips it).")
@click.option("--ranges", "ranges_for", type=click.Choice(["none", "unsettled", "all"]), default="none",
              show_default=True, help="Draw each service's room within 2% of the best value in that section: "
              "for no service, those whose fate some sample changes, or all (two solves per service).")
@click.option("--pdf", is_flag=True, help="Also print each report to report.pdf beside its HTML (A4 board paper; "
              "needs Chromium, skipped with a message without it).")
@_user_errors
def batch_command(scenarios: tuple[Path, ...], out_dir: Path, workers: int, timeout: float, scheduler: str | None,
                  force: bool, wait: bool, notebook: Path | None, samples: int, ranges_for: str,
                  pdf: bool) -> None:
    """Run every scenario's report (default: all of scenarios/*.yaml) and write OUT/index.html.

    Exit 0 when every report ran, 1 when any failed or timed out (the others still finish), 2 for bad input,
    an unusable --out or another batch writing to it, 130 when stopped with Ctrl-C (reports not yet started
    are not started; OUT/index.html says which were stopped).
    """
    from vru_model.apps.batch import REPORT_NOTEBOOK, outcome_lines, run_batch

    report = run_batch(list(scenarios), out_dir, workers=workers, timeout=timeout, scheduler=scheduler, force=force,
                       notebook=notebook or REPORT_NOTEBOOK, samples=samples, ranges=ranges_for, wait=wait,
                       say=lambda text: click.echo(text, err=True))
    if report.state == "stopped":
        stopped = [n for n, o in report.outcomes.items() if o.state == "stopped"]
        not_run = sum(o.state == "cancelled" for o in report.outcomes.values())
        click.echo(f"interrupted: stopped {', '.join(stopped) or 'no report'}; {not_run} not run; "
                   f"{out_dir / 'index.html'} says which", err=True)
        sys.exit(EXIT_INTERRUPTED)
    for line in outcome_lines(report):
        click.echo(line)
    if report.compare.state not in ("ok", "skipped"):
        click.echo(f"comparison: REPORT FAILED: {report.compare.error}")
    click.echo(f"wrote {out_dir / 'index.html'}")
    if pdf:
        from vru_model.present.pages import write_pdfs

        printed, problems = write_pdfs(out_dir, [t.name for t in report.tasks])
        for line in problems:
            click.echo(f"pdf: {line}")
        if printed:
            click.echo(f"wrote {len(printed)} report.pdf file{'s' if len(printed) != 1 else ''}")
    sys.exit(report.exit_code)


def _named_file(path: Path, exc: ScenarioError) -> ScenarioError:
    """Problems the library reports against the scenario's name, re-addressed to the file the user gave."""
    from vru_model.core.errors import Problem

    return ScenarioError([Problem(str(path), p.key, p.message) for p in exc.problems])


@main.command("cliff-edge", epilog=EXIT_CODES)
@click.argument("scenario", type=click.Path(path_type=Path))
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE", help="Override a key (dotted path).")
@click.option("--out", "out_dir", type=click.Path(path_type=Path), default=Path("outputs"), show_default=True)
@click.option("--no-vss", is_flag=True, help="Skip the two extra solves for VSS and EVPI.")
@_user_errors
def cliff_edge_command(scenario: Path, overrides: tuple[str, ...], out_dir: Path, no_vss: bool) -> None:
    """Plan for an unconfirmed grant (two-stage): write DIR/<name>/cliff_edge.json and plan.csv
    (exit 1 when infeasible or the solver failed)."""
    from vru_model.analysis.cliff_edge import solve_cliff_edge
    from vru_model.core.errors import Problem

    loaded = load_scenario(scenario, list(overrides))
    if loaded.uncertainty is None:
        raise ScenarioError([Problem(str(scenario), "uncertainty", "cliff-edge planning needs an uncertainty block "
                                     "(the FY, its grant outcomes with probabilities, the confirmation month)")])
    check_output_dir(out_dir)
    try:
        result = solve_cliff_edge(loaded, value_of_information=not no_vss)
    except ScenarioError as exc:
        raise _named_file(scenario, exc) from None
    where = result.write(out_dir, overwrite=True)  # the command's own folder, as it always was
    click.echo(f"{loaded.name}: {result.status.value} -> {where}")
    for sentence in result.sentences:
        click.echo(f"- {sentence}")
    sys.exit(EXIT_OK if result.optimal else EXIT_FAILED)


@main.command("frontier", epilog=EXIT_CODES)
@click.argument("scenario", type=click.Path(path_type=Path))
@click.option("--from", "start", type=click.FloatRange(min=0), default=0.0, show_default=True,
              help="Lowest grant level, as a fraction of the scenario's own core grant.")
@click.option("--to", "stop", type=click.FloatRange(min=0), default=1.5, show_default=True, help="Highest level.")
@click.option("--steps", type=click.IntRange(1, 2001), default=31, show_default=True,
              help="Number of levels, ends included (151 gives steps of 1% from 0 to 1.5).")
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE", help="Override a key (dotted path).")
@click.option("--out", "out_dir", type=click.Path(path_type=Path), default=Path("outputs"), show_default=True)
@_user_errors
def frontier_command(
    scenario: Path, start: float, stop: float, steps: int, overrides: tuple[str, ...], out_dir: Path
) -> None:
    """Sweep the core grant and write DIR/<name>/frontier.csv, breakpoints.csv and frontier.json
    (exit 1 when the solver failed at some level or no level has a lawful plan)."""
    from vru_model.analysis.frontier import frontier

    loaded = load_scenario(scenario, list(overrides))
    check_output_dir(out_dir)
    try:
        result = frontier(loaded, start, stop, steps)
    except ScenarioError as exc:
        raise _named_file(scenario, exc) from None
    where = result.write(out_dir, overwrite=True)  # the command's own folder, as it always was
    statuses = result.summary["statuses"]
    click.echo(f"{loaded.name}: {len(result.table)} levels {statuses} -> {where}")
    for sentence in result.summary["sentences"]:
        click.echo(f"- {sentence}")
    failed = any(s not in ("optimal", "infeasible") for s in statuses)
    sys.exit(EXIT_FAILED if failed or "optimal" not in statuses else EXIT_OK)


def _epsilons(_ctx: click.Context, _param: click.Parameter, text: str) -> tuple[float, ...]:
    try:
        found = tuple(float(x) for x in text.split(",") if x.strip())
    except ValueError:
        raise click.BadParameter(f"{text!r} is not a comma-separated list of numbers (e.g. 0.01,0.02,0.05)") from None
    if any(not 0 <= e < 1 for e in found):
        raise click.BadParameter("each epsilon must be at least 0 and below 1")
    return found


@main.command("robustness", epilog=EXIT_CODES)
@click.argument("scenario", type=click.Path(path_type=Path))
@click.option("--samples", type=click.IntRange(1, 100_000), default=200, show_default=True,
              help="Joint samples of the effects and harm costs (Latin hypercube).")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True, help="Same seed, same files.")
@click.option("--workers", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Processes solving the samples.")
@click.option("--scheduler", default=None, metavar="ADDRESS", help="Solve the samples on a Dask cluster instead.")
@click.option("--epsilon", "epsilons", default="0.01,0.02,0.05", show_default=True, callback=_epsilons,
              help="Near-optimal alternatives within these shares of the optimum (empty: none).")
@click.option("--ranges", "ranges_for", type=click.Choice(["all", "unsettled", "none"]), default="all",
              show_default=True, help="Which services get ranges.csv (least and most service-years within each "
              "epsilon): every service, those whose fate some sample changes, or none.")
@click.option("--alternatives", "spread", type=click.IntRange(0, 20), default=1, show_default=True,
              help="Plans after the fewest-closures one at each epsilon, each as far as it can be from the best "
              "plan and those before it (distance weighted by each service's cost).")
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE", help="Override a key (dotted path).")
@click.option("--out", "out_dir", type=click.Path(path_type=Path), default=Path("outputs"), show_default=True)
@_user_errors
def robustness_command(scenario: Path, samples: int, seed: int, workers: int, scheduler: str | None,
                       epsilons: tuple[float, ...], ranges_for: str, spread: int, overrides: tuple[str, ...],
                       out_dir: Path) -> None:
    """How sure is the plan? Re-solve under samples of the evidence and find near-optimal alternatives:
    write DIR/<name>/robustness/ and its page, report.html (exit 1 when the scenario has no plan or a sample's
    solve failed)."""
    from vru_model.analysis.robustness import robustness
    from vru_model.core.files import atomic_write_text
    from vru_model.present.reports.robustness import robustness_page

    loaded = load_scenario(scenario, list(overrides))
    check_output_dir(out_dir)
    try:
        result = robustness(loaded, samples, seed, workers=workers, scheduler=scheduler, epsilons=epsilons,
                            ranges_for=ranges_for, alternatives=spread)
    except ScenarioError as exc:
        raise _named_file(scenario, exc) from None
    report = robustness_page(result)  # drawn before anything is written
    where = result.write(out_dir, overwrite=True)  # the command's own folder, as it always was
    atomic_write_text(where / "report.html", report)
    s = result.summary
    click.echo(f"{loaded.name}: {s['samples']} samples {s['statuses']} in {s['seconds']:.1f} s -> {where}")
    for sentence in s["sentences"]:
        click.echo(f"- {sentence}")
    failed = any(k not in ("optimal", "time_limit") for k in s["statuses"])
    sys.exit(EXIT_OK if result.optimal and not failed else EXIT_FAILED)


if __name__ == "__main__":
    main()
