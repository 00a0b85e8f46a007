"""The embedded scheduler: its job table, persisted in the application database, and the lock
that keeps it to one process per database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import Engine, inspect

from config.errors import ConflictError
from config.settings import get_settings
from duban import scheduler as embedded
from models.clock import frozen_time

NOW = datetime(2026, 10, 9, 0, 0, tzinfo=UTC)  # Friday 08:00 in Shanghai


def test_the_job_table(engine: Engine) -> None:
    """Five cron jobs in Asia/Shanghai, stored in the database, coalesced, with a grace time."""
    runner = BackgroundScheduler()
    embedded.configure(runner, engine, get_settings(), ["demo-plan"], "holder-1")
    runner.start(paused=True)
    try:
        table = embedded.job_table(runner)
    finally:
        runner.shutdown(wait=False)
    for row in table:
        row.pop("next_run")  # depends on today
    assert table == [
        {
            "id": "demo-plan:assessment-report",
            "function": "duban.scheduler:run_job",
            "args": ["assessment-report", "demo-plan"],
            "trigger": "cron[month='1,4,7,10', day='1-15', day_of_week='*', hour='9', minute='30']",
            "coalesce": True,
            "max_instances": 1,
            "misfire_grace_time": 3600,
        },
        {
            "id": "demo-plan:daily-cycle",
            "function": "duban.scheduler:run_job",
            "args": ["daily-cycle", "demo-plan"],
            "trigger": "cron[month='*', day='*', day_of_week='*', hour='8', minute='30']",
            "coalesce": True,
            "max_instances": 1,
            "misfire_grace_time": 3600,
        },
        {
            "id": "demo-plan:monthly-briefing",
            "function": "duban.scheduler:run_job",
            "args": ["monthly-briefing", "demo-plan"],
            "trigger": "cron[month='*', day='1-15', day_of_week='*', hour='9', minute='0']",
            "coalesce": True,
            "max_instances": 1,
            "misfire_grace_time": 3600,
        },
        {
            "id": "demo-plan:nightly-backup",
            "function": "duban.scheduler:run_job",
            "args": ["nightly-backup", "demo-plan"],
            "trigger": "cron[month='*', day='*', day_of_week='*', hour='2', minute='0']",
            "coalesce": True,
            "max_instances": 1,
            "misfire_grace_time": 3600,
        },
        {
            "id": "demo-plan:quarterly-briefing",
            "function": "duban.scheduler:run_job",
            "args": ["quarterly-briefing", "demo-plan"],
            "trigger": "cron[month='1,4,7,10', day='1-15', day_of_week='*', hour='9', minute='0']",
            "coalesce": True,
            "max_instances": 1,
            "misfire_grace_time": 3600,
        },
        {
            "id": "demo-plan:weekly-briefing",
            "function": "duban.scheduler:run_job",
            "args": ["weekly-briefing", "demo-plan"],
            "trigger": "cron[month='*', day='*', day_of_week='fri', hour='16', minute='0']",
            "coalesce": True,
            "max_instances": 1,
            "misfire_grace_time": 3600,
        },
    ]
    assert "apscheduler_jobs" in inspect(engine).get_table_names()


def test_next_runs_are_shanghai_times(engine: Engine) -> None:
    runner = BackgroundScheduler()
    embedded.configure(runner, engine, get_settings(), ["demo-plan"], "holder-1")
    runner.start(paused=True)
    try:
        runs = {r["id"]: r["next_run"] for r in embedded.job_table(runner)}
    finally:
        runner.shutdown(wait=False)
    assert all(run and run.endswith("+08:00") for run in runs.values())
    assert "T08:30:00" in runs["demo-plan:daily-cycle"]
    assert "T16:00:00" in runs["demo-plan:weekly-briefing"]


def test_one_scheduler_per_database(engine: Engine) -> None:
    with frozen_time(NOW):
        embedded.acquire_lock(engine, "first")
        embedded.acquire_lock(engine, "first")  # the holder may take it again (a restart)
        with pytest.raises(ConflictError, match="已有另一个 duban 调度在运行"):
            embedded.acquire_lock(engine, "second")
    with frozen_time(NOW + timedelta(seconds=60)):
        assert embedded.heartbeat(engine, "first")
        with pytest.raises(ConflictError):
            embedded.acquire_lock(engine, "second")
    # the first went silent (killed): after 90 s without a heartbeat the lock may be taken
    with frozen_time(NOW + timedelta(seconds=60 + 91)):
        embedded.acquire_lock(engine, "second")
        assert not embedded.heartbeat(engine, "first")  # the first learns it lost the lock
    embedded.release_lock(engine, "second")
    with frozen_time(NOW + timedelta(seconds=200)):
        embedded.acquire_lock(engine, "third")  # released: free at once


def test_a_second_scheduler_command_refuses_to_start(
    week: Engine, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`duban scheduler` while another holds the lock: exit 2, naming the holder."""
    from duban.cli import main  # noqa: PLC0415

    embedded.acquire_lock(week, "someone-else")
    monkeypatch.setattr("sys.argv", ["duban", "scheduler"])
    with pytest.raises(SystemExit) as stopped:
        main()
    assert stopped.value.code == 2
    assert "已有另一个 duban 调度在运行" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("cron", "weekday"),
    [
        ("0 16 * * 5", "fri"),
        ("0 16 * * 0", "sun"),
        ("0 16 * * 7", "sun"),
        ("30 8 * * 1-5", "mon-fri"),
    ],
)
def test_cron_weekdays_mean_what_cron_means(cron: str, weekday: str) -> None:
    trigger = embedded.cron_trigger(cron, "Asia/Shanghai")
    assert f"day_of_week='{weekday}'" in str(trigger)
