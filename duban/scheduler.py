"""The embedded scheduler (`duban scheduler`): the same flows on the same schedules, run by
APScheduler in this process, for installations without Prefect deployments and workers.

* Jobs live in the application database (APScheduler's ``apscheduler_jobs`` table), with cron
  triggers in ``DUBAN_SCHEDULE_TIMEZONE``; ``coalesce`` runs a job once after an outage however
  many runs it missed, and a one-hour ``misfire_grace_time`` means a short outage (a restart, a
  reboot) delays the day's run instead of silently skipping it. Missed and failed runs are
  logged.
* One scheduler per database: a lock row (:class:`models.records.SchedulerLock`) refreshed every
  30 s; a second ``duban scheduler`` on the same database refuses to start, naming the holder. A
  holder silent for 90 s (killed, machine lost) may be taken over.
* Each run reports to the Prefect server like a served deployment's would.
"""

from __future__ import annotations

import logging
import os
import re
import socket
import uuid
from datetime import datetime, timedelta
from typing import Any

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_MISSED, JobExecutionEvent
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import Engine, delete, update
from sqlalchemy.exc import IntegrityError

from config.errors import ConflictError
from config.settings import Settings, get_settings
from flows.deployments import EVERY_PLAN, SHARED, load_flow, scheduled
from models import clock
from models.db import session_scope
from models.records import SchedulerLock

LOCK = "scheduler"
STALE_AFTER = timedelta(seconds=90)
HEARTBEAT_SECONDS = 30
MISFIRE_GRACE_SECONDS = 3600
log = logging.getLogger("duban.scheduler")


def acquire_lock(engine: Engine, holder: str) -> None:
    """Take the scheduler lock for ``holder``, or ConflictError naming who has it."""
    now = clock.now()
    try:
        with session_scope(engine) as session:
            row = session.get(SchedulerLock, LOCK, with_for_update=True)
            if row is not None and row.holder != holder and now - row.heartbeat_at < STALE_AFTER:
                raise ConflictError(
                    f"这个数据库上已有另一个 duban 调度在运行（主机 {row.host}，进程号 "
                    f"{row.pid}，自 {row.started_at:%Y-%m-%d %H:%M:%S} UTC 起，"
                    f"{(now - row.heartbeat_at).seconds} 秒前仍在运行）；请先停止它"
                )
            if row is None:
                row = SchedulerLock(name=LOCK)
                session.add(row)
            row.holder, row.host, row.pid = holder, socket.gethostname(), os.getpid()
            row.started_at = row.heartbeat_at = now
    except IntegrityError:  # two starting at the same instant: the other one won
        raise ConflictError("这个数据库上另一个 duban 调度正在启动") from None


def heartbeat(engine: Engine, holder: str) -> bool:
    """Refresh the lock; False if it was taken over (this scheduler should stop)."""
    with session_scope(engine) as session:
        done = session.execute(
            update(SchedulerLock)
            .where(SchedulerLock.name == LOCK, SchedulerLock.holder == holder)
            .values(heartbeat_at=clock.now())
        )
        return bool(done.rowcount == 1)  # type: ignore[attr-defined]


def release_lock(engine: Engine, holder: str) -> None:
    with session_scope(engine) as session:
        session.execute(
            delete(SchedulerLock).where(SchedulerLock.name == LOCK, SchedulerLock.holder == holder)
        )


def run_job(key: str, plan_id: str) -> None:
    """A scheduled job: run the flow of ``key`` for the plan (``""``: for every plan, one run),
    reporting to Prefect."""
    from duban.orchestration import prefect_client  # noqa: PLC0415 - Prefect settings first

    settings = get_settings()
    (job,) = [s for s in scheduled(settings) if s.key == key]
    with prefect_client(settings, heartbeat=True):
        from prefect import tags  # noqa: PLC0415

        with tags(*([plan_id] if plan_id else []), "scheduler"):
            load_flow(job.flow)(plan_id=plan_id or None)


_DAY_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")


def cron_trigger(expression: str, timezone: str) -> CronTrigger:
    """A standard five-field cron expression as an APScheduler trigger. APScheduler numbers
    weekdays from Monday = 0, cron from Sunday = 0 (or 7): numeric weekdays are turned into
    names first, so ``0 16 * * 5`` fires on Friday, not Saturday."""
    fields = expression.split()
    if len(fields) != 5:
        raise ValueError(f"{expression!r} 不是五段式的 cron 表达式")
    fields[4] = re.sub(r"\d+", lambda m: _DAY_NAMES[int(m.group()) % 7], fields[4])
    return CronTrigger.from_crontab(" ".join(fields), timezone=timezone)


def _on_event(event: JobExecutionEvent) -> None:
    if event.code == EVENT_JOB_MISSED:
        log.warning(
            "作业 %s 错过了 %s 的运行（进程停止太久）",
            event.job_id,
            event.scheduled_run_time,
        )
    elif event.exception is not None:
        log.error("作业 %s 运行失败：%s", event.job_id, event.exception)


def configure(
    scheduler: BaseScheduler, engine: Engine, settings: Settings, plan_ids: list[str], holder: str
) -> None:
    """Job stores, defaults, the plans' scheduled flows and the lock's heartbeat. With several
    plans, the daily cycle and the backup are one job for them all
    (:data:`flows.deployments.SHARED`), the briefings one job per plan."""
    scheduler.configure(
        jobstores={
            "default": SQLAlchemyJobStore(engine=engine, tablename="apscheduler_jobs"),
            "local": MemoryJobStore(),
        },
        job_defaults={
            "coalesce": True,
            "max_instances": 1,
            "misfire_grace_time": MISFIRE_GRACE_SECONDS,
        },
        timezone=settings.schedule_timezone,
    )
    scheduler.add_listener(_on_event, EVENT_JOB_MISSED | EVENT_JOB_ERROR)
    for s in scheduled(settings):
        shared = len(plan_ids) > 1 and s.key in SHARED
        for plan_id in [""] if shared else plan_ids:
            scheduler.add_job(
                "duban.scheduler:run_job",
                cron_trigger(s.cron, s.timezone),
                args=[s.key, plan_id],
                id=f"{plan_id or EVERY_PLAN}:{s.key}",
                name=s.description,
                replace_existing=True,
            )
    scheduler.add_job(
        _beat,
        "interval",
        seconds=HEARTBEAT_SECONDS,
        args=[scheduler, engine, holder],
        id="lock-heartbeat",
        jobstore="local",
        replace_existing=True,
    )


def _beat(scheduler: BaseScheduler, engine: Engine, holder: str) -> None:
    if not heartbeat(engine, holder):
        log.error("调度锁已被另一个进程接管；本调度停止")
        scheduler.shutdown(wait=False)


def job_table(scheduler: BaseScheduler) -> list[dict[str, Any]]:
    """The persisted jobs: id, trigger, next run (for the console and tests)."""
    rows = []
    for job in sorted(scheduler.get_jobs(jobstore="default"), key=lambda j: j.id):
        nxt: datetime | None = getattr(job, "next_run_time", None)
        rows.append(
            {
                "id": job.id,
                "function": job.func_ref,
                "args": list(job.args),
                "trigger": str(job.trigger),
                "next_run": nxt.isoformat() if nxt else None,
                "coalesce": job.coalesce,
                "max_instances": job.max_instances,
                "misfire_grace_time": job.misfire_grace_time,
            }
        )
    return rows


def new_holder() -> str:
    return str(uuid.uuid4())
