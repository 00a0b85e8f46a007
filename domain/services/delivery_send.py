"""Steps 2 and 3 of delivery: messages written ``sending`` are claimed, sent and confirmed,
:data:`SEND_CHUNK` at a time, each chunk read and written in a few statements.

A chunk is claimed in one transaction (the claims, the messages, the notices they carry and
those notices' items, each one statement), sent outside any transaction, then confirmed in one
(the messages, their pending notices, the notices' other deliveries and their recipients'
units). A crash between the two re-sends at most one chunk, each message under its own id.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from domain.adapters import leases
from domain.adapters.channels import Channel, ChannelError, OutgoingMessage, RunChannels
from domain.adapters.leases import holder_tag, wall_now
from domain.queries.outbox import IDS_PER_STATEMENT, delivered
from domain.queries.plans import plan_of
from domain.rules.glossary import ITEM_STATES, word, zh_date
from domain.rules.lifecycle import DONE_STATES
from domain.services.messages import LEASE, claim
from models import clock
from models.db import session_scope
from models.enums import ItemState
from models.orm import Plan, Unit, WorkItem
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
    its mail shares one connection), made durable (the file channel's files on disk), then
    confirmed, the ones sent confirmed even if sending a later one raised."""
    run = channels or RunChannels()  # messages sent on their own: their own connection
    try:
        for start in range(0, len(message_ids), SEND_CHUNK):
            with session_scope(engine) as session:
                taken = take(session, message_ids[start : start + SEND_CHUNK], report, token)
            results: list[tuple[int, str | None]] = []
            try:
                for out, name in taken:
                    try:
                        (channel or run.named(name, out.address)).send(out)
                        results.append((out.message_id, None))
                    except ChannelError as exc:
                        results.append((out.message_id, str(exc)))
            finally:
                # what the channels wrote is on disk before any of it is marked sent
                results = run.settle(results) if channel is None else _settled(channel, results)
                with session_scope(engine) as session:
                    confirm(session, results, report, token)
    finally:
        if channels is None:
            run.close()


def _settled(
    channel: Channel, results: list[tuple[int, str | None]]
) -> list[tuple[int, str | None]]:
    """A given channel's results once what it wrote is durable (if it defers that)."""
    settle = getattr(channel, "settle", None)
    return settle(results) if settle is not None else results


def take(
    session: Session, message_ids: Sequence[int], report: DeliveryReport, token: str
) -> list[tuple[OutgoingMessage, str]]:
    """Step 2's first half for a chunk: the messages claimed and ready to send, each with its
    channel's name, in the order given; a message another run holds is left out, and a digest
    whose notices all went stale is skipped."""
    claimed = _claim_all(session, message_ids, token)
    if not claimed:
        return []
    messages = {m.id: m for m in session.scalars(select(Message).where(Message.id.in_(claimed)))}
    carried = carried_notices_of(session, sorted(claimed))
    linked = [n for notices in carried.values() for n in notices if n.status == "pending"]
    items = _items_of(session, linked)
    out = []
    for message_id in (m for m in message_ids if m in claimed):
        m = messages[message_id]
        notices = carried.get(message_id, [])
        pending = [n for n in notices if n.status == "pending"]
        # a digest whose notices all went stale is not sent; a briefing or an alert always is
        if notices and not _sort_stale(pending, items, report):
            # everything in it was done or rescheduled since it was written (a held message)
            m.status, m.last_error = "skipped", "未发送：发出前其中的事项已有变化"
            continue
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
        out.append((outgoing, m.channel))
    return out


def _claim_all(session: Session, message_ids: Sequence[int], token: str) -> set[int]:
    """The messages of ``message_ids`` this run now holds: the lease renewed in one statement
    on those it wrote, the others claimed one by one (:func:`claim`: taken over from a dead
    run, or held by another)."""
    mine = holder_tag(token)
    leases.require_running(mine)
    renewed = set(
        session.scalars(
            update(Message)
            .where(
                Message.id.in_(message_ids),
                Message.status == "sending",
                Message.claimed_by == mine,
            )
            .values(next_attempt_at=wall_now() + LEASE)
            .returning(Message.id)
            .execution_options(synchronize_session=False)
        )
    )
    return renewed | {m for m in message_ids if m not in renewed and claim(session, m, token)}


def confirm(
    session: Session, results: Sequence[tuple[int, str | None]], report: DeliveryReport, token: str
) -> None:
    """Step 3 for a chunk: each message ``sent`` and its notices with it once every recipient
    of a notice has it, or ``failed`` with its notices pending under a back-off; a message
    whose lease ran out (another run took it over) is left alone."""
    if not results:
        return
    ids = [message_id for message_id, _ in results]
    messages = {m.id: m for m in session.scalars(select(Message).where(Message.id.in_(ids)))}
    mine = holder_tag(token)
    ours = [
        (messages[i], error)
        for i, error in results
        if messages[i].status == "sending" and messages[i].claimed_by == mine
    ]
    carried = carried_notices_of(session, [m.id for m, _ in ours])
    now = clock.now()
    plans: dict[str, Plan] = {}
    sent_notices: list[tuple[Notice, str]] = []  # with the recipient the message reached
    tries: dict[Notice, int] = {}  # messages of this chunk that carried each notice
    for m, error in ours:
        notices = [n for n in carried.get(m.id, []) if n.status == "pending"]
        if error is not None:
            m.status, m.last_error = "failed", error
            for n in notices:
                tries[n] = tries.get(n, 0) + 1
                n.last_error = f"{m.recipient}: {error}"
                n.next_attempt_at = now + timedelta(minutes=5 * 2 ** min(n.attempts + tries[n], 6))
            report.failed.append(Sent.of(m))
            continue
        plan = plans.get(m.plan_id) or plans.setdefault(m.plan_id, plan_of(session, m.plan_id))
        m.status, m.sent_at = "sent", now
        m.sent_on = clock.local_date(now, plan.timezone)
        report.sent.append(Sent.of(m))
        for n in notices:
            tries[n] = tries.get(n, 0) + 1
        sent_notices.extend((n, m.recipient) for n in notices)
    for n, k in tries.items():  # added in SQL: other workers may send its other messages
        n.attempts = Notice.attempts + k
    unique = list({n.id: n for n, _ in sent_notices}.values())
    wanted = wanted_recipients(session, unique)
    done = {(n.id, recipient) for n, recipient in sent_notices}  # sent in this chunk
    # a notice some of whose recipients are not in this chunk: sent to them before? (the
    # query flushes the messages just marked sent first)
    unsure = [n.id for n in unique if any((n.id, r) not in done for r in wanted[n.id])]
    done |= delivered(session, unsure, statuses=("sent",))
    for n in unique:
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
    return carried_notices_of(session, [message_id]).get(message_id, [])


def carried_notices_of(session: Session, message_ids: Sequence[int]) -> dict[int, list[Notice]]:
    """Every notice each message carries, whatever its status, by message id (found by the
    deliveries' message index; a briefing or an alert carries none)."""
    out: dict[int, list[Notice]] = defaultdict(list)
    for start in range(0, len(message_ids), IDS_PER_STATEMENT):
        rows = session.execute(
            select(NoticeDelivery.message_id, Notice)
            .join(Notice, Notice.id == NoticeDelivery.notice_id)
            .where(NoticeDelivery.message_id.in_(message_ids[start : start + IDS_PER_STATEMENT]))
            .order_by(NoticeDelivery.message_id, Notice.id)
        )
        for message_id, notice in rows:
            out[message_id].append(notice)
    return out


def recipients_units(session: Session, plan: Plan, unit_ids: set[int]) -> dict[int, Unit]:
    """Id → unit for the notices' units and the plan's coordinating and leadership units (the
    units a notice's roles can name), not every unit of the plan: two statements, each read
    through an index (one with an OR of the two would scan every unit of a province)."""
    codes = [plan.coordinator_code, plan.leadership_code]
    ids = sorted(unit_ids)
    wanted = [Unit.code.in_(codes)] + [
        Unit.id.in_(ids[start : start + IDS_PER_STATEMENT])
        for start in range(0, len(ids), IDS_PER_STATEMENT)
    ]
    return {
        u.id: u
        for condition in wanted
        for u in session.scalars(select(Unit).where(Unit.plan_id == plan.id, condition))
    }


def recipient_of(
    role: str, notice_unit: Unit, plan: Plan, units: dict[str, Unit]
) -> tuple[Unit, str]:
    if role.startswith("owner:"):
        return notice_unit, role.split(":", 1)[1]
    code = plan.coordinator_code if role == "coordinator" else plan.leadership_code
    return units[code], "head" if role == "leadership" else "liaison"


Item = tuple[int, str, object]
"""A notice's item as the stale check reads it: id, state, due date."""


def skip_stale(session: Session, pending: list[Notice], report: DeliveryReport) -> list[Notice]:
    """Mark skipped the notices whose item is done, retired, or due on another date now; the
    rest are returned."""
    return _sort_stale(pending, _items_of(session, pending), report)


def _items_of(session: Session, notices: Iterable[Notice]) -> dict[int, Item]:
    ids = sorted({n.item_id for n in notices if n.item_id is not None})
    return {
        r.id: (r.id, r.state, r.due)
        for start in range(0, len(ids), IDS_PER_STATEMENT)
        for r in session.execute(
            select(WorkItem.id, WorkItem.state, WorkItem.due).where(
                WorkItem.id.in_(ids[start : start + IDS_PER_STATEMENT])
            )
        )
    }


_FINISHED = frozenset({s.value for s in DONE_STATES} | {ItemState.RETIRED.value})


def _sort_stale(
    pending: list[Notice], items: dict[int, Item], report: DeliveryReport
) -> list[Notice]:
    keep = []
    for n in pending:
        item = items.get(n.item_id) if n.item_id is not None else None
        reason = None
        if item is not None and item[1] in _FINISHED:
            reason = f"未发送：事项已是“{word(ITEM_STATES, item[1])}”"
        elif item is not None and n.kind != "missing_report" and item[2] != n.due:
            was = zh_date(n.due) if n.due else "（无）"
            reason = f"未发送：完成时限已由{was}改为{zh_date(item[2])}"  # type: ignore[arg-type]
        if reason:
            n.status, n.last_error = "skipped", reason
            report.skipped += 1
        else:
            keep.append(n)
    return keep
