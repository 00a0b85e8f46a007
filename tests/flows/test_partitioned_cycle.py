"""A daily cycle spread over Prefect workers writes the outbox a single process writes.

A real Prefect server, a process work pool with two ``duban worker`` processes on loopback, the
partition deployment registered by ``duban deploy``, and a province of three counties; the
partitions are the counties and one township inside the first (nesting), plus the rest.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, delete, select
from typer.testing import CliRunner

from config.errors import NotFoundError
from config.settings import Settings, get_settings, temporary_settings
from domain.queries.partitions import REST, partition_units
from domain.queries.sync import sync_catalog
from duban.cli import app
from duban.orchestration import prefect_client
from flows.daily_cycle import daily_cycle
from models.clock import end_of_working_day, frozen_time
from models.db import session_scope
from models.orm import Unit
from models.records import Message, Notice, NoticeDelivery
from tasks_catalog.loader import load_catalog

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from synthetic import PLAN_ID, seed_reports, write_catalogue

pytestmark = pytest.mark.slow

TZ = "Asia/Shanghai"
DAY = date(2021, 12, 27)  # a Monday: missing reports, overdue and behind-pace items
COUNTIES = ["530001", "530002", "530003"]
PARTITIONS = [*COUNTIES, "530001002"]  # a township inside the first county: its own partition
WORKER = re.compile(r"工作进程 (\d+)")


@pytest.fixture
def province(settings: Settings, engine: Engine, tmp_path: Path) -> Engine:
    folder = write_catalogue(tmp_path / "plan", 3, seed=1)
    with frozen_time(datetime(2021, 1, 4, 2, tzinfo=UTC)), session_scope(engine) as session:
        sync_catalog(session, load_catalog(folder)[0])
    seed_reports(engine, PLAN_ID, date(2021, 12, 24), share=30, seed=1)
    return engine


@pytest.fixture
def workers(settings: Settings, prefect_api: str) -> Iterator[str]:
    """Two ``duban worker`` processes polling a fresh process pool; yields the pool's name."""
    pool = f"duban-test-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "DUBAN_HOME": str(settings.home),
        "DUBAN_DATABASE_URL": settings.resolved_database_url,
        "DUBAN_PREFECT_API_URL": prefect_api,
    }
    duban = str(Path(sys.executable).parent / "duban")
    started = [
        subprocess.Popen(
            [duban, "worker", "--pool", pool],
            env=env,
            start_new_session=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(2)
    ]
    try:
        yield pool
    finally:
        for process in started:
            os.killpg(process.pid, signal.SIGTERM)
        for process in started:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def outbox(engine: Engine) -> list[tuple[Any, ...]]:
    """Every notice as planned (not when: the workers' clocks are not the test's)."""
    with session_scope(engine) as session:
        columns = ["dedupe_key", "kind", "item_id", "unit_id", "level", "level_name", "due"]
        columns += ["cycle", "workdays", "roles", "rule", "status"]
        return [
            tuple(getattr(n, c) for c in columns)
            for n in session.scalars(select(Notice).order_by(Notice.dedupe_key))
        ]


def empty_outbox(engine: Engine) -> None:
    with session_scope(engine) as session:
        for model in (NoticeDelivery, Message, Notice):
            session.execute(delete(model))


def test_the_partitions_cover_the_plan_once(province: Engine) -> None:
    """Every unit is in exactly one partition: its nearest named ancestor's, or the rest."""
    with session_scope(province) as session:
        every = set(session.scalars(select(Unit.id).where(Unit.plan_id == PLAN_ID)))
        parts = [partition_units(session, PLAN_ID, p, PARTITIONS) for p in [*PARTITIONS, REST]]
        township = session.scalars(select(Unit.id).where(Unit.code == "530001002")).one()
    assert sum(len(p) for p in parts) == len(every) == len(set().union(*parts))
    assert township in parts[3] and township not in parts[0]
    assert all(parts), "no empty partition"


def test_a_partitioned_cycle_on_two_workers_writes_the_single_process_outbox(
    province: Engine, prefect_api: str, workers: str
) -> None:
    # what is compared is the planning; delivery, the same stage after either, is held back
    # (outside its hours) so that both outboxes stay as planned and the test stays short
    with (
        temporary_settings(prefect_api_url=prefect_api, delivery_hours="08:30-09:00"),
        prefect_client(get_settings()),
        frozen_time(end_of_working_day(DAY, TZ)),
    ):
        started = time.monotonic()
        single = daily_cycle(PLAN_ID, DAY)
        print(f"single-process daily cycle: {time.monotonic() - started:.1f} s")  # noqa: T201
        expected = outbox(province)
        empty_outbox(province)

        deployed = CliRunner().invoke(app, ["deploy", "--pool", workers])
        assert deployed.exit_code == 0, deployed.output
        started = time.monotonic()
        spread = daily_cycle(PLAN_ID, DAY, partitions=PARTITIONS)
        took = time.monotonic() - started
        print(f"partitioned daily cycle ({len(PARTITIONS) + 1} runs): {took:.1f} s")  # noqa: T201
        got = outbox(province)
        runs = partition_runs(workers)

    assert len(expected) > 500
    assert {row[1] for row in expected} == {"ladder", "missing_report", "behind_pace"}
    assert got == expected
    assert spread["notices"] == {"partitions": len(PARTITIONS) + 1, "new": len(expected)}
    assert spread["lights"] == single["lights"]
    assert {row[-1] for row in got} == {"pending"}, "held back until the delivery hours"
    assert sorted(r["partition"] for r in runs) == sorted([*PARTITIONS, REST])
    assert all(r["state"] == "COMPLETED" for r in runs), runs
    assert len({r["worker"] for r in runs}) == 2, runs  # both workers took partitions


def partition_runs(pool: str, plan: str = PLAN_ID) -> list[dict[str, Any]]:
    """The partition flow runs on the pool: partition, final state and the worker that ran it
    (its process id, which the run logs)."""
    from prefect.client.orchestration import get_client  # noqa: PLC0415
    from prefect.client.schemas.filters import (  # noqa: PLC0415
        FlowRunFilter,
        FlowRunFilterDeploymentId,
        LogFilter,
        LogFilterFlowRunId,
    )

    with get_client(sync_client=True) as client:
        deployment = client.read_deployment_by_name(f"daily-cycle-partition/{plan}")
        runs = client.read_flow_runs(
            flow_run_filter=FlowRunFilter(
                deployment_id=FlowRunFilterDeploymentId(any_=[deployment.id])
            )
        )
        out = []
        for run in runs:
            assert run.work_pool_name == pool
            logs = client.read_logs(
                log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[run.id]))
            )
            worker = [m.group(1) for log in logs if (m := WORKER.search(log.message))]
            out.append(
                {
                    "partition": run.parameters["partition"],
                    "state": run.state.type.value if run.state else None,
                    "worker": worker[0] if worker else None,
                }
            )
    return out


def test_a_partitioned_run_without_its_deployment_or_workers_says_so(
    week: Engine, prefect_api: str
) -> None:
    """Before `duban deploy`: a usage error naming the command. Deployed but no worker polls:
    the run fails after DUBAN_PARTITION_TIMEOUT with one error line, and the partition runs it
    started are cancelled, not left to run later for a cycle that has failed."""
    runner = CliRunner()
    args = ["run", "daily-cycle", "--as-of", "2021-10-15", "--partitions", "t1"]
    with temporary_settings(prefect_api_url=prefect_api, partition_timeout=3):
        undeployed = runner.invoke(app, args)
        assert isinstance(undeployed.exception, NotFoundError), undeployed.output
        assert "duban deploy --pool" in str(undeployed.exception)

        pool = f"idle-{uuid.uuid4().hex[:8]}"
        assert runner.invoke(app, ["deploy", "--pool", pool]).exit_code == 0
        stranded = runner.invoke(app, args)
        assert stranded.exit_code == 1, stranded.output
        assert "分区运行 3 秒后仍未完成：t1、其余单位" in stranded.output
        with prefect_client(get_settings()):
            runs = partition_runs(pool, plan="demo-plan")
    assert sorted(r["state"] for r in runs) == ["CANCELLED", "CANCELLED"]
