"""The owner's page across plans: the same person's items in the database's other plans (a
plan in its close-out beside the next one), each plan's under its title, with a link of that
plan's own (issued when the page is shown) through which its items are reported on."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from domain.queries.context import build_context
from domain.queries.owner_links import Owner, issue_link, twin_contacts
from domain.queries.owner_page import OwnerPage, owner_page
from domain.queries.plans import unit_of
from domain.rules.context import LightPolicy
from models import clock

if TYPE_CHECKING:
    from duban.web.site import Site


@dataclass(frozen=True)
class TwinPage:
    """One other plan's part of the page: its title, its items, and its own page's path."""

    plan_title: str
    page: OwnerPage
    base: str

    @property
    def items(self) -> int:
        return len(self.page.urgent) + len(self.page.others)


def twin_pages(session: Session, site: Site, owner: Owner) -> list[TwinPage]:
    """The owner's items in each other plan where the same person serves (see
    :func:`domain.queries.owner_links.twin_contacts`), today in that plan's timezone."""
    settings = site.settings
    policy = LightPolicy(settings.yellow_workdays, settings.pace_margin)
    out = []
    for plan_id, title, contact_id in twin_contacts(session, owner):
        issued = issue_link(
            session,
            site.secret,
            plan_id=plan_id,
            unit_code=owner.unit_code,
            contact_id=contact_id,
            now=clock.now(),
            days=settings.link_days,
        )
        ctx = build_context(session, plan_id, None, policy)
        unit = unit_of(session, plan_id, owner.unit_code)
        out.append(TwinPage(title, owner_page(session, ctx, unit.id), site.base(issued.token)))
    return out
