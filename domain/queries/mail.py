"""What mail intake asks the database: who an address belongs to, and whether a mail was
already answered."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models.orm import Contact, Message, Plan, Unit

RECIPIENT_MAX = 120  # message.recipient's length


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


def reply_recipient(address: str) -> str:
    """The outbox's recipient key of an answer to a mail: ``mail:<address>`` (never a unit's
    ``code/role``, so answers do not count against a contact's daily digests)."""
    return f"mail:{address}"[:RECIPIENT_MAX]


def answered(session: Session, plan_id: str, address: str, marker: str) -> bool:
    """Whether the outbox holds an answer to ``address`` ending with ``marker``."""
    found = select(Message.id).where(
        Message.plan_id == plan_id,
        Message.recipient == reply_recipient(address),
        Message.body.endswith(marker),
    )
    return session.scalar(found.limit(1)) is not None


def coordinator_name(session: Session, plan: Plan) -> str:
    """The coordinating unit's name (whom a sender asks)."""
    name = session.scalar(
        select(Unit.name).where(Unit.plan_id == plan.id, Unit.code == plan.coordinator_code)
    )
    return name or plan.coordinator_code
