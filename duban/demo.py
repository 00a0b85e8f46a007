"""The main job on the embedded default: what the README's first command runs.

It creates a fresh SQLite database in its own folder (never the user's real one), validates and
syncs the default catalogue (the Shidian plan), writes a clearly labelled SAMPLE inbox of unit
workbooks for six weekly cycles, collects each week on its Friday (the clock replays those
days), and prints the status picture, the reporting completeness and the indicators.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from rich.console import Console
from sqlalchemy import Engine, select

from config.settings import get_settings, temporary_settings
from domain.adapters.channels import FileChannel
from domain.adapters.leases import wall_now
from domain.adapters.signing import workbook_secret
from domain.queries.completeness import reporting_view
from domain.queries.context import build_context
from domain.queries.indicators import indicator_values
from domain.queries.owner_links import issue_link
from domain.queries.plans import plan_of
from domain.queries.status import status_view
from domain.queries.sync import sync_catalog
from domain.rules.context import LightPolicy
from domain.rules.glossary import FILE_KINDS, word, zh_date
from domain.services.intake.inbox import collect
from duban import render
from duban.demo_mail import DEMO_FOLDERS, mail_in
from duban.demo_web import WebTally, owner_site, visit_week
from duban.orchestration import LocalServer, free_port, prefect_client, prefect_home, ui_url
from duban.sample import SampleBatch, add_sample_contacts, write_sample_inbox
from duban.sample_cast import (
    SAMPLE_CONTACT,
    SampleCast,
    catalog_cast,
    sample_address,
    with_sample_contacts,
)
from models import clock
from models.db import get_engine, session_scope
from models.migrate import upgrade
from models.orm import Plan, Unit
from models.records import Briefing, Message
from tasks_catalog.expand import plan_items
from tasks_catalog.loader import load_catalog
from tasks_catalog.schema import Catalog

SEED = 2021
"""The sample's random seed: the same run gives the same figures."""


def run_demo(console: Console, home: Path, as_of: date) -> None:
    """Run the main job in ``home`` (its database and sample inbox are recreated)."""
    home.mkdir(parents=True, exist_ok=True)
    database = home / "duban.db"
    for stale in (database, home / "duban.db-wal", home / "duban.db-shm"):
        stale.unlink(missing_ok=True)
    for folder in ("inbox", "outbox", "attachments", "briefings", "prefect", "evidence", "mail"):
        shutil.rmtree(home / folder, ignore_errors=True)
    # never outside: files for every message, and the personal links in the reminders open
    # `duban web` on this machine, whatever DUBAN_WEB_BASE_URL says
    outside = get_settings()
    local_web = f"http://{outside.web_host}:{outside.web_port}"
    never_outside = {"channel": "file", "web_base_url": local_web, "evidence": None}
    with temporary_settings(
        home=home, database_url=None, inbox=None, **never_outside, **DEMO_FOLDERS
    ) as settings:
        console.rule("[bold]duban 主流程演示")
        console.print(f"数据目录：{home}", markup=False)
        engine = get_engine()
        _, revision = upgrade(engine)
        console.print(f"1. 已创建数据库：{database}（结构版本 {revision}）", markup=False)

        catalog, warnings = load_catalog(settings.catalog)
        console.print(f"2. {render.catalog_summary(catalog, len(plan_items(catalog)))}")
        for warning in warnings:
            console.print(f"   说明：{warning.message}", markup=False)

        cast = catalog_cast(catalog, SEED)
        catalog = with_sample_contacts(catalog, cast.with_contacts)
        console.print("3. 把规划目录同步到数据库")
        console.print(
            f"   示例联系人：为 {len(cast.with_contacts)} 个单位各添加一名“{SAMPLE_CONTACT}”"
            "（程序生成，非真实人员；只写入本演示的数据库，不改动规划目录），"
            "供他们用个人链接或邮件报送",
            markup=False,
        )
        _sync_twice(console, engine, catalog)

        _sample_contacts(console, engine, catalog.plan.id)
        last_friday = as_of - timedelta(days=(as_of.weekday() - 4) % 7 or 7)
        with session_scope(engine) as session:
            plan = plan_of(session, catalog.plan.id)
            batches = write_sample_inbox(
                session,
                plan,
                settings.resolved_inbox / "sample",
                last_friday=last_friday,
                seed=SEED,
            )
        arrivals = _sample_weeks(console, engine, plan, cast, batches)
        console.print(f"5. {zh_date(as_of)}的情况")
        with session_scope(engine) as session:
            ctx = build_context(
                session, plan.id, as_of, LightPolicy(settings.yellow_workdays, settings.pace_margin)
            )
            view = status_view(session, ctx, with_items=True)
            done = reporting_view(session, ctx)
            plan = plan_of(session, catalog.plan.id)
            values = indicator_values(session, plan.id, as_of)
        render.status(console, view, item_limit=None)
        render.urgent_items(console, view)
        console.print(f"6. 截至{zh_date(as_of)}的报送情况")
        render.completeness(console, done)
        console.print("7. 指标")
        render.indicators(console, as_of, values)
        _through_flows(console, engine, plan, as_of)
        console.rule()
        console.print(
            f"试一试：DUBAN_HOME={home} .venv/bin/duban status --as-of {as_of} --task 1",
            markup=False,
            soft_wrap=True,  # a command to copy: never broken across lines
        )
        _print_link(console, engine, plan, arrivals)


@dataclass(frozen=True)
class Arrivals:
    """How the sample's reports came in: rows landed from inbox files, from the pages (with
    what else the pages got), from mail; and the unit whose link the job prints."""

    inbox: int
    web: WebTally
    mail: int
    link_unit: str


def _sample_weeks(
    console: Console, engine: Engine, plan: Plan, cast: SampleCast, batches: list[SampleBatch]
) -> Arrivals:
    """Step 4: each week, the web units answer on their pages on Friday morning, a mail may
    come, and the inbox is collected at the end of that Friday."""
    settings = get_settings()
    inbox = settings.resolved_inbox / "sample"
    with session_scope(engine) as session:
        rows = session.execute(
            select(Unit.code, Unit.name).where(
                Unit.plan_id == plan.id, Unit.code.in_(cast.with_contacts)
            )
        )
        names = {row.code: row.name for row in rows}
    console.print(
        f"4. 示例报送（程序生成，非真实数据）共 {len(batches)} 周，在 {inbox}；"
        "每周在当周星期五收集：",
        markup=False,
    )
    web, inbox_reports, mailed = WebTally(), 0, 0
    with owner_site(settings) as site:
        first = next(n for n, b in enumerate(batches, start=1) if b.web)
        console.print(
            f"   第 {first} 周起，{'、'.join(names[c] for c in cast.web)}改用个人链接报送：",
            markup=False,
        )
        console.print(
            f"   每周五上午在填报页面（本演示临时启动的 {site}）逐页提交，如同在手机上操作",
            markup=False,
        )
        for batch in batches:
            if batch.web:
                with clock.frozen_time(_at(batch.collect_on, 10, plan.timezone)):
                    week = visit_week(
                        engine, settings, site, plan, batch.web, extension=batch is batches[-1]
                    )
                console.print(f"  {batch.folder.name} 网页填报：{week.line()}", markup=False)
                web += week
            if batch.mailed is not None:
                with clock.frozen_time(_at(batch.collect_on, 11, plan.timezone)):
                    mailed = mail_in(
                        console,
                        engine,
                        plan.id,
                        batch.mailed,
                        batch.folder,
                        unit_name=names[cast.mailer],
                        address=sample_address(cast.mailer),
                    )
            with clock.frozen_time(clock.end_of_working_day(batch.collect_on, plan.timezone)):
                outcomes = collect(engine, plan.id, batch.folder)
            render.collect_report(console, batch.folder, outcomes, per_file=False)
            inbox_reports += sum(o.landed.reports for o in outcomes if o.landed)
    console.print(
        f"   报送方式合计：收件箱台账 {inbox_reports} 条，填报页面 {web.reports} 条，"
        f"邮件 {mailed} 条",
        markup=False,
    )
    return Arrivals(inbox_reports, web, mailed, cast.web[0])


def _sync_twice(console: Console, engine: Engine, catalog: Catalog) -> None:
    """Load the catalogue, then again to show nothing changes; as when the plan began, as a
    coordinator would have: the items' history starts there, before the reports that follow."""
    loaded_at = _at(catalog.plan.period.start, 9, catalog.plan.timezone)
    with clock.frozen_time(loaded_at), session_scope(engine) as session:
        report = sync_catalog(session, catalog)
    render.sync_report(console, report, limit=5)
    with clock.frozen_time(loaded_at), session_scope(engine) as session:
        again = sync_catalog(session, catalog)
    said = "没有变化（幂等）" if again.unchanged else "出现了意外的变化"
    console.print("   再同步一次：" + said)


def _at(day: date, hour: int, timezone: str) -> datetime:
    """``hour`` o'clock local time on ``day``."""
    return datetime.combine(day, time(hour), tzinfo=ZoneInfo(timezone))


def _print_link(console: Console, engine: Engine, plan: Plan, arrivals: Arrivals) -> None:
    """One unit's personal link, issued now, and how to open it."""
    settings = get_settings()
    with session_scope(engine) as session:
        issued = issue_link(
            session,
            workbook_secret(settings),
            plan_id=plan.id,
            unit_code=arrivals.link_unit,
            contact_id=None,
            now=clock.now(),
            days=settings.link_days,
        )
    until = zh_date(clock.local_date(issued.expires, plan.timezone))
    console.print(
        f"填报页面：先运行 `DUBAN_HOME={settings.home} .venv/bin/duban web`，"
        f"再打开{issued.unit_name}{issued.contact_name}的个人链接（有效期至 {until}）：",
        markup=False,
        soft_wrap=True,  # a command to copy: never broken across lines
    )
    console.print(
        f"{settings.resolved_web_base_url}/l/{issued.token}", markup=False, soft_wrap=True
    )
    console.print(
        "   这个链接只在用本演示的数据运行填报页面时可用；页面按当天的实际日期列出事项。",
        markup=False,
    )
    if arrivals.web.extensions:
        console.print(
            f"待审批的延期申请：`DUBAN_HOME={settings.home} .venv/bin/duban extension-requests`",
            markup=False,
            soft_wrap=True,  # a command to copy: never broken across lines
        )


def _sample_contacts(console: Console, engine: Engine, plan_id: str) -> None:
    """The default catalogue names no contacts yet: sample ones, so reminders carry links."""
    base_url = get_settings().resolved_web_base_url
    with session_scope(engine) as session:
        added = add_sample_contacts(session, plan_of(session, plan_id))
    if added:
        console.print(
            f"   其余单位：为演示各添加示例联络员和负责人，共 {added} 人（无邮箱，"
            f"提醒写入发件箱文件夹；其中的个人填报链接以 {base_url} 开头）",
            markup=False,
        )


def _through_flows(console: Console, engine: Engine, plan: Plan, as_of: date) -> None:
    """Steps 8 and 9 as Prefect flows on a dedicated local Prefect server whose history stays
    in the data directory: the day's cycle (lights, escalation, delivery, the coordinator's
    view) and the week's briefing (approved automatically here, sent to the file outbox)."""
    settings = get_settings()
    server = LocalServer(prefect_home(settings), free_port())
    console.print(f"8. 为演示启动 Prefect 服务（运行记录保存在 {server.home}）……", markup=False)
    server.start()
    try:
        with (
            temporary_settings(prefect_api_url=server.api_url, briefing_approval="auto"),
            prefect_client(get_settings()),
            clock.frozen_time(clock.end_of_working_day(as_of, plan.timezone)),
        ):
            from prefect import tags  # noqa: PLC0415

            from flows.daily_cycle import daily_cycle  # noqa: PLC0415 - Prefect configured now
            from flows.weekly_briefing import weekly_briefing  # noqa: PLC0415

            with tags(plan.id, "demo"), _prefect_console_quiet():
                console.print(f"   {zh_date(as_of)}的每日流程（daily-cycle）：")
                daily = daily_cycle(plan_id=plan.id, as_of=as_of)
                _print_daily(console, engine, plan, as_of, daily)
                console.print(f"9. 截至{zh_date(as_of)}的每周简报（weekly-briefing）：")
                weekly = weekly_briefing(plan_id=plan.id, as_of=as_of)
        _print_weekly(console, engine, weekly)
    finally:
        server.stop()
    console.print(
        f"   查看运行记录和产出：`DUBAN_HOME={settings.home} .venv/bin/duban server`，"
        f"然后打开 {ui_url(LocalServer(server.home, settings.prefect_port).api_url)}",
        markup=False,
    )


@contextmanager
def _prefect_console_quiet() -> Iterator[None]:
    """Prefect's console lines below warnings are left out while the demo runs its flows: they
    are Prefect's English, and the demo prints each run's result in Chinese. The run logs
    still reach the Prefect server."""
    from prefect.logging.handlers import PrefectConsoleHandler  # noqa: PLC0415

    handlers = [h for h in logging.getLogger().handlers if isinstance(h, PrefectConsoleHandler)]
    levels = [h.level for h in handlers]
    for handler in handlers:
        handler.setLevel(logging.WARNING)
    try:
        yield
    finally:
        for handler, level in zip(handlers, levels, strict=True):
            handler.setLevel(level)


def _print_daily(
    console: Console, engine: Engine, plan: Plan, as_of: date, daily: dict[str, object]
) -> None:
    console.print(f"   {render.flow_result(daily)}", markup=False)
    with session_scope(engine) as session:
        messages = list(
            session.scalars(
                select(Message).where(
                    Message.plan_id == plan.id,
                    Message.created_on == as_of,
                    Message.briefing_id.is_(None),
                )
            )
        )
    console.print(f"   已写出 {len(messages)} 份提醒汇总，在 {FileChannel().folder}", markup=False)
    delivery = daily.get("delivery")
    earlier = (delivery.get("sent", 0) if isinstance(delivery, dict) else 0) - len(messages)
    if earlier > 0:  # what the replayed weeks left waiting went out with them
        console.print(
            f"   另有 {earlier} 份是重放此前各周时留在发件箱的消息（如报送回执），这次一并发出",
            markup=False,
        )
    if messages:
        sample = max(messages, key=lambda m: len(m.body))
        console.print(f"   最长的一份，发给 {sample.recipient} — {sample.subject}：", markup=False)
        for line in sample.body.splitlines()[:14]:
            console.print(f"   │ {line}", markup=False, soft_wrap=True)
        console.print("   │ ……", markup=False)
    liaisons = (m for m in messages if m.recipient.endswith("/liaison") and m.attachments)
    liaison = next(liaisons, None)
    if liaison is not None:
        console.print(f"   发给联络员的：{liaison.recipient} — {liaison.subject}", markup=False)
        for line in liaison.body.splitlines():
            console.print(f"   │ {line}", markup=False, soft_wrap=True)
        for path in liaison.attachments or []:
            console.print(f"   │ 附件：{path}", markup=False)
        if as_of + timedelta(days=get_settings().link_days) < wall_now().date():
            console.print(
                f"   （链接按重放的{zh_date(as_of)}计算有效期，今天打开会显示已过期；要在浏览器中"
                f"试，请运行 `duban link --unit {liaison.recipient.split('/')[0]}` 取得新链接，"
                "再运行 `duban web`）",
                markup=False,
                soft_wrap=True,
            )


def _print_weekly(console: Console, engine: Engine, weekly: dict[str, object]) -> None:
    console.print(f"   {render.flow_result(weekly)}", markup=False)
    with session_scope(engine) as session:
        record = session.scalars(select(Briefing).order_by(Briefing.id.desc())).first()
        assert record is not None
        console.print(f"   {record.year}年第{record.number}期，文件：")
        for fmt, path in sorted(record.files.items()):
            console.print(f"   {word(FILE_KINDS, fmt)} {path}", markup=False)
