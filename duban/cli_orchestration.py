"""Commands that run the flows: a local Prefect server, serving deployments, the embedded
scheduler, and one-off runs. Prefect is imported only here, after its settings are in place."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from config.errors import NotFoundError
from duban.app import AsOf, PlanOpt, app, err, out
from duban.dates import parse_date

if TYPE_CHECKING:
    from config.settings import Settings

FLOWS = {
    "daily-cycle": "flows.daily_cycle:daily_cycle",
    "weekly-briefing": "flows.weekly_briefing:weekly_briefing",
    "sync-catalog": "flows.sync_catalog:sync_catalog",
}


def _plan_id(plan: str | None) -> str:
    from domain.queries.context import resolve_plan
    from duban.database import ready_engine
    from models.db import session_scope

    with session_scope(ready_engine()) as session:
        return resolve_plan(session, plan).id


@app.command()
def server() -> None:
    """Start the local Prefect server (data in <DUBAN_HOME>/prefect/) and print the UI address."""
    from config.settings import get_settings
    from duban.orchestration import LocalServer, prefect_home, running_local_server, ui_url

    settings = get_settings()
    if settings.prefect_api_url:
        raise typer.BadParameter(
            f"DUBAN_PREFECT_API_URL points at {settings.prefect_api_url}: that server is "
            "started elsewhere",
            param_hint="DUBAN_PREFECT_API_URL",
        )
    url = settings.resolved_prefect_api_url
    if running_local_server(settings):
        out.print(f"this data directory's Prefect server already runs at {ui_url(url)}")
        return
    local = LocalServer(prefect_home(settings), settings.prefect_port)
    out.print(f"starting the Prefect server (data and log in {local.home}) ...")
    local.start()
    out.print(f"Prefect UI: [bold]{ui_url(local.api_url)}[/]   (Ctrl-C stops it)")
    stop = _until_interrupted()
    try:
        while not stop() and local.process is not None and local.process.poll() is None:
            time.sleep(0.5)
    finally:
        local.stop()
    out.print("Prefect server stopped")


def _until_interrupted() -> Callable[[], bool]:
    """Catch SIGINT/SIGTERM from now on; the returned function says whether one came."""
    stopped: list[bool] = []

    def handler(signum: int, frame: object) -> None:  # noqa: ARG001
        stopped.append(True)

    signal.signal(signal.SIGINT, handler)
    signal.signal(signal.SIGTERM, handler)
    return lambda: bool(stopped)


@app.command()
def serve(plan: PlanOpt = None) -> None:
    """Register the deployments (daily cycle, weekly briefing, actions) and run them on schedule."""
    from config.settings import get_settings
    from duban.orchestration import prefect_client, prefect_server, ui_url
    from flows.deployments import deployments, scheduled

    settings = get_settings()
    plan_id = _plan_id(plan)
    with prefect_server(settings) as url, prefect_client(settings, heartbeat=True):
        from prefect import serve as prefect_serve

        for s in scheduled(settings):
            out.print(f"{s.key}: cron '{s.cron}' ({s.timezone}) — {s.description}")
        out.print(f"Prefect UI: {ui_url(url)}   (Ctrl-C stops serving)")
        prefect_serve(*deployments(settings, plan_id), print_starting_message=False)


def _persistent_server(settings: Settings) -> str:
    """The API of a server that outlives this command (workers and deployments need one)."""
    from duban.orchestration import healthy, running_local_server

    url = settings.resolved_prefect_api_url
    if settings.prefect_api_url:
        if not healthy(url):
            raise NotFoundError(f"the Prefect server at {url} does not answer")
        return url
    if not running_local_server(settings):
        raise NotFoundError(
            "no Prefect server runs for this data directory: start `duban server` first "
            "(or set DUBAN_PREFECT_API_URL to the shared one)"
        )
    return url


Pool = Annotated[str, typer.Option(help="The Prefect work pool (a process pool).")]


@app.command()
def deploy(pool: Pool = "duban", plan: PlanOpt = None) -> None:
    """Register the partition deployment on a work pool, for daily cycles spread over workers."""
    from config.settings import get_settings
    from duban.orchestration import prefect_client, ui_url
    from flows.deployments import deploy_partitions

    settings = get_settings()
    plan_id = _plan_id(plan)
    url = _persistent_server(settings)
    with prefect_client(settings):
        deploy_partitions(settings, plan_id, pool)
    out.print(f"daily-cycle-partition/{plan_id} is on work pool {pool!r} ({ui_url(url)})")
    out.print(f"start workers on each machine with: duban worker --pool {pool}")
    out.print(
        "run a partitioned cycle: duban run daily-cycle --partitions CODE,CODE,... "
        "(or set DUBAN_PARTITIONS for the scheduled one)"
    )


@app.command()
def worker(
    pool: Pool = "duban",
    limit: Annotated[int, typer.Option(help="Flow runs at once on this worker.")] = 1,
) -> None:
    """Run a Prefect process worker for the work pool (one per machine, or more); its runs use
    this machine's DUBAN_* settings, so DUBAN_DATABASE_URL must name the shared database."""
    from config.settings import get_settings
    from duban.orchestration import client_environment

    settings = get_settings()
    _persistent_server(settings)
    env = {**os.environ, **client_environment(settings)}
    command = [
        sys.executable, "-m", "prefect", "worker", "start",
        "--pool", pool, "--type", "process", "--limit", str(limit),
    ]  # fmt: skip
    out.print(f"worker polling {pool!r} at {settings.resolved_prefect_api_url} (Ctrl-C stops it)")
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
    out.print("worker stopped")


@app.command()
def scheduler(plan: PlanOpt = None) -> None:
    """Run the scheduled flows in-process with APScheduler (embedded mode; one per database)."""
    from apscheduler.schedulers.background import BackgroundScheduler

    from config.settings import get_settings
    from duban import scheduler as embedded
    from duban.database import ready_engine
    from duban.orchestration import prefect_server, ui_url

    settings = get_settings()
    engine = ready_engine()
    plan_id = _plan_id(plan)
    holder = embedded.new_holder()
    embedded.acquire_lock(engine, holder)
    try:
        with prefect_server(settings) as url:
            runner = BackgroundScheduler()
            embedded.configure(runner, engine, settings, plan_id, holder)
            stop = _until_interrupted()
            runner.start()
            table = Table("job", "schedule", "next run", header_style="bold")
            for row in embedded.job_table(runner):
                table.add_row(escape(row["id"]), escape(row["trigger"]), row["next_run"] or "—")
            out.print(table)
            out.print(f"runs report to {ui_url(url)}; Ctrl-C stops the scheduler")
            out.file.flush()
            while runner.running and not stop():
                time.sleep(0.5)
            out.print("stopping the scheduler (a run in progress finishes first) ...")
            if runner.running:
                runner.shutdown(wait=True)
    finally:
        embedded.release_lock(engine, holder)
    out.print("scheduler stopped")


def _check_week(plan_id: str, week: str | None, as_of: date | None) -> None:
    """A week or date the briefing cannot be made for is a usage error, before any run."""
    from domain.queries.plans import plan_of
    from domain.services.briefing.issue import check_date, report_day
    from duban.cli_briefing import parse_week
    from duban.database import ready_engine
    from models.db import session_scope

    iso_week = parse_week(week)
    with session_scope(ready_engine()) as session:
        plan = plan_of(session, plan_id)
        try:
            day = report_day(session, plan, iso_week) if iso_week else as_of
            if day is not None:
                check_date(plan, day)
        except ValueError as exc:
            raise typer.BadParameter(str(exc), param_hint="--week/--as-of") from None


def _partition_codes(plan_id: str, text: str) -> list[str]:
    """The codes of ``--partitions``, each a unit of the plan (else a usage error)."""
    from domain.queries.partitions import partition_units
    from duban.database import ready_engine
    from models.db import session_scope

    codes = [c.strip() for c in text.split(",") if c.strip()]
    if not codes:
        raise typer.BadParameter("name at least one unit code", param_hint="--partitions")
    with session_scope(ready_engine()) as session:
        try:
            partition_units(session, plan_id, codes[0], codes)
        except NotFoundError as exc:
            raise typer.BadParameter(str(exc), param_hint="--partitions") from None
    return codes


def _start(name: str, params: dict[str, Any], url: str) -> Any:
    """Run the flow in this process, recorded in Prefect; a failed run is one error line and
    exit status 1 (its state and log are in the Prefect UI)."""
    from prefect import tags

    from duban.orchestration import ui_url
    from flows.deployments import load_flow

    if "partitions" in params:
        from flows.partitioned import missing_deployment

        missing = missing_deployment(params["plan_id"])
        if missing:
            raise NotFoundError(missing)
    with tags(*([params["plan_id"]] if "plan_id" in params else [])):
        try:
            return load_flow(FLOWS[name])(**params)
        except Exception as exc:  # any failure: the run's state in Prefect says which
            err.print(f"[red]error:[/] the {name} run failed: {escape(str(exc))}")
            err.print(f"its log and state: {ui_url(url)}")
            raise typer.Exit(1) from None


@app.command("run")
def run_flow(
    name: Annotated[str, typer.Argument(help="daily-cycle, weekly-briefing or sync-catalog.")],
    as_of: AsOf = None,
    week: Annotated[str | None, typer.Option(help="weekly-briefing: ISO week.")] = None,
    no_send: Annotated[
        bool, typer.Option("--no-send", help="weekly-briefing: write it, do not send.")
    ] = False,
    partitions: Annotated[
        str | None,
        typer.Option(help="daily-cycle: unit codes, comma-separated, planned on a work pool."),
    ] = None,
    plan: PlanOpt = None,
) -> None:
    """Run one flow now, recorded in Prefect (a local server is started if none answers)."""
    from config.settings import get_settings
    from duban.orchestration import (
        prefect_client,
        prefect_home,
        prefect_server,
        running_local_server,
        ui_url,
    )

    if name not in FLOWS:
        raise typer.BadParameter(f"no flow {name!r}; choose {', '.join(FLOWS)}", param_hint="NAME")
    settings = get_settings()
    params: dict[str, Any] = {}
    if name != "sync-catalog":
        params["plan_id"] = _plan_id(plan)
        day = parse_date(as_of)
        if day is not None:
            params["as_of"] = day
    if name == "weekly-briefing":
        _check_week(params["plan_id"], week, params.get("as_of"))
        params.update(week=week, send=not no_send)
    elif week is not None or no_send:
        raise typer.BadParameter("--week and --no-send go with weekly-briefing", param_hint=name)
    if partitions is not None:
        if name != "daily-cycle":
            raise typer.BadParameter("--partitions goes with daily-cycle", param_hint=name)
        params["partitions"] = _partition_codes(params["plan_id"], partitions)
        _persistent_server(settings)  # the partition runs go to its work pool's workers
    if name == "sync-catalog" and as_of is not None:
        raise typer.BadParameter("sync-catalog takes no --as-of", param_hint="--as-of")
    with prefect_server(settings) as url, prefect_client(settings):
        result = _start(name, params, url)
    out.print(result, markup=False)
    if settings.prefect_api_url or running_local_server(settings):
        out.print(f"see the run in the Prefect UI: {ui_url(url)}")
    else:
        out.print(f"the run is kept in {prefect_home(settings)}; `duban server` shows it")
