"""The old plan's items that carried items continue (结转), as they stand: for `duban item show`
and the owner's item page."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from domain.rules.carry_over import STATES_WITH_REASON, Predecessor
from models.orm import ItemTransition, Milestone, Plan, Report, Unit, WorkItem
from models.records import ItemPredecessor


def predecessors_of(session: Session, item_ids: Collection[int]) -> dict[int, list[Predecessor]]:
    """Per item of ``item_ids`` that carries work over, its predecessors, latest due first,
    each with its last report and, when blocked, returned or extended, the reason."""
    if not item_ids:
        return {}
    links = select(ItemPredecessor.item_id, ItemPredecessor.predecessor_id).where(
        ItemPredecessor.item_id.in_(item_ids)
    )
    olds = select(links.subquery().c.predecessor_id)
    last_report = (
        select(Report.item_id, func.max(Report.id).label("report_id"))
        .where(Report.item_id.in_(olds))
        .group_by(Report.item_id)
        .subquery()
    )
    last_move = (
        select(ItemTransition.item_id, func.max(ItemTransition.id).label("transition_id"))
        .where(ItemTransition.item_id.in_(olds))
        .group_by(ItemTransition.item_id)
        .subquery()
    )
    rows = session.execute(
        select(
            ItemPredecessor.item_id,
            WorkItem,
            Plan.id,
            Plan.title,
            Milestone.code,
            Milestone.title,
            Unit.name,
            Report,
            ItemTransition.reason,
        )
        .join(WorkItem, WorkItem.id == ItemPredecessor.predecessor_id)
        .join(Plan, Plan.id == WorkItem.plan_id)
        .join(Milestone, Milestone.id == WorkItem.milestone_id)
        .join(Unit, Unit.id == WorkItem.unit_id)
        .outerjoin(last_report, last_report.c.item_id == WorkItem.id)
        .outerjoin(Report, Report.id == last_report.c.report_id)
        .outerjoin(last_move, last_move.c.item_id == WorkItem.id)
        .outerjoin(ItemTransition, ItemTransition.id == last_move.c.transition_id)
        .where(ItemPredecessor.item_id.in_(item_ids))
        .order_by(ItemPredecessor.item_id, WorkItem.due.desc(), WorkItem.id.desc())
    )
    found: dict[int, list[Predecessor]] = {}
    for item_id, old, plan_id, plan_title, code, title, unit_name, report, reason in rows:
        found.setdefault(item_id, []).append(
            Predecessor(
                plan_id=plan_id,
                plan_title=plan_title,
                item_id=old.id,
                milestone=code,
                title=title,
                unit_name=unit_name,
                due=old.due,
                original_due=old.original_due,
                state=old.state,
                percent=old.percent,
                reported_on=report.received_on if report else None,
                note=report.note if report else None,
                problem=report.problem if report else None,
                reason=reason if old.state in STATES_WITH_REASON else None,
            )
        )
    return found
