"""The working-day calendar: official holidays and make-up days, overrides, the fallback."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from config.errors import InputError
from domain.rules.workdays import Override, build_calendar, fallback_warning, load_overrides


def day_map(first: date, last: date, **kwargs: object) -> dict[date, tuple[bool, int, str]]:
    days, _ = build_calendar(first, last, **kwargs)  # type: ignore[arg-type]
    return {d.day: (d.is_workday, d.ordinal, d.source) for d in days}


def test_national_day_2026() -> None:
    """2026-10-01 (a Thursday) is a holiday; Saturday 2026-10-10 is a make-up working day."""
    days = day_map(date(2026, 9, 28), date(2026, 10, 12))
    assert days[date(2026, 10, 1)][0] is False
    assert days[date(2026, 10, 10)][0] is True
    assert days[date(2026, 10, 11)][0] is False
    assert days[date(2026, 10, 1)][2] == "chinesecalendar"


def test_ordinal_difference_counts_working_days() -> None:
    """After 2026-09-30 up to 10-12: Thu 10-08, Fri 10-09, make-up Sat 10-10, Mon 10-12."""
    days = day_map(date(2026, 9, 1), date(2026, 10, 31))
    assert days[date(2026, 10, 12)][1] - days[date(2026, 9, 30)][1] == 4


def test_year_without_official_data_falls_back_to_weekdays() -> None:
    """2027 is beyond chinesecalendar 1.11: Monday–Friday, and the year is reported."""
    days, fallback = build_calendar(date(2026, 12, 30), date(2027, 1, 4))
    assert fallback == [2027]
    by_day = {d.day: d for d in days}
    assert by_day[date(2027, 1, 1)].is_workday is True  # a Friday; New Year unknown to us
    assert by_day[date(2027, 1, 2)].is_workday is False
    assert by_day[date(2027, 1, 1)].source == "fallback"
    assert "2027" in fallback_warning(fallback)


def test_override_wins_over_official_data() -> None:
    """A local override can turn any day into a working day or a day off."""
    override = {date(2026, 10, 9): Override(date=date(2026, 10, 9), workday=False, note="本地")}
    days = day_map(date(2026, 10, 8), date(2026, 10, 10), overrides=override)
    assert days[date(2026, 10, 9)][0] is False
    assert days[date(2026, 10, 9)][2] == "override"


def test_override_file(tmp_path: Path) -> None:
    """Override files are YAML; a bad entry names its line and field."""
    good = tmp_path / "ok.yaml"
    good.write_text("days:\n  - {date: 2027-01-01, workday: false, note: 元旦}\n", encoding="utf-8")
    assert load_overrides(good)[date(2027, 1, 1)].workday is False
    bad = tmp_path / "bad.yaml"
    bad.write_text("days:\n  - {date: 2027-01-01, workday: maybe}\n", encoding="utf-8")
    with pytest.raises(InputError) as caught:
        load_overrides(bad)
    problem = caught.value.problems[0]
    assert (problem.line, problem.field) == (2, "days[0].workday")


def test_ordinals_do_not_depend_on_where_the_table_starts() -> None:
    """Ordinals count from a fixed epoch, so a later stretch can be added without renumbering."""
    whole = day_map(date(2020, 1, 1), date(2026, 12, 31))
    part = day_map(date(2026, 1, 1), date(2026, 12, 31))
    assert all(whole[d] == part[d] for d in part)


def test_calendar_grows_by_inserting_missing_days(session: object) -> None:
    """ensure_calendar adds a year without touching the days already there."""
    from sqlalchemy import func, select  # noqa: PLC0415
    from sqlalchemy.orm import Session  # noqa: PLC0415

    from domain.queries.calendar import ensure_calendar, rebuild_calendar  # noqa: PLC0415
    from models.orm import CalendarDay  # noqa: PLC0415

    assert isinstance(session, Session)
    rebuild_calendar(session, 2025, 2025)
    before = session.scalar(select(CalendarDay.ordinal).where(CalendarDay.day == date(2025, 6, 3)))
    ensure_calendar(session, date(2027, 3, 1))
    after = session.scalar(select(CalendarDay.ordinal).where(CalendarDay.day == date(2025, 6, 3)))
    assert before == after
    assert session.scalar(select(func.count()).select_from(CalendarDay)) == 365 + 365 + 365
