"""Reporting completeness and timeliness (DHIS2's terms), per reporting cycle.

A unit *owes* a report for a cycle when, at the cycle's end, it has an active item (on track, due
soon, behind pace or overdue). It *sent* one when a progress report or a landed file of that
period arrived; *on time* when it arrived on or before the cycle's due day.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Collection
from datetime import date, timedelta

from sqlalchemy import Select, Subquery, case, func, or_, select, union_all
from sqlalchemy.orm import Session

from domain.queries.active import active_items, units_active_on
from domain.queries.calendar import CYCLE_DAYS, deadline_rule
from domain.queries.context import context_on
from domain.queries.plan_end import reporting_ends
from domain.rules.context import Context
from domain.rules.reporting import RECORD_CYCLES, Cycle, cycle_of, cycles_between
from domain.rules.status_views import CompletenessView, CycleView, UnitTimeliness
from models.orm import InboxFile, Report, Unit


def owing_select(ctx: Context, units: Collection[int] | None = None) -> Select[int]:
    """SQL: the units (of ``units``, if given) with an active item on the context's day (a
    cycle's end), each once."""
    active = active_items(ctx, units)
    return select(active.c.unit_id).group_by(active.c.unit_id)


def _arrivals(plan_id: str, start: date, end: date) -> Subquery:
    """(unit_id, period, day) of each progress report and landed file of a period from ``start``
    to ``end``."""
    reports = select(
        Report.unit_id.label("unit_id"),
        Report.period.label("period"),
        Report.received_on.label("day"),
    ).where(Report.plan_id == plan_id, Report.period.between(start, end))
    files = select(
        InboxFile.unit_id.label("unit_id"),
        InboxFile.period.label("period"),
        InboxFile.received_on.label("day"),
    ).where(
        InboxFile.plan_id == plan_id,
        InboxFile.status == "landed",
        InboxFile.period.between(start, end),
    )
    return union_all(reports, files).subquery("arrivals")


def sent_per_cycle(session: Session, plan_id: str, cycles: list[Cycle]) -> list[dict[int, date]]:
    """The day each unit's first arrival of each of ``cycles`` came (none: no day known), in
    one statement: the first per unit and period over all the cycles, sorted into them here."""
    both = _arrivals(plan_id, cycles[0].start, cycles[-1].end)
    firsts = (
        select(both.c.unit_id, both.c.period, func.min(both.c.day))
        .where(both.c.unit_id.is_not(None))
        .group_by(both.c.unit_id, both.c.period)
    )
    starts = [cycle.start for cycle in cycles]
    out: list[dict[int, date]] = [{} for _ in cycles]
    for unit_id, period, day in session.execute(firsts):
        n = bisect_right(starts, period) - 1
        if n < 0 or period > cycles[n].end:
            continue
        days = out[n]
        if days.get(unit_id) is None:  # SQL's min: a known day wins over none
            days[unit_id] = day
        elif day is not None:
            days[unit_id] = min(days[unit_id], day)
    return out


def owed_and_sent(
    ctx: Context, cycle: Cycle, as_of: date, units: Collection[int] | None = None
) -> Select[int, int | None]:
    """SQL: (``unit_id``, ``sent``) for each unit that owed the cycle's report (``ctx`` on the
    cycle's end), ``sent`` its id again if it sent anything for the cycle by ``as_of``, else
    NULL (an anti-join with the senders)."""
    owed = owing_select(ctx, units).subquery("owed")
    arrived = _arrivals(ctx.plan.id, cycle.start, cycle.end)
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
    ctx: Context, cycle: Cycle, as_of: date, units: Collection[int] | None = None
) -> Subquery:
    """SQL: ``unit_id`` of each unit that owed the cycle's report (``ctx`` on the cycle's end)
    and had sent nothing by ``as_of``."""
    both = owed_and_sent(ctx, cycle, as_of, units).subquery()
    return select(both.c.unit_id).where(both.c.sent.is_(None)).subquery("missing")


def _missing_now(
    session: Session,
    ctx: Context,
    cycle: Cycle,
    units: Collection[int] | None,
    limit: int | None,
) -> CompletenessView:
    """:func:`completeness_view` without rates, in one statement: each unit that owed, whether
    it sent, both totals counted over all of them; the rows kept are the missing ones (the first
    ``limit`` by code) and one more to carry the totals when none is missing."""
    at_end = context_on(session, ctx, cycle.end)
    both = owed_and_sent(at_end, cycle, ctx.day, units).subquery()
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
        as_of=ctx.day,
        cycle=CycleView(start=cycle.start, end=cycle.end, due=cycle.due),
        owed=owed_n,
        sent=owed_n - silent_n,
        missing=[(r.code, r.name) for r in rows if r.missing][:limit],
        window_start=cycle.start,
        window_end=cycle.end,
        units=[],
    )


def _owed_per_cycle(
    session: Session, ctx: Context, cycles: list[Cycle], units: Collection[int] | None
) -> list[set[int]]:
    """:func:`owing_units` at the end of each of ``cycles``, in one statement."""
    return units_active_on(session, ctx, [c.end for c in cycles], units)


def _records(
    names: dict[int, tuple[str, str]],
    cycles: list[tuple[Cycle, set[int], dict[int, date]]],
    as_of: date,
) -> list[UnitTimeliness]:
    """Each unit's record over ``cycles`` (each with the units that owed its report and the day
    each sender's first arrived), by unit code: owed, sent by ``as_of``, on time."""
    owed_count: dict[int, int] = {}
    sent_count: dict[int, int] = {}
    on_time: dict[int, int] = {}
    silent: dict[int, int] = {}
    for cycle, owed, sent in cycles:
        for unit_id in owed:
            owed_count[unit_id] = owed_count.get(unit_id, 0) + 1
            if unit_id in sent and sent[unit_id] <= as_of:
                sent_count[unit_id] = sent_count.get(unit_id, 0) + 1
                silent[unit_id] = 0
                if sent[unit_id] <= cycle.due:
                    on_time[unit_id] = on_time.get(unit_id, 0) + 1
            else:
                silent[unit_id] = silent.get(unit_id, 0) + 1
    records = []
    for unit_id, owed_n in sorted(owed_count.items(), key=lambda kv: names[kv[0]][0]):
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
                silent=silent.get(unit_id, 0),
            )
        )
    return records


def completeness_view(
    session: Session,
    ctx: Context,
    *,
    cycles: int = 8,
    units: Collection[int] | None = None,
    rates: bool = True,
    missing_limit: int | None = None,
    due_cycle: bool = False,
) -> CompletenessView:
    """Missing reports in the cycle of the context's day, and rates over the last ``cycles``
    cycles (of ``units`` only, if given). ``rates=False``: only who is missing now, the window
    the current cycle, the first ``missing_limit`` missing units by code (``owed`` and ``sent``
    still counting them all). ``due_cycle``: the cycle is the latest whose report was due by
    the day (see :func:`reporting_view`)."""
    as_of = ctx.day
    kind, due = ctx.plan.reporting_cycle, ctx.plan.reporting_due
    # past a finished plan's close-out no report is owed: the cycles stop at its last day
    ended = reporting_ends(session, ctx.plan, as_of)
    last = as_of if ended is None else ended
    back = CYCLE_DAYS[kind] * max(cycles, 1)
    postpone = deadline_rule(
        session,
        last - timedelta(days=back),
        last + timedelta(days=31),
        covered=ctx.calendar,
    )
    current = cycle_of(last, kind, due, postpone)
    if (due_cycle or ended is not None) and current.due > last:
        current = cycle_of(current.start - timedelta(days=1), kind, due, postpone)
    if not rates:
        return _missing_now(session, ctx, current, units, missing_limit)
    window = cycles_between(current.start, current.end, kind, due, postpone)
    while len(window) < cycles:
        window.insert(0, cycle_of(window[0].start - timedelta(days=1), kind, due, postpone))
    names = {
        u.id: (u.code, u.name)
        for u in session.execute(
            select(Unit.id, Unit.code, Unit.name).where(Unit.plan_id == ctx.plan.id)
        )
    }
    owed_per_cycle = _owed_per_cycle(session, ctx, window, units)
    arrived = sent_per_cycle(session, ctx.plan.id, window)
    at = window.index(current)
    owed_now, sent_now = owed_per_cycle[at], arrived[at]
    per_cycle = zip(window, owed_per_cycle, arrived, strict=True)
    # a cycle whose report is not due yet is not counted in the rates
    records = _records(names, [(c, o, s) for c, o, s in per_cycle if c.due <= as_of], as_of)
    missing = sorted(names[u] for u in owed_now if u not in sent_now or sent_now[u] > as_of)
    return CompletenessView(
        as_of=as_of,
        cycle=CycleView(start=current.start, end=current.end, due=current.due),
        owed=len(owed_now),
        sent=len(owed_now) - len(missing),
        on_time=sum(1 for u in owed_now if u in sent_now and sent_now[u] <= current.due),
        unasked=sum(1 for u, day in sent_now.items() if u not in owed_now and day <= as_of),
        missing=missing,
        window_start=window[0].start,
        window_end=window[-1].end,
        units=records,
        ended_on=ended,
    )


def reporting_view(
    session: Session, ctx: Context, *, units: Collection[int] | None = None
) -> CompletenessView:
    """最近一期报送 as the briefing, ``duban status`` and the main job all state it: the latest
    cycle whose report was due by the context's day (who owed it, sent it by the day, on time),
    and each unit's 报送及时率 over the last :data:`RECORD_CYCLES` cycles due by then (reports
    on or before a cycle's due day ÷ cycles it owed one)."""
    return completeness_view(session, ctx, cycles=RECORD_CYCLES, units=units, due_cycle=True)
