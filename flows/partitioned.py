"""A daily cycle spread over workers: each partition of the plan plans its notices in a flow run
of its own, on whichever worker of the work pool picks it up.

The partition runs are runs of the deployment ``daily-cycle-partition/<plan>`` (registered on a
work pool by ``duban deploy``), started by the daily cycle as its subflows and awaited together.
The partitions are disjoint and cover the plan (:mod:`domain.queries.partitions`), and each notice
is
keyed, so the outbox they write is the one a single process writes.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Sequence
from datetime import date
from typing import Any, cast

from prefect import flow, tags
from prefect.client.orchestration import get_client
from prefect.client.schemas.objects import FlowRun
from prefect.deployments import run_deployment
from prefect.exceptions import ObjectNotFound
from prefect.states import Cancelled, Cancelling
from sqlalchemy import func, select

from config.settings import get_settings
from domain.queries.partitions import REST, partition_label
from flows.common import engine, logger
from flows.stages import plan_notices
from models.db import session_scope
from models.records import Notice

PARTITION_FLOW = "daily-cycle-partition"
POLL_SECONDS = 1.0


@flow(
    name=PARTITION_FLOW,
    log_prints=False,
    description="每日流程的一个分区：把本分区单位到期的督办提醒写入待发队列。",
)
def daily_cycle_partition(
    plan_id: str, as_of: date, partition: str, partitions: list[str]
) -> dict[str, int]:
    """One partition's share of a partitioned daily cycle: the notices due on ``as_of`` for the
    items and units of ``partition`` (a unit code among ``partitions``, or "" for the units
    under none of them), written to the outbox."""
    logger().info(
        "分区 %s 在 %s 上运行（工作进程 %d）",
        partition_label(partition),
        socket.gethostname(),
        os.getppid(),
    )
    with tags(plan_id, "daily", "partition"):
        return plan_notices(plan_id, as_of, partition, partitions)


def missing_deployment(plan_id: str) -> str | None:
    """Why partition runs cannot start on the current Prefect server, or None if they can."""
    deployment = f"{PARTITION_FLOW}/{plan_id}"
    with get_client(sync_client=True) as client:
        try:
            client.read_deployment_by_name(deployment)
        except ObjectNotFound:
            return (
                f"这个 Prefect 服务上没有部署 {deployment}："
                "请用 `duban deploy --pool <工作池>` 登记，再用 `duban worker` 启动执行器"
            )
    return None


def _outbox_size(plan_id: str) -> int:
    with session_scope(engine()) as session:
        return session.scalar(select(func.count()).where(Notice.plan_id == plan_id)) or 0


def fan_out_notices(plan_id: str, day: date, partitions: Sequence[str]) -> dict[str, Any]:
    """Start one partition run per partition (and one for the rest), wait for all of them and
    fail unless every one completed. Returns how many notices they added to the outbox."""
    names = [*dict.fromkeys(partitions), REST]
    deployment = f"{PARTITION_FLOW}/{plan_id}"
    missing = missing_deployment(plan_id)
    if missing:
        raise RuntimeError(missing)
    before = _outbox_size(plan_id)
    runs = [
        cast(
            FlowRun,
            run_deployment(
                deployment,
                parameters={
                    "plan_id": plan_id,
                    "as_of": day.isoformat(),
                    "partition": name,
                    "partitions": list(partitions),
                },
                flow_run_name=f"{day} {partition_label(name)}",
                timeout=0,  # start them all, then wait below
            ),
        )
        for name in names
    ]
    log = logger()
    log.info(
        "督办提醒分 %d 个分区在工作池中运行：%s", len(names), "、".join(map(partition_label, names))
    )
    deadline = time.monotonic() + get_settings().partition_timeout
    states: dict[str, str] = {}
    with get_client(sync_client=True) as client:
        pending = {run.id: name for run, name in zip(runs, names, strict=True)}
        while pending:
            for run_id, name in list(pending.items()):
                state = client.read_flow_run(run_id).state
                if state is not None and state.is_final():
                    states[name] = state.type.value
                    del pending[run_id]
            if not pending:
                break
            if time.monotonic() > deadline:
                waiting = "、".join(partition_label(n) for n in pending.values())
                for run_id in pending:  # not to run (on) for a cycle that has failed
                    state = client.read_flow_run(run_id).state
                    message = "每日流程已停止等待"
                    client.set_flow_run_state(
                        run_id,
                        # a running one is Cancelling: its worker then stops the process
                        Cancelling(message=message)
                        if state is not None and state.is_running()
                        else Cancelled(message=message),
                        force=True,
                    )
                raise TimeoutError(
                    f"分区运行 {get_settings().partition_timeout} 秒后仍未完成：{waiting}；"
                    "是否有执行器在领取工作池的任务？（duban deploy 会说明如何启动）"
                )
            time.sleep(POLL_SECONDS)
    failed = {n: s for n, s in states.items() if s != "COMPLETED"}
    if failed:
        raise RuntimeError(
            "分区运行未完成："
            + "、".join(f"{partition_label(n)}（{s}）" for n, s in failed.items())
        )
    new = _outbox_size(plan_id) - before
    log.info("督办提醒 %s：%d 个分区完成，新写入发件箱 %d 条", day, len(names), new)
    return {"partitions": len(names), "new": new}
