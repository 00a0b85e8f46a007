"""The one source of item statuses: each live item of a plan with its status on the context's
day, read from the work items' current columns when the history is settled on that day; on
other days only the items whose history moved after it are replayed from the logs, the rest
read from the current columns. Consumers take the rows without asking which.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from datetime import date
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    SQLColumnExpression,
    and_,
    func,
    or_,
    select,
    union,
    union_all,
)
from sqlalchemy.orm import aliased
from sqlalchemy.sql.selectable import CTE, Subquery

from domain.queries.moved import history_split, literal_ids
from domain.rules.context import Context
from domain.rules.lifecycle import finished_values
from domain.rules.lights import status_expression
from models.enums import ItemState
from models.orm import (
    CalendarDay,
    DeadlineChange,
    ItemDependency,
    ItemTransition,
    Milestone,
    Report,
    Task,
    Unit,
    WorkItem,
)
from models.tally import DONE_ON, WAITING

CURRENT_DONE_ON = DONE_ON
"""On a settled day, the day an item was done (its state says whether it is)."""
CURRENT_WAITING = WAITING
"""On a settled day, whether an item waits for a prerequisite (see :data:`models.tally.WAITING`)."""


def scope(
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
        *scope(units, milestones),
    ]


def item_status_select(
    ctx: Context,
    *,
    units: Collection[int] | None = None,
    milestones: Collection[int] | None = None,
) -> Select[*tuple[Any, ...]]:
    """One row per live item of the plan on the context's day with its status and the columns
    of :func:`_item_row` (of the items of ``units`` and ``milestones`` only, if given). On a
    day the history has moved past, the items :func:`moved_since` names are replayed and the
    others read from their current columns (all replayed when the context says most moved): the
    same rows as :func:`replayed_select`."""
    where = scope(units, milestones)
    if ctx.settled:
        return _current_select(ctx, where)
    if ctx.replay_all:
        return _replayed_select(ctx, where)
    unmoved, _ = history_split(ctx)
    both = union_all(
        _current_select(ctx, [*where, unmoved]), _replayed_select(ctx, where, moved_only=True)
    ).subquery("item_status")
    return select(both)


def replayed_select(
    ctx: Context,
    *,
    units: Collection[int] | None = None,
    milestones: Collection[int] | None = None,
    where: Sequence[ColumnElement[bool]] = (),
    moved_only: bool = False,
) -> Select[*tuple[Any, ...]]:
    """:func:`item_status_select` with every item (meeting ``where``, if given; of those moved
    since the day only, if ``moved_only``: see :func:`history_split`) replayed from the logs,
    whatever the day."""
    return _replayed_select(ctx, [*scope(units, milestones), *where], moved_only=moved_only)


def _item_row(
    ctx: Context,
    state: SQLColumnExpression[str],
    due: SQLColumnExpression[date],
    percent: SQLColumnExpression[int],
    waiting: SQLColumnExpression[bool],
    status: ColumnElement[str],
) -> Select[*tuple[Any, ...]]:
    """The columns of a status row (both ways of computing it) with the item's milestone, task
    and unit joined; ``workdays_left`` needs ``CalendarDay`` joined on the due date after.
    Outer joins to primary keys: the database leaves out those whose columns a query does not
    read."""
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
            (CalendarDay.ordinal - ctx.ordinal).label("workdays_left"),
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


def light_rule(
    ctx: Context,
    *,
    state: SQLColumnExpression[str],
    done_on: SQLColumnExpression[date | None],
    start: SQLColumnExpression[date],
    due: SQLColumnExpression[date],
    due_ordinal: SQLColumnExpression[int],
    waiting: SQLColumnExpression[bool],
    start_ordinal: SQLColumnExpression[int],
    percent: SQLColumnExpression[int],
) -> ColumnElement[str]:
    """The light rule's CASE under the context's day and policy."""
    return status_expression(
        state=state,
        done_on=done_on,
        start=start,
        due=due,
        due_ordinal=due_ordinal,
        waiting=waiting,
        as_of=ctx.day,
        as_of_ordinal=ctx.ordinal,
        yellow_workdays=ctx.policy.yellow_workdays,
        start_ordinal=start_ordinal,
        percent=percent,
        pace_margin=ctx.policy.pace_margin,
    )


def _current_select(ctx: Context, where: Sequence[ColumnElement[bool]]) -> Select[*tuple[Any, ...]]:
    """:func:`item_status_select` on a settled day: the work items' current columns alone."""
    start_day = aliased(CalendarDay)
    status = light_rule(
        ctx,
        state=WorkItem.state,
        done_on=CURRENT_DONE_ON,
        start=WorkItem.start,
        due=WorkItem.due,
        due_ordinal=CalendarDay.ordinal,
        waiting=CURRENT_WAITING,
        start_ordinal=start_day.ordinal,
        percent=WorkItem.percent,
    ).label("status")
    return (
        _item_row(ctx, WorkItem.state, WorkItem.due, WorkItem.percent, CURRENT_WAITING, status)
        .join(CalendarDay, CalendarDay.day == WorkItem.due)
        .outerjoin(start_day, start_day.day == WorkItem.start)
        .where(*current_items(ctx.plan.id), *where)
    )


def _replayed_select(
    ctx: Context, where: Sequence[ColumnElement[bool]], *, moved_only: bool = False
) -> Select[*tuple[Any, ...]]:
    """:func:`item_status_select` on a day the history has moved past: state, due date,
    prerequisites and percent replayed from the logs up to the day, each a join against a
    grouped derived table (no correlated subquery), so the whole table hash-joins at once.
    ``moved_only``: of the items moved since the day only; when the context carries their ids
    and their prerequisites', every log is read by those ids (index lookups, not a scan)."""
    as_of = ctx.day
    if moved_only:
        where = [*where, history_split(ctx)[1]]
    scoped = select(WorkItem.id).where(*where) if where else None
    among: Among
    by_item: Among
    if moved_only and ctx.moved is not None and ctx.prerequisites is not None:
        moved = ctx.moved

        def among(column: SQLColumnExpression[int]) -> list[ColumnElement[bool]]:
            return [column.in_(literal_ids(moved))]

        history = state_as_of(as_of, moved | ctx.prerequisites).cte(f"state_as_of_{as_of:%Y%m%d}")
        # the logs' rows joined by id are narrowed by item too: else, without nested loops,
        # the join by id reads the whole table
        by_item = among
    else:

        def among(column: SQLColumnExpression[int]) -> list[ColumnElement[bool]]:
            return [column.in_(scoped)] if scoped is not None else []

        history = _history(as_of, scoped)
        by_item = _everything
    state = func.coalesce(history.c.state, ItemState.ASSIGNED.value)
    later = aliased(DeadlineChange)
    first_later = _first_later_change(as_of, among)
    due = func.coalesce(later.old_due, WorkItem.due)
    prerequisites = _open_prerequisites(as_of, history, among)
    last_report = _last_report(as_of, among)
    reported = aliased(Report)
    percent = func.coalesce(reported.percent, 0)
    waiting = prerequisites.c.item_id.is_not(None)
    start_day = aliased(CalendarDay)
    status = light_rule(
        ctx,
        state=state,
        done_on=history.c.done_on,
        start=WorkItem.start,
        due=due,
        due_ordinal=CalendarDay.ordinal,
        waiting=waiting,
        start_ordinal=start_day.ordinal,
        percent=percent,
    ).label("status")
    return (
        _item_row(ctx, state, due, percent, waiting, status)
        .outerjoin(first_later, first_later.c.item_id == WorkItem.id)
        .outerjoin(later, and_(later.id == first_later.c.change_id, *by_item(later.item_id)))
        .join(CalendarDay, CalendarDay.day == due)
        .outerjoin(history, history.c.item_id == WorkItem.id)
        .outerjoin(prerequisites, prerequisites.c.item_id == WorkItem.id)
        .outerjoin(start_day, start_day.day == WorkItem.start)
        .outerjoin(last_report, last_report.c.item_id == WorkItem.id)
        .outerjoin(
            reported, and_(reported.id == last_report.c.report_id, *by_item(reported.item_id))
        )
        .where(
            WorkItem.plan_id == ctx.plan.id,
            state != ItemState.RETIRED.value,
            or_(WorkItem.created_on.is_(None), WorkItem.created_on <= as_of),
            *where,
        )
    )


Among = Callable[[SQLColumnExpression[int]], list[ColumnElement[bool]]]
"""Conditions narrowing a log's ``item_id`` to the items a replay is about (none: all)."""


def _everything(_column: SQLColumnExpression[int]) -> list[ColumnElement[bool]]:
    return []


def _history(as_of: date, scoped: Select[int] | None) -> CTE:
    """Each item's state and done date on ``as_of``; narrowed to some items, only their logs and
    their prerequisites' are replayed. Named per day: a statement may replay several days."""
    name = f"state_as_of_{as_of:%Y%m%d}"
    if scoped is None:
        return state_as_of(as_of).cte(name)
    needed = union(
        scoped,
        select(ItemDependency.depends_on_item_id).where(ItemDependency.item_id.in_(scoped)),
    )
    return state_as_of(as_of, select(needed.subquery().c[0])).cte(name)


def _first_later_change(as_of: date, among: Among) -> Subquery:
    """Per item, its first deadline change logged after ``as_of``: before it, its old date."""
    return (
        select(DeadlineChange.item_id, func.min(DeadlineChange.id).label("change_id"))
        .where(DeadlineChange.on_date > as_of, *among(DeadlineChange.item_id))
        .group_by(DeadlineChange.item_id)
        .subquery("first_later_change")
    )


def _open_prerequisites(as_of: date, history: CTE, among: Among) -> Subquery:
    """The items with a prerequisite in force on ``as_of`` that was not closed then."""
    pred = aliased(history)
    return (
        select(ItemDependency.item_id)
        .outerjoin(pred, pred.c.item_id == ItemDependency.depends_on_item_id)
        .where(
            valid_on(as_of),
            func.coalesce(pred.c.state, ItemState.ASSIGNED.value).not_in(finished_values()),
            *among(ItemDependency.item_id),
        )
        .group_by(ItemDependency.item_id)
        .subquery("open_prerequisites")
    )


def _last_report(as_of: date, among: Among) -> Subquery:
    """Per item, its last report received on or before ``as_of`` (the percent then)."""
    return (
        select(Report.item_id, func.max(Report.id).label("report_id"))
        .where(Report.received_on <= as_of, *among(Report.item_id))
        .group_by(Report.item_id)
        .subquery("last_report")
    )


def state_as_of(
    as_of: date, items: Select[int] | Collection[int] | None = None
) -> Select[int, str, date | None]:
    """Per item with history up to ``as_of`` (of ``items`` only, if given: a query or ids): its
    state then and the date it was done."""
    if items is None:
        among: list[ColumnElement[bool]] = []
    elif isinstance(items, Select):
        among = [ItemTransition.item_id.in_(items)]
    else:
        among = [ItemTransition.item_id.in_(literal_ids(items))]
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
    # ids known: the transitions joined by id narrowed by item too (else a scan of them all)
    by_item = (
        [t.item_id.in_(literal_ids(items))]
        if items is not None and not isinstance(items, Select)
        else []
    )
    return (
        select(
            last.c.item_id,
            t.to_state.label("state"),
            func.coalesce(submitted.c.day, t.on_date).label("done_on"),
        )
        .join(t, and_(t.id == last.c.tid, *by_item))
        .outerjoin(submitted, submitted.c.item_id == last.c.item_id)
    )


def valid_on(as_of: date | SQLColumnExpression[date]) -> ColumnElement[bool]:
    """An item dependency in force on ``as_of`` (baseline rows have no ``created_on``)."""
    return and_(
        or_(ItemDependency.created_on.is_(None), ItemDependency.created_on <= as_of),
        or_(ItemDependency.retired_on.is_(None), ItemDependency.retired_on > as_of),
    )
