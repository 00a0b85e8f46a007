"""Delivering the outbox: one digest per recipient per run, a daily cap, retries, quiet hours.

Delivery happens in three steps, each committed before the next, so a crash loses nothing and
repeats nothing that was confirmed:

1. **prepare** (one transaction): pending notices whose item is done or whose due date moved are
   skipped (with the reason); the rest are grouped by recipient (a unit and a role: the owner's
   liaison or head, the coordinator, the leadership), rendered from
   ``templates/notice_digest.txt.j2`` with the working days counted *now*, and written as
   ``message`` rows in state ``sending``, linked to their notices;
2. **send** each message through its channel (outside any transaction);
3. **confirm** (one transaction per message): ``sent``, or ``failed`` with the error, the notices
   left pending with a back-off.

A message found still ``sending`` by a later run (the process died between 2 and 3) is taken
over (:mod:`domain.adapters.leases`: at once when its dead holder ran on this machine, else after a
10-minute lease on the wall clock, also when a day is replayed ``--as-of``) and sent again under
the same message id: the file channel overwrites the same file, mail carries the same
``Message-ID`` (:func:`domain.adapters.channels.mail_id`) so a receiving server can drop the copy.
At most
``daily_cap`` digests per recipient per day; nothing outside working hours on working days.
"""

from __future__ import annotations

import re
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, StrictUndefined, Template
from sqlalchemy import Engine, and_, func, or_, select, update
from sqlalchemy.orm import Session

from config.errors import NotFoundError
from config.ladder import load_ladder
from config.settings import delivery_window, get_settings
from domain.adapters import leases
from domain.adapters.channels import (
    AppriseChannel,
    Channel,
    ChannelError,
    FileChannel,
    OutgoingMessage,
    SmtpChannel,
    channel_for,
)
from domain.adapters.leases import holder_alive, holder_tag, may_take_over, wall_now
from domain.queries.calendar import ensure_calendar
from domain.rules.glossary import CONTACT_ROLES, ITEM_STATES, word, zh_date
from domain.rules.lifecycle import DONE_STATES
from models import clock
from models.db import session_scope
from models.enums import ItemState
from models.orm import (
    CalendarDay,
    Contact,
    Message,
    Milestone,
    Notice,
    NoticeDelivery,
    Plan,
    Task,
    Unit,
    WorkItem,
)
from templates import TEMPLATES_DIR

LIVE_MESSAGES = ("sent", "sending")


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
        plan = session.get(Plan, plan_id)
        assert plan is not None
        if not in_working_hours(session, plan, clock.now()):
            report.quiet = True
            return report
        wall, alive = wall_now(), cache(holder_alive)  # a holder's process is looked up once
        stuck = [
            row.id
            for row in session.execute(
                select(Message.id, Message.claimed_by, Message.next_attempt_at)
                .where(Message.plan_id == plan_id, Message.status == "sending")
                .order_by(Message.id)
            )
            if may_take_over(row.claimed_by, row.next_attempt_at, now=wall, alive=alive)
        ]
    for message_id in stuck:
        send_and_confirm(engine, message_id, channel, report, token)
    with session_scope(engine) as session:
        plan = session.get(Plan, plan_id)
        assert plan is not None
        fresh = prepare(session, plan, cap=cap, report=report, token=token)
    for message_id in fresh:
        send_and_confirm(engine, message_id, channel, report, token)
    return report


LEASE = timedelta(minutes=10)
"""How long, on the wall clock, a run on another machine may hold a message it is about to send
before another run may take it over (:mod:`domain.adapters.leases`)."""


def _claim(session: Session, message_id: int, token: str) -> bool:
    """Take (or renew) the lease on one ``sending`` message for this run; False if the message
    is no longer sending or another run holds it and may not be taken over
    (:func:`domain.adapters.leases.may_take_over`). Of two runs taking over the same message, one
    wins."""
    mine = holder_tag(token)
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


def preview(session: Session, plan: Plan, *, cap: int) -> DeliveryReport:
    """What delivery would send now, without sending (``--dry-run``; the caller rolls back)."""
    report = DeliveryReport()
    if not in_working_hours(session, plan, clock.now()):
        report.quiet = True
        return report
    run = "dry-run"  # the lease holder name; everything is rolled back afterwards
    with leases.running(holder_tag(run)):
        ids = prepare(session, plan, cap=cap, report=report, token=run)
    for message_id in ids:
        message = session.get(Message, message_id)
        assert message is not None
        report.sent.append(Sent.of(message))
    return report


def prepare(
    session: Session, plan: Plan, *, cap: int, report: DeliveryReport, token: str
) -> list[int]:
    """Step 1: skip stale notices, group the rest, write ``sending`` messages. Returns their ids."""
    now = clock.now()
    today = clock.local_date(now, plan.timezone)
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
    done = _delivered(session, [n.id for n in pending])
    groups: dict[str, list[Notice]] = defaultdict(list)
    for notice in pending:
        for role in notice.roles:
            unit, who = _recipient(role, by_id[notice.unit_id], plan, units)
            if (notice.id, f"{unit.code}/{who}") not in done:
                groups[f"{unit.code}/{who}"].append(notice)
    sent_today = _sent_today(session, plan, today)
    digest = Digest(session, plan, units, by_id, _template(), now, today, token, _rungs())
    ids = []
    for recipient, notices in sorted(groups.items()):
        if sent_today.get(recipient, 0) >= cap:
            report.capped.append(recipient)
            continue
        ids.append(digest.write(recipient, notices))
    session.flush()
    return ids


def _skip_stale(session: Session, pending: list[Notice], report: DeliveryReport) -> list[Notice]:
    """Mark skipped the notices whose item is done, retired, or due on another date now."""
    ids = [n.item_id for n in pending if n.item_id is not None]
    items = {
        r.id: r
        for r in session.execute(
            select(WorkItem.id, WorkItem.state, WorkItem.due).where(WorkItem.id.in_(ids))
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


def send_and_confirm(
    engine: Engine, message_id: int, channel: Channel | None, report: DeliveryReport, token: str
) -> None:
    """Steps 2 and 3 for one message, under this run's lease."""
    with session_scope(engine) as session:
        if not _claim(session, message_id, token):
            return  # another run is sending it
        m = session.get(Message, message_id)
        assert m is not None
        linked = list(
            session.scalars(
                select(Notice)
                .join(NoticeDelivery, NoticeDelivery.notice_id == Notice.id)
                .where(NoticeDelivery.message_id == message_id, Notice.status == "pending")
            )
        )
        digest = session.scalar(
            select(NoticeDelivery.notice_id).where(NoticeDelivery.message_id == message_id).limit(1)
        )
        # a digest whose notices all went stale is not sent; a briefing or an alert always is
        if digest is not None and not _skip_stale(session, linked, report):
            # everything in it was done or rescheduled since it was written (a held message)
            m.status, m.last_error = "skipped", "未发送：发出前其中的事项已有变化"
            return
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
        chosen = channel or _channel_named(m.channel, m.address)
    error = None
    try:
        chosen.send(outgoing)
    except ChannelError as exc:
        error = str(exc)
    with session_scope(engine) as session:
        m = session.get(Message, message_id)
        assert m is not None
        if m.status != "sending" or m.claimed_by != holder_tag(token):
            return  # our lease ran out and another run took the message over
        plan = session.get(Plan, m.plan_id)
        assert plan is not None
        now = clock.now()
        notices = list(
            session.scalars(
                select(Notice)
                .join(NoticeDelivery, NoticeDelivery.notice_id == Notice.id)
                .where(NoticeDelivery.message_id == message_id, Notice.status == "pending")
            )
        )
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
        done = _delivered(session, [n.id for n in notices], statuses=("sent",))
        units = {u.id: u for u in session.scalars(select(Unit).where(Unit.plan_id == m.plan_id))}
        by_code = {u.code: u for u in units.values()}
        for n in notices:
            wanted = {
                f"{u.code}/{who}"
                for u, who in (_recipient(r, units[n.unit_id], plan, by_code) for r in n.roles)
            }
            n.attempts += 1
            if all((n.id, r) in done for r in wanted):
                n.status, n.sent_at, n.last_error = "sent", now, None


def _channel_named(name: str, address: str | None) -> Channel:
    if name == "webhook" and address:
        return AppriseChannel(address.split())
    if name == "smtp":
        return SmtpChannel()
    return FileChannel()


def _recipient(
    role: str, notice_unit: Unit, plan: Plan, units: dict[str, Unit]
) -> tuple[Unit, str]:
    if role.startswith("owner:"):
        return notice_unit, role.split(":", 1)[1]
    code = plan.coordinator_code if role == "coordinator" else plan.leadership_code
    return units[code], "head" if role == "leadership" else "liaison"


def _template() -> Template:
    # plain text for mail bodies and files: HTML escaping does not apply
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        undefined=StrictUndefined,
        autoescape=False,  # noqa: S701 - plain-text template, not HTML
        keep_trailing_newline=True,
    )
    return env.get_template("notice_digest.txt.j2")


def _sent_today(session: Session, plan: Plan, today: date) -> dict[str, int]:
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


def _delivered(
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


@dataclass
class Digest:
    """Renders one recipient's digest and records it as a ``sending`` message."""

    session: Session
    plan: Plan
    units: dict[str, Unit]
    by_id: dict[int, Unit]
    template: Template
    now: datetime
    today: date
    token: str
    rungs: dict[str, tuple[int, int]]

    def write(self, recipient: str, notices: list[Notice]) -> int:
        code, who = recipient.split("/")
        unit = self.units[code]
        contact = self.session.scalars(
            select(Contact).where(Contact.unit_id == unit.id, Contact.role == who)
        ).first()
        address = contact.email if contact else None
        urls = list(contact.addresses) if contact else []
        items = _digest_items(self.session, notices, self.by_id, self.today)
        overdue = sum(1 for i in items if i.overdue > 0)
        soon = len(items) - overdue
        own = any(n.unit_id == unit.id for n in notices)
        others = any(n.unit_id != unit.id for n in notices)
        body = self.template.render(
            recipient_name=unit.name,
            role_label=CONTACT_ROLES.get(who, ""),
            plan_title=self.plan.title,
            as_of_zh=zh_date(self.today),
            items=items,
            coordinator_name=self.units[self.plan.coordinator_code].name,
            unit_code=unit.code,
            top_rung=_top_rung(notices, self.rungs),
            overdue_count=overdue,
            own=own,
            others=others,
        )
        body = re.sub(r"\n{3,}", "\n\n", body)  # optional paragraphs leave no gaps
        parts = ([f"{overdue}项逾期"] if overdue else []) + ([f"{soon}项待办"] if soon else [])
        subject = f"【督办】{unit.name}：" + "、".join(parts)
        message_id = write_message(
            self.session,
            self.plan,
            Recipient(recipient, address, urls),
            subject=subject,
            body=body,
            token=self.token,
            now=self.now,
        )
        self.session.add_all(NoticeDelivery(notice_id=n.id, message_id=message_id) for n in notices)
        return message_id


def _top_rung(notices: list[Notice], rungs: dict[str, tuple[int, int]]) -> bool:
    """Whether a notice stands on the last level of its ladder (the digest then says the items
    are reported to the leadership). Notices outside the ladder (missing reports, pace) never do."""
    return any(place == count - 1 for place, count in (rungs.get(n.level, (0, 0)) for n in notices))


def _rungs() -> dict[str, tuple[int, int]]:
    return load_ladder(get_settings().ladder).rungs()


@dataclass(frozen=True)
class DigestItem:
    """One line of a digest."""

    item_id: int | None
    level_name: str
    task: str
    milestone: str
    title: str
    unit_name: str
    due_zh: str
    timing: str
    overdue: int
    state_label: str
    percent: int
    evidence: str


def _timing(kind: str, overdue: int, percent: int) -> str:
    if kind == "behind_pace":
        return f"当前进度{percent}%，滞后于序时进度"
    if kind == "missing_report":
        return (
            f"本期进展未报送（截止日已过{overdue}个工作日）" if overdue else "本期进展今天截止报送"
        )
    if overdue > 0:
        return f"已逾期{overdue}个工作日"
    return "今天到期" if overdue == 0 else f"还剩{-overdue}个工作日"


def _digest_items(
    session: Session, notices: list[Notice], units: dict[int, Unit], today: date
) -> list[DigestItem]:
    """The digest's lines, with working days counted on the day it is sent."""
    ids = [n.item_id for n in notices if n.item_id is not None]
    rows = {
        r.id: r
        for r in session.execute(
            select(
                WorkItem.id,
                WorkItem.state,
                WorkItem.percent,
                WorkItem.due,
                Milestone.code,
                Milestone.title,
                Milestone.evidence,
                Task.code.label("task"),
            )
            .join(Milestone, Milestone.id == WorkItem.milestone_id)
            .join(Task, Task.id == Milestone.task_id)
            .where(WorkItem.id.in_(ids))
        )
    }
    days = {today} | {n.due for n in notices if n.due}
    ensure_calendar(session, *days)
    ordinal = {
        d.day: d.ordinal
        for d in session.scalars(select(CalendarDay).where(CalendarDay.day.in_(days)))
    }
    out = []
    for n in sorted(notices, key=lambda n: (n.due or date.min, n.item_id or 0)):
        r = rows.get(n.item_id or -1)
        overdue = ordinal[today] - ordinal[n.due] if n.due else 0
        out.append(
            DigestItem(
                item_id=n.item_id,
                level_name=n.level_name,
                task=r.task if r else "",
                milestone=r.code if r else "",
                title=r.title if r else "进展报送",
                unit_name=units[n.unit_id].name,
                due_zh=zh_date(n.due) if n.due else "",
                timing=_timing(n.kind, overdue, r.percent if r else 0),
                overdue=overdue,
                state_label=ITEM_STATES[ItemState(r.state)] if r else "",
                percent=r.percent if r else 0,
                evidence="、".join(r.evidence or []) if r else "",
            )
        )
    return out


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
        plan = session.get(Plan, notice.plan_id)
        assert plan is not None
        units = {u.code: u for u in session.scalars(select(Unit).where(Unit.plan_id == plan.id))}
        by_id = {u.id: u for u in units.values()}
        now = clock.now()
        digest = Digest(
            session,
            plan,
            units,
            by_id,
            _template(),
            now,
            clock.local_date(now, plan.timezone),
            token,
            _rungs(),
        )
        notice.status, notice.next_attempt_at, notice.last_error = "pending", None, None
        ids = []
        for role in notice.roles:
            unit, who = _recipient(role, by_id[notice.unit_id], plan, units)
            ids.append(digest.write(f"{unit.code}/{who}", [notice]))
    for message_id in ids:
        send_and_confirm(engine, message_id, channel, report, token)
    return report


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


def write_message(
    session: Session,
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
) -> int:
    """A message (a digest, a briefing, an alert) written ``sending`` under this run's lease
    (another run takes over after it); :func:`send_and_confirm` sends it. Returns its id."""
    now = now or clock.now()
    leases.require_running(holder_tag(token))
    chosen = channel_for(to.email, to.urls)
    message = Message(
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
    session.add(message)
    session.flush()
    return message.id
