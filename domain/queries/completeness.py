"""Reporting completeness and timeliness (DHIS2's terms), per reporting cycle.

A unit *owes* a report for a cycle when, at the cycle's end, it has an item that is open and
whose window has opened and is not waiting on a prerequisite (on track, due soon or overdue).
It *sent* one when a progress report or any file of that period (the workbook's period, else the
day it arrived) landed; *on time* when it arrived on or before the cycle's due day.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, timedelta

from pydantic import BaseModel
from sqlalchemy import Select, Subquery, case, func, or_, select, union_all
from sqlalchemy.orm import Session

from domain.queries.calendar import ensure_calendar, workday_ordinal
from domain.queries.status import (
    CURRENT_WAITING,
    current_items,
    history_settled,
    item_status_select,
)
from domain.rules.lights import active_condition
from domain.rules.reporting import Cycle, cycle_of, cycles_between
from models.db import prefer_hash_joins
from models.enums import ACTIVE_STATUSES
from models.orm import InboxFile, Plan, Report, Unit, WorkItem


class UnitTimeliness(BaseModel):
    """One unit over a window of cycles."""

    unit: str
    unit_name: str
    owed: int
    sent: int
    on_time: int
    completeness: float | None
    timeliness: float | None


class CycleView(BaseModel):
    start: date
    end: date
    due: date


class CompletenessView(BaseModel):
    """The current cycle's missing reports and each unit's record over a window."""

    as_of: date
    cycle: CycleView
    owed: int
    sent: int
    missing: list[tuple[str, str]]
    window_start: date
    window_end: date
    units: list[UnitTimeliness]


def owing_select(
    session: Session,
    plan_id: str,
    cycle: Cycle,
    yellow_workdays: int,
    units: Collection[int] | None = None,
) -> Select[int]:
    """SQL: the units (of ``units``, if given) with an active item at the end of the cycle,
    each once."""
    ensure_calendar(session, cycle.end)
    if history_settled(session, cycle.end):  # one pass over work_item, no status per item
        active = active_condition(
            state=WorkItem.state,
            start=WorkItem.start,
            waiting=CURRENT_WAITING,
            as_of=cycle.end,
        )
        return (
            select(WorkItem.unit_id)
            .where(*current_items(plan_id, units), active)
            .group_by(WorkItem.unit_id)
        )
    rows = item_status_select(
        plan_id,
        cycle.end,
        workday_ordinal(session, cycle.end),
        yellow_workdays,
        units=units,
    ).subquery()
    return select(rows.c.unit_id).where(rows.c.status.in_(ACTIVE_STATUSES)).distinct()


def owing_units(
    session: Session,
    plan_id: str,
    cycle: Cycle,
    yellow_workdays: int,
    units: Collection[int] | None = None,
) -> set[int]:
    """Units (of ``units``, if given) with an active item at the end of the cycle."""
    return set(session.scalars(owing_select(session, plan_id, cycle, yellow_workdays, units)))


def _arrivals(plan_id: str, cycle: Cycle) -> Subquery:
    """(unit_id, day) of each progress report and landed file of the cycle's period."""
    reports = select(Report.unit_id.label("unit_id"), Report.received_on.label("day")).where(
        Report.plan_id == plan_id, Report.period.between(cycle.start, cycle.end)
    )
    files = select(InboxFile.unit_id.label("unit_id"), InboxFile.received_on.label("day")).where(
        InboxFile.plan_id == plan_id,
        InboxFile.status == "landed",
        InboxFile.period.between(cycle.start, cycle.end),
    )
    return union_all(reports, files).subquery("arrivals")


def sent_reports(session: Session, plan_id: str, cycle: Cycle) -> dict[int, date]:
    """Unit id → the first day something for this cycle arrived from it: a progress report, or
    a landed file (a workbook returned with nothing new to say still counts as reported)."""
    both = _arrivals(plan_id, cycle)
    rows = session.execute(
        select(both.c.unit_id, func.min(both.c.day).label("day")).group_by(both.c.unit_id)
    ).all()
    return {row.unit_id: row.day for row in rows if row.unit_id is not None}


def owed_and_sent(
    session: Session,
    plan_id: str,
    cycle: Cycle,
    as_of: date,
    yellow_workdays: int,
    units: Collection[int] | None = None,
) -> Select[int, int | None]:
    """SQL: (``unit_id``, ``sent``) for each unit that owed the cycle's report, ``sent`` its
    id again if it sent anything for the cycle by ``as_of``, else NULL. An anti-join with the
    senders, not NOT EXISTS: SQLite would read the cycle's reports again for each unit."""
    owed = owing_select(session, plan_id, cycle, yellow_workdays, units).subquery("owed")
    arrived = _arrivals(plan_id, cycle)
    senders = (
        select(arrived.c.unit_id)
        .where(arrived.c.day <= as_of, arrived.c.unit_id.is_not(None))
        .group_by(arrived.c.unit_id)
        .subquery("senders")
    )
    return select(owed.c.unit_id, senders.c.unit_id.label("sent")).outerjoin(
        senders, senders.c.unit_id == owed.c.unit_id
    )


def missing_select(
    session: Session,
    plan_id: str,
    cycle: Cycle,
    as_of: date,
    yellow_workdays: int,
    units: Collection[int] | None = None,
) -> Subquery:
    """SQL: ``unit_id`` of each unit that owed the cycle's report and had sent nothing by
    ``as_of``: what a missing-report notice and the dashboard need, without a row per unit in
    Python."""
    both = owed_and_sent(session, plan_id, cycle, as_of, yellow_workdays, units).subquery()
    return select(both.c.unit_id).where(both.c.sent.is_(None)).subquery("missing")


def _missing_now(
    session: Session,
    plan: Plan,
    as_of: date,
    cycle: Cycle,
    yellow_workdays: int,
    units: Collection[int] | None,
    limit: int | None,
) -> CompletenessView:
    """:func:`completeness_view` without rates, in one statement (who owes a report is one
    pass over the items, SQLite's slowest part at a province's size): each unit that owed,
    whether it sent, with both totals counted over all of them; the rows kept are the missing
    ones (the first ``limit`` by code) and one more to carry the totals when none is missing."""
    both = owed_and_sent(session, plan.id, cycle, as_of, yellow_workdays, units).subquery()
    silent = both.c.sent.is_(None)
    each = select(
        both.c.unit_id,
        silent.label("missing"),
        func.count().over().label("owed"),
        func.sum(case((silent, 1), else_=0)).over().label("silent"),
        func.row_number().over().label("n"),
    ).subquery("each_owed")
    rows = session.execute(
        select(Unit.code, Unit.name, each.c.missing, each.c.owed, each.c.silent)
        .join(each, each.c.unit_id == Unit.id)
        .where(or_(each.c.missing, each.c.n == 1))
        .order_by(each.c.missing.desc(), Unit.code)
        .limit(None if limit is None else limit + 1)
    ).all()
    owed_n, silent_n = (int(rows[0].owed), int(rows[0].silent)) if rows else (0, 0)
    return CompletenessView(
        as_of=as_of,
        cycle=CycleView(start=cycle.start, end=cycle.end, due=cycle.due),
        owed=owed_n,
        sent=owed_n - silent_n,
        missing=[(r.code, r.name) for r in rows if r.missing][:limit],
        window_start=cycle.start,
        window_end=cycle.end,
        units=[],
    )


def completeness_view(
    session: Session,
    plan: Plan,
    as_of: date,
    *,
    cycles: int = 8,
    yellow_workdays: int = 5,
    units: Collection[int] | None = None,
    rates: bool = True,
    missing_limit: int | None = None,
) -> CompletenessView:
    """Missing reports in the cycle of ``as_of``, and rates over the last ``cycles`` cycles
    (of the units of ``units`` only, if given; ``rates=False``: only who is missing now, as
    the daily cycle's dashboard needs, not a record per unit, worked out in SQL; then
    ``cycles`` does not apply, the window is the current cycle, and ``missing_limit`` keeps
    the first so many missing units by code, ``owed`` and ``sent`` still counting them all)."""
    prefer_hash_joins(session)
    kind, due = plan.reporting_cycle, plan.reporting_due
    current = cycle_of(as_of, kind, due)
    if not rates:
        return _missing_now(session, plan, as_of, current, yellow_workdays, units, missing_limit)
    window = cycles_between(current.start, current.end, kind, due)
    while len(window) < cycles:
        window.insert(0, cycle_of(window[0].start - timedelta(days=1), kind, due))
    names = {
        u.id: (u.code, u.name)
        for u in session.execute(
            select(Unit.id, Unit.code, Unit.name).where(Unit.plan_id == plan.id)
        )
    }
    owed_count: dict[int, int] = {}
    sent_count: dict[int, int] = {}
    on_time: dict[int, int] = {}
    owed_now: set[int] = set()
    sent_now: dict[int, date] = {}
    for cycle in window:
        owed = owing_units(session, plan.id, cycle, yellow_workdays, units)
        sent = sent_reports(session, plan.id, cycle)
        if cycle == current:
            owed_now, sent_now = owed, sent
        if cycle.due > as_of:
            continue  # its report is not due yet: not counted in the rates
        for unit_id in owed:
            owed_count[unit_id] = owed_count.get(unit_id, 0) + 1
            if unit_id in sent and sent[unit_id] <= as_of:
                sent_count[unit_id] = sent_count.get(unit_id, 0) + 1
                if sent[unit_id] <= cycle.due:
                    on_time[unit_id] = on_time.get(unit_id, 0) + 1
    records = []
    for unit_id, owed_n in sorted(
        owed_count.items() if rates else [], key=lambda kv: names[kv[0]][0]
    ):
        sent_n, on_time_n = sent_count.get(unit_id, 0), on_time.get(unit_id, 0)
        records.append(
            UnitTimeliness(
                unit=names[unit_id][0],
                unit_name=names[unit_id][1],
                owed=owed_n,
                sent=sent_n,
                on_time=on_time_n,
                completeness=sent_n / owed_n,
                timeliness=on_time_n / owed_n,
            )
        )
    missing = sorted(names[u] for u in owed_now if u not in sent_now or sent_now[u] > as_of)
    return CompletenessView(
        as_of=as_of,
        cycle=CycleView(start=current.start, end=current.end, due=current.due),
        owed=len(owed_now),
        sent=len(owed_now) - len(missing),
        missing=missing,
        window_start=window[0].start,
        window_end=window[-1].end,
        units=records,
    )
