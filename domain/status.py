"""The status picture for a date: every work item's light, counted per task, in set-based SQL.

Everything is "as of" a date: an item's state is the last transition logged on or before that
date (``assigned`` if none yet), so the picture for any past date can be reproduced.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel
from sqlalchemy import ColumnElement, Select, and_, exists, func, literal, or_, select
from sqlalchemy.orm import Session, aliased

from config.errors import NotFoundError
from domain.calendar import ensure_calendar, fallback_warnings, workday_ordinal
from domain.lights import light_expression, status_expression
from models.enums import STATUS_LIGHT, ItemState, Light, Status, TaskRole
from models.orm import (
    CalendarDay,
    DeadlineChange,
    ItemDependency,
    ItemTransition,
    Milestone,
    Plan,
    Task,
    TaskUnit,
    Unit,
    WorkItem,
)


class ItemStatus(BaseModel):
    """One work item on the date: the stable fields of ``duban status --json``."""

    id: int
    key: str
    task: str
    milestone: str
    title: str
    unit: str
    unit_name: str
    start: date
    due: date
    original_due: date
    state: ItemState
    percent: int
    status: Status
    light: Light
    workdays_left: int


class TaskStatus(BaseModel):
    """One key task with its lead unit and item counts per light."""

    task: str
    number: int
    title: str
    lead: str
    lead_name: str
    items: int
    lights: dict[Light, int]


class StatusView(BaseModel):
    """The whole picture for one plan on one date."""

    plan: str
    plan_title: str
    as_of: date
    yellow_workdays: int
    filters: dict[str, str]
    summary: dict[Light, int]
    statuses: dict[Status, int]
    tasks: list[TaskStatus]
    items: list[ItemStatus]
    warnings: list[str]


def _empty_lights() -> dict[Light, int]:
    return dict.fromkeys(Light, 0)


def resolve_plan(session: Session, plan_id: str | None) -> Plan:
    """The named plan, or the only plan in the database."""
    if plan_id is not None:
        plan = session.get(Plan, plan_id)
        if plan is None:
            raise NotFoundError(f"no plan {plan_id!r} in the database; run `duban catalog sync`")
        return plan
    plans = list(session.scalars(select(Plan).order_by(Plan.id)))
    if not plans:
        raise NotFoundError("the database has no plan yet; run `duban catalog sync` first")
    if len(plans) > 1:
        names = ", ".join(p.id for p in plans)
        raise NotFoundError(f"several plans in the database ({names}); choose one with --plan")
    return plans[0]


def subtree(session: Session, plan_id: str, code: str) -> list[int]:
    """Ids of a unit and every unit below it."""
    rows = session.execute(
        select(Unit.id, Unit.code, Unit.parent_id).where(Unit.plan_id == plan_id)
    ).all()
    root = next((r.id for r in rows if r.code == code), None)
    if root is None:
        raise NotFoundError(f"no unit {code!r} in plan {plan_id}")
    children: dict[int | None, list[int]] = {}
    for r in rows:
        children.setdefault(r.parent_id, []).append(r.id)
    out, todo = [], [root]
    while todo:
        current = todo.pop()
        out.append(current)
        todo += children.get(current, [])
    return out


def state_as_of(as_of: date) -> Select[int, str, date | None]:
    """Per item with history up to ``as_of``: its state then and the date it was done."""
    last = (
        select(ItemTransition.item_id, func.max(ItemTransition.id).label("tid"))
        .where(ItemTransition.on_date <= as_of)
        .group_by(ItemTransition.item_id)
        .subquery()
    )
    submitted = (
        select(ItemTransition.item_id, func.max(ItemTransition.on_date).label("day"))
        .where(
            ItemTransition.on_date <= as_of, ItemTransition.to_state == ItemState.SUBMITTED.value
        )
        .group_by(ItemTransition.item_id)
        .subquery()
    )
    t = aliased(ItemTransition)
    return (
        select(
            last.c.item_id,
            t.to_state.label("state"),
            func.coalesce(submitted.c.day, t.on_date).label("done_on"),
        )
        .join(t, t.id == last.c.tid)
        .outerjoin(submitted, submitted.c.item_id == last.c.item_id)
    )


def due_as_of(as_of: date) -> ColumnElement[date]:
    """An item's due date as it stood on ``as_of``: before a logged change, the old date."""
    earliest_later_change = (
        select(DeadlineChange.old_due)
        .where(DeadlineChange.item_id == WorkItem.id, DeadlineChange.on_date > as_of)
        .order_by(DeadlineChange.id)
        .limit(1)
        .scalar_subquery()
    )
    return func.coalesce(earliest_later_change, WorkItem.due)


def item_status_select(
    plan_id: str, as_of: date, as_of_ordinal: int, yellow_workdays: int
) -> Select[*tuple[Any, ...]]:
    """One row per live item of the plan with its status and light on ``as_of``."""
    history = state_as_of(as_of).cte("state_as_of")
    pred = aliased(WorkItem)
    pred_history = aliased(history)
    state = func.coalesce(history.c.state, ItemState.ASSIGNED.value)
    due = due_as_of(as_of)
    waiting = exists(
        select(literal(1))
        .select_from(ItemDependency)
        .join(pred, pred.id == ItemDependency.depends_on_item_id)
        .outerjoin(pred_history, pred_history.c.item_id == pred.id)
        .where(
            ItemDependency.item_id == WorkItem.id,
            or_(ItemDependency.retired_on.is_(None), ItemDependency.retired_on > as_of),
            func.coalesce(pred_history.c.state, ItemState.ASSIGNED.value).not_in(
                [ItemState.CLOSED.value, ItemState.RETIRED.value]
            ),
        )
    )
    status = status_expression(
        state=state,
        done_on=history.c.done_on,
        start=WorkItem.start,
        due=due,
        due_ordinal=CalendarDay.ordinal,
        waiting=waiting,
        as_of=as_of,
        as_of_ordinal=as_of_ordinal,
        yellow_workdays=yellow_workdays,
    ).label("status")
    return (
        select(
            WorkItem.id,
            WorkItem.occurrence,
            WorkItem.start,
            due.label("due"),
            WorkItem.original_due,
            WorkItem.percent,
            WorkItem.unit_id,
            state.label("state"),
            status,
            light_expression(status).label("light"),
            (CalendarDay.ordinal - as_of_ordinal).label("workdays_left"),
            Task.id.label("task_id"),
            Task.code.label("task"),
            Milestone.code.label("milestone"),
            Milestone.title,
            Unit.code.label("unit"),
            Unit.name.label("unit_name"),
        )
        .join(Milestone, Milestone.id == WorkItem.milestone_id)
        .join(Task, Task.id == Milestone.task_id)
        .join(Unit, Unit.id == WorkItem.unit_id)
        .join(CalendarDay, CalendarDay.day == due)
        .outerjoin(history, history.c.item_id == WorkItem.id)
        .where(WorkItem.plan_id == plan_id, state != ItemState.RETIRED.value)
    )


def status_view(
    session: Session,
    *,
    plan_id: str | None,
    as_of: date,
    yellow_workdays: int,
    task: str | None = None,
    unit: str | None = None,
    with_items: bool = False,
) -> StatusView:
    """Counts per task and light for ``as_of``; the items too when filtered or asked for."""
    plan = resolve_plan(session, plan_id)
    first_due, last_due = session.execute(
        select(func.min(WorkItem.due), func.max(WorkItem.due)).where(WorkItem.plan_id == plan.id)
    ).one()
    ensure_calendar(session, as_of, *(d for d in (first_due, last_due) if d is not None))
    base = item_status_select(plan.id, as_of, workday_ordinal(session, as_of), yellow_workdays)
    filters: dict[str, str] = {}
    if task is not None:
        code = _task_code(session, plan.id, task)
        base = base.where(Task.code == code)
        filters["task"] = code
    if unit is not None:
        base = base.where(WorkItem.unit_id.in_(subtree(session, plan.id, unit)))
        filters["unit"] = unit
    rows = base.subquery()

    counts = session.execute(
        select(rows.c.task, rows.c.status, func.count()).group_by(rows.c.task, rows.c.status)
    ).all()
    summary, statuses = _empty_lights(), dict.fromkeys(Status, 0)
    per_task: dict[str, dict[Light, int]] = {}
    for task_code, status_value, n in counts:
        st = Status(status_value)
        statuses[st] += n
        light = STATUS_LIGHT[st]
        summary[light] += n
        per_task.setdefault(task_code, _empty_lights())[light] += n

    tasks = _task_rows(session, plan.id, per_task, only=filters.get("task"))
    items: list[ItemStatus] = []
    if with_items or filters:
        for r in session.execute(
            select(rows).order_by(
                rows.c.due, rows.c.task, rows.c.milestone, rows.c.unit, rows.c.occurrence
            )
        ):
            items.append(
                ItemStatus(
                    id=r.id,
                    key=f"{r.milestone}/{r.unit}/{r.occurrence}",
                    task=r.task,
                    milestone=r.milestone,
                    title=r.title,
                    unit=r.unit,
                    unit_name=r.unit_name,
                    start=r.start,
                    due=r.due,
                    original_due=r.original_due,
                    state=ItemState(r.state),
                    percent=r.percent,
                    status=Status(r.status),
                    light=Light(r.light),
                    workdays_left=r.workdays_left,
                )
            )
    warnings = fallback_warnings(
        session, min(as_of, plan.period_start), max(as_of, plan.period_end)
    )
    return StatusView(
        plan=plan.id,
        plan_title=plan.title,
        as_of=as_of,
        yellow_workdays=yellow_workdays,
        filters=filters,
        summary=summary,
        statuses=statuses,
        tasks=tasks,
        items=items,
        warnings=warnings,
    )


def _task_code(session: Session, plan_id: str, task: str) -> str:
    """Accept a task number (3), a code (T03) or a code in any case."""
    query = select(Task.code).where(Task.plan_id == plan_id)
    query = (
        query.where(Task.number == int(task))
        if task.isdigit()
        else query.where(func.upper(Task.code) == task.upper())
    )
    code = session.scalars(query).first()
    if code is None:
        raise NotFoundError(f"no task {task!r} in plan {plan_id}")
    return code


def _task_rows(
    session: Session, plan_id: str, per_task: dict[str, dict[Light, int]], only: str | None
) -> list[TaskStatus]:
    lead = aliased(Unit)
    query = (
        select(Task.code, Task.number, Task.title, lead.code, lead.name, Task.retired_at)
        .join(TaskUnit, and_(TaskUnit.task_id == Task.id, TaskUnit.role == TaskRole.LEAD.value))
        .join(lead, lead.id == TaskUnit.unit_id)
        .where(Task.plan_id == plan_id)
        .order_by(Task.number)
    )
    if only is not None:
        query = query.where(Task.code == only)
    out = []
    for code, number, title, lead_code, lead_name, retired_at in session.execute(query):
        if retired_at is not None and code not in per_task:
            continue  # a retired task shows only on dates when it still had items
        lights = per_task.get(code, _empty_lights())
        out.append(
            TaskStatus(
                task=code,
                number=number,
                title=title,
                lead=lead_code,
                lead_name=lead_name,
                items=sum(lights.values()),
                lights=lights,
            )
        )
    return out
