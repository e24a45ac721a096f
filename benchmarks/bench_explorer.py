"""Explorer responsiveness: time from a control change to the updated view, on the baseline.

Measures, with the median of several runs each: opening the explorer (first solve), a grant
slider move through the real widget tree (controller re-solve + HTML render) with the persistent
model (grant and underwriting cap are mutable parameters) and the same moves rebuilding the model
each time, the other controls (these rebuild), revisiting a setting already seen (cache), and "How much room does
each service have?" (on request; `--no-room` skips it) as a ratio to one move. Target: a control change under
one second on a 2-core machine. Run: `.venv/bin/python benchmarks/bench_explorer.py`.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path
from typing import Any

from vru_model.apps.explorer import ExplorerController, render_html
from vru_model.apps.explorer.controller import ROOM_WORKERS
from vru_model.apps.widgets import ExplorerApp, find_control

ROOT = Path(__file__).resolve().parent.parent


def _timed(action: Any) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def run(scenarios: Path = ROOT / "scenarios", start: str = "baseline", repeats: int = 5,
        room: bool = True) -> dict[str, Any]:
    """Figures in seconds (medians) plus the raw runs."""
    opens = []
    for _ in range(max(1, repeats // 2)):
        opens.append(_timed(lambda: ExplorerController(scenarios, start)))

    app = ExplorerApp(ExplorerController(scenarios, start))
    fy = app.ctl.fys[1] if len(app.ctl.fys) > 1 else app.ctl.fys[0]
    slider = find_control(app.root, f"vru-grant-{fy.replace('/', '-')}")
    base = app.ctl.base_grant(fy)
    grant_runs = []
    for k in range(repeats):  # distinct values, so every move is a real re-solve (the slider is in %)
        percent = 55 + 8 * k
        grant_runs.append(_timed(lambda percent=percent: setattr(slider, "value", percent)))

    cold = ExplorerController(scenarios, start, persistent=False)
    rebuild_runs = []
    for k in range(repeats):  # the same moves, rebuilding the model every time
        value = round(base * (55 + 8 * k) / 100, 2)
        rebuild_runs.append(_timed(lambda value=value: render_html(cold.set_grant(fy, value))))

    ctl = app.ctl
    first = next(iter(ctl.base.interventions))
    others = {
        "partner_pickup": lambda: ctl.set_partner_pickup(0.6),
        "commissioning_min": lambda: ctl.set_commissioning_min(0.3),
        "protect_one_service": lambda: ctl.set_protected([first]),
        "confirmation_month": lambda: ctl.set_confirmation_month(ctl.confirmation_months()[3]),
    }
    other_runs = {}
    for name, action in others.items():
        ctl.reset()
        other_runs[name] = _timed(lambda action=action: render_html(action()))
    ctl.reset()
    revisit = _timed(lambda: render_html(ctl.set_grant(fy, round(base * 0.55))))
    ctl.reset()
    room_seconds = _timed(lambda: render_html(ctl.room_for_each_service())) if room else None

    return {
        "scenario": start,
        "repeats": repeats,
        "open_seconds_median": round(statistics.median(opens), 3),
        "grant_change_to_view_seconds_median": round(statistics.median(grant_runs), 3),
        "grant_change_to_view_seconds_max": round(max(grant_runs), 3),
        "grant_change_runs": [round(x, 3) for x in grant_runs],
        "grant_change_rebuilding_model_seconds_median": round(statistics.median(rebuild_runs), 3),
        "model_rebuilds_in_persistent_mode": app.ctl.warm.rebuilds if app.ctl.warm else None,
        "other_controls_seconds": {k: round(v, 3) for k, v in other_runs.items()},
        "revisit_cached_seconds": round(revisit, 4),
        "room_for_each_service_seconds": None if room_seconds is None else round(room_seconds, 1),
        "room_workers": ROOM_WORKERS,
        "target_seconds": 1.0,
    }


def table(figures: dict[str, Any]) -> str:
    """The figures as a Markdown table, for the README."""
    rows = [
        ("open the explorer (first solve)", figures["open_seconds_median"]),
        ("grant slider moved -> updated view (persistent model), median",
         figures["grant_change_to_view_seconds_median"]),
        ("grant slider moved -> updated view (persistent model), slowest", figures["grant_change_to_view_seconds_max"]),
        ("same moves rebuilding the model each time, median", figures["grant_change_rebuilding_model_seconds_median"]),
        *((f"{name.replace('_', ' ')} changed -> updated view", sec)
          for name, sec in figures["other_controls_seconds"].items()),
        ("a setting already seen (cache)", figures["revisit_cached_seconds"]),
    ]
    if figures["room_for_each_service_seconds"] is not None:
        median = figures["grant_change_to_view_seconds_median"]
        rows.append((f"room for each service ({figures['room_workers']} workers; "
                     f"{figures['room_for_each_service_seconds'] / median:.0f}x a grant move)",
                     figures["room_for_each_service_seconds"]))
    lines = [f"Explorer on {figures['scenario']}, {figures['repeats']} moves (target: under "
             f"{figures['target_seconds']:.0f} s per change)", "", "| step | seconds |", "|---|---|"]
    lines += [f"| {name} | {sec:.3f} |" for name, sec in rows]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenarios", type=Path, default=ROOT / "scenarios")
    parser.add_argument("--start", default="baseline")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--quick", action="store_true", help="three moves instead of seven")
    parser.add_argument("--json", action="store_true", help="print the raw figures as JSON too")
    parser.add_argument("--no-room", action="store_true", help="skip the room for each service (about 30 s)")
    args = parser.parse_args()
    figures = run(args.scenarios, args.start, 3 if args.quick else args.repeats, room=not args.no_room)
    print(table(figures))
    if args.json:
        print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
