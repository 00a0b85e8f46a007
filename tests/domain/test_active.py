"""Who has an active item, on many days in one statement, is what the status rows say day by
day: on days the history has moved past (replayed) and on settled days alike."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import Engine, select

from domain.queries.active import active_units
from domain.queries.context import context_on
from domain.queries.item_status import item_status_select
from domain.queries.scope import subtree
from models.db import session_scope
from models.enums import ACTIVE_STATUSES
from tests.fixtures.context import context_of
from tests.fixtures.plan_week import AS_OF

DAYS = [
    *(date(2021, 6, 27) + timedelta(days=7 * n) for n in range(20)),
    *(date(2021, 9, 28), date(2021, 10, 11), date(2021, 10, 12)),  # days with reports
]


def test_active_units_on_many_days_match_the_status_rows_of_each(week: Engine) -> None:
    """For the whole plan and for 甲镇's units, on twenty Sundays from June to November and the
    days reports came (the history ends on 10-15): the one statement gives, per day, the units
    of the items whose status that day is on track, due soon, behind pace or overdue."""
    with session_scope(week) as session:
        ctx = context_of(session, AS_OF, plan="demo-plan")
        assert not ctx.settled_on(DAYS[0]) and ctx.settled_on(DAYS[19])
        for units in (None, subtree(session, "demo-plan", "t1")):
            found: dict[int, set[int]] = {n: set() for n in range(len(DAYS))}
            for n, unit_id in session.execute(active_units(ctx, DAYS, units)):
                found[n].add(unit_id)
            for n, day in enumerate(DAYS):
                rows = item_status_select(context_on(session, ctx, day), units=units).subquery()
                wanted = set(
                    session.scalars(
                        select(rows.c.unit_id).where(rows.c.status.in_(ACTIVE_STATUSES))
                    )
                )
                assert found[n] == wanted, day
            assert len({frozenset(v) for v in found.values()}) > 1  # the days differ
