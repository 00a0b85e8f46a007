"""Objections (申诉) to an assessment: which parts of a score a unit may contest for one item,
until when, and the facts with the upheld ones applied (the score is then worked out again by
:func:`domain.rules.assessment.score`, and both versions are kept).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date

from domain.rules.assessment import UnitFacts
from domain.rules.assessment_periods import AssessedPeriod
from domain.rules.glossary import zh_date
from domain.rules.lifecycle import TransitionError

OBJECTION_PARTS = ("completion", "overdue", "returned", "late_extension")
"""The parts of a score a unit may contest for one item (申诉)."""


class ObjectionRefusedError(TransitionError):
    """An objection that cannot be recorded or decided as asked; the message says why."""


@dataclass(frozen=True)
class Excuse:
    """An upheld objection: ``item_id`` no longer counts in ``part``."""

    item_id: int
    part: str


def excuse(facts: UnitFacts, excuses: Iterable[Excuse]) -> UnitFacts:
    """The facts with upheld objections applied: an item excused from 按期完成 is not counted
    there, from 逾期扣分 its working days overdue are not, from 核验退回扣分 its returns are not,
    from 到期后延期扣分 its extensions approved late are not."""
    by_part: dict[str, set[int]] = {part: set() for part in OBJECTION_PARTS}
    for e in excuses:
        by_part[e.part].add(e.item_id)
    items = tuple(
        replace(
            i,
            counted=i.counted and i.item_id not in by_part["completion"],
            overdue_workdays=0 if i.item_id in by_part["overdue"] else i.overdue_workdays,
        )
        for i in facts.items
    )
    events = tuple(
        e
        for e in facts.events
        if not (e.kind == "returned" and e.item_id in by_part["returned"])
        and not (e.kind == "extension" and not e.early and e.item_id in by_part["late_extension"])
    )
    return replace(facts, items=items, events=events)


def check_filing(
    *, period: AssessedPeriod, filed_on: date, workdays_after: int, within: int
) -> None:
    """An objection may be filed until ``within`` working days after the period's last day
    (``workdays_after``: working days from that day to the filing day); ObjectionRefusedError
    after."""
    if workdays_after > within:
        raise ObjectionRefusedError(
            f"{period.label}考评的申诉期已过：须在{zh_date(period.end)}后 {within} 个工作日内提出，"
            f"{zh_date(filed_on)}已是第 {workdays_after} 个工作日"
        )
