"""Which items' status on a day may differ from their current columns: the items moved since
the day, found by a statement or carried by the context as ids."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, bindparam, exists, or_, select, union_all
from sqlalchemy.sql.elements import BindParameter
from sqlalchemy.sql.selectable import CompoundSelect

from domain.rules.context import Context
from models.orm import DeadlineChange, ItemDependency, ItemTransition, Report, WorkItem


def history_split(ctx: Context) -> tuple[ColumnElement[bool], ColumnElement[bool]]:
    """Conditions on ``work_item``: (not moved, moved) since the context's day, by the ids it
    carries or else by :func:`moved_since` in the statement."""
    if ctx.moved is not None:
        return WorkItem.id.not_in(literal_ids(ctx.moved)), WorkItem.id.in_(literal_ids(ctx.moved))
    moved = moved_since(ctx.day).subquery("moved")
    return (
        ~exists().where(moved.c.item_id == WorkItem.id),
        WorkItem.id.in_(select(moved.c.item_id)),
    )


def literal_ids(ids: Collection[int]) -> BindParameter[Any]:
    """``ids`` for an IN list, written into the SQL as numbers, not bound: the ids recur in
    several subqueries, and thousands of them bound each time pass SQLite's 32,766 and
    PostgreSQL's 65,535 parameters a statement."""
    return bindparam(None, sorted(ids), expanding=True, literal_execute=True)


def moved_since(day: date) -> CompoundSelect[int]:
    """The ids (repeats possible) of the items whose status on ``day`` may differ from what
    their current columns say: those with anything in their history dated after the day (a
    move, a report, a deadline change, a prerequisite added or dropped, the item's creation —
    a creation is also a move, counted apart all the same as the replay reads ``created_on``),
    and those depending on an item moved or created after it. For every other item the
    history up to the day is its whole history, so the current columns are its columns then."""
    changed = union_all(
        select(ItemTransition.item_id).where(ItemTransition.on_date > day),
        select(WorkItem.id).where(WorkItem.created_on > day),
    ).subquery("changed_after")
    return union_all(
        select(changed.c[0].label("item_id")),
        select(ItemDependency.item_id).where(
            ItemDependency.depends_on_item_id.in_(select(changed.c[0]))
        ),
        select(ItemDependency.item_id).where(
            or_(ItemDependency.created_on > day, ItemDependency.retired_on > day)
        ),
        select(Report.item_id).where(Report.received_on > day),
        select(DeadlineChange.item_id).where(DeadlineChange.on_date > day),
    )
