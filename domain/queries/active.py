"""The items active on a day (on track, due soon, behind pace or overdue: what a unit owes a
report for and the ladder chases), on one day or on several days in one statement."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from contextlib import nullcontext
from datetime import date

from sqlalchemy import (
    ColumnElement,
    Date,
    Integer,
    Select,
    and_,
    exists,
    func,
    literal,
    or_,
    select,
    true,
    union_all,
)
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.selectable import Subquery

from domain.queries.item_status import (
    CURRENT_WAITING,
    current_items,
    replayed_select,
    scope,
    valid_on,
)
from domain.queries.moved import history_split, moved_since
from domain.rules.context import Context
from domain.rules.lifecycle import done_values, finished_values
from domain.rules.lights import active_condition
from models.db import nested_loops_allowed
from models.enums import ACTIVE_STATUSES, ItemState
from models.orm import DeadlineChange, ItemDependency, ItemTransition, WorkItem


def active_items(
    ctx: Context, units: Collection[int] | None = None, *, due_by: date | None = None
) -> Subquery:
    """The items active on the context's day (on track, due soon, behind pace or overdue), of
    ``units`` and due by ``due_by`` only if given: ``id``, ``unit_id``, ``milestone_id``,
    ``due`` (as it stood on the day)."""
    current = select(WorkItem.id, WorkItem.unit_id, WorkItem.milestone_id, WorkItem.due).where(
        *current_items(ctx.plan.id, units),
        *([WorkItem.due <= due_by] if due_by is not None else []),
        active_condition(
            state=WorkItem.state, start=WorkItem.start, waiting=CURRENT_WAITING, as_of=ctx.day
        ),
    )
    if ctx.settled:  # plain column tests on work_item: no status worked out per item
        return current.subquery("active_items")
    # the items whose history moved after the day replayed, the others as on a settled day
    unmoved, _ = history_split(ctx)
    rows = replayed_select(ctx, units=units, moved_only=not ctx.replay_all).subquery()
    replayed = select(rows.c.id, rows.c.unit_id, rows.c.milestone_id, rows.c.due).where(
        *([rows.c.due <= due_by] if due_by is not None else []),
        rows.c.state.not_in(done_values()),  # no status to work out for the items done
        rows.c.status.in_(ACTIVE_STATUSES),
    )
    if ctx.replay_all:
        return replayed.subquery("active_items")
    return union_all(current.where(unmoved), replayed).subquery("active_items")


def active_units(
    ctx: Context, days: Sequence[date], units: Collection[int] | None = None
) -> Select[int, int]:
    """(n, unit_id): each unit (of ``units``, if given) with an active item on ``days[n]``, for
    every n at once: one statement whatever the number of days, the days the history is settled
    on read from the current columns, the others replayed together."""
    settled = [(n, d) for n, d in enumerate(days) if ctx.settled_on(d)]
    replayed = [(n, d) for n, d in enumerate(days) if not ctx.settled_on(d)]
    parts: list[Select[int, int]] = []
    if settled:
        parts.append(_current_active_units(ctx, _days(settled, "settled_days"), units))
    if replayed and ctx.replay_all:  # most moved since the context's day, so since these too
        on = _days(replayed, "replayed_days")
        parts.append(_replayed_active_units(ctx, on, units, None))
    elif replayed:
        # the items unmoved since the first of these days stood then as they stand now, on every
        # one of them: only the others are replayed
        moved = moved_since(min(d for _, d in replayed)).subquery("moved_since_first")
        unmoved = ~exists().where(moved.c.item_id == WorkItem.id)
        on = _days(replayed, "replayed_days")
        parts.append(_current_active_units(ctx, on, units, unmoved))
        parts.append(_replayed_active_units(ctx, on, units, select(moved.c.item_id)))
    if len(parts) == 1:
        return parts[0]
    both = union_all(*parts).subquery()
    return select(both.c.n, both.c.unit_id)


def units_active_on(
    session: Session, ctx: Context, days: Sequence[date], units: Collection[int] | None = None
) -> list[set[int]]:
    """For each of ``days``, the units (of ``units``, if given) with an active item on it
    (:func:`active_units`): one statement, run with nested loops allowed when days are replayed
    (their logs are joined on a range of days)."""
    out: list[set[int]] = [set() for _ in days]
    replayed = not all(ctx.settled_on(d) for d in days)
    with nested_loops_allowed(session) if replayed else nullcontext():
        for n, unit_id in session.execute(active_units(ctx, days, units)):
            out[n].add(unit_id)
    return out


def _days(days: list[tuple[int, date]], name: str) -> Subquery:
    """A small table (n, day)."""
    return union_all(
        *(select(literal(n, Integer).label("n"), literal(d, Date).label("day")) for n, d in days)
    ).subquery(name)


def _current_active_units(
    ctx: Context, on: Subquery, units: Collection[int] | None, *where: ColumnElement[bool]
) -> Select[int, int]:
    """:func:`active_units` read from the items' current columns on the days of ``on`` (those
    the history is settled on, or for the items it has not moved since)."""
    return (
        select(on.c.n, WorkItem.unit_id)
        .join(on, true())
        .where(
            *current_items(ctx.plan.id, units),
            *where,
            active_condition(
                state=WorkItem.state, start=WorkItem.start, waiting=CURRENT_WAITING, as_of=on.c.day
            ),
        )
        .group_by(on.c.n, WorkItem.unit_id)
    )


def _replayed_active_units(
    ctx: Context, on: Subquery, units: Collection[int] | None, moved: Select[int] | None
) -> Select[int, int]:
    """:func:`active_units` of the ``moved`` items (None: every item) on days the history has
    moved past: per (day, item) the state then, its open prerequisites then and its due date as
    it stood, from the logs. Active as the light rule has it: not done, not waiting, and the
    window open or the due date passed."""
    where = [*scope(units, None), *([] if moved is None else [WorkItem.id.in_(moved)])]
    scoped = select(WorkItem.id).where(*where) if where else None
    among = [] if scoped is None else [ItemTransition.item_id.in_(_with_prerequisites(scoped))]

    def states(name: str) -> Subquery:
        """(n, item_id, state): each item's state on each day (a subquery of its own per use:
        SQLite indexes a subquery for its join, not a CTE read twice)."""
        last = (
            select(on.c.n, ItemTransition.item_id, func.max(ItemTransition.id).label("tid"))
            .join(on, ItemTransition.on_date <= on.c.day)
            .where(*among)
            .group_by(on.c.n, ItemTransition.item_id)
            .subquery()
        )
        t = aliased(ItemTransition)
        return (
            select(last.c.n, last.c.item_id, t.to_state.label("state"))
            .join(t, t.id == last.c.tid)
            .group_by(last.c.n, last.c.item_id, t.to_state)  # kept whole: SQLite indexes it
            .subquery(name)
        )

    prerequisite = states("prerequisite_states")
    waiting = (
        select(on.c.n, ItemDependency.item_id)
        .join(on, valid_on(on.c.day))
        .outerjoin(
            prerequisite,
            and_(
                prerequisite.c.n == on.c.n,
                prerequisite.c.item_id == ItemDependency.depends_on_item_id,
            ),
        )
        .where(
            func.coalesce(prerequisite.c.state, ItemState.ASSIGNED.value).not_in(finished_values()),
            *([] if scoped is None else [ItemDependency.item_id.in_(scoped)]),
        )
        .group_by(on.c.n, ItemDependency.item_id)
        .subquery("waiting_on_days")
    )
    later = (
        select(on.c.n, DeadlineChange.item_id, func.min(DeadlineChange.id).label("change_id"))
        .join(on, DeadlineChange.on_date > on.c.day)
        .where(*([] if scoped is None else [DeadlineChange.item_id.in_(scoped)]))
        .group_by(on.c.n, DeadlineChange.item_id)
        .subquery("first_later_change")
    )
    change = aliased(DeadlineChange)
    own = states("item_states")
    state = func.coalesce(own.c.state, ItemState.ASSIGNED.value)
    due = func.coalesce(change.old_due, WorkItem.due)
    return (
        select(on.c.n, WorkItem.unit_id)
        .select_from(WorkItem)
        .join(on, true())
        # the due date as it stood first: SQLite then drops the items not yet open on a day
        # (most of them) before it looks up their states and prerequisites
        .outerjoin(later, and_(later.c.n == on.c.n, later.c.item_id == WorkItem.id))
        .outerjoin(change, change.id == later.c.change_id)
        .outerjoin(own, and_(own.c.n == on.c.n, own.c.item_id == WorkItem.id))
        .outerjoin(waiting, and_(waiting.c.n == on.c.n, waiting.c.item_id == WorkItem.id))
        .where(
            WorkItem.plan_id == ctx.plan.id,
            *where,
            or_(WorkItem.created_on.is_(None), WorkItem.created_on <= on.c.day),
            state != ItemState.RETIRED.value,
            active_condition(
                state=state,
                start=WorkItem.start,
                waiting=waiting.c.item_id.is_not(None),
                as_of=on.c.day,
                due=due,
            ),
        )
        .group_by(on.c.n, WorkItem.unit_id)
    )


def _with_prerequisites(scoped: Select[int]) -> Select[int]:
    """The items of ``scoped`` and the items they depend on."""
    needed = select(ItemDependency.depends_on_item_id).where(ItemDependency.item_id.in_(scoped))
    both = scoped.union(needed).subquery()
    return select(both.c[0])
