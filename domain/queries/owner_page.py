"""The owner's page: a unit's items that need something, with light, due date and evidence.

The only place the owner's side reads the status picture (:mod:`domain.queries.item_status`): one
call, for one unit, on one date.
"""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.queries.item_status import item_status_select
from domain.queries.owner_actions import pending_acks
from domain.rules.context import Context
from models.enums import ACTIVE_STATUSES, STATUS_LIGHT, ItemState, Light, Status
from models.orm import ItemTransition, Milestone, Task

NEEDS_ORDER = ("overdue", "returned", "blocked", "behind_pace", "due_soon", "unacknowledged")
"""Why an item is on the list, most pressing first (the page words them in Chinese)."""
_LIGHT_RANK = {Light.RED: 0, Light.YELLOW: 1, Light.GREEN: 2, Light.DONE_LATE: 3, Light.GRAY: 4}


class OwnerItem(BaseModel):
    """One open item of the unit as its owner sees it."""

    id: int
    task: str
    task_title: str
    milestone: str
    title: str
    deliverable: str
    evidence: list[str]
    due: date
    workdays_left: int
    state: ItemState
    percent: int
    status: Status
    light: Light
    needs: list[str]
    reason: str | None
    """The coordinator's reason for 退回, or the unit's own for 受阻."""
    ack_level: str | None
    """The newest reminder level waiting for 签收, if any."""

    @property
    def can_ack(self) -> bool:
        """Whether 签收 would do something: the item is new, or a reminder waits."""
        return self.state == ItemState.ASSIGNED or self.ack_level is not None


class OwnerPage(BaseModel):
    """What the page shows on a date: the items that need something, and the other open ones."""

    as_of: date
    urgent: list[OwnerItem]
    others: list[OwnerItem]


def owner_page(session: Session, ctx: Context, unit_id: int) -> OwnerPage:
    """The unit's open items under way on the context's day (not waiting, not before their
    window, not done), split into those that need something and the rest."""
    as_of = ctx.day
    query = item_status_select(ctx, units=[unit_id])
    rows = [r for r in session.execute(query) if r.status in ACTIVE_STATUSES]
    ids = [r.id for r in rows]
    details = {
        d.id: d
        for d in session.execute(
            select(
                Milestone.id,
                Milestone.deliverable,
                Milestone.evidence,
                Task.title.label("task_title"),
            )
            .join(Task, Task.id == Milestone.task_id)
            .where(Milestone.id.in_({r.milestone_id for r in rows}))
        )
    }
    reasons = _reasons(session, ids)
    acks = pending_acks(session, unit_id, as_of, ids)
    items: list[OwnerItem] = []
    for r in rows:
        status, state = Status(r.status), ItemState(r.state)
        waiting_ack = state == ItemState.ASSIGNED or r.id in acks
        needs = [
            n
            for n in NEEDS_ORDER
            if n in (status.value, state.value) or (n == "unacknowledged" and waiting_ack)
        ]
        detail = details[r.milestone_id]
        items.append(
            OwnerItem(
                id=r.id,
                task=r.task,
                task_title=detail.task_title,
                milestone=r.milestone,
                title=r.title,
                deliverable=detail.deliverable or "",
                evidence=list(detail.evidence or []),
                due=r.due,
                workdays_left=r.workdays_left,
                state=state,
                percent=r.percent,
                status=status,
                light=STATUS_LIGHT[status],
                needs=needs,
                reason=reasons.get(r.id) if state in _WITH_REASON else None,
                ack_level=acks[r.id][-1] if r.id in acks else None,
            )
        )
    items.sort(key=lambda i: (_LIGHT_RANK[i.light], i.workdays_left, i.milestone, i.id))
    return OwnerPage(
        as_of=as_of,
        urgent=[i for i in items if i.needs],
        others=[i for i in items if not i.needs],
    )


_WITH_REASON = frozenset({ItemState.RETURNED, ItemState.BLOCKED})


def _reasons(session: Session, ids: list[int]) -> dict[int, str]:
    """The reason of each item's latest move to 退回 or 受阻 (where there is one)."""
    found: dict[int, str] = {}
    if not ids:
        return found
    for item_id, reason in session.execute(
        select(ItemTransition.item_id, ItemTransition.reason)
        .where(
            ItemTransition.item_id.in_(ids),
            ItemTransition.to_state.in_([s.value for s in _WITH_REASON]),
            ItemTransition.reason.is_not(None),
        )
        .order_by(ItemTransition.id)
    ):
        if reason:
            found[item_id] = reason
    return found
