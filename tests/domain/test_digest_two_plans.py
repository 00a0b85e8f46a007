"""A digest across two county-sized plans reads like one plan's: at most 40 lines, one personal
link for the whole message (the owner's page shows both plans), the "no link yet" note said
once."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, select

from config.ladder import load_ladder
from config.settings import Settings, temporary_settings
from domain.adapters.channels import FileChannel
from domain.queries.sync import sync_catalog
from domain.rules.context import LightPolicy
from domain.services.escalation import run_escalation_plans
from models.clock import end_of_working_day, frozen_time
from models.db import session_scope
from models.records import Message
from tasks_catalog.loader import load_catalog
from tests.domain.test_digest import BASE_URL, LEADERSHIP_DAY, TZ, county_catalog
from tests.fixtures.catalog import CatalogWriter

OLD, NEW = "county-a", "county-b"


def renamed(c: dict[str, Any], plan_id: str, title: str) -> None:
    """The county plan of :func:`county_catalog` under another id and title."""
    county_catalog(c)
    c["plan"].update(id=plan_id, title=title)


def digests_across(
    settings: Settings, engine: Engine, write_catalog: CatalogWriter
) -> dict[str, Message]:
    """Two county plans' notices of the ladder's last level, delivered together; the messages
    by recipient (one each: every recipient serves both plans at one address)."""
    with frozen_time(datetime(2021, 3, 1, 2, tzinfo=UTC)), session_scope(engine) as session:
        for plan_id, title in ((OLD, "示例县甲规划"), (NEW, "示例县乙规划")):
            path = write_catalog(edit=lambda c, p=plan_id, t=title: renamed(c, p, t), name=plan_id)
            sync_catalog(session, load_catalog(path)[0])
    with frozen_time(end_of_working_day(LEADERSHIP_DAY, TZ)):
        run_escalation_plans(
            engine,
            [OLD, NEW],
            LEADERSHIP_DAY,
            load_ladder(),
            policy=LightPolicy(5),
            channel=FileChannel(settings.home / "outbox"),
        )
    with session_scope(engine) as session:
        messages = list(session.scalars(select(Message).order_by(Message.id)))
        session.expunge_all()
    by = {m.recipient: m for m in messages}
    assert len(by) == len(messages)
    return by


def test_a_digest_across_two_county_plans_keeps_to_forty_lines_and_one_link(
    settings: Settings, engine: Engine, write_catalog: CatalogWriter
) -> None:
    """The coordinator's liaison owns eight items in each plan and oversees every unit's: two
    plan parts, each its own items and a summary, still at most 40 lines; one 点击填报 link, at
    the end, after both parts; every message of the day within the 40 lines."""
    with temporary_settings(web_base_url=BASE_URL, link_days=30):
        by = digests_across(settings, engine, write_catalog)
    coordinator = by["mzj/liaison"].body
    assert "一、示例县甲规划" in coordinator and "二、示例县乙规划" in coordinator
    assert coordinator.count("点击填报：") == 1
    assert coordinator.index("点击填报：") > coordinator.index("二、示例县乙规划")
    assert coordinator.count("本人专用链接") == 1
    assert "按乡镇" not in coordinator  # the township block is the summary's first cut
    assert "附件：本单位的进展填报表2份" in coordinator and "督办事项完整清单2份" in coordinator
    assert len(by["mzj/liaison"].attachments or []) == 4
    for m in by.values():
        assert len(m.body.splitlines()) <= 40, (m.recipient, len(m.body.splitlines()), m.body)


def test_without_links_the_note_on_reporting_is_said_once(
    settings: Settings, engine: Engine, write_catalog: CatalogWriter
) -> None:
    """Without ``DUBAN_WEB_BASE_URL`` a liaison of both plans reads once how to report (the
    attached workbooks), not in each plan's part; both workbooks are attached."""
    by = digests_across(settings, engine, write_catalog)
    liaison = by["t1/liaison"]
    assert liaison.body.count("填报链接暂未开通") == 1
    assert len(liaison.attachments or []) == 2
    for m in by.values():
        assert len(m.body.splitlines()) <= 40, (m.recipient, len(m.body.splitlines()), m.body)
