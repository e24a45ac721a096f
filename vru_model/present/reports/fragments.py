"""The HTML pieces every report is built of: trusted fragments, tables, paragraphs, and figures as text.

All text that comes from a scenario file (titles, descriptions, sources, explanations) is HTML-escaped here,
before it reaches any page.
"""

from __future__ import annotations

import base64
import html
import re
from collections.abc import Iterable, Sequence

from vru_model.core.text import money
from vru_model.present.charts import Chart


def value_note(rate: float = 0.035) -> str:
    """What a value figure means: the same words wherever a value is shown."""
    return ("Social value is violence avoided, priced with Home Office unit costs of crime (The economic and social "
            "costs of crime, 2018) and weighted by the confidence of the evidence. Figures labelled “social value "
            "(undiscounted)” add it up month by month over the plan, as allocation.csv does. Figures “in today's "
            f"money” count value later in the plan for less ({rate:.1%} a year, the HM Treasury Green Book rate) "
            "and are net of exit costs and the disruption weight (and, for the cliff-edge plan, of the penalty "
            "weights on underwriting and unfunded liability): the model chooses the plan that makes this figure "
            "largest. Most inputs are illustrative assumptions (see the scenario's sources).")


VALUE_NOTE = value_note()


class Html(str):
    """A fragment of trusted HTML (built here, with scenario text escaped) that notebooks display as HTML and
    page templates insert as it is (`__html__` is how Jinja2 and markupsafe recognise trusted markup)."""

    def _repr_html_(self) -> str:
        return str(self)

    def __html__(self) -> str:
        return str(self)


def esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def table(
    rows: Iterable[Sequence[object]],
    columns: Sequence[str],
    caption: str,
    numeric: Sequence[bool] | None = None,
    total: Sequence[object] | None = None,
) -> Html:
    """An accessible table: caption, header cells with scope, first cell of each row a row header, an optional
    totals row; all escaped. It sits in its own scroll box, so a narrow screen scrolls the table, not the page."""
    numeric = numeric or [False] * len(columns)
    cls = [' class="num"' if n else "" for n in numeric]
    head = "".join(f'<th scope="col"{k}>{esc(c)}</th>' for c, k in zip(columns, cls, strict=True))
    body = []
    for row in rows:
        cells = [f'<th scope="row">{esc(row[0])}</th>']
        cells += [f"<td{k}>{esc(v)}</td>" for v, k in zip(row[1:], cls[1:], strict=True)]
        body.append(f"<tr>{''.join(cells)}</tr>")
    label = esc(caption)
    foot = ""
    if total is not None:
        cells = [f'<th scope="row">{esc(total[0])}</th>'] + [f"<td{k}>{esc(v)}</td>"
                                                             for v, k in zip(total[1:], cls[1:], strict=True)]
        foot = f'<tfoot><tr class="total">{"".join(cells)}</tr></tfoot>'
    return Html(f'<div class="table-scroll" role="region" aria-label="{label}" tabindex="0">'
                f'<table class="data"><caption>{label}</caption><thead><tr>{head}</tr></thead>'
                f"<tbody>{''.join(body)}</tbody>{foot}</table></div>")


def para(*sentences: str) -> Html:
    """One paragraph of plain text (escaped)."""
    return Html(f"<p>{esc(' '.join(s for s in sentences if s))}</p>")


def bullets(items: Iterable[str]) -> Html:
    return Html("<ul>" + "".join(f"<li>{esc(i)}</li>" for i in items) + "</ul>")


def caption(chart: Chart) -> Html:
    return Html(f'<p class="caption"><strong>Figure.</strong> {esc(chart.caption)}</p>')


def show(items: Iterable[object]) -> None:
    """Display a section's pieces in a notebook (a chart's caption goes just above it)."""
    from IPython.display import display

    for item in items:
        if isinstance(item, Chart):
            display(caption(item))
        display(item)


def items_html(items: Iterable[object]) -> Html:
    """A section's pieces as one fragment of HTML, as a notebook shows them: a chart's caption just above it, the
    chart an inline PNG with its alt text."""
    out = []
    for item in items:
        if isinstance(item, Chart):
            png = base64.b64encode(item.png).decode("ascii")
            out.append(f'{caption(item)}<figure><img src="data:image/png;base64,{png}" alt="{esc(item.alt)}">'
                       "</figure>")
        else:
            out.append(str(item))
    return Html("".join(out))


def figure_text(value: object, kind: str = "money") -> str:
    """A figure for a table cell: money, a share or a count; a dash when there is none."""
    if value is None:
        return "–"
    if kind == "money":
        return money(float(value))  # type: ignore[arg-type]
    if kind == "share":
        return f"{float(value):.0%}"  # type: ignore[arg-type]
    return f"{float(value):,.0f}"  # type: ignore[arg-type]


def fold(title: str, lead: str, items: list[object]) -> list[object]:
    """A section a partner opens when they want it: its <h2 class="fold"> becomes the summary of a <details> that
    holds the rest of the notebook cell (`pages.fold_sections`), so the page shows one line for it at first sight.
    A section with nothing to show is left out."""
    if not items:
        return []
    return [Html(f'<h2 class="fold">{esc(title)}</h2>'), *([para(lead)] if lead else []), *items]


def one_line(reason: str, limit: int = 40) -> str:
    """A closure's reason in one line for the closures table: its first sentence that gives a reason (not the
    dates, which have their own columns) without its brackets, cut at its colon when long; the full reason is
    folded below the table."""
    sentences = re.split(r"(?<=[.!?])\s+(?=[A-Z])", reason.strip())
    skip = ("Closes from", "Reduced from", "From ", "Decided before")
    chosen = next((x for x in sentences if not x.startswith(skip)), sentences[0] if sentences else "")
    chosen = re.sub(r"\s*\([^()]*\)", "", chosen).strip().rstrip(".")
    head = chosen.split(":")[0]
    if head == "A hedge":  # the decisions taken before the grant is known that trade one outcome against another
        chosen = "A hedge across the grant outcomes: better in some, worse in others"
    elif len(chosen.split()) > limit:
        chosen = head if len(head.split()) >= 5 else " ".join(chosen.split()[:limit]) + "…"
    return chosen + ("." if chosen and not chosen.endswith("…") else "")


def months_text(n: int) -> str:
    return f"{n} month{'s' if n != 1 else ''}"


def short_title(title: str, limit: int = 40) -> str:
    """Shorten a long title for a chart label; the full text stays in the alt text and tables."""
    title = title.split(" (")[0]
    return title if len(title) <= limit else title[: limit - 1].rstrip() + "…"


def short_titles(titles: Sequence[str], limit: int = 40) -> list[str]:
    """`short_title` for each of a chart's labels, keeping them apart: titles that would shorten to the same
    label keep their last words instead of their middle ("Reachable moments in hos… A&E model 1")."""
    labels = [short_title(t, limit) for t in titles]
    for label in {x for x in labels if labels.count(x) > 1}:
        clash = [k for k, x in enumerate(labels) if x == label]
        words = [titles[k].split(" (")[0].split() for k in clash]
        for n in range(1, max(len(w) for w in words) + 1):  # the fewest last words that tell them apart
            tails = [" ".join(w[-n:]) for w in words]
            if len(set(tails)) == len(tails) and min(len(t) for t in tails) >= 10:
                break
        for k, tail in zip(clash, tails, strict=True):
            full = titles[k].split(" (")[0]
            if len(full) > limit:
                head = full[: max(1, limit - len(tail) - 2)]
                labels[k] = (head.rsplit(" ", 1)[0] if " " in head else head).rstrip(" ,:") + "… " + tail
    return labels
