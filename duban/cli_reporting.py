"""Commands for progress reporting: workbooks out, reports in, verification, indicators."""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from config.errors import InputError
from duban.app import AsOf, PlanOpt, app, out
from duban.dates import parse_date
from models import clock
from models.enums import ItemState

ItemArg = Annotated[int, typer.Argument(help="Work item id (as in `status`).")]
Actor = Annotated[
    str | None, typer.Option(help="Who does it (default: DUBAN_ACTOR, else the login name).")
]


def _today_or(as_of: str | None, tz: str) -> date:
    return parse_date(as_of) or clock.today(tz)


@app.command()
def workbook(
    out_dir: Annotated[Path, typer.Option("--out", help="Folder to write the workbooks into.")],
    unit: Annotated[str | None, typer.Option(help="One unit's id.")] = None,
    all_units: Annotated[
        bool, typer.Option("--all", help="Every unit with items or measures.")
    ] = False,
    fmt: Annotated[
        str,
        typer.Option(
            "--format",
            help="xlsx (a workbook), csv or json (a template whose every row carries its 签名).",
        ),
    ] = "xlsx",
    as_of: AsOf = None,
    plan: PlanOpt = None,
) -> None:
    """Write each unit's progress workbook or template (signed, prefilled with its items)."""
    from domain.queries.context import resolve_plan
    from domain.services.intake.templates import FORMATS, write_template
    from domain.services.workbooks import units_for_workbooks, write_workbook
    from duban.database import ready_engine
    from models.db import session_scope

    if (unit is None) == (not all_units):
        raise typer.BadParameter("give --unit ID or --all", param_hint="--unit/--all")
    if fmt not in FORMATS:
        raise typer.BadParameter("use xlsx, csv or json", param_hint="--format")
    with session_scope(ready_engine()) as session:
        plan_row = resolve_plan(session, plan)
        day = _today_or(as_of, plan_row.timezone)
        files = []
        for u in units_for_workbooks(session, plan_row, unit):
            if fmt == "xlsx":
                made = write_workbook(session, plan_row, u, day, out_dir)
                files.append((made.path, made.items, made.measures))
            else:
                files.append(write_template(session, plan_row, u, day, out_dir, fmt))
    for path, items, measures in files:
        out.print(f"{path}  ({items} items, {measures} measures)", markup=False)
    noun = "workbook(s)" if fmt == "xlsx" else f"{fmt} template(s)"
    out.print(f"{len(files)} {noun} for period {day} in {out_dir}")


@app.command()
def collect(
    inbox: Annotated[
        Path | None, typer.Option(help="Folder of report files (default: <DUBAN_HOME>/inbox).")
    ] = None,
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of",
            help="Record the files as received on this date (replaying history); default: now.",
        ),
    ] = None,
    trusted: Annotated[
        bool,
        typer.Option(
            "--trusted",
            help="Vouch for this run's unsigned files (checked by you): they land under --actor.",
        ),
    ] = False,
    actor: Actor = None,
    plan: PlanOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Land every report file of the inbox (.xlsx/.csv/.json), whole or not at all."""
    from config.settings import get_settings
    from domain.queries.context import resolve_plan
    from domain.services.intake.inbox import collect as collect_inbox
    from duban import render
    from duban.database import ready_engine
    from models.db import session_scope

    settings = get_settings()
    folder = inbox or settings.resolved_inbox
    vouching = (actor or settings.actor) if trusted else None
    engine = ready_engine()
    with session_scope(engine) as session:
        plan_row = resolve_plan(session, plan)
        plan_id, tz = plan_row.id, plan_row.timezone
    day = parse_date(as_of)
    with clock.frozen_time(clock.end_of_working_day(day, tz)) if day else clock.unfrozen():
        outcomes = collect_inbox(
            engine, plan_id, folder, trusted_actor=vouching, home=settings.home
        )
    if as_json:
        sys.stdout.write(json.dumps(render.collect_json(outcomes), ensure_ascii=False, indent=1))
        sys.stdout.write("\n")
    else:
        render.collect_report(out, folder, outcomes)
    if any(o.status == "rejected" for o in outcomes):
        raise typer.Exit(2)


@app.command()
def report(
    item_id: ItemArg,
    unit: Annotated[str, typer.Option(help="The reporting unit's id.")],
    state: Annotated[
        str, typer.Option(help="not_started/未开始, in_progress/推进中, done/已完成, blocked/受阻.")
    ],
    percent: Annotated[int | None, typer.Option(min=0, max=100, help="0–100.")] = None,
    note: Annotated[str | None, typer.Option(help="Progress narrative (进展情况).")] = None,
    problem: Annotated[str | None, typer.Option(help="Problems met (存在问题).")] = None,
    next_steps: Annotated[str | None, typer.Option(help="Next steps (下步计划).")] = None,
    evidence: Annotated[
        str | None, typer.Option(help="Evidence: a path or URL (佐证材料).")
    ] = None,
    period: Annotated[
        str | None, typer.Option(help="Reporting period (a date in the cycle); default today.")
    ] = None,
    actor: Actor = None,
    plan: PlanOpt = None,
) -> None:
    """Report on one item from the command line, with the same checks as a workbook row."""
    from domain.queries.context import resolve_plan
    from domain.queries.report_landing import check, land
    from domain.rules.intake.rows import ParsedFile, ReportRow
    from domain.rules.reporting import parse_report_state
    from duban.database import ready_engine
    from models.db import session_scope

    try:
        reported = parse_report_state(state)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--state") from None
    parsed = ParsedFile(
        Path("<command line>"), "cli", unit=unit, period=parse_date(period, "--period")
    )
    parsed.reports.append(
        ReportRow(
            row=1,
            unit=unit,
            item_id=item_id,
            state=reported,
            percent=percent,
            note=note,
            problem=problem,
            next_steps=next_steps,
            evidence=evidence,
        )
    )
    with session_scope(ready_engine()) as session:
        plan_row = resolve_plan(session, plan)
        checked, problems = check(session, parsed, plan_row)
        if checked is None:
            raise InputError(f"report on item {item_id} not accepted", problems)
        landed = land(session, checked, parsed, actor=actor or f"unit:{unit}", file_id=None)
    moved = ", ".join(f"→ {s}" for s in landed.moves) or "state unchanged"
    out.print(f"#{item_id}: report recorded for {landed.unit_name} ({moved})")


@app.command()
def verify(
    item_id: ItemArg,
    note: Annotated[str | None, typer.Option(help="A note for the record.")] = None,
    actor: Actor = None,
) -> None:
    """核验销号: close a submitted item (its evidence must be there)."""
    from config.settings import get_settings
    from domain.queries.items import verify_item
    from duban.database import ready_engine
    from models.db import session_scope

    with session_scope(ready_engine()) as session:
        verify_item(session, item_id, actor=actor or get_settings().actor, note=note)
    out.print(f"#{item_id}: closed (销号)")


@app.command("return")
def return_item(
    item_id: ItemArg,
    reason: Annotated[str, typer.Option(help="Why it goes back (退回原因).")],
    actor: Actor = None,
) -> None:
    """退回: send a submitted item back to its unit, saying why."""
    from config.settings import get_settings
    from domain.queries.items import move_item
    from duban.database import ready_engine
    from models.db import session_scope

    with session_scope(ready_engine()) as session:
        move_item(
            session, item_id, ItemState.RETURNED, actor=actor or get_settings().actor, reason=reason
        )
    out.print(f"#{item_id}: returned (退回) — {reason}")


@app.command()
def indicators(
    as_of: AsOf = None,
    plan: PlanOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
    townships: Annotated[
        bool, typer.Option("--townships", help="Also each township's value.")
    ] = False,
) -> None:
    """The plan's indicators: county values as ratios of sums, targets, gaps and lights."""
    from domain.queries.context import resolve_plan
    from domain.queries.indicators import indicator_values
    from duban import render
    from duban.database import ready_engine
    from models.db import session_scope

    with session_scope(ready_engine()) as session:
        plan_row = resolve_plan(session, plan)
        day = _today_or(as_of, plan_row.timezone)
        values = indicator_values(session, plan_row.id, day)
    if as_json:
        payload = {
            "plan": plan_row.id,
            "as_of": day.isoformat(),
            "indicators": [v.model_dump(mode="json") for v in values],
        }
        sys.stdout.write(json.dumps(payload, ensure_ascii=False, indent=1) + "\n")
        return
    render.indicators(out, day, values, townships=townships)
