"""The explorer's ipywidgets layer: controls over an `ExplorerController` for JupyterLab and Voila.

Everything the controls show comes from `vru_model.apps.explorer`; this module only builds the widget
tree, keeps it in step with the controller and renders the controller's view into it.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import ipywidgets as widgets

from vru_model.analysis.cliff_edge.plans import outcome_label
from vru_model.apps.explorer import (
    KEEP_BUTTON,
    ROOM_BUTTON,
    ExplorerController,
    banner,
    month_label,
    one_line,
    render_html,
    sure_html,
)
from vru_model.core import periods
from vru_model.core.errors import ScenarioError
from vru_model.core.text import money

_e = html.escape
SURE_SAMPLES = 20  # "How sure?" in the explorer: a quick look; `vru robustness` runs 200


# Below 900 px the controls stack above the results; a plan being worked out dims the figures it replaces.
# (Widget layouts are inline styles, so the narrow-screen rules need !important to win.)
CSS = """<style>
.vru-explorer, .vru-explorer * { box-sizing: border-box; }
.vru-explorer { max-width: 100%; overflow-x: hidden; }
.vru-results { min-width: 0; }
.vru-stale { opacity: 0.4; transition: opacity 0.15s; pointer-events: none; }
.vru-protect .widget-checkbox label, .vru-protect .widget-checkbox span { white-space: normal; overflow: visible;
  height: auto; line-height: 1.3; }
.vru-protect .widget-checkbox { height: auto; margin: 2px 0; }
.vru-working { margin: 0 0 8px 0; padding: 6px 10px; background: #fff4d6; border-left: 6px solid #8a6100; }
@media (max-width: 900px) {
  .vru-columns { flex-direction: column !important; }
  .vru-controls { flex: 0 0 auto !important; width: 100% !important; padding: 0 0 16px 0 !important; }
  .vru-results { flex: 0 0 auto !important; width: 100% !important; }
}
</style>"""


def _full() -> widgets.Layout:
    return widgets.Layout(width="100%")


def _percent_box(css: str) -> widgets.Text:
    box = widgets.Text(continuous_update=False, layout=widgets.Layout(width="110px"))
    box.add_class(css)
    return box


def _pct(share: float) -> str:
    return f"{share * 100:.4g}%"


def _close(widget: widgets.Widget) -> None:
    for child in getattr(widget, "children", ()):
        _close(child)
    widget.close()


def _label(text: str, hint: str = "") -> widgets.HTML:
    extra = f"<br><span style='color:#444;font-size:90%'>{_e(hint)}</span>" if hint else ""
    return widgets.HTML(f"<div style='margin:8px 0 0 0;line-height:1.3'><strong>{_e(text)}</strong>{extra}</div>")


def find_control(widget: Any, css_class: str) -> Any:
    """The control carrying a CSS class (every control has one, so tests and benchmarks can reach it)."""
    if css_class in getattr(widget, "_dom_classes", ()):
        return widget
    for child in getattr(widget, "children", ()):
        found = find_control(child, css_class)
        if found is not None:
            return found
    return None


class ProtectPicker:
    """'Services that must not close': a box of ticks with a filter above it (typing part of a name shows only the
    services that match; ticks on hidden services stay)."""

    def __init__(self, services: dict[str, Any], protected: list[str], on_change: Any):
        self.on_change = on_change
        self.quiet = False
        self.filter = widgets.Text(placeholder="Find a service", continuous_update=True, layout=_full())
        self.filter.add_class("vru-protect-filter")
        self.filter.observe(lambda ch: self._filter(ch["new"]), names="value")
        self.boxes: dict[str, widgets.Checkbox] = {}
        for key, item in services.items():
            box = widgets.Checkbox(value=key in protected, description=item.title, indent=False,
                                   layout=widgets.Layout(width="100%", margin="0"))
            box.add_class(f"vru-protect-{key}")
            box.observe(self._changed, names="value")
            self.boxes[key] = box
        listing = widgets.VBox(list(self.boxes.values()),
                               layout=widgets.Layout(max_height="260px", overflow="auto", width="100%"))
        self.root = widgets.VBox([self.filter, listing], layout=_full())
        self.root.add_class("vru-protect")

    @property
    def value(self) -> list[str]:
        return [key for key, box in self.boxes.items() if box.value]

    def show(self, protected: list[str]) -> None:
        """Tick exactly these services without re-solving (after an undo or a refused value)."""
        self.quiet = True
        try:
            for key, box in self.boxes.items():
                box.value = key in protected
        finally:
            self.quiet = False

    def _changed(self, _: Any) -> None:
        if not self.quiet:
            self.on_change(self.value)

    def _filter(self, text: str) -> None:
        words = text.strip().lower()
        for box in self.boxes.values():
            box.layout.display = "" if words in box.description.lower() else "none"


class ExplorerApp:
    """ipywidgets over an ExplorerController. `root` is the widget tree to display."""

    def __init__(self, controller: ExplorerController):
        self.ctl = controller
        self._quiet = False  # set while the app itself moves controls, so that moves no solve
        self.output = widgets.HTML(layout=_full())
        self.output.add_class("vru-output")
        self.busy = widgets.HTML()
        self.busy.add_class("vru-busy")
        self.start = widgets.Dropdown(options=self._start_options(), value=controller.start, layout=_full())
        self.start.add_class("vru-start")
        self.start.observe(self._on_start, names="value")
        self.grant_box = widgets.VBox(layout=_full())
        self.other_box = widgets.VBox(layout=_full())
        self.reset_button = widgets.Button(description="Undo all my changes", icon="undo",
                                           layout=widgets.Layout(width="auto", margin="12px 0 0 0"))
        self.reset_button.add_class("vru-reset")
        self.reset_button.on_click(lambda _: self._run(self.ctl.reset))
        self.sure_button = widgets.Button(description="How sure?", icon="question-circle",
                                          tooltip=f"Solve again under {SURE_SAMPLES} samples of the evidence",
                                          layout=widgets.Layout(width="auto", margin="8px 0 0 0"))
        self.sure_button.add_class("vru-how-sure")
        self.sure_button.on_click(self._on_sure)
        self.keep_button = widgets.Button(description=KEEP_BUTTON, icon="balance-scale",
                                          tooltip="Re-solve once per closing service, keeping it running",
                                          layout=widgets.Layout(width="auto", margin="8px 0 0 0"))
        self.keep_button.add_class("vru-costs-to-keep")
        self.keep_button.on_click(lambda _: self._run(
            self.ctl.measure_costs_to_keep, busy="Re-solving once per closing service, keeping it running…"))
        self.room_button = widgets.Button(description=ROOM_BUTTON, icon="arrows-h",
                                          tooltip="Two solves per service: the least and the most each could have "
                                                  "in a plan within 1%, 2% or 5% of the best value",
                                          layout=widgets.Layout(width="auto", margin="8px 0 0 0"))
        self.room_button.add_class("vru-room-button")
        self.room_button.on_click(lambda _: self._run(
            self.ctl.room_for_each_service,
            busy=f"Measuring each service's room near the best plan ({self.ctl.room_estimate()})…"))
        self.sure_output = widgets.HTML()
        self.sure_output.add_class("vru-how-sure-output")
        self.save_name = widgets.Text(placeholder="e.g. grant_cut_30", layout=_full())
        self.save_name.add_class("vru-save-name")
        self.save_title = widgets.Text(placeholder="e.g. Grant cut by 30% from 2022/23", layout=_full())
        self.save_title.add_class("vru-save-title")
        self.save_overwrite = widgets.Checkbox(description="Replace a scenario with this name", indent=False)
        self.save_button = widgets.Button(description="Save as scenario", button_style="primary", icon="save",
                                          layout=widgets.Layout(width="auto", margin="8px 0 0 0"))
        self.save_button.add_class("vru-save-button")
        self.save_button.on_click(self._on_save)
        self.save_message = widgets.HTML()
        self.save_message.add_class("vru-save-message")
        controls = widgets.VBox(
            [
                widgets.HTML("<h3 style='margin:0'>Your settings</h3>"),
                _label("Start from the scenario"),
                self.start,
                widgets.HTML("<h4 style='margin:14px 0 0 0'>Home Office core grant per financial year</h4>"),
                self.grant_box,
                self.other_box,
                self.reset_button,
                self.keep_button,
                self.room_button,
                self.sure_button,
                self.sure_output,
                widgets.HTML("<h4 style='margin:18px 0 0 0'>Save these settings as a scenario</h4>"
                             "<p style='margin:0'>Finance can then run it with the other scenarios "
                             "(<code>vru batch</code>).</p>"),
                _label("File name", "lower-case letters, digits and _ only"),
                self.save_name,
                _label("Title (optional)"),
                self.save_title,
                self.save_overwrite,
                self.save_button,
                self.save_message,
            ],
            layout=widgets.Layout(flex="0 0 430px", width="430px", padding="0 24px 0 0"),
        )
        controls.add_class("vru-controls")
        results = widgets.VBox([self.busy, self.output], layout=widgets.Layout(flex="1 1 0%", min_width="0"))
        results.add_class("vru-results")
        title = widgets.HTML(
            "<h2 style='margin:0 0 4px 0'>Funding scenario explorer</h2>"
            "<p style='margin:0 0 12px 0'>Change a setting: the plan is worked out again and shows "
            "which services keep running, which close and when notice must be served, and what value is lost. "
            "Figures marked as illustrative assumptions in the scenario files are not published figures.</p>"
        )
        columns = widgets.HBox([controls, results], layout=_full())
        columns.add_class("vru-columns")
        self.root = widgets.VBox([widgets.HTML(CSS), title, columns], layout=_full())
        self.root.add_class("vru-explorer")
        self._build_controls()
        self._show()

    def _start_options(self) -> list[tuple[str, str]]:
        return [(f"{title} ({name})", name) for name, title in self.ctl.available.items()]

    # --- building controls from the starting scenario --------------------------------------------
    def _build_controls(self) -> None:
        ctl = self.ctl
        for box in (self.grant_box, self.other_box):  # controls of the previous starting scenario
            for child in box.children:
                _close(child)
        self._quiet = True
        try:
            rows: list[widgets.Widget] = []
            self.grant_sliders: dict[str, widgets.IntSlider] = {}
            self.grant_texts: dict[str, widgets.Text] = {}
            self.grant_pct: dict[str, widgets.HTML] = {}
            for fy in ctl.fys:
                base = ctl.base_grant(fy)
                # % of the starting grant, so one key press is 1%; a year with no starting grant moves in £10,000s
                slider = widgets.IntSlider(
                    value=self._slider_value(fy), min=0, max=150 if base > 0 else 5_000_000,
                    step=1 if base > 0 else 10_000, continuous_update=False, readout=False,
                    description=f"{fy}", style={"description_width": "60px"}, layout=_full(),
                )
                text = widgets.Text(value=f"{ctl.grant(fy):,.0f}", continuous_update=False, description="£ or %",
                                    style={"description_width": "60px"}, layout=widgets.Layout(width="230px"))
                pct = widgets.HTML()
                css = fy.replace("/", "-")
                slider.add_class(f"vru-grant-{css}")
                text.add_class(f"vru-grant-text-{css}")
                pct.add_class(f"vru-grant-pct-{css}")
                slider.observe(lambda ch, fy=fy: self._on_grant_slider(fy, ch["new"]), names="value")
                text.observe(lambda ch, fy=fy: self._run(lambda: self.ctl.set_grant_text(fy, ch["new"])),
                             names="value")
                self.grant_sliders[fy], self.grant_texts[fy], self.grant_pct[fy] = slider, text, pct
                rows += [slider, widgets.HBox([text, pct], layout=widgets.Layout(flex_flow="row wrap"))]
            self.grant_box.children = rows

            others: list[widgets.Widget] = [widgets.HTML("<h4 style='margin:14px 0 0 0'>Timing and rules</h4>")]
            self.confirmation: widgets.Dropdown | None = None
            if ctl.base.uncertainty is None:  # else the one month control is the uncertain grant's (cliff edge)
                others += self._confirmation_control()
            self.underwriting: widgets.IntSlider | None = None
            if ctl.underwriting_stream is not None:
                cap = round(ctl.scenario.funding[ctl.underwriting_stream].cap or 0)
                base_cap = round(ctl.base.funding[ctl.underwriting_stream].cap or 0)
                self.underwriting = widgets.IntSlider(
                    value=cap, min=0, max=max(2 * base_cap, 500_000, cap), step=5000, readout_format=",d",
                    continuous_update=False, layout=_full(),
                )
                self.underwriting.add_class("vru-underwriting")
                self.underwriting.observe(lambda ch: self._run(lambda: self.ctl.set_underwriting_cap(ch["new"])),
                                          names="value")
                others += [_label("OPCC underwriting cap (£)", "what the OPCC covers until the grant is confirmed"),
                           self.underwriting]
            policy = ctl.scenario.policy
            self.pickup = widgets.IntSlider(value=round(policy.partner_pickup * 100), min=0, max=100, step=1,
                                            readout=False, continuous_update=False, layout=_full())
            self.pickup.add_class("vru-pickup")
            self.pickup.observe(lambda ch: self._run(lambda: self.ctl.set_partner_pickup(f"{ch['new']}%")),
                                names="value")
            self.pickup_text = _percent_box("vru-pickup-text")
            self.pickup_text.observe(lambda ch: self._run(lambda: self.ctl.set_partner_pickup(ch["new"])),
                                     names="value")
            self.commissioning = widgets.IntSlider(
                value=round(policy.commissioning_min_share * 100), min=0, max=100, step=1, readout=False,
                continuous_update=False, layout=_full(),
            )
            self.commissioning.add_class("vru-commissioning")
            self.commissioning.observe(
                lambda ch: self._run(lambda: self.ctl.set_commissioning_min(f"{ch['new']}%")), names="value")
            self.commissioning_text = _percent_box("vru-commissioning-text")
            self.commissioning_text.observe(lambda ch: self._run(lambda: self.ctl.set_commissioning_min(ch["new"])),
                                            names="value")
            self.protect = ProtectPicker(ctl.base.interventions, ctl.protected, self._on_protect)
            others += [
                _label("Partners pick up their promised share",
                       "100% = partners take over services as their tapers promise; type 80, 80% or 0.8"),
                widgets.HBox([self.pickup_text, self.pickup]),
                _label("Commissioning minimum", "share of each year's core grant spent on commissioned services"),
                widgets.HBox([self.commissioning_text, self.commissioning]),
                _label("Services that must not close", "tick each one; type to find a service"),
                self.protect.root,
            ]
            if ctl.base.uncertainty is not None:
                others += self._cliff_edge_controls()
            self.other_box.children = others
            self.pickup_text.value = _pct(policy.partner_pickup)
            self.commissioning_text.value = _pct(policy.commissioning_min_share)
            self._update_pct()
        finally:
            self._quiet = False

    def _confirmation_control(self) -> list[widgets.Widget]:
        """The month the core grant is confirmed (scenarios without an uncertain grant)."""
        ctl = self.ctl
        months = ctl.confirmation_months()
        core = ctl.scenario.funding[ctl.core_stream]
        self.confirmation = widgets.Dropdown(
            options=[(month_label(m), m) for m in months],
            value=core.confirmed_month if core.confirmed_month in months else None,
            layout=widgets.Layout(width="220px"),
        )
        self.confirmation.add_class("vru-confirmation")
        self.confirmation.observe(self._on_confirmation, names="value")
        return [_label(f"Month the {periods.fy_of(months[0])} grant is confirmed" if months else
                       "Month the grant is confirmed"), self.confirmation]

    def _cliff_edge_controls(self) -> list[widgets.Widget]:
        unc = self.ctl.scenario.uncertainty
        assert unc is not None
        self.uncertainty_month = widgets.Dropdown(
            options=[(month_label(m), m) for m in self.ctl.uncertainty_months()], value=unc.confirmed_month,
            layout=widgets.Layout(width="220px"),
        )
        self.uncertainty_month.add_class("vru-uncertainty-month")
        self.uncertainty_month.observe(
            lambda ch: self._run(lambda: self.ctl.set_uncertainty_month(ch["new"])), names="value"
        )
        self.cliff_button = widgets.Button(description="Work out the cliff-edge plan", icon="sitemap",
                                           layout=widgets.Layout(width="auto", margin="6px 0 0 0"))
        self.cliff_button.add_class("vru-cliff-edge-button")
        self.cliff_button.on_click(lambda _: self._run(
            self.ctl.cliff_edge, busy=f"Planning for every grant outcome ({self.ctl.cliff_edge_estimate()})…"))
        full = self.ctl.scenario.core_grant(unc.fy)
        outcomes = "; ".join(f"the grant {outcome_label(o.amount, full)} ("
                             + (f"{money(o.amount)}, " if o.amount > 0.5 else "") + f"{o.probability:.0%} chance)"
                             for o in unc.outcomes)
        return [
            widgets.HTML(f"<h4 style='margin:14px 0 0 0'>Cliff edge: the {_e(unc.fy)} grant is uncertain</h4>"
                         f"<p style='margin:0'>Possible outcomes: {_e(outcomes)}. The plan shown takes the grant as "
                         f"{_e(money(self.ctl.scenario.core_grant(unc.fy)))}, as if it were known from the start; "
                         "the plan to act on before it is known is the cliff-edge plan.</p>"),
            _label(f"Month the {unc.fy} grant becomes known", "the one month the plan waits for"),
            self.uncertainty_month,
            self.cliff_button,
        ]

    # --- events -----------------------------------------------------------------------------------
    def _on_start(self, change: dict[str, Any]) -> None:
        if self._quiet:
            return
        self._run(lambda: self.ctl.set_start(change["new"]), rebuild=True)
        if self.start.value != self.ctl.start:  # the new start was refused: show the one still in use
            self._quiet = True
            try:
                self.start.value = self.ctl.start
            finally:
                self._quiet = False

    def _on_protect(self, names: list[str]) -> None:
        self._run(lambda: self.ctl.set_protected(names))

    def _on_confirmation(self, change: dict[str, Any]) -> None:
        if change["new"]:
            self._run(lambda: self.ctl.set_confirmation_month(change["new"]))

    def _slider_value(self, fy: str) -> int:
        """The grant slider's position: % of the starting grant, or pounds in a year that had none."""
        base = self.ctl.base_grant(fy)
        return round(self.ctl.grant(fy) / base * 100) if base > 0 else round(self.ctl.grant(fy))

    def _on_grant_slider(self, fy: str, value: int) -> None:
        if self.ctl.base_grant(fy) > 0:
            self._run(lambda: self.ctl.set_grant_percent(fy, value))
        else:
            self._run(lambda: self.ctl.set_grant(fy, float(value)))

    def _on_save(self, _: Any) -> None:
        try:
            path = self.ctl.save(self.save_name.value, self.save_title.value or None, self.save_overwrite.value)
        except ScenarioError as exc:
            self.save_message.value = banner("error", "Not saved:", one_line(exc))
            return
        self.save_message.value = banner("ok", "Saved:", f"{path.name} in {path.parent}")
        self._quiet = True
        try:
            self.start.options = self._start_options()
            self.start.value = self.ctl.start
        finally:
            self._quiet = False

    def _on_sure(self, _: Any) -> None:
        """How sure is the plan on the current settings (the controller's `how_sure`), beside the button."""
        self.busy.value = ("<p class='vru-working' role='status'><em>Solving again under "
                           f"{SURE_SAMPLES} samples of the evidence…</em></p>")
        try:
            self.sure_output.value = sure_html(SURE_SAMPLES, self.ctl.how_sure(SURE_SAMPLES))
        except ScenarioError as exc:
            self.sure_output.value = banner("error", "Not run:", one_line(exc))
        finally:
            self.busy.value = ""

    def _run(self, action: Any, rebuild: bool = False, busy: str | None = None) -> None:
        """Run a controller action with the busy line showing and the old figures dimmed until it is done."""
        if self._quiet:
            return
        if busy is None:  # a re-plan from actuals solves twice: the plan it replaces, then the re-plan
            busy = ("Re-planning from the actual spend (a few seconds)…" if self.ctl.scenario.actuals is not None
                    else "Working out the plan (about a second)…")
        self.busy.value = f"<p class='vru-working' role='status' aria-live='polite'><em>{_e(busy)}</em></p>"
        self.output.add_class("vru-stale")
        try:
            action()
        except ScenarioError as exc:  # e.g. a scenario file that broke after the list was made
            self.busy.value = banner("error", "Not accepted:", one_line(exc, self.ctl.titles))
            return
        finally:
            self.output.remove_class("vru-stale")
        self.busy.value = ""
        if rebuild:
            self._build_controls()
        else:
            self._sync_controls()
        self._show()

    def _sync_controls(self) -> None:
        """Show the controller's current settings (after an undo, or a value the schema refused)."""
        sc = self.ctl.scenario
        self._quiet = True
        try:
            for fy, slider in self.grant_sliders.items():
                slider.max = max(slider.max, self._slider_value(fy))
                slider.value = self._slider_value(fy)
                if not self.ctl.view.error:  # after a refusal the box keeps what was typed, beside the message
                    self.grant_texts[fy].value = f"{sc.core_grant(fy):,.0f}"
            if self.confirmation is not None and (
                    sc.funding[self.ctl.core_stream].confirmed_month in self.ctl.confirmation_months()):
                self.confirmation.value = sc.funding[self.ctl.core_stream].confirmed_month
            if self.underwriting is not None and self.ctl.underwriting_stream is not None:
                self.underwriting.value = round(sc.funding[self.ctl.underwriting_stream].cap or 0)
            self.pickup.value = round(sc.policy.partner_pickup * 100)
            self.commissioning.value = round(sc.policy.commissioning_min_share * 100)
            if not self.ctl.view.error:
                self.pickup_text.value = _pct(sc.policy.partner_pickup)
                self.commissioning_text.value = _pct(sc.policy.commissioning_min_share)
            self.protect.show(self.ctl.protected)
            if sc.uncertainty is not None and self.ctl.base.uncertainty is not None:
                self.uncertainty_month.value = sc.uncertainty.confirmed_month
        finally:
            self._quiet = False
        self._update_pct()

    def _update_pct(self) -> None:
        for fy, label in self.grant_pct.items():
            base = self.ctl.base_grant(fy)
            now = self.ctl.grant(fy)
            label.value = (f"<span style='margin-left:8px'>{now / base:.0%} of the starting grant</span>" if base > 0
                           else "<span style='margin-left:8px'>(no grant in the starting scenario)</span>")

    def _show(self) -> None:
        self.output.value = render_html(self.ctl.view)


def build_explorer(scenarios_dir: str | Path | None = None, start: str | None = None) -> widgets.Widget:
    """The explorer's widget tree. `scenarios_dir` defaults to $VRU_SCENARIOS_DIR, else the repository's scenarios/."""
    return ExplorerApp(ExplorerController(scenarios_dir, start)).root
