"""The scenario report and the comparison report, as pieces a notebook displays in order.

Notebooks stay thin: each section of `notebooks/scenario_report.ipynb` is one call here. Every section returns HTML
fragments and charts; all text that comes from a scenario file (titles, descriptions, sources, explanations) is
HTML-escaped before it reaches any page. Each report (`scenario`, `comparison`) and each longer section
(`plan_changes`, `cliff`, `frontier`, `robustness`) has its own module, built of `fragments`; `runs` solves and
writes the files they show, apart from the pages. The names below are the public face, for notebooks and the apps.
"""

from vru_model.present.reports.cliff import _state_text as _state_text  # a cell the analysis tests check
from vru_model.present.reports.cliff import describe_cliff_edge
from vru_model.present.reports.comparison import Comparison
from vru_model.present.reports.fragments import Html, show, table
from vru_model.present.reports.frontier import frontier_section
from vru_model.present.reports.names import Names
from vru_model.present.reports.robustness import robustness_section
from vru_model.present.reports.runs import run_frontier, run_robustness
from vru_model.present.reports.scenario import ScenarioReport
from vru_model.present.reports.scenario import _objective_cell as _objective_cell  # a cell the analysis tests check
from vru_model.present.summaries import (
    OBJECTIVE,
    cliff_headline,
    cliff_rows,
    cliff_text,
    headline,
    read_cliff_edge,
    status_label,
)

__all__ = [
    "OBJECTIVE",
    "Comparison",
    "Html",
    "Names",
    "ScenarioReport",
    "cliff_headline",
    "cliff_rows",
    "cliff_text",
    "describe_cliff_edge",
    "frontier_section",
    "headline",
    "read_cliff_edge",
    "robustness_section",
    "run_frontier",
    "run_robustness",
    "show",
    "status_label",
    "table",
]
