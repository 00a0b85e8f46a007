"""The periods an assessment (考评) covers: a quarter (``2021-Q4``) or a year (``2021``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

QUARTERS = "一二三四"


@dataclass(frozen=True)
class Period:
    """The period assessed: a quarter (``2021-Q4``) or a year (``2021``)."""

    key: str
    start: date
    end: date

    @property
    def label(self) -> str:
        """2021年第四季度 / 2021年度."""
        if "-Q" in self.key:
            return f"{self.start.year}年第{QUARTERS[int(self.key[-1]) - 1]}季度"
        return f"{self.start.year}年度"


def quarter(text: str) -> Period:
    """``2021-Q4`` → the fourth quarter of 2021; ValueError (Chinese) otherwise."""
    year, _, q = text.strip().upper().partition("-Q")
    if not (year.isdigit() and len(year) == 4 and q in {"1", "2", "3", "4"}):
        raise ValueError(f"“{text}”不是季度：请写成 2021-Q4 这样")
    n = int(q)
    start = date(int(year), 3 * n - 2, 1)
    end = date(int(year) + 1, 1, 1) if n == 4 else date(int(year), 3 * n + 1, 1)
    return Period(f"{year}-Q{n}", start, date.fromordinal(end.toordinal() - 1))


def year(text: str) -> Period:
    """``2021`` → the year 2021; ValueError (Chinese) otherwise."""
    cleaned = text.strip()
    if not (cleaned.isdigit() and len(cleaned) == 4):
        raise ValueError(f"“{text}”不是年份：请写成 2021 这样")
    y = int(cleaned)
    return Period(cleaned, date(y, 1, 1), date(y, 12, 31))


def period_of(key: str) -> Period:
    """The period a key names: ``2021-Q4`` a quarter, ``2021`` a year."""
    return quarter(key) if "-Q" in key.upper() else year(key)
