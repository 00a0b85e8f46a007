"""Runs that nothing serves say so: the rule over plain data, then against a real Prefect server
(a form submitted for a deployment nobody polls ends up Late with the message in Chinese, in its
log too; a polled deployment's runs and runs not yet due are left alone; the marked run is still
one `duban serve` picks up when it starts)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import pytest

from config.settings import get_settings, temporary_settings
from duban.orchestration import prefect_client
from duban.unserved import MESSAGE, Served, Waiting, mark_unserved, unserved

NOW = datetime(2026, 12, 5, 8, tzinfo=UTC)
S = timedelta(seconds=1)


def run(deployment: Any, waited: timedelta, message: str | None = None) -> Waiting:
    return Waiting(uuid4(), "核验销号 #12 · 张三", deployment, NOW - waited, message)


def test_a_run_is_unserved_when_its_deployment_was_not_polled_for_30_seconds() -> None:
    """Never polled, polled 30 s ago or marked NOT_READY: idle; polled 29 s ago: served."""
    never, stale, unready, fresh = (uuid4() for _ in range(4))
    served = [
        Served(never, None, ready=False),
        Served(stale, NOW - 30 * S, ready=True),
        Served(unready, NOW - 5 * S, ready=False),
        Served(fresh, NOW - 29 * S, ready=True),
    ]
    runs = [run(d, 40 * S) for d in (never, stale, unready, fresh)]
    assert unserved(served, runs, NOW) == runs[:3]


def test_a_run_waits_30_seconds_and_is_marked_once() -> None:
    """A run 29 s past its start is not yet unserved; one that already says so is not again;
    a run of a deployment no runner serves (a work pool's) is not looked at."""
    idle = uuid4()
    served = [Served(idle, None, ready=False)]
    young, said, due = run(idle, 29 * S), run(idle, 60 * S, MESSAGE), run(idle, 30 * S, "Late")
    elsewhere = run(uuid4(), 60 * S)
    assert unserved(served, [young, said, due, elsewhere], NOW) == [due]


@pytest.fixture
def client(prefect_api: str) -> Iterator[Any]:
    from prefect.client.orchestration import get_client  # noqa: PLC0415

    with (
        temporary_settings(prefect_api_url=prefect_api),
        prefect_client(get_settings()),
        get_client(sync_client=True) as c,
    ):
        yield c


@pytest.mark.slow
def test_a_form_submitted_while_nothing_serves_says_so(client: Any) -> None:
    from prefect.states import Scheduled  # noqa: PLC0415

    flow_id = client.create_flow_from_name(f"verify-item-{uuid4().hex[:6]}")
    idle = client.create_deployment(flow_id, "核验销号 · 无人执行")
    polled = client.create_deployment(flow_id, "核验销号 · 有人执行")
    now = datetime.now(UTC)
    submitted = client.create_flow_run_from_deployment(
        idle, state=Scheduled(scheduled_time=now - 45 * S), name="核验销号 #12 · 张三"
    )
    recent = client.create_flow_run_from_deployment(idle, state=Scheduled(scheduled_time=now))
    served = client.create_flow_run_from_deployment(
        polled, state=Scheduled(scheduled_time=now - 45 * S)
    )
    client.get_scheduled_flow_runs_for_deployments([polled], scheduled_before=now - 60 * S)
    deadline = time.monotonic() + 20  # the server records the poll in the background
    while client.read_deployment(polled).last_polled is None:
        assert time.monotonic() < deadline, "the poll was never recorded"
        time.sleep(0.2)

    marked = mark_unserved(client, datetime.now(UTC))

    ids = {r.id for r in marked}  # (the session's server may hold other tests' runs)
    assert submitted.id in ids and not ids & {recent.id, served.id}
    state = client.read_flow_run(submitted.id).state
    assert (state.type.value, state.name, state.message) == ("SCHEDULED", "Late", MESSAGE)
    assert state.state_details.scheduled_time == submitted.state.state_details.scheduled_time
    for untouched in (recent, served):
        assert client.read_flow_run(untouched.id).state.message != MESSAGE
    from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId  # noqa: PLC0415

    logs = client.read_logs(LogFilter(flow_run_id=LogFilterFlowRunId(any_=[submitted.id])))
    assert [entry.message for entry in logs] == [MESSAGE]
    assert submitted.id not in {r.id for r in mark_unserved(client, datetime.now(UTC))}
    # what `duban serve` asks for when it starts: the marked run is among them
    due = client.get_scheduled_flow_runs_for_deployments([idle], scheduled_before=now)
    assert submitted.id in {r.id for r in due}
