"""A plan's unfinished work on a day (结转), as plain data: what a carry-over draft lists and
its coordinator decides on."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from models.enums import ItemState

STATES_WITH_REASON = frozenset(
    {ItemState.BLOCKED.value, ItemState.RETURNED.value, ItemState.EXTENDED.value}
)
"""States entered with a stated reason (受阻, 退回, 延期): the reason is shown with them."""


@dataclass(frozen=True)
class Standing:
    """Where one unfinished item stood on the day: its state, last report and last reason."""

    item_id: int
    unit: str
    unit_name: str
    due: date
    state: str
    percent: int
    reported_on: date | None
    note: str | None
    """The last report's progress text (进展情况)."""
    problem: str | None
    """The last report's problems (存在问题)."""
    reason: str | None
    """Why the item was blocked, returned or extended, when that is its state."""


@dataclass(frozen=True)
class OpenMilestone:
    """A milestone with unfinished items, and the units they belong to."""

    code: str
    title: str
    deliverable: str
    evidence: list[str]
    due: date | None
    rrule: str | None
    owner: str
    fanned_out: bool
    items: list[Standing]
    all_units: int
    """How many units the milestone had items for (finished or not)."""
    depends_on: list[str]
    """The codes of the milestones it waited for in the old plan (not carried as such)."""

    @property
    def units(self) -> list[str]:
        """The units with unfinished items, in the order first seen."""
        return list(dict.fromkeys(i.unit for i in self.items))


@dataclass(frozen=True)
class OpenTask:
    """A key task with unfinished milestones."""

    number: int
    code: str
    title: str
    description: str
    lead: str
    responsibility: str
    cooperating: list[str]
    """The task's cooperating units that have unfinished items in it."""
    milestones: list[OpenMilestone]


@dataclass(frozen=True)
class CarryOver:
    """A plan's unfinished work on ``as_of``."""

    plan_id: str
    title: str
    timezone: str
    period_start: date
    period_end: date
    as_of: date
    tasks: list[OpenTask]
    unit_names: dict[str, str]

    @property
    def items(self) -> int:
        return sum(len(m.items) for t in self.tasks for m in t.milestones)

    @property
    def milestones(self) -> int:
        return sum(len(t.milestones) for t in self.tasks)


@dataclass(frozen=True)
class Predecessor:
    """An old plan's item that a carried item continues, as it stands now (its history)."""

    plan_id: str
    plan_title: str
    item_id: int
    milestone: str
    title: str
    unit_name: str
    due: date
    original_due: date
    state: str
    percent: int
    reported_on: date | None
    note: str | None
    problem: str | None
    reason: str | None
    """Why it was blocked, returned or extended, when that is its state."""
