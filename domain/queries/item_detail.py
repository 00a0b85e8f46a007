"""One work item with its prerequisites and its whole record, for `duban item show`."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from config.errors import NotFoundError
from domain.queries.predecessors import predecessors_of
from domain.rules.carry_over import Predecessor
from domain.rules.glossary import (
    DEADLINE_CHANGES,
    EVIDENCE_KINDS,
    EXTENSION_STATUSES,
    ITEM_STATES,
    REPORT_STATES,
    word,
    zh_date,
)
from models.enums import ItemState
from models.orm import (
    DeadlineChange,
    ItemDependency,
    ItemTransition,
    Milestone,
    Plan,
    Report,
    Task,
    Unit,
    WorkItem,
)
from models.records import EvidenceFile, ExtensionRequest
from tasks_catalog.expand import ItemKey


class Event(BaseModel):
    """One entry of an item's record: a state change or a deadline change."""

    at: datetime
    kind: str  # "state" | "deadline" | "report" | "evidence" | "extension_request"
    summary: str
    actor: str
    reason: str | None


class Prerequisite(BaseModel):
    """An item this one waits for, with its current state."""

    id: int
    key: str
    title: str
    unit_name: str
    due: date
    state: ItemState


class ItemDetail(BaseModel):
    """Everything about one work item, for `duban item show`."""

    id: int
    key: str
    task: str
    milestone: str
    title: str
    deliverable: str
    evidence: list[str]
    unit: str
    unit_name: str
    timezone: str
    start: date
    due: date
    original_due: date
    state: ItemState
    percent: int
    prerequisites: list[Prerequisite]
    dependents: int
    events: list[Event]
    predecessors: list[Predecessor] = []
    """The old plan's items this one carries over (结转), latest due first."""


def _report_summary(report: Report) -> str:
    state = word(REPORT_STATES, report.state)
    parts = [f"报送 {state} {report.percent}%（报送期 {zh_date(report.period)}）"]
    for label, value in (
        ("进展", report.note),
        ("问题", report.problem),
        ("下步", report.next_steps),
        ("佐证", report.evidence),
    ):
        if value:
            parts.append(f"{label}：{value}")
    return " · ".join(parts)


def _events(session: Session, item_id: int) -> list[Event]:
    """The item's state changes, deadline changes and reports, oldest first."""
    events = (
        [
            Event(
                at=t.at,
                kind="state",
                summary=f"{word(ITEM_STATES, t.from_state) if t.from_state else '∅'} → "
                f"{word(ITEM_STATES, t.to_state)}",
                actor=t.actor,
                reason=t.reason,
            )
            for t in session.scalars(
                select(ItemTransition).where(ItemTransition.item_id == item_id)
            )
        ]
        + [
            Event(
                at=d.at,
                kind="deadline",
                summary=f"完成时限 {zh_date(d.old_due)} → {zh_date(d.new_due)}"
                f"（{word(DEADLINE_CHANGES, d.kind)}）",
                actor=d.actor,
                reason=d.reason,
            )
            for d in session.scalars(
                select(DeadlineChange).where(DeadlineChange.item_id == item_id)
            )
        ]
        + [
            Event(
                at=r.received_at,
                kind="report",
                summary=_report_summary(r),
                actor=r.actor,
                reason=None,
            )
            for r in session.scalars(select(Report).where(Report.item_id == item_id))
        ]
        + _sent_from_the_page(session, item_id)
    )
    return sorted(events, key=lambda e: e.at)


def _sent_from_the_page(session: Session, item_id: int) -> list[Event]:
    """Evidence files uploaded and 延期申请 made (and decided) on the owner's page."""
    events = [
        Event(
            at=f.received_at,
            kind="evidence",
            summary=f"上传佐证材料 {f.name}（{word(EVIDENCE_KINDS, f.kind)}，{f.size} 字节，"
            f"存于 {f.sha256[:2]}/{f.sha256[2:4]}/{f.sha256}.{f.kind}）",
            actor=f.actor,
            reason=None,
        )
        for f in session.scalars(select(EvidenceFile).where(EvidenceFile.item_id == item_id))
    ]
    for r in session.scalars(select(ExtensionRequest).where(ExtensionRequest.item_id == item_id)):
        events.append(
            Event(
                at=r.requested_at,
                kind="extension_request",
                summary=f"延期申请 {r.id}：拟延期至 {zh_date(r.proposed_due)}",
                actor=r.actor,
                reason=r.reason,
            )
        )
        if r.decided_at is not None and r.decided_by is not None:
            events.append(
                Event(
                    at=r.decided_at,
                    kind="extension_request",
                    summary=f"延期申请 {r.id}：{word(EXTENSION_STATUSES, r.status)}",
                    actor=r.decided_by,
                    reason=r.decision_reason,
                )
            )
    return events


def _prerequisites(session: Session, item_id: int) -> list[Prerequisite]:
    """The items this one waits for (live dependencies), soonest due first."""
    pred = aliased(WorkItem)
    pred_milestone = aliased(Milestone)
    pred_unit = aliased(Unit)
    return [
        Prerequisite(
            id=p.id,
            key=str(ItemKey(m.code, u.code, p.occurrence)),
            title=m.title,
            unit_name=u.name,
            due=p.due,
            state=ItemState(p.state),
        )
        for p, m, u in session.execute(
            select(pred, pred_milestone, pred_unit)
            .join(ItemDependency, ItemDependency.depends_on_item_id == pred.id)
            .join(pred_milestone, pred_milestone.id == pred.milestone_id)
            .join(pred_unit, pred_unit.id == pred.unit_id)
            .where(ItemDependency.item_id == item_id, ItemDependency.retired_on.is_(None))
            .order_by(pred.due, pred.id)
        )
    ]


def item_detail(session: Session, item_id: int) -> ItemDetail:
    """The item with its prerequisites and its full record, oldest event first."""
    row = session.execute(
        select(WorkItem, Milestone, Task.code, Unit.code, Unit.name, Plan.timezone)
        .join(Milestone, Milestone.id == WorkItem.milestone_id)
        .join(Task, Task.id == Milestone.task_id)
        .join(Unit, Unit.id == WorkItem.unit_id)
        .join(Plan, Plan.id == WorkItem.plan_id)
        .where(WorkItem.id == item_id)
    ).one_or_none()
    if row is None:
        raise NotFoundError(f"没有事项 {item_id}")
    item, milestone, task_code, unit_code, unit_name, tz = row
    dependents = session.scalar(
        select(func.count())
        .select_from(ItemDependency)
        .where(ItemDependency.depends_on_item_id == item_id, ItemDependency.retired_on.is_(None))
    )
    return ItemDetail(
        id=item.id,
        key=str(ItemKey(milestone.code, unit_code, item.occurrence)),
        task=task_code,
        milestone=milestone.code,
        title=milestone.title,
        deliverable=milestone.deliverable,
        evidence=list(milestone.evidence),
        unit=unit_code,
        unit_name=unit_name,
        timezone=tz,
        start=item.start,
        due=item.due,
        original_due=item.original_due,
        state=ItemState(item.state),
        percent=item.percent,
        prerequisites=_prerequisites(session, item_id),
        dependents=dependents or 0,
        events=_events(session, item_id),
        predecessors=predecessors_of(session, [item_id]).get(item_id, []),
    )
