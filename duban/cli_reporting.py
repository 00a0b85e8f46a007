"""Commands for progress reporting: workbooks out, reports in, verification, indicators."""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from config.errors import InputError
from domain.rules.glossary import ITEM_STATES, zh_date
from duban.app import AsOf, PlanOpt, app, out
from duban.cli_words import BadOption
from duban.dates import parse_date
from models import clock
from models.enums import ItemState

ItemArg = Annotated[int, typer.Argument(help="事项编号（同 `status` 所列）。")]
Actor = Annotated[str | None, typer.Option(help="操作人（默认：DUBAN_ACTOR，否则为登录名）。")]


def _today_or(as_of: str | None, tz: str) -> date:
    return parse_date(as_of) or clock.today(tz)


@app.command()
def workbook(
    out_dir: Annotated[Path, typer.Option("--out", help="填报表写入的文件夹。")],
    unit: Annotated[str | None, typer.Option(help="一个单位的编号。")] = None,
    all_units: Annotated[
        bool, typer.Option("--all", help="每个有事项或指标数据要报的单位。")
    ] = False,
    fmt: Annotated[
        str,
        typer.Option(
            "--format",
            help="xlsx（Excel 填报表）、csv 或 json（每行带签名的模板）。",
        ),
    ] = "xlsx",
    as_of: AsOf = None,
    plan: PlanOpt = None,
) -> None:
    """为每个单位生成进展填报表或模板（已签名，预填本单位的事项）。"""
    from domain.queries.context import resolve_plan
    from domain.services.intake.templates import FORMATS, write_template
    from domain.services.workbooks import units_for_workbooks, write_workbook
    from duban.database import ready_engine
    from models.db import session_scope

    if (unit is None) == (not all_units):
        raise BadOption("请给出 --unit 单位编号，或 --all", param_hint="--unit/--all")
    if fmt not in FORMATS:
        raise BadOption("请用 xlsx、csv 或 json", param_hint="--format")
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
        out.print(f"{path}（事项 {items} 项，指标数据 {measures} 项）", markup=False)
    noun = "份填报表" if fmt == "xlsx" else f"份 {fmt} 模板"
    out.print(f"已生成{zh_date(day)}所在报送期的 {len(files)} {noun}，在 {out_dir}", markup=False)


@app.command()
def collect(
    inbox: Annotated[
        Path | None, typer.Option(help="报送文件所在的文件夹（默认：<DUBAN_HOME>/inbox）。")
    ] = None,
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of",
            help="按这一天收到记录这些文件（重放历史）；默认：现在。",
        ),
    ] = None,
    trusted: Annotated[
        bool,
        typer.Option(
            "--trusted",
            help="为本次未签名的文件担保（已由你核实）：以 --actor 的名义入库。",
        ),
    ] = False,
    actor: Actor = None,
    plan: PlanOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="机器可读的输出。")] = False,
) -> None:
    """把收件箱中的每个报送文件（.xlsx/.csv/.json）整份入库，或整份退回。"""
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
    unit: Annotated[str, typer.Option(help="报送单位的编号。")],
    state: Annotated[
        str,
        typer.Option(help="本期状态：未开始、推进中、已完成或受阻。"),
    ],
    percent: Annotated[int | None, typer.Option(min=0, max=100, help="进度百分比 0–100。")] = None,
    note: Annotated[str | None, typer.Option(help="进展情况。")] = None,
    problem: Annotated[str | None, typer.Option(help="存在问题。")] = None,
    next_steps: Annotated[str | None, typer.Option(help="下步计划。")] = None,
    evidence: Annotated[str | None, typer.Option(help="佐证材料：路径或网址。")] = None,
    period: Annotated[str | None, typer.Option(help="报送期（期内任一日期）；默认今天。")] = None,
    actor: Actor = None,
    plan: PlanOpt = None,
) -> None:
    """在命令行报送一个事项的进展，检查与填报表中的一行相同。"""
    from domain.queries.context import resolve_plan
    from domain.queries.report_landing import check, land
    from domain.rules.intake.rows import ParsedFile, ReportRow
    from domain.rules.reporting import parse_report_state
    from duban.database import ready_engine
    from models.db import session_scope

    try:
        reported = parse_report_state(state)
    except ValueError as exc:
        raise BadOption(str(exc), param_hint="--state") from None
    parsed = ParsedFile(Path("<命令行>"), "cli", unit=unit, period=parse_date(period, "--period"))
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
            raise InputError(f"事项 {item_id} 的进展未被接受", problems)
        landed = land(session, checked, parsed, actor=actor or f"unit:{unit}", file_id=None)
    moved = "，".join(f"→ {ITEM_STATES[ItemState(s)]}" for s in landed.moves) or "状态不变"
    out.print(f"#{item_id}：已记录{landed.unit_name}的进展（{moved}）")


@app.command()
def verify(
    item_id: ItemArg,
    note: Annotated[str | None, typer.Option(help="记入办理记录的说明。")] = None,
    actor: Actor = None,
) -> None:
    """核验销号：关闭已申请办结的事项（须有佐证材料）。"""
    from config.settings import get_settings
    from domain.queries.items import verify_item
    from duban.database import ready_engine
    from models.db import session_scope

    with session_scope(ready_engine()) as session:
        verify_item(session, item_id, actor=actor or get_settings().actor, note=note)
    out.print(f"#{item_id}：已核验销号")


@app.command("return")
def return_item(
    item_id: ItemArg,
    reason: Annotated[str, typer.Option(help="退回原因。")],
    actor: Actor = None,
) -> None:
    """退回：把已申请办结的事项退回责任单位，并说明原因。"""
    from config.settings import get_settings
    from domain.queries.items import move_item
    from duban.database import ready_engine
    from models.db import session_scope

    with session_scope(ready_engine()) as session:
        move_item(
            session, item_id, ItemState.RETURNED, actor=actor or get_settings().actor, reason=reason
        )
    out.print(f"#{item_id}：已退回 — {reason}")


@app.command()
def indicators(
    as_of: AsOf = None,
    plan: PlanOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="机器可读的输出。")] = False,
    townships: Annotated[bool, typer.Option("--townships", help="同时列出各乡镇的值。")] = False,
) -> None:
    """规划的指标：全县值（分项之和之比）、目标、差距和灯色。"""
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
