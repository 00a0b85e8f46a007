"""``duban catalog carry-over``: a draft catalogue of an old plan's unfinished milestones (结转)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from config.errors import InputError, Problem
from duban.app import catalog_app, out
from duban.cli_words import BadOption
from duban.dates import parse_date


@catalog_app.command("carry-over")
def catalog_carry_over(
    from_plan: Annotated[
        str, typer.Option("--from", help="原规划的编号（其未完成的节点将结转）。")
    ],
    out_dir: Annotated[Path, typer.Option("--out", help="草稿写到这个文件夹。")],
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="截至日期 YYYY-MM-DD（默认：原规划的期末）。"),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="覆盖文件夹中已有的草稿（其中的修改会丢失）。")
    ] = False,
) -> None:
    """结转草稿：原规划截至某日（默认规划期末）未销号的节点，写成待整理的目录文件。"""
    from domain.adapters.carry_over_draft import draft_path, write_draft
    from domain.queries.carry_over import carry_over
    from domain.rules.glossary import zh_date
    from duban.database import ready_engine
    from models import clock
    from models.db import session_scope
    from models.orm import Plan
    from tasks_catalog.schema import DUE_TO_FILL

    existing = draft_path(out_dir, from_plan)
    if existing.exists() and not force:
        raise InputError(
            "结转草稿未生成：文件夹中已有草稿",
            [
                Problem(
                    existing,
                    None,
                    "--out",
                    "已有同名的结转草稿（可能已填写或修改过）：如要重新生成，请先改名或移走它，"
                    "或加 --force 覆盖",
                )
            ],
        )
    day = parse_date(as_of)
    with session_scope(ready_engine(), rollback=True) as session:
        plan = session.get(Plan, from_plan)
        if plan is not None and day is not None and day < plan.period_start:
            raise BadOption(
                f"{zh_date(day)}在原规划开始（{zh_date(plan.period_start)}）之前，"
                "那时还没有事项可结转；请写原规划期内或期满后的日期",
                param_hint="--as-of",
            )
        carry = carry_over(session, from_plan, day)
    path = write_draft(carry, out_dir, clock.today(carry.timezone))
    out.print(
        f"结转草稿：{path}（{carry.plan_id} 截至 {zh_date(carry.as_of)}："
        f"重点任务 {len(carry.tasks)} 项，节点 {carry.milestones} 个，"
        f"未销号事项 {carry.items} 项）",
        markup=False,
    )
    if carry.tasks:
        out.print(
            f"请把其中每个“due: {DUE_TO_FILL}”改为新的完成时限，再并入新规划的目录"
            "（说明见文件开头）",
            markup=False,
        )
