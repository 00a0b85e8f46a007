"""Whether a finished plan's close-out is over on a day (one calendar lookup, made only after
the plan's end)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.queries.calendar import ensure_calendar
from domain.rules.context import PlanFacts
from domain.rules.plan_end import CloseOut
from models.orm import CalendarDay


def reminders_stopped(session: Session, plan: PlanFacts, day: date) -> CloseOut | None:
    """The plan's close-out when it is over on ``day`` (no reminders then), else None."""
    end = CloseOut(plan.period_end, plan.close_out_workdays, plan.close_out_until)
    if day <= end.end:
        return None
    ensure_calendar(session, end.end, day)
    rows = session.execute(
        select(CalendarDay.day, CalendarDay.ordinal).where(CalendarDay.day.in_((end.end, day)))
    )
    ordinals: dict[date, int] = dict(rows.all())
    return end if end.over(day, ordinals[day] - ordinals[end.end]) else None
