"""What a 考评通报 reads from the database: the period's scores with the objections decided by the
day it is issued (and both scores of each), the working days that date it and its objection
window, and its record (number within the year issued, approval, sending)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from config.assessment import AssessmentRules
from config.errors import ConflictError
from domain.queries.assessment import assessment_facts
from domain.queries.calendar import ensure_calendar
from domain.queries.objections import UPHELD, objections_of
from domain.rules.assessment import UnitScore, score
from domain.rules.assessment_periods import AssessedPeriod
from domain.rules.assessment_report import DecidedObjection
from domain.rules.context import Context
from domain.rules.objections import Excuse, excuse
from domain.rules.workdays import LONGEST_REST
from models import clock
from models.orm import CalendarDay
from models.records import AssessmentNotice


@dataclass(frozen=True)
class PeriodAssessment:
    """A period's scores after the objections upheld by a day, the scores before them where
    they differ, the objections decided by then and the number still open."""

    scores: list[UnitScore]
    before: dict[str, Decimal]
    decided: list[DecidedObjection]
    pending: int


def workday_after(session: Session, day: date, n: int = 1) -> date:
    """The ``n``-th working day after ``day`` on the calendar."""
    end = day + timedelta(days=n * 7 + LONGEST_REST + 1)
    ensure_calendar(session, day, end)
    found = session.scalars(
        select(CalendarDay.day)
        .where(CalendarDay.day > day, CalendarDay.day <= end, CalendarDay.is_workday.is_(True))
        .order_by(CalendarDay.day)
        .offset(n - 1)
        .limit(1)
    ).first()
    assert found is not None  # n weeks hold n working days
    return found


def period_assessment(
    session: Session, ctx: Context, rules: AssessmentRules, period: AssessedPeriod, by: date
) -> PeriodAssessment:
    """Every unit's score over ``period`` as seen on the context's day, with the objections
    decided on or before ``by`` applied (an objection decided later is still open on ``by``)."""
    facts = assessment_facts(session, ctx, period)
    views = objections_of(session, ctx.plan.id, period.key)
    decided = [o for o in views if o.decided_on is not None and o.decided_on <= by]
    pending = len(views) - len(decided)  # open, or decided after ``by``
    upheld: dict[str, list[Excuse]] = {}
    for o in decided:
        if o.status == UPHELD:
            upheld.setdefault(o.unit, []).append(Excuse(o.item_id, o.part))
    scores, before = [], {}
    for f in facts:
        after = score(rules, excuse(f, upheld.get(f.unit, [])))
        scores.append(after)
        if f.unit in upheld and (first := score(rules, f).score) != after.score:
            before[f.unit] = first
    return PeriodAssessment(
        scores=scores,
        before=before,
        decided=[
            DecidedObjection(
                unit_name=o.unit_name,
                item_id=o.item_id,
                milestone=o.milestone,
                title=o.title,
                part=o.part,
                upheld=o.status == UPHELD,
                decided_on=o.decided_on,
                decision_reason=o.decision_reason or "",
                score_before=Decimal(str(o.score_before)),
                score_after=Decimal(str(o.score_after)),
            )
            for o in decided
            if o.decided_on is not None
        ],
        pending=pending,
    )


def notice_record(
    session: Session, plan_id: str, period: AssessedPeriod, issued_on: date, actor: str
) -> tuple[AssessmentNotice, bool]:
    """The period's notice record, created with the next number of the year it is issued in
    if new (flushed at once); whether it is new."""
    record = session.scalars(
        select(AssessmentNotice)
        .where(AssessmentNotice.plan_id == plan_id, AssessmentNotice.period == period.key)
        .with_for_update()
    ).one_or_none()
    if record is not None:
        return record, False
    last = session.scalar(
        select(func.max(AssessmentNotice.number)).where(
            AssessmentNotice.plan_id == plan_id, AssessmentNotice.year == issued_on.year
        )
    )
    record = AssessmentNotice(
        plan_id=plan_id,
        period=period.key,
        year=issued_on.year,
        number=(last or 0) + 1,
        issued_on=issued_on,
        checksum="",
        files={},
        generations=0,
        generated_at=clock.now(),
        actor=actor,
    )
    session.add(record)
    try:
        session.flush()
    except IntegrityError:  # the caller's transaction rolls back
        raise ConflictError(f"规划 {plan_id} 的另一期考评通报正在编号；请稍后再试") from None
    return record, True
