"""The coordinator's action flows (核验销号, 退回, 延期审批, 重发提醒) run inside `duban serve`.

Prefect's runner starts every run in a new Python process that imports Prefect, the flow and the
library again: seconds before a one-transaction action even begins. These deployments are
registered as usual (their run forms unchanged) but polled here every :data:`POLL_SECONDS`; each
run is claimed (Pending, which Prefect grants to one claimant only) and run by Prefect's own
flow engine on a worker thread of this process, its states, logs and hooks as in a process of
its own. Long flows (the daily cycle, the briefing, the backup, the catalogue sync) stay in
processes of their own.
"""

from __future__ import annotations

import contextvars
import logging
import threading
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, cast
from uuid import UUID

if TYPE_CHECKING:
    from prefect import Flow
    from prefect.client.orchestration import SyncPrefectClient
    from prefect.client.schemas.objects import FlowRun
    from prefect.deployments.runner import RunnerDeployment

INLINE_FLOWS = frozenset({"approve-extension", "verify-item", "return-item", "resend-notice"})
"""Flows short enough to run in `duban serve`'s own process: one transaction each."""
POLL_SECONDS = 1.0
"""How often the action deployments are asked for submitted runs."""
WORKERS = 2
"""Action runs at the same time (more wait their turn)."""

log = logging.getLogger("duban.inline_actions")


def split(
    deployments: Sequence[RunnerDeployment],
) -> tuple[list[RunnerDeployment], list[RunnerDeployment]]:
    """(the action deployments run here, the others for Prefect's runner)."""
    inline = [d for d in deployments if d.flow_name in INLINE_FLOWS]
    return inline, [d for d in deployments if d.flow_name not in INLINE_FLOWS]


@contextmanager
def inline_actions(
    deployments: Sequence[RunnerDeployment], flows: Mapping[str, Flow[..., Any]]
) -> Iterator[None]:
    """Register ``deployments`` and run their submitted runs in this process (``flows`` by
    name) until the block ends; runs under way are waited for."""
    from prefect.client.orchestration import get_client  # noqa: PLC0415 - Prefect when serving

    by_id: dict[UUID, Flow[..., Any]] = {}
    for d in deployments:  # apply() is synchronous outside an event loop
        by_id[cast("UUID", d.apply())] = flows[str(d.flow_name)]
    stop = threading.Event()
    context = contextvars.copy_context()  # this thread's Prefect and duban settings
    with ThreadPoolExecutor(WORKERS, thread_name_prefix="duban-action") as pool:

        def loop() -> None:
            with get_client(sync_client=True) as client:
                while not stop.wait(POLL_SECONDS):
                    try:
                        for flow, run in claim(client, by_id):
                            pool.submit(context.copy().run, execute, flow, run)
                    except Exception:  # the next poll tries again; serve keeps running
                        log.warning("polling the action deployments failed", exc_info=True)

        poller = threading.Thread(target=context.copy().run, args=(loop,), daemon=True)
        poller.start()
        try:
            yield
        finally:
            stop.set()
            poller.join(10)


def claim(
    client: SyncPrefectClient, flows: Mapping[UUID, Flow[..., Any]]
) -> list[tuple[Flow[..., Any], FlowRun]]:
    """The runs of these deployments due now, each claimed Pending by this process (a run
    another runner claimed first is left to it)."""
    from prefect.exceptions import Abort  # noqa: PLC0415
    from prefect.states import Pending  # noqa: PLC0415
    from prefect.utilities.engine import propose_state_sync  # noqa: PLC0415

    due = client.get_scheduled_flow_runs_for_deployments(
        list(flows), scheduled_before=datetime.now(UTC)
    )
    claimed = []
    for run in due:
        try:
            state = propose_state_sync(client, Pending(), flow_run_id=run.id)
        except Abort:
            continue
        if state.is_pending() and run.deployment_id is not None:
            claimed.append((flows[run.deployment_id], client.read_flow_run(run.id)))
    return claimed


def execute(flow: Flow[..., Any], run: FlowRun) -> None:
    """Run one claimed run to its end with Prefect's engine (no heartbeat: it would only add a
    second to a run that takes a fraction of one)."""
    from prefect.flow_engine import run_flow  # noqa: PLC0415
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings  # noqa: PLC0415

    try:
        with temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
            run_flow(flow, flow_run=run, return_type="state")
    except Exception:  # its state says what happened; this thread serves the next run
        log.exception("action run %s ended with an error", run.id)
