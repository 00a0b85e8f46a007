"""The view models of the status picture and of reporting completeness: what ``duban status``
prints, ``--json`` emits and the dashboard and task pages are made from."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel

from models.enums import ItemState, Light, Status


class ItemStatus(BaseModel):
    """One work item on the date: the stable fields of ``duban status --json``."""

    id: int
    key: str
    task: str
    milestone: str
    title: str
    unit: str
    unit_name: str
    start: date
    due: date
    original_due: date
    state: ItemState
    percent: int
    status: Status
    light: Light
    workdays_left: int


class TaskStatus(BaseModel):
    """One key task with its lead unit and item counts per light."""

    task: str
    number: int
    title: str
    lead: str
    lead_name: str
    items: int
    lights: dict[Light, int]


class StatusView(BaseModel):
    """The whole picture for one plan on one date."""

    plan: str
    plan_title: str
    as_of: date
    yellow_workdays: int
    filters: dict[str, str]
    summary: dict[Light, int]
    statuses: dict[Status, int]
    tasks: list[TaskStatus]
    items: list[ItemStatus]
    warnings: list[str]


MilestoneLights = tuple[str, str, dict[Light, int]]
"""A milestone's code, title and its items counted by light."""


def empty_lights() -> dict[Light, int]:
    """Every light counted zero."""
    return dict.fromkeys(Light, 0)


class UnitTimeliness(BaseModel):
    """One unit over a window of cycles."""

    unit: str
    unit_name: str
    owed: int
    sent: int
    on_time: int
    completeness: float | None
    timeliness: float | None
    silent: int = 0  # cycles in a row, up to the latest, it owed a report and sent none


class CycleView(BaseModel):
    start: date
    end: date
    due: date


class CompletenessView(BaseModel):
    """The current cycle's missing reports and each unit's record over a window."""

    as_of: date
    cycle: CycleView
    owed: int
    sent: int
    missing: list[tuple[str, str]]
    window_start: date
    on_time: int = 0  # of ``sent``: on or before the cycle's due day
    unasked: int = 0  # units that owed nothing for the cycle and reported for it all the same
    window_end: date
    units: list[UnitTimeliness]
    ended_on: date | None = None  # a finished plan's close-out ended: no cycle due later
