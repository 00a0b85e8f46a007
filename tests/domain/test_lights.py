"""The light rule at its boundaries, evaluated as the SQL it runs as (SQLite in memory)."""

from __future__ import annotations

from datetime import date
from itertools import product

import pytest
from sqlalchemy import Boolean, Date, Integer, String, create_engine, literal, select

from domain.rules.lights import active_condition, status_expression
from domain.rules.workdays import build_calendar
from models.enums import ACTIVE_STATUSES, STATUS_LIGHT, ItemState, Light, Status

ENGINE = create_engine("sqlite://")
CAL = {d.day: d.ordinal for d in build_calendar(date(2026, 1, 1), date(2026, 12, 31))[0]}


def classify(
    *,
    as_of: date,
    due: date,
    start: date = date(2026, 1, 1),
    state: str = "assigned",
    done_on: date | None = None,
    waiting: bool = False,
    yellow: int = 5,
    percent: int = 0,
    margin: int | None = None,
) -> tuple[Status, Light]:
    status = status_expression(
        state=literal(state, String),
        done_on=literal(done_on, Date),
        start=literal(start, Date),
        due=literal(due, Date),
        due_ordinal=literal(CAL[due], Integer),
        waiting=literal(waiting, Boolean),
        as_of=as_of,
        as_of_ordinal=CAL[as_of],
        yellow_workdays=yellow,
        start_ordinal=literal(CAL[start], Integer),
        percent=literal(percent, Integer),
        pace_margin=margin,
    )
    with ENGINE.connect() as connection:
        value = connection.execute(select(status)).scalar_one()
    return Status(value), STATUS_LIGHT[Status(value)]


def test_due_today_is_yellow_and_the_day_after_is_red() -> None:
    """The due date is the last day: yellow on it, red the next day."""
    due = date(2026, 6, 12)
    assert classify(as_of=due, due=due) == (Status.DUE_SOON, Light.YELLOW)
    assert classify(as_of=date(2026, 6, 13), due=due) == (Status.OVERDUE, Light.RED)


def test_yellow_starts_exactly_n_working_days_before() -> None:
    """With N=5: 5 working days left is yellow, 6 is green (Mon 06-01 → Mon 06-08 is 5)."""
    assert classify(as_of=date(2026, 6, 1), due=date(2026, 6, 8))[1] == Light.YELLOW
    assert classify(as_of=date(2026, 5, 29), due=date(2026, 6, 8))[1] == Light.GREEN


def test_holiday_week_is_not_counted() -> None:
    """9 calendar days but 2 working days (National Day) before 10-09: yellow at N=2, not N=1."""
    assert classify(as_of=date(2026, 9, 30), due=date(2026, 10, 9), yellow=2)[1] == Light.YELLOW
    assert classify(as_of=date(2026, 9, 30), due=date(2026, 10, 9), yellow=1)[1] == Light.GREEN


def test_make_up_saturday_counts_as_working_day() -> None:
    """Sat 2026-10-10 is a working day: from Fri 10-09 to Mon 10-12 is 2 working days left."""
    assert CAL[date(2026, 10, 12)] - CAL[date(2026, 10, 9)] == 2
    assert classify(as_of=date(2026, 10, 9), due=date(2026, 10, 12), yellow=1)[1] == Light.GREEN


def test_before_the_window_is_gray() -> None:
    """An item whose window has not opened yet is gray, whatever its due date."""
    result = classify(as_of=date(2026, 3, 1), due=date(2026, 3, 31), start=date(2026, 3, 2))
    assert result == (Status.NOT_STARTED, Light.GRAY)


def test_waiting_on_a_predecessor_is_gray_even_when_past_due() -> None:
    """An item that cannot start because a prerequisite is open is waiting, not late."""
    result = classify(as_of=date(2026, 7, 1), due=date(2026, 6, 30), waiting=True)
    assert result == (Status.WAITING, Light.GRAY)


@pytest.mark.parametrize("state", ["submitted", "closed"])
def test_done_on_or_before_due_is_green(state: str) -> None:
    """Submitted or closed by the due date: done on time, whatever today is."""
    result = classify(
        as_of=date(2026, 9, 1), due=date(2026, 6, 30), state=state, done_on=date(2026, 6, 30)
    )
    assert result == (Status.DONE_ON_TIME, Light.GREEN)


def test_done_after_due_is_counted_apart() -> None:
    """Done a day late is not green and not red: it is done_late."""
    result = classify(
        as_of=date(2026, 9, 1), due=date(2026, 6, 30), state="closed", done_on=date(2026, 7, 1)
    )
    assert result == (Status.DONE_LATE, Light.DONE_LATE)


def test_open_states_other_than_done_follow_the_deadline() -> None:
    """Blocked or returned items are not excused: past due they are red."""
    for state in ("blocked", "returned", "in_progress"):
        assert classify(as_of=date(2026, 7, 1), due=date(2026, 6, 30), state=state)[1] == Light.RED


def test_behind_pace_is_yellow_beyond_the_margin() -> None:
    """Jun 1 → Jun 30 2026 is 20 working days (Jun 19 is Dragon Boat); on Jun 15, 10 have
    passed, so 50% is expected: 24% lags 26 points (> 25, yellow), 25% lags exactly 25 (green)."""

    def at(percent: int, margin: int | None) -> tuple[Status, Light]:
        return classify(
            as_of=date(2026, 6, 15),
            due=date(2026, 6, 30),
            start=date(2026, 6, 1),
            percent=percent,
            margin=margin,
        )

    assert at(24, 25) == (Status.BEHIND_PACE, Light.YELLOW)
    assert at(25, 25) == (Status.ON_TRACK, Light.GREEN)
    assert at(0, None)[0] == Status.ON_TRACK  # pace not checked without a margin


def test_the_active_filter_agrees_with_the_rule_everywhere() -> None:
    """For every state, waiting or not, and a date before, inside and after the window (a
    month's, and a day's: an item never starts after its due date, see migration 0010):
    ``active_condition`` holds exactly when the rule gives an active status (the items that
    owe reports and are chased), so "who owes a report" may skip the CASE."""
    checked = set()
    windows = [(date(2026, 6, 1), date(2026, 6, 30)), (date(2026, 6, 15), date(2026, 6, 15))]
    for (start, due), state, waiting, as_of in product(
        windows,
        [s.value for s in ItemState if s != ItemState.RETIRED],
        (False, True),
        [
            date(2026, 5, 29),
            date(2026, 6, 1),
            date(2026, 6, 15),
            date(2026, 6, 30),
            date(2026, 7, 1),
        ],
    ):
        active = active_condition(
            state=literal(state, String),
            start=literal(start, Date),
            waiting=literal(waiting, Boolean),
            as_of=as_of,
        )
        with ENGINE.connect() as connection:
            holds = bool(connection.execute(select(active)).scalar_one())
        status, _ = classify(
            as_of=as_of, due=due, start=start, state=state, waiting=waiting,
            done_on=due if state in ("submitted", "closed") else None,
        )  # fmt: skip
        assert holds == (status.value in ACTIVE_STATUSES), (start, due, state, waiting, as_of)
        checked.add(holds)
    assert checked == {True, False}
