"""The main job on the embedded default: what the README's first command runs.

It creates a fresh SQLite database in its own folder (never the user's real one), validates and
syncs the default catalogue (the Shidian plan), writes a clearly labelled SAMPLE inbox of unit
workbooks for six weekly cycles, collects each week on its Friday (the clock replays those
days), and prints the status picture, the reporting completeness and the indicators.
"""

from __future__ import annotations

import shutil
from datetime import date, timedelta
from pathlib import Path

from rich.console import Console
from sqlalchemy import Engine, select

from config.settings import get_settings, temporary_settings
from domain.adapters.channels import FileChannel
from domain.adapters.leases import wall_now
from domain.queries.completeness import completeness_view
from domain.queries.context import build_context, context_on
from domain.queries.indicators import indicator_values
from domain.queries.plans import plan_of
from domain.queries.status import status_view
from domain.queries.sync import sync_catalog
from domain.rules.context import LightPolicy
from domain.rules.glossary import FILE_KINDS, word, zh_date
from domain.services.intake.inbox import collect
from duban import render
from duban.orchestration import LocalServer, free_port, prefect_client, prefect_home, ui_url
from duban.sample import add_sample_contacts, write_sample_inbox
from models import clock
from models.db import get_engine, session_scope
from models.migrate import upgrade
from models.orm import Briefing, Message, Plan
from tasks_catalog.expand import plan_items
from tasks_catalog.loader import load_catalog


def run_demo(console: Console, home: Path, as_of: date) -> None:
    """Run the main job in ``home`` (its database and sample inbox are recreated)."""
    home.mkdir(parents=True, exist_ok=True)
    database = home / "duban.db"
    for stale in (database, home / "duban.db-wal", home / "duban.db-shm"):
        stale.unlink(missing_ok=True)
    for folder in ("inbox", "outbox", "attachments", "briefings", "prefect"):
        shutil.rmtree(home / folder, ignore_errors=True)
    # personal links in the reminders open `duban web` on this machine (DUBAN_WEB_BASE_URL, else
    # the local address: the demo's reader is at this machine)
    with temporary_settings(
        home=home,
        database_url=None,
        inbox=None,
        web_base_url=get_settings().resolved_web_base_url,
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

        console.print("3. 把规划目录同步到数据库")
        with session_scope(engine) as session:
            report = sync_catalog(session, catalog)
        render.sync_report(console, report, limit=5)
        with session_scope(engine) as session:
            again = sync_catalog(session, catalog)
        console.print(
            "   再同步一次：" + ("没有变化（幂等）" if again.unchanged else "出现了意外的变化")
        )

        _sample_contacts(console, engine, catalog.plan.id)
        inbox = settings.resolved_inbox
        last_friday = as_of - timedelta(days=(as_of.weekday() - 4) % 7 or 7)
        with session_scope(engine) as session:
            plan = plan_of(session, catalog.plan.id)
            batches = write_sample_inbox(session, plan, inbox / "sample", last_friday=last_friday)
        console.print(
            f"4. 示例报送（程序生成，非真实数据）共 {len(batches)} 周，在 {inbox / 'sample'}；"
            "每周在当周星期五收集：",
            markup=False,
        )
        for batch in batches:
            with clock.frozen_time(clock.end_of_working_day(batch.collect_on, plan.timezone)):
                outcomes = collect(engine, plan.id, batch.folder)
            render.collect_report(console, batch.folder, outcomes, per_file=False)

        console.print(f"5. {zh_date(as_of)}的情况")
        with session_scope(engine) as session:
            ctx = build_context(
                session, plan.id, as_of, LightPolicy(settings.yellow_workdays, settings.pace_margin)
            )
            view = status_view(session, ctx, with_items=True)
            done = completeness_view(session, context_on(session, ctx, last_friday))
            plan = plan_of(session, catalog.plan.id)
            values = indicator_values(session, plan.id, as_of)
        render.status(console, view, item_limit=None)
        render.urgent_items(console, view)
        console.print(f"6. {zh_date(last_friday)}所在周的报送情况")
        render.completeness(console, done)
        console.print("7. 指标")
        render.indicators(console, as_of, values)
        _through_flows(console, engine, plan, as_of)
        console.rule()
        console.print(
            f"试一试：DUBAN_HOME={home} .venv/bin/duban status --as-of {as_of} --task 1",
            markup=False,
        )


def _sample_contacts(console: Console, engine: Engine, plan_id: str) -> None:
    """The default catalogue names no contacts yet: sample ones, so reminders carry links."""
    base_url = get_settings().resolved_web_base_url
    with session_scope(engine) as session:
        added = add_sample_contacts(session, plan_of(session, plan_id))
    if added:
        console.print(
            f"   目录中尚无联系人：为演示给每个单位添加示例联络员和负责人共 {added} 人（无邮箱，"
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

            with tags(plan.id, "demo"):
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
