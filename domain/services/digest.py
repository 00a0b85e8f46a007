"""One recipient's digest of notices, rendered and written as a ``sending`` message."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

from jinja2 import Template
from sqlalchemy import select
from sqlalchemy.orm import Session

from config.ladder import load_ladder
from config.settings import get_settings
from domain.adapters.jinja import environment
from domain.queries.digest import digest_items
from domain.rules.glossary import CONTACT_ROLES, zh_date
from domain.services.messages import Recipient, write_message
from models.orm import Contact, Notice, NoticeDelivery, Plan, Unit


def digest_template() -> Template:
    """The plain-text digest (mail body and file): not HTML, so nothing is escaped."""
    return environment().get_template("notice_digest.txt.j2")


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
        items = digest_items(self.session, notices, self.by_id, self.today)
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
            top_rung=top_rung(notices, self.rungs),
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


def top_rung(notices: list[Notice], rungs: dict[str, tuple[int, int]]) -> bool:
    """Whether a notice stands on the last level of its ladder (the digest then says the items
    are reported to the leadership). Notices outside the ladder (missing reports, pace) never do."""
    return any(place == count - 1 for place, count in (rungs.get(n.level, (0, 0)) for n in notices))


def ladder_rungs() -> dict[str, tuple[int, int]]:
    """Each level's place in its ladder, from the ladder in force."""
    return load_ladder(get_settings().ladder).rungs()
