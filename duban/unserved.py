"""Runs that nothing will start: a form submitted (or a schedule fallen due) while no `duban serve`
polls the deployments says so in the Prefect UI instead of sitting Scheduled without a word.

Prefect records when a runner last asked for a deployment's runs (``last_polled``; its foreman
marks a deployment NOT_READY a minute after that stops). :func:`unserved` is the rule over plain
data; :func:`mark_unserved` reads the server, sets each such run Late with :data:`MESSAGE` (its
scheduled time kept, so `duban serve` still runs it once it starts) and writes the message to the
run's log. `duban server` calls it every :data:`WATCH_SECONDS`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from uuid import UUID

if TYPE_CHECKING:
    from prefect.client.orchestration import SyncPrefectClient

MESSAGE = "没有 duban serve 在运行：请在服务器上运行 duban serve，本次运行会在它启动后执行"
"""What an unserved run's state and log say (the run page and the runs list show it)."""
WAITED = timedelta(seconds=30)
"""A run this long past its start time, of a deployment not polled this long, is unserved
(`duban serve` polls every 2 s)."""
WATCH_SECONDS = 15
"""How often `duban server` looks."""
MAX_RUNS = 200
"""Runs looked at per round (the oldest first); more wait for the next round."""

log = logging.getLogger("duban.unserved")


@dataclass(frozen=True)
class Served:
    """A deployment a runner serves (no work pool), with when it was last polled."""

    id: UUID
    last_polled: datetime | None
    ready: bool


@dataclass(frozen=True)
class Waiting:
    """A run of a deployment in a Scheduled state (Scheduled or Late)."""

    id: UUID
    name: str
    deployment_id: UUID
    start: datetime
    message: str | None


def unserved(served: Iterable[Served], runs: Iterable[Waiting], now: datetime) -> list[Waiting]:
    """The runs that waited :data:`WAITED` past their start for a deployment nobody has polled
    for as long (never polled, or marked NOT_READY), and do not say so yet."""
    idle = {
        d.id
        for d in served
        if not d.ready or d.last_polled is None or now - d.last_polled >= WAITED
    }
    return [
        r
        for r in runs
        if r.deployment_id in idle and now - r.start >= WAITED and r.message != MESSAGE
    ]


def mark_unserved(client: SyncPrefectClient, now: datetime) -> list[Waiting]:
    """Set every unserved run Late with :data:`MESSAGE` and log it on the run; the runs marked."""
    from prefect.client.schemas.actions import LogCreate  # noqa: PLC0415 - Prefect when watching
    from prefect.client.schemas.filters import (  # noqa: PLC0415
        FlowRunFilter,
        FlowRunFilterDeploymentId,
        FlowRunFilterExpectedStartTime,
        FlowRunFilterState,
        FlowRunFilterStateType,
    )
    from prefect.client.schemas.objects import DeploymentStatus, StateType  # noqa: PLC0415
    from prefect.client.schemas.sorting import FlowRunSort  # noqa: PLC0415
    from prefect.states import Late  # noqa: PLC0415

    deployments = [
        d
        for d in client.read_deployments()
        if d.work_pool_name is None  # served by a runner; a pool's workers are another matter
    ]
    if not deployments:
        return []
    served = [Served(d.id, d.last_polled, d.status == DeploymentStatus.READY) for d in deployments]
    found = client.read_flow_runs(
        flow_run_filter=FlowRunFilter(
            deployment_id=FlowRunFilterDeploymentId(any_=[d.id for d in deployments]),
            state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.SCHEDULED])),
            expected_start_time=FlowRunFilterExpectedStartTime(before_=now - WAITED),
        ),
        sort=FlowRunSort.EXPECTED_START_TIME_ASC,
        limit=MAX_RUNS,
    )
    waiting = [
        Waiting(
            r.id,
            r.name,
            r.deployment_id,
            r.expected_start_time or r.created or now,
            r.state.message if r.state else None,
        )
        for r in found
        if r.deployment_id is not None
    ]
    marked = []
    for run in unserved(served, waiting, now):
        current = client.read_flow_run(run.id).state  # as late as possible: serve may be back
        if current is None or not current.is_scheduled():
            continue
        scheduled = current.state_details.scheduled_time or run.start
        # forced: Prefect refuses Late → Late, and the server's own late-runs service has
        # usually marked it Late already (without a word)
        client.set_flow_run_state(
            run.id, Late(scheduled_time=scheduled, message=MESSAGE), force=True
        )
        client.create_logs(
            [
                LogCreate(
                    name="duban.unserved",
                    level=logging.WARNING,
                    message=MESSAGE,
                    timestamp=now,
                    flow_run_id=run.id,
                )
            ]
        )
        log.debug("run %s marked unserved", run.id)
        marked.append(run)
    return marked
