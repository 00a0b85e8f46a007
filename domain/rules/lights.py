"""The light rule, written once as a SQL expression so it runs set-based over every item.

For an item on the date ``as_of`` (first matching line wins):

1. done (submitted or closed) on or before its due date → ``done_on_time`` (green)
2. done after its due date → ``done_late`` (counted apart)
3. a prerequisite item is not closed → ``waiting`` (gray: not late, it cannot start)
4. ``as_of`` is after the due date → ``overdue`` (red)
5. ``as_of`` is before the item's window opens → ``not_started`` (gray)
6. at most ``yellow_workdays`` working days left → ``due_soon`` (yellow)
7. the reported percent lags the straight-line expectation (working days elapsed since the
   window opened ÷ working days in the window × 100) by more than ``pace_margin`` points →
   ``behind_pace`` (yellow, 序时进度滞后)
8. otherwise → ``on_track`` (green)

Working days left = ordinal(due) − ordinal(as_of) on the working-day calendar, so a deadline
after a long holiday turns yellow later than a calendar-day count would.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import ColumnElement, Date, SQLColumnExpression, and_, case, literal

from domain.rules.lifecycle import done_values
from models.enums import Status


def status_expression(
    *,
    state: SQLColumnExpression[str],
    done_on: SQLColumnExpression[date | None],
    start: SQLColumnExpression[date],
    due: SQLColumnExpression[date],
    due_ordinal: SQLColumnExpression[int],
    waiting: SQLColumnExpression[bool],
    as_of: date,
    as_of_ordinal: int,
    yellow_workdays: int,
    start_ordinal: SQLColumnExpression[int] | None = None,
    percent: SQLColumnExpression[int] | None = None,
    pace_margin: int | None = None,
) -> ColumnElement[str]:
    """A CASE expression giving each row's :class:`~models.enums.Status` value."""
    today = literal(as_of, Date)
    done = state.in_(done_values())
    return case(
        (and_(done, done_on <= due), Status.DONE_ON_TIME.value),
        (done, Status.DONE_LATE.value),
        (waiting, Status.WAITING.value),
        (today > due, Status.OVERDUE.value),
        (today < start, Status.NOT_STARTED.value),
        (due_ordinal - as_of_ordinal <= yellow_workdays, Status.DUE_SOON.value),
        *_behind_pace(start_ordinal, due_ordinal, as_of_ordinal, percent, pace_margin),
        else_=Status.ON_TRACK.value,
    )


def _behind_pace(
    start_ordinal: SQLColumnExpression[int] | None,
    due_ordinal: SQLColumnExpression[int],
    as_of_ordinal: int,
    percent: SQLColumnExpression[int] | None,
    margin: int | None,
) -> list[tuple[ColumnElement[bool], str]]:
    """(expected − reported) × span > margin × span, in integers: no division, no rounding."""
    if start_ordinal is None or percent is None or margin is None:
        return []
    span = due_ordinal - start_ordinal
    elapsed = literal(as_of_ordinal) - start_ordinal
    lagging = and_(span > 0, elapsed * 100 - percent * span > margin * span)
    return [(lagging, Status.BEHIND_PACE.value)]


def active_condition(
    *,
    state: SQLColumnExpression[str],
    start: SQLColumnExpression[date],
    waiting: SQLColumnExpression[bool],
    as_of: date,
) -> ColumnElement[bool]:
    """True where :func:`status_expression` gives one of ``ACTIVE_STATUSES`` (on track, due
    soon, behind pace, overdue): not done (1–2), not waiting (3), and the window open by the
    day (5), which an overdue item's (4) is too: an item never starts after its due date
    (migration 0010 checks it). It needs no calendar and no CASE, so "who owes a report" is a
    plain filter, one range of the active-items index. For the items' current columns only (a
    settled day): a replay pairs today's start with a past due date, which may be earlier."""
    return and_(
        state.not_in(done_values()),
        ~waiting,
        start <= literal(as_of, Date),
    )
