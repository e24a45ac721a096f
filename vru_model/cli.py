"""The `vru` command: a thin layer over the library. Bad input exits 2 with one line per problem."""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any

import click

from vru_model.errors import ScenarioError
from vru_model.scenarios import load_scenario

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2


def _user_errors(func: Callable[..., Any]) -> Callable[..., Any]:
    """Turn ScenarioError into one line per problem and exit 2; no traceback unless --debug."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        ctx = click.get_current_context()
        try:
            return func(*args, **kwargs)
        except ScenarioError as exc:
            if ctx.obj and ctx.obj.get("debug"):
                raise
            for problem in exc.problems:
                click.echo(f"error: {problem}", err=True)
            sys.exit(EXIT_BAD_INPUT)

    return wrapper


@click.group()
@click.option("--debug", is_flag=True, help="Show tracebacks for bad input.")
@click.pass_context
def main(ctx: click.Context, debug: bool) -> None:
    """VRU Workbench: scenario planning for a Violence Reduction Unit's grant."""
    ctx.obj = {"debug": debug}


@main.command()
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


@main.command("solve")
@click.argument("scenario", type=click.Path(path_type=Path))
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE", help="Override a key (dotted path).")
@click.option("--out", "out_dir", type=click.Path(path_type=Path), default=Path("outputs"), show_default=True)
@_user_errors
def solve_command(scenario: Path, overrides: tuple[str, ...], out_dir: Path) -> None:
    """Solve one scenario and write DIR/<name>/ (exit 1 when infeasible or the solver failed)."""
    from vru_model.solve import solve

    loaded = load_scenario(scenario, list(overrides))
    result = solve(loaded)
    where = result.write(out_dir)
    click.echo(f"{loaded.name}: {result.status.value} ({result.summary['status_text']}) -> {where}")
    explanation = result.summary.get("explanation")
    if explanation:
        click.echo(explanation["text"])
    sys.exit(EXIT_OK if result.optimal else EXIT_FAILED)
