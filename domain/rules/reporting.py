"""Rules for progress reports (进展反馈): what a unit may report, and the reporting cycle.

A unit reports one of four states per item; each maps to a lifecycle state, and the move from
the item's current state must be one the lifecycle allows. Going backwards (done → in progress,
in progress → not started) or lowering the percent needs a stated reason: no silent regressions.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from domain.rules.glossary import ITEM_STATES, REPORT_STATES
from domain.rules.lifecycle import ReasonRequiredError, TransitionError, check_transition
from models.enums import ItemState

RECORD_CYCLES = 8
"""The reporting cycles a unit's 报送及时率 counts over: the latest ones due by the day."""


class ReportState(StrEnum):
    """What a unit can say about an item; the workbook shows the Chinese labels."""

    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    BLOCKED = "blocked"


LABELS: dict[ReportState, str] = {state: REPORT_STATES[state.value] for state in ReportState}
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
    choices = "、".join(LABELS.values())
    raise ValueError(f"“{text}”不是可报送的状态；请选 {choices}")


class ReportRejectedError(ValueError):
    """This report cannot be accepted as it stands; the message (Chinese) says why and
    ``column`` names the input column to fix."""

    def __init__(self, message: str, *, column: str) -> None:
        super().__init__(message)
        self.column = column


PERCENT, STATE, EVIDENCE, PROBLEM = "本期进度%", "本期状态", "佐证材料", "存在问题"
REASON_HINT = "请在“存在问题”或“进展情况”中说明原因"


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
        raise ReportRejectedError(f"本期进度 {percent} 超出范围（应在 0–100 之间）", column=PERCENT)
    if current == ItemState.RETIRED:
        raise ReportRejectedError("该事项已从规划中撤销，无需再填报", column=STATE)
    if current == ItemState.CLOSED:
        if reported == ReportState.DONE:
            return Decision(None, 100)
        raise ReportRejectedError(
            "该事项已核验销号；如工作重新开展，请联系协调单位重新打开", column=STATE
        )
    if reported == ReportState.DONE:
        if percent is not None and percent != 100:
            raise ReportRejectedError(
                f"填报“已完成”时本期进度应为 100，现为 {percent}", column=PERCENT
            )
        if evidence_required and not (evidence and evidence.strip()):
            raise ReportRejectedError(
                "填报“已完成”须在“佐证材料”中写明：" + "、".join(evidence_required),
                column=EVIDENCE,
            )
    if reported == ReportState.BLOCKED and not reason:
        raise ReportRejectedError("填报“受阻”须在“存在问题”中写明受阻原因", column=PROBLEM)
    target = TARGET[reported]
    if target != current:
        try:
            check_transition(current, target, reason)
        except TransitionError as exc:
            raise ReportRejectedError(_explain(current, reported, exc), column=STATE) from None
    new_percent = (
        100
        if reported == ReportState.DONE
        else (percent if percent is not None else current_percent)
    )
    if new_percent < current_percent and not reason:
        raise ReportRejectedError(
            f"本期进度从 {current_percent} 降到 {new_percent}，{REASON_HINT}", column=PERCENT
        )
    return Decision(None if target == current else target, new_percent)


def _explain(current: ItemState, reported: ReportState, exc: TransitionError) -> str:
    now = ITEM_STATES[current]
    if isinstance(exc, ReasonRequiredError):
        return f"该事项当前为“{now}”，填报“{LABELS[reported]}”是倒退，{REASON_HINT}"
    return f"该事项当前为“{now}”，不能填报“{LABELS[reported]}”"


@dataclass(frozen=True)
class Cycle:
    """One reporting period and the day its report is due (a rest day postponed: 顺延)."""

    start: date
    end: date
    due: date


def cycle_of(day: date, kind: str, due: int, postpone: Callable[[date], date]) -> Cycle:
    """The reporting cycle containing ``day``: a Monday–Sunday week or a calendar month, its
    report due on weekday (1–7) or day of month ``due``, postponed by ``postpone`` (the
    calendar's :func:`~domain.rules.workdays.postpone`) when that is a rest day."""
    if kind == "weekly":
        start = day - timedelta(days=day.weekday())
        listed = start + timedelta(days=due - 1)
        return Cycle(start, start + timedelta(days=6), postpone(listed))
    last = calendar.monthrange(day.year, day.month)[1]
    start = day.replace(day=1)
    return Cycle(start, day.replace(day=last), postpone(day.replace(day=min(due, last))))


def cycles_between(
    first: date, last: date, kind: str, due: int, postpone: Callable[[date], date]
) -> list[Cycle]:
    """Every cycle overlapping ``first``..``last``, in order."""
    out: list[Cycle] = []
    current = cycle_of(first, kind, due, postpone)
    while current.start <= last:
        out.append(current)
        current = cycle_of(current.end + timedelta(days=1), kind, due, postpone)
    return out
