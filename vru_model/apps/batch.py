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
import json
import os
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future
from concurrent.futures import wait as wait_for
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any

from vru_model import __version__
from vru_model.core.errors import OutputError, Problem, ScenarioError
from vru_model.core.files import atomic_write_bytes, atomic_write_text, check_output_dir, plain_os_error
from vru_model.core.pools import KERNELS, executor, local_pool
from vru_model.present.pages import DONE, GLOSSARY, glossary_page, index_page, notebook_html
from vru_model.present.workbook import Entry, write_workbook
from vru_model.scenario.load import dump_yaml, load_scenario, read_yaml, scenario_to_dict

ROOT = Path(__file__).resolve().parents[2]
REPORT_NOTEBOOK = ROOT / "notebooks" / "scenario_report.ipynb"
COMPARE_NOTEBOOK = ROOT / "notebooks" / "compare_scenarios.ipynb"
SCENARIO_FILES = ("resolved.yaml", "allocation.csv", "funding.csv", "summary.json", "report.ipynb", "report.html")
CLIFF_EDGE_FILES = ("cliff_edge.json", "plan.csv", "plan_funding.csv")  # written only when the grant is uncertain
FRONTIER_FILES = ("frontier.csv", "breakpoints.csv", "frontier.json")  # the baseline's, written by the comparison
STAMP = "stamp.json"
FAILED = ("failed", "timed_out")
SINGLE_THREAD_ENV = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "MPLBACKEND": "Agg"}


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
    state: str  # ok | failed | timed_out | skipped (up to date); queued | running while the batch runs;
    # stopped (running when Ctrl-C came) | cancelled (never started)
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
    package = ROOT / "vru_model"
    for path in sorted(package.rglob("*.py")):
        h.update(path.relative_to(package).as_posix().encode() + b"\0" + path.read_bytes())
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
    default IPC path is `kernel-ipc` in the working directory, which parallel kernels would share. Each
    kernel's pid is kept while it runs, so that a worker told to stop can shut its kernel down first.
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

        async def _async_launch_kernel(self, kernel_cmd: list[str], **kw: Any) -> None:
            await super()._async_launch_kernel(kernel_cmd, **kw)
            pid = getattr(self.provisioner, "pid", None)
            if pid:
                KERNELS.add(pid)

    return IPCKernelManager


def execute(notebook: Path, output: Path, parameters: dict[str, Any], timeout: float,
            cwd: Path | None = None) -> tuple[str, str]:
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
            kernel_manager_class=_ipc_kernel_manager(), cwd=str(cwd) if cwd else None,
            timeout=int(timeout) + 1,  # for the cells' surroundings (kernel info) as well
            timeout_func=lambda cell: max(1, int(deadline - time.monotonic())),
            interrupt_on_timeout=False, shutdown_kernel="immediate",
        )
    except (CellTimeoutError, TimeoutError):
        _mark_timeout(output, message)
        return "timed_out", f"TimeoutError: {message}"
    except PapermillExecutionError as exc:
        return "failed", f"{exc.ename}: {exc.evalue}".strip()
    except OSError as exc:
        return "failed", f"{type(exc).__name__}: {plain_os_error(exc)}"
    except Exception as exc:  # kernel died, bad notebook, ...: report it, keep the batch going
        return "failed", f"{type(exc).__name__}: {exc}".strip()
    finally:
        KERNELS.clear()  # papermill has shut them down: their pids may be reused from here on
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
        try:
            nb = nbformat.read(partial, as_version=4)
        except Exception:  # half-written (a full disk, a killed kernel): keep the input instead
            nb = None
        if nb is not None:
            os.replace(partial, target)
            return nb
    nb = nbformat.read(source, as_version=4)
    nb.cells.insert(0, nbformat.v4.new_markdown_cell(f"**The report could not run:** `{error}`"))
    atomic_write_text(target, nbformat.writes(nb))
    return nb


@dataclass(frozen=True)
class Job:
    """One report as it travels to a worker: text only, so that a worker on another machine, which cannot see
    the client's disk or checkout, renders it; the rendered files travel back and the client writes them."""

    name: str
    title: str
    scenario_file: str  # the file's name only, for messages
    scenario_text: str  # the resolved scenario (no `extends:`)
    baseline_name: str
    baseline_text: str  # the resolved baseline to compare with, "" for none
    baseline_summary: str  # the baseline's summary.json when the client has a current one, else ""
    notebook_text: str
    timeout: float
    threads: int = 1
    samples: int = 0


@dataclass(frozen=True)
class Rendered:
    """A worker's answer: the report's state and every file of OUT/<name>/ as bytes (relative path -> bytes)."""

    name: str
    state: str
    error: str
    seconds: float
    files: dict[str, bytes]


def job_for(task: Task) -> Job:
    """Read what the worker needs on the client: the resolved scenario, the baseline and the notebook."""
    resolved = dump_yaml(scenario_to_dict(load_scenario(task.scenario_path)))
    base_name = base_text = base_summary = ""
    if task.baseline_path:
        base = load_scenario(task.baseline_path)
        base_name, base_text = base.name, dump_yaml(scenario_to_dict(base))
        written = Path(task.out_dir) / base.name / "summary.json"
        if read_stamp(written.parent).get("state") == "ok" and written.is_file():
            base_summary = written.read_text(encoding="utf-8")  # the worker checks that it is current
    return Job(task.name, task.title, Path(task.scenario_path).name, resolved, base_name, base_text, base_summary,
               Path(task.notebook).read_text(encoding="utf-8"), task.timeout, task.threads, task.samples)


def render(job: Job) -> Rendered:
    """Run one report in a private temporary folder (also the kernel's working directory) and return its files.

    Takes no paths and writes nothing the client can see: what it needs comes in the job, what it makes goes
    back in the answer, and the folder is gone when it returns."""
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="vru-report-") as tmp:
        work = Path(tmp)
        scenario = work / "scenario" / job.scenario_file
        scenario.parent.mkdir()
        scenario.write_text(job.scenario_text, encoding="utf-8")
        out = work / "out"
        baseline = ""
        if job.baseline_text:
            baseline = str(work / "compare_with" / "baseline.yaml")
            Path(baseline).parent.mkdir()
            Path(baseline).write_text(job.baseline_text, encoding="utf-8")
            if job.baseline_summary:
                atomic_write_text(out / job.baseline_name / "summary.json", job.baseline_summary)
        source = work / "notebook.ipynb"
        source.write_text(job.notebook_text, encoding="utf-8")
        folder = out / job.name
        folder.mkdir(parents=True, exist_ok=True)
        params = {"scenario_path": str(scenario), "overrides": {}, "output_dir": str(out),
                  "baseline_path": baseline, "threads": job.threads, "samples": job.samples}
        state, error = execute(source, work / "executed.ipynb", params, job.timeout, cwd=work)
        nb = _keep_notebook(work / "executed.ipynb", folder / "report.ipynb", source, error)
        title = (read_summary(folder) or {}).get("title", job.title)
        atomic_write_text(folder / "report.html", notebook_html(nb, f"Scenario report: {title}", "../index.html",
                                                                     f"../{GLOSSARY}"))
        files = {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*"))
                 if p.is_file() and not p.name.startswith(".")}
    return Rendered(job.name, state, error, round(time.monotonic() - started, 2), files)


# -- publishing on the client: whole folders, swapped in with renames ----------------------------

MANAGED = frozenset((*SCENARIO_FILES, *CLIFF_EDGE_FILES, STAMP, "report.pdf", "robustness"))  # what a report
# run replaces in OUT/<name>/ (a PDF printed from an older report goes with it)
PARTIAL, OLD = ".partial", ".old"  # suffixes of hidden sibling folders while a report is being swapped in


def publish(out_dir: Path, rendered: Rendered, key: str) -> None:
    """Write a report into a hidden sibling folder, then rename it to OUT/<name>/: a reader (or a crash) sees
    the old report or the new one, never a mix. Files the batch does not make (the comparison's frontier, a
    user's own) are carried over from the old folder."""
    target = out_dir / rendered.name
    tag = uuid.uuid4().hex[:12]
    stage, old = out_dir / f".{rendered.name}.{tag}{PARTIAL}", out_dir / f".{rendered.name}.{tag}{OLD}"
    stamp = {"key": key, "state": rendered.state, "error": rendered.error, "seconds": rendered.seconds}
    try:
        for rel, data in rendered.files.items():
            parts = PurePosixPath(rel).parts
            if not parts or parts[0] == "/" or ".." in parts:
                raise ValueError(f"a worker returned a file outside its folder: {rel!r}")
            atomic_write_bytes(stage.joinpath(*parts), data)
        atomic_write_text(stage / STAMP, json.dumps(stamp, indent=2) + "\n")
        os.chmod(stage, 0o755)
        if target.exists():
            os.rename(target, old)
        os.rename(stage, target)
    except BaseException:
        if old.exists() and not target.exists():
            os.rename(old, target)
        shutil.rmtree(stage, ignore_errors=True)
        raise
    _retire(old, target)


def _retire(old: Path, target: Path) -> None:
    """Move what the batch does not make from a replaced folder into its successor, then delete the rest."""
    if not old.is_dir():
        return
    for entry in old.iterdir():
        if entry.name not in MANAGED and not (target / entry.name).exists():
            os.rename(entry, target / entry.name)
    shutil.rmtree(old)


def recover(out_dir: Path) -> int:
    """Undo what a batch that died mid-run left behind (called under the lock): half-staged folders go,
    a folder caught between its two renames comes back, hidden partial files go. Returns how many."""
    fixed = 0
    for entry in sorted(out_dir.glob(".*")):
        if entry.is_dir() and entry.name.endswith(PARTIAL):
            shutil.rmtree(entry)
        elif entry.is_dir() and entry.name.endswith(OLD):
            target = out_dir / entry.name[1:].rsplit(".", 2)[0]
            if target.exists():
                _retire(entry, target)
            else:
                os.rename(entry, target)
        elif entry.is_file() and (entry.name.startswith((".compare-", ".report-", ".vru-probe-"))
                                  or entry.name.endswith(".tmp")):
            entry.unlink()
        else:
            continue
        fixed += 1
    for entry in out_dir.glob("*/.*"):
        if entry.is_file() and (entry.name.startswith(".report-") or entry.name.endswith(".tmp")):
            entry.unlink()
            fixed += 1
    return fixed


def run_one(task: Task) -> Outcome:
    """Render one scenario's report and publish it into OUT/<name>/ (the local path, without a pool)."""
    rendered = render(job_for(task))
    publish(Path(task.out_dir), rendered, task.key)
    return Outcome(task.name, rendered.state, rendered.seconds, rendered.error)


# -- one batch per output folder -----------------------------------------------------------------

LOCK = ".vru-batch.lock"


def _read_lock(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text(encoding="utf-8") or "{}")
    except (OSError, ValueError):
        return {}


@contextmanager
def batch_lock(out_dir: Path, *, wait: bool, say: Callable[[str], None]) -> Iterator[None]:
    """Hold OUT/.vru-batch.lock (an flock, so the system releases it when its holder dies, however it dies).

    Another batch into the same folder is refused with who holds it, or waits with `wait`. A lock file left
    by a batch that died is taken over with a message. The file is removed on release; a waiter that then
    holds the removed file's lock notices and locks the new one."""
    import fcntl
    import socket

    path = out_dir / LOCK
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_lock(path)
            who = f"pid {holder.get('pid', '?')} on {holder.get('host', '?')}, started {holder.get('started', '?')}"
            if not wait:
                os.close(fd)
                raise OutputError(f"another batch is writing to {out_dir} ({who}); wait for it to finish, or run "
                                  "again with --wait") from None
            say(f"waiting for the batch already writing to {out_dir} ({who}) to finish")
            fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            current = os.fstat(fd).st_ino == os.stat(path).st_ino
        except FileNotFoundError:
            current = False
        if current:
            break
        os.close(fd)
    try:
        previous = _read_lock(path)
        if previous.get("pid"):
            say(f"a batch into {out_dir} (pid {previous['pid']} on {previous.get('host', '?')}, started "
                f"{previous.get('started', '?')}) stopped without finishing; taking over its lock")
        me = {"pid": os.getpid(), "host": socket.gethostname(), "started": _now()}
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(me).encode(), 0)
        yield
    finally:
        Path(path).unlink(missing_ok=True)
        os.close(fd)


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class _CtrlC:
    """The batch's Ctrl-C: the handler only records it, and the batch raises KeyboardInterrupt at points of its
    own choosing, between steps (`check`). A handler that raised would do so wherever the main thread happened
    to be: inside a finalizer, where CPython prints the exception and drops it (the batch went on running), or
    inside the process pool's own bookkeeping. The batch never waits without looking every quarter second
    (`_wait`), and a Ctrl-C that comes while a step is `held` (publishing a report, writing the index) takes
    effect when the step ends."""

    def __init__(self) -> None:
        self.pending = False
        self.held = 0

    def on_signal(self, signum: int, frame: Any) -> None:
        if self.pending and not self.held:  # a second Ctrl-C before the first was acted on (e.g. the pool
            raise KeyboardInterrupt         # hangs while shutting down): break out of whatever holds it
        self.pending = True

    def check(self) -> None:
        if self.pending and not self.held:
            raise KeyboardInterrupt


_CTRL_C = _CtrlC()
POLL_SECONDS = 0.25


@contextmanager
def _ctrl_c_stops_the_batch() -> Iterator[None]:
    """Install the batch's Ctrl-C handler while it holds its output folder (main thread only; a caller that set
    SIGINT to be ignored, as a shell does for a background job, keeps it ignored). Waiting for the folder's
    lock is left to Python's own handler, which interrupts the wait."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread() or signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        yield
        return
    mask = None
    if hasattr(signal, "pthread_sigmask"):  # a mask inherited from the caller must not hide it
        mask = signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    _CTRL_C.pending = False
    previous = signal.signal(signal.SIGINT, _CTRL_C.on_signal)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        _CTRL_C.pending = False
        if mask is not None:
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)


@contextmanager
def _deferred_interrupt(last: bool = False) -> Iterator[None]:
    """Let a short step (publishing a report, writing the index) finish before Ctrl-C takes effect. After the
    `last` step, when everything is written, a Ctrl-C has nothing left to stop and is dropped."""
    _CTRL_C.held += 1
    try:
        yield
    finally:
        _CTRL_C.held -= 1
    if last:
        _CTRL_C.pending = False
    _CTRL_C.check()


def _wait(futures: Any) -> set[Future[Any]]:
    """The futures of `futures` that are done, once at least one is; a Ctrl-C stops the wait within
    POLL_SECONDS."""
    while True:
        done, _ = wait_for(futures, timeout=POLL_SECONDS, return_when=FIRST_COMPLETED)
        _CTRL_C.check()
        if done:
            return done


# -- the batch -----------------------------------------------------------------------------------



@dataclass
class BatchReport:
    out_dir: Path
    tasks: list[Task]
    outcomes: dict[str, Outcome]
    compare: Outcome
    compare_key: str
    state: str = "complete"  # running | complete | stopped
    started: str = ""

    @property
    def failed(self) -> list[str]:
        return [n for n, o in self.outcomes.items() if o.state in FAILED] + (
            ["(comparison)"] if self.compare.state in FAILED else [])

    @property
    def exit_code(self) -> int | None:
        return {"running": None, "stopped": 130}.get(self.state, 1 if self.failed else 0)


def _show(report: BatchReport) -> None:
    """Make the index and the manifest say what is on disk now (each written atomically)."""
    with _deferred_interrupt():
        atomic_write_text(report.out_dir / GLOSSARY, glossary_page())
        atomic_write_text(report.out_dir / "index.html", index_page(
            report.out_dir, report.tasks, report.outcomes, report.compare, state=report.state,
            started=report.started))
        write_manifest(report)


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
    wait: bool = False,
    say: Callable[[str], None] = lambda text: print(text, file=sys.stderr),
) -> BatchReport:
    """Plan (validating everything first), check the output folder, take its lock, run what is out of date
    (the index saying so while it runs), then write the batch-level outputs. Ctrl-C stops the reports that
    run, starts no other, and returns a report in state "stopped" whose index says which were stopped; any
    other error leaves the same marks before it is raised."""
    tasks = plan(discover(paths), out_dir, notebook=notebook, timeout=timeout, samples=samples)
    check_output_dir(out_dir)
    with batch_lock(out_dir, wait=wait, say=say), _ctrl_c_stops_the_batch():
        previous = read_manifest(out_dir)
        if previous.get("state") == "running":
            say(f"the batch into {out_dir} started {previous.get('started', '?')} did not finish; its index and "
                "manifest are repaired by this run")
        recover(out_dir)
        todo = [t for t in tasks if force or not up_to_date(t)]
        outcomes = {t.name: Outcome(t.name, "queued" if t in todo else "skipped", 0.0) for t in tasks}
        compare_key = hashlib.sha256(json.dumps([[t.name, t.key] for t in tasks] + [sha256_file(COMPARE_NOTEBOOK)]
                                                ).encode()).hexdigest()
        report = BatchReport(out_dir, tasks, outcomes, Outcome("compare", "queued", 0.0), compare_key, "running",
                             _now())
        try:
            _show(report)
            _run_reports(report, todo, workers, scheduler, progress)
            report.compare = run_compare(out_dir, tasks, timeout, compare_key, previous.get("compare", {}),
                                         force=force or bool(todo))
        except BaseException as exc:  # Ctrl-C above all, but also a disk that fills up or a lost cluster
            _CTRL_C.pending = False  # this Ctrl-C is handled here; a second one is raised once the marks are left
            with _deferred_interrupt():  # a second Ctrl-C must not cut this short
                report.outcomes = {n: Outcome(n, {"running": "stopped", "queued": "cancelled"}.get(o.state, o.state),
                                              o.seconds, o.error) for n, o in report.outcomes.items()}
                if report.compare.state in ("queued", "running"):
                    report.compare = Outcome("compare", "cancelled", 0.0)
                report.state = "stopped"
                recover(out_dir)  # what a stopped worker was writing (the comparison's partial notebook)
                _show(report)
            if isinstance(exc, KeyboardInterrupt):
                return report
            raise
        with _deferred_interrupt(last=True):
            write_workbook(out_dir, [Entry(t.name, t.title, _state(report.outcomes[t.name])) for t in tasks])
            report.state = "complete"
            _show(report)
    return report


def _run_reports(report: BatchReport, todo: list[Task], workers: int, scheduler: str | Any | None,
                 progress: bool) -> None:
    """Feed the pool no more reports than it runs at once (so nothing waits in it to be cancelled), publish
    each as it comes back, and keep the index in step."""
    from tqdm import tqdm

    tasks, outcomes = report.tasks, report.outcomes
    queue = list(todo)
    with tqdm(total=len(tasks), initial=len(tasks) - len(todo), desc="scenario reports", unit="report",
              disable=not progress, file=sys.stderr) as bar:
        if not queue:
            return
        with executor(workers, scheduler) as (pool, capacity):
            running: dict[Future[Rendered], Task] = {}
            while queue or running:
                while queue and len(running) < capacity:
                    task = queue.pop(0)
                    running[pool.submit(render, job_for(task))] = task
                    outcomes[task.name] = Outcome(task.name, "running", 0.0)
                    _show(report)
                done = _wait(running)
                for future in done:
                    task = running.pop(future)
                    try:
                        rendered = future.result()
                    except Exception as exc:  # the worker itself failed (not the notebook)
                        rendered = Rendered(task.name, "failed", f"{type(exc).__name__}: {exc}", 0.0, {})
                    with _deferred_interrupt():
                        publish(Path(task.out_dir), rendered, task.key)
                        outcomes[task.name] = Outcome(task.name, rendered.state, rendered.seconds, rendered.error)
                    _show(report)
                    bar.set_postfix_str(f"{task.name}: {rendered.state}")
                    bar.update()


def _compare(out_dir: str, names: list[str], baseline_path: str, timeout: float) -> tuple[str, str]:
    """The comparison notebook, run in a local worker (it reads every report in OUT and writes beside them)."""
    out = Path(out_dir)
    partial = out / f".compare-{uuid.uuid4().hex}.ipynb"
    try:
        params = {"output_dir": out_dir, "scenarios": names, "baseline_path": baseline_path}
        state, error = execute(COMPARE_NOTEBOOK, partial, params, timeout)
        nb = _keep_notebook(partial, out / "compare.ipynb", COMPARE_NOTEBOOK, error)
        atomic_write_text(out / "compare.html", notebook_html(nb, "Scenario comparison", "index.html", GLOSSARY))
    finally:
        partial.unlink(missing_ok=True)
    return state, error


def run_compare(out_dir: Path, tasks: list[Task], timeout: float, key: str, previous: dict[str, Any], *,
                force: bool) -> Outcome:
    """The comparison report across the batch, re-run only when a scenario or the notebook changed. `previous` is
    the comparison's entry in the manifest as the last batch left it (read before this batch marks it queued:
    read afterwards it never said "ok", and an up-to-date batch re-ran the comparison every time)."""
    if not force and previous.get("key") == key and previous.get("state") == "ok" and (
            out_dir / "compare.html").is_file():
        return Outcome("compare", "skipped", 0.0)
    started = time.monotonic()
    baseline = next((t for t in tasks if t.name == "baseline"), None)
    if baseline is not None:  # a failed comparison must not leave an older run's frontier looking current
        for stale in FRONTIER_FILES:
            (out_dir / baseline.name / stale).unlink(missing_ok=True)
    with local_pool(1) as (pool, _):
        future = pool.submit(_compare, str(out_dir.resolve()), [t.name for t in tasks],
                             baseline.scenario_path if baseline else "", timeout)
        state, error = _wait([future]).pop().result()
    return Outcome("compare", state, round(time.monotonic() - started, 2), error)


def read_summary(folder: Path) -> dict[str, Any] | None:
    try:
        return json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _state(outcome: Outcome) -> str:
    """A skipped scenario is up to date, so its last run was ok."""
    return "ok" if outcome.state == "skipped" else outcome.state


# -- manifest.json -------------------------------------------------------------------------------


def read_manifest(out_dir: Path) -> dict[str, Any]:
    try:
        return json.loads((out_dir / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def write_manifest(report: BatchReport) -> None:
    """Every file of this batch on disk now with its SHA-256, each scenario's status, the versions that made
    them, and the batch's own state: "running" (not a claim that anything is complete), "complete" or
    "stopped"; `exit_code` is null while it runs."""
    from vru_model.analysis.results import versions

    out = report.out_dir
    files: dict[str, dict[str, Any]] = {}
    candidates = [out / f for f in ("index.html", GLOSSARY, "compare.html", "compare.ipynb", "allocations.xlsx")]
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
                             "status": summary.get("status") if o.state in DONE else None,
                             "error": o.error or stamp.get("error", ""),
                             "seconds": stamp.get("seconds"), "key": t.key, "scenario_file": t.scenario_path}
    compare = report.compare
    compare_entry = {"state": _state(compare), "key": report.compare_key, "error": compare.error}
    manifest = {
        "generated": _now(),
        "state": report.state,
        "started": report.started,
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
                "timed_out": "REPORT TIMED OUT", "stopped": "STOPPED", "cancelled": "not run",
                "queued": "not run", "running": "STOPPED"}[o.state]
        extra = (f" ({summary.get('status')})" if o.state in ("ok", "skipped") and summary else
                 f": {o.error}" if o.error else "")
        lines.append(f"{t.name}: {what}{extra}")
    return lines

