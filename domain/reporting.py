"""Rules for progress reports (进展反馈): what a unit may report, and the reporting cycle.

A unit reports one of four states per item; each maps to a lifecycle state, and the move from
the item's current state must be one the lifecycle allows. Going backwards (done → in progress,
in progress → not started) or lowering the percent needs a stated reason: no silent regressions.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from domain.lifecycle import TransitionError, check_transition
from models.enums import ItemState


class ReportState(StrEnum):
    """What a unit can say about an item; the workbook shows the Chinese labels."""

    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    BLOCKED = "blocked"


LABELS: dict[ReportState, str] = {
    ReportState.NOT_STARTED: "未开始",
    ReportState.IN_PROGRESS: "推进中",
    ReportState.DONE: "已完成",
    ReportState.BLOCKED: "受阻",
}
TARGET: dict[ReportState, ItemState] = {
    ReportState.NOT_STARTED: ItemState.ACKNOWLEDGED,
    ReportState.IN_PROGRESS: ItemState.IN_PROGRESS,
    ReportState.DONE: ItemState.SUBMITTED,
    ReportState.BLOCKED: ItemState.BLOCKED,
}


def parse_report_state(text: str) -> ReportState:
    """Accept the English value or the Chinese label; ValueError listing the choices."""
    cleaned = text.strip()
    for state, label in LABELS.items():
        if cleaned in {state.value, label}:
            return state
    choices = ", ".join(f"{label} ({state.value})" for state, label in LABELS.items())
    raise ValueError(f"{text!r} is not a report state; use one of {choices}")


class ReportRejectedError(ValueError):
    """This report cannot be accepted as it stands; the message says why."""


@dataclass(frozen=True)
class Decision:
    """What a valid report does to its item."""

    target: ItemState | None  # None: state unchanged
    percent: int


def decide(
    *,
    current: ItemState,
    current_percent: int,
    reported: ReportState,
    percent: int | None,
    reason: str | None,
    evidence: str | None,
    evidence_required: list[str],
) -> Decision:
    """Check one report against the item; the new state and percent, or ReportRejectedError."""
    if percent is not None and not 0 <= percent <= 100:
        raise ReportRejectedError(f"percent {percent} is not between 0 and 100")
    if current == ItemState.RETIRED:
        raise ReportRejectedError("the item was withdrawn from the plan (撤销); nothing to report")
    if current == ItemState.CLOSED:
        if reported == ReportState.DONE:
            return Decision(None, 100)
        raise ReportRejectedError(
            "the item is closed (已销号); ask the coordinator to reopen it if work resumed"
        )
    if reported == ReportState.DONE:
        if percent is not None and percent != 100:
            raise ReportRejectedError(f"reported done (已完成) but percent is {percent}, not 100")
        if evidence_required and not (evidence and evidence.strip()):
            raise ReportRejectedError(
                "done needs evidence: fill 佐证材料 with " + "、".join(evidence_required)
            )
    if reported == ReportState.BLOCKED and not reason:
        raise ReportRejectedError("blocked (受阻) needs 存在问题 filled in: what is blocking it")
    target = TARGET[reported]
    if target != current:
        try:
            check_transition(current, target, reason)
        except TransitionError as exc:
            raise ReportRejectedError(_explain(current, reported, exc)) from None
    new_percent = (
        100
        if reported == ReportState.DONE
        else (percent if percent is not None else current_percent)
    )
    if new_percent < current_percent and not reason:
        raise ReportRejectedError(
            f"percent went down from {current_percent} to {new_percent}; "
            "say why (存在问题 or 进展情况)"
        )
    return Decision(None if target == current else target, new_percent)


def _explain(current: ItemState, reported: ReportState, exc: TransitionError) -> str:
    if "needs a reason" in str(exc):
        return (
            f"the item is {current.value}; reporting {LABELS[reported]} goes backwards and "
            "needs a reason (存在问题 or 进展情况)"
        )
    return f"cannot report {LABELS[reported]} on an item that is {current.value}: {exc}"


@dataclass(frozen=True)
class Cycle:
    """One reporting period and the day its report is due."""

    start: date
    end: date
    due: date


def cycle_of(day: date, kind: str, due: int) -> Cycle:
    """The reporting cycle containing ``day``: a Monday–Sunday week or a calendar month."""
    if kind == "weekly":
        start = day - timedelta(days=day.weekday())
        return Cycle(start, start + timedelta(days=6), start + timedelta(days=due - 1))
    last = calendar.monthrange(day.year, day.month)[1]
    start = day.replace(day=1)
    return Cycle(start, day.replace(day=last), day.replace(day=min(due, last)))


def cycles_between(first: date, last: date, kind: str, due: int) -> list[Cycle]:
    """Every cycle overlapping ``first``..``last``, in order."""
    out: list[Cycle] = []
    current = cycle_of(first, kind, due)
    while current.start <= last:
        out.append(current)
        current = cycle_of(current.end + timedelta(days=1), kind, due)
    return out
