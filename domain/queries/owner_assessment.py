"""A unit's latest assessment (考评) as its own page shows it: the last quarter that has ended,
its score with the upheld objections applied, each line, the deductions it may still contest
(申诉) and until when, and its objections so far."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from config.assessment import AssessmentRules
from domain.queries.assessment import assessment_facts
from domain.queries.assessment_notice import workday_after
from domain.queries.context import ordinals
from domain.queries.objections import REJECTED, ObjectionView, objections_of, upheld_excuses
from domain.rules.assessment import ItemFact, UnitFacts, UnitScore, assessed_unit, score
from domain.rules.assessment_periods import AssessedPeriod, quarter
from domain.rules.context import Context
from domain.rules.glossary import zh_date
from domain.rules.objections import excuse
from domain.rules.periods import Period
from models.enums import Edition
from models.orm import Unit


@dataclass(frozen=True)
class Contestable:
    """One deduction a unit may contest: ``value`` ``part:item`` names it in the form."""

    value: str
    label: str  # the item and what cost points, without the part's name

    @property
    def part(self) -> str:
        return self.value.partition(":")[0]


@dataclass(frozen=True)
class OwnerAssessment:
    """The latest assessment of the unit a page belongs to (``own`` False: a village, assessed
    with its township, which alone may contest)."""

    period: AssessedPeriod
    unit: str  # the assessed unit's code
    unit_name: str
    own: bool
    score: UnitScore
    before: Decimal | None  # the score before upheld objections, when different
    deadline: date  # the last day an objection may be filed
    within: int  # working days after the period's end an objection may be filed
    open: bool
    choices: list[Contestable]
    objections: list[ObjectionView]


def last_quarter(day: date, plan_end: date) -> AssessedPeriod:
    """The last quarter that ended before ``day``, at the latest the plan's last quarter."""
    ended = Period.of(Edition.QUARTER, day).previous()
    return quarter(str(min(ended, Period.of(Edition.QUARTER, plan_end), key=lambda p: p.last)))


def assessed_of(session: Session, unit_id: int) -> tuple[str, str, str]:
    """(the owner's unit code, the code and name of the unit it is assessed as)."""
    parent = aliased(Unit)
    row = session.execute(
        select(Unit.code, Unit.kind, parent.code, parent.kind, parent.name, Unit.name)
        .outerjoin(parent, parent.id == Unit.parent_id)
        .where(Unit.id == unit_id)
    ).one()
    code = assessed_unit(row[1], row[0], row[2], row[3])
    return row[0], code, row[5] if code == row[0] else row[4]


def _item(i: ItemFact) -> str:
    return f"事项 {i.item_id} {i.title}（{i.unit_name}，{zh_date(i.due)}到期）"


def contestable(facts: UnitFacts, rules: AssessmentRules, taken: set[str]) -> list[Contestable]:
    """The deductions of ``facts`` (upheld objections applied) an objection may still name:
    items not done on time, working days overdue, returns and late extensions that cost
    points, less those already contested (``taken``: ``part:item`` values)."""
    c = rules.conduct
    out: list[Contestable] = []
    items = sorted(facts.items, key=lambda i: (i.due, i.item_id))
    for i in items:
        if i.counted and (i.done_on is None or i.done_on > i.due):
            how = "未完成" if i.done_on is None else f"{zh_date(i.done_on)}办结（逾期）"
            out.append(Contestable(f"completion:{i.item_id}", f"{_item(i)}，{how}"))
    if c.overdue.per_workday > 0:
        for i in items:
            if i.overdue_workdays > 0:
                label = f"{_item(i)}，期内逾期 {i.overdue_workdays} 个工作日"
                out.append(Contestable(f"overdue:{i.item_id}", label))
    for e in facts.events:
        if e.kind == "returned" and c.returned.each > 0:
            label = f"事项 {e.item_id} {e.title}（{e.unit_name}），{zh_date(e.day)}退回"
            out.append(Contestable(f"returned:{e.item_id}", label))
        elif e.kind == "extension" and not e.early and c.late_extension.each > 0:
            label = f"事项 {e.item_id} {e.title}（{e.unit_name}），{zh_date(e.day)}批准延期"
            out.append(Contestable(f"late_extension:{e.item_id}", label))
    chosen: dict[str, Contestable] = {}
    for x in out:
        if x.value not in taken:
            chosen.setdefault(x.value, x)  # an item returned twice: one choice
    return list(chosen.values())


def owner_assessment(
    session: Session, ctx: Context, rules: AssessmentRules, unit_id: int
) -> OwnerAssessment | None:
    """The unit's assessment for the last quarter ended before the context's day (the plan's
    last, after the plan), or None when that quarter is before the plan."""
    period = last_quarter(ctx.day, ctx.plan.period_end)
    if period.end < ctx.plan.period_start:
        return None
    own_code, code, name = assessed_of(session, unit_id)
    [facts] = [f for f in assessment_facts(session, ctx, period, unit=code) if f.unit == code]
    upheld = upheld_excuses(session, ctx.plan.id, period.key).get(code, [])
    excused = excuse(facts, upheld)
    now = score(rules, excused)
    first = score(rules, facts).score
    objections = objections_of(session, ctx.plan.id, period.key, code)
    taken = {f"{o.part}:{o.item_id}" for o in objections if o.status != REJECTED}
    days = ordinals(session, ctx, [period.end, ctx.day])
    within = rules.objections.within_workdays
    return OwnerAssessment(
        period=period,
        unit=code,
        unit_name=name,
        own=own_code == code,
        score=now,
        before=first if first != now.score else None,
        deadline=workday_after(session, period.end, within),
        within=within,
        open=days[ctx.day] - days[period.end] <= within,
        choices=contestable(excused, rules, taken),
        objections=objections,
    )
