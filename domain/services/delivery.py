"""Delivering the outbox: one digest per recipient per run, at most ``cap`` a day, and only in
working hours on working days.

Three steps, each committed before the next, so a crash loses nothing and repeats nothing that
was confirmed: :func:`prepare` skips stale notices and writes each recipient's digest
``sending``; each message is sent outside any transaction; :func:`send_all` marks it ``sent``,
or ``failed`` with its notices left pending under a back-off (claims and confirmations go
:data:`SEND_CHUNK` messages a transaction). A message a dead run left ``sending`` is taken
over (:mod:`domain.adapters.leases`) and sent again under the same message id, so the file
channel overwrites its file and a mail server can drop the copy.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from config.settings import delivery_window, get_settings
from domain.adapters import leases
from domain.adapters.channels import Channel, ChannelError, OutgoingMessage, RunChannels
from domain.adapters.leases import holder_alive, holder_tag, may_take_over, wall_now
from domain.queries.calendar import ensure_calendar
from domain.queries.outbox import IDS_PER_STATEMENT, analyze_messages, delivered, digests_today
from domain.queries.plans import plan_of
from domain.rules.glossary import ITEM_STATES, word, zh_date
from domain.rules.lifecycle import DONE_STATES
from domain.services.digest import Digest
from domain.services.messages import claim
from models import clock
from models.db import session_scope
from models.enums import ItemState
from models.orm import CalendarDay, Plan, Unit, WorkItem
from models.records import Message, Notice, NoticeDelivery


@dataclass(frozen=True)
class Sent:
    """A message as a delivery run reports it (plain data, usable after the session)."""

    id: int
    recipient: str
    channel: str
    subject: str
    body: str
    error: str | None = None

    @classmethod
    def of(cls, m: Message) -> Sent:
        return cls(m.id, m.recipient, m.channel, m.subject, m.body, m.last_error)


@dataclass
class DeliveryReport:
    """What one delivery run did."""

    sent: list[Sent] = field(default_factory=list)
    failed: list[Sent] = field(default_factory=list)
    capped: list[str] = field(default_factory=list)
    skipped: int = 0
    quiet: bool = False


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
        send_all(engine, stuck, channel, report, token, channels)
        with session_scope(engine) as session:
            plan = plan_of(session, plan_id)
            fresh = prepare(session, plan, cap=cap, report=report, token=token)
        send_all(engine, fresh, channel, report, token, channels)
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
    ids = []
    for recipient, notices in sorted(groups.items()):
        if sent_today.get(recipient, 0) >= cap:
            report.capped.append(recipient)
            continue
        ids.append(digest.write(recipient, notices))
    session.flush()
    if attach:  # not in a dry run: ANALYZE would survive its rollback
        analyze_messages(session, len(ids))
    return ids


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
    pending = _skip_stale(session, pending, report)
    done = delivered(session, [n.id for n in pending])
    groups: dict[str, list[Notice]] = defaultdict(list)
    for notice in pending:
        for role in notice.roles:
            unit, who = recipient_of(role, by_id[notice.unit_id], plan, units)
            if (notice.id, f"{unit.code}/{who}") not in done:
                groups[f"{unit.code}/{who}"].append(notice)
    return units, groups


def _skip_stale(session: Session, pending: list[Notice], report: DeliveryReport) -> list[Notice]:
    """Mark skipped the notices whose item is done, retired, or due on another date now."""
    ids = sorted({n.item_id for n in pending if n.item_id is not None})
    items = {
        r.id: r
        for start in range(0, len(ids), IDS_PER_STATEMENT)
        for r in session.execute(
            select(WorkItem.id, WorkItem.state, WorkItem.due).where(
                WorkItem.id.in_(ids[start : start + IDS_PER_STATEMENT])
            )
        )
    }
    keep = []
    finished = {s.value for s in DONE_STATES} | {ItemState.RETIRED.value}
    for n in pending:
        item = items.get(n.item_id) if n.item_id is not None else None
        reason = None
        if item is not None and item.state in finished:
            reason = f"未发送：事项已是“{word(ITEM_STATES, item.state)}”"
        elif item is not None and n.kind != "missing_report" and item.due != n.due:
            was = zh_date(n.due) if n.due else "（无）"
            reason = f"未发送：完成时限已由{was}改为{zh_date(item.due)}"
        if reason:
            n.status, n.last_error = "skipped", reason
            report.skipped += 1
        else:
            keep.append(n)
    return keep


SEND_CHUNK = 50
"""Messages claimed in one transaction, sent, then confirmed in one: a crash re-sends at most
this many (under their own message ids), against three transactions a message."""


def send_and_confirm(
    engine: Engine,
    message_id: int,
    channel: Channel | None,
    report: DeliveryReport,
    token: str,
    channels: RunChannels | None = None,
) -> None:
    """Steps 2 and 3 for one message (:func:`send_all`)."""
    send_all(engine, [message_id], channel, report, token, channels)


def send_all(
    engine: Engine,
    message_ids: list[int],
    channel: Channel | None,
    report: DeliveryReport,
    token: str,
    channels: RunChannels | None = None,
) -> None:
    """Steps 2 and 3 under this run's lease, :data:`SEND_CHUNK` messages at a time: claimed,
    each sent through ``channel`` or else the channel it names (from the run's ``channels``, so
    its mail shares one connection), then confirmed, the ones sent confirmed even if sending a
    later one raised."""
    run = channels or RunChannels()  # messages sent on their own: their own connection
    try:
        for start in range(0, len(message_ids), SEND_CHUNK):
            with session_scope(engine) as session:
                part = message_ids[start : start + SEND_CHUNK]
                taken = [t for m in part if (t := _take(session, m, report, token)) is not None]
            results: list[tuple[int, str | None]] = []
            try:
                for out, name in taken:
                    try:
                        (channel or run.named(name, out.address)).send(out)
                        results.append((out.message_id, None))
                    except ChannelError as exc:
                        results.append((out.message_id, str(exc)))
            finally:
                with session_scope(engine) as session:
                    for message_id, error in results:
                        _confirm(session, message_id, error, report, token)
    finally:
        if channels is None:
            run.close()


def _take(
    session: Session, message_id: int, report: DeliveryReport, token: str
) -> tuple[OutgoingMessage, str] | None:
    """Step 2's first half: the message claimed and ready to send, with its channel's name;
    None if another run holds it or, a digest, everything in it went stale (then skipped)."""
    if not claim(session, message_id, token):
        return None  # another run is sending it
    m = session.get(Message, message_id)
    assert m is not None
    carried = carried_notices(session, message_id)
    linked = [n for n in carried if n.status == "pending"]
    # a digest whose notices all went stale is not sent; a briefing or an alert always is
    if carried and not _skip_stale(session, linked, report):
        # everything in it was done or rescheduled since it was written (a held message)
        m.status, m.last_error = "skipped", "未发送：发出前其中的事项已有变化"
        return None
    outgoing = OutgoingMessage(
        message_id=m.id,
        plan_id=m.plan_id,
        recipient=m.recipient,
        address=m.address,
        subject=m.subject,
        body=m.body,
        html=m.html,
        attachments=tuple(Path(a) for a in m.attachments or ()),
    )
    return outgoing, m.channel


def _confirm(
    session: Session, message_id: int, error: str | None, report: DeliveryReport, token: str
) -> None:
    """Step 3: the message ``sent`` and its notices with it, or ``failed`` with its notices
    pending under a back-off; nothing if the lease ran out and another run took it over."""
    m = session.get(Message, message_id)
    assert m is not None
    if m.status != "sending" or m.claimed_by != holder_tag(token):
        return  # our lease ran out and another run took the message over
    plan = plan_of(session, m.plan_id)
    now = clock.now()
    notices = pending_notices_of(session, message_id)
    if error is not None:
        m.status, m.last_error = "failed", error
        for n in notices:
            n.attempts += 1
            n.last_error = f"{m.recipient}: {error}"
            n.next_attempt_at = now + timedelta(minutes=5 * 2 ** min(n.attempts, 6))
        report.failed.append(Sent.of(m))
        return
    m.status, m.sent_at = "sent", now
    m.sent_on = clock.local_date(now, plan.timezone)
    report.sent.append(Sent.of(m))
    done = delivered(session, [n.id for n in notices], statuses=("sent",))
    wanted = wanted_recipients(session, notices)
    for n in notices:
        n.attempts += 1
        if all((n.id, r) in done for r in wanted[n.id]):
            n.status, n.sent_at, n.last_error = "sent", now, None


def wanted_recipients(session: Session, notices: list[Notice]) -> dict[int, set[str]]:
    """Each notice's recipients (``unit/role``), each read in its own plan (a digest across
    plans carries notices of several)."""
    by_plan: dict[str, list[Notice]] = defaultdict(list)
    for n in notices:
        by_plan[n.plan_id].append(n)
    wanted: dict[int, set[str]] = {}
    for plan_id, some in by_plan.items():
        plan = plan_of(session, plan_id)
        units = recipients_units(session, plan, {n.unit_id for n in some})
        by_code = {u.code: u for u in units.values()}
        for n in some:
            wanted[n.id] = {
                f"{u.code}/{who}"
                for u, who in (recipient_of(r, units[n.unit_id], plan, by_code) for r in n.roles)
            }
    return wanted


def pending_notices_of(session: Session, message_id: int) -> list[Notice]:
    """The pending notices a message carries, found from the message (by its deliveries'
    index) and sorted out here: a condition on the notice's status would let the outbox's
    statistics (no pending notice, after a day's burst of new ones) choose a loop over every
    pending notice instead."""
    return [n for n in carried_notices(session, message_id) if n.status == "pending"]


def carried_notices(session: Session, message_id: int) -> list[Notice]:
    """Every notice a message carries, whatever its status (none: a briefing or an alert)."""
    return list(
        session.scalars(
            select(Notice)
            .join(NoticeDelivery, NoticeDelivery.notice_id == Notice.id)
            .where(NoticeDelivery.message_id == message_id)
        )
    )


def recipients_units(session: Session, plan: Plan, unit_ids: set[int]) -> dict[int, Unit]:
    """Id → unit for the notices' units and the plan's coordinating and leadership units (the
    units a notice's roles can name), not every unit of the plan."""
    codes = [plan.coordinator_code, plan.leadership_code]
    return {
        u.id: u
        for u in session.scalars(
            select(Unit).where(
                Unit.plan_id == plan.id, Unit.id.in_(unit_ids) | Unit.code.in_(codes)
            )
        )
    }


def recipient_of(
    role: str, notice_unit: Unit, plan: Plan, units: dict[str, Unit]
) -> tuple[Unit, str]:
    if role.startswith("owner:"):
        return notice_unit, role.split(":", 1)[1]
    code = plan.coordinator_code if role == "coordinator" else plan.leadership_code
    return units[code], "head" if role == "leadership" else "liaison"
