"""The daily cycle's notices, planned set-based in SQL, and its table of the longest overdue
items agree day by day with the lights of the items they are about, worked out item by item
(one county of the synthetic province, its reports seeded, on each working day of three weeks
around a reporting cycle's due day)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from config.ladder import Ladder, Level, load_ladder
from config.settings import Settings, get_settings
from domain.queries.calendar import deadline_rule
from domain.queries.escalation import due_notices
from domain.queries.reminders import behind_pace_notices, missing_report_notices
from domain.queries.status import status_view
from domain.queries.sync import sync_catalog
from domain.rules.glossary import ladder_name
from domain.rules.ladder import special_ladders
from domain.rules.reporting import cycle_of
from domain.rules.status_views import ItemStatus
from models.clock import end_of_working_day, frozen_time
from models.db import session_scope
from models.enums import ACTIVE_STATUSES, Status
from models.orm import CalendarDay, Plan, Report, Unit, WorkItem
from tasks_catalog.loader import load_catalog
from tests.fixtures.context import context_of

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from synthetic import PLAN_ID, seed_reports, write_catalogue

TZ = "Asia/Shanghai"
DAYS = [date(2021, 12, 13) + timedelta(days=i) for i in range(21)]


@pytest.fixture
def county(settings: Settings, engine: Engine, tmp_path: Path) -> Iterator[Engine]:
    catalog, _ = load_catalog(write_catalogue(tmp_path / "plan", 1, seed=3))
    with frozen_time(datetime(2021, 1, 4, tzinfo=UTC)), session_scope(engine) as session:
        sync_catalog(session, catalog)
    seed_reports(engine, PLAN_ID, date(2021, 12, 10), share=40, seed=2)
    yield engine


def urgent_first_task(ladder: Ladder) -> Ladder:
    """The shipped ladder with key task T01 on the urgent ladder: two ladders in play."""
    assert ladder.urgent is not None
    return ladder.model_copy(update={"urgent": ladder.urgent.model_copy(update={"tasks": ["T01"]})})


def expected_rung(ladder: Ladder, task: str, milestone: str, overdue: int) -> tuple[str, int]:
    """(level, repeat cycle) the ladder rule gives, worked out here in Python: the highest
    level of the item's ladder whose offset the working days overdue have reached."""
    levels: list[Level] = ladder.levels
    for _, special in special_ladders(ladder):
        if task in special.tasks or milestone in special.milestones:
            levels = special.levels
            break
    reached = [lv for lv in levels if lv.offset <= overdue]
    if not reached:
        return ("", 0)
    lv = reached[-1]
    return (lv.id, (overdue - lv.offset) // lv.repeat_every if lv.repeat_every else 0)


def silent_units(session: Session, day: date) -> list[str]:
    """Codes of the units that owed the last report due by ``day`` (an item on track,
    due soon, behind pace or overdue at the week's end) and sent nothing for it by ``day``."""
    plan = session.get(Plan, PLAN_ID)
    assert plan is not None
    kind, due = plan.reporting_cycle, plan.reporting_due
    postpone = deadline_rule(session, day - timedelta(days=31), day + timedelta(days=31))
    cycle = cycle_of(day, kind, due, postpone)
    if day < cycle.due:
        cycle = cycle_of(cycle.start - timedelta(days=1), kind, due, postpone)
    end = status_view(session, context_of(session, cycle.end, plan=PLAN_ID), with_items=True)
    owed = {i.unit for i in end.items if i.status in ACTIVE_STATUSES}
    senders = set(
        session.scalars(
            select(Unit.code)
            .join(Report, Report.unit_id == Unit.id)
            .where(Report.period.between(cycle.start, cycle.end), Report.received_on <= day)
        )
    )
    return sorted(owed - senders)


def overdue_table(
    session: Session, day: date, limit: int | None, task: str | None = None
) -> list[ItemStatus]:
    """The coordinator's table of the first ``limit`` overdue items (of ``task``, if given)."""
    ctx = context_of(session, day, pace_margin=get_settings().pace_margin, plan=PLAN_ID)
    return status_view(
        session,
        ctx,
        task=task,
        only_statuses=frozenset({Status.OVERDUE}),
        item_limit=limit,
    ).items


def table_ends(overdue: list[ItemStatus], limit: int | None) -> str:
    """Where a table of the first ``limit`` overdue items ends among the groups of one due
    date and milestone: between two (or after all), or inside one, large (at least four
    times the rows the table takes from it) or small. The table is read differently in each
    case, so each must be seen."""
    if limit is None or limit >= len(overdue):
        return "between groups"

    def group(i: ItemStatus) -> tuple[date, str]:
        return (i.due, i.milestone)

    last = group(overdue[limit - 1])
    if group(overdue[limit]) != last:
        return "between groups"
    size = sum(group(i) == last for i in overdue)
    taken = sum(group(i) == last for i in overdue[:limit])
    return "inside a large group" if size >= 4 * taken else "inside a small group"


def a_late_report(engine: Engine) -> None:
    """One unit that owed the week of 13 December reports for it on Tuesday the 21st, four
    days after its due day: silent on Monday, not on Tuesday."""
    with session_scope(engine) as session:
        silent = silent_units(session, date(2021, 12, 20))
        item = session.scalars(
            select(WorkItem).join(Unit, Unit.id == WorkItem.unit_id).where(Unit.code == silent[0])
        ).first()
        assert item is not None
        session.add(
            Report(
                plan_id=PLAN_ID,
                item_id=item.id,
                unit_id=item.unit_id,
                period=date(2021, 12, 15),
                received_at=datetime(2021, 12, 21, 2, tzinfo=UTC),
                received_on=date(2021, 12, 21),
                state="in_progress",
                percent=50,
                actor="late",
            )
        )


def test_notices_are_what_each_items_light_calls_for(county: Engine) -> None:
    ladder = urgent_first_task(load_ladder())
    margin = get_settings().pace_margin
    a_late_report(county)
    seen = dict.fromkeys(
        [
            *("ladder", "urgent", "pace", "missing", "overdue", "waiting past due"),
            *("between groups", "inside a large group", "inside a small group"),
        ],
        0,
    )
    for day in DAYS:
        with frozen_time(end_of_working_day(day, TZ)), session_scope(county) as session:
            calendar_day = session.get(CalendarDay, day)
            if calendar_day is None or not calendar_day.is_workday:
                continue
            ctx = context_of(session, day, pace_margin=margin, plan=PLAN_ID)
            view = status_view(session, ctx, with_items=True)
            # the coordinator's overdue table, read with plain column tests: the first of the
            # items the rule calls overdue, in the view's order (one milestone's tie broken by
            # unit code)
            overdue = [i for i in view.items if i.status == Status.OVERDUE]
            for limit in (1, 7, 40, 150, None):
                table = overdue_table(session, day, limit)
                assert table == overdue[:limit], day
                seen[table_ends(overdue, limit)] += 1
            seen["overdue"] += len(table)
            # and one key task's table (its milestones only)
            task = overdue[-1].task if overdue else "T01"
            of_task = [i for i in overdue if i.task == task]
            for limit in (3, None):
                assert overdue_table(session, day, limit, task) == of_task[:limit], (day, task)
            seen["waiting past due"] += sum(
                i.status == Status.WAITING and i.due < day for i in view.items
            )
            ladder_wanted = {
                (i.id, *expected_rung(ladder, i.task, i.milestone, -i.workdays_left))
                for i in view.items
                if i.status in ACTIVE_STATUSES
            }
            ladder_wanted = {w for w in ladder_wanted if w[1]}
            planned = due_notices(session, ctx, ladder)
            assert {(n.item_id, n.level, n.cycle) for n in planned} == ladder_wanted, day

            behind = {i.id for i in view.items if i.status == Status.BEHIND_PACE}
            paced = behind_pace_notices(session, ctx, ladder)
            assert {n.item_id for n in paced} == behind, day

            missing = missing_report_notices(session, ctx, ladder)
            units = dict(session.execute(select(Unit.id, Unit.code)).all())
            assert sorted(units[n.unit_id] for n in missing) == silent_units(session, day), day
            seen["urgent"] += sum(n.rule.startswith(ladder_name("urgent")) for n in planned)
            seen["ladder"] += len(planned)
            seen["pace"] += len(paced)
            seen["missing"] += len(missing)
    assert all(seen.values()), seen  # every kind of notice was put to the test
