"""What the outbox already holds: digests sent today, notices already delivered."""

from __future__ import annotations

from datetime import date

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from models.orm import Message, NoticeDelivery, Plan

LIVE_MESSAGES = ("sent", "sending")


def digests_today(session: Session, plan: Plan, today: date) -> dict[str, int]:
    """Digests per recipient sent, or being sent, today (briefings do not count)."""
    rows = session.execute(
        select(Message.recipient, func.count().label("n"))
        .where(
            Message.plan_id == plan.id,
            Message.briefing_id.is_(None),  # briefings do not count against the digest cap
            or_(
                and_(Message.status == "sent", Message.sent_on == today),
                and_(Message.status == "sending", Message.created_on == today),
            ),
        )
        .group_by(Message.recipient)
    )
    return {r.recipient: r.n for r in rows}


def delivered(
    session: Session, notice_ids: list[int], statuses: tuple[str, ...] = LIVE_MESSAGES
) -> set[tuple[int, str]]:
    """(notice, recipient) pairs already sent (or being sent), so none is sent twice."""
    if not notice_ids:
        return set()
    return {
        (row.notice_id, row.recipient)
        for row in session.execute(
            select(NoticeDelivery.notice_id, Message.recipient)
            .join(Message, Message.id == NoticeDelivery.message_id)
            .where(NoticeDelivery.notice_id.in_(notice_ids), Message.status.in_(statuses))
        )
    }
