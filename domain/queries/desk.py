"""The coordinator's queues on the context's day (:mod:`domain.rules.desk`): the items whose
latest move on or before the day put them in 办结申请, 受阻 or 退回, and the pending 延期申请,
each with its unit's township and contact, oldest first."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date

from sqlalchemy import Select, case, func, select
from sqlalchemy.orm import Session, aliased

from config.errors import NotFoundError
from domain.queries.context import ordinals
from domain.queries.extension_requests import PENDING, request_rows
from domain.rules.context import Context
from domain.rules.desk import DESK_ROWS, Desk, DeskFile, DeskItem, DeskRequest, DeskUnit, Queue
from models.enums import ItemState, UnitKind
from models.orm import ItemTransition, Milestone, Report, Task, Unit, WorkItem
from models.records import Contact, EvidenceFile, ExtensionRequest

QUEUE_STATES: dict[Queue, ItemState] = {
    Queue.SUBMITTED: ItemState.SUBMITTED,
    Queue.BLOCKED: ItemState.BLOCKED,
    Queue.RETURNED: ItemState.RETURNED,
}
CONTACT_ORDER = ("liaison", "head", "deputy", "staff")
"""Whom a coordinator calls at a unit: its liaison (联络员) first."""
COUNTY_LEVEL = "县直"
"""The township column of a county department's row."""


def unit_cards(session: Session, plan_id: str, codes: Collection[str]) -> dict[str, DeskUnit]:
    """Each of the units (by code) with its township and the person to call, in two
    statements."""
    if not codes:
        return {}
    parent = aliased(Unit)
    township = case(
        (Unit.kind == UnitKind.TOWNSHIP.value, Unit.name),
        (parent.kind == UnitKind.TOWNSHIP.value, parent.name),
        else_=COUNTY_LEVEL,
    )
    township_code = case(
        (Unit.kind == UnitKind.TOWNSHIP.value, Unit.code),
        (parent.kind == UnitKind.TOWNSHIP.value, parent.code),
        else_="",
    )
    rows = session.execute(
        select(
            Unit.id,
            Unit.code,
            Unit.name,
            township.label("township"),
            township_code.label("township_code"),
        )
        .outerjoin(parent, parent.id == Unit.parent_id)
        .where(Unit.plan_id == plan_id, Unit.code.in_(list(set(codes))))
    ).all()
    people: dict[int, tuple[int, str, str | None]] = {}
    for unit_id, name, role, phone in session.execute(
        select(Contact.unit_id, Contact.name, Contact.role, Contact.phone)
        .where(Contact.unit_id.in_([r.id for r in rows]))
        .order_by(Contact.id)
    ):
        rank = CONTACT_ORDER.index(role) if role in CONTACT_ORDER else len(CONTACT_ORDER)
        if unit_id not in people or rank < people[unit_id][0]:
            people[unit_id] = (rank, name, phone)
    return {
        r.code: DeskUnit(
            code=r.code,
            name=r.name,
            township=r.township,
            township_code=r.township_code,
            contact=people[r.id][1] if r.id in people else None,
            phone=people[r.id][2] if r.id in people else None,
        )
        for r in rows
    }


def _latest_moves(ctx: Context) -> Select[int, int]:
    """Per item of the plan, its last transition on or before the day (on a settled day, only
    the items whose current state is one of the queues')."""
    query = (
        select(ItemTransition.item_id, func.max(ItemTransition.id).label("tid"))
        .join(WorkItem, WorkItem.id == ItemTransition.item_id)
        .where(WorkItem.plan_id == ctx.plan.id, ItemTransition.on_date <= ctx.day)
        .group_by(ItemTransition.item_id)
    )
    if ctx.settled:
        query = query.where(WorkItem.state.in_([s.value for s in QUEUE_STATES.values()]))
    return query


def _queue_items(
    session: Session, ctx: Context, limit: int
) -> tuple[dict[Queue, list[DeskItem]], dict[Queue, int]]:
    last = _latest_moves(ctx).subquery("latest_move")
    moved = aliased(ItemTransition)
    in_queue = (
        select(
            moved.item_id,
            moved.to_state,
            moved.on_date,
            moved.actor,
            moved.reason,
            func.row_number()
            .over(partition_by=moved.to_state, order_by=(moved.on_date, moved.item_id))
            .label("n"),
            func.count().over(partition_by=moved.to_state).label("total"),
        )
        .join(last, last.c.tid == moved.id)
        .where(moved.to_state.in_([s.value for s in QUEUE_STATES.values()]))
        .subquery("in_queue")
    )
    rows = session.execute(
        select(
            in_queue,
            WorkItem.due,
            WorkItem.percent,
            Task.code.label("task"),
            Milestone.code.label("milestone"),
            Milestone.title,
            Unit.code.label("unit"),
        )
        .join(WorkItem, WorkItem.id == in_queue.c.item_id)
        .join(Milestone, Milestone.id == WorkItem.milestone_id)
        .join(Task, Task.id == Milestone.task_id)
        .join(Unit, Unit.id == WorkItem.unit_id)
        .where(in_queue.c.n <= limit)
        .order_by(in_queue.c.on_date, in_queue.c.item_id)
    ).all()
    totals = dict.fromkeys(QUEUE_STATES, 0)
    by_state = {s.value: q for q, s in QUEUE_STATES.items()}
    for r in rows:
        totals[by_state[r.to_state]] = r.total
    ids = [r.item_id for r in rows]
    reports = _latest_reports(session, ids, ctx.day)
    files = _files(session, ids, ctx.day)
    units = unit_cards(session, ctx.plan.id, {r.unit for r in rows})
    waited = _waited(session, ctx, {r.on_date for r in rows})
    queues: dict[Queue, list[DeskItem]] = {q: [] for q in QUEUE_STATES}
    for r in rows:
        report = reports.get(r.item_id)
        queues[by_state[r.to_state]].append(
            DeskItem(
                id=r.item_id,
                task=r.task,
                milestone=r.milestone,
                title=r.title,
                unit=units[r.unit],
                due=r.due,
                percent=r.percent,
                since=r.on_date,
                waiting=waited[r.on_date],
                actor=r.actor,
                reason=r.reason,
                report_on=report.received_on if report else None,
                report_note=report.note if report else None,
                report_problem=report.problem if report else None,
                files=files.get(r.item_id, []),
            )
        )
    return queues, totals


def _waited(session: Session, ctx: Context, days: Collection[date]) -> dict[date, int]:
    """Working days from each of ``days`` to the context's day."""
    found = ordinals(session, ctx, list(days))
    return {d: max(ctx.ordinal - n, 0) for d, n in found.items()}


def _latest_reports(session: Session, item_ids: list[int], day: date) -> dict[int, Report]:
    """Each item's last report received on or before ``day``."""
    if not item_ids:
        return {}
    last = (
        select(func.max(Report.id))
        .where(Report.item_id.in_(item_ids), Report.received_on <= day)
        .group_by(Report.item_id)
    )
    return {r.item_id: r for r in session.scalars(select(Report).where(Report.id.in_(last)))}


def _files(session: Session, item_ids: list[int], day: date) -> dict[int, list[DeskFile]]:
    """Each item's evidence files received on or before ``day``, oldest first."""
    found: dict[int, list[DeskFile]] = {}
    if not item_ids:
        return found
    for f in session.scalars(
        select(EvidenceFile)
        .where(EvidenceFile.item_id.in_(item_ids), EvidenceFile.received_on <= day)
        .order_by(EvidenceFile.id)
    ):
        found.setdefault(f.item_id, []).append(
            DeskFile(
                id=f.id,
                name=f.name,
                kind=f.kind,
                size=f.size,
                sha256=f.sha256,
                received_on=f.received_on,
            )
        )
    return found


def _requests(session: Session, ctx: Context, limit: int) -> tuple[list[DeskRequest], int]:
    """The 延期申请 made on or before the day and still pending, oldest first."""
    pending = (
        ExtensionRequest.plan_id == ctx.plan.id,
        ExtensionRequest.status == PENDING,
        ExtensionRequest.requested_on <= ctx.day,
    )
    total = session.scalar(select(func.count()).where(*pending)) or 0
    rows = session.execute(
        request_rows()
        .where(*pending)
        .order_by(ExtensionRequest.requested_at, ExtensionRequest.id)
        .limit(limit)
    ).all()
    units = unit_cards(session, ctx.plan.id, {r.unit for r in rows})
    waited = _waited(session, ctx, {r[0].requested_on for r in rows})
    return [
        DeskRequest(
            id=req.id,
            item_id=req.item_id,
            task=task,
            milestone=milestone,
            title=title,
            unit=units[unit],
            actor=req.actor,
            due=due,
            proposed_due=req.proposed_due,
            reason=req.reason,
            since=req.requested_on,
            waiting=waited[req.requested_on],
        )
        for req, due, task, milestone, title, unit, _ in rows
    ], total


def desk(session: Session, ctx: Context, *, limit: int = DESK_ROWS) -> Desk:
    """The four queues on the context's day: totals over all rows, the oldest ``limit`` of each."""
    queues, totals = _queue_items(session, ctx, limit)
    requests, pending = _requests(session, ctx, limit)
    return Desk(
        plan=ctx.plan.id,
        as_of=ctx.day,
        totals={**totals, Queue.EXTENSIONS: pending},
        submitted=queues[Queue.SUBMITTED],
        blocked=queues[Queue.BLOCKED],
        returned=queues[Queue.RETURNED],
        extensions=requests,
    )


def desk_file(session: Session, file_id: int) -> DeskFile:
    """One recorded evidence file by its number (NotFoundError in Chinese when there is none)."""
    f = session.get(EvidenceFile, file_id)
    if f is None:
        raise NotFoundError(f"没有编号为 {file_id} 的佐证材料")
    return DeskFile(
        id=f.id,
        name=f.name,
        kind=f.kind,
        size=f.size,
        sha256=f.sha256,
        received_on=f.received_on,
    )
