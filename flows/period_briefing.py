"""The monthly and quarterly briefings (月通报, 季度推进): on the first working day after a month
or a quarter, write its edition, have it approved and send it, as the weekly one is
(:mod:`flows.briefing_review`).

Cron does not know the calendar: the schedule wakes the flow on the first days of a month and
the flow asks the working-day calendar whether today is the first working day after the period
(after National Day's holiday, 2021-10-08); any other day it finishes at once, saying why. A
period given in the run form is written whatever the day.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from prefect import flow, tags

from domain.queries.plans import plan_of
from domain.rules.glossary import EDITION_NAMES, LAST_PERIOD, zh_date
from domain.rules.periods import Period
from domain.services.briefing.issue import check_date, period_due
from flows.briefing_review import briefing_for_review, review_and_send
from flows.common import RunFormError, alert_on_failure, engine, logger, plan_and_day, run_name
from flows.forms import field
from flows.refusals import refusing
from flows.stages import write_briefing
from models.db import session_scope
from models.enums import Edition

OPTIONS = {Edition.MONTH: "--month", Edition.QUARTER: "--quarter"}
"""The `duban brief` option that writes each edition."""


def edition_briefing(
    edition: Edition,
    plan_id: str | None,
    as_of: date | None,
    period: str | None,
    *,
    send: bool,
    approval: Literal["wait", "auto"] | None,
) -> dict[str, Any]:
    """The body of both flows: the period asked for, else the one that ended before ``as_of``
    (default today) if ``as_of`` is its first working day after; nothing on any other day."""
    pid, _, day = plan_and_day(plan_id, as_of)
    skipped = f"{zh_date(day)}不是{LAST_PERIOD[edition]}结束后的第一个工作日"
    with session_scope(engine()) as session:
        plan = plan_of(session, pid)
        try:
            chosen = Period.parse(edition, period) if period else period_due(session, edition, day)
            if chosen is not None:
                check_date(plan, chosen.last)
        except ValueError as exc:
            if period:
                raise RunFormError(f"期次有误：{exc}") from None
            chosen, skipped = None, f"{LAST_PERIOD[edition]}不在规划期内：{exc}"
    if chosen is None:
        logger().info("%s未生成：%s", EDITION_NAMES[edition], skipped)
        return {"as_of": day.isoformat(), "skipped": skipped}
    with tags(pid, edition.value):
        written = write_briefing(pid, chosen.last, str(chosen))
        result: dict[str, Any] = {
            "period": written.period,
            "edition": edition.value,
            "number": written.number,
            "sent": 0,
        }
        doc = briefing_for_review(
            written, f"duban brief {OPTIONS[edition]} {written.period} --send"
        )
        return review_and_send(pid, doc, result, send=send, approval=approval)


@flow(
    name="monthly-briefing",
    flow_run_name=run_name,
    description="每月第一个工作日：生成上月的月通报，等待审核，发送给县领导。",
    on_failure=[alert_on_failure],
    on_crashed=[alert_on_failure],
)
@refusing
def monthly_briefing(
    plan_id: str | None = field("规划编号", "目录中的规划编号（部署已填好）", None),
    as_of: date | None = field(
        "日期", "哪一天运行；只在月后第一个工作日出上月的通报；留空为今天", None
    ),
    month: str | None = field("月份", "出哪个月的通报，写成 2021-12；留空则按上面的日期", None),
    send: bool = field("审核后发送", "取消勾选则只生成、不发送", True),
    approval: Literal["wait", "auto"] | None = field(
        "审核方式", "wait：等协调员审核；auto：自动通过；留空按设置", None
    ),
) -> dict[str, Any]:
    """``month`` (2021-12) writes that month's 月通报; else, on the first working day after a
    month (``as_of``, default today), the one of that month."""
    return edition_briefing(Edition.MONTH, plan_id, as_of, month, send=send, approval=approval)


@flow(
    name="quarterly-briefing",
    flow_run_name=run_name,
    description="每季度后第一个工作日：生成上季度的季度推进，等待审核，发送给县领导。",
    on_failure=[alert_on_failure],
    on_crashed=[alert_on_failure],
)
@refusing
def quarterly_briefing(
    plan_id: str | None = field("规划编号", "目录中的规划编号（部署已填好）", None),
    as_of: date | None = field(
        "日期", "哪一天运行；只在季度后第一个工作日出上季度的通报；留空为今天", None
    ),
    quarter: str | None = field("季度", "出哪个季度的通报，写成 2021-Q4；留空则按上面的日期", None),
    send: bool = field("审核后发送", "取消勾选则只生成、不发送", True),
    approval: Literal["wait", "auto"] | None = field(
        "审核方式", "wait：等协调员审核；auto：自动通过；留空按设置", None
    ),
) -> dict[str, Any]:
    """``quarter`` (2021-Q4) writes that quarter's 季度推进; else, on the first working day
    after a quarter (``as_of``, default today), the one of that quarter."""
    return edition_briefing(Edition.QUARTER, plan_id, as_of, quarter, send=send, approval=approval)
