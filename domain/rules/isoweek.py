"""The ISO week a briefing belongs to (``2021-W52``): a value parsed once at the edge."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import MAXYEAR, MINYEAR, date, timedelta

_WEEK = re.compile(r"^(\d{4})-?W(\d{1,2})$", re.IGNORECASE)


class WeekError(ValueError):
    """Text that is not an ISO week, or a week its year does not have (a Chinese message)."""


def weeks_in(year: int) -> int:
    """How many ISO weeks ``year`` has, 52 or 53 (28 December is always in the last)."""
    return date(year, 12, 28).isocalendar().week


@dataclass(frozen=True)
class IsoWeek:
    """An ISO year and week: Monday to Sunday, numbered in the year its Thursday falls in."""

    year: int
    week: int

    def __post_init__(self) -> None:
        if not MINYEAR <= self.year <= MAXYEAR:
            raise WeekError(f"{self.year}年不是可用的年份")
        last = weeks_in(self.year)
        if not 1 <= self.week <= last:
            raise WeekError(f"{self.year}年没有第{self.week}周（按ISO周，该年共{last}周）")

    @classmethod
    def parse(cls, text: str) -> IsoWeek:
        """``2021-W52`` (or ``2021w52``) → the week; WeekError if it is not one."""
        match = _WEEK.match(text.strip())
        if match is None:
            raise WeekError(f"“{text}”不是ISO周，请写成 2021-W52 这样的形式")
        return cls(int(match.group(1)), int(match.group(2)))

    @classmethod
    def of(cls, day: date) -> IsoWeek:
        """The week ``day`` is in (2022-01-01 is in 2021-W52)."""
        iso = day.isocalendar()
        return cls(iso.year, iso.week)

    @property
    def monday(self) -> date:
        return date.fromisocalendar(self.year, self.week, 1)

    @property
    def sunday(self) -> date:
        return self.monday + timedelta(days=6)

    def __str__(self) -> str:
        return f"{self.year}-W{self.week:02d}"
