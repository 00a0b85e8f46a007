"""Whether a finished plan's close-out is over on a day (one calendar lookup, made only after
the plan's end), and the close-out's last day."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select
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


def reporting_ends(session: Session, plan: PlanFacts, day: date) -> date | None:
    """The close-out's last day when ``day`` is past it (no report is owed for a cycle due
    later), else None."""
    if day <= plan.period_end or reminders_stopped(session, plan, day) is None:
        return None
    return close_out_last_day(session, plan)


def close_out_last_day(session: Session, plan: PlanFacts) -> date:
    """The last day reminders are planned for a finished plan: the day the coordinator extended
    the close-out to, else the close-out's last working day after the end."""
    if plan.close_out_until is not None:
        return plan.close_out_until
    end = plan.period_end
    ensure_calendar(session, end, end + timedelta(days=2 * plan.close_out_workdays + 31))
    base = session.scalars(select(CalendarDay.ordinal).where(CalendarDay.day == end)).one()
    last = session.scalar(
        select(func.min(CalendarDay.day)).where(
            CalendarDay.day > end,
            CalendarDay.is_workday.is_(True),
            CalendarDay.ordinal == base + plan.close_out_workdays,
        )
    )
    return last if last is not None else end
