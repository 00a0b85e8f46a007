"""``duban evaluate``: the plan's final evaluation report (规划实施终期评估) in Markdown, HTML
and Word, with the coordinator's conclusions read from a text file."""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from config.errors import InputError, Problem
from domain.rules.glossary import FILE_KINDS, word, zh_date
from duban.app import PlanOpt, app, out, warn
from duban.cli_words import BadOption
from duban.dates import parse_date
from models import clock

if TYPE_CHECKING:
    from domain.services.evaluation import Written
    from models.orm import Plan


@app.command()
def evaluate(
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of", help="统计截至日期 YYYY-MM-DD（默认：规划期末；规划未期满时为今天）。"
        ),
    ] = None,
    formats: Annotated[
        str, typer.Option("--format", help="逗号分隔：md、html、docx。")
    ] = "md,html,docx",
    out_dir: Annotated[
        Path | None,
        typer.Option("--out", help="文件写入的文件夹（默认：<DUBAN_HOME>/briefings）。"),
    ] = None,
    conclusions: Annotated[
        Path | None,
        typer.Option(
            "--conclusions",
            help="协调员写的评估结论和建议（文本文件，UTF-8 或 GBK，每段一行）。",
        ),
    ] = None,
    plan: PlanOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="以 JSON 输出评估的数据。")] = False,
) -> None:
    """生成规划实施终期评估报告：指标、重点任务、未办结事项及原因、主要问题、逐年情况。"""
    from config.settings import get_settings
    from domain.queries.context import build_context, resolve_plan
    from domain.rules.context import LightPolicy
    from domain.rules.evaluation import folder_of
    from domain.rules.evaluation.layout import CONCLUSIONS_FILE
    from domain.services.briefing.issue import parse_formats
    from domain.services.evaluation import write_evaluation
    from duban.cli_errors import os_words
    from duban.database import ready_engine
    from models.db import session_scope

    try:
        chosen = parse_formats(formats)
    except ValueError as exc:
        raise BadOption(str(exc), param_hint="--format") from None
    asked = parse_date(as_of)
    settings = get_settings()
    engine = ready_engine()
    target = out_dir or settings.resolved_briefings
    policy = LightPolicy(settings.yellow_workdays, settings.pace_margin)
    try:
        with session_scope(engine) as session:
            plan_row = resolve_plan(session, plan)
            day = evaluation_day(plan_row, asked, clock.today(plan_row.timezone))
            beside = folder_of(target, plan_row.id) / CONCLUSIONS_FILE
            if conclusions is None and beside.is_file():
                conclusions = beside  # the coordinator's file kept beside the report
            paragraphs = read_conclusions_file(conclusions) if conclusions is not None else None
            ctx = build_context(session, plan_row, day, policy)
            written = write_evaluation(
                session,
                plan_row,
                ctx,
                formats=chosen,
                out=target,
                fonts=settings.briefing_fonts,
                conclusions=paragraphs,
            )
    except OSError as exc:
        raise InputError(
            "终期评估报告未写成",
            [Problem(target, None, "--out", f"无法写入：{os_words(exc)}")],
        ) from None
    if as_json:
        sys.stdout.write(json.dumps(json_payload(written), ensure_ascii=False, indent=1) + "\n")
    else:
        print_written(written)
        if conclusions is not None:
            out.print(f"  评估结论和建议读自 {conclusions}", markup=False)
    warn(written.view.warnings)


def read_conclusions_file(path: Path) -> list[str]:
    """The conclusions file's paragraphs (InputError naming the file when it is missing, not
    readable, not text in a known encoding, or empty)."""
    from domain.rules.evaluation.conclusions import ConclusionsError, read_conclusions
    from duban.cli_errors import os_words

    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError(
            "找不到评估结论文件，报告未生成",
            [Problem(path, None, "--conclusions", "没有这个文件")],
        ) from None
    except OSError as exc:
        raise InputError(
            "评估结论文件无法读取，报告未生成",
            [Problem(path, None, "--conclusions", f"无法读取：{os_words(exc)}")],
        ) from None
    try:
        return read_conclusions(data)
    except ConclusionsError as exc:
        raise InputError(
            "评估结论文件无法使用，报告未生成", [Problem(path, None, "--conclusions", str(exc))]
        ) from None


def evaluation_day(plan: Plan, asked: date | None, today: date) -> date:
    """The day asked for, else the plan's last day, or today while the plan runs (BadOption
    for a day before the plan's start)."""
    day = asked or min(plan.period_end, today)
    if day < plan.period_start:
        raise BadOption(
            f"{zh_date(day)}早于规划起始日（{zh_date(plan.period_start)}）",
            param_hint="--as-of",
        )
    return day


def json_payload(written: Written) -> dict[str, Any]:
    """``--json``: the view model and the files written."""
    return {
        "evaluation": written.view.model_dump(mode="json"),
        "files": {k: str(v) for k, v in written.files.items()},
        "charts": {k: str(v) for k, v in written.charts.items()},
    }


def print_written(written: Written) -> None:
    """What was written, the headline figures, and whether the plan had ended on the day."""
    v, t = written.view, written.view.totals
    if v.ended:
        state = f"规划已于{zh_date(v.period_end)}期满"
    else:
        state = f"规划尚未期满（期末{zh_date(v.period_end)}），为截至当日的评估"
    out.print(f"{v.title}（统计截至{v.as_of_zh}；{state}）", markup=False)
    met = sum(1 for i in v.indicators if i.met)
    out.print(
        f"  事项 {t.total} 项：到期 {t.due}，按期完成 {t.due_on_time}，逾期完成 {t.late}，"
        f"未办结 {t.open_due}，未到期 {t.not_due}；指标达标 {met}/{len(v.indicators)}",
        markup=False,
    )
    if v.conclusions is None:
        from domain.rules.evaluation.layout import CONCLUSIONS_FILE

        out.print(
            f"  评估结论和建议：待协调员填写（写入报告所在文件夹的 {CONCLUSIONS_FILE}，"
            "或用 --conclusions 指定文件，再运行本命令）",
            markup=False,
        )

    for fmt, path in written.files.items():
        out.print(f"  {word(FILE_KINDS, fmt)} {path}", markup=False)
    for note in written.font_notes:
        out.print(f"  字体：{note}", markup=False)
