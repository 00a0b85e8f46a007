"""Alerts to the plan's coordinator (a failed scheduled run, a briefing left unapproved).

They go through the same outbox and channels as the reminders, at once (not held for working
hours: a coordinator wants to know), once per ``key``: a second alert with the same key (the
failed and the crashed hook of one run, say) is not sent again.
"""

from __future__ import annotations

import uuid

from sqlalchemy import Engine, select

from domain.adapters import leases
from domain.adapters.channels import Channel
from domain.adapters.leases import holder_tag
from domain.services.delivery import DeliveryReport, send_and_confirm
from domain.services.messages import Recipient, new_message, unit_recipients, write_message
from models.db import session_scope
from models.orm import Plan, Unit
from models.records import Message


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
    report = DeliveryReport()
    with leases.running(holder_tag(token)):  # what it holds is taken over once it ends
        for message_id in _write(engine, plan_id, key, f"{body}\n（编号 {key}）", subject, token):
            send_and_confirm(engine, message_id, channel, report, token)
    return report


def _write(
    engine: Engine, plan_id: str, key: str, body: str, subject: str, token: str
) -> list[int]:
    """The alert's messages, written ``sending``; none if the plan is gone or it went out."""
    with session_scope(engine) as session:
        plan = session.get(Plan, plan_id)
        if plan is None:
            return []
        unit = session.scalars(
            select(Unit).where(Unit.plan_id == plan_id, Unit.code == plan.coordinator_code)
        ).one()
        marker = f"（编号 {key}）"
        sent = select(Message.id).where(Message.plan_id == plan_id, Message.body.endswith(marker))
        if session.scalar(sent.limit(1)) is not None:
            return []  # this alert went out already
        targets = unit_recipients(session, unit) or [Recipient(f"{unit.code}/liaison", None, [])]
        return [
            write_message(session, new_message(plan, to, subject=subject, body=body, token=token))
            for to in targets
        ]
