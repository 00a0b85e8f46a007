"""Reading the facts a briefing is built from (the only module of the briefing that queries).

Statuses come from the same set-based query as ``duban status`` (as of the briefing date and
seven days before); escalation levels, and which items reached the leadership, from the outbox;
reasons, next steps and problems from unit reports; 最近一期报送 and timeliness from the same
reporting view as ``duban status``; prerequisites from the item dependencies; indicators from
their view, now and on an earlier date (their pace).
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from datetime import date, timedelta
from sys import intern
from typing import Any

from sqlalchemy import Row, Select, func, select
from sqlalchemy.orm import Session

from domain.queries.calendar import fallback_warnings
from domain.queries.completeness import reporting_view
from domain.queries.context import context_on
from domain.queries.indicators import indicator_values, nearest_of_kind
from domain.queries.item_status import item_status_select, valid_on
from domain.queries.plan_end import close_out_last_day
from domain.queries.scope import subtree
from domain.queries.status import task_rows
from domain.rules.briefing.build import covered_days, masthead_title
from domain.rules.briefing.facts import (
    Facts,
    ItemFact,
    ProblemFact,
    TaskFact,
    TimelinessFact,
    UnitFact,
)
from domain.rules.briefing.model import Reporting
from domain.rules.context import Context
from domain.rules.periods import Period
from models.enums import STATUS_LIGHT, Edition, ItemState, Light, Status, UnitKind
from models.orm import DeadlineChange, ItemDependency, Plan, Report, Unit, WorkItem
from models.records import MeasureValue, Notice

CHUNK = 1000
LEVEL_BATCH = 5_000
"""Ids named in one statement by :func:`escalation_levels` and :func:`leadership_items`."""
WHOLE_PLAN = 100_000
"""From this many items on, they look up every item of the plan instead of naming them (a list
of a million ids costs more than the lookups it saves)."""
STREAM = {"yield_per": 10_000}
"""Rows fetched from a server-side cursor in batches, not a million at once."""


def item_facts(
    session: Session, ctx: Context, units: Collection[int] | None = None
) -> list[ItemFact]:
    """Every live item of the plan (of ``units``, if given) with its status on the day.

    A province's plan has a million items naming a few thousand tasks, milestones, units and
    dates: each distinct value is kept once (the driver makes a new object per row), which
    keeps the list to a fraction of the memory."""
    rows = item_status_select(ctx, units=units).subquery()
    days: dict[date, date] = {}
    return [
        ItemFact(
            id=r.id,
            task=intern(r.task),
            milestone=intern(r.milestone),
            title=intern(r.title),
            unit=intern(r.unit),
            unit_name=intern(r.unit_name),
            due=days.setdefault(r.due, r.due),
            status=Status(r.status),
            workdays_left=r.workdays_left,
            blocked=r.state == ItemState.BLOCKED.value,
        )
        for r in session.execute(select(rows).order_by(rows.c.id), execution_options=STREAM)
    ]


def item_statuses(
    session: Session, ctx: Context, units: Collection[int] | None = None
) -> dict[int, Status]:
    """Item id → status on the day (the previous briefing's picture: nothing else of it is
    needed)."""
    rows = item_status_select(ctx, units=units).subquery()
    query = select(rows.c.id, rows.c.status)
    return {
        item_id: Status(status)
        for item_id, status in session.execute(query, execution_options=STREAM)
    }


def unit_facts(session: Session, plan: Plan) -> dict[str, UnitFact]:
    """Units with their ranking group: a village or community counts under its township;
    a township and a department under themselves; the leadership under none."""
    units = {u.id: u for u in session.scalars(select(Unit).where(Unit.plan_id == plan.id))}
    ranked_under = nearest_of_kind(units, (UnitKind.TOWNSHIP, UnitKind.DEPARTMENT))
    out = {}
    for unit in units.values():
        current = ranked_under[unit.id]
        group = current.code if current is not None else None
        if group == plan.leadership_code or unit.retired_at is not None:
            group = None
        out[unit.code] = UnitFact(
            code=unit.code,
            name=unit.name,
            group=group,
            is_department=unit.kind == UnitKind.DEPARTMENT.value,
        )
    return out


def task_facts(session: Session, plan: Plan, items: list[ItemFact]) -> list[TaskFact]:
    """The key tasks with their lead unit; a retired task stays while it still has items."""
    per_task: dict[str, dict[Light, int]] = {}
    for i in items:
        per_task.setdefault(i.task, dict.fromkeys(Light, 0))[STATUS_LIGHT[i.status]] += 1
    return [
        TaskFact(t.task, t.number, t.title, t.lead_name)
        for t in task_rows(session, plan.id, per_task, only=None)
    ]


def escalation_levels(
    session: Session, plan_id: str, as_of: date, due: dict[int, date]
) -> dict[int, str]:
    """The last ladder level sent about each item (id → its due date on ``as_of``) for that due
    date, as of the date.

    Each item's latest ladder notice is one lookup in the outbox's index by (item, id)
    (migration 0024), so the cost follows the items asked about, not the notices ever sent."""
    found = select(Notice.item_id, Notice.level_name, Notice.due)
    return {
        n.item_id: n.level_name
        for n in _latest_ladder(session, plan_id, as_of, due, found)
        if n.item_id is not None and due.get(n.item_id) == n.due
    }


def _latest_ladder(
    session: Session,
    plan_id: str,
    as_of: date,
    due: dict[int, date],
    found: Select[*tuple[Any, ...]],
) -> Iterator[Row[*tuple[Any, ...]]]:
    """``found``'s rows (a select from ``notice``) of each item's latest ladder notice sent by
    ``as_of`` (items: the keys of ``due``): one backward walk of the index by (item, id) per
    item, then the notices read by id."""
    if not due:
        return
    item = WorkItem.__table__.alias("item")
    latest = (
        select(Notice.id)
        .where(
            Notice.item_id == item.c.id,
            Notice.kind == "ladder",
            Notice.status == "sent",
            Notice.planned_on <= as_of,
        )
        .order_by(Notice.id.desc())
        .limit(1)
        .correlate(item)
        .scalar_subquery()
    )
    named = sorted(due)
    asked = (
        [item.c.plan_id == plan_id]
        if len(due) >= WHOLE_PLAN
        else [
            item.c.id.in_(named[start : start + LEVEL_BATCH])
            for start in range(0, len(named), LEVEL_BATCH)
        ]
    )
    # two statements, no join: a join would be hashed when the transaction prefers hash joins
    # (models.db.prefer_hash_joins), reading the whole outbox
    ids = [i for a in asked for i in session.scalars(select(latest).where(a)) if i is not None]
    for start in range(0, len(ids), LEVEL_BATCH):
        yield from session.execute(found.where(Notice.id.in_(ids[start : start + LEVEL_BATCH])))


def statements(session: Session, plan: Plan, as_of: date) -> tuple[dict[int, str], dict[int, str]]:
    """Each item's problem (存在问题) and next steps (下步措施) as its unit wrote them in its
    latest report up to the date (a later report without a problem means the problem is over)."""
    last = (
        select(func.max(Report.id))
        .where(Report.plan_id == plan.id, Report.received_on <= as_of)
        .group_by(Report.item_id)
    )
    problems: dict[int, str] = {}
    steps: dict[int, str] = {}
    query = select(Report.item_id, Report.problem, Report.next_steps).where(Report.id.in_(last))
    for item_id, problem, next_steps in session.execute(query):
        if problem and problem.strip():
            problems[item_id] = " ".join(problem.split())
        if next_steps and next_steps.strip():
            steps[item_id] = " ".join(next_steps.split())
    return problems, steps


def leadership_items(
    session: Session, plan_id: str, as_of: date, due: dict[int, date]
) -> frozenset[int]:
    """The items (id → due date on ``as_of``; pass the overdue ones) whose last ladder notice
    sent by the date, for that due date, went to the leadership."""
    found = select(Notice.item_id, Notice.due, Notice.roles)
    return frozenset(
        n.item_id
        for n in _latest_ladder(session, plan_id, as_of, due, found)
        if n.item_id is not None and due.get(n.item_id) == n.due and "leadership" in n.roles
    )


def prerequisites_of(session: Session, as_of: date, items: list[int]) -> dict[int, tuple[int, ...]]:
    """Item id → the items it depends on in force on the date (for ``items`` only)."""
    out: dict[int, list[int]] = {}
    for start in range(0, len(items), CHUNK):
        query = select(ItemDependency.item_id, ItemDependency.depends_on_item_id).where(
            ItemDependency.item_id.in_(items[start : start + CHUNK]), valid_on(as_of)
        )
        for item_id, before in session.execute(query):
            out.setdefault(item_id, []).append(before)
    return {k: tuple(sorted(v)) for k, v in out.items()}


BASELINE_DAYS = 91
"""An indicator's pace is measured over at most this many days before the briefing date."""


def indicator_baselines(session: Session, plan: Plan, as_of: date) -> dict[str, tuple[date, float]]:
    """Indicator id → (an earlier date, its value then): the first day with data within the
    last :data:`BASELINE_DAYS` days; empty when there is no earlier data."""
    first = session.scalar(
        select(func.min(MeasureValue.received_on)).where(
            MeasureValue.plan_id == plan.id,
            MeasureValue.received_on >= as_of - timedelta(days=BASELINE_DAYS),
            MeasureValue.received_on < as_of,
        )
    )
    if first is None:
        return {}
    return {
        v.id: (first, v.value)
        for v in indicator_values(session, plan.id, first)
        if v.value is not None
    }


def extensions(
    session: Session, plan: Plan, as_of: date, since: date, units: Collection[int] | None = None
) -> int:
    """Deadlines moved by an approved extension after ``since``, up to the date."""
    first, last = covered_days(as_of, since)
    return (
        session.scalar(
            select(func.count())
            .select_from(DeadlineChange)
            .join(WorkItem, WorkItem.id == DeadlineChange.item_id)
            .where(
                WorkItem.plan_id == plan.id,
                DeadlineChange.kind == "extension",
                DeadlineChange.on_date.between(first, last),
                *([WorkItem.unit_id.in_(units)] if units is not None else []),
            )
        )
        or 0
    )


def week_problems(
    session: Session, plan: Plan, as_of: date, since: date, units: Collection[int] | None = None
) -> list[ProblemFact]:
    first, last = covered_days(as_of, since)
    query = (
        select(Report.item_id, Unit.name, Report.received_on, Report.problem)
        .join(Unit, Unit.id == Report.unit_id)
        .where(
            Report.plan_id == plan.id,
            Report.received_on.between(first, last),
            Report.problem.is_not(None),
            *([Report.unit_id.in_(units)] if units is not None else []),
        )
    )
    return [
        ProblemFact(item_id, unit, received_on, problem)
        for item_id, unit, received_on, problem in session.execute(query)
        if problem and problem.strip()
    ]


def gather(
    session: Session,
    plan: Plan,
    ctx: Context,
    *,
    number: int,
    year: int,
    since: date | None = None,
    unit: str | None = None,
    period: Period | None = None,
) -> Facts:
    """Every fact of the briefing dated the context's day (issue ``number``), compared with
    ``since`` (the previous briefing's date; default a week earlier). With ``unit`` (a county in a
    province's plan, a township): the facts of that unit and the units below it only, the
    plan's indicators excepted (they are the plan's targets)."""
    as_of = ctx.day
    since = since or as_of - timedelta(days=7)
    scope = None if unit is None else subtree(session, plan.id, unit)
    items = item_facts(session, ctx, scope)
    previous = item_statuses(session, context_on(session, ctx, since), scope)
    units = unit_facts(session, plan)
    done = reporting_view(session, ctx, units=scope)
    problems, steps = statements(session, plan, as_of)
    overdue_due = {i.id: i.due for i in items if i.status == Status.OVERDUE}
    past_waiting = [i.id for i in items if i.status == Status.WAITING and i.due < as_of]
    coordinator = units.get(plan.coordinator_code)
    edition = period.edition if period is not None else Edition.WEEK
    title = masthead_title(plan.title, plan.briefing_title, edition)
    if unit is not None:
        title = f"{title}（{units[unit].name}）"
    return Facts(
        plan=plan.id,
        plan_title=plan.title,
        title=title,
        issuer=coordinator.name if coordinator else plan.issuing_body,
        as_of=as_of,
        number=number,
        yellow_workdays=ctx.policy.yellow_workdays,
        items=items,
        previous=previous,
        tasks=task_facts(session, plan, items),
        units=units,
        levels=escalation_levels(session, plan.id, as_of, {i.id: i.due for i in items}),
        reasons=problems,
        next_steps=steps,
        leadership=leadership_items(session, plan.id, as_of, overdue_due),
        waits_on=prerequisites_of(session, as_of, past_waiting),
        baselines=indicator_baselines(session, plan, as_of),
        reporting=Reporting(
            start=done.cycle.start,
            end=done.cycle.end,
            due=done.cycle.due,
            owed=done.owed,
            sent=done.sent,
            on_time=done.on_time,
            unasked=done.unasked,
        ),
        problems=week_problems(session, plan, as_of, since, scope),
        timeliness=[TimelinessFact(u.unit, u.owed, u.on_time, u.silent) for u in done.units],
        indicators=indicator_values(session, plan.id, as_of),
        year=year,
        extended=extensions(session, plan, as_of, since, scope),
        since=since,
        period=period,
        warnings=fallback_warnings(
            session, min(as_of, plan.period_start), max(as_of, plan.period_end)
        ),
        close_out=(
            (plan.period_end, close_out_last_day(session, ctx.plan))
            if as_of > plan.period_end
            else None
        ),
    )
