"""The status picture: counts per light and task, filters, and time travel through history."""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import Engine, insert, select, text, update
from sqlalchemy.orm import Session

from domain.queries.counts import status_counts
from domain.queries.item_status import item_status_select
from domain.queries.items import extend_item, move_item, verify_item
from domain.queries.prerequisites import count_open_prerequisites
from domain.queries.scope import subtree
from domain.queries.status import status_view
from domain.queries.sync import sync_catalog
from domain.rules.context import Context
from models.clock import end_of_working_day, frozen_time
from models.db import session_scope
from models.enums import ItemState, Light, Status
from models.orm import ItemDependency, Milestone, Unit, WorkItem
from models.tally import tally_drift
from tasks_catalog.loader import load_catalog
from tests.fixtures.catalog import CatalogWriter
from tests.fixtures.context import context_of
from tests.fixtures.plan_week import TZ, item_id_of, report


def synced(session: Session, write_catalog: CatalogWriter) -> None:
    with frozen_time(datetime(2021, 1, 4, 1, tzinfo=UTC)):
        sync_catalog(session, load_catalog(write_catalog())[0])


def item_of(session: Session, milestone: str) -> int:
    return (
        session.scalars(
            select(WorkItem.id)
            .join(Milestone)
            .where(Milestone.code == milestone)
            .order_by(WorkItem.id)
        ).first()
        or 0
    )


def test_counts_per_light_add_up_per_task(session: Session, write_catalog: CatalogWriter) -> None:
    """On 2021-06-28, M1 (due 06-30) is yellow, M2/M3 wait on it, M4 (due 09-30) is green."""
    synced(session, write_catalog)
    view = status_view(session, context_of(session, date(2021, 6, 28)))
    assert view.summary[Light.YELLOW] == 1
    assert view.statuses[Status.WAITING] == 10
    assert view.summary[Light.GREEN] == 4
    assert sum(view.summary.values()) == 15
    t1, t2 = view.tasks
    assert (t1.task, t1.lead, t1.items, t1.lights[Light.GRAY]) == ("T01", "zzb", 11, 10)
    assert (t2.task, t2.items, t2.lights[Light.GREEN]) == ("T02", 4, 4)
    assert view.items == []  # unfiltered and not asked for


def test_history_after_the_date_is_ignored(session: Session, write_catalog: CatalogWriter) -> None:
    """M1 submitted on 07-05 is red on 07-02 and done late from 07-05 on."""
    synced(session, write_catalog)
    item = item_of(session, "M1")
    with frozen_time(datetime(2021, 7, 5, 2, tzinfo=UTC)):
        move_item(session, item, ItemState.SUBMITTED, actor="zzb", reason=None)
    before = status_view(session, context_of(session, date(2021, 7, 2)), task="1")
    after = status_view(session, context_of(session, date(2021, 7, 5)), task="T01")
    m1_before = next(i for i in before.items if i.id == item)
    m1_after = next(i for i in after.items if i.id == item)
    assert (m1_before.state, m1_before.light) == (ItemState.ASSIGNED, Light.RED)
    assert (m1_after.state, m1_after.light) == (ItemState.SUBMITTED, Light.DONE_LATE)


def test_closing_a_prerequisite_releases_waiting_items(
    session: Session, write_catalog: CatalogWriter
) -> None:
    """Once M1 is closed, the townships' M2 items are no longer waiting."""
    synced(session, write_catalog)
    item = item_of(session, "M1")
    with frozen_time(datetime(2021, 6, 20, 2, tzinfo=UTC)):
        move_item(session, item, ItemState.SUBMITTED, actor="zzb", reason=None)
        move_item(session, item, ItemState.CLOSED, actor="mzj", reason=None)
    view = status_view(session, context_of(session, date(2021, 6, 28)), task="1")
    m2 = [i for i in view.items if i.milestone == "M2"]
    assert [i.status for i in m2] == [Status.ON_TRACK, Status.ON_TRACK]
    m1 = next(i for i in view.items if i.milestone == "M1")
    assert m1.status == Status.DONE_ON_TIME


def test_unit_filter_includes_units_below(session: Session, write_catalog: CatalogWriter) -> None:
    """--unit t1 shows the township's own items and those of its villages."""
    synced(session, write_catalog)
    view = status_view(session, context_of(session, date(2021, 6, 28)), unit="t1")
    assert {i.unit for i in view.items} == {"t1", "v11", "v12"}
    assert len(view.items) == 1 + 4 + 2
    assert view.filters == {"unit": "t1"}


def test_a_year_without_holiday_data_warns(session: Session, write_catalog: CatalogWriter) -> None:
    """Asking about 2027 (beyond chinesecalendar) works on Monday–Friday and says so."""
    synced(session, write_catalog)
    view = status_view(session, context_of(session, date(2027, 3, 1)))
    assert len(view.warnings) == 1
    assert "没有2027年的节假日安排" in view.warnings[0]
    assert (view.summary[Light.RED], view.statuses[Status.WAITING]) == (5, 10)
    quiet = status_view(session, context_of(session, date(2025, 3, 3)))
    assert quiet.warnings == []


def test_a_past_date_looks_the_same_after_later_catalogue_edits(
    session: Session, write_catalog: CatalogWriter
) -> None:
    """Removing everything, restoring it and moving a deadline later leaves 2021-06-28 as it was."""
    synced(session, write_catalog)
    before = status_view(session, context_of(session, date(2021, 6, 28)), with_items=True)

    def emptied(c: dict[str, object]) -> None:
        c["tasks"] = []

    def later(c: dict[str, Any]) -> None:
        c["tasks"][0]["milestones"][0]["due"] = date(2021, 9, 30)

    with frozen_time(datetime(2021, 8, 2, 2, tzinfo=UTC)):
        sync_catalog(session, load_catalog(write_catalog(edit=emptied))[0])
        sync_catalog(session, load_catalog(write_catalog())[0])
        sync_catalog(session, load_catalog(write_catalog(edit=later))[0])
    after = status_view(session, context_of(session, date(2021, 6, 28)), with_items=True)
    assert after.model_dump() == before.model_dump(), [
        (a, b) for a, b in zip(after.items, before.items, strict=True) if a != b
    ][:3]
    moved = status_view(session, context_of(session, date(2021, 8, 2)), task="1")
    m1 = next(i for i in moved.items if i.milestone == "M1")
    assert (m1.due, m1.original_due, m1.light) == (
        date(2021, 9, 30),
        date(2021, 6, 30),
        Light.GREEN,
    )


def test_later_additions_do_not_change_the_past(
    session: Session, write_catalog: CatalogWriter
) -> None:
    """A dependency, a milestone and a removed task, all edited on 08-02: 06-28 stays as it was."""
    synced(session, write_catalog)
    before = status_view(session, context_of(session, date(2021, 6, 28)), with_items=True)

    def edited(c: dict[str, Any]) -> None:
        c["tasks"][0]["milestones"].append(
            {"id": "M9", "title": "新增节点", "due": date(2021, 5, 31)}
        )
        c["tasks"][0]["milestones"][1]["depends_on"] = ["M1", "M9"]
        del c["tasks"][1]

    with frozen_time(datetime(2021, 8, 2, 2, tzinfo=UTC)):
        sync_catalog(session, load_catalog(write_catalog(edit=edited))[0])
    after = status_view(session, context_of(session, date(2021, 6, 28)), with_items=True)
    assert after.model_dump() == before.model_dump()
    assert sum(t.items for t in after.tasks) == sum(after.summary.values()) == 15
    now = status_view(session, context_of(session, date(2021, 8, 2)), with_items=True)
    assert [t.task for t in now.tasks] == ["T01"]
    assert any(i.milestone == "M9" and i.light == Light.RED for i in now.items)


def _forced(session: Session, day: date, *, settled: bool) -> Context:
    """The demo plan's context on ``day``, made to read the current columns or to replay."""
    ctx = context_of(session, day, pace_margin=25, plan="demo-plan")
    return replace(ctx, latest=None if settled else date.max)


def _rows(session: Session, day: date, *, settled: bool) -> list[dict[str, Any]]:
    query = item_status_select(_forced(session, day, settled=settled)).subquery()
    return [dict(r._mapping) for r in session.execute(select(query).order_by(query.c.id))]


def _counts(session: Session, day: date, *, settled: bool) -> list[tuple[str, str, str, str, int]]:
    return sorted(status_counts(session, _forced(session, day, settled=settled)))


def _settled(session: Session, day: date) -> bool:
    return context_of(session, day).settled


def _rows_on(engine: Engine, day: date) -> list[dict[str, Any]]:
    with session_scope(engine) as session:
        assert _settled(session, day)
        return _rows(session, day, settled=True)


def test_todays_picture_from_the_current_columns_equals_the_replayed_history(
    week: Engine, write_catalog: CatalogWriter
) -> None:
    """After every kind of history (reports, done on time and late, a verification, an extension,
    a catalogue edit adding a dependency, moving a deadline and retiring a milestone), the status
    read from the work items' current columns is the replay of the logs, row for row, on any date
    on or after the last history; before that date only the replay is right."""

    def edited(c: dict[str, Any]) -> None:
        c["tasks"][0]["milestones"][0]["due"] = date(2021, 12, 31)
        del c["tasks"][0]["milestones"][2]["depends_on"]
        del c["tasks"][0]["milestones"][1]
        c["tasks"][1]["milestones"][0]["depends_on"] = ["M1"]

    with frozen_time(end_of_working_day(date(2021, 10, 18), TZ)), session_scope(week) as s:
        extend_item(s, item_id_of[("M4", "v21")], date(2021, 11, 30), actor="t", reason="延期")
        verify_item(s, item_id_of[("M4", "v11")], actor="t", note=None)
        sync_catalog(s, load_catalog(write_catalog(edit=edited))[0])
    settled_after_sync = _rows_on(week, date(2021, 10, 18))
    report(date(2021, 11, 1), "M1", "zzb", "--state", "done", "--evidence", "县委办〔2021〕1号")
    with frozen_time(end_of_working_day(date(2021, 11, 1), TZ)), session_scope(week) as s:
        verify_item(s, item_id_of[("M1", "zzb")], actor="t", note=None)  # M4 no longer waits
    with session_scope(week) as s:
        assert not _settled(s, date(2021, 10, 18))
        assert _settled(s, date(2021, 11, 1))
        assert _rows(s, date(2021, 10, 18), settled=False) == settled_after_sync
        seen = {r["status"] for r in settled_after_sync}
        for day in (date(2021, 11, 1), date(2021, 11, 30), date(2021, 12, 1), date(2022, 3, 1)):
            replay = _rows(s, day, settled=False)
            assert _rows(s, day, settled=True) == replay, day
            assert _counts(s, day, settled=True) == _counts(s, day, settled=False), day
            seen |= {r["status"] for r in replay}
    assert seen >= {
        Status.DONE_ON_TIME.value,
        Status.DONE_LATE.value,
        Status.WAITING.value,
        Status.OVERDUE.value,
        Status.NOT_STARTED.value,
        Status.BEHIND_PACE.value,
    }, seen


def test_a_subtree_replays_only_its_items_and_sees_the_same_rows(week: Engine) -> None:
    """Narrowed to 甲镇's units, the replay of a past date (the history reaches later) gives the
    very rows of the whole plan's replay for those units, prerequisites outside included."""
    day = date(2021, 10, 11)  # v22 (乙乡) reports done on 10-12
    with session_scope(week) as s:
        assert not _settled(s, day)
        units = subtree(s, "demo-plan", "t1")
        whole = [r for r in _rows(s, day, settled=False) if r["unit_id"] in units]
        ctx = context_of(s, day, pace_margin=25, plan="demo-plan")
        query = item_status_select(ctx, units=units).subquery()
        narrowed = [dict(r._mapping) for r in s.execute(select(query).order_by(query.c.id))]
    assert narrowed == whole
    assert {r["status"] for r in whole} >= {Status.WAITING.value, Status.DONE_ON_TIME.value}


def test_the_whole_plan_recount_of_open_prerequisites_matches_the_history(week: Engine) -> None:
    """The set-based recount (a first load, a large edit) gives every item the count the
    replay implies: wrong counts put in on purpose are all corrected, zeros included."""
    day = date(2021, 10, 15)
    with session_scope(week) as s:
        assert _settled(s, day)
        expected = _rows(s, day, settled=False)
        s.execute(update(WorkItem).values(open_prerequisites=7))
        assert _rows(s, day, settled=True) != expected
        count_open_prerequisites(s, "demo-plan")
        assert _rows(s, day, settled=True) == expected
        assert {r["status"] for r in expected} >= {Status.WAITING.value, Status.OVERDUE.value}


def test_two_prerequisites_closed_at_once_release_their_dependent(week: Engine) -> None:
    """Two coordinators verify an item's two prerequisites at the same time: whichever commits
    second counts after the first, so the dependent ends with no open prerequisite (on
    PostgreSQL each recount once read the other's close as still open and the item stayed
    waiting: found in review)."""
    p1, p2 = item_id_of[("M1", "zzb")], item_id_of[("M4", "v12")]
    with session_scope(week) as s:
        dependent = s.scalars(
            select(WorkItem.id)
            .join(Milestone)
            .join(Unit, Unit.id == WorkItem.unit_id)
            .where(Milestone.code == "M2", Unit.code == "t1")
        ).one()
        s.execute(insert(ItemDependency), [{"item_id": dependent, "depends_on_item_id": p2}])
        count_open_prerequisites(s, "demo-plan")
        assert s.get(WorkItem, dependent).open_prerequisites == 2  # type: ignore[union-attr]
    for milestone, unit in (("M1", "zzb"), ("M4", "v12")):
        report(date(2021, 10, 18), milestone, unit, "--state", "done", "--evidence", "文件")
    with frozen_time(end_of_working_day(date(2021, 10, 18), TZ)):
        first, second = Session(week), Session(week)
        try:
            verify_item(first, p1, actor="甲", note=None)  # holds the dependent's row
            done = threading.Event()

            def verify_second() -> None:
                verify_item(second, p2, actor="乙", note=None)
                second.commit()
                done.set()

            other = threading.Thread(target=verify_second)
            other.start()
            time.sleep(1.0)  # the second is waiting for the dependent's row (PostgreSQL)
            first.commit()
            other.join(timeout=30)
            assert done.is_set()
        finally:
            first.close()
            second.close()
    with session_scope(week) as s:
        assert s.get(WorkItem, dependent).open_prerequisites == 0  # type: ignore[union-attr]
        day = date(2021, 10, 18)
        assert _rows(s, day, settled=True) == _rows(s, day, settled=False)


def test_the_overdue_table_sorts_unit_codes_as_the_database_does(
    engine: Engine, write_catalog: CatalogWriter
) -> None:
    """The table of the longest overdue, read group by group (a group it takes whole is
    sorted in Python), orders unit codes as the database does, not by code point: on
    PostgreSQL with an ICU collation, codes differing in case sort a1, A2, B1, b2; every
    limit gives the first rows of the table the database sorts whole."""
    if engine.dialect.name != "postgresql":
        pytest.skip("a collation other than code point order")
    villages = {"v11": "B1", "v12": "a1", "v21": "A2", "v22": "b2"}

    def rename(c: dict[str, Any]) -> None:
        for unit in c["units"]:
            unit["id"] = villages.get(unit["id"], unit["id"])

    with frozen_time(datetime(2021, 1, 4, 2, tzinfo=UTC)), session_scope(engine) as session:
        sync_catalog(session, load_catalog(write_catalog(edit=rename))[0])
    with engine.begin() as connection:
        connection.execute(
            text('ALTER TABLE unit ALTER COLUMN code TYPE varchar(64) COLLATE "und-x-icu"')
        )
    with session_scope(engine) as session:

        def table(limit: int | None) -> list[str]:
            view = status_view(
                session,
                context_of(session, date(2021, 10, 15), plan="demo-plan"),
                only_statuses=frozenset({Status.OVERDUE}),
                item_limit=limit,
            )
            return [f"{i.milestone}/{i.unit}" for i in view.items]

        whole = table(None)
        assert [k for k in whole if k.startswith("M4/")] == ["M4/a1", "M4/A2", "M4/B1", "M4/b2"]
        for limit in range(1, len(whole) + 1):
            assert table(limit) == whole[:limit], limit


def test_the_overdue_table_is_right_when_the_tally_is_not(
    engine: Engine, write_catalog: CatalogWriter
) -> None:
    """The table reads the tally to know which groups of items it reaches; when the tally
    disagrees with the items (a write that bypassed its triggers, before `duban recount`), it
    reads the table the plain way instead of showing a short or wrongly cut one."""
    with frozen_time(datetime(2021, 1, 4, 2, tzinfo=UTC)), session_scope(engine) as session:
        sync_catalog(session, load_catalog(write_catalog())[0])
    day = date(2021, 10, 15)

    def table(limit: int | None) -> list[str]:
        with session_scope(engine) as session:
            view = status_view(
                session,
                context_of(session, day, plan="demo-plan"),
                only_statuses=frozenset({Status.OVERDUE}),
                item_limit=limit,
            )
            return [f"{i.milestone}/{i.unit}" for i in view.items]

    before = table(None)
    assert before[:2] == ["M1/zzb", "M4/v11"]
    with engine.begin() as connection:  # the first overdue item done behind the tally's back
        if engine.dialect.name == "postgresql":
            connection.execute(text("ALTER TABLE work_item DISABLE TRIGGER work_item_tally_update"))
        else:
            connection.execute(text("DROP TRIGGER work_item_tally_update"))
        connection.execute(
            text(
                "UPDATE work_item SET state = 'submitted', submitted_on = due WHERE id ="
                " (SELECT w.id FROM work_item w JOIN unit u ON u.id = w.unit_id"
                "  JOIN milestone m ON m.id = w.milestone_id"
                "  WHERE m.code = 'M1' AND u.code = 'zzb')"
            )
        )
    with session_scope(engine) as session:
        assert tally_drift(session, "demo-plan")  # the tally is wrong now
    after = before[1:]
    for limit in range(1, len(before) + 1):
        assert table(limit) == after[:limit], limit
