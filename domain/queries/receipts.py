"""Receipts (回执) for what an owner sent from the page: a number per thing received, and what
it says when read back.

A number is the day received and a letter and row id: ``20211227-B000123`` a progress report
or 办结申请 (``report``), ``F`` an evidence file, ``Y`` a 延期申请. A receipt is shown only to
the unit it belongs to.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.queries.calendar import reporting_cycle
from domain.rules.glossary import EVIDENCE_KINDS, EXTENSION_STATUSES, REPORT_STATES, zh_date
from models.orm import Milestone, Plan, Report, WorkItem
from models.records import EvidenceFile, ExtensionRequest

LETTERS = {"report": "B", "evidence": "F", "extension": "Y"}
_KIND_OF = {letter: kind for kind, letter in LETTERS.items()}
_NUMBER = re.compile(r"(\d{8})-([BFY])(\d{1,9})")


class Receipt(BaseModel):
    """What one receipt shows."""

    number: str
    kind: str  # report | done | evidence | extension
    heading: str
    item_id: int
    unit_id: int
    milestone: str
    title: str
    actor: str
    received: str
    """When, in the plan's timezone, as prose (2021年12月27日 10:00)."""
    lines: list[tuple[str, str]]
    sent_for: str | None
    """The reporting cycle this counts as the unit's report for, in words; None if it does not."""


def receipt_number(kind: str, row_id: int, day: date) -> str:
    """The receipt number of a row received on ``day``."""
    return f"{day:%Y%m%d}-{LETTERS[kind]}{row_id:06d}"


def _when(at: datetime, timezone: str) -> str:
    local = at.astimezone(ZoneInfo(timezone))
    return f"{zh_date(local.date())} {local:%H:%M}"


def _megabytes(size: int) -> str:
    if size < 1024:
        return f"{size} 字节"
    return f"{size / 1024:.0f} KB" if size < 1024 * 1024 else f"{size / (1024 * 1024):.1f} MB"


def find_receipt(session: Session, number: str, unit_id: int) -> Receipt | None:
    """The receipt with this number if it belongs to the unit; None otherwise (no such number,
    or another unit's: the two are not told apart)."""
    match = _NUMBER.fullmatch(number)
    if match is None:
        return None
    kind, row_id = _KIND_OF[match[2]], int(match[3])
    row: Report | EvidenceFile | ExtensionRequest | None
    if kind == "report":
        row = session.get(Report, row_id)
    elif kind == "evidence":
        row = session.get(EvidenceFile, row_id)
    else:
        row = session.get(ExtensionRequest, row_id)
    if row is None or row.unit_id != unit_id:
        return None
    item, milestone, plan = session.execute(
        select(WorkItem, Milestone, Plan)
        .join(Milestone, Milestone.id == WorkItem.milestone_id)
        .join(Plan, Plan.id == WorkItem.plan_id)
        .where(WorkItem.id == row.item_id)
    ).one()
    if isinstance(row, Report | EvidenceFile):
        at, day = row.received_at, row.received_on
    else:
        at, day = row.requested_at, row.requested_on
    if f"{day:%Y%m%d}" != match[1]:
        return None
    base = {
        "number": receipt_number(kind, row_id, day),
        "item_id": item.id,
        "unit_id": unit_id,
        "milestone": milestone.code,
        "title": milestone.title,
        "actor": row.actor,
        "received": _when(at, plan.timezone),
        "sent_for": None,
    }
    if isinstance(row, Report):
        cycle = reporting_cycle(session, plan.reporting_cycle, plan.reporting_due, row.period)
        done = row.state == "done"
        lines = [("本期状态", REPORT_STATES.get(row.state, row.state)), ("进度", f"{row.percent}%")]
        lines += [
            (label, text)
            for label, text in (
                ("进展情况", row.note),
                ("存在问题", row.problem),
                ("下步计划", row.next_steps),
                ("佐证材料", row.evidence),
            )
            if text
        ]
        return Receipt(
            **{
                **base,
                "sent_for": f"{zh_date(cycle.start)}至{zh_date(cycle.end)}"
                f"（报送截止 {zh_date(cycle.due)}）",
            },
            kind="done" if done else "report",
            heading="办结申请已提交" if done else "本期进展已提交",
            lines=lines,
        )
    if isinstance(row, EvidenceFile):
        return Receipt(
            **base,
            kind="evidence",
            heading="佐证材料已上传",
            lines=[
                ("文件", row.name),
                ("类型", EVIDENCE_KINDS.get(row.kind, row.kind)),
                ("大小", _megabytes(row.size)),
                ("校验码", f"SHA-256 {row.sha256[:16]}…"),
            ],
        )
    lines = [
        ("当前完成时限", zh_date(row.current_due)),
        ("拟延期至", zh_date(row.proposed_due)),
        ("延期原因", row.reason),
        ("审批状态", EXTENSION_STATUSES.get(row.status, row.status)),
    ]
    if row.decision_reason:
        lines.append(("审批意见", row.decision_reason))
    return Receipt(**base, kind="extension", heading="延期申请已提交", lines=lines)


def latest_report_id(session: Session, item_id: int) -> tuple[int, date]:
    """The id and day of the item's newest report (the one just landed, under the item's lock)."""
    row = session.execute(
        select(Report.id, Report.received_on)
        .where(Report.item_id == item_id)
        .order_by(Report.id.desc())
        .limit(1)
    ).one()
    return row.id, row.received_on
