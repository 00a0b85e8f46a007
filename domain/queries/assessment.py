"""The facts an assessment (考评) scores, gathered set-based for every unit of a plan at once:
the items due or overdue in the period with their status on the assessment day (from the one
source of item statuses), the returns and extensions of the period, and each unit's reports
owed and on time (from the reporting-completeness view that ``duban status`` shows).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import Date, literal, or_, select, union_all
from sqlalchemy.orm import Session, aliased

from domain.queries.active import units_active_on
from domain.queries.calendar import CYCLE_DAYS, deadline_rule
from domain.queries.completeness import (
    completeness_view,
    sent_per_cycle,
)
from domain.queries.context import context_on, ordinals
from domain.queries.item_status import item_status_select, state_as_of
from domain.rules.assessment import (
    CycleFact,
    EventFact,
    ItemFact,
    UnitFacts,
    assessed_unit,
    overdue_workdays,
)
from domain.rules.assessment_periods import AssessedPeriod
from domain.rules.context import Context
from domain.rules.reporting import Cycle, cycles_between
from models.enums import ItemState, Status
from models.orm import CalendarDay, DeadlineChange, ItemTransition, Milestone, Task, Unit, WorkItem

DONE = (Status.DONE_ON_TIME.value, Status.DONE_LATE.value)


@dataclass(frozen=True)
class _Unit:
    id: int
    code: str
    name: str
    kind: str
    group: str


def assessment_day(period: AssessedPeriod, day: date) -> date:
    """The day an assessment looks at: the period's last day, or ``day`` if earlier."""
    return min(period.end, day)


def _units(session: Session, plan_id: str) -> dict[int, _Unit]:
    """The plan's live units, each with the unit it is assessed with."""
    parent = aliased(Unit)
    rows = session.execute(
        select(Unit.id, Unit.code, Unit.name, Unit.kind, parent.code, parent.kind)
        .outerjoin(parent, parent.id == Unit.parent_id)
        .where(Unit.plan_id == plan_id, Unit.retired_at.is_(None))
    )
    return {
        r[0]: _Unit(r[0], r[1], r[2], r[3], assessed_unit(r[3], r[1], r[4], r[5])) for r in rows
    }


def period_cycles(
    session: Session, ctx: Context, period: AssessedPeriod, last: date
) -> list[Cycle]:
    """The reporting cycles whose report is due within the period up to ``last``, and the cycle
    containing ``last`` after them when its report is due later."""
    kind, due = ctx.plan.reporting_cycle, ctx.plan.reporting_due
    span = timedelta(days=CYCLE_DAYS[kind])
    rule = deadline_rule(session, period.start - span, last + span, covered=ctx.calendar)
    every = cycles_between(period.start - span, last, kind, due, rule)
    return [c for c in every if c.due >= period.start]


def assessment_facts(
    session: Session, ctx: Context, period: AssessedPeriod, *, unit: str | None = None
) -> list[UnitFacts]:
    """The facts of every assessed unit (or of ``unit`` alone: a township with its villages,
    any other unit by itself, with its owed cycles in detail) over ``period`` as seen on the
    context's day (``ctx`` on the period's last day, or on an earlier day while it runs)."""
    last = assessment_day(period, ctx.day)
    at = context_on(session, ctx, last)
    units = _units(session, at.plan.id)
    if unit is not None:
        units = {
            k: _Unit(u.id, u.code, u.name, u.kind, unit)
            for k, u in units.items()
            if unit in {u.code, u.group}
        }
    items = _items(session, at, period, units)
    events = _events(session, at.plan.id, period, last, units)
    cycles = period_cycles(session, at, period, last)
    view = completeness_view(
        session, at, cycles=max(len(cycles), 1), units=None if unit is None else list(units)
    )
    by_code = {u.code: u for u in units.values()}
    owed: dict[str, int] = defaultdict(int)
    on_time: dict[str, int] = defaultdict(int)
    for record in view.units:
        if record.unit in by_code:
            owed[by_code[record.unit].group] += record.owed
            on_time[by_code[record.unit].group] += record.on_time
    detail = _cycles(session, at, cycles, units) if unit is not None else []
    items_of: dict[str, list[ItemFact]] = defaultdict(list)
    for i in items:
        items_of[by_code[i.unit].group].append(i)
    events_of: dict[str, list[EventFact]] = defaultdict(list)
    for e, owner in events:
        events_of[owner].append(e)
    heads = sorted((u for u in units.values() if u.code == u.group), key=lambda u: u.code)
    return [
        UnitFacts(
            unit=u.code,
            name=u.name,
            kind=u.kind,
            items=tuple(items_of[u.code]),
            events=tuple(events_of[u.code]),
            owed=owed[u.code],
            on_time=on_time[u.code],
            cycles=tuple(detail),
        )
        for u in heads
    ]


def _items(
    session: Session, at: Context, period: AssessedPeriod, units: dict[int, _Unit]
) -> list[ItemFact]:
    """Each live item not waiting on the day, due by then, and due within the period or not
    done before it began (carried over): its weight, done date and working days overdue within
    the period."""
    status = item_status_select(at).subquery("item_status")
    done = state_as_of(at.day).subquery("done")
    due_day, done_day = aliased(CalendarDay), aliased(CalendarDay)
    rows = session.execute(
        select(
            status.c.id,
            status.c.unit_id,
            status.c.milestone,
            status.c.title,
            status.c.due,
            status.c.status,
            Task.weight,
            done.c.done_on,
            due_day.ordinal,
            done_day.ordinal,
        )
        .join(Task, Task.id == status.c.task_id)
        .join(due_day, due_day.day == status.c.due)
        .outerjoin(done, done.c.item_id == status.c.id)
        .outerjoin(done_day, done_day.day == done.c.done_on)
        .where(
            status.c.unit_id.in_(list(units)),
            status.c.due <= at.day,
            status.c.status != Status.WAITING.value,
            or_(
                status.c.due >= period.start,
                status.c.status.not_in(DONE),
                done.c.done_on >= period.start,
            ),
        )
    ).all()
    before = period.start - timedelta(days=1)
    first = ordinals(session, at, [before])[before]
    out = []
    for r in rows:
        finished = r.status in DONE
        u = units[r.unit_id]
        out.append(
            ItemFact(
                item_id=r.id,
                unit=u.code,
                unit_name=u.name,
                milestone=r.milestone,
                title=r.title,
                weight=Decimal(str(r.weight)),
                due=r.due,
                done_on=r.done_on if finished else None,
                carried=r.due < period.start,
                overdue_workdays=overdue_workdays(
                    due=r[8], done=r[9] if finished else None, before=first, last=at.ordinal
                ),
            )
        )
    return out


def _events(
    session: Session, plan_id: str, period: AssessedPeriod, last: date, units: dict[int, _Unit]
) -> list[tuple[EventFact, str]]:
    """The period's returns at verification and approved extensions, with the unit each counts
    for."""
    returns = (
        select(
            literal("returned").label("kind"),
            ItemTransition.item_id,
            WorkItem.unit_id,
            ItemTransition.on_date.label("day"),
            ItemTransition.reason,
            literal(None, Date).label("old_due"),
            literal(None, Date).label("new_due"),
            ItemTransition.id.label("n"),
        )
        .join(WorkItem, WorkItem.id == ItemTransition.item_id)
        .where(
            WorkItem.plan_id == plan_id,
            ItemTransition.to_state == ItemState.RETURNED.value,
            ItemTransition.on_date.between(period.start, last),
        )
    )
    extensions = (
        select(
            literal("extension").label("kind"),
            DeadlineChange.item_id,
            WorkItem.unit_id,
            DeadlineChange.on_date.label("day"),
            DeadlineChange.reason,
            DeadlineChange.old_due,
            DeadlineChange.new_due,
            DeadlineChange.id.label("n"),
        )
        .join(WorkItem, WorkItem.id == DeadlineChange.item_id)
        .where(
            WorkItem.plan_id == plan_id,
            DeadlineChange.kind == "extension",
            DeadlineChange.on_date.between(period.start, last),
        )
    )
    both = union_all(returns, extensions).subquery("events")
    rows = session.execute(
        select(both, Milestone.code, Milestone.title)
        .join(WorkItem, WorkItem.id == both.c.item_id)
        .join(Milestone, Milestone.id == WorkItem.milestone_id)
        .where(both.c.unit_id.in_(list(units)))
        .order_by(both.c.day, both.c.kind, both.c.n)
    ).all()
    return [
        (
            EventFact(
                kind=r.kind,
                item_id=r.item_id,
                unit_name=units[r.unit_id].name,
                milestone=r.code,
                title=r.title,
                day=r.day,
                reason=r.reason,
                old_due=r.old_due,
                new_due=r.new_due,
            ),
            units[r.unit_id].group,
        )
        for r in rows
    ]


def _cycles(
    session: Session, at: Context, cycles: list[Cycle], units: dict[int, _Unit]
) -> list[CycleFact]:
    """Each cycle due by the day that a unit of ``units`` owed, and whether it sent by the
    cycle's due day and by the day: the completeness view's own per-cycle owed units and first
    arrivals, in two statements."""
    counted = [c for c in cycles if c.due <= at.day]
    if not counted:
        return []
    owed = units_active_on(session, at, [c.end for c in counted], list(units))
    first = sent_per_cycle(session, at.plan.id, counted)
    facts = []
    for n, unit_id in sorted((n, u) for n, owing in enumerate(owed) for u in owing):
        c, day = counted[n], first[n].get(unit_id)
        sent = day is not None and day <= at.day
        on_time = sent and day is not None and day <= c.due
        facts.append(CycleFact(units[unit_id].name, c.start, c.end, c.due, on_time, sent))
    return facts
