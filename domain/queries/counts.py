"""Counting the plan's items per status: on a settled day from the tally the database keeps
(a few hundred groups of alike items), otherwise from the replayed status rows."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.selectable import Subquery

from domain.queries.item_status import current_items, item_status_select, light_rule
from domain.rules.context import Context
from domain.rules.lifecycle import done_values
from models.enums import ItemState
from models.orm import CalendarDay, Milestone, Task, work_item_tally
from models.tally import ITEM_KEY, KEY_COLUMNS


def item_groups(
    plan_id: str, units: Collection[int] | None, milestones: Collection[int] | None
) -> Subquery:
    """The plan's live items now counted by what their status depends on: (milestone_id,
    state, start, due, percent, done_on, waiting, n), from the tally the database keeps for the
    whole plan or some milestones, from one pass over the items for some units."""
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
    key = ITEM_KEY[1:]  # the tally's own key (less the plan), named as its columns
    named: list[ColumnElement[Any]] = [
        k.label(c.name) for k, c in zip(key, KEY_COLUMNS[1:], strict=True)
    ]
    return (
        select(*named, func.count().label("n"))
        .where(*current_items(plan_id, units, milestones))
        .group_by(*key)
        .subquery("item_groups")
    )


StatusCount = tuple[str, str, str, str, int]
"""(task code, milestone code, milestone title, status, number of items)."""


def status_counts(
    session: Session,
    ctx: Context,
    *,
    units: Collection[int] | None = None,
    milestones: Collection[int] | None = None,
) -> list[StatusCount]:
    """How many items of each (task, milestone, milestone title, status) on the context's day;
    on a settled day the status is worked out once per group of alike items
    (:func:`item_groups`), not once per item."""
    if not ctx.settled:
        rows = item_status_select(ctx, units=units, milestones=milestones).subquery()
        keys = (rows.c.task, rows.c.milestone, rows.c.title, rows.c.status)
        return [
            (r[0], r[1], r[2], r[3], r[4])
            for r in session.execute(select(*keys, func.count()).group_by(*keys))
        ]
    grouped = item_groups(ctx.plan.id, units, milestones)
    start_day, due_day = aliased(CalendarDay), aliased(CalendarDay)
    status = light_rule(
        ctx,
        state=grouped.c.state,
        done_on=grouped.c.done_on,
        start=grouped.c.start,
        due=grouped.c.due,
        due_ordinal=due_day.ordinal,
        waiting=grouped.c.waiting,
        start_ordinal=start_day.ordinal,
        percent=grouped.c.percent,
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


def earliest_open_due(session: Session, plan_id: str) -> date | None:
    """On a settled day, the earliest due date of the plan's open items (from the tally)."""
    groups = item_groups(plan_id, None, None)
    first: date | None = session.scalar(
        select(func.min(groups.c.due)).where(groups.c.state.not_in(done_values()))
    )
    return first
