"""Reading the facts a final evaluation is built from (:mod:`domain.rules.evaluation`).

Item statuses come from the briefing's reading of the one status query (as of the evaluation
day), units and key tasks and each item's last stated problem likewise; indicators from their
view at the day and at each year's end; every problem written over the period from the reports;
reports owed and on time per year from the reporting-completeness queries.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from domain.queries.active import units_active_on
from domain.queries.briefing_facts import item_facts, statements, task_facts, unit_facts
from domain.queries.calendar import CYCLE_DAYS, deadline_rule, fallback_warnings
from domain.queries.completeness import sent_per_cycle
from domain.queries.indicators import indicator_values
from domain.queries.plan_end import close_out_last_day
from domain.rules.context import Context
from domain.rules.evaluation.facts import (
    EvaluationFacts,
    IndicatorFact,
    ProblemStatement,
    ReportingYear,
)
from domain.rules.indicators import UNITS
from domain.rules.reporting import Cycle, cycles_between
from models.orm import Plan, Report, Unit
from models.records import Indicator, Measure, MeasureValue
from models.unitsets import select_units


def year_ends(first: date, last: date) -> list[date]:
    """The last day of each year from ``first`` to ``last``, the last one ``last`` itself."""
    return [min(date(year, 12, 31), last) for year in range(first.year, last.year + 1)]


def data_days(
    session: Session, plan_id: str, as_of: date
) -> dict[str, tuple[date | None, date | None]]:
    """Indicator code → the first and last day the figures it counts on ``as_of`` were received
    (each reporting unit's newest value of each measure the formula uses)."""
    newest = (
        select(func.max(MeasureValue.id))
        .where(MeasureValue.plan_id == plan_id, MeasureValue.received_on <= as_of)
        .group_by(MeasureValue.measure_id, MeasureValue.unit_id)
    )
    received: dict[int, dict[str, date]] = defaultdict(dict)
    for unit_id, code, day in session.execute(
        select(MeasureValue.unit_id, Measure.code, MeasureValue.received_on)
        .join(Measure, Measure.id == MeasureValue.measure_id)
        .where(MeasureValue.id.in_(newest))
    ):
        received[unit_id][code] = day
    units = list(
        session.scalars(select(Unit).where(Unit.plan_id == plan_id, Unit.retired_at.is_(None)))
    )
    out: dict[str, tuple[date | None, date | None]] = {}
    for ind in session.scalars(
        select(Indicator).where(Indicator.plan_id == plan_id, Indicator.retired_at.is_(None))
    ):
        needed = [p for p in {*ind.numerator, *ind.denominator} if p != UNITS]
        days = [
            received[u.id][p]
            for u in select_units(ind.scope, units, key=lambda u: u.code)
            if all(p in received.get(u.id, {}) for p in needed)
            for p in needed
        ]
        out[ind.code] = (min(days), max(days)) if days else (None, None)
    return out


def indicator_facts(session: Session, plan: Plan, as_of: date) -> list[IndicatorFact]:
    """Each live indicator on ``as_of``, the days of its figures, and its value at each year's
    end of the period up to ``as_of``."""
    yearly: dict[str, list[tuple[int, float | None]]] = defaultdict(list)
    for end in year_ends(plan.period_start, as_of):
        for v in indicator_values(session, plan.id, end):
            yearly[v.id].append((end.year, v.value))
    days = data_days(session, plan.id, as_of)
    return [
        IndicatorFact(v, *days.get(v.id, (None, None)), yearly=tuple(yearly[v.id]))
        for v in indicator_values(session, plan.id, as_of)
    ]


def period_problems(session: Session, plan: Plan, as_of: date) -> list[ProblemStatement]:
    """Every problem written in a report received in the period up to ``as_of``."""
    query = (
        select(Report.item_id, Unit.code, Unit.name, Report.received_on, Report.problem)
        .join(Unit, Unit.id == Report.unit_id)
        .where(
            Report.plan_id == plan.id,
            Report.received_on.between(plan.period_start, as_of),
            Report.problem.is_not(None),
        )
    )
    return [
        ProblemStatement(item_id, code, name, received_on, problem)
        for item_id, code, name, received_on, problem in session.execute(query)
        if problem and problem.strip()
    ]


def period_cycles(session: Session, ctx: Context, first: date, last: date) -> list[Cycle]:
    """The reporting cycles whose report fell due from ``first`` to ``last``."""
    kind, due = ctx.plan.reporting_cycle, ctx.plan.reporting_due
    span = timedelta(days=CYCLE_DAYS[kind])
    rule = deadline_rule(session, first - span, last + span, covered=ctx.calendar)
    every = cycles_between(first - span, last, kind, due, rule)
    return [c for c in every if first <= c.due <= last]


def reporting_years(session: Session, ctx: Context, first: date) -> list[ReportingYear]:
    """Per year, the cycles whose report fell due in it by the context's day: the reports owed
    (a unit with an active item at the cycle's end) and those sent by the due day."""
    cycles = period_cycles(session, ctx, first, ctx.day)
    if not cycles:
        return []
    owed = units_active_on(session, ctx, [c.end for c in cycles])
    arrived = sent_per_cycle(session, ctx.plan.id, cycles)
    per_year: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0])
    for cycle, units, sent in zip(cycles, owed, arrived, strict=True):
        tally = per_year[cycle.due.year]
        tally[0] += 1
        tally[1] += len(units)
        tally[2] += sum(1 for u in units if u in sent and sent[u] <= cycle.due)
    return [ReportingYear(year, *tally) for year, tally in sorted(per_year.items())]


def gather(session: Session, plan: Plan, ctx: Context) -> EvaluationFacts:
    """Every fact of the final evaluation of ``plan`` on the context's day."""
    as_of = ctx.day
    items = item_facts(session, ctx)
    units = unit_facts(session, plan)
    reasons, _ = statements(session, plan, as_of)
    coordinator = units.get(plan.coordinator_code)
    return EvaluationFacts(
        plan=plan.id,
        plan_title=plan.title,
        issuer=coordinator.name if coordinator else plan.issuing_body,
        period_start=plan.period_start,
        period_end=plan.period_end,
        as_of=as_of,
        items=items,
        tasks=task_facts(session, plan, items),
        units=units,
        reasons=reasons,
        problems=period_problems(session, plan, as_of),
        indicators=indicator_facts(session, plan, as_of),
        reporting=reporting_years(session, ctx, plan.period_start),
        close_out_last=close_out_last_day(session, ctx.plan) if as_of >= plan.period_end else None,
        warnings=fallback_warnings(
            session, min(as_of, plan.period_start), max(as_of, plan.period_end)
        ),
    )
