"""An approved briefing (or 考评通报) reaches leadership within the delivery hours, like the
reminders: the approval (who, when, which version) is recorded; approved outside the hours, or on
a rest day, it waits for the next daily cycle's delivery (:func:`send_approved`)."""

from __future__ import annotations

from sqlalchemy import Engine, or_, select

from domain.adapters.channels import Channel
from domain.queries.plans import plan_of
from domain.services.briefing.distribute import Distribution, distribute_briefing
from domain.services.delivery import in_working_hours
from models import clock
from models.db import session_scope
from models.records import AssessmentNotice, Briefing


def approve_briefing(engine: Engine, briefing_id: int, actor: str) -> None:
    """Record that ``actor`` approved the briefing's current version now."""
    with session_scope(engine) as session:
        record = session.get(Briefing, briefing_id)
        assert record is not None  # the flow has just written it
        record.approved_checksum = record.checksum
        record.approved_at, record.approved_by = clock.now(), actor


def in_delivery_hours(engine: Engine, plan_id: str) -> bool:
    """Whether now is inside the delivery hours on a working day of the plan's calendar."""
    with session_scope(engine) as session:
        return in_working_hours(session, plan_of(session, plan_id), clock.now())


def send_approved(
    engine: Engine, plan_id: str, *, channel: Channel | None = None
) -> list[Distribution]:
    """Send, within the delivery hours, every approved version not yet sent — briefings, then
    考评通报; outside them, nothing (they wait). The 考评通报's module (its charts and Word
    writer) is loaded only when one waits."""
    if not in_delivery_hours(engine, plan_id):
        return []
    with session_scope(engine) as session:
        waiting = [
            session.scalars(
                select(record.id)
                .where(
                    record.plan_id == plan_id,
                    record.approved_checksum == record.checksum,
                    or_(record.sent_checksum.is_(None), record.sent_checksum != record.checksum),
                )
                .order_by(record.id)
            ).all()
            for record in (Briefing, AssessmentNotice)
        ]
    briefings, notices = waiting
    sent = [distribute_briefing(engine, b, channel=channel) for b in briefings]
    if notices:
        from domain.services.assessment_notice import distribute_notice  # noqa: PLC0415

        sent += [distribute_notice(engine, n, channel=channel) for n in notices]
    return sent
