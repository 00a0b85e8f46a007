"""The 考评通报 at each period's end: on the first working day after a quarter, write the
quarter's notice (and after the fourth, the year's too), show it in the UI, have the coordinator
approve it and send it to leadership, as the briefings are (:mod:`flows.briefing_review`).

Cron does not know the calendar: the schedule (``DUBAN_ASSESSMENT_CRON``) wakes the flow on the
first days of a quarter and the flow asks the working-day calendar whether today is the first
working day after one; any other day it finishes at once, saying why. A period given in the run
form (2021-Q4 or 2021) is written whatever the day, once it has ended.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Literal

from prefect import flow, tags
from prefect.artifacts import create_markdown_artifact
from prefect.client.schemas.objects import State

from config.assessment import load_assessment
from config.settings import get_settings
from domain.adapters.assessment_document import render_markdown
from domain.queries.plans import plan_of
from domain.rules.assessment_periods import (
    AssessedPeriod,
    outside_plan,
    period_of,
    quarter,
    year,
)
from domain.rules.context import LightPolicy
from domain.rules.glossary import CHANNELS, word, zh_date
from domain.services.assessment_notice import (
    FORMATS,
    approve_notice,
    distribute_notice,
    issue_notice,
)
from domain.services.briefing.issue import check_date, period_due
from flows.briefing_review import ForReview, ask_for_approval
from flows.briefing_review import review_and_send as review
from flows.common import (
    RunFormError,
    alert_on_failure,
    engine,
    logger,
    plan_and_day,
    run_name,
    stage,
)
from flows.forms import field
from flows.refusals import refusing
from flows.stages import artifact_key, briefing_url
from models.db import session_scope
from models.enums import Edition


@dataclass(frozen=True)
class WrittenNotice:
    record_id: int
    title: str
    number: str  # 考评〔2022〕1号
    period: str
    files: dict[str, str]


def due_periods(plan_id: str, day: date) -> list[AssessedPeriod]:
    """The periods whose notice ``day`` issues: the quarter that ended before it if ``day`` is
    its first working day after (and the year with a fourth quarter); none on other days."""
    with session_scope(engine()) as session:
        ended = period_due(session, Edition.QUARTER, day)
        if ended is None:
            return []
        plan = plan_of(session, plan_id)
        check_date(plan, ended.last)
        bounds = plan.period_start, plan.period_end
    chosen = [quarter(str(ended))]
    if why := outside_plan(chosen[0], *bounds):
        raise ValueError(why)
    return [*chosen, year(str(ended.year))] if ended.index == 4 else chosen


@stage("生成考评通报")
def write_notice(plan_id: str, day: date, period: str) -> WrittenNotice:
    """The notice of ``period`` (2021-Q4 or 2021) issued on ``day``, in every format, numbered,
    recorded and shown in the UI."""
    settings = get_settings()
    with session_scope(engine()) as session:
        issued = issue_notice(
            session,
            plan_of(session, plan_id),
            period_of(period),
            day,
            rules=load_assessment(),
            formats=list(FORMATS),
            out=settings.resolved_briefings,
            policy=LightPolicy(settings.yellow_workdays, settings.pace_margin),
            fonts=settings.briefing_fonts,
            actor="duban flow",
        )
    n = issued.notice
    files = {k: str(v) for k, v in issued.files.items()}
    links = "\n".join(
        f"- {fmt}: [{Path(p).name}]({briefing_url(Path(p))}) （{p}）" for fmt, p in files.items()
    )
    create_markdown_artifact(
        render_markdown(n) + f"\n---\n\n文件：\n\n{links}\n",
        key=artifact_key(plan_id, "assessment", period),
        description=f"{n.title}（{n.number}）",
    )
    logger().info(
        "考评通报 %s（%s）已生成%s：%s",
        n.title,
        n.number,
        "，与上次生成的数字相同" if issued.reproduced else "",
        ", ".join(files.values()),
    )
    return WrittenNotice(issued.record_id, n.title, n.number, period, files)


@stage("发送考评通报")
def send_notice(record_id: int) -> dict[str, int]:
    """Send the approved notice to leadership (HTML, text and the Word file) now."""
    result = distribute_notice(engine(), record_id)
    log = logger()
    if result.already:
        log.info("考评通报此前已发送给领导，本次不重复发送")
    for m in result.sent:
        log.info("考评通报已发送：%s（%s）", m.recipient, word(CHANNELS, m.channel))
    if result.failed:
        raise ConnectionError(f"{len(result.failed)} recipient(s) failed; the outbox keeps them")
    return {"sent": len(result.sent)}


def review_and_send(
    pid: str, written: WrittenNotice, *, send: bool, approval: Literal["wait", "auto"] | None
) -> dict[str, Any]:
    """The notice through the coordinator's review (:func:`flows.briefing_review.review_and_send`):
    approved, then sent now or with the next daily cycle's delivery."""
    result: dict[str, Any] = {"period": written.period, "number": written.number, "sent": 0}
    doc = ForReview(
        kind="考评通报",
        title=f"{written.title}（{written.number}）",
        record_id=written.record_id,
        files=written.files,
        alert_key=f"assessment-notice-{written.record_id}-unapproved",
        send_later=f"duban assess {_option(written.period)} --report --send",
        approve=approve_notice,
        send=send_notice,
    )
    return review(pid, doc, result, send=send, approval=approval, ask=ask_for_approval)


def _option(period: str) -> str:
    return f"--quarter {period}" if "Q" in period else f"--year {period}"


@flow(
    name="assessment-report",
    flow_run_name=run_name,
    description="每季度、每年结束后第一个工作日：生成考评通报，等待审核，发送给县领导。",
    on_failure=[alert_on_failure],
    on_crashed=[alert_on_failure],
)
@refusing
def assessment_report(
    plan_id: str | None = field("规划编号", "目录中的规划编号（部署已填好）", None),
    as_of: date | None = field(
        "日期", "哪一天运行；只在季度（年度）结束后第一个工作日出通报；留空为今天", None
    ),
    period: str | None = field(
        "考评期", "出哪一期的考评通报：季度写成 2021-Q4，年度写成 2021；留空则按上面的日期", None
    ),
    send: bool = field("审核后发送", "取消勾选则只生成、不发送", True),
    approval: Literal["wait", "auto"] | None = field(
        "审核方式", "wait：等协调员审核；auto：自动通过；留空按设置", None
    ),
) -> dict[str, Any]:
    """``period`` (2021-Q4 or 2021) writes that period's notice; else, on the first working day
    after a quarter (``as_of``, default today), the quarter's and, after the fourth, the year's."""
    pid, _, day = plan_and_day(plan_id, as_of)
    try:
        chosen = [period_of(period)] if period else due_periods(pid, day)
    except ValueError as exc:
        if period:
            raise RunFormError(f"考评期有误：{exc}") from None
        chosen, why = [], f"上季度不在规划期内：{exc}"
    else:
        why = f"{zh_date(day)}不是季度（年度）结束后的第一个工作日"
    if period and chosen[0].end >= day:
        raise RunFormError(f"考评期有误：{chosen[0].label}到{zh_date(chosen[0].end)}才结束")
    if period:
        with session_scope(engine()) as session:
            plan = plan_of(session, pid)
            outside = outside_plan(chosen[0], plan.period_start, plan.period_end)
        if outside:
            raise RunFormError(f"考评期有误：{outside}")
    if not chosen:
        logger().info("考评通报未生成：%s", why)
        return {"as_of": day.isoformat(), "skipped": why}
    with tags(pid, "assessment"):
        done = [
            review_and_send(pid, write_notice(pid, day, p.key), send=send, approval=approval)
            for p in chosen
        ]
    if len(done) == 1:
        return done[0]  # a state (未审核) names the run
    return {"notices": [r.data if isinstance(r, State) else r for r in done]}
