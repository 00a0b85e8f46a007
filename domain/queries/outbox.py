"""The outbox: writing planned notices exactly once, and what it already holds (notices in it,
digests sent today, notices already delivered)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from functools import cached_property

from sqlalchemy import ColumnElement, and_, exists, func, or_, select, text
from sqlalchemy.orm import Session

from domain.rules.context import Context
from domain.rules.ladder import PlannedNotice
from models import clock
from models.bulk import collector_paused, insert_new_rows
from models.orm import CalendarDay, Plan, Unit
from models.records import Contact, Message, Notice, NoticeDelivery

IDS_PER_STATEMENT = 10_000
"""Ids bound in one IN list at most (PostgreSQL takes 65,535 parameters a statement; a first
day at a province's size has ~70,000 pending notices)."""

ANALYZE_AFTER = 10_000
"""Notices written at once after which PostgreSQL's statistics of the outbox are refreshed."""


def in_outbox(
    plan_id: str,
    kind: str,
    item_id: ColumnElement[int],
    due: ColumnElement[date],
    level: ColumnElement[str] | None = None,
    cycle: ColumnElement[int] | None = None,
    *,
    bounds: Sequence[ColumnElement[bool]] = (),
) -> ColumnElement[bool]:
    """SQL: the outbox already holds this notice (the columns its dedupe key is made of);
    ``bounds``: conditions such a notice meets (:func:`due_bounds`, :func:`planned_since`)."""
    return exists().where(
        Notice.plan_id == plan_id,
        Notice.kind == kind,
        *bounds,
        Notice.item_id == item_id,
        Notice.due == due,
        *([Notice.level == level] if level is not None else []),
        *([Notice.cycle == cycle] if cycle is not None else []),
    )


def due_bounds(
    session: Session, first: date | None, last: date | None
) -> list[ColumnElement[bool]]:
    """On PostgreSQL, conditions bounding an outbox check to the notices due between ``first``
    and ``last`` (either may be open), so it reads them through the outbox's (plan, kind, due)
    index; none on SQLite, which would then pick that index over better ones."""
    if session.get_bind().dialect.name != "postgresql":
        return []
    return [
        *([Notice.due >= first] if first is not None else []),
        *([Notice.due <= last] if last is not None else []),
    ]


def planned_since(session: Session, ordinal: int, stay: int | None) -> list[ColumnElement[bool]]:
    """A condition bounding the ladder's outbox check to the notices planned in the last
    ``stay`` working days up to the day of ``ordinal`` (the longest an item stays on one notice):
    an earlier notice cannot be the one due today; where that fails, the outbox's unique key
    still skips the notice held."""
    if stay is None:
        return []
    since = session.scalar(
        select(func.min(CalendarDay.day)).where(CalendarDay.ordinal >= ordinal - stay + 1)
    )
    return [] if since is None else [Notice.planned_on >= since]


def write_outbox(
    session: Session, ctx: Context, notices: list[PlannedNotice], *, analyze: bool = True
) -> int:
    """Insert the notices not already in the outbox, planned on the context's day; returns how
    many were new. On PostgreSQL a burst (:data:`ANALYZE_AFTER`) refreshes the outbox's
    statistics, unless ``analyze`` is false (a run that will roll back: ANALYZE survives it)."""
    if not notices:
        return 0
    with collector_paused():
        inserted = _write(session, ctx, notices)
    if analyze and inserted >= ANALYZE_AFTER and session.get_bind().dialect.name == "postgresql":
        # a burst: fresh statistics, or the next "not yet in the outbox" check is planned badly
        session.execute(text("ANALYZE notice"))
    return inserted


def _write(session: Session, ctx: Context, notices: list[PlannedNotice]) -> int:
    """The notices as outbox rows, inserted where new; returns how many were."""
    now = clock.now()
    rows = [
        {
            "plan_id": ctx.plan.id,
            "dedupe_key": n.dedupe_key,
            "kind": n.kind,
            "item_id": n.item_id,
            "unit_id": n.unit_id,
            "level": n.level,
            "level_name": n.level_name,
            "due": n.due,
            "cycle": n.cycle,
            "workdays": n.workdays,
            "roles": n.roles,
            "rule": n.rule,
            "planned_on": ctx.day,
            "planned_at": now,
            "status": "pending",
            "attempts": 0,
        }
        for n in notices
    ]
    return insert_new_rows(session, Notice, rows, ["plan_id", "dedupe_key"])


LIVE_MESSAGES = ("sent", "sending")

DIGESTS_ANALYZED = 500
"""Messages written at once after which PostgreSQL's statistics of the messages are refreshed."""


def analyze_messages(session: Session, written: int) -> None:
    """After a burst of messages (:data:`DIGESTS_ANALYZED`) on PostgreSQL, refresh the statistics
    of ``message`` and ``notice_delivery``: planned as if still empty, each message's confirmation
    scans every delivery written before it (the run slows with every digest)."""
    if written >= DIGESTS_ANALYZED and session.get_bind().dialect.name == "postgresql":
        session.execute(text("ANALYZE message, notice_delivery"))


def digests_today(session: Session, plan: Plan, today: date) -> dict[str, int]:
    """Digests per recipient of the plan sent, or being sent, today: the plan's own, and those
    of any plan to the same person (the same ``unit/role`` and address), so a digest across
    plans counts against the daily cap of each (briefings and 考评通报 do not count)."""
    sent = digests_to(session, today)
    places = destinations(session, plan.id)
    names = {r for (p, r, _) in sent.counts if p == plan.id or r in places}
    return {r: sent.to(r, address_of(*places.get(r, (None, ()))), [plan.id]) for r in names}


@dataclass(frozen=True)
class DigestsSent:
    """Digests sent, or being sent, on one day, counted per plan, recipient and address."""

    counts: dict[tuple[str, str, str | None], int]

    def to(self, recipient: str, address: str | None, plan_ids: Sequence[str]) -> int:
        """Those to one person: ``recipient`` at ``address`` under any plan, or ``recipient``
        under one of ``plan_ids`` at whatever address (a contact changed during the day)."""
        at = self._at.get((recipient, address), 0) if address is not None else 0
        elsewhere = sum(
            self._under.get((p, recipient), 0)
            - (self.counts.get((p, recipient, address), 0) if address is not None else 0)
            for p in set(plan_ids)
        )
        return at + elsewhere

    @cached_property
    def _at(self) -> dict[tuple[str, str | None], int]:
        out: dict[tuple[str, str | None], int] = defaultdict(int)
        for (_, r, a), n in self.counts.items():
            out[(r, a)] += n
        return out

    @cached_property
    def _under(self) -> dict[tuple[str, str], int]:
        out: dict[tuple[str, str], int] = defaultdict(int)
        for (p, r, _), n in self.counts.items():
            out[(p, r)] += n
        return out


def digests_to(session: Session, today: date) -> DigestsSent:
    """Digests sent, or being sent, today under every plan (one person may be in several,
    :mod:`domain.services.delivery_plans`); briefings and 考评通报 do not count."""
    rows = session.execute(
        select(Message.plan_id, Message.recipient, Message.address, func.count().label("n"))
        .where(
            Message.briefing_id.is_(None),  # briefings do not count against the digest cap
            Message.briefing_checksum.is_(None),  # nor 考评通报 (a checksum without a briefing)
            or_(
                and_(Message.status == "sent", Message.sent_on == today),
                and_(Message.status == "sending", Message.created_on == today),
            ),
        )
        .group_by(Message.plan_id, Message.recipient, Message.address)
    )
    return DigestsSent({(r.plan_id, r.recipient, r.address): r.n for r in rows})


Place = tuple[str | None, tuple[str, ...]]
"""A contact's e-mail address and webhook URLs."""


def destinations(session: Session, plan_id: str) -> dict[str, Place]:
    """Each ``unit/role`` of the plan with a contact: the first contact's e-mail and URLs (the
    contact a digest goes to)."""
    out: dict[str, Place] = {}
    rows = session.execute(
        select(Unit.code, Contact.role, Contact.email, Contact.addresses)
        .join(Unit, Unit.id == Contact.unit_id)
        .where(Unit.plan_id == plan_id)
        .order_by(Contact.id)
    )
    for code, role, email, urls in rows:
        out.setdefault(f"{code}/{role}", (email, tuple(urls or ())))
    return out


def address_of(email: str | None, urls: Sequence[str]) -> str | None:
    """The address a message to this contact records (its webhook URLs, else its e-mail)."""
    return " ".join(urls) if urls else email


def delivered(
    session: Session, notice_ids: list[int], statuses: tuple[str, ...] = LIVE_MESSAGES
) -> set[tuple[int, str]]:
    """(notice, recipient) pairs already sent (or being sent), so none is sent twice."""
    return {
        (row.notice_id, row.recipient)
        for start in range(0, len(notice_ids), IDS_PER_STATEMENT)
        for row in session.execute(
            select(NoticeDelivery.notice_id, Message.recipient)
            .join(Message, Message.id == NoticeDelivery.message_id)
            .where(
                NoticeDelivery.notice_id.in_(notice_ids[start : start + IDS_PER_STATEMENT]),
                Message.status.in_(statuses),
            )
        )
    }
