"""Delivering the outbox: one digest per recipient per run, a daily cap, retries, quiet hours.

Pending notices are grouped by recipient (a unit and a role: the owner's liaison, its head, the
coordinator, the leadership). Each group becomes one message rendered from
``templates/notice_digest.txt.j2`` and is sent through the recipient's channel. A message that
fails stays pending with its error and is retried later with back-off; a recipient who already
got ``daily_cap`` digests today waits until tomorrow. Nothing is sent outside working hours on
working days.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, StrictUndefined, Template
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from config.settings import get_settings
from domain.channels import Channel, ChannelError, OutgoingMessage, channel_for
from domain.workbooks import STATE_LABELS
from models import clock
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

ROLE_LABEL = {"liaison": "联络员", "head": "负责人"}
LEVEL_RANK = {"remind": 0, "due": 1, "coordinator": 2, "leadership": 3}


@dataclass
class DeliveryReport:
    """What one delivery run did."""

    sent: list[Message] = field(default_factory=list)
    failed: list[Message] = field(default_factory=list)
    capped: list[str] = field(default_factory=list)
    quiet: bool = False


def in_working_hours(session: Session, plan: Plan, now: datetime) -> bool:
    """Whether ``now`` is inside the delivery window on a working day of the calendar."""
    settings = get_settings()
    local = now.astimezone(ZoneInfo(plan.timezone))
    workday = session.scalar(select(CalendarDay.is_workday).where(CalendarDay.day == local.date()))
    start, end = (time.fromisoformat(t) for t in settings.delivery_hours.split("-"))
    return bool(workday) and start <= local.time() <= end


def _recipient(
    role: str, notice_unit: Unit, plan: Plan, units: dict[str, Unit]
) -> tuple[Unit, str]:
    if role.startswith("owner:"):
        return notice_unit, role.split(":", 1)[1]
    code = plan.coordinator_code if role == "coordinator" else plan.leadership_code
    return units[code], "head" if role == "leadership" else "liaison"


def _zh(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def _template() -> Template:
    # plain text for mail bodies and files: HTML escaping does not apply
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        undefined=StrictUndefined,
        autoescape=False,  # noqa: S701 - plain-text template, not HTML
        keep_trailing_newline=True,
    )
    return env.get_template("notice_digest.txt.j2")


def _pending(session: Session, plan: Plan, now: datetime) -> list[Notice]:
    return list(
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


def _sent_today(session: Session, plan: Plan, today: date) -> dict[str, int]:
    rows = session.execute(
        select(Message.recipient, func.count().label("n"))
        .where(Message.plan_id == plan.id, Message.created_on == today, Message.status == "sent")
        .group_by(Message.recipient)
    )
    return {r.recipient: r.n for r in rows}


def deliver(
    session: Session, plan: Plan, *, cap: int, channel: Channel | None = None
) -> DeliveryReport:
    """Send the pending notices of the plan as digests; the caller commits."""
    now = clock.now()
    today = clock.local_date(now, plan.timezone)
    report = DeliveryReport()
    if not in_working_hours(session, plan, now):
        report.quiet = True
        return report
    units = {u.code: u for u in session.scalars(select(Unit).where(Unit.plan_id == plan.id))}
    by_id = {u.id: u for u in units.values()}
    pending = _pending(session, plan, now)
    done = _delivered(session, [n.id for n in pending])
    groups: dict[str, list[Notice]] = defaultdict(list)
    wanted: dict[int, set[str]] = defaultdict(set)
    for notice in pending:
        for role in notice.roles:
            unit, who = _recipient(role, by_id[notice.unit_id], plan, units)
            recipient = f"{unit.code}/{who}"
            wanted[notice.id].add(recipient)
            if (notice.id, recipient) not in done:
                groups[recipient].append(notice)
    sent_today = _sent_today(session, plan, today)
    digest = Digest(session, plan, units, by_id, _template(), now, today)
    for recipient, notices in sorted(groups.items()):
        if sent_today.get(recipient, 0) >= cap:
            report.capped.append(recipient)
            continue
        message = digest.send(recipient, notices, channel)
        if message.status == "sent":
            report.sent.append(message)
            done.update((n.id, recipient) for n in notices)
        else:
            report.failed.append(message)
    complete = [n.id for n in pending if all((n.id, r) in done for r in wanted[n.id])]
    if complete:
        session.execute(
            update(Notice).where(Notice.id.in_(complete)).values(status="sent", sent_at=now)
        )
    session.flush()
    return report


@dataclass
class Digest:
    """Renders and sends one recipient's digest, recording it as a message."""

    session: Session
    plan: Plan
    units: dict[str, Unit]
    by_id: dict[int, Unit]
    template: Template
    now: datetime
    today: date

    def send(self, recipient: str, notices: list[Notice], channel: Channel | None) -> Message:
        code, who = recipient.split("/")
        unit = self.units[code]
        contact = self.session.scalars(
            select(Contact).where(Contact.unit_id == unit.id, Contact.role == who)
        ).first()
        address = contact.email if contact else None
        urls = list(contact.addresses) if contact else []
        items = _digest_items(self.session, notices, self.by_id)
        overdue = sum(1 for n in notices if n.workdays > 0)
        body = self.template.render(
            recipient_name=unit.name,
            role_label=ROLE_LABEL.get(who, ""),
            plan_title=self.plan.title,
            as_of_zh=_zh(self.today),
            items=items,
            coordinator_name=self.units[self.plan.coordinator_code].name,
            unit_code=unit.code,
            worst=_worst(notices),
            overdue_count=overdue,
        )
        subject = f"【督办】{unit.name}：{len(items)}项事项" + ("逾期" if overdue else "即将到期")
        chosen = channel or channel_for(address, urls)
        message = Message(
            plan_id=self.plan.id,
            recipient=recipient,
            address=address,
            channel=chosen.name,
            subject=subject,
            body=body,
            created_on=self.today,
            created_at=self.now,
            status="pending",
            attempts=1,
        )
        self.session.add(message)
        self.session.flush()
        self.session.add_all(NoticeDelivery(notice_id=n.id, message_id=message.id) for n in notices)
        try:
            chosen.send(
                OutgoingMessage(
                    message_id=message.id,
                    recipient=recipient,
                    address=address,
                    subject=subject,
                    body=body,
                )
            )
        except ChannelError as exc:
            message.status, message.last_error = "failed", str(exc)
            retry = self.now + timedelta(minutes=5 * 2 ** min(max(n.attempts for n in notices), 6))
            for n in notices:
                n.attempts += 1
                n.last_error = f"{recipient}: {exc}"
                n.next_attempt_at = retry
            return message
        message.status, message.sent_at = "sent", self.now
        for n in notices:
            n.attempts += 1
        return message


def _delivered(session: Session, notice_ids: list[int]) -> set[tuple[int, str]]:
    """(notice, recipient) pairs already sent, so a retry never repeats a delivery."""
    if not notice_ids:
        return set()
    return {
        (row.notice_id, row.recipient)
        for row in session.execute(
            select(NoticeDelivery.notice_id, Message.recipient)
            .join(Message, Message.id == NoticeDelivery.message_id)
            .where(NoticeDelivery.notice_id.in_(notice_ids), Message.status == "sent")
        )
    }


def _worst(notices: list[Notice]) -> str:
    return max(
        (n.level for n in notices),
        key=lambda lv: next((rank for prefix, rank in LEVEL_RANK.items() if prefix in lv), 0),
    )


@dataclass(frozen=True)
class DigestItem:
    level_name: str
    task: str
    milestone: str
    title: str
    unit_name: str
    due_zh: str
    timing: str
    state_label: str
    percent: int
    evidence: str


def _digest_items(
    session: Session, notices: list[Notice], units: dict[int, Unit]
) -> list[DigestItem]:
    ids = [n.item_id for n in notices if n.item_id is not None]
    rows = {
        r.id: r
        for r in session.execute(
            select(
                WorkItem.id,
                WorkItem.state,
                WorkItem.percent,
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
    out = []
    for n in sorted(notices, key=lambda n: (n.due or date.min, n.item_id or 0)):
        r = rows.get(n.item_id or -1)
        timing = (
            f"已逾期{n.workdays}个工作日"
            if n.workdays > 0
            else "今天到期"
            if n.workdays == 0
            else f"还剩{-n.workdays}个工作日"
        )
        out.append(
            DigestItem(
                level_name=n.level_name,
                task=r.task if r else "",
                milestone=r.code if r else "",
                title=r.title if r else n.rule,
                unit_name=units[n.unit_id].name,
                due_zh=_zh(n.due) if n.due else "",
                timing=timing,
                state_label=STATE_LABELS[ItemState(r.state)] if r else "",
                percent=r.percent if r else 0,
                evidence="、".join(r.evidence or []) if r else "",
            )
        )
    return out
