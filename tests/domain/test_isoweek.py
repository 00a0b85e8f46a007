"""The ISO week of a briefing as a value: parsed once, Monday to Sunday, named in its own year."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from domain.rules.isoweek import IsoWeek, WeekError, weeks_in


def test_a_week_reads_and_writes_the_same() -> None:
    """``2021-W52`` (any case, dash optional) is the week of Monday 27 December 2021."""
    for text in ("2021-W52", "2021w52", " 2021-w52 "):
        week = IsoWeek.parse(text)
        assert (week.year, week.week) == (2021, 52)
        assert str(week) == "2021-W52"
    assert IsoWeek.parse("2021-W52").monday == date(2021, 12, 27)
    assert IsoWeek.parse("2021-W52").sunday == date(2022, 1, 2)
    assert str(IsoWeek(2021, 3)) == "2021-W03"


def test_week_1_may_start_in_december() -> None:
    """The first week of 2020 starts on Monday 30 December 2019 and counts in 2020."""
    first = IsoWeek.parse("2020-W01")
    assert first.monday == date(2019, 12, 30)
    assert IsoWeek.of(date(2019, 12, 30)) == first
    assert IsoWeek.of(date(2019, 12, 29)) == IsoWeek(2019, 52)
    assert IsoWeek.of(date(2024, 12, 30)) == IsoWeek(2025, 1)


def test_new_years_day_may_belong_to_the_years_last_week() -> None:
    """1 January 2022 is a Saturday of 2021-W52; 3 January 2021 a Sunday of 2020-W53."""
    assert IsoWeek.of(date(2022, 1, 1)) == IsoWeek(2021, 52)
    assert IsoWeek.of(date(2021, 1, 3)) == IsoWeek(2020, 53)
    assert IsoWeek.of(date(2021, 1, 4)) == IsoWeek(2021, 1)


def test_only_some_years_have_a_week_53() -> None:
    """2020 and 2026 have 53 weeks (a year starting on Thursday, or a leap year on Wednesday);
    2021 has 52, and asking for its week 53 is refused in Chinese."""
    assert [weeks_in(y) for y in (2015, 2020, 2021, 2025, 2026)] == [53, 53, 52, 52, 53]
    assert IsoWeek.parse("2020-W53").monday == date(2020, 12, 28)
    assert IsoWeek.parse("2026-W53").sunday == date(2027, 1, 3)
    with pytest.raises(WeekError, match="2021年没有第53周"):
        IsoWeek.parse("2021-W53")


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("banana", "不是ISO周"),
        ("2021-41", "不是ISO周"),
        ("W41", "不是ISO周"),
        ("2021-W100", "不是ISO周"),
        ("2021-W00", "没有第0周"),
        ("2021-W54", "没有第54周"),
        ("0000-W01", "不是可用的年份"),
    ],
)
def test_a_bad_week_is_refused_in_chinese(text: str, says: str) -> None:
    """Each bad week names what is wrong; the error is a ValueError for callers that catch those."""
    with pytest.raises(WeekError, match=says) as raised:
        IsoWeek.parse(text)
    assert isinstance(raised.value, ValueError)


def test_every_day_lies_in_its_week() -> None:
    """Over 2000–2030, each day is between its week's Monday and Sunday and the week's name
    reads back to the same week; consecutive weeks are seven days apart."""
    day = date(2000, 1, 1)
    while day < date(2031, 1, 1):
        week = IsoWeek.of(day)
        assert week.monday <= day <= week.sunday
        assert week.monday.weekday() == 0
        assert IsoWeek.parse(str(week)) == week
        assert IsoWeek.of(week.monday + timedelta(days=7)).monday - week.monday == timedelta(7)
        day += timedelta(days=1)
