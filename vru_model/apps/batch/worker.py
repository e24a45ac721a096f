"""Running one report in a worker: papermill over a kernel reached by IPC, in a private folder, with only text
going in (`Job`) and only bytes coming back (`Rendered`), so that a worker on another machine can do it."""

from __future__ import annotations

import os
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vru_model.apps.batch.planning import Task, read_stamp, read_summary
from vru_model.core.files import atomic_write_text, plain_os_error
from vru_model.core.pools import KERNELS
from vru_model.present.pages import GLOSSARY, notebook_html
from vru_model.scenario.load import dump_yaml, load_scenario, scenario_to_dict

SINGLE_THREAD_ENV = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "MPLBACKEND": "Agg"}


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


def keep_notebook(partial: Path, target: Path, source: Path, error: str) -> Any:
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
    ranges: str = "none"


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
               Path(task.notebook).read_text(encoding="utf-8"), task.timeout, task.threads, task.samples,
               task.ranges)


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
                  "baseline_path": baseline, "threads": job.threads, "samples": job.samples,
                  "ranges": job.ranges}
        state, error = execute(source, work / "executed.ipynb", params, job.timeout, cwd=work)
        nb = keep_notebook(work / "executed.ipynb", folder / "report.ipynb", source, error)
        title = (read_summary(folder) or {}).get("title", job.title)
        atomic_write_text(folder / "report.html", notebook_html(nb, f"Scenario report: {title}", "../index.html",
                                                                     f"../{GLOSSARY}"))
        files = {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*"))
                 if p.is_file() and not p.name.startswith(".")}
    return Rendered(job.name, state, error, round(time.monotonic() - started, 2), files)

