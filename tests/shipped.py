"""The shipped scenarios as one batch (plus a hostile one): run once per test session by `conftest.shipped_batch`."""

from __future__ import annotations

import shutil
from pathlib import Path

from click.testing import CliRunner

from vru_model.apps.cli import main

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ["baseline", "inflation_erosion", "cut_25", "cut_50", "grant_ends", "late_confirmation",
           "partner_fails_to_mainstream", "growth_20", "infeasible_example", "replan_2021_09"]
EVIL = ["<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "<script>window.__xss=1</script>"]
XSS_YAML = f"""name: xss_probe
title: "Hostile {EVIL[0]} {EVIL[1]}"
description: "{EVIL[2]}"
extends: baseline
interventions:
  iris:
    title: "IRIS {EVIL[1]}"
  mentors_in_violence_prevention:
    title: "MVP {EVIL[0]}"
"""
SHIPPED_SAMPLES = 4  # the batch default is 20; a few samples exercise the same section at a fifth of the cost


def run_shipped(tmp: Path) -> tuple[Path, object]:
    """Copy the shipped scenarios and the hostile one into `tmp` and batch them; (outputs folder, CLI result)."""
    scenarios = tmp / "scenarios"
    scenarios.mkdir()
    for path in (ROOT / "scenarios").glob("*.yaml"):
        shutil.copy(path, scenarios / path.name)
    shutil.copytree(ROOT / "scenarios" / "actuals", scenarios / "actuals")  # replan_2021_09's actual spend
    (scenarios / "xss_probe.yaml").write_text(XSS_YAML)
    out = tmp / "outputs"
    result = CliRunner().invoke(main, ["batch", *map(str, sorted(scenarios.glob("*.yaml"))), "--out", str(out),
                                       "--workers", "2", "--timeout", "600", "--samples", str(SHIPPED_SAMPLES)])
    return out, result
