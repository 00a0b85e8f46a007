"""Work carried over (结转) from an older plan: check a catalogue's references to it, and link
each carried item to its predecessors, the old plan's items of the named milestone for the
same unit (matched by unit code: each plan has its own unit rows)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, and_, delete, insert, select, tuple_
from sqlalchemy.orm import Session, aliased

from config.errors import InputError, Problem
from domain.rules.sync_report import SyncReport, bump
from models.orm import Milestone, Plan, Unit, WorkItem
from models.records import ItemPredecessor
from tasks_catalog.schema import CarriedFrom, Catalog, SourcePoint

KIND = "item predecessors"


def _carried(catalog: Catalog) -> dict[str, CarriedFrom]:
    return {m.id: m.carried_from for t in catalog.tasks for m in t.milestones if m.carried_from}


def check_carried_references(session: Session, catalog: Catalog) -> None:
    """InputError naming the file, line and field of every ``carried_from`` whose plan or
    milestone the database does not hold; nothing is written either way."""
    carried = _carried(catalog)
    if not carried:
        return
    plans = {c.plan for c in carried.values()}
    known_plans = set(session.scalars(select(Plan.id).where(Plan.id.in_(plans))))
    pairs = sorted({(c.plan, c.milestone) for c in carried.values() if c.plan in known_plans})
    known = (
        {
            (p, c)
            for p, c in session.execute(
                select(Milestone.plan_id, Milestone.code).where(
                    tuple_(Milestone.plan_id, Milestone.code).in_(pairs)
                )
            )
        }
        if pairs
        else set()
    )
    problems: list[Problem] = []
    for milestone_id, ref in carried.items():
        at = catalog.carried_from_at.get(milestone_id, {})
        if ref.plan not in known_plans:
            problems.append(
                _problem(
                    at.get("plan"),
                    f"数据库中没有规划 {ref.plan!r}：结转来源须是已同步的原规划"
                    "（请核对规划编号，或先同步原规划）",
                )
            )
        elif (ref.plan, ref.milestone) not in known:
            problems.append(
                _problem(
                    at.get("milestone"),
                    f"原规划 {ref.plan} 中没有节点 {ref.milestone!r}（请核对节点编号）",
                )
            )
    if problems:
        raise InputError(
            f"规划 {catalog.plan.id} 的目录有 {len(problems)} 处结转来源错误，未写入任何内容；"
            "请按下列行号逐条改正",
            problems,
        )


def _problem(at: SourcePoint | None, message: str) -> Problem:
    if at is None:
        return Problem(None, None, "carried_from", message)
    return Problem(at.file, at.line, at.field, message)


def _carried_items(plan_id: str) -> tuple[Select[int, str, str], Any, Any, Any]:
    """The plan's items whose milestone carries work over: (id, milestone code, unit code),
    with the aliases a join to their predecessors needs."""
    item, milestone, unit = aliased(WorkItem), aliased(Milestone), aliased(Unit)
    query = (
        select(item.id, milestone.code, unit.code)
        .join(milestone, milestone.id == item.milestone_id)
        .join(unit, unit.id == item.unit_id)
        .where(item.plan_id == plan_id, milestone.carried_from_plan.is_not(None))
    )
    return query, item, milestone, unit


def _wanted(session: Session, plan_id: str) -> set[tuple[int, int]]:
    """(carried item, predecessor) pairs: the old plan's items of the named milestone for the
    unit of the same code."""
    carried, item, milestone, unit = _carried_items(plan_id)
    old_item, old_milestone, old_unit = aliased(WorkItem), aliased(Milestone), aliased(Unit)
    query = (
        carried.with_only_columns(item.id, old_item.id)
        .join(
            old_milestone,
            and_(
                old_milestone.plan_id == milestone.carried_from_plan,
                old_milestone.code == milestone.carried_from_code,
            ),
        )
        .join(
            old_unit,
            and_(old_unit.plan_id == milestone.carried_from_plan, old_unit.code == unit.code),
        )
        .join(
            old_item,
            and_(old_item.milestone_id == old_milestone.id, old_item.unit_id == old_unit.id),
        )
    )
    return {(a, b) for a, b in session.execute(query)}


def link_predecessors(session: Session, catalog: Catalog, report: SyncReport) -> None:
    """Make ``item_predecessor`` match the catalogue for the plan's items (references already
    checked); a carried item whose unit had no item of the old milestone is named in the
    report's details, unlinked."""
    plan_id = catalog.plan.id
    carried = _carried(catalog)
    want = _wanted(session, plan_id) if carried else set()
    have = {
        (a, b)
        for a, b in session.execute(
            select(ItemPredecessor.item_id, ItemPredecessor.predecessor_id)
            .join(WorkItem, WorkItem.id == ItemPredecessor.item_id)
            .where(WorkItem.plan_id == plan_id)
        )
    }
    gone, new = have - want, want - have
    if gone:
        session.execute(
            delete(ItemPredecessor).where(
                tuple_(ItemPredecessor.item_id, ItemPredecessor.predecessor_id).in_(sorted(gone))
            )
        )
        bump(report.retired, KIND, len(gone))
    if new:
        session.execute(
            insert(ItemPredecessor),
            [{"item_id": a, "predecessor_id": b} for a, b in sorted(new)],
        )
        bump(report.added, KIND, len(new))
    if carried and not report.unchanged:
        _name_unlinked(session, plan_id, carried, {a for a, _ in want}, report)
    session.flush()


def _name_unlinked(
    session: Session,
    plan_id: str,
    carried: dict[str, CarriedFrom],
    linked: set[int],
    report: SyncReport,
) -> None:
    unlinked: dict[str, list[str]] = {}
    for item_id, code, unit_code in session.execute(_carried_items(plan_id)[0]):
        if item_id not in linked:
            unlinked.setdefault(code, []).append(unit_code)
    for code, units in sorted(unlinked.items()):
        ref = carried.get(code)
        if ref is None:
            continue  # a milestone that left the catalogue
        report.details.append(
            f"结转节点 {code}：{len(units)} 个单位在原规划 {ref.plan} 的节点 {ref.milestone} "
            f"中没有事项，未关联原规划的办理记录（{'、'.join(sorted(set(units))[:10])}）"
        )
