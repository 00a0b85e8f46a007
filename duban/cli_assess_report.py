"""``duban assess --quarter 2021-Q4 --report``: the 考评通报 written as Markdown, HTML and Word
(numbered within the year it is issued), and with ``--send`` approved by the actor and sent to
leadership, as ``duban brief`` writes and sends a briefing."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from config.errors import InputError, Problem
from duban.app import out
from duban.cli_briefing import print_distribution
from duban.cli_words import BadOption
from duban.dates import parse_date
from models import clock

if TYPE_CHECKING:
    from domain.rules.assessment_periods import AssessedPeriod
    from domain.services.assessment_notice import IssuedNotice


def check_report_options(report: bool, formats: str, send: bool, unit: str | None) -> list[str]:
    """The formats asked for, after checking the options go together."""
    from domain.services.briefing.issue import parse_formats

    if not report:
        if send:
            raise BadOption("--send 只能与 --report 同用", param_hint="--send")
        return []
    if unit is not None:
        raise BadOption("考评通报包括全部单位，不能与 --unit 同用", param_hint="--unit")
    try:
        chosen = parse_formats(formats)
    except ValueError as exc:
        raise BadOption(str(exc), param_hint="--format") from None
    if send and set(chosen) != {"md", "html", "docx"}:
        raise BadOption("--send 需要三种格式都生成", param_hint="--send")
    return chosen


def issue_report(
    period: AssessedPeriod,
    *,
    formats: list[str],
    out_dir: Path | None,
    send: bool,
    as_of: str | None,
    rules: Path | None,
    plan: str | None,
) -> None:
    """Write (and with ``send`` approve and send) the period's notice, dated ``as_of`` (today
    by default), and say what was done."""
    from config.assessment import load_assessment
    from config.settings import get_settings
    from domain.queries.context import resolve_plan
    from domain.rules.context import LightPolicy
    from domain.services.assessment_notice import (
        NoticeDateError,
        approve_notice,
        distribute_notice,
        issue_notice,
    )
    from duban.cli_assess import within_plan
    from duban.database import ready_engine
    from models.db import session_scope

    policy_rules = load_assessment(rules)
    settings = get_settings()
    engine = ready_engine()
    target = out_dir or settings.resolved_briefings
    try:
        with session_scope(engine) as session:
            plan_row = resolve_plan(session, plan)
            within_plan(period, plan_row.period_start, plan_row.period_end)
            day = parse_date(as_of) or clock.today(plan_row.timezone)
            issued = issue_notice(
                session,
                plan_row,
                period,
                day,
                rules=policy_rules,
                formats=formats,
                out=target,
                policy=LightPolicy(settings.yellow_workdays, settings.pace_margin),
                fonts=settings.briefing_fonts,
                actor=settings.actor,
            )
    except NoticeDateError as exc:
        raise BadOption(str(exc), param_hint="--as-of") from None
    except OSError as exc:
        raise InputError(
            "the assessment notice was not written (nothing recorded)",
            [Problem(target, None, "--out", f"无法写入：{exc.strerror or exc}")],
        ) from None
    print_notice(issued)
    if send:
        approve_notice(engine, issued.record_id, settings.actor)
        result = distribute_notice(engine, issued.record_id)
        if result.already:
            out.print("  未发送：这一版已发给领导", markup=False)
        else:
            print_distribution(out, result)
        if result.failed:
            raise typer.Exit(1)


def print_notice(issued: IssuedNotice) -> None:
    """What was written, and whether the period's notice is new or issued again."""
    from domain.rules.glossary import FILE_KINDS, word

    if issued.new:
        state = "新生成"
    elif issued.reproduced:
        state = "重新生成：数字与上次相同"
    else:
        state = "重新生成：数字与上次不同，需重新审核"
    n = issued.notice
    out.print(f"{n.title}（{n.number}；{state}）", markup=False)
    out.print(f"  校验值 {issued.checksum[:12]}", markup=False)
    for fmt, path in issued.files.items():
        out.print(f"  {word(FILE_KINDS, fmt)} {path}", markup=False)
    for note in issued.font_notes:
        out.print(f"  字体：{note}", markup=False)
