"""Objections (申诉) to an assessment in the database: recording one, deciding it with the
unit's score worked out before and after, and reading the upheld ones an assessment applies."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from config.assessment import AssessmentRules
from config.errors import NotFoundError
from domain.queries.assessment import assessment_facts
from domain.queries.context import ordinals
from domain.queries.plans import unknown_unit
from domain.rules.assessment import UnitScore, assessed_unit, score
from domain.rules.assessment_periods import AssessedPeriod, period_of
from domain.rules.context import Context
from domain.rules.glossary import ASSESSMENT_PARTS, zh_date
from domain.rules.objections import (
    OBJECTION_PARTS,
    Excuse,
    ObjectionRefusedError,
    check_filing,
    excuse,
)
from models import clock
from models.orm import Milestone, Unit, WorkItem
from models.records import AssessmentObjection

PENDING, UPHELD, REJECTED = "pending", "upheld", "rejected"


@dataclass(frozen=True)
class ObjectionView:
    """One objection as the coordinator reads it (scores in points, None until decided)."""

    id: int
    period: str
    unit: str
    unit_name: str
    item_id: int
    milestone: str
    title: str
    part: str
    reason: str
    actor: str
    filed_on: date
    status: str
    decided_by: str | None
    decided_on: date | None
    decision_reason: str | None
    score_before: float | None
    score_after: float | None


def _assessed(session: Session, plan_id: str, code: str) -> Unit:
    unit = session.scalars(
        select(Unit).where(Unit.plan_id == plan_id, Unit.code == code, Unit.retired_at.is_(None))
    ).first()
    if unit is None:
        raise unknown_unit(session, plan_id, code)
    return unit


def file_objection(
    session: Session,
    ctx: Context,
    rules: AssessmentRules,
    period: AssessedPeriod,
    *,
    unit: str,
    item_id: int,
    part: str,
    reason: str,
    actor: str,
) -> int:
    """Record a unit's objection to ``part`` of its score for one of its items (the assessed
    unit's own or, for a township, its villages'), filed on the context's day; its id.
    ObjectionRefusedError when late, repeated, or about another unit's item."""
    if part not in OBJECTION_PARTS:
        names = "、".join(ASSESSMENT_PARTS[p] for p in OBJECTION_PARTS)
        raise ObjectionRefusedError(f"可申诉的项目是：{names}")
    if not reason.strip():
        raise ObjectionRefusedError("申诉须写明理由")
    assessed = _assessed(session, ctx.plan.id, unit)
    parent = aliased(Unit)
    owner = session.execute(
        select(Unit.code, Unit.kind, parent.code, parent.kind)
        .join(WorkItem, WorkItem.unit_id == Unit.id)
        .outerjoin(parent, parent.id == Unit.parent_id)
        .where(WorkItem.id == item_id, WorkItem.plan_id == ctx.plan.id)
    ).first()
    if owner is None:
        raise NotFoundError(f"没有事项 {item_id}")
    if assessed_unit(owner[1], owner[0], owner[2], owner[3]) != assessed.code:
        raise ObjectionRefusedError(f"事项 #{item_id} 不计入{assessed.name}的考评，不能由它申诉")
    days = ordinals(session, ctx, [period.end, ctx.day])
    check_filing(
        period=period,
        filed_on=ctx.day,
        workdays_after=days[ctx.day] - days[period.end],
        within=rules.objections.within_workdays,
    )
    earlier = session.scalars(
        select(AssessmentObjection.id).where(
            AssessmentObjection.plan_id == ctx.plan.id,
            AssessmentObjection.period == period.key,
            AssessmentObjection.item_id == item_id,
            AssessmentObjection.part == part,
            AssessmentObjection.status != REJECTED,
        )
    ).first()
    if earlier is not None:
        raise ObjectionRefusedError(
            f"事项 #{item_id} 的{ASSESSMENT_PARTS[part]}已有申诉（编号 {earlier}），不再重复登记"
        )
    row = AssessmentObjection(
        plan_id=ctx.plan.id,
        period=period.key,
        unit_id=assessed.id,
        item_id=item_id,
        part=part,
        reason=reason.strip(),
        actor=actor,
        filed_at=clock.now(),
        filed_on=ctx.day,
        status=PENDING,
    )
    session.add(row)
    session.flush()
    return row.id


def upheld_excuses(session: Session, plan_id: str, period: str) -> dict[str, list[Excuse]]:
    """The upheld objections of a period, by the code of the unit assessed."""
    rows = session.execute(
        select(Unit.code, AssessmentObjection.item_id, AssessmentObjection.part)
        .join(Unit, Unit.id == AssessmentObjection.unit_id)
        .where(
            AssessmentObjection.plan_id == plan_id,
            AssessmentObjection.period == period,
            AssessmentObjection.status == UPHELD,
        )
        .order_by(AssessmentObjection.id)
    )
    out: dict[str, list[Excuse]] = defaultdict(list)
    for code, item_id, part in rows:
        out[code].append(Excuse(item_id, part))
    return dict(out)


def decide_objection(
    session: Session,
    ctx: Context,
    rules: AssessmentRules,
    objection_id: int,
    *,
    uphold: bool,
    reason: str,
    actor: str,
) -> tuple[UnitScore, UnitScore]:
    """Uphold or reject a pending objection, with the reason; the unit's score before and after
    the decision (the same when rejected), both recorded on the objection."""
    row = session.get(AssessmentObjection, objection_id)
    if row is None or row.plan_id != ctx.plan.id:
        raise NotFoundError(f"没有申诉 {objection_id}")
    if row.status != PENDING:
        word = "成立" if row.status == UPHELD else "不成立"
        when = zh_date(row.decided_on) if row.decided_on else ""
        raise ObjectionRefusedError(f"申诉 {objection_id} 已于{when}决定（{word}），不能再改")
    if not reason.strip():
        raise ObjectionRefusedError("决定须写明理由")
    period = period_of(row.period)
    code = session.scalar(select(Unit.code).where(Unit.id == row.unit_id))
    assert code is not None
    facts = assessment_facts(session, ctx, period, unit=code)
    [mine] = [f for f in facts if f.unit == code]
    upheld = upheld_excuses(session, ctx.plan.id, row.period).get(code, [])
    before = score(rules, excuse(mine, upheld))
    after = (
        score(rules, excuse(mine, [*upheld, Excuse(row.item_id, row.part)])) if uphold else before
    )
    row.status = UPHELD if uphold else REJECTED
    row.decided_by, row.decided_at, row.decided_on = actor, clock.now(), ctx.day
    row.decision_reason = reason.strip()
    row.score_before, row.score_after = int(before.score * 10), int(after.score * 10)
    session.flush()
    return before, after


def objections_of(
    session: Session, plan_id: str, period: str | None = None, unit: str | None = None
) -> list[ObjectionView]:
    """The objections of a plan (of one period and one assessed unit, if given), oldest first."""
    rows = session.execute(
        select(AssessmentObjection, Unit.code, Unit.name, Milestone.code, Milestone.title)
        .join(Unit, Unit.id == AssessmentObjection.unit_id)
        .join(WorkItem, WorkItem.id == AssessmentObjection.item_id)
        .join(Milestone, Milestone.id == WorkItem.milestone_id)
        .where(
            AssessmentObjection.plan_id == plan_id,
            *([AssessmentObjection.period == period] if period else []),
            *([Unit.code == unit] if unit else []),
        )
        .order_by(AssessmentObjection.id)
    ).all()
    return [
        ObjectionView(
            id=o.id,
            period=o.period,
            unit=code,
            unit_name=name,
            item_id=o.item_id,
            milestone=milestone,
            title=title,
            part=o.part,
            reason=o.reason,
            actor=o.actor,
            filed_on=o.filed_on,
            status=o.status,
            decided_by=o.decided_by,
            decided_on=o.decided_on,
            decision_reason=o.decision_reason,
            score_before=None if o.score_before is None else o.score_before / 10,
            score_after=None if o.score_after is None else o.score_after / 10,
        )
        for o, code, name, milestone, title in rows
    ]
