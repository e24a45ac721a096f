"""The explorer's results as HTML: every piece of scenario text is escaped."""

from __future__ import annotations

import html

from vru_model.apps.explorer.view import ExplorerView
from vru_model.apps.explorer.words import month_label
from vru_model.core.text import money

_e = html.escape
_TABLE = 'style="border-collapse:collapse;margin:0.3em 0 1em 0;max-width:100%"'
_CELL = 'style="border:1px solid #999;padding:3px 8px;text-align:left;vertical-align:top"'
_NUM = 'style="border:1px solid #999;padding:3px 8px;text-align:right"'


def _signed(x: float) -> str:
    return ("+" if x >= 0 else "") + money(x)


def _table(headers: list[str], rows: list[list[str]], numeric: set[int] | None = None) -> str:
    numeric = numeric or set()
    head = "".join(f"<th scope=\"col\" {_CELL}>{_e(h)}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f"<td {_NUM if k in numeric else _CELL}>{c}</td>" for k, c in enumerate(r)) + "</tr>"
        for r in rows
    )
    return (f'<div class="vru-scroll" style="overflow-x:auto;max-width:100%"><table {_TABLE}><thead><tr>{head}'
            f"</tr></thead><tbody>{body}</tbody></table></div>")


def banner(kind: str, title: str, text: str) -> str:
    """A coloured status line; shared with the widgets, so a refusal looks the same wherever it appears."""
    colours = {"error": ("#fdecea", "#b3261e"), "ok": ("#e8f4ea", "#1e6b2f")}
    bg, fg = colours[kind]
    return (f'<div class="vru-banner vru-{kind}" role="status" style="background:{bg};border-left:6px solid {fg};'
            f'padding:8px 12px;margin:0 0 10px 0"><strong>{_e(title)}</strong> {_e(text)}</div>')


def render_html(view: ExplorerView) -> str:
    """The explorer's results as HTML. Every piece of scenario text is escaped."""
    parts = ['<div class="vru-explorer-view" style="font-size:14px;line-height:1.4">']
    if view.error:
        parts.append(banner("error", "Not accepted:", view.error))
    if not view.optimal:
        parts.append(banner("error", "No workable plan with these settings.",
                             view.explanation or view.status_text))
        parts.append("<p>Change a setting (for example, raise the grant) to see a plan again.</p>")
    else:
        parts.append(_headline(view))
        if view.cliff_edge:
            items = "".join(f"<li>{_e(t)}</li>" for t in view.cliff_edge)
            parts.append('<h4>Cliff-edge plan: what to do before the grant is known</h4>'
                         f'<ul class="vru-cliff-edge">{items}</ul>')
        parts.append(_closures(view))
        parts.append(_changes(view))
        parts.append(_spend_table(view))
        parts.append(_ledger(view))
        parts.append(_all_services(view))
    for note in view.notes:
        parts.append(f"<p><em>{_e(note)}</em></p>")
    parts.append(f'<p style="color:#555">Solved in {view.seconds:.1f} s. Values are discounted social value '
                 "(harm avoided) minus exit costs, from the scenario's evidence figures.</p></div>")
    return "".join(parts)


def _headline(view: ExplorerView) -> str:
    running = sum(1 for s in view.services if s.status in ("runs", "opens", "partial"))
    closing = len(view.closures)
    change = view.value_change
    if not view.overrides:
        versus = "nothing changed yet (change a setting to see what it does)"
    elif change is None or abs(change) < 0.5:
        versus = "the same value"
    else:
        pct = f" ({change / abs(view.base_objective):+.0%})" if view.base_objective else ""
        versus = f"{_signed(change)}{pct}"
    people = ""
    if view.participants is not None and view.base_participants is not None:
        lost = view.base_participants - view.participants
        more = f" ({lost:,.0f} fewer)" if lost > 0.5 else f" ({-lost:,.0f} more)" if lost < -0.5 else ""
        people = f" People reached over the plan: {view.participants:,.0f}{more}."
    return (
        f'<h3 style="margin:0 0 4px 0">Value of this plan: <span class="vru-headline-value">'
        f"{_e(money(view.objective or 0.0))}</span></h3>"
        f'<p class="vru-headline" style="margin:0 0 8px 0">Compared with the starting scenario, '
        f'“{_e(view.start_title)}” as loaded: <strong class="vru-value-change">{_e(versus)}</strong>. '
        f'<span class="vru-services-count">{running} of {len(view.services)} services run; '
        f"{closing} {'closes' if closing == 1 else 'close'}.</span>{_e(people)}</p>"
    )


KEEP_BUTTON = "What would keeping each closure cost?"  # the explorer's button (widgets.py)


def _closures(view: ExplorerView) -> str:
    if not view.closures:
        return '<h4>Services that close</h4><p class="vru-closures">None: every running service continues.</p>'
    rows = [[_e(s.title), _e(month_label(s.notice_by)), _e(month_label(s.closes_from)), _e(money(s.exit_cost)),
             _e(money(s.cost_to_keep) if s.cost_to_keep is not None else s.cost_to_keep_note or "not measured")]
            for s in view.closures]
    unmeasured = view.costs_measurable and any(s.cost_to_keep is None and not s.cost_to_keep_note
                                               for s in view.closures)
    hint = ('<p class="vru-keep-hint">Costs to keep are not worked out on every move (each is a re-solve): '
            f"use “{KEEP_BUTTON}” on the left.</p>" if unmeasured else "")
    # The reasons read as prose under the table: as a column they ran off the right of the page
    reasons = "".join(f'<p class="vru-reason"><strong>{_e(s.title)}.</strong> {_e(s.reason)}</p>'
                      for s in view.closures if s.reason)
    return ('<h4>Services that close</h4><div class="vru-closures">'
            + _table(["Service", "Notice must be served by", "Closes from", "Exit cost", "Cost to keep"],
                     rows, {3, 4}) + hint + (f"<h4>Why each service closes</h4>{reasons}" if reasons else "")
            + "</div>")


def _changes(view: ExplorerView) -> str:
    title = f"What changed compared with “{view.start_title}” as loaded"
    if not view.overrides:
        return (f"<h4>{_e(title)}</h4><p class=\"vru-changes\">Nothing yet: this is the starting scenario as "
                "loaded. The services that close above close in it too.</p>")
    if not view.changes:
        return f"<h4>{_e(title)}</h4><p class=\"vru-changes\">No service changes.</p>"
    rows = [[_e(t), _e(a), _e(b)] for t, a, b in view.changes]
    return (f"<h4>{_e(title)}</h4><div class=\"vru-changes\">"
            + _table(["Service", "Starting scenario", "With your changes"], rows) + "</div>")


def _spend_table(view: ExplorerView) -> str:
    fys = list(view.spend)
    streams: list[str] = []
    for row in view.spend.values():
        streams += [s for s in row["streams"] if s not in streams]
    rows = [[_e("Core grant available")] + [_e(money(view.spend[y]["core_grant"])) for y in fys]]
    rows += [[f"Spent from {_e(s)}"] + [_e(money(view.spend[y]["streams"].get(s, 0.0))) for y in fys] for s in streams]
    rows.append(["Paid by partners"] + [_e(money(view.spend[y]["partners"])) for y in fys])
    rows.append(["Core grant left unspent"] + [_e(money(view.spend[y]["unspent_core"])) for y in fys])
    rows.append(["Share of core grant on commissioned services"] + [
        _e(f"{view.spend[y]['commissioned_share']:.0%}") if view.spend[y]["commissioned_share"] is not None else "–"
        for y in fys
    ])
    return "<h4>Spend by funding stream</h4>" + _table(["", *fys], rows, set(range(1, len(fys) + 1)))


def _ledger(view: ExplorerView) -> str:
    rows = [["Met" if c.get("passed") else "<strong>NOT met</strong>", _e(str(c.get("text", "")))]
            for c in view.compliance]
    return "<h4>Grant conditions</h4>" + _table(["Met?", "Condition"], rows)


def _all_services(view: ExplorerView) -> str:
    rows = [[_e(s.title), _e(s.text)] for s in view.services]
    return (f"<details><summary>All services ({len(view.services)})</summary>"
            + _table(["Service", "In this plan"], rows) + "</details>")

