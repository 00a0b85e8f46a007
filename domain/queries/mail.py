"""What mail intake asks the database: who an address belongs to, and whether a mail was
already answered."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from models.orm import InboxFile, Milestone, Plan, Report, Unit, WorkItem
from models.records import Contact, Message

RECIPIENT_MAX = 120  # message.recipient's length
ANSWER_ATTEMPTS = 10  # an answer that failed this often is left failed, for a person to see


@dataclass(frozen=True)
class Sender:
    """Who a mail came from, when the address is a contact in the catalogue."""

    name: str
    role: str
    unit_code: str
    unit_name: str


def sender_of(session: Session, plan_id: str, address: str) -> Sender | None:
    """The plan's first contact (in catalogue order) with this e-mail address, any case."""
    row = session.execute(
        select(Contact.name, Contact.role, Unit.code, Unit.name.label("unit_name"))
        .join(Unit, Unit.id == Contact.unit_id)
        .where(Unit.plan_id == plan_id, func.lower(Contact.email) == address.lower())
        .order_by(Contact.id)
        .limit(1)
    ).first()
    return None if row is None else Sender(row.name, row.role, row.code, row.unit_name)


@dataclass(frozen=True)
class LandedItem:
    """One report a landed file brought."""

    item_id: int
    milestone: str
    title: str
    state: str
    percent: int


def landed_items(session: Session, plan_id: str, sha256: str) -> list[LandedItem]:
    """The reports the file with this checksum landed, in item order."""
    rows = session.execute(
        select(Report.item_id, Milestone.code, Milestone.title, Report.state, Report.percent)
        .join(InboxFile, InboxFile.id == Report.file_id)
        .join(WorkItem, WorkItem.id == Report.item_id)
        .join(Milestone, Milestone.id == WorkItem.milestone_id)
        .where(InboxFile.plan_id == plan_id, InboxFile.sha256 == sha256)
        .order_by(Report.item_id)
    )
    return [LandedItem(*row) for row in rows]


def reply_recipient(address: str) -> str:
    """The outbox's recipient key of an answer to a mail: ``mail/<address>`` (never a unit's
    ``code/role``, so answers do not count against a contact's daily digests)."""
    return f"mail/{address}"[:RECIPIENT_MAX]


def answered(session: Session, plan_id: str, address: str, marker: str) -> bool:
    """Whether the outbox holds an answer to ``address`` ending with ``marker``."""
    found = select(Message.id).where(
        Message.plan_id == plan_id,
        Message.recipient == reply_recipient(address),
        Message.body.endswith(marker),
    )
    return session.scalar(found.limit(1)) is not None


def coordinator_name(session: Session, plan: Plan) -> str:
    """Whom a sender asks: the coordinating unit, with its liaison's (or first contact's) name,
    telephone and address when the catalogue has them."""
    unit = session.scalars(
        select(Unit).where(Unit.plan_id == plan.id, Unit.code == plan.coordinator_code)
    ).first()
    if unit is None:
        return plan.coordinator_code
    contacts = list(session.scalars(select(Contact).where(Contact.unit_id == unit.id)))
    contacts.sort(key=lambda c: (c.role != "liaison", c.id))
    if not contacts:
        return unit.name
    first = contacts[0]
    reach = "，".join(part for part in (first.phone and f"电话 {first.phone}", first.email) if part)
    return f"{unit.name}{first.name}" + (f"（{reach}）" if reach else "")


def retake_failed_answers(
    session: Session, plan_id: str, holder: str, until: datetime
) -> list[int]:
    """Answers to mails whose sending failed (fewer than :data:`ANSWER_ATTEMPTS` times), taken
    back ``sending`` under ``holder``'s lease until ``until``, to be sent again; their ids."""
    ids = list(
        session.scalars(
            select(Message.id)
            .where(
                Message.plan_id == plan_id,
                Message.recipient.startswith("mail/"),
                Message.status == "failed",
                Message.attempts < ANSWER_ATTEMPTS,
            )
            .order_by(Message.id)
        )
    )
    if ids:
        session.execute(
            update(Message)
            .where(Message.id.in_(ids), Message.status == "failed")
            .values(
                status="sending",
                claimed_by=holder,
                next_attempt_at=until,
                attempts=Message.attempts + 1,
            )
        )
    return ids
