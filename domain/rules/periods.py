"""The period a briefing describes (a week, a month or a quarter): a value parsed once at the edge.

Each edition is a series of its own: the weekly 工作简报 (ISO weeks, ``2021-W52``), the 月通报
(``2021-12``) and the 季度推进 (``2021-Q4``). A period knows its first and last day, the period
before it, its label (2021年12月, 2021年第四季度) and the day it is issued on: the first working
day after it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import MAXYEAR, MINYEAR, date, timedelta

from domain.rules.glossary import QUARTERS
from domain.rules.isoweek import IsoWeek, WeekError
from domain.rules.workdays import postpone
from models.enums import Edition

_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
_QUARTER = re.compile(r"^(\d{4})-?Q(\d{1,2})$", re.IGNORECASE)
_FORMS = {Edition.WEEK: "2021-W52", Edition.MONTH: "2021-12", Edition.QUARTER: "2021-Q4"}
_KINDS = {Edition.WEEK: "ISO周", Edition.MONTH: "月份", Edition.QUARTER: "季度"}


class PeriodError(ValueError):
    """Text that is not a period of its edition (a Chinese message)."""


@dataclass(frozen=True)
class Period:
    """One week (ISO), month or quarter: ``index`` is the week (1–53), month (1–12) or
    quarter (1–4) within ``year`` (the ISO year for a week)."""

    edition: Edition
    year: int
    index: int

    def __post_init__(self) -> None:
        if not MINYEAR < self.year < MAXYEAR:  # a neighbour period must exist too
            raise PeriodError(f"{self.year}年不是可用的年份")
        if self.edition is Edition.WEEK:
            try:
                IsoWeek(self.year, self.index)
            except WeekError as exc:
                raise PeriodError(str(exc)) from None
        elif self.edition is Edition.MONTH and not 1 <= self.index <= 12:
            raise PeriodError(f"{self.year}年没有{self.index}月：月份应为1至12")
        elif self.edition is Edition.QUARTER and not 1 <= self.index <= 4:
            raise PeriodError(f"{self.year}年没有第{self.index}季度：季度应为Q1至Q4")

    @classmethod
    def parse(cls, edition: Edition, text: str) -> Period:
        """``2021-W52``, ``2021-12`` or ``2021-Q4`` (as ``edition`` asks) → the period;
        PeriodError if the text is not one."""
        cleaned = text.strip()
        if edition is Edition.WEEK:
            try:
                week = IsoWeek.parse(cleaned)
            except WeekError as exc:
                raise PeriodError(str(exc)) from None
            return cls(edition, week.year, week.week)
        match = (_MONTH if edition is Edition.MONTH else _QUARTER).match(cleaned)
        if match is None:
            raise PeriodError(f"“{text}”不是{_KINDS[edition]}，请写成 {_FORMS[edition]} 这样的形式")
        return cls(edition, int(match.group(1)), int(match.group(2)))

    @classmethod
    def from_key(cls, key: str) -> Period:
        """The period its :func:`str` names, whatever its edition (``2021-W52``, ``2021-12``,
        ``2021-Q4``)."""
        upper = key.strip().upper()
        edition = Edition.WEEK if "W" in upper else Edition.QUARTER if "Q" in upper else None
        return cls.parse(edition or Edition.MONTH, key)

    @classmethod
    def of(cls, edition: Edition, day: date) -> Period:
        """The period of ``edition`` that ``day`` falls in (2022-01-01 is in 2021-W52)."""
        if edition is Edition.WEEK:
            week = IsoWeek.of(day)
            return cls(edition, week.year, week.week)
        if edition is Edition.MONTH:
            return cls(edition, day.year, day.month)
        return cls(edition, day.year, (day.month - 1) // 3 + 1)

    @property
    def first(self) -> date:
        if self.edition is Edition.WEEK:
            return IsoWeek(self.year, self.index).monday
        if self.edition is Edition.MONTH:
            return date(self.year, self.index, 1)
        return date(self.year, 3 * self.index - 2, 1)

    @property
    def last(self) -> date:
        if self.edition is Edition.WEEK:
            return self.first + timedelta(days=6)
        return self.next().first - timedelta(days=1)

    def next(self) -> Period:
        """The period right after this one (of the same edition)."""
        if self.edition is Edition.WEEK:
            return Period.of(self.edition, self.first + timedelta(days=7))
        months = 1 if self.edition is Edition.MONTH else 3
        month = self.first.month - 1 + months
        return Period.of(self.edition, date(self.year + month // 12, month % 12 + 1, 1))

    def previous(self) -> Period:
        """The period right before this one (of the same edition)."""
        return Period.of(self.edition, self.first - timedelta(days=1))

    @property
    def label(self) -> str:
        """2021年第52周, 2021年12月, 2021年第四季度."""
        if self.edition is Edition.WEEK:
            return f"{self.year}年第{self.index}周"
        if self.edition is Edition.MONTH:
            return f"{self.year}年{self.index}月"
        return f"{self.year}年第{QUARTERS[self.index - 1]}季度"

    def __str__(self) -> str:
        if self.edition is Edition.WEEK:
            return f"{self.year}-W{self.index:02d}"
        if self.edition is Edition.MONTH:
            return f"{self.year}-{self.index:02d}"
        return f"{self.year}-Q{self.index}"


def issue_day(period: Period, is_workday: Callable[[date], bool]) -> date:
    """The day a period's edition is issued: the first working day after the period (after
    the third quarter of 2021, National Day's holiday makes it 2021-10-08)."""
    return postpone(period.last + timedelta(days=1), is_workday)


def ended_before(edition: Edition, day: date, is_workday: Callable[[date], bool]) -> Period | None:
    """The period of ``edition`` whose issue day is ``day``, or None when ``day`` is not the
    first working day after a period (what a daily schedule asks each morning)."""
    candidate = Period.of(edition, day).previous()
    return candidate if issue_day(candidate, is_workday) == day else None
