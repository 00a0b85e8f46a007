"""The ``duban`` command line. Thin: it parses options, opens a session and calls the library.

User mistakes (bad catalogue, unknown item, impossible move) print a message and exit with
status 2, without a traceback and without changing the database.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

import duban.cli_backup  # noqa: F401 - registers `backup` and `restore` on `app`
from config.errors import ConflictError, InputError, NotFoundError
from domain.rules.lifecycle import TransitionError
from domain.rules.retirement import MASS_RETIRE_SHARE
from duban import cli_briefing, cli_escalation, cli_orchestration, cli_reporting, cli_web
from duban.app import AsOf, CatalogPath, PlanOpt, app, catalog_app, err, item_app, out, warn
from duban.dates import DEMO_AS_OF, parse_date
from models import clock
from models.enums import ItemState


@app.command()
def init() -> None:
    """Create the database, or upgrade it to the newest schema (Alembic)."""
    from duban.database import display_url
    from models.db import open_engine
    from models.migrate import upgrade

    engine = open_engine(create=True)
    before, after = upgrade(engine)
    where = display_url(engine)
    if before == after:
        out.print(f"database {where} is up to date (schema {after})")
    else:
        out.print(f"database {where}: schema {before or 'empty'} → {after}")


@app.command()
def recount(
    plan: PlanOpt = None,
    check: Annotated[
        bool, typer.Option("--check", help="Only compare; exit 1 if the tally is off.")
    ] = False,
) -> None:
    """Compare the work-item tally (what the daily counts read) with the items and rebuild it;
    triggers keep it, so only a load with triggers disabled (a data-only restore) needs this."""
    from domain.queries.status import resolve_plan
    from duban.database import ready_engine
    from models.db import session_scope
    from models.tally import recount_tally, tally_drift

    with session_scope(ready_engine(), rollback=check) as session:
        plan_id = resolve_plan(session, plan).id
        drift = tally_drift(session, plan_id)
        for key, tallied, counted in drift[:20]:
            out.print(f"  {' '.join(str(v) for v in key)}: tallied {tallied}, items {counted}")
        if check:
            out.print(f"{plan_id}: {len(drift)} keys of the tally differ from the items")
            if drift:
                raise typer.Exit(1)
            return
        rows = recount_tally(session, plan_id)
    out.print(f"{plan_id}: {len(drift)} keys differed; the tally was rebuilt ({rows} rows)")


@catalog_app.command("validate")
def catalog_validate(path: CatalogPath = None) -> None:
    """Check a catalogue: schema, unique ids, references, cycles, dates, RRULEs, fan-outs."""
    from config.settings import get_settings
    from duban import render
    from tasks_catalog.expand import plan_items
    from tasks_catalog.loader import load_catalog

    catalog, warnings = load_catalog(path or get_settings().catalog)
    warn([str(w) for w in warnings])
    out.print(render.catalog_summary(catalog, len(plan_items(catalog))))


@catalog_app.command("sync")
def catalog_sync(
    path: CatalogPath = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would change; write nothing.")
    ] = False,
    allow_retire: Annotated[
        bool,
        typer.Option(
            "--allow-retire",
            help=f"Allow retiring more than {MASS_RETIRE_SHARE:.0%} of the open work items.",
        ),
    ] = False,
    verbose: Annotated[bool, typer.Option("--verbose", help="List every change.")] = False,
) -> None:
    """Load a catalogue into the database in one transaction; prints what changed."""
    from config.settings import get_settings
    from domain.queries.sync import sync_catalog
    from domain.rules.retirement import refuse_mass_retirement
    from duban import render
    from duban.database import ready_engine
    from models.db import session_scope
    from tasks_catalog.loader import load_catalog

    catalog, warnings = load_catalog(path or get_settings().catalog)
    warn([str(w) for w in warnings])
    with session_scope(ready_engine(), rollback=dry_run) as session:
        report = sync_catalog(session, catalog)
        if not allow_retire:
            refuse_mass_retirement(report)
    if dry_run:
        out.print("dry run: nothing was written. This sync would do:")
    render.sync_report(out, report, limit=None if verbose else 20)


@app.command()
def status(
    as_of: AsOf = None,
    task: Annotated[
        str | None, typer.Option(help="Only this task: number (3) or id (T03).")
    ] = None,
    unit: Annotated[str | None, typer.Option(help="Only this unit and the units under it.")] = None,
    plan: PlanOpt = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Machine-readable output (docs/status-json.md).")
    ] = False,
    limit: Annotated[int, typer.Option(min=0, help="Items to list when filtered; 0 = all.")] = 50,
) -> None:
    """Each task with its items counted by light on a date; with --task/--unit, each item."""
    from config.settings import get_settings
    from domain.queries.completeness import completeness_view
    from domain.queries.status import resolve_plan, status_view
    from duban import render
    from duban.database import ready_engine
    from models.db import session_scope

    settings = get_settings()
    requested = parse_date(as_of)
    with session_scope(ready_engine()) as session:
        plan_row = resolve_plan(session, plan)
        day = requested or clock.today(plan_row.timezone)
        view = status_view(
            session,
            plan_id=plan_row.id,
            as_of=day,
            yellow_workdays=settings.yellow_workdays,
            task=task,
            unit=unit,
            with_items=as_json,
            pace_margin=settings.pace_margin,
        )
        reporting = None
        if not view.filters:
            reporting = completeness_view(
                session, plan_row, day, yellow_workdays=settings.yellow_workdays
            )
    if as_json:
        payload = view.model_dump(mode="json")
        payload["completeness"] = reporting.model_dump(mode="json") if reporting else None
        sys.stdout.write(json.dumps(payload, ensure_ascii=False, indent=1))
        sys.stdout.write("\n")
        return
    render.status(out, view, item_limit=limit or None)
    if reporting is not None:
        render.completeness(out, reporting)


@item_app.command("show")
def item_show(
    item_id: Annotated[int, typer.Argument(help="Work item id (as in `status`).")],
) -> None:
    """One work item: deliverable, deadlines, prerequisites and its full record (留痕)."""
    from domain.queries.items import item_detail
    from duban import render
    from duban.database import ready_engine
    from models.db import session_scope

    with session_scope(ready_engine()) as session:
        detail = item_detail(session, item_id)
    render.item_detail(out, detail)


@item_app.command("move")
def item_move(
    item_id: Annotated[int, typer.Argument(help="Work item id (as in `status`).")],
    to: Annotated[ItemState, typer.Option("--to", help="The state to move to.")],
    reason: Annotated[
        str | None,
        typer.Option(help="Why (required for returned, blocked, extended, retired, reopening)."),
    ] = None,
    actor: Annotated[
        str | None, typer.Option(help="Who does it (default: DUBAN_ACTOR, else the login name).")
    ] = None,
) -> None:
    """Move one item along its lifecycle (签收, 推进, 办结申请, 销号, 退回 …); it is logged."""
    from config.settings import get_settings
    from domain.queries.items import move_item, verify_item
    from duban.database import ready_engine
    from models.db import session_scope
    from models.orm import WorkItem

    with session_scope(ready_engine()) as session:
        if session.get(WorkItem, item_id) is None:
            raise NotFoundError(f"no work item {item_id}")
        who = actor or get_settings().actor
        move = (
            verify_item(session, item_id, actor=who, note=reason)
            if to == ItemState.CLOSED  # closing always goes through the verification checks
            else move_item(session, item_id, to, actor=who, reason=reason)
        )
    assert move.from_state is not None
    out.print(f"#{item_id}: {move.from_state.value} → {move.to_state.value}")


@app.command("calendar")
def calendar(
    day: Annotated[str, typer.Argument(help="Date YYYY-MM-DD.")],
    until: Annotated[str | None, typer.Option(help="Count working days up to this date.")] = None,
) -> None:
    """Whether a date is a working day (调休 included), and working days between two dates."""
    from sqlalchemy import select

    from domain.queries.calendar import ensure_calendar
    from domain.rules.workdays import fallback_warning
    from duban.database import ready_engine
    from models.db import session_scope
    from models.orm import CalendarDay

    first = parse_date(day, "DAY")
    last = parse_date(until, "--until")
    assert first is not None
    with session_scope(ready_engine()) as session:
        ensure_calendar(session, first, *([last] if last else []))
        rows = {
            r.day: r
            for r in session.scalars(
                select(CalendarDay).where(CalendarDay.day.in_([d for d in (first, last) if d]))
            )
        }
    r = rows[first]
    fallback_years = sorted({d.year for d, row in rows.items() if row.source == "fallback"})
    if fallback_years:
        warn([fallback_warning(fallback_years)])
    kind = "working day" if r.is_workday else "day off"
    note = f" ({r.note})" if r.note else ""
    out.print(f"{first} ({first:%A}) is a {kind}{note}; source: {r.source}")
    if last is not None:
        out.print(f"working days from {first} to {last}: {rows[last].ordinal - r.ordinal}")


@app.command()
def demo(
    home: Annotated[
        Path | None,
        typer.Option(
            help="Folder for the demo's data (default: "
            "<DUBAN_HOME>/demo); its database is "
            "recreated."
        ),
    ] = None,
    as_of: Annotated[str, typer.Option("--as-of", help="Date to show the status for.")] = (
        DEMO_AS_OF.isoformat()
    ),
) -> None:
    """The main job: a fresh embedded database, the default plan synced, its status."""
    from config.settings import get_settings
    from duban.demo import run_demo

    run_demo(out, home or get_settings().home / "demo", parse_date(as_of) or DEMO_AS_OF)


# imported for their commands (they register on `app`)
assert cli_reporting and cli_escalation and cli_briefing and cli_orchestration and cli_web


def _error(text: str, *, soft_wrap: bool = True) -> None:
    """One line ``错误：text`` on stderr, URL passwords hidden."""
    from config.settings import hide_passwords

    err.print(f"[red]错误：[/]{escape(hide_passwords(text))}", soft_wrap=soft_wrap)


def main() -> None:
    """Entry point: run the app, turning user mistakes into exit status 2 without a traceback."""
    try:
        app()
    except InputError as exc:
        _error(exc.summary, soft_wrap=False)
        for problem in exc.problems:
            err.print(f"  {problem}", markup=False)
        sys.exit(2)
    except (NotFoundError, TransitionError, ConflictError) as exc:
        _error(str(exc))
        sys.exit(2)
    except Exception as exc:
        from duban import cli_errors

        explained = cli_errors.explain(exc)
        if explained is None:
            raise
        for line in explained.lines:
            _error(line)
        if explained.fault and (log := cli_errors.record_fault(exc)):
            err.print(f"详细记录见 {log}", markup=False, soft_wrap=True)
        sys.exit(2)


__all__ = ["app", "main"]
