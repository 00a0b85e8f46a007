"""The status picture for a date: every work item's light, counted per task, in set-based SQL.

Everything is "as of" a date: an item's state is the last transition logged on or before that
date (``assigned`` if none yet), so the picture for any past date can be reproduced.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import date
from typing import Any, NamedTuple

from pydantic import BaseModel
from sqlalchemy import (
    ColumnElement,
    Select,
    SQLColumnExpression,
    and_,
    case,
    func,
    or_,
    select,
    true,
    tuple_,
    union,
)
from sqlalchemy.engine import Row
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.selectable import Subquery

from config.errors import NotFoundError
from domain.queries.calendar import ensure_calendar, fallback_warnings, workday_ordinal
from domain.rules.lifecycle import done_values, finished_values
from domain.rules.lights import status_expression
from models.db import prefer_hash_joins
from models.enums import STATUS_LIGHT, ItemState, Light, Status, TaskRole
from models.orm import (
    CalendarDay,
    DeadlineChange,
    ItemDependency,
    ItemTransition,
    Milestone,
    Plan,
    Report,
    Task,
    TaskUnit,
    Unit,
    WorkItem,
    work_item_tally,
)
from models.tally import DONE_ON, ITEM_KEY, KEY_COLUMNS, WAITING


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
            raise NotFoundError(f"数据库中没有规划 {plan_id!r}；请运行 `duban catalog sync`")
        return plan
    plans = list(session.scalars(select(Plan).order_by(Plan.id)))
    if not plans:
        raise NotFoundError("数据库中还没有规划；请先运行 `duban catalog sync`")
    if len(plans) > 1:
        names = "、".join(p.id for p in plans)
        raise NotFoundError(f"数据库中有多个规划（{names}）；请用 --plan 选一个")
    return plans[0]


def subtree(session: Session, plan_id: str, code: str) -> list[int]:
    """Ids of a unit and every unit below it."""
    rows = session.execute(
        select(Unit.id, Unit.code, Unit.parent_id).where(Unit.plan_id == plan_id)
    ).all()
    root = next((r.id for r in rows if r.code == code), None)
    if root is None:
        raise NotFoundError(f"规划 {plan_id} 中没有单位 {code!r}")
    children: dict[int | None, list[int]] = {}
    for r in rows:
        children.setdefault(r.parent_id, []).append(r.id)
    out, todo = [], [root]
    while todo:
        current = todo.pop()
        out.append(current)
        todo += children.get(current, [])
    return out


def state_as_of(
    as_of: date, items: Select[tuple[int]] | None = None
) -> Select[int, str, date | None]:
    """Per item with history up to ``as_of`` (of ``items`` only, if given): its state then and
    the date it was done."""
    among = [ItemTransition.item_id.in_(items)] if items is not None else []
    last = (
        select(ItemTransition.item_id, func.max(ItemTransition.id).label("tid"))
        .where(ItemTransition.on_date <= as_of, *among)
        .group_by(ItemTransition.item_id)
        .subquery()
    )
    submitted = (
        select(ItemTransition.item_id, func.max(ItemTransition.on_date).label("day"))
        .where(
            ItemTransition.on_date <= as_of,
            ItemTransition.to_state == ItemState.SUBMITTED.value,
            *among,
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


def valid_on(as_of: date) -> ColumnElement[bool]:
    """An item dependency in force on ``as_of`` (baseline rows have no ``created_on``)."""
    return and_(
        or_(ItemDependency.created_on.is_(None), ItemDependency.created_on <= as_of),
        or_(ItemDependency.retired_on.is_(None), ItemDependency.retired_on > as_of),
    )


def history_settled(session: Session, as_of: date) -> bool:
    """Whether nothing in the history is dated after ``as_of`` (no transition, report, deadline
    change, dependency or item added later): then the picture as of that date is today's, and
    the current-state columns of ``work_item`` give it without replaying the logs.

    The daily cycle, escalation and this week's briefing ask about today, so they take this
    path; a past date (last week's briefing, ``duban status --as-of``) replays the history.
    Each maximum is one lookup in an index on the date (any plan: a later date in another plan
    only costs the replay).
    """
    dates = (
        ItemTransition.on_date,
        Report.received_on,
        DeadlineChange.on_date,
        ItemDependency.created_on,
        ItemDependency.retired_on,
        WorkItem.created_on,
    )
    latest = [select(func.max(column)).scalar_subquery() for column in dates]
    return all(d is None or d <= as_of for d in session.execute(select(*latest)).one())


def prepare_plan_query(session: Session, plan_id: str, as_of: date) -> bool:
    """Before a whole-plan query: the calendar covers as_of and every due date; hash joins.
    Returns whether the history is settled on ``as_of`` (see :func:`history_settled`)."""
    prefer_hash_joins(session)
    first_due, last_due = session.execute(
        select(func.min(WorkItem.due), func.max(WorkItem.due)).where(WorkItem.plan_id == plan_id)
    ).one()
    ensure_calendar(session, as_of, *(d for d in (first_due, last_due) if d is not None))
    return history_settled(session, as_of)


def item_status_select(
    plan_id: str,
    as_of: date,
    as_of_ordinal: int,
    yellow_workdays: int,
    pace_margin: int | None = None,
    *,
    settled: bool = False,
    units: Collection[int] | None = None,
    milestones: Collection[int] | None = None,
) -> Select[*tuple[Any, ...]]:
    """One row per item of the plan as it stood on ``as_of``, with its status (of the items of
    ``units`` and ``milestones`` only, if given: a partition of the plan, a key task).

    ``settled`` (see :func:`history_settled`): read the state, done date, due date and percent
    from the work item's current columns instead of replaying the logs up to ``as_of``; the
    answer is the same, at the cost of one pass over ``work_item`` and the live dependencies.
    Otherwise everything per item is a join against a grouped derived table (no correlated
    subquery), so the database can hash-join the whole table at once.
    """
    scope = _scope(units, milestones)
    if settled:
        return _current_status_select(
            plan_id, as_of, as_of_ordinal, yellow_workdays, pace_margin, scope
        )
    # narrowed to some items: replay only their logs (and their prerequisites' states)
    scoped = select(WorkItem.id).where(*scope) if scope else None
    needed = (
        None
        if scoped is None
        else union(
            scoped,
            select(ItemDependency.depends_on_item_id).where(ItemDependency.item_id.in_(scoped)),
        )
    )
    history = state_as_of(as_of, None if needed is None else select(needed.subquery().c[0])).cte(
        "state_as_of"
    )
    state = func.coalesce(history.c.state, ItemState.ASSIGNED.value)

    def among(column: SQLColumnExpression[int]) -> list[ColumnElement[bool]]:
        return [column.in_(scoped)] if scoped is not None else []

    # the due date as it stood: before the first deadline change logged after as_of, its old date
    first_later = (
        select(DeadlineChange.item_id, func.min(DeadlineChange.id).label("change_id"))
        .where(DeadlineChange.on_date > as_of, *among(DeadlineChange.item_id))
        .group_by(DeadlineChange.item_id)
        .subquery("first_later_change")
    )
    later = aliased(DeadlineChange)
    due = func.coalesce(later.old_due, WorkItem.due)
    # items with a prerequisite in force that was not closed on as_of
    pred_history = aliased(history)
    open_prerequisites = (
        select(ItemDependency.item_id)
        .outerjoin(pred_history, pred_history.c.item_id == ItemDependency.depends_on_item_id)
        .where(
            valid_on(as_of),
            func.coalesce(pred_history.c.state, ItemState.ASSIGNED.value).not_in(finished_values()),
            *among(ItemDependency.item_id),
        )
        .group_by(ItemDependency.item_id)
        .subquery("open_prerequisites")
    )
    # the percent as reported on or before as_of
    last_report = (
        select(Report.item_id, func.max(Report.id).label("report_id"))
        .where(Report.received_on <= as_of, *among(Report.item_id))
        .group_by(Report.item_id)
        .subquery("last_report")
    )
    reported = aliased(Report)
    percent = func.coalesce(reported.percent, 0)
    waiting = open_prerequisites.c.item_id.is_not(None)
    start_day = aliased(CalendarDay)
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
        start_ordinal=start_day.ordinal,
        percent=percent,
        pace_margin=pace_margin,
    ).label("status")
    return (
        _item_row(state, due, percent, waiting, status, as_of_ordinal)
        .outerjoin(first_later, first_later.c.item_id == WorkItem.id)
        .outerjoin(later, later.id == first_later.c.change_id)
        .join(CalendarDay, CalendarDay.day == due)
        .outerjoin(history, history.c.item_id == WorkItem.id)
        .outerjoin(open_prerequisites, open_prerequisites.c.item_id == WorkItem.id)
        .outerjoin(start_day, start_day.day == WorkItem.start)
        .outerjoin(last_report, last_report.c.item_id == WorkItem.id)
        .outerjoin(reported, reported.id == last_report.c.report_id)
        .where(
            WorkItem.plan_id == plan_id,
            state != ItemState.RETIRED.value,
            or_(WorkItem.created_on.is_(None), WorkItem.created_on <= as_of),
            *scope,
        )
    )


def _scope(
    units: Collection[int] | None, milestones: Collection[int] | None
) -> list[ColumnElement[bool]]:
    """Conditions on ``work_item`` narrowing it to some units and milestones (none: all)."""
    return [
        *([WorkItem.unit_id.in_(units)] if units is not None else []),
        *([WorkItem.milestone_id.in_(milestones)] if milestones is not None else []),
    ]


def current_items(
    plan_id: str,
    units: Collection[int] | None = None,
    milestones: Collection[int] | None = None,
) -> list[ColumnElement[bool]]:
    """Conditions on ``work_item``: the plan's live items now (of ``units`` and ``milestones``
    only, if given), for queries on a settled day."""
    return [
        WorkItem.plan_id == plan_id,
        WorkItem.state != ItemState.RETIRED.value,
        *_scope(units, milestones),
    ]


CURRENT_DONE_ON = DONE_ON
"""On a settled day, the day an item was done (its state says whether it is)."""
CURRENT_WAITING = WAITING
"""On a settled day, whether an item waits for a prerequisite (see :data:`models.tally.WAITING`)."""


def plan_status_select(
    session: Session,
    plan_id: str,
    as_of: date,
    yellow_workdays: int,
    pace_margin: int | None,
    *,
    units: Collection[int] | None = None,
    milestones: Collection[int] | None = None,
) -> Select[*tuple[Any, ...]]:
    """:func:`item_status_select` ready to run: the calendar prepared, hash joins chosen, and
    the current columns read when the history is settled on ``as_of``."""
    settled = prepare_plan_query(session, plan_id, as_of)
    return item_status_select(
        plan_id,
        as_of,
        workday_ordinal(session, as_of),
        yellow_workdays,
        pace_margin,
        settled=settled,
        units=units,
        milestones=milestones,
    )


def _item_row(
    state: SQLColumnExpression[str],
    due: SQLColumnExpression[date],
    percent: SQLColumnExpression[int],
    waiting: SQLColumnExpression[bool],
    status: ColumnElement[str],
    as_of_ordinal: int,
) -> Select[*tuple[Any, ...]]:
    """The columns of a status row (both ways of computing it) with the item's milestone, task
    and unit joined; ``workdays_left`` needs ``CalendarDay`` joined on the due date after.

    The joins are outer joins though every item has its milestone, task and unit (foreign keys,
    not null): the rows are the same, and the database leaves out a join whose columns a query
    does not read (an outer join to a primary key cannot add or remove rows), as the ladder and
    the behind-pace notices do not read the unit's."""
    return (
        select(
            WorkItem.id,
            WorkItem.occurrence,
            WorkItem.start,
            due.label("due"),
            WorkItem.original_due,
            percent.label("percent"),
            WorkItem.unit_id,
            state.label("state"),
            waiting.label("waiting"),
            status,
            (CalendarDay.ordinal - as_of_ordinal).label("workdays_left"),
            Task.id.label("task_id"),
            Task.code.label("task"),
            WorkItem.milestone_id,
            Milestone.code.label("milestone"),
            Milestone.title,
            Unit.code.label("unit"),
            Unit.name.label("unit_name"),
        )
        .outerjoin(Milestone, Milestone.id == WorkItem.milestone_id)
        .outerjoin(Task, Task.id == Milestone.task_id)
        .outerjoin(Unit, Unit.id == WorkItem.unit_id)
    )


def _current_status_select(
    plan_id: str,
    as_of: date,
    as_of_ordinal: int,
    yellow_workdays: int,
    pace_margin: int | None,
    scope: Sequence[ColumnElement[bool]],
) -> Select[*tuple[Any, ...]]:
    """:func:`item_status_select` on a settled date: the same columns from the work item's
    current state alone (``scope``: conditions on ``work_item`` that narrow it, see
    :func:`_scope`)."""
    start_day = aliased(CalendarDay)
    status = status_expression(
        state=WorkItem.state,
        done_on=CURRENT_DONE_ON,
        start=WorkItem.start,
        due=WorkItem.due,
        due_ordinal=CalendarDay.ordinal,
        waiting=CURRENT_WAITING,
        as_of=as_of,
        as_of_ordinal=as_of_ordinal,
        yellow_workdays=yellow_workdays,
        start_ordinal=start_day.ordinal,
        percent=WorkItem.percent,
        pace_margin=pace_margin,
    ).label("status")
    return (
        _item_row(
            WorkItem.state, WorkItem.due, WorkItem.percent, CURRENT_WAITING, status, as_of_ordinal
        )
        .join(CalendarDay, CalendarDay.day == WorkItem.due)
        .outerjoin(start_day, start_day.day == WorkItem.start)
        .where(WorkItem.plan_id == plan_id, WorkItem.state != ItemState.RETIRED.value, *scope)
    )


def status_counts(
    session: Session,
    plan_id: str,
    as_of: date,
    yellow_workdays: int,
    pace_margin: int | None,
    *,
    settled: bool,
    units: Collection[int] | None = None,
    milestones: Collection[int] | None = None,
) -> list[tuple[str, str, str, str, int]]:
    """How many items of each (task, milestone, milestone title, status) on ``as_of``.

    On a settled date the items are counted by what their status depends on (milestone, state,
    dates, percent, waiting; see :func:`_item_groups`), and the status is worked out once per
    group of items instead of once per item.
    """
    ordinal = workday_ordinal(session, as_of)
    if not settled:
        rows = item_status_select(
            plan_id,
            as_of,
            ordinal,
            yellow_workdays,
            pace_margin,
            units=units,
            milestones=milestones,
        ).subquery()
        keys = (rows.c.task, rows.c.milestone, rows.c.title, rows.c.status)
        return [
            (r[0], r[1], r[2], r[3], r[4])
            for r in session.execute(select(*keys, func.count()).group_by(*keys))
        ]
    grouped = _item_groups(plan_id, units, milestones)
    start_day, due_day = aliased(CalendarDay), aliased(CalendarDay)
    status = status_expression(
        state=grouped.c.state,
        done_on=grouped.c.done_on,
        start=grouped.c.start,
        due=grouped.c.due,
        due_ordinal=due_day.ordinal,
        waiting=grouped.c.waiting,
        as_of=as_of,
        as_of_ordinal=ordinal,
        yellow_workdays=yellow_workdays,
        start_ordinal=start_day.ordinal,
        percent=grouped.c.percent,
        pace_margin=pace_margin,
    )
    labels = (Task.code, Milestone.code, Milestone.title, status)
    query = (
        select(*labels, func.sum(grouped.c.n))
        .select_from(grouped)
        .join(Milestone, Milestone.id == grouped.c.milestone_id)
        .join(Task, Task.id == Milestone.task_id)
        .join(due_day, due_day.day == grouped.c.due)
        .outerjoin(start_day, start_day.day == grouped.c.start)
        .group_by(*labels)
    )
    return [(r[0], r[1], r[2], r[3], int(r[4])) for r in session.execute(query)]


def _item_groups(
    plan_id: str, units: Collection[int] | None, milestones: Collection[int] | None
) -> Subquery:
    """The plan's live items now counted by what their status depends on: (milestone_id,
    state, start, due, percent, done_on, waiting, n). A million items make under a thousand
    groups.

    For the whole plan or some milestones the counts come from the tally the database keeps
    (``models.tally``: a few hundred rows); for some units only, from one pass over their
    items (the tally is not kept per unit: a unit in the key would make a group per item)."""
    if units is None:
        t = work_item_tally
        keys = (t.c.milestone_id, t.c.state, t.c.start, t.c.due, t.c.percent, t.c.done_on)
        return (
            select(*keys, t.c.waiting, func.sum(t.c.n).label("n"))
            .where(
                t.c.plan_id == plan_id,
                t.c.state != ItemState.RETIRED.value,
                *([t.c.milestone_id.in_(milestones)] if milestones is not None else []),
            )
            .group_by(*keys, t.c.waiting)
            .having(func.sum(t.c.n) != 0)
            .subquery("item_groups")
        )
    # the tally's own key (less the plan), named as its columns
    key = ITEM_KEY[1:]
    named: list[ColumnElement[Any]] = [
        k.label(c.name) for k, c in zip(key, KEY_COLUMNS[1:], strict=True)
    ]
    return (
        select(*named, func.count().label("n"))
        .where(*current_items(plan_id, units, milestones))
        .group_by(*key)
        .subquery("item_groups")
    )


def earliest_open_due(session: Session, plan_id: str) -> date | None:
    """On a settled day, the earliest due date of the plan's open items (from the tally): no
    notice still to be planned for an item is for an earlier one."""
    groups = _item_groups(plan_id, None, None)
    first: date | None = session.scalar(
        select(func.min(groups.c.due)).where(groups.c.state.not_in(done_values()))
    )
    return first


def status_view(
    session: Session,
    *,
    plan_id: str | None,
    as_of: date,
    yellow_workdays: int,
    task: str | None = None,
    unit: str | None = None,
    with_items: bool = False,
    pace_margin: int | None = None,
    only_statuses: frozenset[Status] | None = None,
    item_limit: int | None = None,
) -> StatusView:
    """Counts per task and light for ``as_of``; the items too when filtered or asked for
    (``only_statuses``: just the items with these statuses, e.g. the overdue ones: a whole
    plan's items as models cost memory and time that counts do not; ``item_limit``: only the
    first so many, earliest due first)."""
    return _status_view(
        session,
        plan_id=plan_id,
        as_of=as_of,
        yellow_workdays=yellow_workdays,
        task=task,
        unit=unit,
        with_items=with_items,
        pace_margin=pace_margin,
        only_statuses=only_statuses,
        item_limit=item_limit,
    )[0]


MilestoneLights = tuple[str, str, dict[Light, int]]
"""A milestone's code, title and its items counted by light."""


def task_page_status(
    session: Session,
    *,
    plan_id: str,
    as_of: date,
    yellow_workdays: int,
    task: str,
    pace_margin: int | None,
    only_statuses: frozenset[Status],
    item_limit: int,
) -> tuple[StatusView, list[MilestoneLights]]:
    """What a key task's page shows: :func:`status_view` of the task and its milestones'
    lights (:func:`milestone_lights`) from one count of its items, not two."""
    view, counts = _status_view(
        session,
        plan_id=plan_id,
        as_of=as_of,
        yellow_workdays=yellow_workdays,
        task=task,
        unit=None,
        with_items=False,
        pace_margin=pace_margin,
        only_statuses=only_statuses,
        item_limit=item_limit,
    )
    return view, _by_milestone(counts)


def _status_view(
    session: Session,
    *,
    plan_id: str | None,
    as_of: date,
    yellow_workdays: int,
    task: str | None,
    unit: str | None,
    with_items: bool,
    pace_margin: int | None,
    only_statuses: frozenset[Status] | None,
    item_limit: int | None,
) -> tuple[StatusView, list[tuple[str, str, str, str, int]]]:
    """:func:`status_view` and the counts it was made from (see :func:`status_counts`)."""
    plan = resolve_plan(session, plan_id)
    settled = prepare_plan_query(session, plan.id, as_of)
    filters: dict[str, str] = {}
    milestones = None
    if task is not None:
        filters["task"] = code = _task_code(session, plan.id, task)
        milestones = task_milestones(session, plan.id, code)
    units = None
    if unit is not None:
        units = subtree(session, plan.id, unit)
        filters["unit"] = unit
    rows = item_status_select(
        plan.id,
        as_of,
        workday_ordinal(session, as_of),
        yellow_workdays,
        pace_margin,
        settled=settled,
        units=units,
        milestones=milestones,
    ).subquery()

    counts = status_counts(
        session,
        plan.id,
        as_of,
        yellow_workdays,
        pace_margin,
        settled=settled,
        units=units,
        milestones=milestones,
    )
    summary, statuses = _empty_lights(), dict.fromkeys(Status, 0)
    per_task: dict[str, dict[Light, int]] = {}
    for task_code, _, _, status_value, n in counts:
        st = Status(status_value)
        statuses[st] += n
        light = STATUS_LIGHT[st]
        summary[light] += n
        per_task.setdefault(task_code, _empty_lights())[light] += n

    tasks = task_rows(session, plan.id, per_task, only=filters.get("task"))
    items: list[ItemStatus] = []
    if settled and only_statuses == frozenset({Status.OVERDUE}) and not with_items:
        items = overdue_items(session, plan.id, as_of, units, milestones, item_limit)
    elif with_items or filters or only_statuses is not None:
        wanted = select(rows).order_by(
            rows.c.due, rows.c.task, rows.c.milestone, rows.c.unit, rows.c.occurrence
        )
        if only_statuses is not None:
            wanted = wanted.where(rows.c.status.in_([st.value for st in only_statuses]))
        if only_statuses == frozenset({Status.OVERDUE}):  # due before the day: the due index
            wanted = wanted.where(rows.c.due < as_of)
        if item_limit is not None:
            wanted = wanted.limit(item_limit)
        items = [
            _item_status(r, r.task, r.milestone, r.title, Status(r.status), r.workdays_left)
            for r in session.execute(wanted)
        ]
    warnings = fallback_warnings(
        session, min(as_of, plan.period_start), max(as_of, plan.period_end)
    )
    view = StatusView(
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
    return view, counts


def overdue_items(
    session: Session,
    plan_id: str,
    as_of: date,
    units: Collection[int] | None,
    milestones: Collection[int] | None,
    limit: int | None,
) -> list[ItemStatus]:
    """On a settled day, the overdue items in the order of :func:`status_view`'s items (due
    date, task, milestone, unit, occurrence), the first ``limit``: the coordinator's table of
    the longest overdue.

    Overdue is read as plain column tests: not done, not waiting, due before the day (what the
    status rule gives before its later branches), so no status is worked out per item. The
    task and milestone order is a rank per milestone id, and their codes and titles are filled
    in here for the rows kept. For the whole plan with a limit, only the groups of items the
    table reaches are read (:func:`_first_overdue`)."""
    ordinal = workday_ordinal(session, as_of)
    named = plan_milestones(session, plan_id)
    order = sorted(named, key=lambda m: (m.task, m.code))
    rank_of = {m.id: i for i, m in enumerate(order)}
    by_id = {m.id: m for m in named}
    overdue = [
        *current_items(plan_id, units, milestones),
        WorkItem.state.not_in(done_values()),
        ~CURRENT_WAITING,
    ]
    rows = None
    if units is None and limit is not None:
        rows = _first_overdue(session, plan_id, as_of, milestones, overdue, rank_of, limit)
    if rows is None:  # some units, no limit, or the tally disagrees: the database sorts them all
        rows = _sorted_overdue(session, [*overdue, WorkItem.due < as_of], rank_of, limit)
    # working days left by the calendar, for the due dates shown only (joined, every row paid)
    dues = {r.due for r in rows}
    ordinals = {
        c.day: c.ordinal
        for c in session.execute(
            select(CalendarDay.day, CalendarDay.ordinal).where(CalendarDay.day.in_(dues))
        )
    }
    return [
        _item_status(
            r,
            by_id[r.milestone_id].task,
            by_id[r.milestone_id].code,
            by_id[r.milestone_id].title,
            Status.OVERDUE,
            ordinals[r.due] - ordinal,
        )
        for r in rows
    ]


class _Overdue(NamedTuple):
    """An overdue item's columns and its unit's code and name."""

    id: int
    milestone_id: int
    occurrence: int
    start: date
    due: date
    original_due: date
    state: str
    percent: int
    unit: str
    unit_name: str


_ITEM_COLUMNS = (
    WorkItem.id,
    WorkItem.milestone_id,
    WorkItem.occurrence,
    WorkItem.start,
    WorkItem.due,
    WorkItem.original_due,
    WorkItem.state,
    WorkItem.percent,
)
_UNIT_COLUMNS = (Unit.code.label("unit"), Unit.name.label("unit_name"))


def _sorted_overdue(
    session: Session,
    where: list[ColumnElement[bool]],
    rank_of: dict[int, int],
    limit: int | None,
) -> list[_Overdue]:
    """The items matching ``where`` in the table's order, the first ``limit``, sorted by the
    database (any number of them)."""
    order: list[SQLColumnExpression[Any]] = [WorkItem.due]
    if rank_of:
        order.append(case(rank_of, value=WorkItem.milestone_id, else_=-1))
    query = (
        select(*_ITEM_COLUMNS, *_UNIT_COLUMNS)
        .join(Unit, Unit.id == WorkItem.unit_id)
        .where(*where)
        .order_by(*order, Unit.code, WorkItem.occurrence)
        .limit(limit)
    )
    return [_Overdue._make(r) for r in session.execute(query)]


def _first_overdue(
    session: Session,
    plan_id: str,
    as_of: date,
    milestones: Collection[int] | None,
    overdue: list[ColumnElement[bool]],
    rank_of: dict[int, int],
    limit: int,
) -> list[_Overdue] | None:
    """The first ``limit`` overdue items of the plan, reading only the groups of one due date
    and milestone that the table reaches; None if the items read disagree with the tally's
    counts (written meanwhile by another transaction, or a drifted tally: see `duban recount`).

    The tally says how many overdue items each group has (:func:`_groups_shown`). The groups
    the table shows whole (at most ``limit`` items) are read without their units and sorted
    here. The group the table ends in is read the same way when small; when large beside the
    rows wanted from it (4 × or more), PostgreSQL walks the plan's units in code order and
    looks each one's items up by the (milestone, unit) key, stopping at the rows wanted: about
    wanted × units ÷ size lookups instead of joining and sorting the whole group. At a
    province's size the table's 1,000 rows end in a group of 41,701 items (45,872 units):
    2–3 ms instead of 33. On SQLite (no LATERAL) a large group is joined and sorted."""
    whole, cut = _groups_shown(session, plan_id, as_of, milestones, rank_of, limit)
    groups = list(whole)
    tail: list[_Overdue] = []
    if cut is not None:
        due, milestone, wanted, size = cut
        in_group = [*overdue, WorkItem.due == due, WorkItem.milestone_id == milestone]
        if size < 4 * wanted:
            groups.append((due, milestone, size))
        elif session.get_bind().dialect.name == "postgresql":
            tail = _first_by_unit(session, plan_id, in_group, wanted)
        else:
            tail = _sorted_overdue(session, in_group, {}, wanted)
        if len(tail) not in (0, wanted):
            return None
    items = (
        session.execute(
            select(*_ITEM_COLUMNS, WorkItem.unit_id).where(
                *overdue,
                WorkItem.due <= max(d for d, _, _ in groups),
                tuple_(WorkItem.due, WorkItem.milestone_id).in_([(d, m) for d, m, _ in groups]),
            )
        ).all()
        if groups
        else []
    )
    if len(items) != sum(n for _, _, n in groups):
        return None
    # the units' names, and their order by code as the database sorts (its collation)
    units = session.execute(
        select(Unit.id, Unit.code, Unit.name)
        .where(Unit.id.in_({i.unit_id for i in items}))
        .order_by(Unit.code)
    ).all()
    place = {u.id: n for n, u in enumerate(units)}
    names = {u.id: (u.code, u.name) for u in units}
    ordered = sorted(
        items,
        key=lambda i: (i.due, rank_of.get(i.milestone_id, -1), place[i.unit_id], i.occurrence),
    )
    head = [_Overdue._make((*i[:-1], *names[i.unit_id])) for i in ordered]
    return [*head, *tail][:limit]


def _groups_shown(
    session: Session,
    plan_id: str,
    as_of: date,
    milestones: Collection[int] | None,
    rank_of: dict[int, int],
    limit: int,
) -> tuple[list[tuple[date, int, int]], tuple[date, int, int, int] | None]:
    """From the tally, the (due, milestone, size) groups of overdue items in the table's order
    that the first ``limit`` rows take whole, and the group they end in: (due, milestone, rows
    wanted from it, its size), or None when the whole groups make up the table."""
    groups = _item_groups(plan_id, None, milestones)
    counts = session.execute(
        select(groups.c.due, groups.c.milestone_id, func.sum(groups.c.n))
        .where(groups.c.state.not_in(done_values()), ~groups.c.waiting, groups.c.due < as_of)
        .group_by(groups.c.due, groups.c.milestone_id)
        .having(func.sum(groups.c.n) > 0)
    ).all()
    whole: list[tuple[date, int, int]] = []
    left = limit
    for due, milestone, total in sorted(counts, key=lambda g: (g[0], rank_of.get(g[1], -1))):
        n = int(total)
        if left <= 0:
            break
        if n > left:
            return whole, (due, milestone, left, n)
        whole.append((due, milestone, n))
        left -= n
    return whole, None


def _first_by_unit(
    session: Session, plan_id: str, in_group: list[ColumnElement[bool]], wanted: int
) -> list[_Overdue]:
    """PostgreSQL: the first ``wanted`` items of one group by unit code and occurrence, the
    plan's units walked in code order (their unique index) and each one's items looked up."""
    per_unit = (
        select(*_ITEM_COLUMNS)
        .where(*in_group, WorkItem.unit_id == Unit.id)
        .order_by(WorkItem.occurrence)
        .offset(0)  # kept a subquery: PostgreSQL would flatten it into a hash join
        .lateral("per_unit")
    )
    query = (
        select(per_unit, *_UNIT_COLUMNS)
        .select_from(Unit)
        .join(per_unit, true())
        .where(Unit.plan_id == plan_id)
        .order_by(Unit.code, per_unit.c.occurrence)
        .limit(wanted)
    )
    return [_Overdue._make(r) for r in session.execute(query)]


def plan_milestones(session: Session, plan_id: str) -> Sequence[Row[int, str, str, str]]:
    """Each milestone of the plan (a few dozen): ``id``, ``code``, ``title`` and its task's
    code as ``task``, by id. Queries over many items use them to leave milestone and task out
    of their joins."""
    return session.execute(
        select(Milestone.id, Milestone.code, Milestone.title, Task.code.label("task"))
        .join(Task, Task.id == Milestone.task_id)
        .where(Task.plan_id == plan_id)
        .order_by(Milestone.id)
    ).all()


def _item_status(
    r: Any, task: str, milestone: str, title: str, status: Status, workdays_left: int
) -> ItemStatus:
    """An :class:`ItemStatus` from a row with the item's and its unit's columns."""
    return ItemStatus(
        id=r.id,
        key=f"{milestone}/{r.unit}/{r.occurrence}",
        task=task,
        milestone=milestone,
        title=title,
        unit=r.unit,
        unit_name=r.unit_name,
        start=r.start,
        due=r.due,
        original_due=r.original_due,
        state=ItemState(r.state),
        percent=r.percent,
        status=status,
        light=STATUS_LIGHT[status],
        workdays_left=workdays_left,
    )


def task_milestones(session: Session, plan_id: str, code: str) -> list[int]:
    """Ids of a key task's milestones (the work-item index leads with the milestone)."""
    return list(
        session.scalars(
            select(Milestone.id).join(Task).where(Task.plan_id == plan_id, Task.code == code)
        )
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
        raise NotFoundError(f"规划 {plan_id} 中没有重点任务 {task!r}")
    return code


def task_rows(
    session: Session, plan_id: str, per_task: dict[str, dict[Light, int]], only: str | None
) -> list[TaskStatus]:
    query = (
        select(Task.code, Task.number, Task.title, TaskUnit.unit_id, Task.retired_at)
        .join(TaskUnit, and_(TaskUnit.task_id == Task.id, TaskUnit.role == TaskRole.LEAD.value))
        .where(Task.plan_id == plan_id)
        .order_by(Task.number)
    )
    if only is not None:
        query = query.where(Task.code == only)
    tasks = session.execute(query).all()
    # the lead units by id, apart: joined, a province's 45,000 units were hashed for 12 tasks
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


def milestone_lights(
    session: Session,
    *,
    plan_id: str,
    as_of: date,
    yellow_workdays: int,
    task: str,
    pace_margin: int | None = None,
) -> list[MilestoneLights]:
    """One key task's milestones with their items counted by light: (code, title, counts)."""
    settled = prepare_plan_query(session, plan_id, as_of)
    code = _task_code(session, plan_id, task)
    return _by_milestone(
        status_counts(
            session,
            plan_id,
            as_of,
            yellow_workdays,
            pace_margin,
            settled=settled,
            milestones=task_milestones(session, plan_id, code),
        )
    )


def _by_milestone(counts: list[tuple[str, str, str, str, int]]) -> list[MilestoneLights]:
    """:func:`status_counts` rows summed per milestone and light, in milestone order."""
    out: dict[tuple[str, str], dict[Light, int]] = {}
    for _, milestone, title, status, n in counts:
        out.setdefault((milestone, title), _empty_lights())[STATUS_LIGHT[Status(status)]] += n
    return [(m, t, lights) for (m, t), lights in sorted(out.items())]
