"""The explorer's results as HTML: every piece of scenario text is escaped."""

from __future__ import annotations

import base64
import html

from vru_model.apps.explorer.view import CliffEdgeView, ExplorerView, OutcomeRow, RoomView
from vru_model.apps.explorer.words import month_label
from vru_model.core import periods
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
    elif view.cliff_edge is not None:
        parts.append(_as_of(view))
        parts.append(cliff_edge_html(view.cliff_edge))
        parts.append(f'<details class="vru-as-if-known"><summary><strong>{_e(_as_if_known_title(view))}</strong>'
                     "</summary>" + _plan(view) + "</details>")
    else:
        parts.append(_as_of(view))
        parts.append(_headline(view))
        parts.append(_plan(view))
    if view.room is not None:
        parts.append(room_html(view.room, as_if_known=view.cliff_edge is not None))
    parts.append(f'<p style="color:#555">Solved in {view.seconds:.1f} s. Values are discounted social value '
                 "(harm avoided) minus exit costs and the disruption weight, from the scenario's evidence "
                 "figures.</p></div>")
    return "".join(parts)


def _plan(view: ExplorerView) -> str:
    """The plan on the settings as they stand: what closes, what changed, spend, conditions, every service."""
    notes = "".join(f"<p><em>{_e(note)}</em></p>" for note in view.notes)
    return _closures(view) + _changes(view) + _spend_table(view) + _ledger(view) + _all_services(view) + notes


def _as_of(view: ExplorerView) -> str:
    """The month the actual spend runs to, when the plan is re-planned from it."""
    if not view.as_of:
        return ""
    return (f'<p class="vru-as-of" style="margin:0 0 8px 0"><strong>Actual spend to {_e(month_label(view.as_of))}; '
            f"the plan below is re-planned from {_e(month_label(periods.add_months(view.as_of, 1)))}.</strong></p>")


def _as_if_known_title(view: ExplorerView) -> str:
    closing = len(view.closures)
    return (f"For comparison: the plan as if the grant were known from the start (value {money(view.objective or 0.0)}"
            f", {closing} {'service closes' if closing == 1 else 'services close'})")


def cliff_edge_html(cliff: CliffEdgeView) -> str:
    """The cliff-edge plan as the page's answer: the expected value, what each outcome means, the notices to serve
    now, and the rest in sentences under a fold."""
    if not cliff.optimal:
        return banner("error", "No cliff-edge plan was found.", " ".join([cliff.status_text, *cliff.sentences]))
    known = month_label(cliff.known_in)
    closing = "; ".join(f"{o.closes} {o.words}" for o in cliff.outcomes)
    head = (f'<h3 style="margin:0 0 4px 0">Cliff-edge plan (the plan to act on): expected value '
            f'<span class="vru-headline-value">{_e(money(cliff.expected_value or 0.0))}</span></h3>'
            f'<p class="vru-headline" style="margin:0 0 8px 0">One plan for every {_e(cliff.fy)} grant outcome, '
            f"made before the grant becomes known in {_e(known)}. "
            f'<span class="vru-services-count">Services closing: {_e(closing)}.</span> '
            f"Notices to serve now, whatever the grant: {len(cliff.notices_now)}.</p>")
    rows = [[_e(o.words[0].upper() + o.words[1:]), _e(f"{o.probability:.0%}"), _e(money(o.value)), str(o.closes),
             str(o.notices_now), str(len(o.notices_later))] for o in cliff.outcomes]
    table = _table(["Outcome", "Chance", "Value of the plan", "Services closing", "Notices to serve now",
                    f"Notices once the grant is known ({known})"], rows, {1, 2, 3, 4, 5})
    now = ("<p>None: every closure can wait until the grant is known.</p>" if not cliff.notices_now else
           _table(["Service", "Serve notice by", "Closes from"],
                  [[_e(n.title), _e(month_label(n.notice_by)), _e(month_label(n.closes_from))]
                   for n in cliff.notices_now]))
    folds = "".join(_outcome_fold(o) for o in cliff.outcomes)
    more = "".join(f"<li>{_e(t)}</li>" for t in cliff.sentences)
    return (f'<div class="vru-cliff-edge">{head}<h4>What each outcome means</h4>{table}'
            f"<h4>Notices to serve now, whatever the grant</h4>{now}{folds}"
            f"<details><summary>The cliff-edge plan in full</summary><ul>{more}</ul></details></div>")


def sure_html(samples: int, sentences: list[str]) -> str:
    """"How sure?" beside its button: the robustness findings for the current plan, in words."""
    items = "".join(f"<li>{_e(s)}</li>" for s in sentences)
    return (f"<h4 style='margin:8px 0 0 0'>How sure is this plan? ({samples} samples of the evidence)</h4>"
            f"<ul style='margin:4px 0'>{items}</ul>")


ROOM_BUTTON = "How much room does each service have?"  # the explorer's button (widgets.py)


def room_html(room: RoomView, as_if_known: bool = False) -> str:
    """Each service's room within a few percent of the best value: the report's range chart, the board's
    sentences, and the figures under a fold."""
    head = '<h4 class="vru-room-title">Room within a few percent of the best value</h4>'
    if room.chart is None:
        return f'<div class="vru-room">{head}<p>{_e(room.status_text)}</p></div>'
    shares = [f"{e:.0%}" for e in room.epsilons]
    within = shares[0] if len(shares) == 1 else ", ".join(shares[:-1]) + " or " + shares[-1]
    lead = (f"For each service, the least and the most service-years (running months x scale / 12) that any plan "
            f"within {within} of the best value gives it, each from its own solve"
            + (" (around the plan as if the grant were known, not the cliff-edge plan)" if as_if_known else "")
            + ". A short bar means the plans near the best agree on that service; a long one means the board has "
            "room to choose at little cost.")
    img = (f'<figure style="margin:0"><img src="data:image/png;base64,{base64.b64encode(room.chart.png).decode()}" '
           f'alt="{_e(room.chart.alt)}" style="max-width:100%"><figcaption>{_e(room.chart.caption)}</figcaption>'
           "</figure>")
    said = "".join(f"<li>{_e(t)}</li>" for t in room.sentences)
    rows = [[_e(r.title), f"{r.best:.2f}"] + [f"{lo:.2f} to {hi:.2f}" for lo, hi in r.bounds] for r in room.rows]
    figures = _table(["Service", "Best plan", *(f"Within {e:.0%}" for e in room.epsilons)], rows,
                     set(range(1, len(room.epsilons) + 2)))
    return (f'<div class="vru-room">{head}<p>{_e(lead)}</p>{img}' + (f"<ul>{said}</ul>" if said else "")
            + f"<details><summary>The figures (service-years)</summary>{figures}</details>"
            f'<p style="color:#555">Worked out in {room.seconds:.0f} s.</p></div>')


def _outcome_fold(outcome: OutcomeRow) -> str:
    """The services one outcome closes, folded: a long list (most services, if the grant ends) stays out of sight."""
    later = {n.title: f"serve by {month_label(n.notice_by)}; closes from {month_label(n.closes_from)}"
             for n in outcome.notices_later}
    rows = [[_e(t), _e(later.get(t, "served before the grant is known"))] for t in outcome.closing]
    body = _table(["Service", "Notice"], rows) if rows else "<p>None.</p>"
    return (f'<details class="vru-outcome-closures"><summary>Services closing {_e(outcome.words)} '
            f"({outcome.closes})</summary>{body}</details>")


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

