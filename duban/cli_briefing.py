"""``duban brief``: the briefing for leadership (Markdown, HTML, Word), and sending it: the
weekly 工作简报, or with ``--month``/``--quarter`` the 月通报 and 季度推进."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from config.errors import InputError, Problem
from domain.rules.glossary import CHANNELS, FILE_KINDS, word
from duban.app import AsOf, PlanOpt, app, out, warn
from duban.cli_words import BadOption
from duban.dates import parse_date
from models import clock

if TYPE_CHECKING:
    from domain.rules.periods import Period
    from domain.services.briefing.distribute import Distribution
    from domain.services.briefing.issue import Issued


@app.command()
def brief(
    as_of: AsOf = None,
    week: Annotated[
        str | None,
        typer.Option(help="ISO 周，如 2021-W52：按该周报送日出简报。"),
    ] = None,
    month: Annotated[
        str | None,
        typer.Option(help="月份，如 2021-12：出该月的月通报（截至月末）。"),
    ] = None,
    quarter: Annotated[
        str | None,
        typer.Option(help="季度，如 2021-Q4：出该季度的季度推进（截至季末）。"),
    ] = None,
    formats: Annotated[
        str, typer.Option("--format", help="逗号分隔：md、html、docx。")
    ] = "md,html,docx",
    out_dir: Annotated[
        Path | None,
        typer.Option("--out", help="文件写入的文件夹（默认：<DUBAN_HOME>/briefings）。"),
    ] = None,
    send: Annotated[
        bool, typer.Option("--send", help="发送给领导单位的联系人（经待发队列）。")
    ] = False,
    again: Annotated[
        bool, typer.Option("--again", help="与 --send 同用：这一版已发过也再发一次。")
    ] = False,
    plan: PlanOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="以 JSON 输出简报的数据。")] = False,
) -> None:
    """生成工作简报（每周），或月通报、季度推进：编期号、存档、附图表。"""
    from config.settings import get_settings
    from domain.queries.context import resolve_plan
    from domain.rules.context import LightPolicy
    from domain.services.briefing.distribute import distribute_briefing
    from domain.services.briefing.issue import BriefingDateError, briefing_date, issue_briefing
    from duban.database import ready_engine
    from models.db import session_scope

    chosen = _check_options(formats, send, again)
    period = parse_period(as_of, week=week, month=month, quarter=quarter)
    settings = get_settings()
    engine = ready_engine()
    target = out_dir or settings.resolved_briefings
    try:
        with session_scope(engine) as session:
            plan_row = resolve_plan(session, plan)
            if period is not None:
                day = briefing_date(session, plan_row, period)
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
                period=period,
            )
    except BriefingDateError as exc:
        raise BadOption(str(exc), param_hint="--as-of/--week/--month/--quarter") from None
    except OSError as exc:
        raise InputError(
            "the briefing was not written (nothing recorded)",
            [Problem(target, None, "--out", f"无法写入：{exc.strerror or exc}")],
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


def _check_options(formats: str, send: bool, again: bool) -> list[str]:
    """The formats asked for, after checking the options go together."""
    from domain.services.briefing.issue import parse_formats

    try:
        chosen = parse_formats(formats)
    except ValueError as exc:
        raise BadOption(str(exc), param_hint="--format") from None
    if send and set(chosen) != {"md", "html", "docx"}:
        raise BadOption("--send 需要三种格式都生成", param_hint="--send")
    if again and not send:
        raise BadOption("--again 只能与 --send 同用", param_hint="--again")
    return chosen


def parse_period(
    as_of: str | None,
    *,
    week: str | None,
    month: str | None = None,
    quarter: str | None = None,
) -> Period | None:
    """``--week``, ``--month`` or ``--quarter`` as a period, parsed once here; None when none
    is given (the week of ``--as-of``). At most one of them and ``--as-of`` (a usage error with
    a Chinese message otherwise)."""
    from domain.rules.periods import Period, PeriodError
    from models.enums import Edition

    given = {
        option: (edition, text)
        for option, edition, text in (
            ("--week", Edition.WEEK, week),
            ("--month", Edition.MONTH, month),
            ("--quarter", Edition.QUARTER, quarter),
        )
        if text is not None
    }
    if as_of is not None and given:
        raise BadOption(f"--as-of 和 {'、'.join(given)} 只能给一个", param_hint="--as-of")
    if len(given) > 1:
        raise BadOption(f"{'、'.join(given)} 只能给一个", param_hint="/".join(given))
    if not given:
        return None
    ((option, (edition, text)),) = given.items()
    try:
        return Period.parse(edition, text)
    except PeriodError as exc:
        raise BadOption(str(exc), param_hint=option) from None


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
    """What was written, and whether this period's briefing is new or regenerated."""
    m, o = issued.view.masthead, issued.view.overview
    if issued.new:
        state = "新生成"
    elif issued.reproduced:
        state = "重新生成：数字与上次相同"
    else:
        state = "重新生成：数字与上次不同"
    printed = "" if m.printed_on == m.issued_on else f"，{m.printed_on_zh}印发"
    console.print(
        f"{m.title} {m.year}年第{m.number}期"
        f"（{m.period_label}，截至{m.issued_on_zh}{printed}；{state}）"
    )
    console.print(
        f"  事项 {o.total} 项：已完成 {o.done.count}，正常推进 {o.on_track.count}，"
        f"进度滞后 {o.behind_pace.count}，逾期 {o.overdue.count}，未启动 {o.not_started.count}；"
        f"校验值 {issued.checksum[:12]}"
    )
    for fmt, path in issued.files.items():
        console.print(f"  {word(FILE_KINDS, fmt)} {path}", markup=False)
    for note in issued.font_notes:
        console.print(f"  字体：{note}", markup=False)


def print_distribution(console: Console, result: Distribution) -> None:
    if result.already:
        console.print("  未发送：这一版已发给领导（--again 可再发一次）")
        return
    for m in result.sent:
        console.print(
            f"  已发送给 {m.recipient}（{word(CHANNELS, m.channel)}）：{m.subject}", markup=False
        )
    for m in result.failed:
        console.print(
            f"  [red]发送失败[/] {escape(m.recipient)}（{word(CHANNELS, m.channel)}）："
            f"{escape(m.error or '')}"
        )
