"""How match reasons print figures: English format, the Italian one derived from it, and
a failing value never printed equal to the limit it fails."""

from __future__ import annotations

import math


def fmt(value: float | None, unit: str = "", digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "not stated"
    text = f"{value:,.{digits}f}".rstrip("0").rstrip(".") if digits else f"{value:,.0f}"
    return f"{text} {unit}".strip()


def versus(value: float | None, limit: float, unit: str = "", digits: int = 1) -> tuple[str, str]:
    """``value`` and ``limit`` formatted so that a value other than the limit never prints
    equal to it ("2.03 km, asked ≤ 2 km", not "2 km, asked ≤ 2 km")."""
    shown = fmt(value, unit, digits)
    if value is not None and not (isinstance(value, float) and math.isnan(value)):
        while digits < 4 and value != limit and shown == fmt(limit, unit, digits):
            digits += 1
            shown = fmt(value, unit, digits)
    return shown, fmt(limit, unit, digits)


def italian(text: str) -> str:
    """Italian number format for an English-formatted figure."""
    return text.replace(",", "§").replace(".", ",").replace("§", ".").replace("not stated", "non indicato")
