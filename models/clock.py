"""The one clock. Every "now" and "today" in duban comes from here; tests freeze it.

Commands take an ``as_of`` date; when it is omitted they ask :func:`today` for the plan's
timezone. :func:`frozen_time` pins the clock for tests and for replaying history.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

_frozen: list[datetime] = []


def now() -> datetime:
    """The current instant, timezone-aware in UTC."""
    return _frozen[-1] if _frozen else datetime.now(UTC)


def today(tz: str) -> date:
    """Today's date in the given IANA timezone (a plan's timezone)."""
    return now().astimezone(ZoneInfo(tz)).date()


def local_date(instant: datetime, tz: str) -> date:
    """The calendar date of an instant in a timezone."""
    return instant.astimezone(ZoneInfo(tz)).date()


@contextmanager
def frozen_time(instant: datetime) -> Iterator[datetime]:
    """Pin :func:`now` to ``instant`` (must be timezone-aware) inside a ``with`` block."""
    if instant.tzinfo is None:
        raise ValueError("frozen_time needs a timezone-aware datetime")
    _frozen.append(instant.astimezone(UTC))
    try:
        yield _frozen[-1]
    finally:
        _frozen.pop()


@contextmanager
def unfrozen() -> Iterator[None]:
    """A no-op stand-in for :func:`frozen_time` when no date is given."""
    yield


def end_of_working_day(day: date, tz: str) -> datetime:
    """17:00 local time on ``day``, as an aware instant (replaying a day's work)."""
    return datetime.combine(day, time(17, 0), tzinfo=ZoneInfo(tz))
