"""Deadlines on rest days: one rule (顺延, postponed to the next working day) for milestones,
extensions of the catalogue's dates and reporting cycles; and no notice planned on a rest day.
Pure properties over any calendar first, then the real 2025 holidays of the Chinese calendar."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import chinese_calendar
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Engine, select

from config.ladder import load_ladder
from config.settings import Settings
from domain.queries.escalation import all_due_notices
from domain.queries.items import extend_item
from domain.queries.status import status_view
from domain.queries.sync import sync_catalog
from domain.rules.reporting import cycle_of
from domain.rules.workdays import LONGEST_REST, postpone
from models.clock import end_of_working_day, frozen_time
from models.db import session_scope
from models.enums import Status
from models.orm import CalendarDay, DeadlineChange, WorkItem
from tasks_catalog.expand import windows
from tasks_catalog.loader import load_catalog
from tasks_catalog.schema import MilestoneSpec
from tests.fixtures.catalog import CatalogWriter
from tests.fixtures.context import context_of

TZ = "Asia/Shanghai"
FIRST = date(2025, 1, 1)
HOLIDAY_FRIDAYS = {  # a Friday that is a public holiday → its next working day
    date(2025, 1, 31): date(2025, 2, 5),  # 春节 (28 January – 4 February)
    date(2025, 4, 4): date(2025, 4, 7),  # 清明节
    date(2025, 5, 2): date(2025, 5, 6),  # 劳动节 (1–5 May)
    date(2025, 10, 3): date(2025, 10, 9),  # 国庆节、中秋节 (1–8 October)
}


# ---- the rule over any calendar -------------------------------------------------------------

Calendar = dict[date, bool]


@st.composite
def calendars(draw: st.DrawFn) -> Calendar:
    """Any calendar of 120 days from 2025-01-01 whose rest days never run longer than
    :data:`LONGEST_REST` (a week of any shape, holidays anywhere, make-up working days)."""
    days: list[bool] = []
    while len(days) < 120:
        rest = draw(st.integers(0, 9))
        work = draw(st.integers(1, 6))
        days += [False] * rest + [True] * work
    return {FIRST + timedelta(days=i): w for i, w in enumerate([*days[:120], True])}


@given(calendars(), st.integers(0, 100))
def test_a_deadline_moves_to_the_first_working_day_on_or_after_it(
    calendar: Calendar, offset: int
) -> None:
    """The postponed deadline is a working day, never earlier, with no working day skipped;
    a working day stays where it is; postponing twice changes nothing."""
    day = FIRST + timedelta(days=offset)
    moved = postpone(day, calendar.__getitem__)
    assert calendar[moved]
    assert moved >= day
    assert not any(calendar[day + timedelta(days=i)] for i in range((moved - day).days))
    assert (moved == day) == calendar[day]
    assert postpone(moved, calendar.__getitem__) == moved


@given(calendars(), st.integers(0, 100), st.integers(0, 100))
def test_a_later_date_never_gets_an_earlier_deadline(calendar: Calendar, a: int, b: int) -> None:
    """Postponing keeps the order of dates (the ladder and the lights can compare them)."""
    first, second = sorted((FIRST + timedelta(days=a), FIRST + timedelta(days=b)))
    assert postpone(first, calendar.__getitem__) <= postpone(second, calendar.__getitem__)


def test_a_calendar_with_no_working_day_in_sight_is_refused() -> None:
    """A month with no working day is a broken calendar, not a reason to search for ever."""
    with pytest.raises(ValueError, match="没有工作日"):
        postpone(FIRST, lambda day: day > FIRST + timedelta(days=LONGEST_REST + 5))


@given(calendars(), st.integers(7, 80), st.sampled_from([("weekly", 5), ("weekly", 1)]))
def test_a_reporting_cycle_is_due_on_its_day_postponed(
    calendar: Calendar, offset: int, rule: tuple[str, int]
) -> None:
    """A weekly report is due on its weekday, or on the next working day when that is a rest
    day; a cycle is due on a working day, never before its listed day."""
    kind, weekday = rule
    rule_of = lambda day: postpone(day, calendar.__getitem__)  # noqa: E731
    cycle = cycle_of(FIRST + timedelta(days=offset), kind, weekday, rule_of)
    listed = cycle.start + timedelta(days=weekday - 1)
    assert cycle.due == postpone(listed, calendar.__getitem__)
    assert calendar[cycle.due]


@given(calendars(), st.lists(st.integers(1, 100), min_size=1, max_size=6, unique=True))
def test_a_milestones_occurrences_are_due_on_working_days(
    calendar: Calendar, offsets: list[int]
) -> None:
    """Every occurrence of a milestone is due on a working day, its window opening no later
    than its deadline and the day after the previous deadline."""
    dues = sorted(FIRST + timedelta(days=o) for o in offsets)
    days = ",".join(str(d.timetuple().tm_yday) for d in dues)
    milestone = MilestoneSpec.model_validate(
        {
            "id": "M9",
            "title": "例会",
            "recurrence": {
                "rrule": f"FREQ=YEARLY;BYYEARDAY={days}",
                "start": FIRST,
                "end": dues[-1],
            },
        }
    )
    spans = windows(milestone, FIRST, lambda day: postpone(day, calendar.__getitem__))
    assert [due for _, due in spans] == [postpone(d, calendar.__getitem__) for d in dues]
    previous: date | None = None
    for start, due in spans:
        assert calendar[due] and start <= due
        if previous is not None:
            assert start == min(previous + timedelta(days=1), due)
        previous = due


# ---- the real 2025 holidays -----------------------------------------------------------------


def test_chinese_calendar_agrees_on_the_four_holiday_fridays() -> None:
    """The four Fridays of 2025 that are public holidays, and where each deadline moves."""
    for friday, moved in HOLIDAY_FRIDAYS.items():
        assert friday.weekday() == 4 and not chinese_calendar.is_workday(friday)
        assert postpone(friday, lambda d: bool(chinese_calendar.is_workday(d))) == moved


def plan_2025(data: dict[str, Any]) -> None:
    """The minimal plan with one milestone due on each holiday Friday, for each township."""
    data["plan"]["period"] = {"start": date(2025, 1, 1), "end": date(2025, 12, 31)}
    data["tasks"][0]["milestones"] = [
        {
            "id": f"H{n}",
            "title": f"节后报送{n}",
            "due": friday,
            "fan_out": "townships",
        }
        for n, friday in enumerate(HOLIDAY_FRIDAYS, start=1)
    ]
    data["tasks"][1]["milestones"] = [
        {"id": "M4", "title": "设施摸底", "due": date(2025, 12, 31), "fan_out": "villages"}
    ]
    data["indicators"] = []


@pytest.fixture
def year_2025(settings: Settings, engine: Engine, write_catalog: CatalogWriter) -> Iterator[Engine]:
    with (
        frozen_time(datetime(2024, 12, 30, 2, tzinfo=UTC)),
        session_scope(engine) as session,
    ):
        sync_catalog(session, load_catalog(write_catalog(edit=plan_2025))[0])
    yield engine


def test_a_milestone_due_on_a_holiday_is_due_on_the_next_working_day(year_2025: Engine) -> None:
    """An item listed for Friday 3 October is due Thursday 9 October: the catalogue's date is
    kept as its original due date; yellow with no working day left on the 9th, red the 10th."""
    with session_scope(year_2025) as session:
        dues = set(session.execute(select(WorkItem.original_due, WorkItem.due)))
        assert dues >= set(HOLIDAY_FRIDAYS.items())
        assert all(
            session.get(CalendarDay, due).is_workday  # type: ignore[union-attr]
            for _, due in dues
        )
        lights = {}
        for day in (date(2025, 10, 3), date(2025, 10, 8), date(2025, 10, 9), date(2025, 10, 10)):
            view = status_view(session, context_of(session, day), with_items=True)
            (item,) = [i for i in view.items if i.milestone == "H4" and i.unit == "t1"]
            lights[day] = (item.status, item.workdays_left)
    assert lights == {
        date(2025, 10, 3): (Status.DUE_SOON, 1),  # a holiday: the 9th is one working day on
        date(2025, 10, 8): (Status.DUE_SOON, 1),
        date(2025, 10, 9): (Status.DUE_SOON, 0),
        date(2025, 10, 10): (Status.OVERDUE, -1),
    }


def test_no_notice_is_planned_on_a_rest_day(year_2025: Engine) -> None:
    """Every day around the four holidays: nothing is planned on a rest day; the ladder's
    reminders and the missing-report reminders of the holiday weeks come on working days, the
    "due today" reminder on the postponed deadline itself."""
    ladder = load_ladder()
    planned: dict[date, list[Any]] = {}
    for friday in HOLIDAY_FRIDAYS:
        day = friday - timedelta(days=10)
        while day <= friday + timedelta(days=10):
            with (
                frozen_time(end_of_working_day(day, TZ)),
                session_scope(year_2025) as session,
            ):
                planned[day] = all_due_notices(session, context_of(session, day), ladder)
                workday = session.get(CalendarDay, day)
                assert workday is not None
                if not workday.is_workday:
                    assert planned[day] == [], day
            day += timedelta(days=1)
    for friday, moved in HOLIDAY_FRIDAYS.items():
        missing = [n for n in planned[moved] if n.kind == "missing_report"]
        assert missing and {n.due for n in missing} == {moved}, friday
        due_today = {n.unit_id for n in planned[moved] if n.level == "due"}
        assert len(due_today) == 2, friday  # both townships' items, on the postponed deadline
        before = [n for d, ns in planned.items() if d < moved for n in ns if n.due == moved]
        assert all(n.level != "due" for n in before), friday
    # the National Day item's ladder, as docs/deadlines.md shows it: the day each notice is
    # first called for (the outbox plans it once)
    first_seen: dict[str, date] = {}
    for day in sorted(planned):
        for n in planned[day]:
            if n.due == date(2025, 10, 9) and n.kind == "ladder":
                first_seen.setdefault(n.dedupe_key.rsplit(":", 3)[1], day)
    assert first_seen == {
        "remind-5": date(2025, 9, 25),
        "remind-1": date(2025, 9, 30),
        "due": date(2025, 10, 9),
        "coordinator": date(2025, 10, 13),
    }


def test_a_resync_postpones_items_stored_before_the_rule(
    year_2025: Engine, write_catalog: CatalogWriter
) -> None:
    """A database whose items still carry a rest-day due date (synced before the rule) gets
    them postponed by the next sync, each move recorded with its reason."""
    with session_scope(year_2025) as session:
        for item in session.scalars(select(WorkItem)):
            item.due = item.original_due
    with (
        frozen_time(datetime(2025, 1, 6, 2, tzinfo=UTC)),
        session_scope(year_2025) as session,
    ):
        sync_catalog(session, load_catalog(write_catalog(edit=plan_2025))[0])
        changes = session.execute(
            select(DeadlineChange.old_due, DeadlineChange.new_due, DeadlineChange.reason)
        ).all()
        dues = set(session.execute(select(WorkItem.original_due, WorkItem.due)))
    assert {(old, new) for old, new, _ in changes} == set(HOLIDAY_FRIDAYS.items())
    assert len(changes) == 2 * len(HOLIDAY_FRIDAYS)  # two townships each
    assert {reason for _, _, reason in changes} == {"完成时限逢休息日，顺延至下一个工作日"}
    assert dues >= set(HOLIDAY_FRIDAYS.items())


def test_an_extension_to_a_rest_day_is_postponed_too(year_2025: Engine) -> None:
    """An approved extension to Saturday 4 October (a holiday) runs to Thursday 9 October."""
    with session_scope(year_2025) as session:
        item = session.scalars(select(WorkItem).where(WorkItem.due == date(2025, 4, 7))).first()
        assert item is not None
        old = extend_item(session, item.id, date(2025, 10, 4), actor="mzj", reason="同意延期")
        assert (old, item.due) == (date(2025, 4, 7), date(2025, 10, 9))
