"""The weekly briefing: write it, show it in the UI, wait for the coordinator's approval of the
draft, then send it to leadership (:mod:`flows.briefing_review`)."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from prefect import flow, tags

from domain.queries.plans import plan_of
from domain.rules.periods import Period
from domain.services.briefing.issue import briefing_date, check_date
from flows.briefing_review import briefing_for_review, review_and_send
from flows.common import RunFormError, alert_on_failure, engine, plan_and_day, run_name
from flows.forms import field
from flows.refusals import refusing
from flows.stages import publish_public_pages, write_briefing
from models.db import session_scope
from models.enums import Edition


@flow(
    name="weekly-briefing",
    flow_run_name=run_name,
    description="生成每周简报，等待审核，发送给县领导。",
    on_failure=[alert_on_failure],
    on_crashed=[alert_on_failure],
)
@refusing
def weekly_briefing(
    plan_id: str | None = field("规划编号", "目录中的规划编号（部署已填好）", None),
    as_of: date | None = field("日期", "按哪一天的情况出简报；留空为今天", None),
    week: str | None = field(
        "周次", "出哪一周的简报，写成 2022-W01（年-W周）；留空则按上面的日期", None
    ),
    send: bool = field("审核后发送", "取消勾选则只生成、不发送", True),
    approval: Literal["wait", "auto"] | None = field(
        "审核方式", "wait：等协调员审核；auto：自动通过；留空按设置", None
    ),
) -> dict[str, Any]:
    """``week`` (2021-W52) picks that week's report day; else ``as_of`` (default today)."""
    pid, _, day = plan_and_day(plan_id, as_of)
    with session_scope(engine()) as session:
        plan = plan_of(session, pid)
        try:
            day = briefing_date(session, plan, Period.parse(Edition.WEEK, week)) if week else day
            check_date(plan, day)
        except ValueError as exc:
            raise RunFormError(f"周次或日期（week/as_of）有误：{exc}") from None
    with tags(pid, "weekly"):
        written = write_briefing(pid, day)
        publish_public_pages(pid, day)
        result: dict[str, Any] = {"week": written.period, "number": written.number, "sent": 0}
        doc = briefing_for_review(written, f"duban brief --week {written.period} --send")
        return review_and_send(pid, doc, result, send=send, approval=approval)
