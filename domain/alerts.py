"""Alerts to the plan's coordinator (a failed scheduled run, a briefing left unapproved).

They go through the same outbox and channels as the reminders, at once (not held for working
hours: a coordinator wants to know), once per ``key``: a second alert with the same key (the
failed and the crashed hook of one run, say) is not sent again.
"""

from __future__ import annotations

import uuid

from sqlalchemy import Engine, select

from domain.channels import Channel, channel_for
from domain.delivery import LEASE, DeliveryReport, send_and_confirm
from models import clock
from models.db import session_scope
from models.orm import Contact, Message, Plan, Unit


def alert_coordinator(
    engine: Engine,
    plan_id: str,
    *,
    key: str,
    subject: str,
    body: str,
    channel: Channel | None = None,
) -> DeliveryReport:
    """Write one message per coordinator contact (or one to its liaison) and send it now."""
    token = str(uuid.uuid4())
    now = clock.now()
    report = DeliveryReport()
    ids: list[int] = []
    with session_scope(engine) as session:
        plan = session.get(Plan, plan_id)
        if plan is None:
            return report
        unit = session.scalars(
            select(Unit).where(Unit.plan_id == plan_id, Unit.code == plan.coordinator_code)
        ).one()
        tagged = f"[{key}] {subject}"
        if session.scalar(select(Message.id).where(Message.subject == tagged)) is not None:
            return report  # this alert went out already
        contacts = list(
            session.scalars(select(Contact).where(Contact.unit_id == unit.id).order_by(Contact.id))
        )
        targets = [(f"{unit.code}/{c.role}", c.email, list(c.addresses)) for c in contacts] or [
            (f"{unit.code}/liaison", None, [])
        ]
        for recipient, address, urls in targets:
            chosen = channel_for(address, urls)
            message = Message(
                plan_id=plan_id,
                recipient=recipient,
                address=" ".join(urls) if chosen.name == "webhook" else address,
                channel=chosen.name,
                subject=tagged,
                body=body,
                created_on=clock.local_date(now, plan.timezone),
                created_at=now,
                status="sending",
                attempts=1,
                next_attempt_at=now + LEASE,
                claimed_by=token,
            )
            session.add(message)
            session.flush()
            ids.append(message.id)
    for message_id in ids:
        send_and_confirm(engine, message_id, channel, report, token)
    return report
