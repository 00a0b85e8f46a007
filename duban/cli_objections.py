"""``duban assess objection``: a unit's objection (申诉) to an item's part of its assessment,
recorded and decided by the coordinator, with the score before and after the decision."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from duban.app import AsOf, PlanOpt, out
from duban.cli_assess import Quarter, Year, assess_app, period_option, points
from duban.dates import parse_date

if TYPE_CHECKING:
    from domain.queries.objections import ObjectionView


STATUS_WORDS = {"pending": "待决定", "upheld": "成立", "rejected": "不成立"}


def print_objections(objections: list[ObjectionView]) -> None:
    """The unit's objections of the period, each with its decision and both scores."""
    if not objections:
        return
    from domain.rules.glossary import ASSESSMENT_PARTS, zh_date

    out.print("\n申诉：", markup=False)
    for o in objections:
        line = (
            f"  申诉 {o.id}：{zh_date(o.filed_on)} {o.actor}登记，#{o.item_id} {o.milestone} "
            f"{o.title} 的{ASSESSMENT_PARTS[o.part]}；理由：{o.reason}；{STATUS_WORDS[o.status]}"
        )
        if o.decided_on is not None:
            line += f"（{zh_date(o.decided_on)} {o.decided_by}：{o.decision_reason}"
            line += f"，得分 {o.score_before:.1f} → {o.score_after:.1f}）"
        out.print(line, markup=False, soft_wrap=True)


objection_app = typer.Typer(
    help="申诉：单位对某一事项的扣分提出异议，督办协调单位登记并决定；决定前后的得分都留档。",
    no_args_is_help=True,
)
assess_app.add_typer(objection_app, name="objection")

Actor = Annotated[str | None, typer.Option("--actor", help="登记人或决定人（默认：DUBAN_ACTOR）。")]
RulesOpt = Annotated[
    Path | None, typer.Option("--rules", help="考评细则文件（默认：config/assessment.yaml）。")
]
PARTS_HELP = "申诉的项目：按期完成、逾期扣分、核验退回扣分或到期后延期扣分（也可写其英文代号）。"


@objection_app.command("add")
def objection_add(
    unit: Annotated[str, typer.Option("--unit", help="被考评的单位（单位代码）。")],
    item: Annotated[int, typer.Option("--item", help="所申诉的事项编号。", min=1)],
    part: Annotated[str, typer.Option("--part", help=PARTS_HELP)],
    reason: Annotated[str, typer.Option("--reason", help="申诉理由。")],
    quarter: Quarter = None,
    year: Year = None,
    actor: Actor = None,
    as_of: AsOf = None,
    rules: RulesOpt = None,
    plan: PlanOpt = None,
) -> None:
    """登记申诉：须在考评期末之后规定的工作日数内提出（见考评细则）。"""
    from config.assessment import load_assessment
    from config.settings import get_settings
    from domain.queries.context import build_context, resolve_plan
    from domain.queries.objections import file_objection
    from domain.rules.context import LightPolicy
    from domain.rules.glossary import ASSESSMENT_PARTS
    from domain.rules.objections import OBJECTION_PARTS
    from duban.database import ready_engine
    from models import clock
    from models.db import session_scope

    period = period_option(quarter, year)
    settings = get_settings()
    named = {ASSESSMENT_PARTS[p]: p for p in OBJECTION_PARTS}
    part = named.get(part.strip(), part.strip())
    with session_scope(ready_engine()) as session:
        plan_row = resolve_plan(session, plan)
        day = parse_date(as_of) or clock.today(plan_row.timezone)
        ctx = build_context(session, plan_row, day, LightPolicy(settings.yellow_workdays))
        number = file_objection(
            session,
            ctx,
            load_assessment(rules),
            period,
            unit=unit,
            item_id=item,
            part=part,
            reason=reason,
            actor=actor or settings.actor,
        )
    word = ASSESSMENT_PARTS.get(part, part)
    out.print(f"已登记申诉 {number}：{period.label} {unit} #{item} 的{word}，待决定", markup=False)


@objection_app.command("decide")
def objection_decide(
    number: Annotated[int, typer.Argument(help="申诉编号。", min=1)],
    reason: Annotated[str, typer.Option("--reason", help="决定的理由。")],
    uphold: Annotated[
        bool, typer.Option("--uphold/--reject", help="申诉成立（重新计分）或不成立。")
    ],
    actor: Actor = None,
    as_of: AsOf = None,
    rules: RulesOpt = None,
    plan: PlanOpt = None,
) -> None:
    """决定申诉：记录决定和理由；成立时重新计分，决定前后的得分都留档。"""
    from config.assessment import load_assessment
    from config.settings import get_settings
    from domain.queries.context import build_context, resolve_plan
    from domain.queries.objections import decide_objection
    from domain.rules.context import LightPolicy
    from duban.database import ready_engine
    from models import clock
    from models.db import session_scope

    settings = get_settings()
    policy_rules = load_assessment(rules)
    with session_scope(ready_engine()) as session:
        plan_row = resolve_plan(session, plan)
        day = parse_date(as_of) or clock.today(plan_row.timezone)
        ctx = build_context(session, plan_row, day, LightPolicy(settings.yellow_workdays))
        before, after = decide_objection(
            session,
            ctx,
            policy_rules,
            number,
            uphold=uphold,
            reason=reason,
            actor=actor or settings.actor,
        )
    word = "成立，已重新计分" if uphold else "不成立"
    out.print(
        f"申诉 {number}：{word}；{after.name}得分 {points(before.score)} → {points(after.score)}",
        markup=False,
    )


@objection_app.command("list")
def objection_list(
    quarter: Quarter = None,
    year: Year = None,
    unit: Annotated[str | None, typer.Option("--unit", help="只看这个单位。")] = None,
    plan: PlanOpt = None,
) -> None:
    """列出申诉及其决定（不给期间时列出全部）。"""
    from domain.queries.context import resolve_plan
    from domain.queries.objections import objections_of
    from duban.database import ready_engine
    from models.db import session_scope

    key = None if quarter is None and year is None else period_option(quarter, year).key
    with session_scope(ready_engine()) as session:
        found = objections_of(session, resolve_plan(session, plan).id, key, unit)
    if not found:
        out.print("没有申诉", markup=False)
    print_objections(found)
