"""延期申请: a unit asks for a later due date; the coordinator approves it (the deadline moves
through :func:`domain.queries.items.extend_item`, as ``duban extend`` does) or refuses it."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, datetime

from pydantic import BaseModel
from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from config.errors import NotFoundError
from domain.queries.items import extend_item
from domain.rules.glossary import EXTENSION_STATUSES, zh_date
from domain.rules.lifecycle import TransitionError
from models import clock
from models.orm import Milestone, Plan, Task, Unit, WorkItem
from models.records import ExtensionRequest

PENDING, APPROVED, REFUSED = "pending", "approved", "refused"


class ExtensionView(BaseModel):
    """One request with its item, as the coordinator's list shows it."""

    id: int
    item_id: int
    task: str
    milestone: str
    title: str
    unit: str
    unit_name: str
    actor: str
    due: date
    """The item's due date now."""
    current_due: date
    """The due date when the request was made."""
    proposed_due: date
    reason: str
    requested_at: datetime
    requested_on: date
    status: str
    decided_by: str | None
    decided_at: datetime | None
    decision_reason: str | None


def pending_request(session: Session, item_id: int) -> ExtensionRequest | None:
    """The item's request waiting for a decision, if any."""
    return session.scalars(
        select(ExtensionRequest).where(
            ExtensionRequest.item_id == item_id, ExtensionRequest.status == PENDING
        )
    ).first()


def pending_dates(session: Session, item_ids: Collection[int]) -> dict[int, date]:
    """The proposed date of each of the items' pending requests."""
    if not item_ids:
        return {}
    query = select(ExtensionRequest.item_id, ExtensionRequest.proposed_due).where(
        ExtensionRequest.item_id.in_(list(item_ids)), ExtensionRequest.status == PENDING
    )
    return {item: value for item, value in session.execute(query)}  # noqa: C416 - typed rows


def request_extension(
    session: Session,
    *,
    plan_id: str,
    item_id: int,
    unit_id: int,
    contact_id: int | None,
    actor: str,
    proposed: date,
    reason: str,
    timezone: str,
) -> ExtensionRequest:
    """Record a pending request on a locked item (TransitionError if one already waits)."""
    item = session.scalars(select(WorkItem).where(WorkItem.id == item_id).with_for_update()).one()
    if (waiting := pending_request(session, item_id)) is not None:
        raise TransitionError(
            f"本事项已有一份待审批的延期申请（拟延期至{zh_date(waiting.proposed_due)}），"
            "请等待督办协调单位审批"
        )
    now = clock.now()
    row = ExtensionRequest(
        plan_id=plan_id,
        item_id=item_id,
        unit_id=unit_id,
        contact_id=contact_id,
        actor=actor,
        current_due=item.due,
        proposed_due=proposed,
        reason=reason,
        requested_at=now,
        requested_on=clock.local_date(now, timezone),
        status=PENDING,
    )
    session.add(row)
    session.flush()
    return row


def request_rows() -> Select[ExtensionRequest, date, str, str, str, str, str]:
    """Requests with what a list shows of each: the item's due date, task and milestone codes,
    the milestone's title, the unit's code and name (no filter, no order)."""
    return (
        select(
            ExtensionRequest,
            WorkItem.due,
            Task.code.label("task"),
            Milestone.code.label("milestone"),
            Milestone.title,
            Unit.code.label("unit"),
            Unit.name.label("unit_name"),
        )
        .join(WorkItem, WorkItem.id == ExtensionRequest.item_id)
        .join(Milestone, Milestone.id == WorkItem.milestone_id)
        .join(Task, Task.id == Milestone.task_id)
        .join(Unit, Unit.id == ExtensionRequest.unit_id)
    )


def list_requests(
    session: Session, plan_id: str, *, status: str | None = PENDING
) -> list[ExtensionView]:
    """The plan's requests (of one status, or all when ``status`` is None), oldest first."""
    query = request_rows().where(ExtensionRequest.plan_id == plan_id).order_by(ExtensionRequest.id)
    if status is not None:
        query = query.where(ExtensionRequest.status == status)
    return [
        ExtensionView(
            id=r.id,
            item_id=r.item_id,
            task=task,
            milestone=milestone,
            title=title,
            unit=unit,
            unit_name=unit_name,
            actor=r.actor,
            due=due,
            current_due=r.current_due,
            proposed_due=r.proposed_due,
            reason=r.reason,
            requested_at=r.requested_at,
            requested_on=r.requested_on,
            status=r.status,
            decided_by=r.decided_by,
            decided_at=r.decided_at,
            decision_reason=r.decision_reason,
        )
        for r, due, task, milestone, title, unit, unit_name in session.execute(query)
    ]


def _pending(session: Session, request_id: int) -> ExtensionRequest:
    row = session.scalars(
        select(ExtensionRequest).where(ExtensionRequest.id == request_id).with_for_update()
    ).first()
    if row is None:
        raise NotFoundError(f"没有编号为 {request_id} 的延期申请")
    if row.status != PENDING:
        raise TransitionError(
            f"延期申请 {request_id} 已于此前处理（{EXTENSION_STATUSES[row.status]}，"
            f"{row.decided_by}），不能再次审批"
        )
    return row


def approve_request(
    session: Session, request_id: int, *, actor: str, reason: str | None
) -> tuple[ExtensionRequest, date]:
    """批准: move the item's deadline to the proposed date (the extension path of ``duban
    extend``, recorded under ``actor``) and mark the request approved; returns it and the old
    due date."""
    row = _pending(session, request_id)
    why = reason or f"批准{row.actor}的延期申请：{row.reason}"
    old = extend_item(session, row.item_id, row.proposed_due, actor=actor, reason=why)
    _decide(session, row, APPROVED, actor=actor, reason=reason)
    return row, old


def refuse_request(
    session: Session, request_id: int, *, actor: str, reason: str
) -> ExtensionRequest:
    """不予批准: the deadline stays; the request is marked refused with the reason."""
    if not reason.strip():
        raise TransitionError("不批准延期申请须写明理由（--reason）")
    row = _pending(session, request_id)
    _decide(session, row, REFUSED, actor=actor, reason=reason.strip())
    return row


def _decide(
    session: Session, row: ExtensionRequest, status: str, *, actor: str, reason: str | None
) -> None:
    row.status, row.decided_by, row.decided_at = status, actor, clock.now()
    row.decision_reason = reason
    session.flush()


def plan_timezone(session: Session, plan_id: str) -> str:
    """The plan's timezone (for dates of the request)."""
    return session.scalar(select(Plan.timezone).where(Plan.id == plan_id)) or "Asia/Shanghai"
