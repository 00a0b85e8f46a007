"""重发: one notice sent again, now, to each of its recipients (a digest of that notice)."""

from __future__ import annotations

import uuid

from sqlalchemy import Engine, select

from config.errors import NotFoundError
from domain.adapters import leases
from domain.adapters.channels import Channel
from domain.adapters.leases import holder_tag
from domain.queries.plans import plan_of
from domain.services.delivery import DeliveryReport, recipient_of, send_and_confirm
from domain.services.digest import Digest
from models import clock
from models.db import session_scope
from models.orm import Unit
from models.records import Notice


def resend_notice(
    engine: Engine, notice_id: int, *, channel: Channel | None = None
) -> DeliveryReport:
    """重发: send one notice again, now, to each of its recipients (a digest of that notice).
    A notice whose item was done or rescheduled since is skipped with the reason, as always."""
    token = str(uuid.uuid4())
    with leases.running(holder_tag(token)):
        return _resend_notice(engine, notice_id, channel, token)


def _resend_notice(
    engine: Engine, notice_id: int, channel: Channel | None, token: str
) -> DeliveryReport:
    report = DeliveryReport()
    with session_scope(engine) as session:
        notice = session.get(Notice, notice_id)
        if notice is None:
            raise NotFoundError(f"没有提醒 {notice_id}")
        plan = plan_of(session, notice.plan_id)
        units = {u.code: u for u in session.scalars(select(Unit).where(Unit.plan_id == plan.id))}
        by_id = {u.id: u for u in units.values()}
        digest = Digest.for_run(session, plan, units, clock.now(), token)
        notice.status, notice.next_attempt_at, notice.last_error = "pending", None, None
        ids = []
        for role in notice.roles:
            unit, who = recipient_of(role, by_id[notice.unit_id], plan, units)
            ids.append(digest.write(f"{unit.code}/{who}", [notice]))
    for message_id in ids:
        send_and_confirm(engine, message_id, channel, report, token)
    return report
