"""Delivering the outbox of several plans at once: one digest per recipient across them.

A recipient is the same in two plans when the unit code, the role and the address (e-mail, or
webhook URLs) are the same: their notices of every plan go out as one digest, each plan's part
under its title (:func:`write_across`), and count once against the daily cap (counted per
recipient and address over all the plans). The message is
recorded under the plan listed first (the earliest period). The rest is
:mod:`domain.services.delivery`'s: the three committed steps, the leases, the working hours.
"""

from __future__ import annotations

import re
import uuid
from collections import defaultdict
from collections.abc import Sequence

from jinja2 import Template
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from domain.adapters import leases
from domain.adapters.channels import Channel, RunChannels
from domain.adapters.jinja import environment
from domain.adapters.leases import holder_tag
from domain.queries.outbox import address_of, analyze_messages, destinations, digests_to
from domain.queries.plans import plan_of
from domain.rules.briefing.layout import NUMERALS
from domain.rules.digest import digest_subject
from domain.rules.glossary import CONTACT_ROLES, zh_date
from domain.services.delivery import (
    PREPARE_CHUNK,
    DeliveryReport,
    Sent,
    in_working_hours,
    pending_groups,
    stuck_messages,
)
from domain.services.delivery_workers import pooled, send_spread
from domain.services.digest import Composed, Digest, Written, flush, top_rung
from models import clock
from models.db import session_scope
from models.orm import Plan
from models.records import Message, Notice

Destination = tuple[str, str | None, tuple[str, ...]]
"""A recipient (``unit/role``) with its e-mail address and webhook URLs: one person."""
Part = tuple[Digest, list[Notice]]
"""One plan's share of a recipient's digest: that plan's digest writer and notices."""


def across_template() -> Template:
    """The plain-text digest across plans (each plan's part rendered by the usual template)."""
    return environment().get_template("notice_digest_plans.txt.j2")


def deliver_plans(
    engine: Engine, plan_ids: Sequence[str], *, cap: int, channel: Channel | None = None
) -> DeliveryReport:
    """Prepare, send and confirm the pending notices of every plan in ``plan_ids`` inside its
    working hours, one digest per recipient across them (a plan outside its hours waits)."""
    token = str(uuid.uuid4())
    report = DeliveryReport()
    with leases.running(holder_tag(token)):
        with session_scope(engine) as session:
            now = clock.now()
            awake = [p for p in plan_ids if in_working_hours(session, plan_of(session, p), now)]
            if not awake:
                report.quiet = True
                return report
            stuck = [m for p in awake for m in stuck_messages(session, p)]
        with RunChannels() as channels:
            send_spread(engine, stuck, channel, report, token, channels)
            with session_scope(engine) as session:
                plans = [plan_of(session, p) for p in awake]
                fresh = prepare_plans(session, plans, cap=cap, report=report, token=token)
            send_spread(engine, fresh, channel, report, token, channels)
    return report


def preview_plans(session: Session, plans: Sequence[Plan], *, cap: int) -> DeliveryReport:
    """What :func:`deliver_plans` would send now, without sending (the caller rolls back)."""
    report = DeliveryReport()
    now = clock.now()
    awake = [p for p in plans if in_working_hours(session, p, now)]
    if not awake:
        report.quiet = True
        return report
    run = "dry-run"  # the lease holder name; everything is rolled back afterwards
    with leases.running(holder_tag(run)):
        ids = prepare_plans(session, awake, cap=cap, report=report, token=run, attach=False)
    for message_id in ids:
        message = session.get(Message, message_id)
        assert message is not None
        report.sent.append(Sent.of(message))
    return report


def prepare_plans(
    session: Session,
    plans: Sequence[Plan],
    *,
    cap: int,
    report: DeliveryReport,
    token: str,
    attach: bool = True,
) -> list[int]:
    """Step 1 across plans: each plan's pending notices grouped by recipient
    (:func:`domain.services.delivery.pending_groups`), one ``sending`` digest per person.
    Returns the messages' ids."""
    now = clock.now()
    shares: dict[Destination, list[Part]] = defaultdict(list)
    ordered = sorted(plans, key=lambda p: (p.period_start, p.id))
    for plan in ordered:
        units, groups = pending_groups(session, plan, report, now)
        if not groups:
            continue
        digest = Digest.for_run(session, plan, units, now, token, attach=attach)
        places = destinations(session, plan.id)
        for recipient, notices in groups.items():
            shares[(recipient, *places.get(recipient, (None, ())))].append((digest, notices))
    if not shares:
        return []
    today = clock.local_date(now, ordered[0].timezone)
    sent = digests_to(session, today)
    chosen = []
    for (recipient, email, urls), parts in sorted(shares.items(), key=lambda kv: _order(kv[0])):
        if sent.to(recipient, address_of(email, urls), [d.plan.id for d, _ in parts]) >= cap:
            report.capped.append(recipient)
        else:
            chosen.append((recipient, parts))
    written = _compose_chosen(chosen, attach=attach)
    ids = flush(session, written)
    if attach:  # not in a dry run: ANALYZE would survive its rollback
        analyze_messages(session, len(ids))
    return ids


def _compose_chosen(chosen: list[tuple[str, list[Part]]], *, attach: bool) -> list[Written]:
    """The chosen recipients' digests, :data:`PREPARE_CHUNK` at a time, their workbooks
    written (by workers, for a large run) before they are returned."""
    written: list[Written] = []
    digests = list({id(d): d for _, shared in chosen for d, _ in shared}.values())
    with pooled(digests, len(chosen) if attach else 0):
        for start in range(0, len(chosen), PREPARE_CHUNK):
            some = chosen[start : start + PREPARE_CHUNK]
            by_digest: dict[int, tuple[Digest, list[tuple[str, list[Notice]]]]] = {}
            for recipient, shared in some:
                for d, notices in shared:
                    by_digest.setdefault(id(d), (d, []))[1].append((recipient, notices))
            for d, wanted in by_digest.values():
                d.prefetch(wanted)
            written.extend(
                shared[0][0].add(recipient, shared[0][1])
                if len(shared) == 1
                else write_across(recipient, shared)
                for recipient, shared in some
            )
    return written


def _order(destination: Destination) -> tuple[str, str, tuple[str, ...]]:
    recipient, email, urls = destination
    return recipient, email or "", urls


def write_across(recipient: str, parts: list[Part]) -> Written:
    """One digest of several plans' notices for one recipient: a greeting and the totals, each
    plan's part under its title, then once how to report (one personal link, issued in the first
    plan with the recipient's own items: the owner's page shows every plan), the reporting
    deadline and contact once when the plans share them, one signature; attachments of every
    part. Returns it unwritten (:func:`domain.services.digest.flush` writes it)."""
    footers = {(d.deadline, d.coordinator) for d, _ in parts}
    shared = len(footers) == 1  # the same deadline and contact: said once, at the end
    made: list[tuple[Digest, Composed]] = [
        (digest, digest.compose(recipient, notices, section=True, footer=not shared))
        for digest, notices in parts
    ]
    first_digest, first = made[0]
    overdue = sum(m.overdue for _, m in made)
    soon = sum(m.soon for _, m in made)
    signers = dict.fromkeys(d.units[d.plan.coordinator_code].name for d, _ in made)
    owned = [(d, m) for d, m in made if m.reports]  # the link: the first plan with own items
    link, until = owned[0][0].link_for(owned[0][1]) if owned else (None, "")
    body = across_template().render(
        recipient_name=first.unit.name,
        role_label=CONTACT_ROLES.get(first.who, ""),
        as_of_zh=zh_date(first_digest.today),
        overdue_count=overdue,
        soon_count=soon,
        sections=[(d.plan.title, m.overdue, m.soon, _dense(m.body)) for d, m in made],
        top_rung=top_rung([n for _, notices in parts for n in notices], first_digest.rungs),
        oversees=any(m.oversees for _, m in made),
        numerals=NUMERALS,
        coordinator_name="、".join(signers),
        deadline_zh=zh_date(first_digest.deadline) if shared and first_digest.deadline else "",
        coordinator=first_digest.coordinator if shared else "",
        link=link,
        link_until=until,
        reports=bool(owned),
        contact_known=all(m.contact is not None for _, m in owned),
        workbook=any(m.workbook for _, m in owned),
        workbooks=sum(m.workbook for _, m in made),
        full_lists=sum(m.full_list for _, m in made),
    )
    body = re.sub(r"\n{3,}", "\n\n", body).strip() + "\n"
    return first_digest.record(
        first,
        digest_subject(first.unit.name, overdue, soon),
        body,
        [path for _, m in made for path in m.attachments],
        [n for _, notices in parts for n in notices],
    )


def _dense(body: str) -> str:
    """One plan's part without its blank lines (the parts are set apart by their titles)."""
    return "\n".join(line for line in body.splitlines() if line.strip())
