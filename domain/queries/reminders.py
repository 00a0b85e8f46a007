"""The notices beside the ladder: a reminder to each unit that has not sent the cycle's report,
and a notice for each item behind its straight-line pace (序时进度)."""

from __future__ import annotations

from collections.abc import Collection
from datetime import timedelta

from sqlalchemy import String, cast, exists, func, literal, select
from sqlalchemy.orm import Session

from config.ladder import Ladder
from domain.queries.calendar import reporting_cycle
from domain.queries.completeness import missing_select
from domain.queries.context import ordinals, with_moved
from domain.queries.item_status import item_status_select
from domain.queries.outbox import due_bounds, in_outbox
from domain.rules.context import Context
from domain.rules.glossary import zh_date
from domain.rules.ladder import PlannedNotice
from domain.rules.lifecycle import done_values
from models.enums import Status
from models.orm import CalendarDay
from models.records import Notice


def missing_report_notices(
    session: Session,
    ctx: Context,
    ladder: Ladder,
    units: Collection[int] | None = None,
    *,
    only_new: bool = False,
) -> list[PlannedNotice]:
    """A reminder to each unit that owed this cycle's report and has sent none, once the
    cycle's due day is ``missing_report.after`` working days behind."""
    rule = ladder.missing_report
    if rule is None:
        return []
    plan, as_of = ctx.plan, ctx.day
    kind, due = plan.reporting_cycle, plan.reporting_due
    cycle = reporting_cycle(session, kind, due, as_of, covered=ctx.calendar)
    previous = reporting_cycle(
        session, kind, due, cycle.start - timedelta(days=1), covered=ctx.calendar
    )
    known = ordinals(session, ctx, [cycle.due, cycle.end, previous.due, previous.end])
    if as_of < cycle.due or ctx.ordinal - known[cycle.due] < rule.after:
        cycle = previous
    late = ctx.ordinal - known[cycle.due]
    if late < rule.after:
        return []
    at_end = with_moved(session, ctx.on(cycle.end, known[cycle.end]))
    missing = missing_select(at_end, cycle, as_of, units)
    query = select(missing.c.unit_id).order_by(missing.c.unit_id)
    if only_new:
        query = query.where(
            ~exists().where(
                Notice.plan_id == plan.id,
                Notice.kind == "missing_report",
                # this cycle's notices alone (its due day)
                *due_bounds(session, cycle.due, cycle.due),
                Notice.dedupe_key
                == literal("missing:")
                + cast(missing.c.unit_id, String)
                + literal(f":{cycle.start}"),
            )
        )
    why = (
        f"应报{zh_date(cycle.start)}至{zh_date(cycle.end)}的进展"
        f"（{zh_date(cycle.due)}截止），未报送"
    )
    return [
        PlannedNotice(
            dedupe_key=f"missing:{unit_id}:{cycle.start}",
            kind="missing_report",
            item_id=None,
            unit_id=unit_id,
            level="missing-report",
            level_name="未报进展提醒",
            due=cycle.due,
            cycle=0,
            workdays=late,
            roles=list(rule.to),
            rule=why,
        )
        for unit_id in session.scalars(query)
    ]


def behind_pace_notices(
    session: Session,
    ctx: Context,
    ladder: Ladder,
    units: Collection[int] | None = None,
    *,
    only_new: bool = False,
) -> list[PlannedNotice]:
    """A notice, once per due date, for each item behind its straight-line pace (序时进度)."""
    rule = ladder.behind_pace
    if rule is None:
        return []
    as_of, margin = ctx.day, ctx.policy.pace_margin
    items = item_status_select(ctx, units=units).subquery()
    # behind pace implies open, not waiting, started, and more than the yellow days before the
    # due date: plain column tests that leave the status to be worked out for a few items
    last_yellow = session.scalar(
        select(func.max(CalendarDay.day)).where(
            CalendarDay.ordinal <= ctx.ordinal + ctx.policy.yellow_workdays
        )
    )
    after_yellow = (last_yellow or as_of) + timedelta(days=1)
    necessary = [
        items.c.state.not_in(done_values()),
        ~items.c.waiting,
        items.c.start <= as_of,
        items.c.due >= after_yellow,
    ]
    new_only = [
        ~in_outbox(
            ctx.plan.id,
            "behind_pace",
            items.c.id,
            items.c.due,
            bounds=due_bounds(session, after_yellow, None),
        )
    ]
    return [
        PlannedNotice(
            dedupe_key=f"pace:{r.id}:{r.due}",
            kind="behind_pace",
            item_id=r.id,
            unit_id=r.unit_id,
            level="behind-pace",
            level_name="序时进度滞后",
            due=r.due,
            cycle=0,
            workdays=-r.workdays_left,
            roles=list(rule.to),
            rule=f"报送进度{r.percent}%，落后序时进度（办理期起止之间均匀推进）超过{margin}个百分点",
        )
        for r in session.execute(
            select(items.c.id, items.c.unit_id, items.c.due, items.c.workdays_left, items.c.percent)
            .where(
                *necessary,
                items.c.status == Status.BEHIND_PACE.value,
                *(new_only if only_new else []),
            )
            .order_by(items.c.id)
        )
    ]
