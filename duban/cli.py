"""The ``duban`` command line. Thin: it parses options, opens a session and calls the library.

User mistakes (bad catalogue, unknown item, impossible move) print a message and exit with
status 2, without a traceback and without changing the database.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from config.errors import ConflictError, EmptyDatabaseError, InputError, NotFoundError
from domain.rules.glossary import CALENDAR_SOURCES, ITEM_STATES, zh_date, zh_weekday
from domain.rules.lifecycle import TransitionError
from domain.rules.retirement import MASS_RETIRE_SHARE
from duban import cli_index
from duban.app import AsOf, CatalogPath, PlanOpt, catalog_app, err, item_app, out, warn
from duban.app import app as root
from duban.dates import DEMO_AS_OF, parse_date
from models.enums import ItemState


@root.command()
def init() -> None:
    """创建数据库，或把它升级到最新的结构版本（Alembic）。"""
    from duban.database import display_url
    from models.db import open_engine
    from models.migrate import upgrade

    engine = open_engine(create=True)
    before, after = upgrade(engine)
    where = display_url(engine)
    if before == after:
        out.print(f"数据库 {where} 已是最新（结构版本 {after}）")
    else:
        out.print(f"数据库 {where}：结构版本 {before or '空'} → {after}")


@root.command()
def recount(
    plan: PlanOpt = None,
    check: Annotated[
        bool, typer.Option("--check", help="只比对；统计表有出入时退出码为 1。")
    ] = False,
) -> None:
    """比对事项统计表（每日计数所读）与事项本身并重建它；平时由触发器维护，
    只有关闭触发器的导入（仅数据的恢复）之后才需要。"""
    from domain.queries.context import resolve_plan
    from duban.database import ready_engine
    from models.db import session_scope
    from models.tally import recount_tally, tally_drift

    with session_scope(ready_engine(), rollback=check) as session:
        plan_id = resolve_plan(session, plan).id
        drift = tally_drift(session, plan_id)
        for key, tallied, counted in drift[:20]:
            out.print(f"  {' '.join(str(v) for v in key)}：统计 {tallied}，事项 {counted}")
        if check:
            out.print(f"{plan_id}：统计表有 {len(drift)} 组与事项不符")
            if drift:
                raise typer.Exit(1)
            return
        rows = recount_tally(session, plan_id)
    out.print(f"{plan_id}：有 {len(drift)} 组不符；统计表已重建（{rows} 行）")


@catalog_app.command("validate")
def catalog_validate(path: CatalogPath = None) -> None:
    """校验规划目录：结构、编号唯一、引用、循环依赖、日期、重复规则、分解范围。"""
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
    dry_run: Annotated[bool, typer.Option("--dry-run", help="只显示将有的变化，不写入。")] = False,
    allow_retire: Annotated[
        bool,
        typer.Option(
            "--allow-retire",
            help=f"允许撤销超过 {MASS_RETIRE_SHARE:.0%} 的在办事项。",
        ),
    ] = False,
    verbose: Annotated[bool, typer.Option("--verbose", help="列出每一项变化。")] = False,
) -> None:
    """在一个事务中把规划目录载入数据库，并列出变化。"""
    from config.settings import get_settings
    from domain.queries.calendar import fallback_warnings
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
        period = catalog.plan.period
        guessed = fallback_warnings(session, period.start, period.end)  # e.g. a plan past 2026
    if dry_run:
        out.print("试运行：没有写入。这次同步将会：")
    render.sync_report(out, report, limit=None if verbose else 20)
    warn(guessed)


@root.command()
def status(
    as_of: AsOf = None,
    task: Annotated[
        str | None, typer.Option(help="只看这项重点任务：序号（3）或编号（T03）。")
    ] = None,
    unit: Annotated[str | None, typer.Option(help="只看这个单位及其下级单位。")] = None,
    plan: PlanOpt = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="机器可读的输出（见 docs/status-json.md）。")
    ] = False,
    limit: Annotated[int, typer.Option(min=0, help="筛选时列出的事项数；0 为全部。")] = 50,
) -> None:
    """某日各重点任务按灯色统计的事项数；加 --task/--unit 时逐项列出。"""
    from config.settings import get_settings
    from domain.queries.completeness import reporting_view
    from domain.queries.context import build_context
    from domain.queries.status import status_view
    from domain.rules.context import LightPolicy
    from duban import render
    from duban.database import ready_engine
    from models.db import session_scope

    settings = get_settings()
    policy = LightPolicy(settings.yellow_workdays, settings.pace_margin)
    with session_scope(ready_engine()) as session:
        ctx = build_context(session, plan, parse_date(as_of), policy)
        view = status_view(session, ctx, task=task, unit=unit, with_items=as_json)
        reporting = None
        if not view.filters:
            reporting = reporting_view(session, ctx)
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
    item_id: Annotated[int, typer.Argument(help="事项编号（同 `status` 所列）。")],
) -> None:
    """一个事项：成果、时限、前置事项和完整的办理记录（留痕）。"""
    from domain.queries.item_detail import item_detail
    from duban import render
    from duban.database import ready_engine
    from models.db import session_scope

    with session_scope(ready_engine()) as session:
        detail = item_detail(session, item_id)
    render.item_detail(out, detail)


@item_app.command("move")
def item_move(
    item_id: Annotated[int, typer.Argument(help="事项编号（同 `status` 所列）。")],
    to: Annotated[ItemState, typer.Option("--to", help="要转入的状态。")],
    reason: Annotated[
        str | None,
        typer.Option(help="原因（退回、受阻、延期、撤销和重新打开时必填）。"),
    ] = None,
    actor: Annotated[
        str | None, typer.Option(help="操作人（默认：DUBAN_ACTOR，否则为登录名）。")
    ] = None,
) -> None:
    """按办理流程移动一个事项（签收、推进、办结申请、销号、退回……），并留痕。"""
    from config.settings import get_settings
    from domain.queries.items import move_item, verify_item
    from duban.database import ready_engine
    from models.db import session_scope
    from models.orm import WorkItem

    with session_scope(ready_engine()) as session:
        if session.get(WorkItem, item_id) is None:
            raise NotFoundError(f"没有事项 {item_id}")
        who = actor or get_settings().actor
        move = (
            verify_item(session, item_id, actor=who, note=reason)
            if to == ItemState.CLOSED  # closing always goes through the verification checks
            else move_item(session, item_id, to, actor=who, reason=reason)
        )
    assert move.from_state is not None
    out.print(f"#{item_id}：{ITEM_STATES[move.from_state]} → {ITEM_STATES[move.to_state]}")


@root.command("calendar")
def calendar(
    day: Annotated[str, typer.Argument(help="日期 YYYY-MM-DD。")],
    until: Annotated[str | None, typer.Option(help="数到这一天为止的工作日数。")] = None,
) -> None:
    """某日是否工作日（含调休），以及两日之间的工作日数。"""
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
    kind = "工作日" if r.is_workday else "休息日"
    note = f"（{r.note}）" if r.note else ""
    source = CALENDAR_SOURCES.get(r.source, r.source)
    out.print(f"{zh_date(first)}（{zh_weekday(first)}）是{kind}{note}；依据：{source}")
    if last is not None:
        out.print(f"{zh_date(first)}至{zh_date(last)}的工作日数：{rows[last].ordinal - r.ordinal}")


@root.command()
def demo(
    home: Annotated[
        Path | None,
        typer.Option(help="演示数据的文件夹（默认：<DUBAN_HOME>/demo）；其中的数据库会重建。"),
    ] = None,
    as_of: Annotated[str, typer.Option("--as-of", help="显示哪一天的情况。")] = (
        DEMO_AS_OF.isoformat()
    ),
) -> None:
    """主流程演示：新建内置数据库，同步默认规划，显示情况、跑每日流程和每周简报。"""
    from config.settings import get_settings
    from duban.demo import run_demo

    run_demo(out, home or get_settings().home / "demo", parse_date(as_of) or DEMO_AS_OF)


if TYPE_CHECKING:
    app: typer.Typer


def __getattr__(name: str) -> typer.Typer:
    """``app``: the root with every command (the other ``duban.cli_*`` modules register theirs
    when first asked for); ``main`` loads only the command it runs."""
    if name == "app":
        return cli_index.load_all(root)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _error(text: str, *, soft_wrap: bool = True) -> None:
    """One line ``错误：text`` on stderr, URL passwords hidden."""
    from config.settings import hide_passwords

    err.print(f"[red]错误：[/]{escape(hide_passwords(text))}", soft_wrap=soft_wrap)


def main() -> None:
    """Entry point: run the app, turning user mistakes into exit status 2 without a traceback.
    Pydantic's plugins are off unless ``PYDANTIC_DISABLE_PLUGINS`` says otherwise: duban uses
    none, and looking for them reads every installed package's metadata (1.5 % of `status`)."""
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    try:
        cli_index.run(root, sys.argv[1:])
    except InputError as exc:
        _error(exc.summary, soft_wrap=False)
        for problem in exc.problems:
            err.print(f"  {problem}", markup=False, soft_wrap=True)  # one line per problem
        sys.exit(2)
    except EmptyDatabaseError as exc:
        from models.db import database_setting

        _error(f"{exc}（所用数据库由 {database_setting()} 决定：若不是这一个，请改正该设置）")
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
