"""The director's words: settings named as the controls name them, months as a reader says them, and shares and
grants read the ways a director types them."""

from __future__ import annotations

import math

from vru_model.core import periods
from vru_model.core.errors import ScenarioError


def month_label(month: str | None) -> str:
    """'2021-09' -> 'September 2021' (what a reader expects, not an ISO code)."""
    if not month:
        return "not set"
    return periods.month_name(month)


def setting_label(key: str, titles: dict[str, str] | None = None) -> str:
    """A scenario key in the words of the control that sets it ('the 2022/23 grant', not a dotted key)."""
    parts = key.split(".")
    if parts[0] == "funding" and len(parts) >= 4 and parts[2] == "amounts":
        return f"the {parts[3]} grant"
    if parts[0] == "funding" and parts[-1] == "confirmed_month":
        return "the month the grant is confirmed"
    if parts[0] == "funding" and parts[-1] == "cap":
        return "the OPCC underwriting cap"
    if parts[0] == "interventions" and len(parts) >= 3:
        return f"{(titles or {}).get(parts[1], 'a service')}: {parts[-1].replace('_', ' ')}"
    words = {"policy.partner_pickup": "the partners' pick-up", "uncertainty.confirmed_month": "the month the "
             "uncertain grant becomes known", "policy.commissioning_min_share": "the commissioning minimum",
             "name": "the file name", "title": "the title"}
    return words.get(key, key.replace(".", " ").replace("_", " "))


def one_line(exc: ScenarioError, titles: dict[str, str] | None = None) -> str:
    """A validation error as one line for the director: the setting in words and the problem, no paths or keys."""
    return "; ".join(f"{setting_label(p.key, titles) if p.key else 'the scenario'}: {p.message}"
                     for p in exc.problems)


def parse_share(value: str | float) -> float:
    """A share as a director types it: '50', '50%' and '0.5' all mean 50%.

    A % sign always means percent; without one, a number above 1 is a percentage and 1 or less a fraction."""
    if isinstance(value, int | float):
        number, percent = float(value), False
    else:
        text = value.strip().replace(",", "")
        percent = text.endswith("%")
        try:
            number = float(text.rstrip("%").strip())
        except ValueError:
            raise ValueError(f"{value.strip()!r} is not a percentage (type 50, 50% or 0.5)") from None
    if not math.isfinite(number):
        raise ValueError("type a percentage such as 50, 50% or 0.5")
    return number / 100.0 if percent or number > 1 else number


def parse_grant(value: str | float, base: float) -> float:
    """A grant as typed: pounds ('2,314,900', '£2.3m', '450k') or a percentage of `base` ('70%')."""
    if isinstance(value, int | float):
        return float(value)
    text = value.strip().lower().replace(",", "").replace("£", "").replace(" ", "")
    scale = 1.0
    if text.endswith("%"):
        if base <= 0:
            raise ValueError("the starting scenario has no grant in this year, so type it in pounds")
        text, scale = text[:-1], base / 100.0
    elif text.endswith(("m", "k")):
        text, scale = text[:-1], 1e6 if text.endswith("m") else 1e3
    try:
        number = float(text)
    except ValueError:
        raise ValueError(f"{value.strip()!r} is not an amount (type pounds, e.g. 2,500,000 or £2.5m, "
                         "or a percentage of the starting grant, e.g. 70%)") from None
    if not math.isfinite(number):
        raise ValueError("type an amount in pounds or a percentage")
    return round(number * scale, 2)

