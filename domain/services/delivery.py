"""Delivering the outbox: one digest per recipient per run, at most ``cap`` a day, and only in
working hours on working days.

Three steps, each committed before the next, so a crash loses nothing and repeats nothing that
was confirmed: :func:`prepare` skips stale notices and writes each recipient's digest
``sending``; each message is sent outside any transaction; :func:`send_all` marks it ``sent``,
or ``failed`` with its notices left pending under a back-off (claims and confirmations go
:data:`SEND_CHUNK` messages a transaction). A message a dead run left ``sending`` is taken
over (:mod:`domain.adapters.leases`) and sent again under the same message id, so the file
channel overwrites its file and a mail server can drop the copy. Sending and confirming are
:mod:`domain.services.delivery_send`'s; a large run's workbooks and sending are spread over
worker processes (:mod:`domain.services.delivery_workers`).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import datetime
from functools import cache
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from config.settings import delivery_window, get_settings
from domain.adapters import leases
from domain.adapters.channels import Channel, RunChannels
from domain.adapters.leases import holder_alive, holder_tag, may_take_over, wall_now
from domain.queries.calendar import ensure_calendar
from domain.queries.outbox import analyze_messages, delivered, digests_today
from domain.queries.plans import plan_of
from domain.services.delivery_send import (
    SEND_CHUNK,
    DeliveryReport,
    Sent,
    carried_notices,
    pending_notices_of,
    recipient_of,
    recipients_units,
    send_all,
    send_and_confirm,
    skip_stale,
    wanted_recipients,
)
from domain.services.delivery_workers import pooled, send_spread
from domain.services.digest import Digest, Written, flush
from models import clock
from models.db import session_scope
from models.orm import CalendarDay, Plan, Unit
from models.records import Message, Notice

__all__ = [
    "SEND_CHUNK",
    "DeliveryReport",
    "Sent",
    "carried_notices",
    "deliver",
    "in_working_hours",
    "pending_groups",
    "pending_notices_of",
    "prepare",
    "preview",
    "recipient_of",
    "recipients_units",
    "send_all",
    "send_and_confirm",
    "stuck_messages",
    "wanted_recipients",
]


def in_working_hours(session: Session, plan: Plan, now: datetime) -> bool:
    """Whether ``now`` is inside the delivery window on a working day of the calendar."""
    local = now.astimezone(ZoneInfo(plan.timezone))
    ensure_calendar(session, local.date())
    workday = session.scalar(select(CalendarDay.is_workday).where(CalendarDay.day == local.date()))
    start, end = delivery_window(get_settings().delivery_hours)
    return bool(workday) and start <= local.time() <= end


def deliver(
    engine: Engine, plan_id: str, *, cap: int, channel: Channel | None = None
) -> DeliveryReport:
    """Prepare, send and confirm the plan's pending notices (see the module docstring).

    Messages a dead run left ``sending`` go first, so that today's prepare sees them delivered
    and counts them against the daily cap.
    """
    token = str(uuid.uuid4())
    with leases.running(holder_tag(token)):
        return _deliver(engine, plan_id, cap, channel, token)


def _deliver(
    engine: Engine, plan_id: str, cap: int, channel: Channel | None, token: str
) -> DeliveryReport:
    report = DeliveryReport()
    with session_scope(engine) as session:
        plan = plan_of(session, plan_id)
        if not in_working_hours(session, plan, clock.now()):
            report.quiet = True
            return report
        stuck = stuck_messages(session, plan_id)
    with RunChannels() as channels:
        send_spread(engine, stuck, channel, report, token, channels)
        with session_scope(engine) as session:
            plan = plan_of(session, plan_id)
            fresh = prepare(session, plan, cap=cap, report=report, token=token)
        send_spread(engine, fresh, channel, report, token, channels)
    return report


def stuck_messages(session: Session, plan_id: str) -> list[int]:
    """The plan's messages a dead run left ``sending`` that this run may take over."""
    wall, alive = wall_now(), cache(holder_alive)  # a holder's process is looked up once
    return [
        row.id
        for row in session.execute(
            select(Message.id, Message.claimed_by, Message.next_attempt_at)
            .where(Message.plan_id == plan_id, Message.status == "sending")
            .order_by(Message.id)
        )
        if may_take_over(row.claimed_by, row.next_attempt_at, now=wall, alive=alive)
    ]


def preview(session: Session, plan: Plan, *, cap: int) -> DeliveryReport:
    """What delivery would send now, without sending (``--dry-run``; the caller rolls back)."""
    report = DeliveryReport()
    if not in_working_hours(session, plan, clock.now()):
        report.quiet = True
        return report
    run = "dry-run"  # the lease holder name; everything is rolled back afterwards
    with leases.running(holder_tag(run)):
        ids = prepare(session, plan, cap=cap, report=report, token=run, attach=False)
    for message_id in ids:
        message = session.get(Message, message_id)
        assert message is not None
        report.sent.append(Sent.of(message))
    return report


def prepare(
    session: Session,
    plan: Plan,
    *,
    cap: int,
    report: DeliveryReport,
    token: str,
    attach: bool = True,
) -> list[int]:
    """Step 1: skip stale notices, group the rest, write ``sending`` messages (with their
    attachments unless ``attach`` is false, as in a dry run). Returns their ids."""
    now = clock.now()
    today = clock.local_date(now, plan.timezone)
    units, groups = pending_groups(session, plan, report, now)
    sent_today = digests_today(session, plan, today)
    digest = Digest.for_run(session, plan, units, now, token, attach=attach)
    chosen = []
    for recipient, notices in sorted(groups.items()):
        if sent_today.get(recipient, 0) >= cap:
            report.capped.append(recipient)
            continue
        chosen.append((recipient, notices))
    written: list[Written] = []
    with pooled([digest], len(chosen) if attach else 0):
        for start in range(0, len(chosen), PREPARE_CHUNK):
            part = chosen[start : start + PREPARE_CHUNK]
            digest.prefetch(part)
            written.extend(digest.add(recipient, notices) for recipient, notices in part)
    ids = flush(session, written)
    if attach:  # not in a dry run: ANALYZE would survive its rollback
        analyze_messages(session, len(ids))
    return ids


PREPARE_CHUNK = 200
"""Digests whose items, contacts and workbook rows are read together."""


def pending_groups(
    session: Session, plan: Plan, report: DeliveryReport, now: datetime
) -> tuple[dict[str, Unit], dict[str, list[Notice]]]:
    """The plan's units by code, and its pending notices not yet delivered by recipient
    (``unit/role``), the stale ones marked skipped."""
    units = {u.code: u for u in session.scalars(select(Unit).where(Unit.plan_id == plan.id))}
    by_id = {u.id: u for u in units.values()}
    pending = list(
        session.scalars(
            select(Notice)
            .where(
                Notice.plan_id == plan.id,
                Notice.status == "pending",
                (Notice.next_attempt_at.is_(None)) | (Notice.next_attempt_at <= now),
            )
            .order_by(Notice.id)
            .with_for_update(skip_locked=True)
        )
    )
    pending = skip_stale(session, pending, report)
    done = delivered(session, [n.id for n in pending])
    groups: dict[str, list[Notice]] = defaultdict(list)
    for notice in pending:
        for role in notice.roles:
            unit, who = recipient_of(role, by_id[notice.unit_id], plan, units)
            if (notice.id, f"{unit.code}/{who}") not in done:
                groups[f"{unit.code}/{who}"].append(notice)
    return units, groups
