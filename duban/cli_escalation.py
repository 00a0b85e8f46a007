"""Commands for escalation: plan and deliver reminders, explain them, acknowledge, extend."""

from __future__ import annotations

import json
import sys
from datetime import date
from typing import TYPE_CHECKING, Annotated

import typer

from config.errors import NotFoundError
from domain.rules.glossary import zh_date
from duban.app import AsOf, PlanOpt, app, out
from duban.cli_words import BadOption
from duban.dates import parse_date
from models import clock

if TYPE_CHECKING:
    from sqlalchemy import Engine

ItemArg = Annotated[int, typer.Argument(help="事项编号（同 `status` 所列）。")]


@app.command()
def escalate(
    as_of: AsOf = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="只显示将发送什么、为什么，不写入。")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="机器可读的输出。")] = False,
    limit: Annotated[int, typer.Option(min=0, help="列出的消息数；0 为全部。")] = 20,
    plan: Annotated[
        str | None,
        typer.Option(
            "--plan",
            help="只办这个规划；不写时办数据库中的每个规划，同一收件人各规划的提醒合成一份。",
        ),
    ] = None,
) -> None:
    """按催办阶梯列出应发的提醒（写入待发队列），再按收件人合并成一份汇总发出。"""
    from config.ladder import load_ladder
    from config.settings import get_settings
    from domain.queries.calendar import is_workday
    from domain.queries.context import plan_facts, resolve_plan
    from domain.queries.plan_end import reminders_stopped
    from domain.queries.plans import plan_ids
    from domain.rules.context import LightPolicy
    from domain.services.escalation import run_escalation
    from duban import render
    from duban.database import ready_engine
    from models.db import session_scope

    settings = get_settings()
    ladder = load_ladder(settings.ladder)
    policy = LightPolicy(settings.yellow_workdays, settings.pace_margin)
    requested = parse_date(as_of)
    engine = ready_engine()
    with session_scope(engine) as session:
        every = plan_ids(session) if plan is None else []
        if len(every) > 1:
            tz = resolve_plan(session, every[0]).timezone
        else:
            plan_row = resolve_plan(session, plan)
            plan_id, tz = plan_row.id, plan_row.timezone
    if len(every) > 1:
        _escalate_plans(engine, every, requested, tz, dry_run, as_json, limit)
        return
    day = requested or clock.today(tz)
    moment = clock.end_of_working_day(day, tz) if requested else clock.now()
    with clock.frozen_time(moment):
        due, new, report = run_escalation(
            engine,
            plan_id,
            day,
            ladder,
            policy=policy,
            dry_run=dry_run,
        )
    result = render.escalation_json(day, due, new, report)
    result["dry_run"] = dry_run
    if as_json:
        sys.stdout.write(json.dumps(result, ensure_ascii=False, indent=1) + "\n")
        return
    with session_scope(engine) as session:
        resting = not is_workday(session, day)
        stopped = reminders_stopped(session, plan_facts(resolve_plan(session, plan_id)), day)
    if resting:
        out.print(f"{zh_date(day)}是休息日：不生成提醒，期间到期的提醒在下一个工作日生成。")
    elif stopped is not None:
        out.print(stopped.words(), markup=False, soft_wrap=True)
    render.escalation(out, result, limit=limit or None)


def _escalate_plans(
    engine: Engine,
    plans: list[str],
    requested: date | None,
    tz: str,
    dry_run: bool,
    as_json: bool,
    limit: int,
) -> None:
    """`duban escalate` over every plan: each plan's notices planned, then one digest per
    recipient across the plans; each plan's count and why it plans nothing, then the digests."""
    from config.ladder import load_ladder
    from config.settings import get_settings
    from domain.queries.calendar import is_workday
    from domain.queries.context import plan_facts, resolve_plan
    from domain.queries.plan_end import reminders_stopped
    from domain.rules.context import LightPolicy
    from domain.services.escalation import run_escalation_plans
    from duban import render
    from models.db import session_scope

    settings = get_settings()
    policy = LightPolicy(settings.yellow_workdays, settings.pace_margin)
    day = requested or clock.today(tz)
    moment = clock.end_of_working_day(day, tz) if requested else clock.now()
    with clock.frozen_time(moment):
        planned, report = run_escalation_plans(
            engine, plans, day, load_ladder(settings.ladder), policy=policy, dry_run=dry_run
        )
    everything = [n for due, _ in planned.values() for n in due]
    result = render.escalation_json(day, everything, sum(n for _, n in planned.values()), report)
    result["dry_run"] = dry_run
    result["plans"] = [
        {"plan": pid, "due": len(due), "new_in_outbox": new} for pid, (due, new) in planned.items()
    ]
    if as_json:
        sys.stdout.write(json.dumps(result, ensure_ascii=False, indent=1) + "\n")
        return
    with session_scope(engine) as session:
        if not is_workday(session, day):
            out.print(f"{zh_date(day)}是休息日：不生成提醒，期间到期的提醒在下一个工作日生成。")
        for pid, (due, new) in planned.items():
            facts = plan_facts(resolve_plan(session, pid))
            stopped = reminders_stopped(session, facts, day)
            said = (
                stopped.words()
                if stopped is not None
                else f"应发提醒 {len(due)} 条，{'将' if dry_run else ''}新写入 {new} 条"
            )
            out.print(f"规划 {pid}（{facts.title}）：{said}", markup=False, soft_wrap=True)
    out.print(f"以上{len(planned)}个规划的提醒按收件人合并发送，每人一份：", markup=False)
    render.escalation(out, result, limit=limit or None)


@app.command()
def notices(
    item: Annotated[int | None, typer.Option(help="只看这个事项的提醒。")] = None,
    unit: Annotated[str | None, typer.Option(help="只看这个单位（及下级）的提醒。")] = None,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="解释“为何没有提醒”时所依据的日期。")
    ] = None,
    plan: PlanOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="机器可读的输出。")] = False,
) -> None:
    """为什么提醒了（或没提醒）某人：每条提醒的依据、收件人、状态和错误。"""
    from sqlalchemy import select

    from config.ladder import load_ladder
    from config.settings import get_settings
    from domain.queries.context import build_context, resolve_plan
    from domain.queries.escalation import explain_quiet
    from domain.queries.scope import subtree
    from domain.rules.context import LightPolicy
    from duban import render
    from duban.database import ready_engine
    from models.db import session_scope
    from models.orm import WorkItem
    from models.records import Message, Notice, NoticeDelivery

    with session_scope(ready_engine()) as session:
        plan_row = resolve_plan(session, plan)
        query = select(Notice).where(Notice.plan_id == plan_row.id).order_by(Notice.id)
        if item is not None:
            query = query.where(Notice.item_id == item)
        if unit is not None:
            query = query.where(Notice.unit_id.in_(subtree(session, plan_row.id, unit)))
        rows = []
        for n in session.scalars(query):
            messages = session.execute(
                select(
                    Message.recipient,
                    Message.channel,
                    Message.status,
                    Message.last_error,
                    Message.address,
                )
                .join(NoticeDelivery, NoticeDelivery.message_id == Message.id)
                .where(NoticeDelivery.notice_id == n.id)
                .order_by(Message.id)
            ).all()
            rows.append(
                {
                    "id": n.id,
                    "kind": n.kind,
                    "item": n.item_id,
                    "level": n.level,
                    "level_name": n.level_name,
                    "due": str(n.due) if n.due else None,
                    "cycle": n.cycle,
                    "rule": n.rule,
                    "roles": n.roles,
                    "planned_on": str(n.planned_on),
                    "status": n.status,
                    "attempts": n.attempts,
                    "error": n.last_error,
                    "deliveries": [
                        {
                            "recipient": m.recipient,
                            "channel": m.channel,
                            "status": m.status,
                            "address": m.address,
                            "error": m.last_error,
                        }
                        for m in messages
                    ],
                }
            )
        why = None
        if item is not None and not rows:
            work = session.get(WorkItem, item)
            if work is None:
                raise BadOption(f"没有事项 {item}", param_hint="--item")
            settings = get_settings()
            policy = LightPolicy(settings.yellow_workdays, settings.pace_margin)
            ctx = build_context(session, plan_row, parse_date(as_of), policy)
            why = explain_quiet(session, ctx, item, load_ladder(settings.ladder))
    if as_json:
        payload = {"notices": rows, "why_none": why}
        sys.stdout.write(json.dumps(payload, ensure_ascii=False, indent=1) + "\n")
        return
    render.notices(out, rows, item, why)


@app.command()
def ack(
    item_id: ItemArg,
    actor: Annotated[str | None, typer.Option(help="确认人。")] = None,
) -> None:
    """确认事项当前的催办级别：这一级不再重复提醒（事项仍未办结时，下一级照常到来）。"""
    from sqlalchemy import select

    from config.settings import get_settings
    from domain.queries.context import resolve_plan
    from duban.database import ready_engine
    from models.db import session_scope
    from models.orm import WorkItem
    from models.records import ItemAck, Notice

    with session_scope(ready_engine()) as session:
        work = session.get(WorkItem, item_id)
        if work is None:
            raise BadOption(f"没有事项 {item_id}", param_hint="事项编号")
        latest = session.scalars(
            select(Notice)
            .where(Notice.item_id == item_id, Notice.kind == "ladder", Notice.due == work.due)
            .order_by(Notice.id.desc())
        ).first()
        if latest is None or latest.due is None:
            raise NotFoundError(
                f"事项 {item_id} 在当前完成时限{zh_date(work.due)}下还没有收到过提醒"
            )
        tz = resolve_plan(session, latest.plan_id).timezone
        if session.get(ItemAck, (item_id, latest.level, latest.due)) is None:
            session.add(
                ItemAck(
                    due=latest.due,
                    item_id=item_id,
                    level=latest.level,
                    at=clock.now(),
                    on_date=clock.local_date(clock.now(), tz),
                    actor=actor or get_settings().actor,
                )
            )
    out.print(f"#{item_id}：已确认“{latest.level_name}”这一级提醒，这一级不再重复")


@app.command()
def extend(
    item_id: ItemArg,
    to: Annotated[str, typer.Option("--to", help="批准的新完成时限。")],
    reason: Annotated[str, typer.Option(help="原因及批准人。")],
    actor: Annotated[str | None, typer.Option(help="登记人。")] = None,
) -> None:
    """延期：登记批准的延期；亮灯和提醒按新时限，原时限留档。"""
    from config.settings import get_settings
    from domain.queries.items import extend_item
    from duban.database import ready_engine
    from models.db import session_scope
    from models.orm import WorkItem

    new_due = parse_date(to, "--to")
    assert new_due is not None
    with session_scope(ready_engine()) as session:
        old = extend_item(
            session, item_id, new_due, actor=actor or get_settings().actor, reason=reason
        )
        due = session.get(WorkItem, item_id).due  # type: ignore[union-attr]
    moved = f"（{zh_date(new_due)}是休息日，顺延）" if due != new_due else ""
    out.print(f"#{item_id}：完成时限 {zh_date(old)} → {zh_date(due)}{moved}（延期，{reason}）")
