"""Whether a finished plan's close-out is over on the context's day (one calendar lookup, made
only after the plan's end)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.queries.calendar import ensure_calendar
from domain.rules.context import Context
from domain.rules.plan_end import CloseOut
from models.orm import CalendarDay


def close_out(ctx: Context) -> CloseOut:
    """The context's plan's end and close-out."""
    p = ctx.plan
    return CloseOut(p.period_end, p.close_out_workdays, p.close_out_until)


def reminders_stopped(session: Session, ctx: Context) -> CloseOut | None:
    """The plan's close-out when it is over on the context's day (no reminders then), else
    None."""
    end = close_out(ctx)
    if ctx.day <= end.end:
        return None
    ensure_calendar(session, end.end)
    end_ordinal = session.scalar(select(CalendarDay.ordinal).where(CalendarDay.day == end.end))
    assert end_ordinal is not None
    return end if end.over(ctx.day, ctx.ordinal - end_ordinal) else None
