"""The daily cycle of two plans as one Prefect run: stage runs named with each plan, each plan's
artifacts under its own keys, one delivery for both (one digest per recipient)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, select

from config.settings import get_settings, temporary_settings
from duban.orchestration import prefect_client
from flows.daily_cycle import daily_cycle
from models.clock import end_of_working_day, frozen_time
from models.db import session_scope
from models.records import Message
from tests.fixtures.two_plans import BOTH_DUE, NEW, OLD

pytestmark = pytest.mark.slow


@pytest.fixture
def both_on_server(two_plans: Engine, prefect_api: str) -> Iterator[Engine]:
    with (
        temporary_settings(prefect_api_url=prefect_api),
        prefect_client(get_settings()),
        frozen_time(end_of_working_day(BOTH_DUE, "Asia/Shanghai")),
    ):
        yield two_plans


def test_one_run_works_on_both_plans_and_delivers_once(both_on_server: Engine) -> None:
    """With no plan named: both plans lit and their notices planned in stage runs named with
    the plan and tagged with both, one delivery stage, each plan's dashboard under its own key,
    the run named 全部规划; the coordinating unit's liaison gets one message."""
    from prefect.client.orchestration import get_client  # noqa: PLC0415
    from prefect.client.schemas.filters import (  # noqa: PLC0415
        ArtifactFilter,
        ArtifactFilterKey,
        FlowRunFilter,
        FlowRunFilterName,
        TaskRunFilter,
    )

    result = daily_cycle(as_of=BOTH_DUE)
    assert set(result["plans"]) == {OLD, NEW}
    assert result["delivery"]["sent"] == 8  # seven recipients, 乙乡 head two people
    assert result["plans"][OLD]["lights"]["red"] == 2  # 甲镇, 乙乡 overdue since 2025-12-31
    expected = {f"亮灯 · {OLD}", f"亮灯 · {NEW}", f"计划提醒 · {OLD}", f"计划提醒 · {NEW}"}
    prefect: Any = get_client(sync_client=True)
    with prefect as c:
        runs = c.read_flow_runs(
            flow_run_filter=FlowRunFilter(name=FlowRunFilterName(any_=["全部规划 2026-01-15"]))
        )
        run = max(runs, key=lambda r: r.created)  # the server is shared by the session's tests
        deadline = time.monotonic() + 30  # the server records task runs a moment later
        while True:
            tasks: list[Any] = c.read_task_runs(
                flow_run_filter=FlowRunFilter(id={"any_": [run.id]}),
                task_run_filter=TaskRunFilter(),
            )
            if expected <= {t.name for t in tasks} or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        keys = [f"{p}-dashboard" for p in (OLD, NEW)]
        found = c.read_latest_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=keys))
        )
    names = {t.name for t in tasks}
    assert expected <= names
    assert [n for n in names if n.startswith("发送提醒")] == ["发送提醒 · 全部规划"]
    assert all({OLD, NEW, "daily"} <= set(t.tags) for t in tasks)
    assert sorted(a.key for a in found) == sorted(keys)
    with session_scope(both_on_server) as session:
        to_mzj = session.scalars(select(Message).where(Message.recipient == "mzj/liaison")).all()
    assert len(to_mzj) == 1 and "二、" in to_mzj[0].body


def test_a_failed_run_of_every_plan_alerts_each_plans_coordinator(
    both_on_server: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A fault in the one delivery fails the run; each plan's coordinator is told once."""

    def broken(*_: object, **__: object) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr("flows.every_plan.deliver_plans", broken)
    with pytest.raises(RuntimeError, match="disk on fire"):
        daily_cycle(as_of=BOTH_DUE)
    with session_scope(both_on_server) as session:
        alerts = session.scalars(
            select(Message).where(Message.subject.startswith("【督办系统】流程运行失败"))
        ).all()
        assert sorted((m.plan_id, m.recipient) for m in alerts) == [
            (NEW, "mzj/head"),
            (NEW, "mzj/liaison"),
            (OLD, "mzj/head"),
            (OLD, "mzj/liaison"),
        ]
