"""Writing an outbox message (a digest, a briefing, an alert) ``sending`` under a run's lease."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from domain.adapters import leases
from domain.adapters.channels import channel_for
from domain.adapters.leases import holder_alive, holder_tag, may_take_over, wall_now
from models import clock
from models.orm import Plan, Unit
from models.records import Contact, Message

LEASE = timedelta(minutes=10)
"""How long, on the wall clock, a run on another machine may hold a message it is about to send
before another run may take it over (:mod:`domain.adapters.leases`)."""


@dataclass(frozen=True)
class Recipient:
    """Someone a message can go to: ``unit/role``, with the contact's address and URLs."""

    key: str
    email: str | None
    urls: list[str]


def unit_recipients(session: Session, unit: Unit) -> list[Recipient]:
    """Every contact of a unit, in catalogue order."""
    return [
        Recipient(f"{unit.code}/{c.role}", c.email, list(c.addresses))
        for c in session.scalars(
            select(Contact).where(Contact.unit_id == unit.id).order_by(Contact.id)
        )
    ]


def write_message(session: Session, message: Message) -> int:
    """``message`` (a digest, a briefing, an alert; made by :func:`new_message`) written
    ``sending`` under its run's lease (another run takes over after it);
    :func:`domain.services.delivery.send_and_confirm` sends it. Returns its id."""
    session.add(message)
    session.flush()
    return message.id


def new_message(
    plan: Plan,
    to: Recipient,
    *,
    subject: str,
    body: str,
    token: str,
    html: str | None = None,
    attachments: list[str] | None = None,
    briefing_id: int | None = None,
    briefing_checksum: str | None = None,
    now: datetime | None = None,
) -> Message:
    """A message to ``to``, not yet added to a session: :func:`write_message` writes one, or many
    are written in one statement."""
    now = now or clock.now()
    leases.require_running(holder_tag(token))
    chosen = channel_for(to.email, to.urls)
    return Message(
        plan_id=plan.id,
        recipient=to.key,
        address=" ".join(to.urls) if chosen.name == "webhook" else to.email,
        channel=chosen.name,
        subject=subject,
        body=body,
        html=html,
        attachments=attachments,
        briefing_id=briefing_id,
        briefing_checksum=briefing_checksum,
        created_on=clock.local_date(now, plan.timezone),
        created_at=now,
        status="sending",
        attempts=1,
        next_attempt_at=wall_now() + LEASE,
        claimed_by=holder_tag(token),
    )


def claim(session: Session, message_id: int, token: str) -> bool:
    """Take (or renew) the lease on one ``sending`` message for this run; False if the message
    is no longer sending or another run holds it and may not be taken over
    (:func:`domain.adapters.leases.may_take_over`). Of two runs taking over the same message, one
    wins."""
    mine = holder_tag(token)
    renewed = session.execute(  # the usual case, one statement: this run wrote the message
        update(Message)
        .where(Message.id == message_id, Message.status == "sending", Message.claimed_by == mine)
        .values(next_attempt_at=wall_now() + LEASE)
    )
    if renewed.rowcount == 1:  # type: ignore[attr-defined]
        leases.require_running(mine)  # raising rolls the renewal back
        return True
    held = session.execute(
        select(Message.claimed_by, Message.next_attempt_at).where(
            Message.id == message_id, Message.status == "sending"
        )
    ).one_or_none()
    if held is None:
        return False
    wall = wall_now()
    if held.claimed_by != mine and not may_take_over(
        held.claimed_by, held.next_attempt_at, now=wall, alive=holder_alive
    ):
        return False
    holder = (
        Message.claimed_by.is_(None)
        if held.claimed_by is None
        else Message.claimed_by == held.claimed_by
    )
    leases.require_running(mine)
    taken = session.execute(
        update(Message)
        .where(Message.id == message_id, Message.status == "sending", holder)
        .values(claimed_by=mine, next_attempt_at=wall + LEASE)
    )
    return bool(taken.rowcount == 1)  # type: ignore[attr-defined]
