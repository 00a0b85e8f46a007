"""Moving work items through their lifecycle, with the audit trail (留痕) written set-based."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from domain.lifecycle import check_transition
from models import clock
from models.enums import ItemState
from models.orm import ItemTransition, Plan, WorkItem


@dataclass(frozen=True)
class Move:
    """One item moving from a known state to another."""

    item_id: int
    from_state: ItemState | None
    to_state: ItemState


def record_moves(
    session: Session, moves: Sequence[Move], *, actor: str, reason: str | None, on_date: date
) -> None:
    """Check each move against the lifecycle, then update states and log transitions in bulk.

    ``from_state`` None is the creation of an item (straight into ``assigned``).
    """
    if not moves:
        return
    for move in moves:
        if move.from_state is not None:
            check_transition(move.from_state, move.to_state, reason)
    at = clock.now()
    session.execute(
        insert(ItemTransition),
        [
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
        ],
    )
    changed = [m for m in moves if m.from_state is not None]
    if changed:
        session.execute(
            update(WorkItem),
            [{"id": m.item_id, "state": m.to_state.value, "updated_at": at} for m in changed],
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
    ).one()
    move = Move(item_id, ItemState(row.state), to_state)
    record_moves(
        session,
        [move],
        actor=actor,
        reason=reason,
        on_date=clock.local_date(clock.now(), row.timezone),
    )
    return move


def history(session: Session, item_id: int) -> list[ItemTransition]:
    """Every transition of an item, oldest first."""
    return list(
        session.scalars(
            select(ItemTransition)
            .where(ItemTransition.item_id == item_id)
            .order_by(ItemTransition.id)
        )
    )
