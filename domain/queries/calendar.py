"""The working-day calendar as a table, so working-day arithmetic can happen inside SQL.

Ordinals count from a fixed epoch, so the table can grow by inserting only the missing days
(concurrent readers that extend it do not collide); ``rebuild_calendar`` rewrites it whole, which
``catalog sync`` does so that an edited override file takes effect.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from config.settings import get_settings
from domain.rules.workdays import Day, build_calendar, fallback_warning, load_overrides
from models.db import insert_or_skip
from models.orm import CalendarDay


def covered_range(session: Session) -> tuple[date | None, date | None]:
    """First and last day in the calendar table (None, None when empty)."""
    first, last = session.execute(
        select(func.min(CalendarDay.day), func.max(CalendarDay.day))
    ).one()
    return first, last


def _rows(days: list[Day]) -> list[dict[str, object]]:
    return [
        {
            "day": d.day,
            "is_workday": d.is_workday,
            "ordinal": d.ordinal,
            "source": d.source,
            "note": d.note,
        }
        for d in days
    ]


def rebuild_calendar(session: Session, first_year: int, last_year: int) -> None:
    """Rewrite the calendar to cover at least these years (and whatever it covered before)."""
    first, last = covered_range(session)
    start = min(date(first_year, 1, 1), first or date(first_year, 1, 1))
    end = max(date(last_year, 12, 31), last or date(last_year, 12, 31))
    days, _ = build_calendar(start, end, load_overrides(get_settings().resolved_calendar_overrides))
    session.execute(delete(CalendarDay))
    session.execute(insert(CalendarDay), _rows(days))
    session.flush()


def ensure_calendar(session: Session, *days: date) -> None:
    """Make sure the calendar covers these days, adding whole missing years (insert-only)."""
    first, last = covered_range(session)
    if first is not None and last is not None and all(first <= d <= last for d in days):
        return
    start = date(min(d.year for d in days), 1, 1)
    end = date(max(d.year for d in days), 12, 31)
    if first is not None and last is not None:
        start, end = min(start, first), max(end, last)
    built, _ = build_calendar(
        start, end, load_overrides(get_settings().resolved_calendar_overrides)
    )
    missing = [d for d in built if first is None or last is None or not first <= d.day <= last]
    if not missing:
        return
    session.execute(insert_or_skip(session, CalendarDay), _rows(missing))
    session.flush()


def fallback_warnings(session: Session, first: date, last: date) -> list[str]:
    """A warning if any day between first and last uses the Monday–Friday fallback."""
    days = session.scalars(
        select(CalendarDay.day).where(
            CalendarDay.source == "fallback", CalendarDay.day.between(first, last)
        )
    ).all()
    found = sorted({d.year for d in days})
    return [fallback_warning(found)] if found else []


def workday_ordinal(session: Session, day: date) -> int:
    """The working-day ordinal of one date (the calendar must cover it)."""
    ensure_calendar(session, day)
    return session.execute(select(CalendarDay.ordinal).where(CalendarDay.day == day)).scalar_one()
