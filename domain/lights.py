"""The light rule, written once as a SQL expression so it runs set-based over every item.

For an item on the date ``as_of`` (first matching line wins):

1. done (submitted or closed) on or before its due date → ``done_on_time`` (green)
2. done after its due date → ``done_late`` (counted apart)
3. a prerequisite item is not closed → ``waiting`` (gray: not late, it cannot start)
4. ``as_of`` is after the due date → ``overdue`` (red)
5. ``as_of`` is before the item's window opens → ``not_started`` (gray)
6. at most ``yellow_workdays`` working days left → ``due_soon`` (yellow)
7. otherwise → ``on_track`` (green)

Working days left = ordinal(due) − ordinal(as_of) on the working-day calendar, so a deadline
after a long holiday turns yellow later than a calendar-day count would.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import ColumnElement, Date, SQLColumnExpression, and_, case, literal

from domain.lifecycle import DONE_STATES
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
) -> ColumnElement[str]:
    """A CASE expression giving each row's :class:`~models.enums.Status` value."""
    today = literal(as_of, Date)
    done = state.in_([s.value for s in DONE_STATES])
    return case(
        (and_(done, done_on <= due), Status.DONE_ON_TIME.value),
        (done, Status.DONE_LATE.value),
        (waiting, Status.WAITING.value),
        (today > due, Status.OVERDUE.value),
        (today < start, Status.NOT_STARTED.value),
        (due_ordinal - as_of_ordinal <= yellow_workdays, Status.DUE_SOON.value),
        else_=Status.ON_TRACK.value,
    )
