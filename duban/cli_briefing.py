"""``duban brief``: the weekly briefing for leadership (Markdown, HTML, Word), and sending it."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

from config.errors import InputError, Problem
from duban.app import AsOf, PlanOpt, app, out, warn
from duban.dates import parse_date
from models import clock

if TYPE_CHECKING:
    from domain.rules.isoweek import IsoWeek
    from domain.services.briefing.distribute import Distribution
    from domain.services.briefing.issue import Issued


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
    from config.settings import get_settings
    from domain.queries.context import resolve_plan
    from domain.rules.context import LightPolicy
    from domain.services.briefing.distribute import distribute_briefing
    from domain.services.briefing.issue import BriefingDateError, issue_briefing, report_day
    from duban.database import ready_engine
    from models.db import session_scope

    chosen = _check_options(as_of, week, formats, send, again)
    iso_week = parse_week(week)
    settings = get_settings()
    engine = ready_engine()
    target = out_dir or settings.resolved_briefings
    try:
        with session_scope(engine) as session:
            plan_row = resolve_plan(session, plan)
            if iso_week is not None:
                day = report_day(session, plan_row, iso_week)
            else:
                day = parse_date(as_of) or clock.today(plan_row.timezone)
            issued = issue_briefing(
                session,
                plan_row,
                day,
                formats=chosen,
                out=target,
                policy=LightPolicy(settings.yellow_workdays, settings.pace_margin),
                fonts=settings.briefing_fonts,
                actor=settings.actor,
            )
    except BriefingDateError as exc:
        raise typer.BadParameter(str(exc), param_hint="--as-of/--week") from None
    except OSError as exc:
        raise InputError(
            "the briefing was not written (nothing recorded)",
            [Problem(target, None, "--out", f"cannot write there: {exc.strerror or exc}")],
        ) from None
    distribution = distribute_briefing(engine, issued.record_id, again=again) if send else None
    if as_json:
        payload = json_payload(issued, distribution)
        sys.stdout.write(json.dumps(payload, ensure_ascii=False, indent=1) + "\n")
    else:
        print_issued(out, issued)
        if distribution is not None:
            print_distribution(out, distribution)
    warn(issued.view.warnings)
    if distribution is not None and distribution.failed:
        raise typer.Exit(1)


def _check_options(
    as_of: str | None, week: str | None, formats: str, send: bool, again: bool
) -> list[str]:
    """The formats asked for, after checking the options go together."""
    from domain.services.briefing.issue import parse_formats

    if as_of is not None and week is not None:
        raise typer.BadParameter("give --as-of or --week, not both", param_hint="--week")
    try:
        chosen = parse_formats(formats)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--format") from None
    if send and set(chosen) != {"md", "html", "docx"}:
        raise typer.BadParameter("--send needs all three formats", param_hint="--send")
    if again and not send:
        raise typer.BadParameter("--again only goes with --send", param_hint="--again")
    return chosen


def parse_week(week: str | None) -> IsoWeek | None:
    """``--week`` as a value, parsed once here (a usage error with a Chinese message if bad)."""
    from domain.rules.isoweek import IsoWeek, WeekError

    try:
        return IsoWeek.parse(week) if week is not None else None
    except WeekError as exc:
        raise typer.BadParameter(str(exc), param_hint="--week") from None


def json_payload(issued: Issued, distribution: Distribution | None) -> dict[str, Any]:
    """``--json``: the view model, the record, and what sending did."""
    payload: dict[str, Any] = {
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
    if distribution is not None:
        payload["sent"] = {
            "already": distribution.already,
            "sent": [m.recipient for m in distribution.sent],
            "failed": {m.recipient: m.error for m in distribution.failed},
        }
    return payload


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
