"""``duban brief``: the weekly briefing for leadership (Markdown, HTML, Word), and sending it."""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from config.settings import get_settings
from domain.briefing.distribute import Distribution, distribute_briefing
from domain.briefing.issue import Issued, as_of_for_week, issue_briefing, parse_formats
from domain.status import resolve_plan
from duban.app import AsOf, PlanOpt, app, out, warn
from duban.database import ready_engine
from duban.dates import parse_date
from models import clock
from models.db import session_scope


@app.command()
def brief(
    as_of: AsOf = None,
    week: Annotated[
        str | None,
        typer.Option(help="ISO week like 2021-W52: the briefing as of that week's report day."),
    ] = None,
    formats: Annotated[
        str, typer.Option("--format", help="Comma-separated: md, html, docx.")
    ] = "md,html,docx",
    out_dir: Annotated[
        Path | None,
        typer.Option("--out", help="Folder for the files (default: <DUBAN_HOME>/briefings)."),
    ] = None,
    send: Annotated[
        bool, typer.Option("--send", help="Send it to the leadership's contacts (outbox).")
    ] = False,
    again: Annotated[
        bool, typer.Option("--again", help="With --send: send even if this version went out.")
    ] = False,
    plan: PlanOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="The view model as JSON.")] = False,
) -> None:
    """Write the weekly briefing (工作简报) for a week: numbered, recorded, with charts."""
    if as_of is not None and week is not None:
        raise typer.BadParameter("give --as-of or --week, not both", param_hint="--week")
    try:
        chosen = parse_formats(formats)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--format") from None
    if send and set(chosen) != {"md", "html", "docx"}:
        raise typer.BadParameter("--send needs all three formats", param_hint="--send")
    settings = get_settings()
    engine = ready_engine()
    with session_scope(engine) as session:
        plan_row = resolve_plan(session, plan)
        day = _briefing_date(as_of, week, plan_row.reporting_due, plan_row.timezone)
        issued = issue_briefing(
            session,
            plan_row,
            day,
            formats=chosen,
            out=out_dir or settings.resolved_briefings,
            yellow_workdays=settings.yellow_workdays,
            pace_margin=settings.pace_margin,
            fonts=settings.briefing_fonts,
            actor=settings.actor,
        )
    distribution = distribute_briefing(engine, issued.record_id, again=again) if send else None
    if as_json:
        payload = {
            "briefing": issued.view.model_dump(mode="json"),
            "record": {
                "id": issued.record_id,
                "number": issued.number,
                "checksum": issued.checksum,
                "new": issued.new,
                "reproduced": issued.reproduced,
                "files": {k: str(v) for k, v in issued.files.items()},
            },
        }
        sys.stdout.write(json.dumps(payload, ensure_ascii=False, indent=1) + "\n")
    else:
        print_issued(out, issued)
        if distribution is not None:
            print_distribution(out, distribution)
    warn(issued.view.warnings)


def _briefing_date(as_of: str | None, week: str | None, due: int, tz: str) -> date:
    if week is not None:
        try:
            return as_of_for_week(week, due)
        except ValueError as exc:
            raise typer.BadParameter(str(exc), param_hint="--week") from None
    return parse_date(as_of) or clock.today(tz)


def print_issued(console: Console, issued: Issued) -> None:
    """What was written, and whether this week's briefing is new or regenerated."""
    m, o = issued.view.masthead, issued.view.overview
    if issued.new:
        state = "new"
    elif issued.reproduced:
        state = "regenerated: same numbers as before"
    else:
        state = "regenerated: numbers changed since the last generation"
    console.print(
        f"{m.title} {m.year}年第{m.number}期 ({m.week}, as of {issued.view.as_of}; {state})"
    )
    console.print(
        f"  {o.total} items: {o.done.count} done, {o.on_track.count} on track, "
        f"{o.behind_pace.count} behind pace, {o.overdue.count} overdue, "
        f"{o.not_started.count} not started; checksum {issued.checksum[:12]}"
    )
    for fmt, path in issued.files.items():
        console.print(f"  {fmt:5} {path}", markup=False)
    for note in issued.font_notes:
        console.print(f"  font: {note}", markup=False)


def print_distribution(console: Console, result: Distribution) -> None:
    if result.already:
        console.print("  not sent: this version already went to leadership (--again sends it anew)")
        return
    for m in result.sent:
        console.print(f"  sent to {m.recipient} via {m.channel}: {m.subject}", markup=False)
    for m in result.failed:
        console.print(f"  [red]FAILED[/] to {m.recipient} via {m.channel}: {m.error}")
    if result.failed:
        raise typer.Exit(1)
