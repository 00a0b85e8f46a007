"""What an owner does on the page: 签收 several items at once, report progress on one, or ask
to close it (办结申请).

Each writes in the caller's transaction and only flushes; each is all-or-nothing. A report goes
through the same reading (:func:`domain.rules.intake.cells.report_row`), checks and landing
(:mod:`domain.queries.report_landing`) as a workbook, CSV or JSON row.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from config.errors import Problem
from domain.queries.items import Move, record_moves
from domain.queries.report_landing import Landed, check, land
from domain.rules.intake.cells import report_row
from domain.rules.intake.rows import FIELD_TO_HEADER, ParsedFile
from domain.rules.reporting import ReportState
from models import clock
from models.enums import ItemState
from models.orm import Plan, WorkItem
from models.records import ItemAck, Notice

WEB_SOURCE = Path("<网页>")
"""How a problem names where a web report came from (it has no file)."""
REPORT_FIELDS = ("state", "percent", "note", "problem", "next_steps")
"""The fields of the page's progress form (a subset of a workbook row's)."""
OFFERED_STATES = (ReportState.NOT_STARTED, ReportState.IN_PROGRESS, ReportState.BLOCKED)
"""States the progress form offers; 已完成 is the separate 办结申请 (:func:`submit_closing`)."""


class NotTheUnitsError(Exception):
    """An item id that is not one of the link's unit's live items."""


@dataclass(frozen=True)
class Acknowledged:
    """What one 签收 did: items moved to 已签收, reminder levels acknowledged, nothing left."""

    moved: int
    levels: int
    already: int


def pending_acks(
    session: Session, unit_id: int, as_of: date, item_ids: Collection[int] | None = None
) -> dict[int, list[str]]:
    """Per item of the unit, the reminder levels (ladder) planned for its current due date on
    or before ``as_of`` and not yet acknowledged, oldest first."""
    query = (
        select(Notice.item_id, Notice.level)
        .join(WorkItem, WorkItem.id == Notice.item_id)
        .outerjoin(
            ItemAck,
            (ItemAck.item_id == Notice.item_id)
            & (ItemAck.level == Notice.level)
            & (ItemAck.due == Notice.due),
        )
        .where(
            Notice.unit_id == unit_id,
            Notice.kind == "ladder",
            Notice.due == WorkItem.due,
            Notice.planned_on <= as_of,
            ItemAck.item_id.is_(None),
        )
        .order_by(Notice.id)
    )
    if item_ids is not None:
        query = query.where(Notice.item_id.in_(list(item_ids)))
    found: dict[int, list[str]] = {}
    for item_id, level in session.execute(query):
        if item_id is not None and level not in found.setdefault(item_id, []):
            found[item_id].append(level)
    return found


def _unit_items(session: Session, unit_id: int, item_ids: Collection[int]) -> dict[int, WorkItem]:
    """The unit's live items among ``item_ids``, locked; NotTheUnitsError if any is not."""
    found = {
        w.id: w
        for w in session.scalars(
            select(WorkItem)
            .where(WorkItem.id.in_(list(item_ids)))
            .order_by(WorkItem.id)
            .with_for_update()
        )
    }
    for item_id in item_ids:
        work = found.get(item_id)
        if work is None or work.unit_id != unit_id or work.state == ItemState.RETIRED.value:
            raise NotTheUnitsError(item_id)
    return found


def acknowledge(
    session: Session, *, unit_id: int, item_ids: Collection[int], actor: str, timezone: str
) -> Acknowledged:
    """签收: each item still 已交办 moves to 已签收, and each reminder level waiting on an item
    is acknowledged (its repeats stop), all under ``actor``."""
    items = _unit_items(session, unit_id, item_ids)
    now = clock.now()
    today = clock.local_date(now, timezone)
    moves = [
        Move(w.id, ItemState.ASSIGNED, ItemState.ACKNOWLEDGED)
        for w in items.values()
        if w.state == ItemState.ASSIGNED.value
    ]
    record_moves(session, moves, actor=actor, reason=None, on_date=today)
    levels = pending_acks(session, unit_id, today, items)
    session.add_all(
        ItemAck(item_id=i, level=level, due=items[i].due, at=now, on_date=today, actor=actor)
        for i, waiting in levels.items()
        for level in waiting
    )
    session.flush()
    moved_or_acked = {m.item_id for m in moves} | set(levels)
    return Acknowledged(
        len(moves), sum(map(len, levels.values())), len(items) - len(moved_or_acked)
    )


def report_progress(
    session: Session,
    plan: Plan,
    *,
    unit_code: str,
    item_id: int,
    form: Mapping[str, str],
    actor: str,
) -> tuple[Landed | None, dict[str, str]]:
    """Read, check and land one progress report from the page's form; (what landed, {}) or
    (None, {form field: Chinese message}) with nothing written."""
    values = {f: form.get(f, "") for f in REPORT_FIELDS}
    return _land_form(session, plan, unit_code, item_id, values, actor, OFFERED_STATES)


def submit_closing(
    session: Session,
    plan: Plan,
    *,
    unit_code: str,
    item_id: int,
    note: str,
    evidence: str,
    actor: str,
) -> tuple[Landed | None, dict[str, str]]:
    """办结申请: a report of 已完成 at 100% with ``note`` and ``evidence`` (what was uploaded),
    through the same checks and landing as any report; (what landed, {}) or (None, errors)."""
    values = {
        "state": ReportState.DONE.value,
        "percent": "100",
        "note": note,
        "problem": "",
        "next_steps": "",
        "evidence": evidence,
    }
    return _land_form(session, plan, unit_code, item_id, values, actor, (ReportState.DONE,))


def _land_form(
    session: Session,
    plan: Plan,
    unit_code: str,
    item_id: int,
    values: Mapping[str, str],
    actor: str,
    offered: tuple[ReportState, ...],
) -> tuple[Landed | None, dict[str, str]]:
    parsed = ParsedFile(WEB_SOURCE, "web", plan=plan.id, unit=unit_code)
    row = report_row(parsed, 1, {"item": str(item_id), **values}, unit_code)
    errors = field_errors(parsed.problems)
    if row is None and not errors:
        errors["state"] = "请选择本期状态"
    if row is not None and row.state not in offered:
        errors["state"] = "办结请用本页下方的“办结申请”：请选择未开始、推进中或受阻"
    if errors or row is None:
        return None, errors
    parsed.add(row)
    checked, problems = check(session, parsed, plan)
    if checked is None:
        return None, field_errors(problems)
    return land(session, checked, parsed, actor=actor, file_id=None), {}


_HEADER_FIELD = {header: name for name, header in FIELD_TO_HEADER.items()}


def field_errors(problems: list[Problem]) -> dict[str, str]:
    """Problems keyed by the form field they belong to (``""``: the form as a whole)."""
    errors: dict[str, str] = {}
    for problem in problems:
        name = _HEADER_FIELD.get(problem.field, problem.field)
        key = name if name in REPORT_FIELDS else ""
        errors[key] = f"{errors[key]}；{problem.message}" if key in errors else problem.message
    return errors
