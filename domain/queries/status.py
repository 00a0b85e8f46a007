"""The status picture of a plan on the context's day: its items counted per light and key task,
and the items themselves when filtered or asked for."""

from __future__ import annotations

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from domain.queries.calendar import fallback_warnings
from domain.queries.counts import StatusCount, status_counts
from domain.queries.item_status import item_status_select
from domain.queries.overdue import item_status, overdue_items
from domain.queries.scope import subtree, task_code, task_milestones
from domain.rules.context import Context
from domain.rules.lifecycle import done_values
from domain.rules.status_views import (
    ItemStatus,
    MilestoneLights,
    StatusView,
    TaskStatus,
    empty_lights,
)
from models.enums import STATUS_LIGHT, Light, Status, TaskRole
from models.orm import CalendarDay, Task, TaskUnit, Unit


def status_view(
    session: Session,
    ctx: Context,
    *,
    task: str | None = None,
    unit: str | None = None,
    with_items: bool = False,
    only_statuses: frozenset[Status] | None = None,
    item_limit: int | None = None,
) -> StatusView:
    """Counts per task and light; the items too when filtered or asked for (``only_statuses``:
    just the items with these statuses; ``item_limit``: only the first so many, earliest due
    first)."""
    return _status_view(
        session,
        ctx,
        task=task,
        unit=unit,
        with_items=with_items,
        only_statuses=only_statuses,
        item_limit=item_limit,
    )[0]


def task_page_status(
    session: Session,
    ctx: Context,
    *,
    task: str,
    only_statuses: frozenset[Status],
    item_limit: int,
) -> tuple[StatusView, list[MilestoneLights]]:
    """What a key task's page shows: :func:`status_view` of the task and its milestones'
    lights (:func:`milestone_lights`) from one count of its items, not two."""
    view, counts = _status_view(
        session,
        ctx,
        task=task,
        unit=None,
        with_items=False,
        only_statuses=only_statuses,
        item_limit=item_limit,
    )
    return view, _by_milestone(counts)


def milestone_lights(session: Session, ctx: Context, *, task: str) -> list[MilestoneLights]:
    """One key task's milestones with their items counted by light: (code, title, counts)."""
    code = task_code(session, ctx.plan.id, task)
    milestones = task_milestones(session, ctx.plan.id, code)
    return _by_milestone(status_counts(session, ctx, milestones=milestones))


def _status_view(
    session: Session,
    ctx: Context,
    *,
    task: str | None,
    unit: str | None,
    with_items: bool,
    only_statuses: frozenset[Status] | None,
    item_limit: int | None,
) -> tuple[StatusView, list[StatusCount]]:
    """:func:`status_view` and the counts it was made from (see :func:`status_counts`)."""
    plan = ctx.plan
    filters: dict[str, str] = {}
    milestones = units = None
    if task is not None:
        filters["task"] = code = task_code(session, plan.id, task)
        milestones = task_milestones(session, plan.id, code)
    if unit is not None:
        units = subtree(session, plan.id, unit)
        filters["unit"] = unit
    counts = status_counts(session, ctx, units=units, milestones=milestones)
    summary, statuses = empty_lights(), dict.fromkeys(Status, 0)
    per_task: dict[str, dict[Light, int]] = {}
    for task_code_, _, _, status_value, n in counts:
        st = Status(status_value)
        statuses[st] += n
        light = STATUS_LIGHT[st]
        summary[light] += n
        per_task.setdefault(task_code_, empty_lights())[light] += n
    items: list[ItemStatus] = []
    if only_statuses == frozenset({Status.OVERDUE}) and not with_items:
        items = overdue_items(session, ctx, units, milestones, item_limit)
    elif with_items or filters or only_statuses is not None:
        items = _listed_items(
            session, ctx, units, milestones, only_statuses, item_limit, counted=statuses
        )
    view = StatusView(
        plan=plan.id,
        plan_title=plan.title,
        as_of=ctx.day,
        yellow_workdays=ctx.policy.yellow_workdays,
        filters=filters,
        summary=summary,
        statuses=statuses,
        tasks=task_rows(session, plan.id, per_task, only=filters.get("task")),
        items=items,
        warnings=fallback_warnings(
            session, min(ctx.day, plan.period_start), max(ctx.day, plan.period_end)
        ),
    )
    return view, counts


WINDOW = frozenset({Status.OVERDUE, Status.DUE_SOON})
"""Statuses of items due by the yellow window's last day (the day's ordinal + yellow days)."""
AFTER_WINDOW = frozenset({Status.BEHIND_PACE, Status.ON_TRACK})
"""Statuses of items due after it (the light rule tells an item due soon first)."""


def _listed_items(
    session: Session,
    ctx: Context,
    units: list[int] | None,
    milestones: list[int] | None,
    only_statuses: frozenset[Status] | None,
    limit: int | None,
    *,
    counted: dict[Status, int],
) -> list[ItemStatus]:
    """The items (with these statuses only, if given) earliest due first, the first ``limit``;
    ``counted``, how many items there are of each status, bounds the search: none when none
    has a status asked for; only those due within the yellow window when all of them, or the
    first ``limit``, are overdue or due soon (every item behind pace or on track is due after
    it); else those due within it and the started, open items not waiting (all an item behind
    pace or on track can be)."""
    if only_statuses is not None and not any(counted[st] for st in only_statuses):
        return []
    rows = item_status_select(ctx, units=units, milestones=milestones).subquery()
    wanted = select(rows).order_by(
        rows.c.due, rows.c.task, rows.c.milestone, rows.c.unit, rows.c.occurrence
    )
    if only_statuses is not None:
        wanted = wanted.where(rows.c.status.in_([st.value for st in only_statuses]))
    if only_statuses == frozenset({Status.OVERDUE}):  # due before the day: the due index
        wanted = wanted.where(rows.c.due < ctx.day)
    elif only_statuses is not None and only_statuses <= WINDOW | AFTER_WINDOW:
        window_end = (
            select(func.max(CalendarDay.day))
            .where(CalendarDay.ordinal <= ctx.ordinal + ctx.policy.yellow_workdays)
            .scalar_subquery()
        )
        if not any(counted[st] for st in only_statuses & AFTER_WINDOW) or (
            limit is not None and sum(counted[st] for st in only_statuses & WINDOW) >= limit
        ):  # all those listed are due within the window: the due index
            wanted = wanted.where(rows.c.due <= window_end)
        else:  # or started, open and not waiting: the index of the active items by start
            started = and_(
                rows.c.state.not_in(done_values()), ~rows.c.waiting, rows.c.start <= ctx.day
            )
            wanted = wanted.where(or_(rows.c.due <= window_end, started))
    if limit is not None:
        wanted = wanted.limit(limit)
    return [
        item_status(r, r.task, r.milestone, r.title, Status(r.status), r.workdays_left)
        for r in session.execute(wanted)
    ]


def task_rows(
    session: Session, plan_id: str, per_task: dict[str, dict[Light, int]], only: str | None
) -> list[TaskStatus]:
    """The key tasks (or only one) with their lead unit and ``per_task``'s counts; a retired
    task only on dates when it still had items."""
    query = (
        select(Task.code, Task.number, Task.title, TaskUnit.unit_id, Task.retired_at)
        .join(TaskUnit, and_(TaskUnit.task_id == Task.id, TaskUnit.role == TaskRole.LEAD.value))
        .where(Task.plan_id == plan_id)
        .order_by(Task.number)
    )
    if only is not None:
        query = query.where(Task.code == only)
    tasks = session.execute(query).all()
    # the lead units by id, apart (a join hashed every unit of the plan for a dozen tasks)
    leads = {
        u.id: (u.code, u.name)
        for u in session.execute(
            select(Unit.id, Unit.code, Unit.name).where(Unit.id.in_({t.unit_id for t in tasks}))
        )
    }
    out = []
    for code, number, title, lead_id, retired_at in tasks:
        lead_code, lead_name = leads[lead_id]
        if retired_at is not None and code not in per_task:
            continue
        lights = per_task.get(code, empty_lights())
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


def _by_milestone(counts: list[StatusCount]) -> list[MilestoneLights]:
    """:func:`status_counts` rows summed per milestone and light, in milestone order."""
    out: dict[tuple[str, str], dict[Light, int]] = {}
    for _, milestone, title, status, n in counts:
        out.setdefault((milestone, title), empty_lights())[STATUS_LIGHT[Status(status)]] += n
    return [(m, t, lights) for (m, t), lights in sorted(out.items())]
