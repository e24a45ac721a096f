"""Formatting numbers for people."""

from __future__ import annotations

import math

# (threshold, divisor, suffix): amounts from the threshold up are shown in that unit, to three significant figures
MONEY_UNITS = ((1e12, 1e12, "tn"), (1e9, 1e9, "bn"), (1e6, 1e6, "m"), (1e4, 1e3, "k"))


def plural(n: int, noun: str, verb: str = "") -> str:
    """'1 service closes', '2 services close' (the verb in its singular form, optional)."""
    one = n == 1
    text = f"{n} {noun}{'' if one else 's'}"
    if verb:
        text += f" {verb if one else verb[:-1]}"
    return text


def _three_figures(x: float) -> str:
    """3.307 -> '3.31', 12.34 -> '12.3', 123.4 -> '123', 3.0 -> '3', 1234.5 -> '1,235' (never a trailing zero)."""
    digits = 0 if x >= 100 else 1 if x >= 10 else 2
    text = f"{x:,.{digits}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def money(x: float) -> str:
    """The one money style for every page, chart and title: £ with k, m, bn, tn to three significant figures.

    £120, £9,999, £45k, £999k, £1m, £3.31m, £12.3m, £123m, £1.5bn, £2tn, £1,000tn (1e15); a small non-zero
    amount is '<£1', never '£0'; negative amounts start with a minus sign. The unit is chosen after rounding, so
    £999,999 is '£1m', not '£1,000k'.
    """
    if not math.isfinite(x):
        return "–"
    sign = "-" if x < 0 else ""
    size = abs(x)
    if 0 < size < 0.5:
        return f"{sign}<£1"
    for threshold, divisor, suffix in MONEY_UNITS:
        if size >= threshold * 0.9995:  # what rounds up to the unit is shown in it
            return f"{sign}£{_three_figures(size / divisor)}{suffix}"
    return f"{sign}£{size:,.0f}"
