"""The ladder level each listed item last reached (the overdue table's and task pages' column)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import Engine, delete, select

from domain.queries import briefing_facts
from domain.queries.briefing_facts import escalation_levels, leadership_items
from models.db import session_scope
from models.orm import WorkItem
from models.records import Notice
from tests.fixtures.plan_week import item_id_of

DAY = date(2021, 10, 15)


def ladder_notice(item: WorkItem, level: str, name: str, planned: date, **kw: object) -> Notice:
    values: dict[str, object] = {
        "plan_id": item.plan_id,
        "dedupe_key": f"ladder:{item.id}:{level}:{kw.get('due', item.due)}:{planned}",
        "kind": "ladder",
        "item_id": item.id,
        "unit_id": item.unit_id,
        "level": level,
        "level_name": name,
        "due": item.due,
        "cycle": 0,
        "workdays": 1,
        "roles": ["owner:liaison"],
        "rule": "test",
        "planned_on": planned,
        "planned_at": datetime.combine(planned, time(2), tzinfo=UTC),
        "status": "sent",
        "attempts": 1,
    }
    return Notice(**(values | kw))


@pytest.fixture
def outbox(week: Engine) -> Engine:
    """Two items with a history of ladder notices, in the order they were planned: the
    fixture's own (pending) notices removed."""
    with session_scope(week) as s:
        s.execute(delete(Notice))
        late = s.get(WorkItem, item_id_of[("M1", "zzb")])
        silent = s.get(WorkItem, item_id_of[("M4", "v21")])
        assert late is not None and silent is not None
        s.add_all(
            [
                ladder_notice(late, "due", "到期催办", DAY - timedelta(days=20)),
                ladder_notice(late, "coordinator", "逾期督办", DAY - timedelta(days=10)),
                ladder_notice(late, "leadership", "逾期通报", DAY - timedelta(days=3)),
                # not sent yet, and planned after the day: neither counts
                ladder_notice(late, "leadership-1", "再次通报", DAY, status="pending"),
                ladder_notice(late, "leadership-2", "再次通报", DAY + timedelta(days=3)),
                # sent for a due date the item no longer has
                ladder_notice(
                    silent, "due", "到期催办", DAY - timedelta(days=2), due=date(2021, 9, 1)
                ),
            ]
        )
    return week


def levels(engine: Engine, day: date) -> dict[int, str]:
    with session_scope(engine) as s:
        due = {row.id: row.due for row in s.execute(select(WorkItem.id, WorkItem.due))}
        return escalation_levels(s, "demo-plan", day, due)


def test_the_last_level_sent_by_the_day_for_the_item_s_due_date(outbox: Engine) -> None:
    """The newest sent notice planned by the day counts; a pending one, a later one and one for
    another due date do not."""
    late = item_id_of[("M1", "zzb")]
    assert levels(outbox, DAY) == {late: "逾期通报"}
    assert levels(outbox, DAY - timedelta(days=5)) == {late: "逾期督办"}
    assert levels(outbox, DAY - timedelta(days=30)) == {}


def test_many_items_read_the_whole_plan_with_the_same_answer(
    outbox: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The items named in batches, or past the whole-plan size every item of the plan looked
    up: the same levels."""
    few = levels(outbox, DAY)
    monkeypatch.setattr(briefing_facts, "LEVEL_BATCH", 1)
    assert levels(outbox, DAY) == few
    monkeypatch.setattr(briefing_facts, "WHOLE_PLAN", 1)
    assert levels(outbox, DAY) == few


def test_the_items_whose_last_notice_went_to_the_leadership(
    outbox: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An item counts when its newest sent notice by the day names the leadership; named in
    batches or looked up plan-wide, the same items."""
    late = item_id_of[("M1", "zzb")]
    with session_scope(outbox) as s:
        item = s.get(WorkItem, late)
        assert item is not None
        roles = ["owner:head", "leadership"]
        s.add(ladder_notice(item, "leadership-0", "逾期通报", DAY - timedelta(days=1), roles=roles))

    def leading(day: date) -> frozenset[int]:
        with session_scope(outbox) as s:
            due = {row.id: row.due for row in s.execute(select(WorkItem.id, WorkItem.due))}
            return leadership_items(s, "demo-plan", day, due)

    assert leading(DAY) == {late}
    assert leading(DAY - timedelta(days=2)) == frozenset()  # then the liaison's was the newest
    monkeypatch.setattr(briefing_facts, "LEVEL_BATCH", 1)
    assert leading(DAY) == {late}
    monkeypatch.setattr(briefing_facts, "WHOLE_PLAN", 1)
    assert leading(DAY) == {late}


def test_only_the_items_asked_about(outbox: Engine) -> None:
    """Items not asked about are not answered, and nothing is asked of an empty list."""
    with session_scope(outbox) as s:
        other = item_id_of[("M4", "v11")]
        due = {other: s.get(WorkItem, other).due}  # type: ignore[union-attr]
        assert escalation_levels(s, "demo-plan", DAY, due) == {}
        assert escalation_levels(s, "demo-plan", DAY, {}) == {}
