"""The overdue items of a plan in the order the coordinator's table shows them (due date, task,
milestone, unit, occurrence), the first so many, read on a settled day without working out any
status per item.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, SQLColumnExpression, case, func, select, true, tuple_
from sqlalchemy.orm import Session

from domain.queries.counts import item_groups
from domain.queries.item_status import (
    CURRENT_WAITING,
    current_items,
    item_status_select,
)
from domain.queries.scope import plan_milestones
from domain.rules.context import Context
from domain.rules.lights import overdue_condition
from domain.rules.status_views import ItemStatus
from models.enums import STATUS_LIGHT, ItemState, Status
from models.orm import CalendarDay, Unit, WorkItem


def overdue_items(
    session: Session,
    ctx: Context,
    units: Collection[int] | None,
    milestones: Collection[int] | None,
    limit: int | None,
) -> list[ItemStatus]:
    """The first ``limit`` items overdue on the context's day, in the table's order. On a
    settled day they are read by plain column tests (:func:`~domain.rules.lights.overdue_condition`)
    with the task and milestone order a rank per milestone id; otherwise from the status rows."""
    if not ctx.settled:
        return _replayed_overdue(session, ctx, units, milestones, limit)
    named = plan_milestones(session, ctx.plan.id)
    order = sorted(named, key=lambda m: (m.task, m.code))
    rank_of = {m.id: i for i, m in enumerate(order)}
    by_id = {m.id: m for m in named}
    overdue = [
        *current_items(ctx.plan.id, units, milestones),
        overdue_condition(
            state=WorkItem.state, waiting=CURRENT_WAITING, due=WorkItem.due, as_of=ctx.day
        ),
    ]
    rows = None
    if units is None and limit is not None:
        rows = _first_overdue(session, ctx, milestones, overdue, rank_of, limit)
    if rows is None:  # some units, no limit, or the tally disagrees: the database sorts them all
        rows = _sorted_overdue(session, overdue, rank_of, limit)
    # working days left by the calendar, for the due dates shown only
    dues = {r.due for r in rows}
    ordinals = dict(
        session.execute(
            select(CalendarDay.day, CalendarDay.ordinal).where(CalendarDay.day.in_(dues))
        ).all()
    )
    return [
        item_status(
            r,
            by_id[r.milestone_id].task,
            by_id[r.milestone_id].code,
            by_id[r.milestone_id].title,
            Status.OVERDUE,
            ordinals[r.due] - ctx.ordinal,
        )
        for r in rows
    ]


def _replayed_overdue(
    session: Session,
    ctx: Context,
    units: Collection[int] | None,
    milestones: Collection[int] | None,
    limit: int | None,
) -> list[ItemStatus]:
    """:func:`overdue_items` from the status rows (a day the history has moved past)."""
    rows = item_status_select(ctx, units=units, milestones=milestones).subquery()
    query = (
        select(rows)
        .where(rows.c.status == Status.OVERDUE.value, rows.c.due < ctx.day)
        .order_by(rows.c.due, rows.c.task, rows.c.milestone, rows.c.unit, rows.c.occurrence)
        .limit(limit)
    )
    return [
        item_status(r, r.task, r.milestone, r.title, Status.OVERDUE, r.workdays_left)
        for r in session.execute(query)
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
    ctx: Context,
    milestones: Collection[int] | None,
    overdue: list[ColumnElement[bool]],
    rank_of: dict[int, int],
    limit: int,
) -> list[_Overdue] | None:
    """The first ``limit`` overdue items of the plan, reading only the groups of one due date
    and milestone that the table reaches (:func:`_groups_shown`); None if the items read
    disagree with the tally's counts (a concurrent write, or a drifted tally: `duban recount`).
    A large last group is walked by unit code on PostgreSQL (:func:`_first_by_unit`)."""
    whole, cut = _groups_shown(session, ctx, milestones, rank_of, limit)
    groups = list(whole)
    tail: list[_Overdue] = []
    if cut is not None:
        due, milestone, wanted, size = cut
        in_group = [*overdue, WorkItem.due == due, WorkItem.milestone_id == milestone]
        if size < 4 * wanted:
            groups.append((due, milestone, size))
        elif session.get_bind().dialect.name == "postgresql":
            tail = _first_by_unit(session, ctx.plan.id, in_group, wanted)
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
    ctx: Context,
    milestones: Collection[int] | None,
    rank_of: dict[int, int],
    limit: int,
) -> tuple[list[tuple[date, int, int]], tuple[date, int, int, int] | None]:
    """From the tally, the (due, milestone, size) groups of overdue items in the table's order
    that the first ``limit`` rows take whole, and the group they end in: (due, milestone, rows
    wanted from it, its size), or None when the whole groups make up the table."""
    groups = item_groups(ctx.plan.id, None, milestones)
    counts = session.execute(
        select(groups.c.due, groups.c.milestone_id, func.sum(groups.c.n))
        .where(
            overdue_condition(
                state=groups.c.state, waiting=groups.c.waiting, due=groups.c.due, as_of=ctx.day
            )
        )
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


def item_status(
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
