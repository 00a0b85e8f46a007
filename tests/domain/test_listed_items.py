"""The items a status view lists (some statuses, the first few earliest due) are those of the
whole list of status rows, whatever bound the counts let the query take."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import Engine, select

from domain.queries.item_status import item_status_select
from domain.queries.status import AFTER_WINDOW, WINDOW, status_view
from models.db import session_scope
from models.enums import Status
from tests.fixtures.context import context_of

ASKED = [
    frozenset({Status.OVERDUE, Status.DUE_SOON, Status.BEHIND_PACE}),  # a key task's page
    frozenset({Status.DUE_SOON, Status.ON_TRACK}),
    frozenset({Status.BEHIND_PACE}),
    frozenset({Status.DUE_SOON, Status.WAITING}),  # waiting: any due date, never bounded
]


def test_the_listed_items_are_the_first_of_all_rows_earliest_due(week: Engine) -> None:
    """On each day around the week's trouble, settled or replayed, for each set of statuses
    asked and each limit: the items listed are the rows with those statuses, sorted by due
    date, task, milestone, unit and occurrence, the first ``limit``; some cases list fewer
    than there are overdue and due soon while others are behind pace or on track (where the
    query is bounded to the yellow window), others more (where it also reads the started, open
    items not waiting)."""
    bounded = started = 0
    with session_scope(week, rollback=True) as s:
        for day in [date(2021, 9, 20) + timedelta(days=n) for n in range(0, 40, 3)]:
            ctx = context_of(s, day, yellow_workdays=3, pace_margin=10)
            q = item_status_select(ctx).subquery()
            rows = s.execute(
                select(q).order_by(q.c.due, q.c.task, q.c.milestone, q.c.unit, q.c.occurrence)
            ).all()
            for asked in ASKED:
                wanted = [r.id for r in rows if Status(r.status) in asked]
                for limit in [1, 2, 3, None]:
                    view = status_view(s, ctx, only_statuses=asked, item_limit=limit)
                    assert [i.id for i in view.items] == wanted[:limit], (day, asked, limit)
                    window = [r for r in rows if Status(r.status) in asked & WINDOW]
                    after = [r for r in rows if Status(r.status) in asked & AFTER_WINDOW]
                    bounded += limit is not None and len(window) >= limit and bool(after)
                    started += (limit is None or len(window) < limit) and bool(after)
    assert bounded > 0
    assert started > 0
