"""Periods of the three editions as values: parsing, boundaries, neighbours, labels, and the
first working day after a period on the Chinese calendar."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from domain.rules.periods import Period, PeriodError, ended_before, issue_day
from domain.rules.workdays import official_day
from models.enums import Edition

W, M, Q = Edition.WEEK, Edition.MONTH, Edition.QUARTER


def chinese_workday(day: date) -> bool:
    """The State Council's calendar (chinesecalendar), as the database's calendar is seeded."""
    official = official_day(day)
    assert official is not None, f"chinesecalendar lacks {day}"
    return official[0]


def test_each_edition_reads_and_writes_its_own_form() -> None:
    """``2021-12`` is a month, ``2021-Q4`` a quarter, ``2021-W52`` a week; each prints back."""
    assert Period.parse(M, "2021-12") == Period(M, 2021, 12)
    assert Period.parse(M, " 2021-3 ") == Period(M, 2021, 3)
    assert Period.parse(Q, "2021-q4") == Period(Q, 2021, 4)
    assert Period.parse(W, "2021w52") == Period(W, 2021, 52)
    for period in (Period(M, 2021, 3), Period(Q, 2021, 4), Period(W, 2021, 5)):
        assert Period.from_key(str(period)) == period
    assert [str(p) for p in (Period(M, 2021, 3), Period(Q, 2021, 4), Period(W, 2021, 5))] == [
        "2021-03",
        "2021-Q4",
        "2021-W05",
    ]


@pytest.mark.parametrize(
    ("edition", "text", "message"),
    [
        (M, "2021-13", "2021年没有13月：月份应为1至12"),
        (M, "2021-00", "2021年没有0月"),
        (M, "2021-Q4", "“2021-Q4”不是月份，请写成 2021-12 这样的形式"),
        (M, "十二月", "不是月份"),
        (Q, "2021-Q5", "2021年没有第5季度：季度应为Q1至Q4"),
        (Q, "2021-Q0", "没有第0季度"),
        (Q, "2021-12", "“2021-12”不是季度，请写成 2021-Q4 这样的形式"),
        (W, "2021-W53", "2021年没有第53周"),
        (W, "2021-12", "不是ISO周"),
    ],
)
def test_a_bad_period_says_why_in_chinese(edition: Edition, text: str, message: str) -> None:
    with pytest.raises(PeriodError, match=message):
        Period.parse(edition, text)


def test_first_and_last_days() -> None:
    """A month ends on its last day (29 February in a leap year); a quarter spans three months;
    a week runs Monday to Sunday, possibly across New Year."""
    assert (Period(M, 2021, 12).first, Period(M, 2021, 12).last) == (
        date(2021, 12, 1),
        date(2021, 12, 31),
    )
    assert Period(M, 2024, 2).last == date(2024, 2, 29)
    assert Period(M, 2023, 2).last == date(2023, 2, 28)
    assert Period(M, 2100, 2).last == date(2100, 2, 28)  # not a leap year (century)
    assert Period(M, 2000, 2).last == date(2000, 2, 29)  # a leap year (400)
    assert (Period(Q, 2021, 1).first, Period(Q, 2021, 1).last) == (
        date(2021, 1, 1),
        date(2021, 3, 31),
    )
    assert (Period(Q, 2021, 3).first, Period(Q, 2021, 3).last) == (
        date(2021, 7, 1),
        date(2021, 9, 30),
    )
    assert (Period(W, 2021, 52).first, Period(W, 2021, 52).last) == (
        date(2021, 12, 27),
        date(2022, 1, 2),
    )


def test_every_day_falls_in_exactly_one_period_of_each_edition() -> None:
    """Walking two years day by day, each day lies within the period ``of`` gives it, and the
    periods follow one another with no gap (next and previous are inverse)."""
    day = date(2023, 12, 1)
    while day < date(2025, 2, 1):
        for edition in (W, M, Q):
            period = Period.of(edition, day)
            assert period.first <= day <= period.last
            assert period.next().first == period.last + timedelta(days=1)
            assert period.next().previous() == period
        day += timedelta(days=1)


def test_neighbours_cross_new_year() -> None:
    """December is followed by January of the next year; Q4 by Q1; 2022-01-01 is in 2021-W52."""
    assert Period(M, 2021, 12).next() == Period(M, 2022, 1)
    assert Period(M, 2022, 1).previous() == Period(M, 2021, 12)
    assert Period(Q, 2021, 4).next() == Period(Q, 2022, 1)
    assert Period(Q, 2022, 1).previous() == Period(Q, 2021, 4)
    assert Period.of(W, date(2022, 1, 1)) == Period(W, 2021, 52)
    assert Period(W, 2020, 53).next() == Period(W, 2021, 1)
    assert Period.of(Q, date(2021, 12, 31)) == Period(Q, 2021, 4)
    assert Period.of(M, date(2024, 2, 29)) == Period(M, 2024, 2)


def test_labels_as_a_reader_names_them() -> None:
    assert Period(M, 2021, 12).label == "2021年12月"
    assert Period(Q, 2021, 4).label == "2021年第四季度"
    assert Period(Q, 2022, 1).label == "2022年第一季度"
    assert Period(W, 2021, 52).label == "2021年第52周"


@pytest.mark.parametrize(
    ("period", "first_working_day"),
    [
        (Period(Q, 2021, 3), date(2021, 10, 8)),  # National Day: 1–7 October
        (Period(M, 2021, 9), date(2021, 10, 8)),
        (Period(M, 2021, 12), date(2022, 1, 4)),  # New Year: 1–3 January 2022
        (Period(Q, 2021, 4), date(2022, 1, 4)),
        (Period(M, 2021, 10), date(2021, 11, 1)),  # an ordinary Monday
        (Period(M, 2022, 4), date(2022, 5, 5)),  # Labour Day: 30 April – 4 May
        (Period(Q, 2023, 3), date(2023, 10, 7)),  # a make-up working Saturday (调休)
        (Period(M, 2024, 1), date(2024, 2, 1)),
    ],
)
def test_the_issue_day_is_the_first_working_day_after_the_period(
    period: Period, first_working_day: date
) -> None:
    assert issue_day(period, chinese_workday) == first_working_day


def test_a_daily_schedule_finds_the_period_that_just_ended() -> None:
    """Each morning of October 2021, only the 8th issues the September and Q3 editions."""
    issuing = {
        edition: [
            (day, p)
            for day in (date(2021, 10, 1) + timedelta(days=n) for n in range(31))
            if (p := ended_before(edition, day, chinese_workday)) is not None
        ]
        for edition in (M, Q)
    }
    assert issuing[M] == [(date(2021, 10, 8), Period(M, 2021, 9))]
    assert issuing[Q] == [(date(2021, 10, 8), Period(Q, 2021, 3))]
    assert ended_before(Q, date(2021, 11, 1), chinese_workday) is None
    assert ended_before(M, date(2021, 11, 1), chinese_workday) == Period(M, 2021, 10)
