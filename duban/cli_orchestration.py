"""Commands that run the flows: a local Prefect server, serving deployments, the embedded
scheduler, and one-off runs. Prefect is imported only here, after its settings are in place."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from config.errors import NotFoundError
from duban.app import AsOf, PlanOpt, app, err, out, warn
from duban.cli_words import BadOption
from duban.dates import parse_date

if TYPE_CHECKING:
    from config.settings import Settings

FLOWS = {
    "daily-cycle": "flows.daily_cycle:daily_cycle",
    "weekly-briefing": "flows.weekly_briefing:weekly_briefing",
    "monthly-briefing": "flows.period_briefing:monthly_briefing",
    "quarterly-briefing": "flows.period_briefing:quarterly_briefing",
    "assessment-report": "flows.assessment_report:assessment_report",
    "sync-catalog": "flows.sync_catalog:sync_catalog",
}


def _plan_ids(plan: str | None) -> list[str]:
    """The plan named, or every plan in the database (served and scheduled together)."""
    if plan is not None:
        return [_plan_id(plan)]
    from domain.queries.plans import plan_ids
    from duban.database import ready_engine
    from models.db import session_scope

    with session_scope(ready_engine()) as session:
        found = plan_ids(session)
    return found or [_plan_id(None)]  # none: the usual "no plan yet" message


def _plan_id(plan: str | None) -> str:
    from domain.queries.context import resolve_plan
    from duban.database import ready_engine
    from models.db import session_scope

    with session_scope(ready_engine()) as session:
        return resolve_plan(session, plan).id


@app.command()
def server() -> None:
    """启动本机的 Prefect 服务（数据在 <DUBAN_HOME>/prefect/），并给出界面地址。"""
    from config.settings import get_settings
    from duban.orchestration import local_server, loopback, running_local_server, ui_url

    settings = get_settings()
    if settings.prefect_api_url:
        raise BadOption(
            f"DUBAN_PREFECT_API_URL 指向 {settings.prefect_api_url}：那个服务在别处启动",
            param_hint="DUBAN_PREFECT_API_URL",
        )
    if not loopback(settings.prefect_host) and settings.prefect_auth is None:
        raise BadOption(
            f"DUBAN_PREFECT_HOST={settings.prefect_host} 让别的电脑也能打开 Prefect 界面，"
            "并核验、退回、延期事项：请同时设置 DUBAN_PREFECT_AUTH=用户名:密码"
            "（打开界面时输入），或去掉 DUBAN_PREFECT_HOST 只在本机使用",
            param_hint="DUBAN_PREFECT_AUTH",
        )
    url = settings.resolved_prefect_api_url
    if running_local_server(settings):
        out.print(f"这个数据目录的 Prefect 服务已在运行：{ui_url(url)}", markup=False)
        return
    local = local_server(settings, public=True)
    out.print(f"正在启动 Prefect 服务（数据和日志在 {local.home}）……", markup=False)
    local.start()
    out.print(f"Prefect 界面：[bold]{ui_url(local.api_url)}[/]（按 Ctrl-C 停止）")
    stop = _until_interrupted()
    try:
        with _watching_unserved(settings) as check:
            while not stop() and local.process is not None and local.process.poll() is None:
                check()
                time.sleep(0.5)
    finally:
        local.stop()
    out.print("Prefect 服务已停止")


@app.command()
def watch() -> None:
    """注明无人执行的运行：没有 duban serve 时，表单和定时运行在界面上说明原因。"""
    from config.settings import get_settings
    from duban.orchestration import ui_url

    settings = get_settings()
    url = _persistent_server(settings)
    out.print(f"正在查看 {ui_url(url)} 上无人执行的运行（按 Ctrl-C 停止）", markup=False)
    stop = _until_interrupted()
    with _watching_unserved(settings) as check:
        while not stop():
            check()
            time.sleep(0.5)


@contextmanager
def _watching_unserved(settings: Settings) -> Iterator[Callable[[], None]]:
    """A function to call often: every WATCH_SECONDS it marks the runs no `duban serve` will
    start (:mod:`duban.unserved`) and says so here; a failed look is said once and retried."""
    from duban.orchestration import prefect_client
    from duban.unserved import WATCH_SECONDS, mark_unserved

    with prefect_client(settings):
        from prefect.client.orchestration import get_client

        last, failing = 0.0, False

        def check() -> None:
            nonlocal last, failing
            if time.monotonic() - last < WATCH_SECONDS:
                return
            last = time.monotonic()
            try:
                with get_client(sync_client=True) as client:
                    marked = mark_unserved(client, datetime.now(UTC))
            except Exception as exc:  # the server keeps running whatever happens here
                if not failing:
                    warn([f"查看待执行的运行时出错（{type(exc).__name__}），稍后重试"])
                failing = True
                return
            failing = False
            for run in marked:
                waited = int((datetime.now(UTC) - run.start).total_seconds())
                out.print(
                    f"运行「{run.name}」已排队 {waited} 秒，没有 duban serve 在执行它："
                    "已在 Prefect 界面上注明，请运行 duban serve",
                    markup=False,
                )

        yield check


def _until_interrupted() -> Callable[[], bool]:
    """Catch SIGINT/SIGTERM from now on; the returned function says whether one came."""
    stopped: list[bool] = []

    def handler(signum: int, frame: object) -> None:  # noqa: ARG001
        stopped.append(True)

    signal.signal(signal.SIGINT, handler)
    signal.signal(signal.SIGTERM, handler)
    return lambda: bool(stopped)


EveryPlanOpt = Annotated[
    str | None,
    typer.Option(
        "--plan",
        help="只为这个规划登记部署；不写时为数据库中的每个规划（每日督办合为一个部署）。",
    ),
]


@app.command()
def serve(plan: EveryPlanOpt = None) -> None:
    """登记部署（每日流程、每周简报、操作），并按计划运行；同时提供填报页面（duban web）。"""
    from config.settings import get_settings

    settings = get_settings()
    plan_ids = _plan_ids(plan)
    try:
        _serve(settings, plan_ids)
    except KeyboardInterrupt:  # Ctrl-C before Prefect's runner took over stops it as well
        out.print("已停止", markup=False)


def _serve(settings: Settings, plan_ids: list[str]) -> None:
    """What `duban serve` runs until Ctrl-C."""
    from duban.orchestration import prefect_client, prefect_server, ui_url
    from flows.deployments import deployments_for, scheduled

    with (
        prefect_server(settings) as url,
        prefect_client(settings, heartbeat=True),
        owner_pages(settings),
    ):
        from prefect import serve as prefect_serve

        for s in scheduled(settings):
            out.print(f"{s.key}：cron '{s.cron}'（{s.timezone}）— {s.description}", markup=False)
        out.print(f"Prefect 界面：{ui_url(url)}（按 Ctrl-C 停止）", markup=False)
        from prefect.settings import PREFECT_RUNNER_POLL_FREQUENCY, temporary_settings

        from duban.inline_actions import inline_actions, split
        from flows.deployments import ON_DEMAND, load_flow

        if len(plan_ids) > 1:
            out.print(f"规划：{'、'.join(plan_ids)}（每日督办合为一次运行）", markup=False)
        actions, others = split(deployments_for(settings, plan_ids))
        flows = {f.name: f for f in map(load_flow, ON_DEMAND)}
        # the action forms run in this process (seconds sooner); the others start within
        # seconds too, not after Prefect's default 10 s poll
        with (
            temporary_settings(updates={PREFECT_RUNNER_POLL_FREQUENCY: RUNNER_POLL_SECONDS}),
            inline_actions(actions, flows),
        ):
            prefect_serve(*others, print_starting_message=False)


RUNNER_POLL_SECONDS = 2
"""How often `duban serve` asks the server for runs submitted from the UI's forms."""


@contextmanager
def owner_pages(settings: Settings) -> Iterator[None]:
    """``duban web``'s pages served beside the deployments, in this process, on one machine
    (DUBAN_WEB_HOST, DUBAN_WEB_PORT); a taken port is said and the rest runs on."""
    from duban.orchestration import port_is_free
    from duban.web.threaded import serving

    if not port_is_free(settings.web_port):
        warn(
            [
                f"端口 {settings.web_port} 已被占用，本次不提供填报页面；"
                "请另行运行 `duban web`，或把 DUBAN_WEB_PORT 设为空闲端口"
            ]
        )
        yield
        return
    with serving(settings, settings.web_host, settings.web_port):
        out.print(
            f"填报页面：http://{settings.web_host}:{settings.web_port}/（个人链接以 "
            f"{settings.resolved_web_base_url}/l/ 开头）",
            markup=False,
        )
        yield


def _persistent_server(settings: Settings) -> str:
    """The API of a server that outlives this command (workers and deployments need one)."""
    from duban.orchestration import healthy, running_local_server

    url = settings.resolved_prefect_api_url
    if settings.prefect_api_url:
        if not healthy(url):
            raise NotFoundError(f"{url} 的 Prefect 服务没有响应")
        return url
    if not running_local_server(settings):
        raise NotFoundError(
            "这个数据目录没有在运行的 Prefect 服务：请先运行 `duban server`"
            "（或把 DUBAN_PREFECT_API_URL 设为共用的服务）"
        )
    return url


Pool = Annotated[str, typer.Option(help="Prefect 工作池（进程池）。")]


@app.command()
def deploy(pool: Pool = "duban", plan: PlanOpt = None) -> None:
    """在工作池上登记分区部署，让每日流程分散到多个执行器上运行。"""
    from config.settings import get_settings
    from duban.orchestration import prefect_client, ui_url
    from flows.deployments import deploy_partitions

    settings = get_settings()
    plan_id = _plan_id(plan)
    url = _persistent_server(settings)
    with prefect_client(settings):
        deploy_partitions(settings, plan_id, pool)
    out.print(
        f"daily-cycle-partition/{plan_id} 已登记到工作池 {pool!r}（{ui_url(url)}）", markup=False
    )
    out.print(f"在每台机器上启动执行器：duban worker --pool {pool}", markup=False)
    out.print(
        "分区运行每日流程：duban run daily-cycle --partitions 单位编号,单位编号,…"
        "（定时运行的则设置 DUBAN_PARTITIONS）",
        markup=False,
    )


@app.command()
def worker(
    pool: Pool = "duban",
    limit: Annotated[int, typer.Option(help="这个执行器同时运行的流程数。")] = 1,
) -> None:
    """为工作池运行一个 Prefect 进程执行器（每台机器一个或多个）；运行时用本机的 DUBAN_* 设置，
    所以 DUBAN_DATABASE_URL 须指向共用的数据库。"""
    from config.settings import get_settings
    from duban.orchestration import client_environment

    settings = get_settings()
    _persistent_server(settings)
    env = {**os.environ, **client_environment(settings)}
    command = [
        sys.executable, "-m", "prefect", "worker", "start",
        "--pool", pool, "--type", "process", "--limit", str(limit),
    ]  # fmt: skip
    out.print(
        f"执行器正在从 {settings.resolved_prefect_api_url} 领取工作池 {pool!r} 的任务"
        "（按 Ctrl-C 停止）",
        markup=False,
    )
    out.file.flush()
    process = subprocess.Popen(command, env=env)  # noqa: S603 - our interpreter's prefect
    stop = _until_interrupted()
    try:
        while not stop() and process.poll() is None:
            time.sleep(0.5)
    finally:
        if process.poll() is None:
            process.terminate()  # Prefect's worker may want a second one (NOTES.md)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.terminate()
                process.wait(timeout=10)
    out.print("执行器已停止")


@app.command()
def scheduler(plan: EveryPlanOpt = None) -> None:
    """用 APScheduler 在本进程内按计划运行流程（内置模式；每个数据库只能有一个）。"""
    from apscheduler.schedulers.background import BackgroundScheduler

    from config.settings import get_settings
    from duban import scheduler as embedded
    from duban.database import ready_engine
    from duban.orchestration import prefect_server, ui_url

    settings = get_settings()
    engine = ready_engine()
    plan_ids = _plan_ids(plan)
    holder = embedded.new_holder()
    embedded.acquire_lock(engine, holder)
    try:
        with prefect_server(settings) as url:
            runner = BackgroundScheduler()
            embedded.configure(runner, engine, settings, plan_ids, holder)
            stop = _until_interrupted()
            runner.start()
            table = Table("作业", "计划", "下次运行", header_style="bold")
            for row in embedded.job_table(runner):
                table.add_row(escape(row["id"]), escape(row["trigger"]), row["next_run"] or "—")
            out.print(table)
            out.print(f"运行记录见 {ui_url(url)}；按 Ctrl-C 停止调度", markup=False)
            out.file.flush()
            while runner.running and not stop():
                time.sleep(0.5)
            out.print("正在停止调度（进行中的运行先跑完）……")
            if runner.running:
                runner.shutdown(wait=True)
    finally:
        embedded.release_lock(engine, holder)
    out.print("调度已停止")


def _check_week(plan_id: str, week: str | None, as_of: date | None) -> None:
    """A week or date the briefing cannot be made for is a usage error, before any run."""
    from domain.queries.plans import plan_of
    from domain.services.briefing.issue import briefing_date, check_date
    from duban.cli_briefing import parse_period
    from duban.database import ready_engine
    from models.db import session_scope

    period = parse_period(None, week=week)
    with session_scope(ready_engine()) as session:
        plan = plan_of(session, plan_id)
        try:
            day = briefing_date(session, plan, period) if period else as_of
            if day is not None:
                check_date(plan, day)
        except ValueError as exc:
            raise BadOption(str(exc), param_hint="--week/--as-of") from None


def _briefing_params(
    name: str, params: dict[str, Any], *, week: str | None, month: str | None, quarter: str | None
) -> dict[str, Any]:
    """A briefing flow's own parameters (its period, send), checked before any run; a period
    option given to another flow is a usage error."""
    for option, value, flow in (
        ("--week", week, "weekly-briefing"),
        ("--month", month, "monthly-briefing"),
        ("--quarter", quarter, "quarterly-briefing"),
    ):
        if value is not None and name != flow:
            raise BadOption(f"{option} 只用于 {flow}", param_hint=name)
    if name == "weekly-briefing":
        _check_week(params["plan_id"], week, params.get("as_of"))
        return {"week": week, "send": True}
    if name not in ("monthly-briefing", "quarterly-briefing"):
        return {}
    if month is not None or quarter is not None:
        _check_period(params["plan_id"], month=month, quarter=quarter)
    chosen = {"month": month} if month else {"quarter": quarter} if quarter else {}
    return {**chosen, "send": True}


def _check_period(plan_id: str, *, month: str | None, quarter: str | None) -> None:
    """A month or quarter the briefing cannot be made for is a usage error, before any run."""
    from domain.queries.plans import plan_of
    from domain.services.briefing.issue import check_date
    from duban.cli_briefing import parse_period
    from duban.database import ready_engine
    from models.db import session_scope

    period = parse_period(None, week=None, month=month, quarter=quarter)
    assert period is not None  # one of them is given
    with session_scope(ready_engine()) as session:
        try:
            check_date(plan_of(session, plan_id), period.last)
        except ValueError as exc:
            raise BadOption(str(exc), param_hint="--month/--quarter") from None


def _partition_codes(plan_id: str, text: str) -> list[str]:
    """The codes of ``--partitions``, each a unit of the plan (else a usage error)."""
    from domain.queries.partitions import partition_units
    from duban.database import ready_engine
    from models.db import session_scope

    codes = [c.strip() for c in text.split(",") if c.strip()]
    if not codes:
        raise BadOption("至少给出一个单位编号", param_hint="--partitions")
    with session_scope(ready_engine()) as session:
        try:
            partition_units(session, plan_id, codes[0], codes)
        except NotFoundError as exc:
            raise BadOption(str(exc), param_hint="--partitions") from None
    return codes


def _start(name: str, params: dict[str, Any], url: str) -> Any:
    """Run the flow in this process, recorded in Prefect; a refused run (未执行) is its reason
    and exit status 2, a failed run one error line and exit status 1 (its state and log are in
    the Prefect UI)."""
    from prefect import tags
    from prefect.logging.handlers import APILogWorker

    from duban.orchestration import ui_url
    from flows.deployments import load_flow
    from flows.refusals import refusal_of

    if "partitions" in params:
        from flows.partitioned import missing_deployment

        missing = missing_deployment(params["plan_id"])
        if missing:
            raise NotFoundError(missing)
    with tags(*([params["plan_id"]] if "plan_id" in params else [])):
        try:
            result = load_flow(FLOWS[name])(**params)
        except Exception as exc:  # any failure: the run's state in Prefect says which
            APILogWorker.drain_all(timeout=5)
            err.print(f"[red]错误：[/]{name} 运行失败：{escape(str(exc))}")
            err.print(f"运行日志和状态见 {ui_url(url)}", markup=False)
            raise typer.Exit(1) from None
    reason = refusal_of(result)
    if reason is not None:  # refused (flows.refusals): the person's input, said in the run
        APILogWorker.drain_all(timeout=5)  # the run's log reaches the server first
        err.print(f"[red]错误：[/]未执行：{escape(reason)}")
        raise typer.Exit(2)
    return result


@app.command("run")
def run_flow(
    name: Annotated[
        str,
        typer.Argument(
            help="流程名：daily-cycle、sync-catalog，或简报 weekly-briefing、monthly-briefing、"
            "quarterly-briefing 之一，或考评通报 assessment-report。"
        ),
    ],
    as_of: AsOf = None,
    week: Annotated[str | None, typer.Option(help="weekly-briefing 用：ISO 周。")] = None,
    month: Annotated[
        str | None, typer.Option(help="monthly-briefing 用：月份，如 2021-12。")
    ] = None,
    quarter: Annotated[
        str | None, typer.Option(help="quarterly-briefing 用：季度，如 2021-Q4。")
    ] = None,
    no_send: Annotated[
        bool, typer.Option("--no-send", help="简报流程用：只生成，不发送。")
    ] = False,
    partitions: Annotated[
        str | None,
        typer.Option(help="daily-cycle 用：单位编号，逗号分隔，分派到工作池运行。"),
    ] = None,
    plan: Annotated[
        str | None,
        typer.Option(
            "--plan",
            help="规划编号（数据库中有多个规划时才需要；daily-cycle 不写时运行每个规划）。",
        ),
    ] = None,
) -> None:
    """立即运行一个流程，记录在 Prefect 中（没有服务响应时启动一个本机服务）。"""
    from config.settings import get_settings
    from duban import render
    from duban.orchestration import (
        prefect_client,
        prefect_home,
        prefect_server,
        running_local_server,
        ui_url,
    )

    if name not in FLOWS:
        raise BadOption(f"没有流程 {name!r}；可选：{' '.join(FLOWS)}", param_hint="流程名")
    settings = get_settings()
    params: dict[str, Any] = {}
    if name != "sync-catalog":
        every = name == "daily-cycle" and plan is None and partitions is None
        if not (every and len(_plan_ids(None)) > 1):  # else: every plan, one delivery
            params["plan_id"] = _plan_id(plan)
        day = parse_date(as_of)
        if day is not None:
            params["as_of"] = day
    params.update(_briefing_params(name, params, week=week, month=month, quarter=quarter))
    if no_send:
        if "send" not in params:
            raise BadOption("--no-send 只用于简报流程", param_hint=name)
        params["send"] = False
    if partitions is not None:
        if name != "daily-cycle":
            raise BadOption("--partitions 只用于 daily-cycle", param_hint=name)
        params["partitions"] = _partition_codes(params["plan_id"], partitions)
        _persistent_server(settings)  # the partition runs go to its work pool's workers
    if name == "sync-catalog" and as_of is not None:
        raise BadOption("sync-catalog 不接受 --as-of", param_hint="--as-of")
    with prefect_server(settings) as url, prefect_client(settings):
        result = _start(name, params, url)
    out.print(render.run_result(result), markup=False)
    if settings.prefect_api_url or running_local_server(settings):
        out.print(f"在 Prefect 界面查看这次运行：{ui_url(url)}", markup=False)
    else:
        out.print(f"运行记录保存在 {prefect_home(settings)}；`duban server` 可查看", markup=False)
