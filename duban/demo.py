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
from sqlalchemy import Engine

from config.ladder import load_ladder
from config.settings import get_settings, temporary_settings
from domain.briefing.distribute import distribute_briefing
from domain.briefing.issue import FORMATS, issue_briefing
from domain.channels import FileChannel
from domain.completeness import completeness_view
from domain.escalation import run_escalation
from domain.indicators import indicator_values
from domain.intake.inbox import collect
from domain.status import status_view
from domain.sync import sync_catalog
from duban import render
from duban.cli_briefing import print_distribution, print_issued
from duban.sample import write_sample_inbox
from models import clock
from models.db import get_engine, session_scope
from models.migrate import upgrade
from models.orm import Plan
from tasks_catalog.expand import plan_items
from tasks_catalog.loader import load_catalog

DEMO_AS_OF = date(2021, 12, 27)
"""A Monday in the plan's first year, after six weeks of (sample) reporting."""


def run_demo(console: Console, home: Path, as_of: date) -> None:
    """Run the main job in ``home`` (its database and sample inbox are recreated)."""
    home.mkdir(parents=True, exist_ok=True)
    database = home / "duban.db"
    for stale in (database, home / "duban.db-wal", home / "duban.db-shm"):
        stale.unlink(missing_ok=True)
    shutil.rmtree(home / "inbox", ignore_errors=True)
    shutil.rmtree(home / "outbox", ignore_errors=True)
    shutil.rmtree(home / "briefings", ignore_errors=True)
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
            plan = session.get(Plan, catalog.plan.id)
            assert plan is not None
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
            view = status_view(
                session,
                plan_id=plan.id,
                as_of=as_of,
                yellow_workdays=get_settings().yellow_workdays,
                with_items=True,
                pace_margin=get_settings().pace_margin,
            )
            plan = session.get(Plan, catalog.plan.id)
            assert plan is not None
            done = completeness_view(session, plan, last_friday)
            values = indicator_values(session, plan.id, as_of)
        render.status(console, view, item_limit=None)
        render.urgent_items(console, view)
        console.print(f"6. reporting completeness for the week of {last_friday}")
        render.completeness(console, done)
        console.print("7. indicators")
        render.indicators(console, as_of, values)
        _escalate(console, engine, plan, as_of)
        _brief(console, engine, plan, as_of)
        console.rule()
        console.print(f"Try: DUBAN_HOME={home} .venv/bin/duban status --as-of {as_of} --task 1")


def _brief(console: Console, engine: Engine, plan: Plan, as_of: date) -> None:
    """Step 9: the weekly briefing for leadership, in every format, sent to the file outbox."""
    settings = get_settings()
    with clock.frozen_time(clock.end_of_working_day(as_of, plan.timezone)):
        with session_scope(engine) as session:
            row = session.get(Plan, plan.id)
            assert row is not None
            issued = issue_briefing(
                session,
                row,
                as_of,
                formats=list(FORMATS),
                out=settings.resolved_briefings,
                yellow_workdays=settings.yellow_workdays,
                pace_margin=settings.pace_margin,
                fonts=settings.briefing_fonts,
                actor="duban demo",
            )
        sent = distribute_briefing(engine, issued.record_id)
    console.print(f"9. weekly briefing for {issued.view.masthead.week} (as of {as_of})")
    print_issued(console, issued)
    print_distribution(console, sent)


def _escalate(console: Console, engine: Engine, plan: Plan, as_of: date) -> None:
    """Step 8: the ladder's notices for the day, delivered to the file channel."""
    ladder = load_ladder(get_settings().ladder)
    with clock.frozen_time(clock.end_of_working_day(as_of, plan.timezone)):
        due, new, report = run_escalation(
            engine, plan.id, as_of, ladder, yellow_workdays=get_settings().yellow_workdays
        )
    result = render.escalation_json(as_of, due, new, report)
    console.print(f"8. escalation on {as_of} (messages written to {FileChannel().folder})")
    render.escalation(console, result, limit=5)
    if report.sent:
        sample = max(report.sent, key=lambda m: len(m.body))
        console.print(f"   the longest digest, to {sample.recipient} — {sample.subject}:")
        for line in sample.body.splitlines()[:14]:
            console.print(f"   │ {line}", markup=False)
