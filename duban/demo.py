"""The main job on the embedded default: what the README's first command runs.

It creates a fresh SQLite database in its own folder (never the user's real one), validates and
syncs the default catalogue (the Shidian plan), syncs it again to show that nothing changes, and
prints the status picture for a date inside the plan period. Later parts add reports, escalation
and the briefing to this same job.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from rich.console import Console

from config.settings import get_settings, temporary_settings
from domain.status import status_view
from duban import render
from models.db import get_engine, session_scope
from models.migrate import upgrade
from tasks_catalog.expand import plan_items
from tasks_catalog.loader import load_catalog
from tasks_catalog.sync import sync_catalog

DEMO_AS_OF = date(2021, 12, 27)
"""A Monday in the plan's first year: some items done or due, some due this week, most ahead."""


def run_demo(console: Console, home: Path, as_of: date) -> None:
    """Run the main job in ``home`` (its database is recreated) and print what a user would see."""
    home.mkdir(parents=True, exist_ok=True)
    database = home / "duban.db"
    for stale in (database, home / "duban.db-wal", home / "duban.db-shm"):
        stale.unlink(missing_ok=True)
    with temporary_settings(home=home, database_url=None) as settings:
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

        console.print(
            f"4. status on {as_of} (no progress reports collected yet: items past "
            "their due date show red)"
        )
        with session_scope(engine) as session:
            view = status_view(
                session,
                plan_id=catalog.plan.id,
                as_of=as_of,
                yellow_workdays=get_settings().yellow_workdays,
                with_items=True,
            )
        render.status(console, view, item_limit=None)
        due_soon = [i for i in view.items if i.light == "yellow"]
        overdue = [i for i in view.items if i.light == "red"]
        urgent = (due_soon + overdue)[:10]
        if urgent:
            console.print(
                f"   {len(due_soon)} items due soon and {len(overdue)} overdue; the first 10:"
            )
            render.items(console, view.model_copy(update={"items": urgent}), limit=None)
        console.rule()
        console.print(f"Try: DUBAN_HOME={home} .venv/bin/duban status --as-of {as_of} --task 1")
