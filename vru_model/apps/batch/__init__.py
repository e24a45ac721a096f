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

planning.py finds the scenarios and what is up to date; worker.py runs one report; folders.py swaps a report
into OUT/<name>/; lock.py keeps to one batch per folder; ctrl_c.py stops a batch between steps; publishing.py
writes the index, the manifest and the comparison; run.py is the batch itself.
"""

from vru_model.apps.batch.folders import publish, recover
from vru_model.apps.batch.lock import batch_lock
from vru_model.apps.batch.planning import (
    CLIFF_EDGE_FILES,
    COMPARE_NOTEBOOK,
    FRONTIER_FILES,
    REPORT_NOTEBOOK,
    SCENARIO_FILES,
    Outcome,
    Task,
    code_hash,
    discover,
    is_template,
    plan,
    up_to_date,
)
from vru_model.apps.batch.publishing import BatchReport, outcome_lines, run_compare
from vru_model.apps.batch.run import run_batch, run_one
from vru_model.apps.batch.worker import Job, Rendered, execute, job_for, render

__all__ = [
    "CLIFF_EDGE_FILES",
    "COMPARE_NOTEBOOK",
    "FRONTIER_FILES",
    "REPORT_NOTEBOOK",
    "SCENARIO_FILES",
    "BatchReport",
    "Job",
    "Outcome",
    "Rendered",
    "Task",
    "batch_lock",
    "code_hash",
    "discover",
    "execute",
    "is_template",
    "job_for",
    "outcome_lines",
    "plan",
    "publish",
    "recover",
    "render",
    "run_batch",
    "run_compare",
    "run_one",
    "up_to_date",
]
