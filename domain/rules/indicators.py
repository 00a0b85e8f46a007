"""Plan indicators from unit measures: always a ratio of sums, never a mean of ratios.

value = sum over reporting units of the numerator measures × factor
        / sum over the same units of the denominator measures

A unit counts for an indicator when it is in the indicator's scope and has reported every
measure the formula uses (the pseudo-measure ``units`` is 1 per unit). The light: gray without
data; green when the target is met; yellow when not met and the due date is still ahead; red
when not met on or after the due date.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from datetime import date

from pydantic import BaseModel

from models.enums import Light

UNITS = "units"
OPS: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge,
    "<=": operator.le,
    ">": operator.gt,
    "<": operator.lt,
    "==": operator.eq,
}


class AreaValue(BaseModel):
    """An indicator's value over one township's units."""

    code: str
    name: str
    value: float | None
    units_reported: int
    units_in_scope: int


class IndicatorValue(BaseModel):
    """One indicator on a date, with its target, gap and light, county-wide and per township."""

    id: str
    name: str
    unit_of_measure: str
    target_op: str
    target: float
    aspirational: bool
    due: date
    value: float | None
    numerator: float
    denominator: float
    units_reported: int
    units_in_scope: int
    gap: float | None
    light: Light
    townships: list[AreaValue]


def ratio(numerator: float, denominator: float, factor: float) -> float | None:
    """numerator × factor / denominator, or None when the denominator is 0."""
    return numerator * factor / denominator if denominator else None


def unit_value(values: dict[str, float], parts: Sequence[str]) -> float:
    """Sum of a unit's measures (``units`` counts 1)."""
    return sum(1.0 if p == UNITS else values[p] for p in parts)


def light_for(value: float | None, op: str, target: float, due: date, as_of: date) -> Light:
    """The indicator light rule (module docstring)."""
    if value is None:
        return Light.GRAY
    if OPS[op](round(value, 6), target):
        return Light.GREEN
    return Light.RED if as_of >= due else Light.YELLOW
