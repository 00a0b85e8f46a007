"""The periods an assessment (考评) covers: a quarter (``2021-Q4``, as the briefings'
:class:`~domain.rules.periods.Period` reads it) or a year (``2021``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from domain.rules.glossary import zh_date
from domain.rules.periods import Period, PeriodError
from models.enums import Edition


@dataclass(frozen=True)
class AssessedPeriod:
    """The period assessed: a quarter (``2021-Q4``) or a year (``2021``)."""

    key: str
    start: date
    end: date
    label: str  # 2021年第四季度 / 2021年度


def quarter(text: str) -> AssessedPeriod:
    """``2021-Q4`` → the fourth quarter of 2021; ValueError (Chinese) otherwise."""
    try:
        q = Period.parse(Edition.QUARTER, text.strip().upper())
    except PeriodError:
        raise ValueError(f"“{text}”不是季度：请写成 2021-Q4 这样") from None
    return AssessedPeriod(str(q), q.first, q.last, q.label)


def year(text: str) -> AssessedPeriod:
    """``2021`` → the year 2021; ValueError (Chinese) otherwise."""
    cleaned = text.strip()
    if not (cleaned.isdigit() and len(cleaned) == 4):
        raise ValueError(f"“{text}”不是年份：请写成 2021 这样")
    y = int(cleaned)
    return AssessedPeriod(cleaned, date(y, 1, 1), date(y, 12, 31), f"{y}年度")


def period_of(key: str) -> AssessedPeriod:
    """The period a key names: ``2021-Q4`` a quarter, ``2021`` a year."""
    return quarter(key) if "Q" in key.upper() else year(key)


def outside_plan(period: AssessedPeriod, start: date, end: date) -> str | None:
    """Why ``period`` is not assessed for a plan running from ``start`` to ``end`` (it lies
    wholly after the end or before the start), else None."""
    if period.start > end:
        return f"{period.label}在规划期满（{zh_date(end)}）之后：规划期满后不再考评"
    if period.end < start:
        return f"{period.label}在规划开始（{zh_date(start)}）之前"
    return None
