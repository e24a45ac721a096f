"""Formatting numbers for people."""

from __future__ import annotations


def plural(n: int, noun: str, verb: str = "") -> str:
    """'1 service closes', '2 services close' (the verb in its singular form, optional)."""
    one = n == 1
    text = f"{n} {noun}{'' if one else 's'}"
    if verb:
        text += f" {verb if one else verb[:-1]}"
    return text


def money(x: float) -> str:
    """GBP for people: £1.23m, £45k, £120."""
    sign = "-" if x < 0 else ""
    x = abs(x)
    if x >= 1e6:
        return f"{sign}£{x / 1e6:.2f}m"
    if x >= 1e4:
        return f"{sign}£{x / 1e3:.0f}k"
    return f"{sign}£{x:,.0f}"
