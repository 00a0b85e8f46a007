"""Moving work items through their lifecycle, with the audit trail (留痕) written set-based."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from config.errors import NotFoundError
from domain.queries.calendar import deadline_rule
from domain.queries.prerequisites import CHUNK, dependents, refresh_open_prerequisites
from domain.rules.glossary import ITEM_STATES, word, zh_date
from domain.rules.lifecycle import (
    FINISHED_STATES,
    ChangedMeanwhileError,
    TransitionError,
    check_transition,
    finished_values,
)
from models import clock
from models.db import insert_rows
from models.enums import ItemState
from models.orm import (
    DeadlineChange,
    ItemDependency,
    ItemTransition,
    Milestone,
    Plan,
    Report,
    WorkItem,
)


@dataclass(frozen=True)
class Move:
    """One item moving from a known state to another."""

    item_id: int
    from_state: ItemState | None
    to_state: ItemState


def record_moves(
    session: Session,
    moves: Sequence[Move],
    *,
    actor: str,
    reason: str | None,
    on_date: date,
    system: bool = False,
) -> None:
    """Check each move against the lifecycle, then update states and log transitions in bulk.

    ``from_state`` None is the creation of an item (straight into ``assigned``). The items are
    locked (``SELECT … FOR UPDATE`` where the database has it) and must still be in the state
    each move starts from: two people moving the same item at once cannot both succeed.
    """
    if not moves:
        return
    for move in moves:
        if move.from_state is not None:
            check_transition(move.from_state, move.to_state, reason, system=system)
    changed = [m for m in moves if m.from_state is not None]
    expected = {m.item_id: m.from_state for m in changed}
    ids = list(expected)
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        for item_id, state in session.execute(
            select(WorkItem.id, WorkItem.state).where(WorkItem.id.in_(chunk)).with_for_update()
        ):
            if state != expected[item_id]:
                raise ChangedMeanwhileError(
                    f"事项 {item_id} 刚被改动：现在是“{word(ITEM_STATES, state)}”，"
                    f"不是“{word(ITEM_STATES, str(expected[item_id]))}”；请重新查看后再试"
                )
    at = clock.now()
    insert_rows(
        session,
        ItemTransition,
        (
            {
                "item_id": m.item_id,
                "from_state": m.from_state.value if m.from_state else None,
                "to_state": m.to_state.value,
                "at": at,
                "on_date": on_date,
                "actor": actor,
                "reason": reason,
            }
            for m in moves
        ),
    )
    # the current-state columns beside the log, what today's status reads (domain.queries.status); a
    # creation move (from nothing) is the insert's, which sets them itself
    if changed:
        session.execute(
            update(WorkItem),
            [
                {"id": m.item_id, "state": m.to_state.value, "moved_on": on_date, "updated_at": at}
                for m in changed
            ],
        )
    released = [
        m.item_id
        for m in changed
        if (m.from_state in FINISHED_STATES) ^ (m.to_state in FINISHED_STATES)
    ]
    if released:
        refresh_open_prerequisites(session, dependents(session, released))
    submitted = [m.item_id for m in changed if m.to_state == ItemState.SUBMITTED]
    for start in range(0, len(submitted), CHUNK):
        session.execute(
            update(WorkItem)
            .where(
                WorkItem.id.in_(submitted[start : start + CHUNK]),
                or_(WorkItem.submitted_on.is_(None), WorkItem.submitted_on < on_date),
            )
            .values(submitted_on=on_date)
            .execution_options(synchronize_session=False)
        )
    session.flush()


def move_item(
    session: Session, item_id: int, to_state: ItemState, *, actor: str, reason: str | None
) -> Move:
    """Move one item (checked against the lifecycle) and log it; returns the move made."""
    row = session.execute(
        select(WorkItem.state, Plan.timezone)
        .join(Plan, Plan.id == WorkItem.plan_id)
        .where(WorkItem.id == item_id)
    ).one_or_none()
    if row is None:
        raise NotFoundError(f"没有事项 {item_id}")
    move = Move(item_id, ItemState(row.state), to_state)
    record_moves(
        session,
        [move],
        actor=actor,
        reason=reason,
        on_date=clock.local_date(clock.now(), row.timezone),
    )
    return move


def verify_item(session: Session, item_id: int, *, actor: str, note: str | None) -> Move:
    """核验销号: close a submitted item, if its evidence came and its prerequisites are closed."""
    row = session.execute(
        select(WorkItem.state, Milestone.evidence)
        .join(Milestone, Milestone.id == WorkItem.milestone_id)
        .where(WorkItem.id == item_id)
    ).one_or_none()
    if row is None:
        raise NotFoundError(f"没有事项 {item_id}")
    if ItemState(row.state) == ItemState.CLOSED:
        raise TransitionError(f"事项 {item_id} 已销号")
    if row.evidence and ItemState(row.state) == ItemState.SUBMITTED:
        latest = session.scalars(
            select(Report.evidence)
            .where(Report.item_id == item_id, Report.state == "done")
            .order_by(Report.id.desc())
            .limit(1)
        ).first()
        if not (latest and latest.strip()):
            raise TransitionError(
                f"事项 {item_id} 须有佐证材料（{'、'.join(row.evidence)}）才能销号，"
                "而它的办结报送没有附佐证；请退回并要求补交佐证材料"
            )
    open_prerequisites = session.execute(
        select(WorkItem.id, WorkItem.state)
        .join(ItemDependency, ItemDependency.depends_on_item_id == WorkItem.id)
        .where(
            ItemDependency.item_id == item_id,
            ItemDependency.retired_on.is_(None),
            WorkItem.state.not_in(finished_values()),
        )
    ).all()
    if open_prerequisites:
        listed = "、".join(f"#{r.id}（{word(ITEM_STATES, r.state)}）" for r in open_prerequisites)
        raise TransitionError(f"事项 {item_id} 的前置事项尚未销号，不能先销号：{listed}")
    return move_item(session, item_id, ItemState.CLOSED, actor=actor, reason=note)


def extend_item(session: Session, item_id: int, new_due: date, *, actor: str, reason: str) -> date:
    """延期: record an approved new deadline, postponed (顺延) to the next working day when it
    is a rest day (the item's ``due`` after says which); the original stays on record. Returns
    the old deadline."""
    item = session.get(WorkItem, item_id)
    if item is None:
        raise NotFoundError(f"没有事项 {item_id}")
    new_due = deadline_rule(session, new_due, new_due)(new_due)
    if new_due <= item.due:
        raise TransitionError(f"新的完成时限{zh_date(new_due)}不晚于当前时限{zh_date(item.due)}")
    state = ItemState(item.state)
    if state != ItemState.EXTENDED:
        move_item(session, item_id, ItemState.EXTENDED, actor=actor, reason=reason)
    tz = session.scalar(select(Plan.timezone).where(Plan.id == item.plan_id)) or "UTC"
    old = item.due
    session.add(
        DeadlineChange(
            item_id=item_id,
            old_due=old,
            new_due=new_due,
            kind="extension",
            at=clock.now(),
            on_date=clock.local_date(clock.now(), tz),
            actor=actor,
            reason=reason,
        )
    )
    item.due = new_due
    session.flush()
    return old
