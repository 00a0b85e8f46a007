"""The as-of context: the plan, the day, its working-day ordinal, whether the history is settled
on it, and the light policy, built once at the edge and passed down to every query.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date


@dataclass(frozen=True)
class LightPolicy:
    """How lights are worked out: the working days before a due date that turn an item yellow,
    and the points behind the straight-line pace that do (None: no behind-pace light)."""

    yellow_workdays: int
    pace_margin: int | None = None


@dataclass(frozen=True)
class PlanFacts:
    """The plan's fields the status, escalation and reporting queries read."""

    id: str
    title: str
    timezone: str
    period_start: date
    period_end: date
    reporting_cycle: str
    reporting_due: int
    close_out_workdays: int = 20  # 收尾期: reminders go on this many working days after the end
    close_out_until: date | None = None  # the coordinator's extension, if any


@dataclass(frozen=True)
class Context:
    """One plan on one day: ``ordinal`` is the day's working-day ordinal, ``latest`` the latest
    date anything in the history carries (None: no history), ``calendar`` the first and last
    day the calendar table covered when the context was built; ``moved``, on a day the history
    has moved past, the ids of the items whose status may have changed since, when they were
    read (None: not read; the queries then find them themselves), and ``prerequisites`` the ids
    of the items they depend on, read with them; ``replay_all``, when most of the plan's items
    moved: every item is replayed, which costs less than telling them apart."""

    plan: PlanFacts
    day: date
    ordinal: int
    latest: date | None
    policy: LightPolicy
    calendar: tuple[date, date]
    moved: frozenset[int] | None = None
    prerequisites: frozenset[int] | None = None
    replay_all: bool = False

    @property
    def settled(self) -> bool:
        """Nothing in the history is dated after the day: its picture is today's, read from the
        work items' current columns instead of replaying the logs."""
        return self.settled_on(self.day)

    def settled_on(self, day: date) -> bool:
        """Whether the history is settled on ``day`` (see :attr:`settled`)."""
        return self.latest is None or self.latest <= day

    def covers(self, *days: date) -> bool:
        """Whether the calendar covered every one of ``days`` when the context was built."""
        first, last = self.calendar
        return all(first <= d <= last for d in days)

    def on(self, day: date, ordinal: int) -> Context:
        """The same plan, history and policy on another day (of working-day ``ordinal``)."""
        return replace(
            self, day=day, ordinal=ordinal, moved=None, prerequisites=None, replay_all=False
        )


def replays_all(moved: int, live: int) -> bool:
    """Whether a replay should take every item rather than the ``moved`` of the plan's ``live``
    ones: when at least half moved, telling them apart costs more than it saves."""
    return 2 * moved >= live
