"""One recipient's digest of notices, rendered and written as a ``sending`` message.

A liaison's digest lists the unit's items and carries the contact's personal link (点击填报,
issued afresh, so each reminder renews its term) and the unit's current workbook; a head's, the
coordinator's and leadership's sum the items up (:func:`domain.rules.digest.summarize`) and
attach the full list when the summary does not show every item. Every digest names the
reporting deadline (本期报送截止) and how to reach the coordinating unit. Without
``DUBAN_WEB_BASE_URL`` there is no link (a link to this machine would not open on a phone): the
digest says to use the attached workbook or ask the coordinating unit.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from jinja2 import Template
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from config.ladder import load_ladder
from config.settings import get_settings
from domain.adapters.files import fit_name
from domain.adapters.item_list import write_item_list
from domain.adapters.jinja import environment
from domain.adapters.signing import workbook_secret
from domain.queries.digest import DigestFacts, digest_items, reporting_deadline
from domain.queries.outbox import IDS_PER_STATEMENT
from domain.queries.owner_links import coordinator_of, issue_link, link_for
from domain.rules.digest import DETAIL_LIMIT, digest_subject, grouped, summarize
from domain.rules.glossary import CONTACT_ROLES, zh_date
from domain.services.delivery_workers import WorkbookPool, write_named
from domain.services.messages import Recipient, new_message
from domain.services.workbooks import PlanWorkbooks
from models import clock
from models.orm import Plan, Unit
from models.records import Contact, Message, Notice, NoticeDelivery

OVERSEERS = frozenset({"head"})
MIXED_DETAIL, MIXED_TASKS, MIXED_TOP = 3, 3, 4
"""A digest with the unit's own items and other units' (the coordinator's liaison): own items
listed, key tasks counted and groups shown in the summary."""
SECTION_DETAIL, SECTION_TASKS, SECTION_TOP = 2, 1, 2
"""The same in one plan's part of a digest across two plans, so that the whole keeps to the
40 lines of a one-plan digest (the link and the full lists show the rest)."""
"""Roles whose digest about their own unit is a summary rather than a list."""


def digest_template() -> Template:
    """The plain-text digest (mail body and file): not HTML, so nothing is escaped."""
    return environment().get_template("notice_digest.txt.j2")


@dataclass(frozen=True)
class Links:
    """How personal links are made: the key that signs them, where they open, how long they last."""

    secret: bytes
    base_url: str
    days: int


def attachments_folder() -> Path:
    """Where digests' attachments are kept (``<home>/attachments/<day>/<run>-<recipient>/``),
    so that a message taken over by another run still finds them."""
    return get_settings().home / "attachments"


def links_from_settings() -> Links | None:
    """Personal links when ``DUBAN_WEB_BASE_URL`` is set, else none."""
    settings = get_settings()
    if not settings.web_base_url:
        return None
    return Links(workbook_secret(settings), settings.resolved_web_base_url, settings.link_days)


@dataclass(frozen=True)
class Composed:
    """One recipient's digest as rendered, before it is written: the unit, the contact (if the
    catalogue names one), the subject, body, attachments and the counts."""

    unit: Unit
    contact: Contact | None
    subject: str
    body: str
    attachments: list[Path]
    overdue: int
    soon: int
    who: str
    reports: bool = False
    """Whether the recipient reports on items of their own (the digest says how)."""
    workbook: bool = False
    """Whether the unit's workbook is attached."""
    full_list: bool = False
    """Whether the full list of the items is attached (the summary does not show them all)."""
    oversees: bool = False
    """Whether the digest sums up other units' items (the recipient is asked to urge them)."""


def plan_years(plan: Plan) -> str:
    """A plan named by its period, for file names: ``2021—2025年规划``."""
    return f"{plan.period_start.year}—{plan.period_end.year}年规划"


@dataclass
class Digest:
    """Renders one recipient's digest and records it as a ``sending`` message.

    ``files`` is where attachments are written (None: none are, as in a dry run)."""

    session: Session
    plan: Plan
    units: dict[str, Unit]
    by_id: dict[int, Unit]
    template: Template
    now: datetime
    today: date
    token: str
    rungs: dict[str, tuple[int, int]]
    links: Links | None = None
    files: Path | None = None
    deadline: date | None = None
    coordinator: str = ""
    facts: DigestFacts = field(default_factory=DigestFacts)
    contacts: dict[tuple[int, str], Contact | None] = field(default_factory=dict)
    _contacts_read: set[int] = field(default_factory=set)
    _sheets: PlanWorkbooks | None = None
    pool: WorkbookPool | None = None
    """Where workbooks are written (None: here); they are waited for before :func:`flush`."""

    @classmethod
    def for_run(
        cls,
        session: Session,
        plan: Plan,
        units: dict[str, Unit],
        now: datetime,
        token: str,
        *,
        attach: bool = True,
    ) -> Digest:
        """A delivery run's digests, under the settings and ladder in force (attachments
        written unless ``attach`` is false)."""
        return cls(
            session,
            plan,
            units,
            {u.id: u for u in units.values()},
            digest_template(),
            now,
            clock.local_date(now, plan.timezone),
            token,
            ladder_rungs(),
            links=links_from_settings(),
            files=attachments_folder() if attach else None,
        )

    def __post_init__(self) -> None:
        if self.deadline is None:
            self.deadline = reporting_deadline(self.session, self.plan, self.today)
        if not self.coordinator:
            self.coordinator = coordinator_of(self.session, self.plan.id)

    def write(self, recipient: str, notices: list[Notice]) -> int:
        """The recipient's digest of ``notices`` written ``sending``; returns its message id."""
        return flush(self.session, [self.add(recipient, notices)])[0]

    def add(self, recipient: str, notices: list[Notice]) -> Written:
        """The recipient's digest of ``notices``, to be written ``sending`` by :func:`flush`
        with others."""
        made = self.compose(recipient, notices)
        return self.record(made, made.subject, made.body, made.attachments, notices)

    def prefetch(self, groups: Sequence[tuple[str, list[Notice]]]) -> None:
        """Read what the digests of ``groups`` (recipient, notices) need, a few statements for
        all of them: their items, days, contacts and, for liaisons, their units' workbooks'
        items."""
        self.facts.read(self.session, (n for _, notices in groups for n in notices), self.today)
        units = [self.units[recipient.split("/")[0]] for recipient, _ in groups]
        self._read_contacts(units)
        if self.files is not None:
            self.sheets.prefetch(
                [
                    unit
                    for unit, (recipient, notices) in zip(units, groups, strict=True)
                    if recipient.endswith("/liaison") and any(n.unit_id == unit.id for n in notices)
                ]
            )

    @property
    def sheets(self) -> PlanWorkbooks:
        """The plan's workbooks on this day (read on first use)."""
        if self._sheets is None:
            self._sheets = PlanWorkbooks.read(self.session, self.plan, self.today)
        return self._sheets

    def _read_contacts(self, units: Iterable[Unit]) -> None:
        """Each role's first contact (by id) of ``units`` not read yet."""
        ids = sorted({u.id for u in units} - self._contacts_read)
        self._contacts_read.update(ids)
        for start in range(0, len(ids), IDS_PER_STATEMENT):
            part = ids[start : start + IDS_PER_STATEMENT]
            for c in self.session.scalars(
                select(Contact).where(Contact.unit_id.in_(part)).order_by(Contact.id)
            ):
                self.contacts.setdefault((c.unit_id, c.role), c)

    def contact(self, unit: Unit, who: str) -> Contact | None:
        """The unit's first contact in role ``who`` (None if the catalogue names none)."""
        self._read_contacts([unit])
        return self.contacts.get((unit.id, who))

    def compose(
        self, recipient: str, notices: list[Notice], *, section: bool = False, footer: bool = True
    ) -> Composed:
        """The recipient's digest of ``notices``, rendered (attachments written); with
        ``section``, as one plan's part of a digest across plans: no greeting or signature, and
        its attachments named with the plan's years; without ``footer``, no reporting deadline
        and contact lines (the digest across plans says them once when the plans share them)."""
        code, who = recipient.split("/")
        unit = self.units[code]
        contact = self.contact(unit, who)
        own_notices = [n for n in notices if n.unit_id == unit.id]
        other_notices = [n for n in notices if n.unit_id != unit.id]
        own = digest_items(self.session, own_notices, self.by_id, self.today, self.facts)
        others = digest_items(self.session, other_notices, self.by_id, self.today, self.facts)
        items = own + others
        overdue = sum(1 for i in items if i.overdue > 0)
        soon = len(items) - overdue
        folder = self._folder(recipient)
        years = f"-{plan_years(self.plan)}" if section else ""
        if section and folder is not None:
            folder = folder / self.plan.id
        attachments: list[Path] = []
        if own and who == "liaison" and folder is not None:
            name = fit_name(f"进展填报表-{unit.name}{years}-{self.today.isoformat()}.xlsx")
            attachments.append(write_named(self.sheets, unit, folder / name, self.pool))
        detail = own and who not in OVERSEERS
        mixed = bool(own and others)
        # both the unit's own list and everyone's summary, or one plan's part of a digest
        # across plans: each gets a part of the 40 lines
        tight = mixed or section
        budget = {"top": MIXED_TOP, "tasks": MIXED_TASKS} if tight else {}
        limit = MIXED_DETAIL if tight else DETAIL_LIMIT
        if section and mixed:
            budget, limit = {"top": SECTION_TOP, "tasks": SECTION_TASKS}, SECTION_DETAIL
        own_summary = summarize(own, **(budget if section else {})) if own and not detail else None
        summary = summarize(others, **budget) if others else None
        partial = [s for s in (own_summary, summary) if s is not None and not s.complete]
        full_list = None
        if partial and folder is not None:
            full = folder / fit_name(
                f"督办事项清单-{unit.name}{years}-{self.today.isoformat()}.csv"
            )
            listed = (own if own_summary is not None else []) + others
            attachments.append(write_item_list(full, listed))
            full_list = full.name
        # one plan's part carries no link: the digest across plans gives one at its end
        link, until = self._link(unit, contact) if own and not section else (None, "")
        lines = grouped(own) if detail else []
        workbook = attachments[0].name if attachments and who == "liaison" and own else None
        body = self.template.render(
            recipient_name=unit.name,
            role_label=CONTACT_ROLES.get(who, ""),
            plan_title=self.plan.title,
            as_of_zh=zh_date(self.today),
            top_rung=top_rung(notices, self.rungs),
            overdue_count=overdue,
            soon_count=soon,
            lines=lines[:limit],
            more=sum(len(line.units) for line in lines[limit:]),
            own_summary=own_summary,
            summary=summary,
            full_list=full_list,
            link=link,
            link_until=until,
            link_below=link is not None or self.linked(own and section, contact),
            contact_known=contact is not None,
            workbook=workbook,
            deadline_zh=zh_date(self.deadline) if self.deadline else "",
            coordinator=self.coordinator,
            coordinator_name=self.units[self.plan.coordinator_code].name,
            section=section,
            footer=footer,
        )
        body = re.sub(r"\n{3,}", "\n\n", body).strip() + "\n"  # optional parts leave no gaps
        subject = digest_subject(unit.name, overdue, soon)
        return Composed(
            unit,
            contact,
            subject,
            body,
            attachments,
            overdue,
            soon,
            who,
            reports=bool(lines or own_summary),
            workbook=workbook is not None,
            full_list=full_list is not None,
            oversees=summary is not None,
        )

    def record(
        self,
        made: Composed,
        subject: str,
        body: str,
        attachments: list[Path],
        notices: list[Notice],
    ) -> Written:
        """The digest to ``made``'s recipient, ``sending``, with the ``notices`` it carries
        (added to the session; :func:`flush` writes it)."""
        recipient, contact = f"{made.unit.code}/{made.who}", made.contact
        message = new_message(
            self.plan,
            Recipient(
                recipient,
                contact.email if contact else None,
                list(contact.addresses) if contact else [],
            ),
            subject=subject,
            body=body,
            token=self.token,
            now=self.now,
            attachments=[str(p) for p in attachments] or None,
        )
        self.session.add(message)
        return message, notices

    def _folder(self, recipient: str) -> Path | None:
        if self.files is None:
            return None
        return self.files / self.today.isoformat() / fit_name(f"{self.token[:8]}-{recipient}")

    def linked(self, own: object, contact: Contact | None) -> bool:
        """Whether a personal link will be issued to ``contact`` for ``own`` items."""
        return bool(own) and self.links is not None and contact is not None

    def link_for(self, made: Composed) -> tuple[str | None, str]:
        """The personal link of a digest across plans (one for the whole message: the owner's
        page shows every plan), issued in this plan for ``made``'s recipient."""
        return self._link(made.unit, made.contact)

    def _link(self, unit: Unit, contact: Contact | None) -> tuple[str | None, str]:
        """The contact's personal link and the day it lapses, issued now (renewing its term)."""
        if self.links is None or contact is None:
            return None, ""
        if unit.retired_at is None and unit.plan_id == self.plan.id:
            issued = link_for(  # unit and contact at hand: no statement
                self.links.secret,
                plan_id=self.plan.id,
                unit=unit,
                contact=contact,
                now=self.now,
                days=self.links.days,
            )
        else:  # as issue_link has it: a retired unit gets no link
            issued = issue_link(
                self.session,
                self.links.secret,
                plan_id=self.plan.id,
                unit_code=unit.code,
                contact_id=contact.id,
                now=self.now,
                days=self.links.days,
            )
        until = zh_date(clock.local_date(issued.expires, self.plan.timezone))
        return f"{self.links.base_url}/l/{issued.token}", until


def top_rung(notices: list[Notice], rungs: dict[str, tuple[int, int]]) -> bool:
    """Whether a notice stands on the last level of its ladder (the digest then says the items
    are reported to the leadership). Notices outside the ladder (missing reports, pace) never do."""
    return any(place == count - 1 for place, count in (rungs.get(n.level, (0, 0)) for n in notices))


Written = tuple[Message, list[Notice]]
"""A digest added to the session, not yet written, and the notices it carries."""


def flush(session: Session, written: Sequence[Written]) -> list[int]:
    """Write the digests (one statement for many messages, one for their deliveries); returns
    their message ids in order."""
    session.flush()
    rows = [{"notice_id": n.id, "message_id": m.id} for m, notices in written for n in notices]
    if rows:
        session.execute(insert(NoticeDelivery), rows)
    return [m.id for m, _ in written]


def ladder_rungs() -> dict[str, tuple[int, int]]:
    """Each level's place in its ladder, from the ladder in force."""
    return load_ladder(get_settings().ladder).rungs()
