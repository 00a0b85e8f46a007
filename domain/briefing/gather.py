"""Reading the facts a briefing is built from (the only module of the briefing that queries).

Statuses come from the same set-based query as ``duban status`` (as of the briefing date and
seven days before); escalation levels from the outbox; reasons and problems from unit reports;
timeliness from the reporting-completeness view; indicators from their view.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from domain.briefing.build import (
    Facts,
    ItemFact,
    ProblemFact,
    TaskFact,
    TimelinessFact,
    UnitFact,
    week_span,
)
from domain.calendar import fallback_warnings, workday_ordinal
from domain.completeness import completeness_view
from domain.indicators import indicator_values
from domain.status import item_status_select, prepare_plan_query
from models.enums import Status, TaskRole, UnitKind
from models.orm import Notice, Plan, Report, Task, TaskUnit, Unit


def item_facts(
    session: Session, plan: Plan, as_of: date, yellow_workdays: int, pace_margin: int | None
) -> list[ItemFact]:
    """Every live item of the plan with its status on ``as_of``."""
    prepare_plan_query(session, plan.id, as_of)
    rows = item_status_select(
        plan.id, as_of, workday_ordinal(session, as_of), yellow_workdays, pace_margin
    ).subquery()
    return [
        ItemFact(
            id=r.id,
            task=r.task,
            milestone=r.milestone,
            title=r.title,
            unit=r.unit,
            unit_name=r.unit_name,
            due=r.due,
            status=Status(r.status),
            workdays_left=r.workdays_left,
        )
        for r in session.execute(select(rows).order_by(rows.c.id))
    ]


def unit_facts(session: Session, plan: Plan) -> dict[str, UnitFact]:
    """Units with their ranking group: a village or community counts under its township;
    a township and a department under themselves; the leadership under none."""
    units = {u.id: u for u in session.scalars(select(Unit).where(Unit.plan_id == plan.id))}
    out = {}
    for unit in units.values():
        current: Unit | None = unit
        while current is not None and current.kind not in (
            UnitKind.TOWNSHIP.value,
            UnitKind.DEPARTMENT.value,
        ):
            current = units.get(current.parent_id) if current.parent_id else None
        group = current.code if current is not None else None
        if group == plan.leadership_code or unit.retired_at is not None:
            group = None
        out[unit.code] = UnitFact(
            code=unit.code,
            name=unit.name,
            group=group,
            is_department=unit.kind == UnitKind.DEPARTMENT.value,
        )
    return out


def task_facts(session: Session, plan: Plan) -> list[TaskFact]:
    query = (
        select(Task.code, Task.number, Task.title, Unit.name)
        .join(TaskUnit, and_(TaskUnit.task_id == Task.id, TaskUnit.role == TaskRole.LEAD.value))
        .join(Unit, Unit.id == TaskUnit.unit_id)
        .where(Task.plan_id == plan.id, Task.retired_at.is_(None))
        .order_by(Task.number)
    )
    return [
        TaskFact(code, number, title, lead) for code, number, title, lead in session.execute(query)
    ]


def escalation_levels(
    session: Session, plan: Plan, as_of: date, items: list[ItemFact]
) -> dict[int, str]:
    """The last ladder level each item reached for its current due date, as of the date."""
    last = (
        select(func.max(Notice.id))
        .where(Notice.plan_id == plan.id, Notice.kind == "ladder", Notice.planned_on <= as_of)
        .group_by(Notice.item_id)
    )
    due = {i.id: i.due for i in items}
    return {
        n.item_id: n.level_name
        for n in session.execute(
            select(Notice.item_id, Notice.level_name, Notice.due).where(Notice.id.in_(last))
        )
        if n.item_id is not None and due.get(n.item_id) == n.due
    }


def stated_reasons(session: Session, plan: Plan, as_of: date) -> dict[int, str]:
    """Each item's latest problem (存在问题) as its unit wrote it, up to the date."""
    last = (
        select(func.max(Report.id))
        .where(
            Report.plan_id == plan.id,
            Report.received_on <= as_of,
            Report.problem.is_not(None),
            Report.problem != "",
        )
        .group_by(Report.item_id)
    )
    return {
        r.item_id: r.problem.strip()
        for r in session.execute(select(Report.item_id, Report.problem).where(Report.id.in_(last)))
        if r.problem and r.problem.strip()
    }


def week_problems(session: Session, plan: Plan, as_of: date) -> list[ProblemFact]:
    first, last = week_span(as_of)
    query = (
        select(Report.item_id, Unit.name, Report.received_on, Report.problem)
        .join(Unit, Unit.id == Report.unit_id)
        .where(
            Report.plan_id == plan.id,
            Report.received_on.between(first, last),
            Report.problem.is_not(None),
        )
    )
    return [
        ProblemFact(item_id, unit, received_on, problem)
        for item_id, unit, received_on, problem in session.execute(query)
        if problem and problem.strip()
    ]


def gather(
    session: Session,
    plan: Plan,
    as_of: date,
    *,
    number: int,
    yellow_workdays: int,
    pace_margin: int | None,
) -> Facts:
    """Every fact of the briefing dated ``as_of`` (issue ``number``)."""
    items = item_facts(session, plan, as_of, yellow_workdays, pace_margin)
    previous = {
        i.id: i.status
        for i in item_facts(session, plan, as_of - timedelta(days=7), yellow_workdays, pace_margin)
    }
    units = unit_facts(session, plan)
    done = completeness_view(session, plan, as_of, yellow_workdays=yellow_workdays)
    coordinator = units.get(plan.coordinator_code)
    return Facts(
        plan=plan.id,
        plan_title=plan.title,
        title=plan.briefing_title or f"{plan.title}实施工作简报",
        issuer=coordinator.name if coordinator else plan.issuing_body,
        as_of=as_of,
        number=number,
        yellow_workdays=yellow_workdays,
        items=items,
        previous=previous,
        tasks=task_facts(session, plan),
        units=units,
        levels=escalation_levels(session, plan, as_of, items),
        reasons=stated_reasons(session, plan, as_of),
        problems=week_problems(session, plan, as_of),
        timeliness=[TimelinessFact(u.unit, u.owed, u.on_time) for u in done.units],
        indicators=indicator_values(session, plan.id, as_of),
        warnings=fallback_warnings(
            session, min(as_of, plan.period_start), max(as_of, plan.period_end)
        ),
    )
