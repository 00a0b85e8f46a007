"""The coordinator's action forms run inside `duban serve` on a real Prefect server: a submitted
核验销号 form closes the item within seconds under its Chinese run name, a mistaken one ends
未执行, and two serving processes never run the same submission twice."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, cast
from uuid import UUID, uuid4

import pytest
from sqlalchemy import Engine

from config.settings import get_settings, temporary_settings
from duban.inline_actions import inline_actions
from duban.orchestration import prefect_client
from flows.actions import verify
from models.db import session_scope
from models.orm import WorkItem
from tests.fixtures.plan_week import item_id

if TYPE_CHECKING:
    from prefect.deployments.runner import RunnerDeployment

pytestmark = pytest.mark.slow
FINAL = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}


@pytest.fixture
def client(queues: Engine, prefect_api: str) -> Iterator[Any]:
    from prefect.client.orchestration import get_client  # noqa: PLC0415

    with (
        temporary_settings(prefect_api_url=prefect_api),
        prefect_client(get_settings()),
        get_client(sync_client=True) as c,
    ):
        yield c


def deployment(name: str) -> RunnerDeployment:
    return cast("RunnerDeployment", verify.to_deployment(name=name))  # sync outside a loop


def submit(client: Any, name: str, item: int) -> UUID:
    """What the run form's Submit does: a run of the deployment with the form's parameters."""
    deployment = client.read_deployment_by_name(f"verify-item/{name}")
    run = client.create_flow_run_from_deployment(
        deployment.id, parameters={"item_id": item, "actor": "王五"}
    )
    return UUID(str(run.id))


def finished(client: Any, run_id: UUID, timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    while (run := client.read_flow_run(run_id)).state.type.value not in FINAL:
        assert time.monotonic() < deadline, run.state
        time.sleep(0.1)
    return run


def test_a_submitted_form_runs_in_the_serving_process(client: Any, queues: Engine) -> None:
    name = f"核验销号 · {uuid4().hex[:8]}"
    submitted, in_progress = item_id(queues, "M5", "v22"), item_id(queues, "M6", "v12")
    with inline_actions([deployment(name)], {"verify-item": verify}):
        closed = finished(client, submit(client, name, submitted))
        refused = finished(client, submit(client, name, in_progress))
    assert (closed.name, closed.state.name) == (f"核验销号 #{submitted} · 王五", "Completed")
    assert (refused.state.type.value, refused.state.name) == ("COMPLETED", "未执行")
    with session_scope(queues) as s:
        assert s.get(WorkItem, submitted).state == "closed"  # type: ignore[union-attr]
        assert s.get(WorkItem, in_progress).state != "closed"  # type: ignore[union-attr]


def test_two_serving_processes_run_each_submission_once(client: Any, queues: Engine) -> None:
    """Two pollers on the same deployment (two `duban serve` by mistake): every run is claimed
    by one of them, so each ran exactly once."""
    name = f"核验销号 · {uuid4().hex[:8]}"
    items = [item_id(queues, "M5", unit) for unit in ("v22", "v12")]
    items += [item_id(queues, "M6", unit) for unit in ("v12", "v22")]
    served = deployment(name)
    flows = {"verify-item": verify}
    with inline_actions([served], flows), inline_actions([served], flows):
        submitted = [submit(client, name, item) for item in items]  # all waiting at once
        runs = [finished(client, run_id) for run_id in submitted]
    for run in runs:
        history = client.read_flow_run_states(run.id)
        assert [s.type.value for s in history].count("RUNNING") == 1, run.name
