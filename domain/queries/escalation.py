"""The escalation ladder applied to every open item at once: which notices are due on a date.

For an item on the date ``as_of``, let *d* = working days since its due date (negative before
it). Its ladder is the urgent one, an override, or the default. The level reached is the highest
whose offset ≤ *d*; with ``repeat_every`` *r* the notice repeats, cycle = (d − offset) ÷ r.
A notice is keyed by (item, level, due date, cycle), so each is planned once however often
escalation runs, an extension (new due date) starts the ladder afresh, and a day without a run
is caught up the next day at the level then reached. Items waiting on a prerequisite, not yet
started, done or retired get nothing; an acknowledged level does not repeat.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import (
    ColumnElement,
    Engine,
    Integer,
    SQLColumnExpression,
    String,
    and_,
    case,
    cast,
    exists,
    func,
    literal,
    or_,
    select,
    text,
    union_all,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy.sql.selectable import Subquery

from config.ladder import Ladder, Level, Override
from config.settings import get_settings
from domain.adapters.channels import Channel
from domain.queries.calendar import ensure_calendar, workday_ordinal
from domain.queries.completeness import missing_select
from domain.queries.status import (
    CURRENT_WAITING,
    current_items,
    earliest_open_due,
    item_status_select,
    plan_milestones,
    plan_status_select,
    prepare_plan_query,
)
from domain.rules.glossary import ladder_name, zh_date
from domain.rules.lifecycle import done_values
from domain.rules.lights import active_condition
from domain.rules.reporting import cycle_of
from domain.services.delivery import DeliveryReport, deliver, preview
from models import clock
from models.db import session_scope
from models.enums import ACTIVE_STATUSES, Status
from models.orm import CalendarDay, ItemAck, Notice, Plan, WorkItem


@dataclass(frozen=True)
class PlannedNotice:
    """A notice the ladder calls for on a date, before it is written to the outbox."""

    dedupe_key: str
    kind: str
    item_id: int | None
    unit_id: int
    level: str
    level_name: str
    due: date | None
    cycle: int
    workdays: int
    roles: list[str]
    rule: str


def special_ladders(ladder: Ladder) -> list[tuple[str, Override]]:
    """The ladders that replace the default for some tasks or milestones, in precedence order:
    the urgent one first, then the overrides as listed."""
    named = [("urgent", ladder.urgent)] if ladder.urgent is not None else []
    return named + [(f"override-{i}", o) for i, o in enumerate(ladder.overrides)]


def ladders(ladder: Ladder) -> dict[str, list[Level]]:
    """Ladder name → its levels (default, urgent, override-0, override-1, …)."""
    return {"default": ladder.levels, **{k: o.levels for k, o in special_ladders(ladder)}}


def _ladder_of_milestone(
    session: Session, plan_id: str, ladder: Ladder
) -> Callable[[SQLColumnExpression[int]], ColumnElement[str]]:
    """SQL, given a milestone id: the name of the ladder its items follow (the first special
    ladder that names its task or milestone, else the default), as a CASE over the plan's
    milestone ids (a few dozen), so no row needs its milestone and task joined."""
    specials = special_ladders(ladder)
    chosen: dict[str, list[int]] = {key: [] for key, _ in specials}
    for m in plan_milestones(session, plan_id):
        key = next((k for k, o in specials if m.code in o.milestones or m.task in o.tasks), None)
        if key is not None:
            chosen[key].append(m.id)
    whens = [(key, ids) for key, ids in chosen.items() if ids]

    def name(milestone_id: SQLColumnExpression[int]) -> ColumnElement[str]:
        if not whens:
            return literal("default", String)
        return case(*((milestone_id.in_(ids), key) for key, ids in whens), else_="default")

    return name


NO_END = 1_000_000
"""Working days overdue past any ladder's last rung."""


def _rung_rows(ladder: Ladder) -> list[tuple[str, str, int, int, int]]:
    """Every ladder's levels: (ladder, level, offset, next offset, repeat), the last rung of a
    ladder open-ended (it holds every d from its offset on)."""
    return [
        (key, lv.id, lv.offset, nxt.offset if nxt else NO_END, lv.repeat_every or 0)
        for key, levels in ladders(ladder).items()
        for lv, nxt in zip(levels, [*levels[1:], None], strict=True)
    ]


def longest_stay(ladder: Ladder) -> int | None:
    """The most working days an item stays on one notice of the ladder (one level, one repeat
    cycle): a repeating level's interval, else the level's days up to the next; None when a
    ladder ends with a level that does not repeat (an item may stay on it for ever)."""
    stays = []
    for _, _, offset, nxt, repeat in _rung_rows(ladder):
        if nxt == NO_END and not repeat:
            return None
        stays.append(min(repeat or NO_END, nxt - offset))
    return max(stays, default=None)


def _rungs(ladder: Ladder) -> Subquery:
    """:func:`_rung_rows` as a table: (ladder, level, offset, next_offset, repeat)."""
    rows = _rung_rows(ladder)
    # a UNION ALL of one-row SELECTs: SQLite cannot name the columns of a VALUES list
    return union_all(
        *[
            select(
                literal(key, String).label("ladder"),
                literal(level, String).label("level"),
                literal(offset, Integer).label("offset"),
                literal(nxt, Integer).label("next_offset"),
                literal(repeat, Integer).label("repeat"),
            )
            for key, level, offset, nxt, repeat in rows
        ]
    ).subquery("rungs")


def due_notices(
    session: Session,
    plan: Plan,
    as_of: date,
    ladder: Ladder,
    yellow_workdays: int,
    units: Collection[int] | None = None,
    *,
    only_new: bool = False,
) -> list[PlannedNotice]:
    """Every ladder notice due on ``as_of``, computed in one query over all items."""
    settled = prepare_plan_query(session, plan.id, as_of)
    ordinal = workday_ordinal(session, as_of)
    # no level before the earliest offset: only items due by then can have one (on a settled
    # day the database reads those alone, through the work-item index on the due date)
    earliest = min((lv.offset for lv in ladder.all_levels()), default=0)
    last_due = session.scalar(
        select(func.max(CalendarDay.day)).where(CalendarDay.ordinal <= ordinal - earliest)
    )
    if last_due is None:
        return []
    name = _ladder_of_milestone(session, plan.id, ladder)
    if settled:  # active items read straight from work_item: no status worked out per item
        overdue = (ordinal - CalendarDay.ordinal).label("overdue")
        active = (
            select(
                WorkItem.id,
                WorkItem.unit_id,
                WorkItem.due,
                overdue,
                name(WorkItem.milestone_id).label("ladder"),
            )
            .join(CalendarDay, CalendarDay.day == WorkItem.due)
            .where(
                *current_items(plan.id, units),
                WorkItem.due <= last_due,
                active_condition(
                    state=WorkItem.state,
                    start=WorkItem.start,
                    waiting=CURRENT_WAITING,
                    as_of=as_of,
                ),
            )
            .subquery()
        )
    else:
        all_items = item_status_select(
            plan.id,
            as_of,
            ordinal,
            yellow_workdays,
            get_settings().pace_margin,
            units=units,
        ).subquery()
        # open, as every active status is: no status to work out for the items already done
        items = (
            select(all_items)
            .where(all_items.c.due <= last_due, all_items.c.state.not_in(done_values()))
            .subquery()
        )
        active = (
            select(
                items.c.id,
                items.c.unit_id,
                items.c.due,
                (-items.c.workdays_left).label("overdue"),
                name(items.c.milestone_id).label("ladder"),
            )
            .where(items.c.status.in_(ACTIVE_STATUSES))
            .subquery()
        )
    # the level reached: the rung of the item's ladder whose [offset, next offset) holds d,
    # a join with a small table of rungs (a CASE per level would be worked out many times a row)
    rungs = _rungs(ladder)
    repeat_cycle = case(
        (rungs.c.repeat == 0, 0),
        # floor division: "/" is true division in SQLAlchemy 2, and PostgreSQL rounds 0.6 up
        # when casting it back to an integer (a repeat a cycle early, found on PG)
        else_=(active.c.overdue - rungs.c.offset) // rungs.c.repeat,
    )
    rows = (
        select(
            active.c.id,
            active.c.unit_id,
            active.c.due,
            active.c.overdue,
            rungs.c.level,
            repeat_cycle.label("cycle"),
            active.c.ladder,
        )
        .join(
            rungs,
            and_(
                rungs.c.ladder == active.c.ladder,
                active.c.overdue >= rungs.c.offset,
                active.c.overdue < rungs.c.next_offset,
            ),
        )
        .subquery()
    )
    every = {lv.id: lv for lv in ladder.all_levels()}
    acked = (
        select(rows)
        .outerjoin(
            ItemAck,
            and_(
                ItemAck.item_id == rows.c.id,
                ItemAck.level == rows.c.level,
                ItemAck.due == rows.c.due,
                ItemAck.on_date <= as_of,
            ),
        )
        .where(
            or_(rows.c.cycle == 0, ItemAck.item_id.is_(None)),
            *(
                [
                    ~_in_outbox(
                        plan,
                        "ladder",
                        rows.c.id,
                        rows.c.due,
                        rows.c.level,
                        rows.c.cycle,
                        bounds=_ladder_bounds(session, plan, settled, ordinal, last_due, ladder),
                    )
                ]
                if only_new
                else []
            ),
        )
        .order_by(rows.c.id)
    )
    out = []
    for r in session.execute(acked):
        lv = every[r.level]
        when = (
            "到期当日"
            if lv.offset == 0
            else (f"到期前{-lv.offset}个工作日" if lv.offset < 0 else f"逾期{lv.offset}个工作日")
        )
        repeat_text = f"，第{r.cycle}次重复（每{lv.repeat_every}个工作日）" if r.cycle else ""
        out.append(
            PlannedNotice(
                dedupe_key=f"ladder:{r.id}:{lv.id}:{r.due}:{r.cycle}",
                kind="ladder",
                item_id=r.id,
                unit_id=r.unit_id,
                level=lv.id,
                level_name=lv.name,
                due=r.due,
                cycle=r.cycle,
                workdays=r.overdue,
                roles=list(lv.to),
                rule=f"{ladder_name(r.ladder)}，{lv.name}（{when}）{repeat_text}",
            )
        )
    return out


def _in_outbox(
    plan: Plan,
    kind: str,
    item_id: ColumnElement[int],
    due: ColumnElement[date],
    level: ColumnElement[str] | None = None,
    cycle: ColumnElement[int] | None = None,
    *,
    bounds: Sequence[ColumnElement[bool]] = (),
) -> ColumnElement[bool]:
    """SQL: the outbox already holds this notice (the columns its dedupe key is made of);
    ``bounds``: conditions on the due date or the day planned that such a notice meets
    (:func:`_due_bounds`, :func:`_planned_since`), for PostgreSQL's outbox indexes."""
    return exists().where(
        Notice.plan_id == plan.id,
        Notice.kind == kind,
        *bounds,
        Notice.item_id == item_id,
        Notice.due == due,
        *([Notice.level == level] if level is not None else []),
        *([Notice.cycle == cycle] if cycle is not None else []),
    )


def _due_bounds(
    session: Session, first: date | None, last: date | None
) -> list[ColumnElement[bool]]:
    """Conditions bounding an outbox check's read of the outbox to the notices due between
    ``first`` and ``last`` (either may be open), on PostgreSQL: its hash anti-join then reads
    those alone, through the outbox's index (plan, kind, due; migration 0011), not every notice
    the plan has had. No conditions on SQLite, which runs the check once per row and, offered that
    index, picks it over the item's or the dedupe key's: each row then read every notice of the
    range (the ladder's check at 10⁵ items: 0.06 s → 1.2 s)."""
    if session.get_bind().dialect.name != "postgresql":
        return []
    return [
        *([Notice.due >= first] if first is not None else []),
        *([Notice.due <= last] if last is not None else []),
    ]


def _ladder_bounds(
    session: Session, plan: Plan, settled: bool, ordinal: int, last_due: date, ladder: Ladder
) -> list[ColumnElement[bool]]:
    """On PostgreSQL, what bounds the ladder's outbox check: due dates from the earliest open
    item's (on a settled day) to ``last_due``, and the day planned (:func:`_planned_since`).
    None on SQLite (see :func:`_due_bounds`), where nothing is looked up for them."""
    if session.get_bind().dialect.name != "postgresql":
        return []
    first = earliest_open_due(session, plan.id) if settled else None
    return [
        *_due_bounds(session, first, last_due),
        *_planned_since(session, ordinal, longest_stay(ladder)),
    ]


def _planned_since(session: Session, ordinal: int, stay: int | None) -> list[ColumnElement[bool]]:
    """A condition bounding the ladder's outbox check to the notices planned in
    the last ``stay`` working days up to the day of ``ordinal`` (see :func:`longest_stay`): the
    notice an item is due today is for the level and repeat cycle it reached at most that long
    ago, and a run plans a notice no earlier than the day it is reached. Earlier ones (an
    item's past levels and cycles: at a province's size, with weekly repeats, a dozen per
    long-overdue item) are not read (outbox index by plan, kind and day planned, migration
    0011). Where that does not hold (a cycle run for a day ahead of the clock, whose notices are
    stamped with the clock's date; a calendar override that turned a working day between due
    date and planning day into a rest day; a ladder edit that moved a level's window later
    under the same id) a notice already held is planned again and the outbox's unique key
    skips it: nothing is sent twice or lost. (`duban escalate --as-of` freezes the clock at
    that day, so its notices are stamped with it.)"""
    if stay is None:
        return []
    since = session.scalar(
        select(func.min(CalendarDay.day)).where(CalendarDay.ordinal >= ordinal - stay + 1)
    )
    return [] if since is None else [Notice.planned_on >= since]


ANALYZE_AFTER = 10_000
"""Notices written at once after which PostgreSQL's statistics of the outbox are refreshed."""


def write_outbox(
    session: Session, plan: Plan, notices: list[PlannedNotice], *, analyze: bool = True
) -> int:
    """Insert the notices not already in the outbox; returns how many were new. On PostgreSQL
    a burst of them (:data:`ANALYZE_AFTER`) refreshes the outbox's statistics, unless
    ``analyze`` is false: a run that will roll back (a dry run) must not, since ANALYZE's row
    count survives a rollback."""
    if not notices:
        return 0
    now = clock.now()
    today = clock.local_date(now, plan.timezone)
    rows = [
        {
            "plan_id": plan.id,
            "dedupe_key": n.dedupe_key,
            "kind": n.kind,
            "item_id": n.item_id,
            "unit_id": n.unit_id,
            "level": n.level,
            "level_name": n.level_name,
            "due": n.due,
            "cycle": n.cycle,
            "workdays": n.workdays,
            "roles": n.roles,
            "rule": n.rule,
            "planned_on": today,
            "planned_at": now,
            "status": "pending",
            "attempts": 0,
        }
        for n in notices
    ]
    dialect = session.get_bind().dialect.name
    module = postgresql if dialect == "postgresql" else sqlite
    # the rows each chunk inserted (a conflict inserts nothing): exact even when two runs
    # plan the same notices at once, and no query after (SQLAlchemy keeps an INSERT's
    # rowcount only when asked)
    statement = (
        module.insert(Notice.__table__)
        .on_conflict_do_nothing(index_elements=["plan_id", "dedupe_key"])
        .execution_options(preserve_rowcount=True)
    )
    inserted = 0
    for start in range(0, len(rows), 1000):
        # without RETURNING: 5× faster on PostgreSQL (70,000 notices: 10 s → 2 s)
        inserted += session.connection().execute(statement, rows[start : start + 1000]).rowcount
    if analyze and inserted >= ANALYZE_AFTER and dialect == "postgresql":
        # a burst (a first day, a milestone's items all reaching a level): fresh statistics,
        # or the next "not yet in the outbox" check is planned for the outbox as it was before
        session.execute(text("ANALYZE notice"))
    return inserted


def missing_report_notices(
    session: Session,
    plan: Plan,
    as_of: date,
    ladder: Ladder,
    yellow_workdays: int,
    units: Collection[int] | None = None,
    *,
    only_new: bool = False,
) -> list[PlannedNotice]:
    """A reminder to each unit that owed this cycle's report and has sent none, once the
    cycle's due day is ``missing_report.after`` working days behind."""
    rule = ladder.missing_report
    if rule is None:
        return []
    cycle = cycle_of(as_of, plan.reporting_cycle, plan.reporting_due)
    ensure_calendar(session, as_of, cycle.due, cycle.start - timedelta(days=40))
    today = workday_ordinal(session, as_of)
    if as_of < cycle.due or today - workday_ordinal(session, cycle.due) < rule.after:
        cycle = cycle_of(cycle.start - timedelta(days=1), plan.reporting_cycle, plan.reporting_due)
    late = today - workday_ordinal(session, cycle.due)
    if late < rule.after:
        return []
    missing = missing_select(session, plan.id, cycle, as_of, yellow_workdays, units)
    query = select(missing.c.unit_id).order_by(missing.c.unit_id)
    if only_new:
        query = query.where(
            ~exists().where(
                Notice.plan_id == plan.id,
                Notice.kind == "missing_report",
                # this cycle's notices alone (its due day: were the plan's reporting due day
                # changed mid-cycle, the notices held would be planned again and skipped)
                *_due_bounds(session, cycle.due, cycle.due),
                Notice.dedupe_key
                == literal("missing:")
                + cast(missing.c.unit_id, String)
                + literal(f":{cycle.start}"),
            )
        )
    return [
        PlannedNotice(
            dedupe_key=f"missing:{unit_id}:{cycle.start}",
            kind="missing_report",
            item_id=None,
            unit_id=unit_id,
            level="missing-report",
            level_name="未报进展提醒",
            due=cycle.due,
            cycle=0,
            workdays=late,
            roles=list(rule.to),
            rule=f"应报{zh_date(cycle.start)}至{zh_date(cycle.end)}的进展"
            f"（{zh_date(cycle.due)}截止），未报送",
        )
        for unit_id in session.scalars(query)
    ]


def behind_pace_notices(
    session: Session,
    plan: Plan,
    as_of: date,
    ladder: Ladder,
    yellow_workdays: int,
    units: Collection[int] | None = None,
    *,
    only_new: bool = False,
) -> list[PlannedNotice]:
    """A notice, once per due date, for each item behind its straight-line pace (序时进度)."""
    rule = ladder.behind_pace
    if rule is None:
        return []
    ensure_calendar(session, as_of)
    margin = get_settings().pace_margin
    items = plan_status_select(
        session, plan.id, as_of, yellow_workdays, margin, units=units
    ).subquery()
    # behind pace implies open, not waiting, started, and more than the yellow days before the
    # due date: plain column tests that leave the status to be worked out for a few items
    last_yellow = session.scalar(
        select(func.max(CalendarDay.day)).where(
            CalendarDay.ordinal <= workday_ordinal(session, as_of) + yellow_workdays
        )
    )
    after_yellow = (last_yellow or as_of) + timedelta(days=1)
    necessary = [
        items.c.state.not_in(done_values()),
        ~items.c.waiting,
        items.c.start <= as_of,
        items.c.due >= after_yellow,
    ]
    return [
        PlannedNotice(
            dedupe_key=f"pace:{r.id}:{r.due}",
            kind="behind_pace",
            item_id=r.id,
            unit_id=r.unit_id,
            level="behind-pace",
            level_name="序时进度滞后",
            due=r.due,
            cycle=0,
            workdays=-r.workdays_left,
            roles=list(rule.to),
            rule=f"报送进度{r.percent}%，落后序时进度（办理期起止之间均匀推进）超过{margin}个百分点",
        )
        for r in session.execute(
            select(items.c.id, items.c.unit_id, items.c.due, items.c.workdays_left, items.c.percent)
            .where(
                *necessary,
                items.c.status == Status.BEHIND_PACE.value,
                *(
                    [
                        ~_in_outbox(
                            plan,
                            "behind_pace",
                            items.c.id,
                            items.c.due,
                            bounds=_due_bounds(session, after_yellow, None),
                        )
                    ]
                    if only_new
                    else []
                ),
            )
            .order_by(items.c.id)
        )
    ]


def all_due_notices(
    session: Session,
    plan: Plan,
    as_of: date,
    ladder: Ladder,
    yellow_workdays: int,
    units: Collection[int] | None = None,
    *,
    only_new: bool = False,
) -> list[PlannedNotice]:
    """Ladder, missing-report and behind-pace notices due on ``as_of`` (for the items and units
    of ``units`` only, if given: one partition of the plan, see :mod:`domain.queries.partitions`;
    ``only_new``: leaving out the item notices already in the outbox, which the database finds
    far faster than the outbox's insert skips them: the daily cycle's way)."""
    return [
        *due_notices(session, plan, as_of, ladder, yellow_workdays, units, only_new=only_new),
        *missing_report_notices(
            session, plan, as_of, ladder, yellow_workdays, units, only_new=only_new
        ),
        *behind_pace_notices(
            session, plan, as_of, ladder, yellow_workdays, units, only_new=only_new
        ),
    ]


def explain_quiet(
    session: Session, plan: Plan, item_id: int, as_of: date, ladder: Ladder, yellow_workdays: int
) -> str:
    """Why an item has had no reminder (yet) on ``as_of``, in one sentence."""
    items = plan_status_select(
        session, plan.id, as_of, yellow_workdays, get_settings().pace_margin
    ).subquery()
    row = session.execute(
        select(
            items.c.status,
            items.c.workdays_left,
            items.c.start,
            items.c.due,
            items.c.task,
            items.c.milestone,
        ).where(items.c.id == item_id)
    ).one_or_none()
    if row is None:
        return f"{zh_date(as_of)}规划 {plan.id} 中没有在办的事项 {item_id}（已撤销或尚未生成）"
    if row.status == Status.WAITING.value:
        return "它在等待尚未销号的前置事项：等待中的事项不催办"
    if row.status == Status.NOT_STARTED.value:
        return f"它的办理期{zh_date(row.start)}开始，此后才有提醒"
    if row.status in {Status.DONE_ON_TIME.value, Status.DONE_LATE.value}:
        return "它已办结（已申请办结或已销号）"
    overdue = -row.workdays_left
    key = next(
        (
            k
            for k, o in special_ladders(ladder)
            if row.milestone in o.milestones or row.task in o.tasks
        ),
        "default",
    )
    upcoming = [lv for lv in ladders(ladder)[key] if lv.offset > overdue]
    if not upcoming:
        return "现在就该提醒：请运行 `duban escalate`"
    nxt = upcoming[0]
    return (
        f"距{zh_date(row.due)}到期{overdue:+d}个工作日；"
        f"下一级提醒“{nxt.name}”在{nxt.offset:+d}个工作日时发出"
    )


def run_escalation(
    engine: Engine,
    plan_id: str,
    as_of: date,
    ladder: Ladder,
    *,
    yellow_workdays: int,
    dry_run: bool = False,
    channel: Channel | None = None,
) -> tuple[list[PlannedNotice], int, DeliveryReport]:
    """Plan the day's notices into the outbox (committed), then deliver. A dry run plans and
    previews the digests in one transaction and rolls it back: nothing written, nothing sent."""
    with session_scope(engine, rollback=dry_run) as session:
        plan = session.get(Plan, plan_id)
        assert plan is not None
        due = all_due_notices(session, plan, as_of, ladder, yellow_workdays)
        new = write_outbox(session, plan, due, analyze=not dry_run)
        if dry_run:
            return due, new, preview(session, plan, cap=ladder.daily_cap)
    return due, new, deliver(engine, plan_id, cap=ladder.daily_cap, channel=channel)
