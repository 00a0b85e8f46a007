"""The owner's page of a person who serves two plans: the link's own plan's items, then the
other plan's under its title, each item opening through a link of that plan; someone else in
the other plan (another address) is not shown there."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime

import httpx
from sqlalchemy import Engine, select

from config.settings import Settings
from domain.adapters.signing import workbook_secret
from domain.queries.owner_links import issue_link
from duban.web import create_app
from models import clock
from models.db import session_scope
from models.orm import Unit
from models.records import Contact
from tests.fixtures.two_plans import NEW_TITLE, OLD, OLD_TITLE

NOW = datetime(2026, 1, 15, 2, tzinfo=UTC)  # 10:00 in Shanghai, the day both plans have items


def link(engine: Engine, settings: Settings, plan: str, unit: str, role: str) -> str:
    with session_scope(engine) as session:
        contact = session.scalars(
            select(Contact.id)
            .join(Unit, Unit.id == Contact.unit_id)
            .where(Unit.plan_id == plan, Unit.code == unit, Contact.role == role)
        ).one()
        issued = issue_link(
            session,
            workbook_secret(settings),
            plan_id=plan,
            unit_code=unit,
            contact_id=contact,
            now=clock.now(),
            days=30,
        )
    return f"/l/{issued.token}"


def page(settings: Settings, path: str) -> str:
    transport = httpx.ASGITransport(app=create_app(settings))

    async def fetch() -> str:
        async with httpx.AsyncClient(transport=transport, base_url="http://duban") as client:
            answer = await client.get(path)
            assert answer.status_code == 200, answer.text
            return answer.text

    return asyncio.run(fetch())


def test_a_liaison_of_both_plans_sees_both_grouped_by_plan(
    settings: Settings, two_plans: Engine
) -> None:
    """甲镇's liaison, same address in both: the old plan's overdue item under the old plan's
    title, the new plan's item due today under the new one's, with a link of the new plan's
    own that opens that item."""
    with clock.frozen_time(NOW):
        old_link = link(two_plans, settings, OLD, "t1", "liaison")
        html = page(settings, old_link)
        assert "您在2个规划中都有事项，按规划分列如下" in html
        old_at, new_at = html.index(OLD_TITLE), html.index(f'<h2 class="plan">{NEW_TITLE}')
        assert old_at < html.index("乡镇自查验收") < new_at < html.index("乡镇制定实施方案")
        (twin_item,) = re.findall(r'href="(/l/[^"/]+/items/\d+)"', html[new_at:])
        assert not twin_item.startswith(old_link)
        assert "乡镇制定实施方案" in page(settings, twin_item)


def test_another_person_in_the_other_plan_is_not_shown(
    settings: Settings, two_plans: Engine
) -> None:
    """乙乡's head has another address in the new plan: the old plan's page stands alone."""
    with clock.frozen_time(NOW):
        html = page(settings, link(two_plans, settings, OLD, "t2", "head"))
    assert "乡镇自查验收" in html and NEW_TITLE not in html and "按规划分列" not in html
