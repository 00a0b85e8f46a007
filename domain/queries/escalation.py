"""The escalation ladder applied to every open item at once: which notices are due on a day.

A notice is keyed by (item, level, due date, cycle), so each is planned once however often
escalation runs, an extension (new due date) starts the ladder afresh, and a day without a run
is caught up the next day at the level then reached. Items waiting on a prerequisite, not yet
started, done or retired get nothing; an acknowledged level does not repeat.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from datetime import date
from functools import cache
from typing import Any

from sqlalchemy import (
    ColumnElement,
    SQLColumnExpression,
    String,
    and_,
    case,
    func,
    literal,
    or_,
    select,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql.selectable import Subquery

from config.ladder import Ladder, Level
from domain.queries.active import active_items
from domain.queries.calendar import is_workday
from domain.queries.counts import earliest_open_due
from domain.queries.item_status import item_status_select
from domain.queries.outbox import due_bounds, in_outbox, planned_since
from domain.queries.plan_end import reminders_stopped
from domain.queries.reminders import behind_pace_notices, missing_report_notices
from domain.queries.scope import plan_milestones
from domain.rules.context import Context
from domain.rules.glossary import ladder_name, zh_date
from domain.rules.ladder import (
    PlannedNotice,
    ladder_of,
    ladders,
    longest_stay,
    rungs,
    special_ladders,
)
from models.bulk import collector_paused
from models.enums import Status
from models.orm import CalendarDay
from models.records import ItemAck


def _ladder_of_milestone(
    session: Session, plan_id: str, ladder: Ladder
) -> Callable[[SQLColumnExpression[int]], ColumnElement[str]]:
    """SQL, given a milestone id: the name of the ladder its items follow, as a CASE over the
    plan's milestone ids (a few dozen), so no row needs its milestone and task joined."""
    specials = special_ladders(ladder)
    chosen: dict[str, list[int]] = {key: [] for key, _ in specials}
    for m in plan_milestones(session, plan_id):
        key = ladder_of(ladder, m.code, m.task)
        if key != "default":
            chosen[key].append(m.id)
    whens = [(key, ids) for key, ids in chosen.items() if ids]

    def name(milestone_id: SQLColumnExpression[int]) -> ColumnElement[str]:
        if not whens:
            return literal("default", String)
        return case(*((milestone_id.in_(ids), key) for key, ids in whens), else_="default")

    return name


def due_notices(
    session: Session,
    ctx: Context,
    ladder: Ladder,
    units: Collection[int] | None = None,
    *,
    only_new: bool = False,
) -> list[PlannedNotice]:
    """Every ladder notice due on the context's day, computed in one query over all items
    (``only_new``: leaving out those already in the outbox)."""
    # no level before the earliest offset: only items due by then can have one
    earliest = min((lv.offset for lv in ladder.all_levels()), default=0)
    last_due = session.scalar(
        select(func.max(CalendarDay.day)).where(CalendarDay.ordinal <= ctx.ordinal - earliest)
    )
    if last_due is None:
        return []
    rows = _levels_reached(session, ctx, ladder, units, last_due)
    acked = (
        select(rows)
        .outerjoin(
            ItemAck,
            and_(
                ItemAck.item_id == rows.c.id,
                ItemAck.level == rows.c.level,
                ItemAck.due == rows.c.due,
                ItemAck.on_date <= ctx.day,
            ),
        )
        .where(
            or_(rows.c.cycle == 0, ItemAck.item_id.is_(None)),
            *(_not_in_outbox(session, ctx, ladder, rows, last_due) if only_new else []),
        )
        .order_by(rows.c.id)
    )
    every = {lv.id: lv for lv in ladder.all_levels()}
    return [_ladder_notice(r, every[r.level]) for r in session.execute(acked)]


def _levels_reached(
    session: Session,
    ctx: Context,
    ladder: Ladder,
    units: Collection[int] | None,
    last_due: date,
) -> Subquery:
    """Each active item due by ``last_due`` with the level and repeat cycle it has reached:
    (id, unit_id, due, overdue, level, cycle, ladder), a join with the small table of rungs
    whose [offset, next offset) holds its working days overdue."""
    active = active_items(ctx, units, due_by=last_due)
    name = _ladder_of_milestone(session, ctx.plan.id, ladder)
    items = (
        select(
            active.c.id,
            active.c.unit_id,
            active.c.due,
            (ctx.ordinal - CalendarDay.ordinal).label("overdue"),
            name(active.c.milestone_id).label("ladder"),
        )
        .join(CalendarDay, CalendarDay.day == active.c.due)
        .subquery("overdue_items")
    )
    steps = rungs(ladder)
    repeat_cycle = case(
        (steps.c.repeat == 0, 0),
        # floor division: "/" is true division in SQLAlchemy 2, and PostgreSQL rounds up
        else_=(items.c.overdue - steps.c.offset) // steps.c.repeat,
    )
    return (
        select(
            items.c.id,
            items.c.unit_id,
            items.c.due,
            items.c.overdue,
            steps.c.level,
            repeat_cycle.label("cycle"),
            items.c.ladder,
        )
        .join(
            steps,
            and_(
                steps.c.ladder == items.c.ladder,
                items.c.overdue >= steps.c.offset,
                items.c.overdue < steps.c.next_offset,
            ),
        )
        .subquery()
    )


def _not_in_outbox(
    session: Session, ctx: Context, ladder: Ladder, rows: Subquery, last_due: date
) -> list[ColumnElement[bool]]:
    """The condition that a reached level's notice is not in the outbox yet, bounded on
    PostgreSQL to due dates from the earliest open item's (settled day) to ``last_due`` and to
    the notices planned within the ladder's longest stay."""
    bounds: list[ColumnElement[bool]] = []
    if session.get_bind().dialect.name == "postgresql":
        first = earliest_open_due(session, ctx.plan.id) if ctx.settled else None
        bounds = [
            *due_bounds(session, first, last_due),
            *planned_since(session, ctx.ordinal, longest_stay(ladder)),
        ]
    held = in_outbox(
        ctx.plan.id,
        "ladder",
        rows.c.id,
        rows.c.due,
        rows.c.level,
        rows.c.cycle,
        bounds=bounds,
    )
    return [~held]


def _ladder_notice(row: Any, lv: Level) -> PlannedNotice:
    """The notice of a reached level (a row of :func:`_levels_reached`), with why it is due."""
    cycle: int = row.cycle
    return PlannedNotice(
        dedupe_key=f"ladder:{row.id}:{lv.id}:{row.due}:{cycle}",
        kind="ladder",
        item_id=row.id,
        unit_id=row.unit_id,
        level=lv.id,
        level_name=lv.name,
        due=row.due,
        cycle=cycle,
        workdays=row.overdue,
        roles=list(lv.to),
        rule=_why(row.ladder, lv.name, lv.offset, lv.repeat_every, cycle),
    )


@cache
def _why(ladder: str, name: str, offset: int, repeat_every: int | None, cycle: int) -> str:
    """Why a level's notice is due: the same words for every item at that level and cycle."""
    when = (
        "到期当日"
        if offset == 0
        else (f"到期前{-offset}个工作日" if offset < 0 else f"逾期{offset}个工作日")
    )
    repeat_text = f"，第{cycle}次重复（每{repeat_every}个工作日）" if cycle else ""
    return f"{ladder_name(ladder)}，{name}（{when}）{repeat_text}"


def all_due_notices(
    session: Session,
    ctx: Context,
    ladder: Ladder,
    units: Collection[int] | None = None,
    *,
    only_new: bool = False,
) -> list[PlannedNotice]:
    """Ladder, missing-report and behind-pace notices due on the context's day (of the items
    and units of ``units`` only, if given: one partition of the plan; ``only_new``: leaving
    out the notices already in the outbox). None on a rest day: the next working day plans
    what fell due meanwhile, at the level then reached; none once a finished plan's close-out
    is over (:mod:`domain.rules.plan_end`)."""
    if not is_workday(session, ctx.day) or reminders_stopped(session, ctx.plan, ctx.day):
        return []
    with collector_paused():  # tens of thousands of notices on a first day
        return [
            *due_notices(session, ctx, ladder, units, only_new=only_new),
            *missing_report_notices(session, ctx, ladder, units, only_new=only_new),
            *behind_pace_notices(session, ctx, ladder, units, only_new=only_new),
        ]


def explain_quiet(session: Session, ctx: Context, item_id: int, ladder: Ladder) -> str:
    """Why an item has had no reminder (yet) on the context's day, in one sentence."""
    plan, as_of = ctx.plan, ctx.day
    items = item_status_select(ctx).subquery()
    row = session.execute(
        select(
            items.c.status,
            items.c.workdays_left,
            items.c.start,
            items.c.due,
            items.c.task,
            items.c.milestone,
        ).where(items.c.id == item_id)
    ).one_or_none()
    if row is None:
        return f"{zh_date(as_of)}规划 {plan.id} 中没有在办的事项 {item_id}（已撤销或尚未生成）"
    if row.status == Status.WAITING.value:
        return "它在等待尚未销号的前置事项：等待中的事项不催办"
    if row.status == Status.NOT_STARTED.value:
        return f"它的办理期{zh_date(row.start)}开始，此后才有提醒"
    if row.status in {Status.DONE_ON_TIME.value, Status.DONE_LATE.value}:
        return "它已办结（已申请办结或已销号）"
    overdue = -row.workdays_left
    key = ladder_of(ladder, row.milestone, row.task)
    upcoming = [lv for lv in ladders(ladder)[key] if lv.offset > overdue]
    if not upcoming:
        return "现在就该提醒：请运行 `duban escalate`"
    nxt = upcoming[0]
    return (
        f"距{zh_date(row.due)}到期{overdue:+d}个工作日；"
        f"下一级提醒“{nxt.name}”在{nxt.offset:+d}个工作日时发出"
    )
