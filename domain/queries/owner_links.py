"""Personal links of contacts: issuing one, revoking them, and finding who a link speaks for.

A link is sealed by :mod:`domain.rules.owner_links` under a secret the caller passes in, and is
good while its contact still holds the key it carries (``contact.link_key``): revoking clears
the key, so every link issued before dies and the next one issued gets a fresh key.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from config.errors import NotFoundError
from domain.queries.plans import unit_of
from domain.rules.owner_links import LinkClaim, LinkError, open_token, seal
from models.orm import Plan, Unit
from models.records import Contact

ROLE_NAMES = {"head": "负责人", "deputy": "分管负责人", "liaison": "联络员", "staff": "工作人员"}
PREFERRED_ROLES = ("liaison", "staff", "deputy", "head")
"""Whose link ``duban link --unit`` prints when no contact is named: the liaison first."""


class LinkRevokedError(LinkError):
    """The link was genuine, but its contact's links were revoked (or the contact is gone);
    ``plan`` is the plan it was for."""

    def __init__(self, message: str, plan: str) -> None:
        super().__init__(message)
        self.plan = plan


@dataclass(frozen=True)
class Owner:
    """The person a link speaks for, and the unit whose items it shows and changes."""

    plan_id: str
    plan_title: str
    timezone: str
    unit_id: int
    unit_code: str
    unit_name: str
    contact_id: int
    contact_name: str
    contact_role: str
    expires: datetime

    @property
    def actor(self) -> str:
        """How the audit trail names this person: name, unit and the way they came in."""
        return f"{self.contact_name}（{self.unit_name}·个人链接）"


@dataclass(frozen=True)
class IssuedLink:
    """A link just issued: its token and who it is for."""

    token: str
    unit_code: str
    unit_name: str
    contact_id: int
    contact_name: str
    contact_role: str
    expires: datetime


def _contact_of(session: Session, unit: Unit, contact_id: int | None) -> Contact:
    contacts = list(
        session.scalars(select(Contact).where(Contact.unit_id == unit.id).order_by(Contact.id))
    )
    if contact_id is not None:
        chosen = next((c for c in contacts if c.id == contact_id), None)
        if chosen is None:
            listed = "、".join(f"{c.id} {c.name}" for c in contacts) or "无"
            raise NotFoundError(
                f"{unit.name}没有编号为 {contact_id} 的联系人（该单位联系人：{listed}）"
            )
        return chosen
    for role in PREFERRED_ROLES:
        for contact in contacts:
            if contact.role == role:
                return contact
    raise NotFoundError(
        f"{unit.name}（{unit.code}）在任务目录中没有联系人：请在该单位的 contacts 中添加联络员后"
        "运行 `duban catalog sync`"
    )


def issue_link(
    session: Session,
    secret: bytes,
    *,
    plan_id: str,
    unit_code: str,
    contact_id: int | None,
    now: datetime,
    days: int,
) -> IssuedLink:
    """A link for one contact of a unit (the liaison when none is named), valid ``days`` from
    ``now``; the contact gets a link key first if it has none. NotFoundError names what is
    missing."""
    unit = unit_of(session, plan_id, unit_code)
    contact = _contact_of(session, unit, contact_id)
    new_key = contact.link_key is None
    issued = link_for(secret, plan_id=plan_id, unit=unit, contact=contact, now=now, days=days)
    if new_key:
        session.flush()
    return issued


def link_for(
    secret: bytes, *, plan_id: str, unit: Unit, contact: Contact, now: datetime, days: int
) -> IssuedLink:
    """:func:`issue_link` for a unit and contact already read (a delivery run's many digests):
    a contact without a link key gets one, written with the session's next flush."""
    if contact.link_key is None:
        contact.link_key = secrets.token_hex(8)
    expires = now + timedelta(days=days)
    claim = LinkClaim(plan_id, unit.code, contact.id, contact.link_key, expires)
    return IssuedLink(
        seal(secret, claim),
        unit.code,
        unit.name,
        contact.id,
        contact.name,
        contact.role,
        expires,
    )


def revoke_links(session: Session, contact_id: int) -> tuple[str, str]:
    """Make every link issued to a contact stop working; (contact name, unit name)."""
    row = session.execute(
        select(Contact, Unit.name)
        .join(Unit, Unit.id == Contact.unit_id)
        .where(Contact.id == contact_id)
    ).one_or_none()
    if row is None:
        raise NotFoundError(f"没有编号为 {contact_id} 的联系人")
    contact, unit_name = row
    contact.link_key = None
    session.flush()
    return contact.name, unit_name


def open_link(session: Session, secret: bytes, token: str, now: datetime) -> Owner:
    """Who a link speaks for. LinkForgedError or LinkExpiredError from the token itself,
    LinkRevokedError when its key is no longer the contact's (revoked, contact re-created or
    moved, unit retired)."""
    claim = open_token(secret, token, now)
    row = session.execute(
        select(Contact, Unit, Plan)
        .join(Unit, Unit.id == Contact.unit_id)
        .join(Plan, Plan.id == Unit.plan_id)
        .where(Contact.id == claim.contact_id)
    ).one_or_none()
    if row is None:
        raise LinkRevokedError("the contact is gone", claim.plan)
    contact, unit, plan = row
    held = contact.link_key or ""
    if not (
        hmac.compare_digest(held.encode(), claim.key.encode())
        and held
        and unit.code == claim.unit
        and plan.id == claim.plan
        and unit.retired_at is None
    ):
        raise LinkRevokedError("the link's key is no longer the contact's", claim.plan)
    return Owner(
        plan.id,
        plan.title,
        plan.timezone,
        unit.id,
        unit.code,
        unit.name,
        contact.id,
        contact.name,
        contact.role,
        claim.expires,
    )


def coordinator_of(session: Session, plan_id: str | None) -> str:
    """Who to ask for a new link: the plan's coordinating unit with a contact's phone (the only
    plan's when ``plan_id`` is None), else a generic name."""
    plans = list(
        session.scalars(select(Plan).where(Plan.id == plan_id) if plan_id else select(Plan))
    )
    if len(plans) != 1:
        return "督办协调单位"
    plan = plans[0]
    unit = session.scalars(
        select(Unit).where(Unit.plan_id == plan.id, Unit.code == plan.coordinator_code)
    ).first()
    if unit is None:
        return "督办协调单位"
    phone = session.scalars(
        select(Contact.phone)
        .where(Contact.unit_id == unit.id, Contact.phone.is_not(None))
        .order_by(Contact.id)
    ).first()
    return f"{unit.name}（督办协调单位，电话 {phone}）" if phone else f"{unit.name}（督办协调单位）"


def twin_contacts(session: Session, owner: Owner) -> list[tuple[str, str, int]]:
    """The same person in the database's other plans: a contact of a live unit with the owner's
    unit code, role and addresses (e-mail and URLs, the rule a digest across plans follows),
    as (plan id, plan title, contact id), the earliest period first, one per plan."""
    me = session.get(Contact, owner.contact_id)
    if me is None:
        return []
    rows = session.execute(
        select(Plan.id, Plan.title, Contact.id, Contact.email, Contact.addresses)
        .join(Unit, Unit.id == Contact.unit_id)
        .join(Plan, Plan.id == Unit.plan_id)
        .where(
            Unit.code == owner.unit_code,
            Unit.plan_id != owner.plan_id,
            Unit.retired_at.is_(None),
            Contact.role == owner.contact_role,
        )
        .order_by(Plan.period_start, Plan.id, Contact.id)
    )
    found: dict[str, tuple[str, str, int]] = {}
    for plan_id, title, contact_id, email, urls in rows:
        if email == me.email and list(urls or []) == list(me.addresses or []):
            found.setdefault(plan_id, (plan_id, title, contact_id))
    return list(found.values())
