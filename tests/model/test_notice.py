"""Contract notice worked by hand on one scenario: the grant ends, so a service must close, and notice for
that closure falls due months into the plan, not at its start.

The scenario (all figures illustrative assumptions chosen for round numbers): one service, detached youth
work, GBP 12,000 a year (GBP 1,000 a month) at a fixed scale, value GBP 2,000 a month (120 participants x
0.2 effect x 1 incident x GBP 1,000 harm / 12, high confidence), three months' notice, exit cost GBP 500.
Two years from April 2021, no discounting, no commissioning minimum. The core grant is GBP 14,000 in
2021/22 and nothing in 2022/23.

By hand:
- with no grant from April 2022 the service must stop by then: it closes from April 2022;
- three months' notice means notice is served by January 2022 (April - 3 months), the tenth month;
- 2021/22 spends 12 x 1,000 running + 500 exit (paid in March 2022, the last month it runs) = 12,500,
  within the 14,000 grant, so it runs every month of 2021/22 (each month adds 2,000 of value for 1,000);
- objective = 12 x 2,000 value - 500 exit cost - 0.0001 x 12,500 tie-break = 23,498.75.

`vru solve` reports the notice month as the closure month less the notice period, so the first test guards
the closure month, the notice month and the objective. The plan's own notice decisions show in a cliff-edge
plan: the same scenario whose only outcome is "the grant ends" (confirmed in April 2022) must say, before
confirmation, to serve that notice by January 2022, which fails if closing no longer needs notice served its
notice period earlier.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from vru_model import load_scenario
from vru_model.analysis.cliff_edge import solve_cliff_edge
from vru_model.apps.cli import main

SOURCE = "illustrative assumption: round numbers for a hand-worked test"
OBJECTIVE = 12 * 2000 - 500 - 1e-4 * 12500  # 23,498.75
CLOSURE = {"intervention": "youth_work", "notice_by": "2022-01", "closes_from": "2022-04"}


def _scenario() -> dict[str, Any]:
    return {
        "name": "notice_hand",
        "title": "Hand-checked notice (the grant ends after one year)",
        "horizon": {"start": "2021-04", "months": 24},
        "policy": {"commissioning_min_share": 0.0, "discount_rate_annual": 0.0},
        "funding": {"core": {"kind": "core_grant", "amounts": {"2021/22": 14000, "2022/23": 0}, "source": SOURCE}},
        "value": {"price_year": "2021/22",
                  "harm_costs": {"injury": {"gbp": 1000, "price_year": "2021/22", "source": SOURCE}}},
        "interventions": {"youth_work": {
            "title": "Detached youth work", "kind": "commissioned", "system": "sports", "annual_cost": 12000,
            "scale": {"min": 1.0, "max": 1.0}, "participants_per_year": 120, "notice_months": 3, "exit_cost": 500,
            "evidence": {"effect": 0.2, "band": "moderate", "confidence": "high", "incidents_per_participant": 1.0,
                         "harm": "injury", "source": SOURCE},
        }},
    }


def test_notice_falls_due_months_before_a_closure(write: Callable[..., Path], tmp_path: Path) -> None:
    run = CliRunner().invoke(main, ["solve", str(write("notice_hand", _scenario())), "--out", str(tmp_path / "out")])
    assert run.exit_code == 0, run.output
    summary = json.loads((tmp_path / "out" / "notice_hand" / "summary.json").read_text())
    assert summary["objective"] == pytest.approx(OBJECTIVE, abs=0.01)
    assert [{k: c[k] for k in CLOSURE} for c in summary["closures"]] == [CLOSURE]


def test_known_grant_end_says_when_to_serve_notice(write: Callable[..., Path]) -> None:
    known = {**_scenario(), "uncertainty": {"stream": "core", "fy": "2022/23", "confirmed_month": "2022-04",
                                            "outcomes": [{"name": "ends", "probability": 1.0, "amount": 0}]}}
    result = solve_cliff_edge(load_scenario(write("notice_hand", known)), value_of_information=False)
    assert result.optimal
    assert result.expected_value == pytest.approx(OBJECTIVE, abs=0.01)
    assert [{k: n[k] for k in CLOSURE} for n in result.here_and_now["notices"]] == [CLOSURE]
    assert any(s.startswith("Serve notice on Detached youth work by January 2022 whatever happens: it closes from "
                            "April 2022") for s in result.sentences), result.sentences
