"""``duban assess``: the quarter's or year's assessment (考评) of every responsible unit, ranked
departments apart from townships, and one unit's score explained item by item."""

from __future__ import annotations

import dataclasses
import json
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from duban.app import AsOf, PlanOpt, app, out
from duban.cli_words import BadOption
from duban.dates import parse_date

if TYPE_CHECKING:
    from domain.queries.objections import ObjectionView
    from domain.rules.assessment import Line, UnitScore
    from domain.rules.assessment_periods import AssessedPeriod

assess_app = typer.Typer(
    help="考评：按季度或年度给各责任单位打分（百分制）、排名，并逐项说明得分。",
    invoke_without_command=True,
)
app.add_typer(assess_app, name="assess")

Quarter = Annotated[str | None, typer.Option("--quarter", help="考评的季度，如 2021-Q4。")]
Year = Annotated[str | None, typer.Option("--year", help="考评的年度，如 2021。")]


@assess_app.callback()
def assess(
    command: typer.Context,
    quarter: Quarter = None,
    year: Year = None,
    unit: Annotated[
        str | None,
        typer.Option("--unit", help="只看这个单位（单位代码；乡镇含所辖村、社区）。"),
    ] = None,
    explain: Annotated[
        bool, typer.Option("--explain", help="逐项列出得分、失分所依据的事项和日期（须 --unit）。")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="机器可读的输出。")] = False,
    as_of: AsOf = None,
    rules: Annotated[
        Path | None,
        typer.Option("--rules", help="考评细则文件（默认：config/assessment.yaml）。"),
    ] = None,
    plan: PlanOpt = None,
    report: Annotated[
        bool,
        typer.Option("--report", help="出具考评通报（Markdown、HTML、Word），编号存档。"),
    ] = False,
    formats: Annotated[
        str, typer.Option("--format", help="与 --report 同用，逗号分隔：md、html、docx。")
    ] = "md,html,docx",
    out_dir: Annotated[
        Path | None,
        typer.Option("--out", help="考评通报写入的文件夹（默认：<DUBAN_HOME>/briefings）。"),
    ] = None,
    send: Annotated[
        bool,
        typer.Option("--send", help="与 --report 同用：以 DUBAN_ACTOR 审核通过并发送给领导单位。"),
    ] = False,
) -> None:
    """考评：县直部门、乡镇（含所辖村、社区）分别排名；加 --unit --explain 逐项说明得分；
    加 --report 出具考评通报。"""
    if command.invoked_subcommand is not None:
        return
    from config.assessment import load_assessment
    from config.settings import get_settings
    from domain.queries.assessment import assessment_facts
    from domain.queries.context import build_context, resolve_plan
    from domain.queries.objections import objections_of, upheld_excuses
    from domain.queries.plans import unknown_unit
    from domain.rules.assessment import score
    from domain.rules.context import LightPolicy
    from domain.rules.objections import excuse
    from duban.cli_assess_report import check_report_options, issue_report
    from duban.database import ready_engine
    from models import clock
    from models.db import session_scope

    period = period_option(quarter, year)
    chosen = check_report_options(report, formats, send, unit)
    if report:
        issue_report(
            period,
            formats=chosen,
            out_dir=out_dir,
            send=send,
            as_of=as_of,
            rules=rules,
            plan=plan,
        )
        return
    if explain and unit is None:
        raise BadOption("逐项说明须指明单位：--unit 单位代码", param_hint="--explain")
    policy_rules = load_assessment(rules)
    settings = get_settings()
    with session_scope(ready_engine()) as session:
        plan_row = resolve_plan(session, plan)
        within_plan(period, plan_row.period_start, plan_row.period_end)
        day = checked_day(period, parse_date(as_of), clock.today(plan_row.timezone))
        policy = LightPolicy(settings.yellow_workdays, settings.pace_margin)
        ctx = build_context(session, plan_row, day, policy)
        facts = assessment_facts(session, ctx, period, unit=unit)
        upheld = upheld_excuses(session, plan_row.id, period.key)
        objections: list[ObjectionView] = (
            objections_of(session, plan_row.id, period.key, unit) if unit else []
        )
        if unit is not None and not facts:
            raise unknown_unit(session, plan_row.id, unit)
    scores = [score(policy_rules, excuse(f, upheld.get(f.unit, []))) for f in facts]
    original = {f.unit: score(policy_rules, f).score for f in facts if f.unit in upheld}
    before = {s.unit: original[s.unit] for s in scores if original.get(s.unit, s.score) != s.score}
    if as_json:
        payload = _json(period, day, scores, before, details=explain)
        if unit is not None:
            payload["objections"] = [dataclasses.asdict(o) for o in objections]
        sys.stdout.write(json.dumps(payload, ensure_ascii=False, indent=1, default=str) + "\n")
    elif unit is not None:
        _one(period, day, scores[0], before.get(unit), details=explain)
        from duban.cli_objections import print_objections

        print_objections(objections)
    else:
        _ranking(period, day, scores, before)


def checked_day(period: AssessedPeriod, asked: date | None, today: date) -> date:
    """The day the period is assessed on (its end, or ``asked``/``today`` while it runs);
    BadOption when that is before the period began."""
    from domain.queries.assessment import assessment_day

    day = assessment_day(period, asked or today)
    if day < period.start:
        hint = "--as-of" if asked else ("--quarter" if "Q" in period.key else "--year")
        raise BadOption(f"{period.label}尚未开始", param_hint=hint)
    return day


def within_plan(period: AssessedPeriod, start: date, end: date) -> None:
    """BadOption when ``period`` lies wholly outside the plan's period."""
    from domain.rules.assessment_periods import outside_plan

    why = outside_plan(period, start, end)
    if why is not None:
        raise BadOption(why, param_hint="--quarter" if "Q" in period.key else "--year")


def period_option(quarter: str | None, year: str | None) -> AssessedPeriod:
    from domain.rules import assessment_periods as periods

    if (quarter is None) == (year is None):
        raise BadOption(
            "请给出 --quarter（如 2021-Q4）或 --year（如 2021），二者选一", param_hint="--quarter"
        )
    try:
        return periods.quarter(quarter) if quarter else periods.year(year or "")
    except ValueError as exc:
        raise BadOption(str(exc), param_hint="--quarter" if quarter else "--year") from None


def _heading(period: AssessedPeriod, day: date) -> str:
    from domain.rules.glossary import zh_date

    upto = "" if day == period.end else f"，截至{zh_date(day)}"
    return f"{period.label}考评（{zh_date(period.start)}至{zh_date(period.end)}{upto}）"


def _ranking(
    period: AssessedPeriod, day: date, scores: list[UnitScore], before: dict[str, Decimal]
) -> None:
    from rich.table import Table

    from domain.rules.assessment import ranked
    from domain.rules.glossary import ASSESSMENT_GROUPS

    out.print(_heading(period, day), markup=False)
    for kind in dict.fromkeys(ASSESSMENT_GROUPS.values()):
        group = ranked(s for s in scores if ASSESSMENT_GROUPS.get(s.kind) == kind)
        if not group:
            continue
        table = Table(title=kind, title_justify="left", show_edge=False)
        columns = ["名次", "单位", "得分", "按期完成", "报送及时", "规范办理", "按期/应完成"]
        columns += ["按时/应报送", "逾期工作日", "扣分依据"]
        if any(s.unit in before for _, s in group):
            columns.append("申诉前得分")
        for name in columns:
            right = name not in {"单位", "扣分依据"}
            table.add_column(name, justify="right" if right else "left", no_wrap=name == "单位")
        for rank, s in group:
            conduct = s.score - s.part("completion") - s.part("timeliness")
            table.add_row(
                str(rank),
                f"{s.name}（{s.unit}）",
                points(s.score),
                points(s.part("completion")),
                points(s.part("timeliness")),
                points(conduct),
                f"{s.counts.on_time}/{s.counts.due}",
                f"{s.counts.sent_on_time}/{s.counts.owed}",
                str(s.counts.overdue_workdays),
                _why(s),
                *(
                    [points(before[s.unit]) if s.unit in before else ""]
                    if len(columns) > 10
                    else []
                ),
            )
        out.print()
        out.print(table)
    idle = sorted(s.name for s in scores if not s.assessed)
    if idle:
        out.print(f"\n本期无考评内容（无到期事项、无应报进展）：{'、'.join(idle)}", markup=False)
    out.print(
        "\n逐项说明：duban assess --unit 单位代码 --explain，加同样的 --quarter/--year",
        markup=False,
    )


def _why(s: UnitScore) -> str:
    """The deductions of a score in a few words: 逾期12个工作日、退回1次."""
    parts = []
    for line in s.lines:
        if line.points < 0:
            parts.append(f"{line.title}{points(-line.points)}")
    return "、".join(parts) or "无"


def _one(
    period: AssessedPeriod, day: date, s: UnitScore, before: Decimal | None, *, details: bool
) -> None:
    from rich.table import Table

    from domain.rules.glossary import ASSESSMENT_GROUPS

    group = ASSESSMENT_GROUPS.get(s.kind, "")
    within = "（含所辖村、社区）" if s.kind == "township" else ""
    changed = f"（申诉前 {points(before)} 分）" if before is not None else ""
    out.print(
        f"{s.name}{within} {_heading(period, day)}：{points(s.score)} 分{changed}", markup=False
    )
    if group and not s.assessed:
        out.print("本期无考评内容（无到期事项、无应报进展），不参加排名。", markup=False)
    table = Table(show_edge=False)
    table.add_column("项目")
    table.add_column("分值", justify="right")
    table.add_column("计算")
    for line in s.lines:
        table.add_row(line.title, _signed(line), line.basis)
    table.add_row("合计", points(s.score), _sum_text([line.points for line in s.lines], s.score))
    out.print(table)
    if not details:
        return
    for line in s.lines:
        if not line.details:
            continue
        out.print(f"\n{line.title}（{_signed(line)}）：", markup=False)
        for d in line.details:
            shown = "" if d.points is None else f"  {_signed_points(d.points)}"
            out.print(f"  {d.text}{shown}", markup=False, soft_wrap=True)
        each = [d.points for d in line.details if d.points is not None]
        summed = sum(each)
        if each and summed != line.points:  # a cap or a floor: not the items' sum
            out.print(
                f"  逐项合计 {_signed_points(summed)}，按“{line.basis}”计 {_signed(line)}",
                markup=False,
                soft_wrap=True,
            )


def points(value: Any) -> str:
    return f"{value:.1f}"


def _signed_points(value: Any) -> str:
    if value == 0:
        return "0.0"
    return f"+{value:.1f}" if value > 0 else f"−{-value:.1f}"


def _signed(line: Line) -> str:
    return _signed_points(line.points)


def _sum_text(parts: list[Any], score: Any) -> str:
    """The total as a sum of its non-zero parts: 30.0 + 2.3 + 20.0 − 10.0 = 42.3."""
    text = ""
    for value in (v for v in parts if v != 0):
        if not text:
            text = f"{value:.1f}" if value > 0 else f"−{-value:.1f}"
        else:
            text += f" + {value:.1f}" if value > 0 else f" − {-value:.1f}"
    return f"{text or '0.0'} = {score:.1f}"


def _json(
    period: AssessedPeriod,
    day: date,
    scores: list[UnitScore],
    before: dict[str, Decimal],
    *,
    details: bool,
) -> dict[str, Any]:
    from domain.rules.assessment import ranked

    ranks = {
        s.unit: r
        for kind in {s.kind for s in scores}
        for r, s in ranked(x for x in scores if x.kind == kind)
    }
    return {
        "period": period.key,
        "start": period.start.isoformat(),
        "end": period.end.isoformat(),
        "as_of": day.isoformat(),
        "units": [
            {
                "unit": s.unit,
                "name": s.name,
                "kind": s.kind,
                "assessed": s.assessed,
                "rank": ranks.get(s.unit),
                "score": float(s.score),
                "score_before_objections": float(before.get(s.unit, s.score)),
                "counts": dataclasses.asdict(s.counts),
                "lines": [
                    {
                        "part": line.part,
                        "points": float(line.points),
                        "basis": line.basis,
                        **(
                            {
                                "details": [
                                    {
                                        "text": d.text,
                                        "points": None if d.points is None else float(d.points),
                                    }
                                    for d in line.details
                                ]
                            }
                            if details
                            else {}
                        ),
                    }
                    for line in s.lines
                ],
            }
            for s in sorted(scores, key=lambda s: (s.kind, ranks.get(s.unit) or 10**6, s.unit))
        ],
    }


import duban.cli_objections  # noqa: E402, F401 - registers `assess objection` on `assess_app`
