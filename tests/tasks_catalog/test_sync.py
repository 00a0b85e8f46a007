"""Syncing a catalogue: idempotent, deadline changes kept on record, history never deleted."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

import models.db
from config.errors import InputError
from domain.queries.items import move_item
from domain.queries.sync import sync_catalog
from models.enums import ItemState
from models.orm import DeadlineChange, ItemDependency, ItemTransition, Milestone, Plan, WorkItem
from models.tally import tally_drift
from tasks_catalog.loader import load_catalog
from tests.fixtures.catalog import CatalogWriter


@pytest.fixture(autouse=True, params=["insert", "copy"])
def bulk_path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test twice: with the sync's writes as inserts, and (on PostgreSQL) as COPY with
    the foreign keys checked once at the end even for these few rows, the way a large load
    writes them (on SQLite both are inserts)."""
    if request.param == "copy":
        monkeypatch.setattr(models.db, "COPY_FROM", 1)
        monkeypatch.setattr(models.db, "BULK_LOAD", 1)


def sync(session: Session, write_catalog: CatalogWriter, edit: Any = None) -> Any:
    catalog, _ = load_catalog(write_catalog(edit=edit))
    report = sync_catalog(session, catalog)
    session.flush()
    assert tally_drift(session, report.plan_id) == []  # kept by the triggers, COPY included
    return report


def items_by_key(session: Session) -> dict[tuple[str, int], WorkItem]:
    rows = session.execute(
        select(WorkItem, Milestone.code).join(Milestone, Milestone.id == WorkItem.milestone_id)
    ).all()
    return {(code, item.id): item for item, code in rows}


def m1_item(session: Session) -> WorkItem:
    return session.execute(
        select(WorkItem)
        .join(Milestone, Milestone.id == WorkItem.milestone_id)
        .where(Milestone.code == "M1")
    ).scalar_one()


def test_first_sync_creates_every_item_with_an_audit_entry(
    session: Session, write_catalog: CatalogWriter, frozen_now: object
) -> None:
    """15 items, each assigned with a logged transition dated in the plan's timezone."""
    report = sync(session, write_catalog)
    assert report.added["work items"] == 15
    assert report.added["item dependencies"] == 10
    assert session.scalar(select(func.count()).select_from(WorkItem)) == 15
    transitions = session.scalars(select(ItemTransition)).all()
    assert len(transitions) == 15
    assert {(t.from_state, t.to_state, t.on_date, t.actor) for t in transitions} == {
        (None, "assigned", date(2021, 12, 27), "catalog-sync")
    }


def test_resync_of_unchanged_catalogue_changes_nothing(
    session: Session, write_catalog: CatalogWriter
) -> None:
    """The second sync of the same catalogue reports nothing and writes nothing."""
    sync(session, write_catalog)
    before = session.scalar(select(func.count()).select_from(ItemTransition))
    report = sync(session, write_catalog)
    assert report.unchanged, report
    assert session.scalar(select(func.count()).select_from(ItemTransition)) == before


def test_changed_deadline_moves_open_items_and_keeps_the_original(
    session: Session, write_catalog: CatalogWriter
) -> None:
    """M1 due 06-30 → 07-30: the item's due moves, original_due stays, the change is logged."""
    sync(session, write_catalog)

    def later(c: dict[str, Any]) -> None:
        c["tasks"][0]["milestones"][0]["due"] = date(2021, 7, 30)

    report = sync(session, write_catalog, later)
    assert report.changed["work item deadlines"] == 1
    assert report.changed["milestones"] == 1
    item = m1_item(session)
    assert (item.due, item.original_due) == (date(2021, 7, 30), date(2021, 6, 30))
    change = session.scalars(select(DeadlineChange)).one()
    assert (change.old_due, change.new_due, change.kind) == (
        date(2021, 6, 30),
        date(2021, 7, 30),
        "catalog",
    )


def test_done_items_keep_their_deadline(session: Session, write_catalog: CatalogWriter) -> None:
    """A closed item is history: a later catalogue edit does not move its due date."""
    sync(session, write_catalog)
    item = m1_item(session)
    move_item(session, item.id, ItemState.SUBMITTED, actor="zzb", reason=None)
    move_item(session, item.id, ItemState.CLOSED, actor="mzj", reason=None)

    def later(c: dict[str, Any]) -> None:
        c["tasks"][0]["milestones"][0]["due"] = date(2021, 7, 30)

    report = sync(session, write_catalog, later)
    assert "work item deadlines" not in report.changed
    session.refresh(item)
    assert item.due == date(2021, 6, 30)


def test_removed_milestone_retires_open_items_and_restoring_brings_them_back(
    session: Session, write_catalog: CatalogWriter
) -> None:
    """Dropping M4 retires its 4 items (history kept); putting it back restores them."""
    sync(session, write_catalog)

    def drop(c: dict[str, Any]) -> None:
        c["tasks"][1]["milestones"] = [{"id": "M5", "title": "另一节点", "due": date(2021, 10, 31)}]

    report = sync(session, write_catalog, drop)
    assert report.retired["work items"] == 4
    assert report.retired["milestones"] == 1
    assert report.added["work items"] == 1
    states = session.execute(select(WorkItem.state, func.count()).group_by(WorkItem.state)).all()
    assert dict(states) == {"assigned": 12, "retired": 4}
    retired_log = session.scalars(
        select(ItemTransition).where(ItemTransition.to_state == "retired")
    ).all()
    assert len(retired_log) == 4
    assert all(t.reason and "目录中已无" in t.reason for t in retired_log)

    report = sync(session, write_catalog)
    assert report.restored["work items"] == 4
    assert report.restored["milestones"] == 1
    assert report.retired["work items"] == 1  # M5's item


def test_removing_a_dependency_removes_the_item_edges(
    session: Session, write_catalog: CatalogWriter
) -> None:
    """Item dependencies follow depends_on; dropped ones are kept, dated, for past views."""
    sync(session, write_catalog)

    def independent(c: dict[str, Any]) -> None:
        c["tasks"][0]["milestones"][2]["depends_on"] = []

    report = sync(session, write_catalog, independent)
    assert report.retired["item dependencies"] == 8
    live = (
        select(func.count()).select_from(ItemDependency).where(ItemDependency.retired_on.is_(None))
    )
    assert session.scalar(live) == 2
    assert session.scalar(select(func.count()).select_from(ItemDependency)) == 10
    report = sync(session, write_catalog)
    assert report.added["item dependencies"] == 8  # a new interval; the old one stays dated
    assert session.scalar(live) == 10
    assert session.scalar(select(func.count()).select_from(ItemDependency)) == 18


def test_fewer_occurrences_retire_the_surplus(
    session: Session, write_catalog: CatalogWriter
) -> None:
    """Shortening a recurrence to half a year retires the last two quarters of each township."""
    sync(session, write_catalog)

    def shorter(c: dict[str, Any]) -> None:
        c["tasks"][0]["milestones"][2]["recurrence"]["end"] = date(2022, 6, 30)

    report = sync(session, write_catalog, shorter)
    assert report.retired["work items"] == 4
    retired = session.scalars(select(WorkItem.due).where(WorkItem.state == "retired")).all()
    # Saturday 31 December 2022 postponed (顺延) past New Year to Tuesday 3 January 2023
    assert sorted(retired) == [date(2022, 9, 30)] * 2 + [date(2023, 1, 3)] * 2


def test_occurrences_match_by_date_when_a_rule_gains_an_earlier_date(
    session: Session, write_catalog: CatalogWriter
) -> None:
    """Starting the quarterly rule a quarter earlier adds one item per township; the closed
    first-quarter item keeps its date and nothing is shifted."""
    sync(session, write_catalog)
    q1 = session.scalars(
        select(WorkItem)
        .join(Milestone)
        .where(Milestone.code == "M3", WorkItem.due == date(2022, 3, 31))
    ).first()
    assert q1 is not None
    move_item(session, q1.id, ItemState.SUBMITTED, actor="t", reason=None)
    move_item(session, q1.id, ItemState.CLOSED, actor="mzj", reason=None)

    def earlier(c: dict[str, Any]) -> None:
        c["tasks"][0]["milestones"][2]["recurrence"]["start"] = date(2021, 10, 1)

    report = sync(session, write_catalog, earlier)
    assert report.added["work items"] == 2
    assert "work item deadlines" not in report.changed
    dues = session.scalars(
        select(WorkItem.due)
        .join(Milestone)
        .where(Milestone.code == "M3", WorkItem.unit_id == q1.unit_id)
        .order_by(WorkItem.due)
    ).all()
    assert dues == [
        date(2021, 12, 31),
        date(2022, 3, 31),
        date(2022, 6, 30),
        date(2022, 9, 30),
        date(2023, 1, 3),  # Saturday 31 December postponed (顺延)
    ]


def test_a_shifted_day_of_month_moves_deadlines_in_order(
    session: Session, write_catalog: CatalogWriter
) -> None:
    """Quarter ends → the 20th of the last month: the same four items, each deadline moved."""
    sync(session, write_catalog)

    def twentieth(c: dict[str, Any]) -> None:
        c["tasks"][0]["milestones"][2]["recurrence"]["rrule"] = (
            "FREQ=YEARLY;BYMONTH=3,6,9,12;BYMONTHDAY=20"
        )

    report = sync(session, write_catalog, twentieth)
    assert report.changed["work item deadlines"] == 8
    assert "work items" not in report.added
    assert "work items" not in report.retired


def test_manual_retire_is_refused(session: Session, write_catalog: CatalogWriter) -> None:
    """Only the sync retires items (it would otherwise restore them on the next run)."""
    from domain.rules.lifecycle import TransitionError  # noqa: PLC0415

    sync(session, write_catalog)
    with pytest.raises(TransitionError, match="由 `duban catalog sync`"):
        move_item(session, m1_item(session).id, ItemState.RETIRED, actor="x", reason="why")


def test_restore_returns_an_item_to_the_state_it_was_retired_from(
    session: Session, write_catalog: CatalogWriter
) -> None:
    """An item in progress when its milestone left comes back in progress, not assigned."""
    sync(session, write_catalog)
    item = m1_item(session)
    move_item(session, item.id, ItemState.IN_PROGRESS, actor="zzb", reason=None)

    def drop(c: dict[str, Any]) -> None:
        del c["tasks"][0]["milestones"][0]
        for m in c["tasks"][0]["milestones"]:
            m["depends_on"] = [d for d in m.get("depends_on", []) if d != "M1"]

    sync(session, write_catalog, drop)
    session.refresh(item)
    assert item.state == "retired"
    sync(session, write_catalog)
    session.refresh(item)
    assert item.state == "in_progress"


def test_a_stale_move_is_refused(session: Session, write_catalog: CatalogWriter) -> None:
    """A move computed from a state that changed meanwhile fails instead of overwriting it."""
    from domain.queries.items import Move, record_moves  # noqa: PLC0415
    from domain.rules.lifecycle import TransitionError  # noqa: PLC0415

    sync(session, write_catalog)
    item = m1_item(session)
    move_item(session, item.id, ItemState.BLOCKED, actor="a", reason="等待资金")
    with pytest.raises(TransitionError, match="刚被改动"):
        record_moves(
            session,
            [Move(item.id, ItemState.ASSIGNED, ItemState.SUBMITTED)],
            actor="b",
            reason=None,
            on_date=date(2021, 6, 1),
        )


def test_the_briefings_recipients_are_kept_on_the_plan_and_a_change_is_reported(
    session: Session, write_catalog: CatalogWriter
) -> None:
    """``plan.briefing_distribution`` (the 版记's 报、送、发) lands on the plan row; editing it
    is a change of the plan; leaving it out stores nothing."""

    def recipients(**lines: list[str]) -> Any:
        def edit(c: dict[str, Any]) -> None:
            c["plan"]["briefing_distribution"] = lines

        return edit

    sync(session, write_catalog, recipients(report_to=["县委", "县政府"], issue_to=["各乡镇"]))
    plan = session.get(Plan, "demo-plan")
    assert plan is not None
    assert plan.briefing_distribution == {
        "report_to": ["县委", "县政府"],
        "copy_to": [],
        "issue_to": ["各乡镇"],
    }
    report = sync(session, write_catalog, recipients(report_to=["县委"]))
    assert report.changed["plan"] == 1
    assert any("简报报送范围" in line for line in report.details)
    sync(session, write_catalog)
    assert plan.briefing_distribution is None


def test_unknown_recipient_lines_are_rejected(write_catalog: CatalogWriter) -> None:
    """Only 报 (report_to), 送 (copy_to) and 发 (issue_to): a typo is an error, not ignored."""

    def typo(c: dict[str, Any]) -> None:
        c["plan"]["briefing_distribution"] = {"send_to": ["各乡镇"]}

    with pytest.raises(InputError, match="send_to"):
        load_catalog(write_catalog(edit=typo))


def foreign_keys(session: Session) -> set[tuple[str, str, str]]:
    """(table, name, definition) of every foreign key of the item tables (PostgreSQL)."""
    rows = session.execute(
        text(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid)"
            " FROM pg_constraint WHERE contype = 'f'"
            " AND conrelid::regclass::text IN ('work_item', 'item_transition', 'item_dependency')"
        )
    )
    return {(table, name, definition) for table, name, definition in rows}


def test_a_first_load_keeps_every_foreign_key_and_counts_prerequisites(
    session: Session, write_catalog: CatalogWriter
) -> None:
    """The items of a first load wait for as many open prerequisites as they have, counted as
    they are written; on PostgreSQL the item tables keep the same foreign keys afterwards, and
    they still refuse an item of a unit that does not exist."""
    postgresql = session.get_bind().dialect.name == "postgresql"
    before = foreign_keys(session) if postgresql else set()
    sync(session, write_catalog)
    waiting = dict(
        session.execute(
            select(ItemDependency.item_id, func.count()).group_by(ItemDependency.item_id)
        ).all()
    )
    assert waiting  # the catalogue has dependencies
    assert {i.id: i.open_prerequisites for i in session.scalars(select(WorkItem))} == {
        i.id: waiting.get(i.id, 0) for i in session.scalars(select(WorkItem))
    }
    if not postgresql:
        return
    assert foreign_keys(session) == before and len(before) == 6
    item = session.scalars(select(WorkItem)).first()
    assert item is not None
    with pytest.raises(IntegrityError), session.begin_nested():
        session.execute(update(WorkItem).where(WorkItem.id == item.id).values(unit_id=-1))
