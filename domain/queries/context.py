"""Building the as-of context (:class:`domain.rules.context.Context`) from the database, once.

One statement in the usual case: the plan's due dates, the calendar's range, the day's
working-day ordinal and the latest date of the history, read together; the calendar is extended
first when it does not cover them.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, replace
from datetime import date

from sqlalchemy import false, func, select, true, union_all
from sqlalchemy.orm import Session

from config.errors import EmptyDatabaseError, NotFoundError
from domain.queries.calendar import ensure_calendar
from domain.queries.item_status import current_items
from domain.queries.moved import moved_since
from domain.rules.context import Context, LightPolicy, PlanFacts, replays_all
from models import clock
from models.db import prefer_hash_joins
from models.orm import (
    CalendarDay,
    DeadlineChange,
    ItemDependency,
    ItemTransition,
    Plan,
    Report,
    WorkItem,
)

HISTORY_DATES = (
    ItemTransition.on_date,
    Report.received_on,
    DeadlineChange.on_date,
    ItemDependency.created_on,
    ItemDependency.retired_on,
    WorkItem.created_on,
)
"""Every date the history carries (each with an index, so its maximum is one lookup)."""


def resolve_plan(session: Session, plan_id: str | None) -> Plan:
    """The named plan, or the only plan in the database."""
    if plan_id is not None:
        plan = session.get(Plan, plan_id)
        if plan is None:
            known = "、".join(session.scalars(select(Plan.id).order_by(Plan.id)))
            hint = f"已有的规划：{known}" if known else "请先运行 `duban catalog sync`"
            raise NotFoundError(f"数据库中没有规划 {plan_id!r}；{hint}")
        return plan
    plans = list(session.scalars(select(Plan).order_by(Plan.id)))
    if not plans:
        raise EmptyDatabaseError("数据库中还没有规划；请先运行 `duban catalog sync`")
    if len(plans) > 1:
        names = "；".join(f"{p.id}（{p.title}）" for p in plans)
        raise NotFoundError(f"数据库中有{len(plans)}个规划，请用 --plan 指定其中一个：{names}")
    return plans[0]


def plan_facts(plan: Plan) -> PlanFacts:
    """The plan row's fields a context carries."""
    return PlanFacts(
        id=plan.id,
        title=plan.title,
        timezone=plan.timezone,
        period_start=plan.period_start,
        period_end=plan.period_end,
        reporting_cycle=plan.reporting_cycle,
        reporting_due=plan.reporting_due,
        close_out_workdays=plan.close_out_workdays,
        close_out_until=plan.close_out_until,
    )


def build_context(
    session: Session, plan: str | Plan | None, day: date | None, policy: LightPolicy
) -> Context:
    """The context of ``plan`` (its id, its row, or None: the only plan) on ``day`` (None: today
    in the plan's timezone): the calendar made to cover the day and the plan's due dates, hash
    joins chosen for the transaction (PostgreSQL), and the history's latest date read."""
    row = plan if isinstance(plan, Plan) else resolve_plan(session, plan)
    on = day or clock.today(row.timezone)
    prefer_hash_joins(session)
    facts = _facts(session, row.id, on)
    if not facts.covered(on):
        ensure_calendar(session, on, *(d for d in (facts.first_due, facts.last_due) if d))
        facts = _facts(session, row.id, on)
    assert facts.ordinal is not None and facts.first_day is not None and facts.last_day is not None
    ctx = Context(
        plan=plan_facts(row),
        day=on,
        ordinal=facts.ordinal,
        latest=max((d for d in facts.latest if d is not None), default=None),
        policy=policy,
        calendar=(facts.first_day, facts.last_day),
    )
    return with_moved(session, ctx)


MOVED_READ = 10_000
"""The most moved items a context carries by id; beyond, the queries find them themselves (a
long replay, where hash joins over the whole logs are the right plan anyway)."""


def with_moved(session: Session, ctx: Context) -> Context:
    """``ctx`` carrying the ids of the items moved since its day (:func:`moved_since`) and of
    the items they depend on, read once in one statement, when the history has moved past the
    day and the moved are at most :data:`MOVED_READ`: the replay then looks each one's logs up
    by index, whatever joins the transaction prefers. When they are most of the plan's live
    items (counted up to twice :data:`MOVED_READ`, in the same statement), the context replays
    every item instead."""
    if ctx.settled:
        return ctx
    moved = select(moved_since(ctx.day).subquery().c.item_id).distinct()
    ids_read = moved.limit(MOVED_READ + 1).cte("moved_read")
    live = select(WorkItem.id).where(*current_items(ctx.plan.id)).limit(2 * MOVED_READ + 1)
    live_count = select(func.count()).select_from(live.subquery()).scalar_subquery()
    # (id, whether moved: else a prerequisite of one) and the live count, on every row
    both = union_all(
        select(ids_read.c.item_id, true().label("moved")),
        select(ItemDependency.depends_on_item_id, false()).where(
            ItemDependency.item_id.in_(select(ids_read.c.item_id))
        ),
    ).subquery()
    rows = session.execute(select(both.c.item_id, both.c.moved, live_count)).all()
    ids = frozenset(row[0] for row in rows if row[1])
    if len(ids) > MOVED_READ:
        return ctx
    prerequisites = frozenset(row[0] for row in rows if not row[1])
    return replace(
        ctx,
        moved=ids,
        prerequisites=prerequisites,
        replay_all=bool(rows) and replays_all(len(ids), rows[0][2]),
    )


@dataclass(frozen=True)
class _Facts:
    """What :func:`_facts` reads in one statement."""

    first_due: date | None
    last_due: date | None
    first_day: date | None
    last_day: date | None
    ordinal: int | None
    latest: tuple[date | None, ...]

    def covered(self, day: date) -> bool:
        """Whether the calendar covers ``day`` and the plan's due dates."""
        if self.ordinal is None or self.first_day is None or self.last_day is None:
            return False
        dues = [d for d in (self.first_due, self.last_due) if d is not None]
        return all(self.first_day <= d <= self.last_day for d in [day, *dues])


def _facts(session: Session, plan_id: str, day: date) -> _Facts:
    """The plan's first and last due date, the calendar's first and last day, the day's ordinal
    and each history date's maximum, in one statement of scalar subqueries."""
    due = WorkItem.plan_id == plan_id
    columns = [
        select(func.min(WorkItem.due)).where(due).scalar_subquery(),
        select(func.max(WorkItem.due)).where(due).scalar_subquery(),
        select(func.min(CalendarDay.day)).scalar_subquery(),
        select(func.max(CalendarDay.day)).scalar_subquery(),
        select(CalendarDay.ordinal).where(CalendarDay.day == day).scalar_subquery(),
        *(select(func.max(column)).scalar_subquery() for column in HISTORY_DATES),
    ]
    first_due, last_due, first_day, last_day, ordinal, *latest = session.execute(
        select(*columns)
    ).one()
    return _Facts(first_due, last_due, first_day, last_day, ordinal, tuple(latest))


def ordinals(session: Session, ctx: Context, days: Collection[date]) -> dict[date, int]:
    """The working-day ordinal of each of ``days``, in one statement (the calendar extended
    first if the context's did not cover them)."""
    if not days:
        return {}
    if not ctx.covers(*days):
        ensure_calendar(session, *days)
    found = dict(
        session.execute(
            select(CalendarDay.day, CalendarDay.ordinal).where(CalendarDay.day.in_(set(days)))
        ).all()
    )
    return {d: found[d] for d in days}


def context_on(session: Session, ctx: Context, day: date) -> Context:
    """``ctx`` moved to another day (its ordinal looked up; none when it is the same day)."""
    if day == ctx.day:
        return ctx
    return with_moved(session, ctx.on(day, ordinals(session, ctx, [day])[day]))
