"""Finance's batch: every scenario's report notebook run with papermill in parallel, then HTML for partners,
an index, a comparison report, a spreadsheet and a manifest.

Why it is shaped this way:
- every scenario is validated before anything is written, so bad input costs nothing (exit 2);
- each report runs in its own kernel reached over IPC (Unix sockets), never TCP ports, so parallel kernels
  cannot collide on ports and nothing listens on the network;
- a failing or timed-out notebook is kept, with its error, and the others carry on;
- a scenario is re-run only when its inputs change: the resolved scenario (and the baseline it is compared
  with), the code and the notebook together make its key;
- the executor is pluggable: a local process pool, or a Dask cluster for runs that outgrow one machine.
"""

from __future__ import annotations

import hashlib
import io
import json
import multiprocessing
import os
import sys
import time
import uuid
from collections.abc import Iterator, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from vru_model import __version__
from vru_model.errors import Problem, ScenarioError
from vru_model.files import atomic_write_bytes, atomic_write_text
from vru_model.reports import (
    OBJECTIVE,
    UNDISCOUNTED,
    cliff_headline,
    cliff_text,
    esc,
    headline,
    page,
    read_cliff_edge,
    status_label,
)
from vru_model.results import ALLOCATION_COLUMNS
from vru_model.results_text import money
from vru_model.scenarios import load_scenario, read_yaml, scenario_to_dict

ROOT = Path(__file__).resolve().parent.parent
REPORT_NOTEBOOK = ROOT / "notebooks" / "scenario_report.ipynb"
COMPARE_NOTEBOOK = ROOT / "notebooks" / "compare_scenarios.ipynb"
SCENARIO_FILES = ("resolved.yaml", "allocation.csv", "funding.csv", "summary.json", "report.ipynb", "report.html")
CLIFF_EDGE_FILES = ("cliff_edge.json", "plan.csv", "plan_funding.csv")  # written only when the grant is uncertain
FRONTIER_FILES = ("frontier.csv", "breakpoints.csv", "frontier.json")  # the baseline's, written by the comparison
STAMP = "stamp.json"
FAILED = ("failed", "timed_out")
SINGLE_THREAD_ENV = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "MPLBACKEND": "Agg"}
ALLOWED_TAGS = ["a", "abbr", "b", "blockquote", "br", "caption", "code", "dd", "details", "div", "dl", "dt", "em",
                "h1", "h2", "h3", "h4", "i", "li", "ol", "p", "pre", "span", "strong", "summary", "table", "tbody",
                "td", "tfoot", "th", "thead", "tr", "ul"]
ALLOWED_ATTRIBUTES = {"*": ["class", "id"], "a": ["href", "title"], "th": ["class", "scope"], "abbr": ["title"]}


# -- the plan: which scenarios, and which are already up to date ---------------------------------


@dataclass(frozen=True)
class Task:
    """One scenario's report, as a worker needs it (plain data, so it pickles to any executor)."""

    name: str
    title: str
    scenario_path: str
    baseline_path: str
    out_dir: str
    notebook: str
    key: str
    timeout: float
    threads: int = 1
    samples: int = 0  # robustness samples for the "How sure is this plan?" section (0 skips it)


@dataclass(frozen=True)
class Outcome:
    name: str
    state: str  # ok | failed | timed_out | skipped (up to date)
    seconds: float
    error: str = ""


def is_template(path: Path) -> bool:
    """Files meant to be copied, not run: a name or title that says template, or a leading underscore."""
    if path.stem.startswith("_") or "template" in path.stem.lower():
        return True
    try:
        raw = read_yaml(path)
    except ScenarioError:
        return False  # a broken file is not a template: loading it reports the problem
    return any("template" in str(raw.get(k, "")).lower() for k in ("name", "title"))


def discover(paths: Sequence[Path], scenarios_dir: Path = ROOT / "scenarios") -> list[Path]:
    if paths:
        return list(paths)
    found = [p for p in sorted(scenarios_dir.glob("*.yaml")) if not is_template(p)]
    if not found:
        raise ScenarioError([Problem(str(scenarios_dir), "", "no scenario files found")])
    return found


def sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def code_hash() -> str:
    """The model's source code, so that a change to it re-runs every report."""
    h = hashlib.sha256(__version__.encode())
    for path in sorted((ROOT / "vru_model").glob("*.py")):
        h.update(path.name.encode() + b"\0" + path.read_bytes())
    return h.hexdigest()


def plan(
    paths: Sequence[Path],
    out_dir: Path,
    *,
    notebook: Path = REPORT_NOTEBOOK,
    timeout: float = 600.0,
    samples: int = 0,
) -> list[Task]:
    """Validate every scenario (all problems at once) and build the tasks; writes nothing."""
    problems: list[Problem] = []
    loaded = []
    for path in paths:
        try:
            loaded.append((path, load_scenario(path)))
        except ScenarioError as exc:
            problems.extend(exc.problems)
    seen: dict[str, Path] = {}
    for path, sc in loaded:
        if sc.name in seen:
            problems.append(Problem(str(path), "name", f"{sc.name!r} is also the name of {seen[sc.name]}"))
        seen[sc.name] = path
    if problems:
        raise ScenarioError(problems)
    code, nb_hash = code_hash(), sha256_file(notebook)
    in_batch = next(((p, sc) for p, sc in loaded if sc.name == "baseline"), None)
    tasks = []
    for path, sc in loaded:
        base_path, base = in_batch or (path.parent / "baseline.yaml", None)
        if base is None and base_path.is_file():
            base = load_scenario(base_path)
        compare_with = base is not None and sc.name != "baseline"
        key = hashlib.sha256(json.dumps({
            "scenario": scenario_to_dict(sc), "baseline": scenario_to_dict(base) if compare_with else None,
            "code": code, "notebook": nb_hash, "samples": samples,
        }, sort_keys=True).encode()).hexdigest()
        tasks.append(Task(sc.name, sc.title, str(path.resolve()), str(base_path.resolve()) if compare_with else "",
                          str(out_dir.resolve()), str(notebook.resolve()), key, timeout, samples=samples))
    tasks.sort(key=lambda t: t.name != "baseline")  # the baseline first: the others compare with it
    return tasks


def read_stamp(folder: Path) -> dict[str, Any]:
    try:
        return json.loads((folder / STAMP).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def up_to_date(task: Task) -> bool:
    folder = Path(task.out_dir) / task.name
    stamp = read_stamp(folder)
    return stamp.get("key") == task.key and stamp.get("state") == "ok" and all(
        (folder / f).is_file() for f in SCENARIO_FILES)


# -- running one notebook (in a worker) ----------------------------------------------------------


def _ipc_kernel_manager() -> type:
    """An AsyncKernelManager whose kernels listen on IPC (Unix sockets) instead of TCP ports.

    Each kernel gets its own socket path in the private Jupyter runtime directory: jupyter_client's
    default IPC path is `kernel-ipc` in the working directory, which parallel kernels would share.
    """
    from jupyter_client.manager import AsyncKernelManager
    from jupyter_core.paths import jupyter_runtime_dir
    from traitlets import default

    class IPCKernelManager(AsyncKernelManager):
        @default("transport")
        def _default_transport(self) -> str:
            return "ipc"

        @default("ip")
        def _default_ip(self) -> str:
            runtime = Path(jupyter_runtime_dir())
            runtime.mkdir(mode=0o700, parents=True, exist_ok=True)
            return str(runtime / f"vru-{uuid.uuid4().hex[:16]}-ipc")

    return IPCKernelManager


def execute(notebook: Path, output: Path, parameters: dict[str, Any], timeout: float) -> tuple[str, str]:
    """Run a notebook with papermill over an IPC kernel; return (state, error). Never raises for the notebook.

    `timeout` is for the whole notebook: each cell gets what is left of it. A cell that runs past it makes
    nbclient raise CellTimeoutError (papermill's own execution timeout is the same one); the kernel is then
    shut down, not interrupted (an interrupt cannot stop a solver inside C code), and the cell that was cut
    off gets a TimeoutError output so the kept notebook shows where and why it stopped.
    """
    import papermill
    from nbclient.exceptions import CellTimeoutError
    from papermill.exceptions import PapermillExecutionError

    os.environ.update(SINGLE_THREAD_ENV)
    deadline = time.monotonic() + timeout
    message = f"the report took longer than {timeout:g} s"
    try:
        papermill.execute_notebook(
            str(notebook), str(output), parameters=parameters, kernel_name="python3", progress_bar=False,
            kernel_manager_class=_ipc_kernel_manager(),
            timeout=int(timeout) + 1,  # for the cells' surroundings (kernel info) as well
            timeout_func=lambda cell: max(1, int(deadline - time.monotonic())),
            interrupt_on_timeout=False, shutdown_kernel="immediate",
        )
    except (CellTimeoutError, TimeoutError):
        _mark_timeout(output, message)
        return "timed_out", f"TimeoutError: {message}"
    except PapermillExecutionError as exc:
        return "failed", f"{exc.ename}: {exc.evalue}".strip()
    except Exception as exc:  # kernel died, bad notebook, ...: report it, keep the batch going
        return "failed", f"{type(exc).__name__}: {exc}".strip()
    return "ok", ""


def _mark_timeout(output: Path, message: str) -> None:
    """Put a TimeoutError into the cell that was running when time ran out, as papermill does for an error."""
    import nbformat

    if not output.is_file():
        return
    nb = nbformat.read(output, as_version=4)
    started = [c for c in nb.cells if c.cell_type == "code" and (c.metadata.get("papermill") or {}).get("start_time")]
    if started:
        cell = started[-1]
        cell.outputs.append(nbformat.v4.new_output("error", ename="TimeoutError", evalue=message,
                                                   traceback=[f"TimeoutError: {message}"]))
        cell.metadata.papermill.update(exception=True, status="failed")
        for later in nb.cells[nb.cells.index(cell) + 1:]:  # papermill marks the cells it never ran as completed
            if "papermill" in later.metadata and not later.metadata.papermill.get("start_time"):
                later.metadata.papermill["status"] = "pending"
    nb.metadata.setdefault("papermill", {})["exception"] = True
    atomic_write_text(output, nbformat.writes(nb))


def _keep_notebook(partial: Path, target: Path, source: Path, error: str) -> Any:
    """Move the executed notebook into place; if the run left nothing, keep the input with the error on top."""
    import nbformat

    if partial.is_file():
        nb = nbformat.read(partial, as_version=4)
        os.replace(partial, target)
        return nb
    nb = nbformat.read(source, as_version=4)
    nb.cells.insert(0, nbformat.v4.new_markdown_cell(f"**The report could not run:** `{error}`"))
    atomic_write_text(target, nbformat.writes(nb))
    return nb


def notebook_html(nb: Any, title: str, home: str | None) -> str:
    """The notebook as a partner's page: no code cells or prompts, outputs sanitised, inside `reports.page`."""
    from nbconvert import HTMLExporter
    from nbconvert.preprocessors.sanitize import SanitizeHTML

    exporter = HTMLExporter(template_name="basic", exclude_input=True, exclude_input_prompt=True,
                            exclude_output_prompt=True, anchor_link_text="")
    exporter.register_preprocessor(SanitizeHTML(tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES, strip=False),
                                   enabled=True)
    body, _ = exporter.from_notebook_node(nb)
    return page(title, body, home=home)


def run_one(task: Task) -> Outcome:
    """Execute one scenario's report and render it; everything lands atomically in OUT/<name>/."""
    started = time.monotonic()
    folder = Path(task.out_dir) / task.name
    folder.mkdir(parents=True, exist_ok=True)
    # a failed run must not leave an older run's results looking current
    for stale in (*SCENARIO_FILES, *CLIFF_EDGE_FILES, STAMP):
        (folder / stale).unlink(missing_ok=True)
    partial = folder / f".report-{uuid.uuid4().hex}.ipynb"
    params = {"scenario_path": task.scenario_path, "overrides": {}, "output_dir": task.out_dir,
              "baseline_path": task.baseline_path, "threads": task.threads, "samples": task.samples}
    try:
        state, error = execute(Path(task.notebook), partial, params, task.timeout)
        nb = _keep_notebook(partial, folder / "report.ipynb", Path(task.notebook), error)
        title = (read_summary(folder) or {}).get("title", task.title)
        atomic_write_text(folder / "report.html", notebook_html(nb, f"Scenario report: {title}", "../index.html"))
    finally:
        partial.unlink(missing_ok=True)
    seconds = round(time.monotonic() - started, 2)
    atomic_write_text(folder / STAMP, json.dumps({"key": task.key, "state": state, "error": error,
                                                  "seconds": seconds}, indent=2) + "\n")
    return Outcome(task.name, state, seconds, error)


# -- executors -----------------------------------------------------------------------------------


@contextmanager
def executor(workers: int, scheduler: str | Any | None = None) -> Iterator[Executor]:
    """A local process pool, or a Dask cluster's concurrent.futures view when a scheduler is given."""
    if scheduler:
        from distributed import Client

        with Client(scheduler) as client:
            yield client.get_executor(pure=False)
        return
    with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        yield pool


# -- the batch -----------------------------------------------------------------------------------


@dataclass
class BatchReport:
    out_dir: Path
    tasks: list[Task]
    outcomes: dict[str, Outcome]
    compare: Outcome
    compare_key: str

    @property
    def failed(self) -> list[str]:
        return [n for n, o in self.outcomes.items() if o.state in FAILED] + (
            ["(comparison)"] if self.compare.state in FAILED else [])

    @property
    def exit_code(self) -> int:
        return 1 if self.failed else 0


def run_batch(
    paths: Sequence[Path],
    out_dir: Path,
    *,
    workers: int = 2,
    timeout: float = 600.0,
    scheduler: str | Any | None = None,
    force: bool = False,
    notebook: Path = REPORT_NOTEBOOK,
    progress: bool = True,
    samples: int = 0,
) -> BatchReport:
    """Plan (validating everything first), run what is out of date, then write the batch-level outputs."""
    from tqdm import tqdm

    tasks = plan(discover(paths), out_dir, notebook=notebook, timeout=timeout, samples=samples)
    out_dir.mkdir(parents=True, exist_ok=True)
    outcomes: dict[str, Outcome] = {}
    todo = []
    for task in tasks:
        if not force and up_to_date(task):
            outcomes[task.name] = Outcome(task.name, "skipped", 0.0)
        else:
            todo.append(task)
    with tqdm(total=len(tasks), initial=len(tasks) - len(todo), desc="scenario reports", unit="report",
              disable=not progress, file=sys.stderr) as bar:
        if todo:
            with executor(workers, scheduler) as pool:
                futures = {pool.submit(run_one, t): t for t in todo}
                for future in as_completed(futures):
                    task = futures[future]
                    try:
                        outcome = future.result()
                    except Exception as exc:  # the worker itself failed (not the notebook)
                        outcome = Outcome(task.name, "failed", 0.0, f"{type(exc).__name__}: {exc}")
                    outcomes[task.name] = outcome
                    bar.set_postfix_str(f"{task.name}: {outcome.state}")
                    bar.update()
    outcomes = {t.name: outcomes[t.name] for t in tasks}
    compare_key = hashlib.sha256(json.dumps([[t.name, t.key] for t in tasks] + [sha256_file(COMPARE_NOTEBOOK)]
                                            ).encode()).hexdigest()
    compare = run_compare(out_dir, tasks, timeout, compare_key, force=force or bool(todo))
    write_workbook(out_dir, tasks, outcomes)
    atomic_write_text(out_dir / "index.html", index_page(out_dir, tasks, outcomes, compare))
    report = BatchReport(out_dir, tasks, outcomes, compare, compare_key)
    write_manifest(report)
    return report


def run_compare(out_dir: Path, tasks: list[Task], timeout: float, key: str, *, force: bool) -> Outcome:
    """The comparison report across the batch, re-run only when a scenario or the notebook changed."""
    previous = read_manifest(out_dir).get("compare", {})
    if not force and previous.get("key") == key and previous.get("state") == "ok" and (
            out_dir / "compare.html").is_file():
        return Outcome("compare", "skipped", 0.0)
    started = time.monotonic()
    partial = out_dir / f".compare-{uuid.uuid4().hex}.ipynb"
    baseline = next((t for t in tasks if t.name == "baseline"), None)
    if baseline is not None:  # a failed comparison must not leave an older run's frontier looking current
        for stale in FRONTIER_FILES:
            (out_dir / baseline.name / stale).unlink(missing_ok=True)
    try:
        params = {"output_dir": str(out_dir.resolve()), "scenarios": [t.name for t in tasks],
                  "baseline_path": baseline.scenario_path if baseline else ""}
        state, error = execute(COMPARE_NOTEBOOK, partial, params, timeout)
        nb = _keep_notebook(partial, out_dir / "compare.ipynb", COMPARE_NOTEBOOK, error)
        atomic_write_text(out_dir / "compare.html", notebook_html(nb, "Scenario comparison", "index.html"))
    finally:
        partial.unlink(missing_ok=True)
    return Outcome("compare", state, round(time.monotonic() - started, 2), error)


def read_summary(folder: Path) -> dict[str, Any] | None:
    try:
        return json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _state(outcome: Outcome) -> str:
    """A skipped scenario is up to date, so its last run was ok."""
    return "ok" if outcome.state == "skipped" else outcome.state


# -- index.html ----------------------------------------------------------------------------------


def index_page(out_dir: Path, tasks: list[Task], outcomes: dict[str, Outcome], compare: Outcome) -> str:
    """Every scenario with its status, headline figures and links; accessible and escaped."""
    rows = []
    failed = 0
    for t in tasks:
        folder = out_dir / t.name
        o = outcomes[t.name]
        state = _state(o)
        summary = read_summary(folder) if state == "ok" else None
        h = headline(summary) if summary else None
        name = esc(t.name)
        if state in FAILED:
            failed += 1
            error = o.error or read_stamp(folder).get("error", "")
            what = "timed out" if state == "timed_out" else "failed"
            status = (f'<span class="tag tag-failed">✗&nbsp;Report&nbsp;{what}</span><br>'
                      f'<span class="error">{esc(error)}</span>')
        else:
            note = '<br><span class="name">up to date, not re-run</span>' if o.state == "skipped" else ""
            status = (f'<span class="tag tag-ok">✓&nbsp;Report&nbsp;ready</span><br>'
                      f'{esc(status_label(h["status"])) if h else ""}{note}')
        cells = [
            f'<th scope="row"><a href="{name}/report.html">{esc(t.title)}</a><br><span class="name">{name}</span></th>',
            f"<td>{status}</td>",
        ]
        for key, kind in [("core_grant_total", "money"), ("value", "money"), ("services_closed", "closed"),
                          ("lowest_commissioned_share", "share"), ("unspent_core_grant", "money")]:
            v = h.get(key) if h else None
            text = "–" if v is None else money(v) if kind == "money" else f"{v:.0%}" if kind == "share" else (
                f"{v} of {h['services']}" if h else "–")
            cells.append(f'<td class="num">{esc(text)}</td>')
        files = [("report.ipynb", "notebook"), ("allocation.csv", "allocation (CSV)"), ("funding.csv", "funding (CSV)"),
                 ("summary.json", "summary (JSON)")]
        links = "<br>".join(f'<a href="{name}/{f}">{label}</a>' for f, label in files if (folder / f).is_file())
        cells.append(f"<td>{links}</td>")
        rows.append(f"<tr>{''.join(cells)}</tr>")
        cliff = cliff_headline(read_cliff_edge(folder, summary)) if summary else None
        if cliff:
            rows.append(f'<tr class="sub"><th scope="row"><span class="name">{name}: cliff-edge plan</span></th>'
                        f'<td colspan="7">{esc(cliff_text(cliff))} <a href="{name}/cliff_edge.json">cliff_edge.json'
                        "</a></td></tr>")
    n = len(tasks)
    lead = f"{n} scenario{'s' if n != 1 else ''} in this batch."
    lead += f" {failed} report{'s' if failed != 1 else ''} failed: see the rows marked ✗." if failed else (
        " Every report ran.")
    compare_link = ('<li><a href="compare.html">Compare all scenarios</a> (one table and charts)</li>'
                    if compare.state not in FAILED else
                    f'<li><span class="tag tag-failed">✗ The comparison report failed</span> {esc(compare.error)} '
                    '<a href="compare.ipynb">notebook with the error</a></li>')
    head = ["Scenario", "Status", "Core grant", "Social value (undiscounted)", "Services closing",
            "Lowest commissioned share",
            "Unspent core grant", "Files"]
    num = ' class="num"'
    header = "".join(f'<th scope="col"{num if 2 <= k <= 6 else ""}>{esc(c)}</th>' for k, c in enumerate(head))
    body = f"""<h1>Scenario reports</h1>
<p class="lead">{esc(lead)}</p>
<ul>
{compare_link}
<li><a href="allocations.xlsx">Spreadsheet for finance</a> (allocations.xlsx: a summary sheet, spend by funding
stream and year, and one sheet per scenario with its allocation, month by month)</li>
<li><a href="manifest.json">Manifest</a> (every file with its SHA-256 checksum)</li>
</ul>
<h2>Scenarios</h2>
<table class="data"><caption>Every scenario: its status and headline figures over its whole plan</caption>
<thead><tr>{header}</tr></thead>
<tbody>
{chr(10).join(rows)}
</tbody></table>
<h2>Reading this page</h2>
<dl>
<dt>Status</dt><dd>✓ the report ran; ✗ it failed or timed out, and its notebook keeps the error for inspection.
“Plan found” means every grant condition can be met; “No possible plan” means the scenario's rules contradict each
other, and its report explains why.</dd>
<dt>Social value</dt><dd>Violence avoided, priced with Home Office unit costs of crime and weighted by the confidence of
the evidence; many inputs are illustrative assumptions. The column is {UNDISCOUNTED}: summed month by month over the
plan, as in allocation.csv. The cliff-edge lines give a {OBJECTIVE}: value discounted at 3.5% a year (HM Treasury
Green Book) net of exit and disruption costs and of underwriting and unfunded-liability penalties.</dd>
<dt>Cliff-edge plan</dt><dd>For a scenario whose grant is confirmed late, the row takes the grant as known from the
start; the line under it plans for every grant outcome at once.</dd>
</dl>"""
    return page("VRU scenario reports", body)


# -- allocations.xlsx ----------------------------------------------------------------------------


def sheet_names(names: Sequence[str]) -> dict[str, str]:
    """Excel sheet names: at most 31 characters, unique (case-insensitively), never 'Summary' or 'Funding'."""
    used = {"summary", "funding"}
    out = {}
    for name in names:
        base = name[:31]
        candidate, k = base, 2
        while candidate.lower() in used:
            suffix = f"~{k}"
            candidate, k = base[: 31 - len(suffix)] + suffix, k + 1
        used.add(candidate.lower())
        out[name] = candidate
    return out


def _write_rows(ws: Any, start: int, header: Sequence[str], rows: Sequence[Sequence[Any]]) -> int:
    from openpyxl.styles import Font

    for c, text in enumerate(header, 1):
        ws.cell(start, c, text).font = Font(bold=True)
    for r, row in enumerate(rows, start + 1):
        for c, value in enumerate(row, 1):
            cell = ws.cell(r, c, value)
            if isinstance(value, str):
                cell.data_type = "s"  # text from scenario files is never a formula
    return start + len(rows) + 1


def _table_sheet(ws: Any, header: Sequence[str], rows: Sequence[Sequence[Any]], title: str) -> None:
    """A plain table: the header in row 1 (so pandas.read_excel reads it as is), frozen and filterable; the
    title goes in the printed page header."""
    _write_rows(ws, 1, header, rows)
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = ws.dimensions
    ws.oddHeader.center.text = title.replace("&", "&&")  # '&' starts a format code in Excel page headers


def _records(frame: Any) -> list[list[Any]]:
    """Rows of plain Python values (no NaN) for openpyxl."""
    return [[None if v != v else v for v in row] for row in frame.astype(object).values.tolist()]


def write_workbook(out_dir: Path, tasks: list[Task], outcomes: dict[str, Outcome]) -> None:
    """Finance's spreadsheet: a Summary sheet, a Funding sheet (spend by stream and year), then per scenario
    its allocation.csv (one row per intervention and month) as a table that pandas and Excel read as is."""
    import pandas as pd
    from openpyxl import Workbook

    wb = Workbook()
    summary_ws = wb.active
    summary_ws.title = "Summary"
    funding_ws = wb.create_sheet("Funding")
    names = sheet_names([t.name for t in tasks])
    summary_rows, funding_rows = [], []
    for t in tasks:
        folder = out_dir / t.name
        state = _state(outcomes[t.name])
        summary = read_summary(folder) if state == "ok" else None
        h = headline(summary) if summary else {}
        ws = wb.create_sheet(names[t.name])
        alloc = folder / "allocation.csv"
        planned = summary is not None and alloc.is_file() and h.get("value") is not None
        if planned:
            a = pd.read_csv(alloc, dtype={"period": str, "fy": str})
            _table_sheet(ws, list(a.columns), _records(a), t.title)
            f = pd.read_csv(folder / "funding.csv", dtype={"fy": str})
            if len(f):
                fs = f.groupby(["stream", "fy"], sort=True)["amount"].sum().round(2).reset_index()
                funding_rows += [[t.name, r.stream, r.fy, float(r.amount)] for r in fs.itertuples()]
            cliff = cliff_headline(read_cliff_edge(folder, summary))
            note = cliff_text(cliff) if cliff else ""
        else:
            _table_sheet(ws, ALLOCATION_COLUMNS, [], t.title)
            why = (summary or {}).get("explanation") or {}
            note = (f"No plan: {status_label(h['status']) if h else 'the report ' + state}. "
                    f"{why.get('text', '')}").strip()
        ws.column_dimensions["B"].width = 40
        summary_rows.append([t.name, t.title, names[t.name], state, h.get("status", ""), h.get("core_grant_total"),
                             h.get("value"), (summary or {}).get("objective") if planned else None,
                             h.get("participants"), h.get("services_closed"), h.get("exit_costs"),
                             h.get("lowest_commissioned_share"), h.get("unspent_core_grant"), note])
    _table_sheet(summary_ws, ["Scenario", "Title", "Sheet", "Report", "Plan status", "Core grant (GBP)",
                              "Social value, undiscounted (GBP)", f"Value net of costs, {OBJECTIVE} (GBP)",
                              "Participants", "Services closing", "Exit costs (GBP)", "Lowest commissioned share",
                              "Unspent core grant (GBP)", "Note"], summary_rows, "VRU scenario allocations: summary")
    summary_ws.column_dimensions["B"].width = 60
    _table_sheet(funding_ws, ["scenario", "stream", "fy", "amount"], funding_rows,
                 "VRU scenario allocations: spend by funding stream and financial year (GBP)")
    buf = io.BytesIO()
    wb.save(buf)
    atomic_write_bytes(out_dir / "allocations.xlsx", buf.getvalue())


# -- manifest.json -------------------------------------------------------------------------------


def read_manifest(out_dir: Path) -> dict[str, Any]:
    try:
        return json.loads((out_dir / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def write_manifest(report: BatchReport) -> None:
    """Every file of this batch with its SHA-256, each scenario's status, and the versions that made them."""
    from vru_model.results import versions

    out = report.out_dir
    files: dict[str, dict[str, Any]] = {}
    candidates = [out / f for f in ("index.html", "compare.html", "compare.ipynb", "allocations.xlsx")]
    for t in report.tasks:
        candidates += [out / t.name / f for f in (*SCENARIO_FILES, *CLIFF_EDGE_FILES, *FRONTIER_FILES, STAMP)]
    for path in candidates:
        if path.is_file():
            files[path.relative_to(out).as_posix()] = {"sha256": sha256_file(path), "bytes": path.stat().st_size}
    scenarios = {}
    for t in report.tasks:
        o = report.outcomes[t.name]
        folder = out / t.name
        summary = read_summary(folder) or {}
        stamp = read_stamp(folder)
        scenarios[t.name] = {"title": t.title, "report": _state(o), "rerun": o.state != "skipped",
                             "status": summary.get("status"), "error": o.error or stamp.get("error", ""),
                             "seconds": stamp.get("seconds"), "key": t.key, "scenario_file": t.scenario_path}
    compare = report.compare
    compare_entry = {"state": _state(compare), "key": report.compare_key, "error": compare.error}
    manifest = {
        "generated": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "versions": versions(),
        "code_hash": code_hash(),
        "exit_code": report.exit_code,
        "scenarios": scenarios,
        "compare": compare_entry,
        "files": files,
    }
    atomic_write_text(out / "manifest.json", json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")


def outcome_lines(report: BatchReport) -> list[str]:
    """One line per scenario for the terminal."""
    lines = []
    for t in report.tasks:
        o = report.outcomes[t.name]
        summary = read_summary(report.out_dir / t.name) or {}
        what = {"ok": "report ready", "skipped": "up to date", "failed": "REPORT FAILED",
                "timed_out": "REPORT TIMED OUT"}[o.state]
        extra = f" ({summary.get('status')})" if o.state in ("ok", "skipped") and summary else f": {o.error}"
        lines.append(f"{t.name}: {what}{extra}")
    return lines

