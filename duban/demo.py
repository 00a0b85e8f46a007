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
from domain.queries.completeness import completeness_view
from domain.queries.context import build_context, context_on
from domain.queries.indicators import indicator_values
from domain.queries.plans import plan_of
from domain.queries.status import status_view
from domain.queries.sync import sync_catalog
from domain.rules.context import LightPolicy
from domain.services.intake.inbox import collect
from duban import render
from duban.orchestration import LocalServer, free_port, prefect_client, prefect_home, ui_url
from duban.sample import write_sample_inbox
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
    shutil.rmtree(home / "inbox", ignore_errors=True)
    shutil.rmtree(home / "outbox", ignore_errors=True)
    shutil.rmtree(home / "briefings", ignore_errors=True)
    shutil.rmtree(home / "prefect", ignore_errors=True)
    with temporary_settings(home=home, database_url=None, inbox=None) as settings:
        console.rule("[bold]duban main job")
        console.print(f"data directory: {home}")
        engine = get_engine()
        _, revision = upgrade(engine)
        console.print(f"1. database created: {database} (schema {revision})")

        catalog, warnings = load_catalog(settings.catalog)
        console.print(f"2. {render.catalog_summary(catalog, len(plan_items(catalog)))}")
        for warning in warnings:
            console.print(f"   note: {warning.message}")

        console.print("3. sync the catalogue into the database")
        with session_scope(engine) as session:
            report = sync_catalog(session, catalog)
        render.sync_report(console, report, limit=5)
        with session_scope(engine) as session:
            again = sync_catalog(session, catalog)
        console.print(
            "   sync again: "
            + ("nothing changed (idempotent)" if again.unchanged else "UNEXPECTED changes")
        )

        inbox = settings.resolved_inbox
        last_friday = as_of - timedelta(days=(as_of.weekday() - 4) % 7 or 7)
        with session_scope(engine) as session:
            plan = plan_of(session, catalog.plan.id)
            batches = write_sample_inbox(session, plan, inbox / "sample", last_friday=last_friday)
        console.print(
            f"4. SAMPLE reports (generated, not real) for {len(batches)} weekly cycles "
            f"in {inbox / 'sample'}; each week collected on its Friday:"
        )
        for batch in batches:
            with clock.frozen_time(clock.end_of_working_day(batch.collect_on, plan.timezone)):
                outcomes = collect(engine, plan.id, batch.folder)
            render.collect_report(console, batch.folder, outcomes, per_file=False)

        console.print(f"5. status on {as_of}")
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
        console.print(f"6. reporting completeness for the week of {last_friday}")
        render.completeness(console, done)
        console.print("7. indicators")
        render.indicators(console, as_of, values)
        _through_flows(console, engine, plan, as_of)
        console.rule()
        console.print(f"Try: DUBAN_HOME={home} .venv/bin/duban status --as-of {as_of} --task 1")


def _through_flows(console: Console, engine: Engine, plan: Plan, as_of: date) -> None:
    """Steps 8 and 9 as Prefect flows on a dedicated local Prefect server whose history stays
    in the data directory: the day's cycle (lights, escalation, delivery, the coordinator's
    view) and the week's briefing (approved automatically here, sent to the file outbox)."""
    settings = get_settings()
    server = LocalServer(prefect_home(settings), free_port())
    console.print(f"8. starting a Prefect server for the demo (history kept in {server.home}) ...")
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
                console.print(f"   daily cycle for {as_of} (flow `daily-cycle`):")
                daily = daily_cycle(plan_id=plan.id, as_of=as_of)
                _print_daily(console, engine, plan, as_of, daily)
                console.print(f"9. weekly briefing as of {as_of} (flow `weekly-briefing`):")
                weekly = weekly_briefing(plan_id=plan.id, as_of=as_of)
        _print_weekly(console, engine, weekly)
    finally:
        server.stop()
    console.print(
        f"   the runs and their artifacts: `DUBAN_HOME={settings.home} .venv/bin/duban server`, "
        f"then open {ui_url(LocalServer(server.home, settings.prefect_port).api_url)}"
    )


def _print_daily(
    console: Console, engine: Engine, plan: Plan, as_of: date, daily: dict[str, object]
) -> None:
    console.print(f"   {daily}", markup=False)
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
    console.print(f"   {len(messages)} digests written to {FileChannel().folder}")
    if messages:
        sample = max(messages, key=lambda m: len(m.body))
        console.print(f"   the longest digest, to {sample.recipient} — {sample.subject}:")
        for line in sample.body.splitlines()[:14]:
            console.print(f"   │ {line}", markup=False)


def _print_weekly(console: Console, engine: Engine, weekly: dict[str, object]) -> None:
    console.print(f"   {weekly}", markup=False)
    with session_scope(engine) as session:
        record = session.scalars(select(Briefing).order_by(Briefing.id.desc())).first()
        assert record is not None
        console.print(f"   {record.year}年第{record.number}期, files:")
        for fmt, path in sorted(record.files.items()):
            console.print(f"   {fmt:16} {path}", markup=False)
