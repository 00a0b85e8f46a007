"""The flows end to end on a real Prefect server: runs, subflows, artifacts, the approval form,
and the failure alert."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, select

from config.settings import get_settings, temporary_settings
from duban.orchestration import prefect_client
from flows.daily_cycle import daily_cycle
from flows.stages import publish_task_page
from flows.sync_catalog import sync_catalog
from flows.weekly_briefing import weekly_briefing
from models.clock import end_of_working_day, frozen_time
from models.db import session_scope
from models.orm import WorkItem
from models.records import Briefing, Message
from tests.fixtures.plan_week import AS_OF, TZ, item_id

pytestmark = pytest.mark.slow


@pytest.fixture
def on_server(week: Engine, prefect_api: str) -> Iterator[Engine]:
    """The week's plan, with this process pointed at the test's Prefect server."""
    with (
        temporary_settings(prefect_api_url=prefect_api),
        prefect_client(get_settings()),
        frozen_time(end_of_working_day(AS_OF, TZ)),
    ):
        yield week


def client() -> Any:
    from prefect.client.orchestration import get_client  # noqa: PLC0415

    return get_client(sync_client=True)


def artifacts(keys: list[str]) -> dict[str, Any]:
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey  # noqa: PLC0415

    with client() as c:
        found = c.read_latest_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=keys))
        )
    return {a.key: a for a in found}


def runs_named(flow_name: str, parent: Any = None) -> list[Any]:
    """The runs of a flow (the subflows of run ``parent`` only, if given): the server is shared
    by the session's tests."""
    from prefect.client.schemas.filters import (  # noqa: PLC0415
        FlowFilter,
        FlowFilterName,
        FlowRunFilter,
        FlowRunFilterParentFlowRunId,
    )

    runs = (
        None
        if parent is None
        else FlowRunFilter(parent_flow_run_id=FlowRunFilterParentFlowRunId(any_=[parent]))
    )
    with client() as c:
        return list(
            c.read_flow_runs(
                flow_filter=FlowFilter(name=FlowFilterName(any_=[flow_name])), flow_run_filter=runs
            )
        )


def task_runs(flow_run: Any, task: Any, expected: int) -> list[Any]:
    """The runs of ``task`` (a Prefect task) in flow run ``flow_run``, once ``expected`` of
    them are recorded (the server records task runs a moment after they ran) or after 30 s."""
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId  # noqa: PLC0415

    deadline = time.monotonic() + 30
    with client() as c:
        while True:
            runs = c.read_task_runs(
                flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run]))
            )
            found = [r for r in runs if r.task_key == task.task_key]
            if len(found) >= expected or time.monotonic() > deadline:
                return found
            time.sleep(0.5)


def test_daily_cycle_publishes_the_coordinators_view(on_server: Engine) -> None:
    result = daily_cycle(plan_id="demo-plan", as_of=AS_OF)
    assert result["lights"]["red"] == 3
    (run,) = [r for r in runs_named("daily-cycle") if r.name == "demo-plan 2021-10-15"]
    assert run.state.is_completed()
    pages = sorted((r.name, tuple(sorted(r.tags))) for r in task_runs(run.id, publish_task_page, 2))
    assert pages == [
        ("T01 加强领导", ("daily", "demo-plan")),
        ("T02 服务设施", ("daily", "demo-plan")),
    ]
    keys = [
        "demo-plan-dashboard",
        "demo-plan-overdue",
        "demo-plan-missing-reports",
        "demo-plan-completion",
        "demo-plan-task-t01",
        "demo-plan-task-t02",
    ]
    found = artifacts(keys)
    assert sorted(found) == sorted(keys)
    assert "| T01 加强领导 | 示例县委组织部 | 11 |" in found["demo-plan-dashboard"].data
    overdue = json.loads(found["demo-plan-overdue"].data)
    assert [(r["责任单位"], r["逾期工作日"], r["督办层级"]) for r in overdue][1:] == [
        ("甲一村", 7, "逾期督办"),
        ("乙社区", 7, "逾期督办"),
    ]
    assert overdue[0]["督办层级"] == "逾期通报"
    assert found["demo-plan-completion"].type == "markdown"
    assert found["demo-plan-completion"].data.startswith("# 总体完成 13.3%")
    assert "## 需关注事项" in found["demo-plan-task-t02"].data


def test_a_rest_day_ends_the_daily_cycle_early(on_server: Engine) -> None:
    result = daily_cycle(plan_id="demo-plan", as_of=date(2021, 10, 2))  # National Day holiday
    assert result == {"as_of": "2021-10-02", "skipped": "国庆节"}  # the calendar's note


def test_weekly_briefing_waits_for_approval_then_sends(on_server: Engine) -> None:
    """The run pauses with a form; the coordinator's answer (here, through the API) resumes it
    and the briefing goes to both leadership contacts."""
    api = get_settings().resolved_prefect_api_url
    outcome: dict[str, Any] = {}

    def run() -> None:  # a thread of its own: settings and the clock are set again there
        with (
            temporary_settings(prefect_api_url=api, briefing_approval_timeout=120),
            prefect_client(get_settings()),
            frozen_time(end_of_working_day(AS_OF, TZ)),
        ):
            outcome.update(weekly_briefing(plan_id="demo-plan", as_of=AS_OF, approval="wait"))

    worker = threading.Thread(target=run)
    worker.start()
    paused = None
    for _ in range(120):
        runs = [r for r in runs_named("weekly-briefing") if r.state and r.state.is_paused()]
        if runs:
            paused = runs[0]
            break
        time.sleep(0.5)
    assert paused is not None, "the weekly briefing never paused for approval"
    with client() as c:
        c.resume_flow_run(
            paused.id, run_input={"approve": True, "actor": "张三", "comment": "同意印发"}
        )
    worker.join(timeout=120)
    assert outcome == {"week": "2021-W41", "number": 1, "sent": 2, "approval": "approved"}
    found = artifacts(["demo-plan-briefing", "demo-plan-briefing-files", "demo-plan-briefing-link"])
    assert len(found) == 3
    assert "## 一、总体进展" in found["demo-plan-briefing"].data
    with session_scope(on_server) as session:
        record = session.scalars(select(Briefing)).one()
        assert record.sent_checksum == record.checksum
        assert (record.approved_by, record.approved_checksum) == ("张三", record.checksum)


def test_a_briefing_approved_on_a_saturday_evening_waits_for_monday(on_server: Engine) -> None:
    """Delivery hours apply to the briefing too: approved outside them it is held, and the next
    working day's delivery sends it; nothing goes out before."""
    from domain.services.briefing.approval import send_approved  # noqa: PLC0415

    saturday = datetime(2021, 10, 16, 20, tzinfo=ZoneInfo(TZ))
    with frozen_time(saturday):
        outcome = weekly_briefing(plan_id="demo-plan", as_of=AS_OF, approval="auto")
        assert outcome["held"] is True and outcome["sent"] == 0
        public = get_settings().resolved_public / "index.html"  # 政务公开, approval or not
        assert "数据截至2021年10月15日" in public.read_text(encoding="utf-8")
        assert send_approved(on_server, "demo-plan") == []
    with session_scope(on_server) as session:
        record = session.scalars(select(Briefing)).one()
        assert record.sent_checksum is None and record.approved_checksum == record.checksum
    with frozen_time(datetime(2021, 10, 18, 10, tzinfo=ZoneInfo(TZ))):
        (sent,) = send_approved(on_server, "demo-plan")
    assert len(sent.sent) == 2 and not sent.failed
    with session_scope(on_server) as session:
        record = session.scalars(select(Briefing)).one()
        assert record.sent_checksum == record.checksum


def test_the_monthly_and_quarterly_flows_wait_for_the_first_working_day(
    on_server: Engine,
) -> None:
    """On 2021-10-07 (National Day) neither writes anything; on 10-08 the monthly flow writes
    September's 月通报 and the quarterly one the third quarter's 季度推进, each approved and
    sent in its own run, each in its own artifact series."""
    from flows.period_briefing import monthly_briefing, quarterly_briefing  # noqa: PLC0415

    holiday = date(2021, 10, 7)
    skipped = quarterly_briefing(plan_id="demo-plan", as_of=holiday, approval="auto")
    assert skipped == {
        "as_of": "2021-10-07",
        "skipped": "2021年10月7日不是上季度结束后的第一个工作日",
    }
    first_day = datetime(2021, 10, 8, 10, tzinfo=ZoneInfo(TZ))
    with frozen_time(first_day):
        month = monthly_briefing(plan_id="demo-plan", as_of=first_day.date(), approval="auto")
        quarter = quarterly_briefing(plan_id="demo-plan", as_of=first_day.date(), approval="auto")
    assert month == {
        "period": "2021-09",
        "edition": "month",
        "number": 1,
        "sent": 2,
        "approval": "approved",
    }
    assert (quarter["period"], quarter["number"], quarter["sent"]) == ("2021-Q3", 1, 2)
    found = artifacts(["demo-plan-briefing-month", "demo-plan-briefing-quarter"])
    assert "示例规划实施月通报" in found["demo-plan-briefing-month"].data
    assert "示例规划实施季度推进情况通报" in found["demo-plan-briefing-quarter"].data
    with session_scope(on_server) as session:
        subjects = set(
            session.scalars(
                select(Message.subject).where(Message.briefing_id.is_not(None)).distinct()
            ).all()
        )
    assert subjects == {
        "【简报】示例规划实施月通报（2021年9月，第1期）",
        "【简报】示例规划实施季度推进情况通报（2021年第三季度，第1期）",
    }


def alerts_sent(engine: Engine) -> list[Message]:
    with session_scope(engine) as session:
        return list(
            session.scalars(select(Message).where(Message.subject.like("%流程运行失败%"))).all()
        )


def test_a_fault_fails_the_run_and_alerts_the_coordinator(
    on_server: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A real fault (here the sync itself breaking) keeps Failed and the alert."""

    def broken(*_: object) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr("flows.sync_catalog.sync", broken)
    with pytest.raises(RuntimeError, match="disk on fire"):
        sync_catalog()
    run = max(runs_named("sync-catalog"), key=lambda r: r.created)  # the server is shared
    assert run.state.is_failed()
    alerts = alerts_sent(on_server)
    assert [(m.recipient, m.status) for m in alerts] == [("mzj/liaison", "sent")]
    assert "sync-catalog" in alerts[0].body


def test_a_catalogue_that_cannot_be_synced_is_refused_not_failed(
    on_server: Engine, tmp_path: Any
) -> None:
    """A coordinator's mistake ends the run as 未执行 with the reason: no failure, no alert."""
    outcome = sync_catalog(catalog=str(tmp_path / "no-such-catalogue"))
    assert "no-such-catalogue" in outcome["refused"]
    run = max(runs_named("sync-catalog"), key=lambda r: r.created)  # the server is shared
    assert (run.state.type.value, run.state.name) == ("COMPLETED", "未执行")
    assert run.state.message.startswith("未执行：")
    assert "Traceback" not in (run.state.message or "")
    assert alerts_sent(on_server) == []


def test_verifying_an_item_still_in_progress_is_refused_in_chinese(on_server: Engine) -> None:
    """核验销号 of an item not submitted: 未执行 with the lifecycle's reason, its artifact, no
    alert; the item is unchanged."""
    from flows.actions import verify  # noqa: PLC0415

    item = item_id(on_server, "M4", "v12")
    outcome: Any = verify(item_id=item, actor="张三")
    assert outcome["refused"].startswith("不能从“推进中”转为“已销号”")
    run = max(runs_named("verify-item"), key=lambda r: r.created)
    assert run.state.name == "未执行" and not run.state.is_failed()
    assert run.name == f"核验销号 #{item} · 张三"
    with client() as c:
        from prefect.client.schemas.filters import (  # noqa: PLC0415
            ArtifactFilter,
            ArtifactFilterFlowRunId,
        )

        (artifact,) = c.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[run.id]))
        )
    assert "不能从“推进中”转为“已销号”" in str(artifact.data)
    assert alerts_sent(on_server) == []
    with session_scope(on_server) as session:
        assert session.scalars(select(WorkItem.state).where(WorkItem.id == item)).one() == (
            "in_progress"
        )


def test_an_unanswered_approval_leaves_the_briefing_unsent_with_one_alert(
    on_server: Engine,
) -> None:
    with temporary_settings(briefing_approval_timeout=3):
        outcome = weekly_briefing(plan_id="demo-plan", as_of=AS_OF, approval="wait")
    assert outcome["approval"] == "timed out" and outcome["sent"] == 0
    with session_scope(on_server) as session:
        record = session.scalars(select(Briefing)).one()
        assert record.sent_checksum is None
        alerts = session.scalars(select(Message).where(Message.subject.like("【督办系统】%"))).all()
    assert [m.subject for m in alerts] == [
        "【督办系统】简报待审核：示例规划实施工作简报 第1期（2021年第41周）"
    ]
    assert "3秒内未审核" in alerts[0].body
    assert "duban brief --week 2021-W41 --send" in alerts[0].body
    run = max(runs_named("weekly-briefing"), key=lambda r: r.created)
    assert (run.state.type.value, run.state.name) == ("COMPLETED", "未审核"), run.state


def test_dates_outside_the_plan_are_not_worked_on(on_server: Engine) -> None:
    result = daily_cycle(plan_id="demo-plan", as_of=date(2020, 6, 1))
    assert "早于规划起始日" in result["skipped"]


def test_another_programs_server_on_the_port_is_not_taken_for_ours(
    on_server: Engine, prefect_api: str
) -> None:
    from config.errors import NotFoundError  # noqa: PLC0415
    from duban.orchestration import prefect_server  # noqa: PLC0415

    port = int(prefect_api.rsplit(":", 1)[1].split("/", maxsplit=1)[0])
    with (
        temporary_settings(prefect_api_url=None, prefect_port=port),
        pytest.raises(NotFoundError, match="但不是这个数据目录"),
        prefect_server(get_settings()),
    ):
        pass


def test_the_scheduler_command_runs_and_stops_on_ctrl_c(
    on_server: Engine, prefect_api: str
) -> None:
    """`duban scheduler` as a process: prints its jobs, holds the lock, SIGINT stops it."""
    settings = get_settings()
    env = {
        **os.environ,
        "DUBAN_HOME": str(settings.home),
        "DUBAN_PREFECT_API_URL": prefect_api,
        **({"DUBAN_DATABASE_URL": settings.database_url} if settings.database_url else {}),
    }
    duban = Path(sys.executable).with_name("duban")
    process = subprocess.Popen(
        [str(duban), "scheduler"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    assert process.stdout is not None
    for line in process.stdout:
        lines.append(line)
        if "按 Ctrl-C 停止调度" in line:
            break
    text = "".join(lines)
    assert "demo-plan:daily-cycle" in text and "demo-plan:weekly-briefing" in text
    process.send_signal(signal.SIGINT)
    rest, _ = process.communicate(timeout=60)
    assert process.returncode == 0, text + rest
    assert "调度已停止" in rest and "Traceback" not in rest


def test_serve_offers_the_owners_pages_beside_the_deployments(
    on_server: Engine, prefect_api: str, unused_tcp_port: int
) -> None:
    """`duban serve` on one machine also serves the owner's pages; Ctrl-C stops both."""
    import httpx  # noqa: PLC0415

    settings = get_settings()
    env = {
        **os.environ,
        "DUBAN_HOME": str(settings.home),
        "DUBAN_PREFECT_API_URL": prefect_api,
        "DUBAN_WEB_PORT": str(unused_tcp_port),
        **({"DUBAN_DATABASE_URL": settings.database_url} if settings.database_url else {}),
    }
    process = subprocess.Popen(
        [str(Path(sys.executable).with_name("duban")), "serve"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),  # noqa: PLW1509
    )
    lines: list[str] = []
    assert process.stdout is not None
    for line in process.stdout:
        lines.append(line)
        if "Prefect 界面" in line:
            break
    try:
        deadline = time.monotonic() + 60
        with client() as c:  # serving: the deployments are registered
            while len(c.read_deployments()) < 8 and time.monotonic() < deadline:
                time.sleep(0.5)
        time.sleep(2)
        page = httpx.get(f"http://127.0.0.1:{unused_tcp_port}/", timeout=10)
        assert page.status_code == 200 and "点击填报" in page.text
        assert f"填报页面：http://127.0.0.1:{unused_tcp_port}/" in "".join(lines)
    finally:
        process.send_signal(signal.SIGINT)
        rest, _ = process.communicate(timeout=60)
    assert process.returncode == 0, "".join(lines) + rest
    assert "Traceback" not in rest


def test_a_typo_in_the_run_form_is_refused_without_an_alert(on_server: Engine) -> None:
    outcome = weekly_briefing(plan_id="demo-plan", week="banana", send=False)
    assert "不是ISO周" in outcome["refused"]
    run = max(runs_named("weekly-briefing"), key=lambda r: r.created)
    assert run.state.name == "未执行"
    with session_scope(on_server) as session:
        alerts = session.scalars(select(Message).where(Message.subject.like("【督办系统】%"))).all()
    assert alerts == []
