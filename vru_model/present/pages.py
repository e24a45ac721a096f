"""The partner-facing pages of a batch: every page's frame, the index, the glossary, and a notebook as a page.

Pages are Jinja2 templates (vru_model/present/templates/) with autoescaping on, so every value a template shows is
escaped unless it is marked as trusted HTML (markupsafe.Markup, what the report sections build). Text from
scenario files can therefore never become markup by forgetting a call.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from vru_model.core.text import money
from vru_model.present.glossary import TERMS, limit_weight_notes, link_terms
from vru_model.present.narrative import finding
from vru_model.present.summaries import (
    cliff_headline,
    cliff_text,
    closed_text,
    read_cliff_edge,
    record_headline,
    status_label,
)

ENV = Environment(loader=PackageLoader("vru_model.present", "templates"), autoescape=select_autoescape(default=True),
                  undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
GLOSSARY = "glossary.html"
FAILED = ("failed", "timed_out")
DONE = ("ok", "failed", "timed_out", "skipped")
PENDING = {  # a report's state while a batch runs or after it was stopped: (tag class, label, why)
    "queued": ("tag-skipped", "Waiting to run", ""),
    "running": ("tag-skipped", "Running now", ""),
    "stopped": ("tag-failed", "✗ Stopped", "the batch was stopped while this report ran"),
    "cancelled": ("tag-skipped", "Not run", "the batch was stopped before this report started"),
}
ALLOWED_TAGS = ["a", "abbr", "b", "blockquote", "br", "caption", "code", "dd", "details", "div", "dl", "dt", "em",
                "h1", "h2", "h3", "h4", "i", "li", "ol", "p", "pre", "span", "strong", "summary", "table", "tbody",
                "td", "tfoot", "th", "thead", "tr", "ul"]
ALLOWED_ATTRIBUTES = {"*": ["class", "id"], "a": ["href", "title"], "th": ["class", "scope"], "abbr": ["title"],
                      "td": ["class", "colspan"], "div": ["class", "id", "role", "aria-label", "tabindex"]}
DATA_FILES = (("allocation.csv", "allocation (CSV)"), ("funding.csv", "funding (CSV)"),
              ("summary.json", "summary (JSON)"), ("cliff_edge.json", "cliff-edge plan (JSON)"),
              ("report.ipynb", "report notebook"))


def now() -> str:
    return datetime.now(UTC).strftime("%d %B %Y, %H:%M UTC")


def page(title: str, body: str, *, home: str | None = None, generated: str | None = None,
         glossary: str | None = None, print_hint: bool = False) -> str:
    """A complete, accessible page around trusted body HTML; no script may run on it.

    The Content-Security-Policy forbids every script, so even text that escaped escaping could not run.
    """
    return ENV.get_template("page.html.j2").render(
        title=title, body=Markup(body), home=home, glossary=glossary, generated=generated or now(),
        print_hint=print_hint)


def glossary_page() -> str:
    """outputs/glossary.html: every term the reports use, in plain English (the entries the pages link to)."""
    return ENV.get_template("glossary.html.j2").render(
        title="Glossary: the words the VRU scenario reports use", terms=TERMS, home="index.html", glossary=None,
        generated=now(), print_hint=False)


def notebook_html(nb: Any, title: str, home: str | None, glossary: str | None = None) -> str:
    """The notebook as a partner's page: no code cells or prompts, outputs sanitised, terms linked to the glossary,
    inside `page`, with the print stylesheet that makes it a board paper."""
    from nbconvert import HTMLExporter
    from nbconvert.preprocessors.sanitize import SanitizeHTML

    exporter = HTMLExporter(template_name="basic", exclude_input=True, exclude_input_prompt=True,
                            exclude_output_prompt=True, anchor_link_text="")
    exporter.register_preprocessor(SanitizeHTML(tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES, strip=False),
                                   enabled=True)
    body, _ = exporter.from_notebook_node(nb)
    body = limit_weight_notes(fold_sections(body))
    if glossary:
        body = link_terms(body, glossary)
    return page(title, body, home=home, glossary=glossary, print_hint=True)


_CELL = re.compile(r'(?=<div class="(?:cell|jp-Cell)\b)')
_FOLD = re.compile(r'<h2 class="fold">(.*?)</h2>', re.S)


def fold_sections(body: str) -> str:
    """Fold each notebook cell whose output opens with `<h2 class="fold">` (`fragments.fold`) into a <details>
    whose summary is that heading, so the page shows the finding, what to do and the spending first and the rest
    one line each until opened (the board paper prints them open: `write_pdfs`)."""
    parts = _CELL.split(body)
    for k, cell in enumerate(parts):
        m = _FOLD.search(cell)
        if m:
            parts[k] = (f'<details class="fold"><summary><h2>{m.group(1)}</h2></summary>'
                        + cell[:m.start()] + cell[m.end():] + "</details>\n")
    return "".join(parts)


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def index_page(out_dir: Path, tasks: Sequence[Any], outcomes: dict[str, Any], compare: Any, *,
               state: str = "complete", started: str = "") -> str:
    """outputs/index.html: each scenario's finding in one line, its headline figures, and (for analysts, out of
    the way) its data files. `tasks` are batch.Task, `outcomes` batch.Outcome by scenario name. While the batch
    runs (state "running") or after it was stopped ("stopped") the page says so, and which files are an earlier
    run's."""
    base_task = next((t for t in tasks if t.name == "baseline"), None)
    baseline = _read_json(out_dir / "baseline" / "summary.json") if base_task else None
    rows, failed = [], 0
    for t in tasks:
        folder, o = out_dir / t.name, outcomes[t.name]
        report_state = "ok" if o.state == "skipped" else o.state
        summary = _read_json(folder / "summary.json") if report_state == "ok" else None
        cliff = read_cliff_edge(folder, summary) if summary else None
        h = record_headline(summary, cliff) if summary else None
        row: dict[str, Any] = {
            "title": (summary or {}).get("title", t.title),
            "href": f"{t.name}/report.html" if (folder / "report.html").is_file() else "",
            "skipped": o.state == "skipped", "failed": "", "error": "", "line": "", "pending": None,
            "status": status_label(h["status"]) if h else "", "cliff": ""}
        if report_state in FAILED:
            failed += 1
            row["failed"] = "timed out" if report_state == "timed_out" else "failed"
            row["error"] = o.error or (_read_json(folder / "stamp.json") or {}).get("error", "")
        elif report_state in PENDING:
            tag, what, why = PENDING[report_state]
            earlier = "files from an earlier run" if (folder / "stamp.json").is_file() else "no files yet"
            row["pending"] = {"tag": tag, "what": what, "why": "; ".join(filter(None, [why, earlier]))}
        elif summary:
            row["line"] = finding(summary, baseline if t.name != "baseline" else None, cliff).line
            c = cliff_headline(cliff)
            row["cliff"] = cliff_text(c) if c else ""
        row["cells"] = [_cell(h, key) for key in ("core_grant_total", "value", "services_closed",
                                                  "lowest_commissioned_share", "unspent_core_grant")]
        row["files"] = [{"href": f"{t.name}/{f}", "label": label} for f, label in DATA_FILES
                        if (folder / f).is_file()]
        rows.append(row)
    n = len(tasks)
    lead = f"{n} scenario{'s' if n != 1 else ''} in this batch."
    if failed:
        lead += f" {failed} report{'s' if failed != 1 else ''} failed: see the rows marked ✗."
    if state == "running":
        done = sum(o.state in DONE for o in outcomes.values())
        lead += (f" A batch started at {started} is writing these reports ({done} of {n} done so far); this page "
                 "is rewritten as each one is ready. If that batch is no longer running, it stopped before it "
                 "finished: run vru batch again to finish and repair this page.")
    elif state == "stopped":
        stopped = sum(o.state == "stopped" for o in outcomes.values())
        cancelled = sum(o.state == "cancelled" for o in outcomes.values())
        lead += (f" The batch started at {started} was stopped before it finished: {stopped} report"
                 f"{'s' if stopped != 1 else ''} stopped while running, {cancelled} not run. Run vru batch again "
                 "to finish.")
    elif not failed:
        lead += " Every report ran."
    compare_state = ("failed" if compare.state in FAILED else
                     compare.state if compare.state in ("queued", "running", "cancelled") else "ok")
    header = [{"text": text, "num": 2 <= k <= 6} for k, text in enumerate(
        ["Scenario", "Status", "Core grant over the plan", "Social value (see below)", "Services closing",
         "Lowest commissioned share", "Core grant left unspent"])]
    return link_terms(ENV.get_template("index.html.j2").render(
        title="VRU scenario reports", home=None, glossary=GLOSSARY, generated=now(), print_hint=False, lead=lead,
        rows=rows, header=header, compare_state=compare_state, compare_error=compare.error,
        sheet_pending=state != "complete"), GLOSSARY)


def _cell(h: dict[str, Any] | None, key: str) -> str:
    value = h.get(key) if h else None
    if value is None:
        return "–"
    if key == "services_closed":
        return closed_text(h)  # type: ignore[arg-type]
    if key == "lowest_commissioned_share":
        return f"{value:.0%}"
    return money(value) + (" expected" if h.get("expected") else "")  # type: ignore[union-attr]



# -- the board paper: each report printed to PDF by a headless Chromium --------------------------------------

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def find_browser() -> str | None:
    """A Chromium to print with (Debian's `chromium` first), or None."""
    return next((path for name in BROWSERS if (path := shutil.which(name))), None)


def print_pdf(html: Path, pdf: Path, browser: str, timeout: float = 120.0) -> None:
    """Print one page to PDF with the page's own print stylesheet (A4, page numbers), atomically.

    Raises subprocess.CalledProcessError or TimeoutExpired, or RuntimeError when Chromium wrote nothing."""
    partial = pdf.with_name(f".{pdf.stem}-{uuid.uuid4().hex}.pdf")
    args = [browser, "--headless", "--disable-gpu", "--no-pdf-header-footer", "--disable-background-networking",
            "--disable-component-update", "--no-first-run", f"--print-to-pdf={partial}", html.resolve().as_uri()]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        args.insert(1, "--no-sandbox")  # Chromium refuses to run as root with its sandbox
    try:
        subprocess.run(args, check=True, capture_output=True, timeout=timeout)
        if not partial.is_file() or partial.stat().st_size == 0:
            raise RuntimeError(f"{browser} wrote no PDF for {html}")
        os.replace(partial, pdf)
    finally:
        partial.unlink(missing_ok=True)


def write_pdfs(out_dir: Path, names: Sequence[str], browser: str | None = None) -> tuple[list[Path], list[str]]:
    """report.pdf beside each named scenario's report.html (skipped when the PDF is newer than the page).
    Returns (PDFs written or up to date, one line per problem); with no Chromium, no PDFs and one problem."""
    browser = browser or find_browser()
    if browser is None:
        return [], ["no Chromium found (install Debian's chromium), so no PDFs were written"]
    done, problems = [], []
    for name in names:
        html, pdf = out_dir / name / "report.html", out_dir / name / "report.pdf"
        if not html.is_file():
            continue
        if pdf.is_file() and pdf.stat().st_mtime_ns >= html.stat().st_mtime_ns:
            done.append(pdf)
            continue
        opened = html.with_name(f".{html.stem}-print-{uuid.uuid4().hex}.html")
        try:
            opened.write_text(open_folds(html.read_text(encoding="utf-8")), encoding="utf-8")
            print_pdf(opened, pdf, browser)
            done.append(pdf)
        except (OSError, RuntimeError, subprocess.SubprocessError) as exc:
            problems.append(f"{name}: the PDF could not be printed ({type(exc).__name__})")
        finally:
            opened.unlink(missing_ok=True)
    return done, problems


def open_folds(html: str) -> str:
    """The page with every fold open: the board paper prints the whole report, not its first sight."""
    return re.sub(r"<details(?![^>]*\bopen\b)", "<details open", html)
