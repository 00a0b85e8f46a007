"""What every flow shares: the engine, the plan and date, retries, tags and the failure alert.

Retries: a stage is retried (three times, 10 s, 20 s, 40 s, with jitter) only when it failed for
a reason that may pass: the database connection (``OperationalError``, ``DisconnectionError``),
the network or a mail server (``ConnectionError``, ``TimeoutError``, ``ChannelError``). A user
mistake (a bad catalogue) or a bug fails at once: retrying would only repeat it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date
from typing import Any, ParamSpec, TypeVar
from zoneinfo import ZoneInfo

from prefect import Flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.client.schemas.objects import FlowRun, State, TaskRun
from prefect.tasks import Task, exponential_backoff
from sqlalchemy import Engine, select
from sqlalchemy.exc import DisconnectionError, OperationalError

from domain.adapters.channels import ChannelError
from domain.queries.calendar import ensure_calendar
from domain.queries.context import resolve_plan
from domain.queries.plans import plan_of
from domain.rules.glossary import zh_date, zh_weekday
from domain.services.alerts import alert_coordinator
from models import clock
from models.db import session_scope
from models.orm import CalendarDay, Plan
from models.schema_version import ready_engine

TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    OperationalError,
    DisconnectionError,
    ConnectionError,
    TimeoutError,
    ChannelError,
)
RETRIES = 3
RETRY_DELAYS = exponential_backoff(backoff_factor=10)
RETRY_JITTER = 0.5


def retry_on_transient_errors(task: Task[..., Any], task_run: TaskRun, state: State[Any]) -> bool:  # noqa: ARG001 - Prefect's signature
    """Prefect retry condition: retry only database, network and mail-server failures."""
    error = state.result(raise_on_failure=False)
    return isinstance(error, TRANSIENT_ERRORS)


P = ParamSpec("P")
R = TypeVar("R")


def stage(name: str) -> Callable[[Callable[P, R]], Task[P, R]]:
    """Decorator for a stage task: named, retried on transient errors only, never cached (every
    run recomputes from the database, which is the record)."""
    return task(
        name=name,
        retries=RETRIES,
        retry_delay_seconds=RETRY_DELAYS,
        retry_jitter_factor=RETRY_JITTER,
        retry_condition_fn=retry_on_transient_errors,
        cache_policy=NO_CACHE,
    )


class RunFormError(ValueError):
    """A parameter typed in a run form cannot be used (a week that is not one, a date outside
    the plan): the run is refused saying so (:mod:`flows.refusals`), no alert."""


def engine() -> Engine:
    """The configured database, checked to be at the newest schema."""
    return ready_engine()


def plan_and_day(plan_id: str | None, as_of: date | None) -> tuple[str, str, date]:
    """(plan id, plan title, the day to work on: ``as_of`` or today in the plan's timezone)."""
    with session_scope(engine()) as session:
        plan = resolve_plan(session, plan_id)
        return plan.id, plan.title, as_of or clock.today(plan.timezone)


def working_day(day: date) -> tuple[bool, str]:
    """Whether ``day`` is a working day on the calendar, and what the calendar says."""
    with session_scope(engine()) as session:
        ensure_calendar(session, day)
        row = session.get(CalendarDay, day)
        assert row is not None
        note = row.note or ("周末" if day.weekday() >= 5 else "")
        return row.is_workday, note


def outside_plan(plan_id: str, day: date) -> str | None:
    """Why ``day`` is outside what the plan's flows work on (before it, or more than a year
    after it ended), or None."""
    with session_scope(engine()) as session:
        plan = plan_of(session, plan_id)
        if plan.period_start <= day <= plan.period_end:
            return None  # within the plan, which check_date never refuses: no need to load it
        # the briefing's module brings the charts (matplotlib): only the flows that write one,
        # or a day outside the plan, load it
        from domain.services.briefing.issue import BriefingDateError, check_date  # noqa: PLC0415

        try:
            check_date(plan, day)
        except BriefingDateError as exc:
            return str(exc)
    return None


def alert_on_failure(flow: Flow[..., Any], flow_run: FlowRun, state: State[Any]) -> None:
    """Flow state hook: tell the coordinator (of each plan, for a run of every plan) that a run
    failed or crashed (never raises)."""
    log = logging.getLogger("duban.flows")
    if state.message and "never resumed" in state.message:
        return  # an unanswered approval: the flow told the coordinator
    try:
        plan_id = flow_run.parameters.get("plan_id")
        with session_scope(engine()) as session:
            named = [plan_id] if plan_id else list(session.scalars(select(Plan.id)))
            pids = [resolve_plan(session, p).id for p in named or [None]]
        body = (
            f"督办系统的流程“{flow.name}”运行未成功（{state.type.value}）。\n"
            f"运行：{flow_run.name}（{flow_run.id}）\n"
            f"原因：{state.message or '未知'}\n\n"
            "请在 Prefect 界面查看该运行的日志；排除原因后可重新运行。"
        )
        for pid in pids:  # a run of every plan: each plan's coordinator
            alert_coordinator(
                engine(),
                pid,
                key=f"run-{flow_run.id}",
                subject=f"【督办系统】流程运行失败：{flow.name}（{flow_run.name}）",
                body=body,
            )
    except Exception:  # a hook must not hide the original failure
        log.exception("流程运行 %s 失败，但未能通知督办协调单位", flow_run.id)


def logger() -> logging.Logger | logging.LoggerAdapter[logging.Logger]:
    """The run logger inside a flow or task run."""
    return get_run_logger()


def run_name() -> str:
    """A readable flow-run name: the plan and the day (or period), e.g. "shidian-2021-2025
    2021-12-27", instead of Prefect's random words; a run of every plan is "全部规划 2026-01-15"."""
    from prefect.runtime import flow_run  # noqa: PLC0415

    params = flow_run.parameters
    plan = params.get("plan_id") or unnamed_plan()
    when = next(
        (params[k] for k in ("week", "month", "quarter", "period", "as_of") if params.get(k)), None
    )
    if not when:
        from config.settings import get_settings  # noqa: PLC0415

        when = clock.today(get_settings().schedule_timezone).isoformat()
    return f"{plan} {when}"


def unnamed_plan() -> str:
    """What a run that names no plan works on: the only plan's id, or 全部规划 (every plan)."""
    with session_scope(engine()) as session:
        ids = list(session.scalars(select(Plan.id).order_by(Plan.id).limit(2)))
    return ids[0] if len(ids) == 1 else "全部规划"


def outside_delivery_hours(plan_id: str, hours: str) -> str:
    """Why a run's delivery waited, in the plan's time: the clock now is outside the sending
    hours (a run for a past day still sends on today's clock, not on that day's)."""
    with session_scope(engine()) as session:
        timezone = plan_of(session, plan_id).timezone
    now = clock.now().astimezone(ZoneInfo(timezone))
    today = now.date()
    return (
        f"发送：现在是{zh_date(today)}{zh_weekday(today)} {now:%H:%M}，不在发送时段"
        f"（工作日 {hours}），提醒留在发件箱，到发送时段再发"
    )
