"""One work item with its prerequisites and its whole record, for `duban item show`."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from config.errors import NotFoundError
from domain.rules.glossary import DEADLINE_CHANGES, ITEM_STATES, REPORT_STATES, word, zh_date
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
from tasks_catalog.expand import ItemKey


class Event(BaseModel):
    """One entry of an item's record: a state change or a deadline change."""

    at: datetime
    kind: str  # "state" | "deadline"
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
    )
    return sorted(events, key=lambda e: e.at)


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
    )
