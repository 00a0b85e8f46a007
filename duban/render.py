"""How results look in a terminal (rich). JSON output does not go through here."""

from __future__ import annotations

import shutil
from zoneinfo import ZoneInfo

from rich.console import Console
from rich.table import Table

from domain.items import ItemDetail
from domain.status import StatusView
from duban.dates import zh_date
from models.enums import Light, Status
from tasks_catalog.schema import Catalog
from tasks_catalog.sync import SyncReport

LIGHT_STYLE = {
    Light.GRAY: ("灰", "grey58"),
    Light.GREEN: ("绿", "green"),
    Light.YELLOW: ("黄", "yellow"),
    Light.RED: ("红", "red"),
    Light.DONE_LATE: ("逾期完成", "magenta"),
}

STATUS_WORD = {
    Status.NOT_STARTED: "未开始",
    Status.WAITING: "等待前置",
    Status.ON_TRACK: "正常推进",
    Status.DUE_SOON: "临近到期",
    Status.OVERDUE: "逾期",
    Status.DONE_ON_TIME: "按期完成",
    Status.DONE_LATE: "逾期完成",
}

LEGEND = (
    "灯色说明: 灰=未到办理期或等待前置事项 · 绿=正常推进或按期完成 · "
    "黄={n}个工作日内到期 · 红=已逾期未完成 · 逾期完成=超期后完成(单列统计)"
)


def make_console(*, stderr: bool = False) -> Console:
    """A console that stays readable when piped: 140 columns unless the terminal says otherwise."""
    console = Console(stderr=stderr, highlight=False)
    if not console.is_terminal:
        console.width = max(shutil.get_terminal_size((140, 40)).columns, 140)
    return console


def count(n: int, word: str) -> str:
    """``count(1, "task")`` → ``1 task``; ``count(3, "task")`` → ``3 tasks``."""
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def catalog_summary(catalog: Catalog, items: int) -> str:
    """The one-line summary of a valid catalogue."""
    milestones = sum(len(t.milestones) for t in catalog.tasks)
    parts = [
        count(len(catalog.tasks), "task"),
        count(milestones, "milestone"),
        count(items, "work item"),
        count(len(catalog.units), "unit"),
        count(len(catalog.indicators), "indicator"),
    ]
    return f"catalogue {catalog.plan.id} is valid: " + ", ".join(parts)


def sync_report(console: Console, report: SyncReport, limit: int | None = 20) -> None:
    """What a sync added, changed and retired; catalogue-level lines first, then item lines."""
    if report.unchanged:
        console.print(
            f"sync {report.plan_id}: the database already matches the catalogue; nothing changed"
        )
        return
    for label, counter in (
        ("added", report.added),
        ("changed", report.changed),
        ("retired", report.retired),
        ("restored", report.restored),
    ):
        if counter:
            parts = ", ".join(f"{n} {kind}" for kind, n in counter.items())
            console.print(f"sync {report.plan_id}: {label} {parts}")
    for lines in (report.details, report.item_details):
        shown = lines if limit is None else lines[:limit]
        for line in shown:
            console.print(f"  {line}", markup=False)
        if len(shown) < len(lines):
            console.print(
                f"  … and {len(lines) - len(shown)} more like these (--verbose lists all)"
            )


def _light_cell(light: Light, n: int) -> str:
    style = LIGHT_STYLE[light][1]
    return f"[{style}]{n}[/]" if n else "[grey42]·[/]"


def status(console: Console, view: StatusView, item_limit: int | None) -> None:
    """The task table, then the items when filtered."""
    console.print(f"[bold]{view.plan_title}[/] — 截至 {zh_date(view.as_of)} ({view.as_of})")
    table = Table(show_lines=False, header_style="bold")
    table.add_column("任务")
    table.add_column("重点任务")
    table.add_column("牵头单位")
    table.add_column("事项", justify="right")
    for light in Light:
        table.add_column(LIGHT_STYLE[light][0], justify="right")
    for t in view.tasks:
        if view.filters.get("unit") and not t.items:
            continue  # a unit's picture lists only the tasks it has items in
        table.add_row(
            t.task,
            t.title,
            t.lead_name,
            str(t.items),
            *(_light_cell(light, t.lights[light]) for light in Light),
        )
    table.add_section()
    table.add_row(
        "",
        "合计",
        "",
        str(sum(view.summary.values())),
        *(_light_cell(light, view.summary[light]) for light in Light),
    )
    console.print(table)
    console.print(LEGEND.format(n=view.yellow_workdays), style="grey62")
    for warning in view.warnings:
        console.print(f"[yellow]warning:[/] {warning}")
    if view.items and view.filters:
        items(console, view, item_limit)


def _workdays(left: int) -> str:
    return f"逾期{-left}" if left < 0 else f"剩{left}"


def items(console: Console, view: StatusView, limit: int | None) -> None:
    """A table of work items with their lights."""
    shown = view.items if limit is None else view.items[:limit]
    table = Table(header_style="bold")
    for name, justify in (
        ("ID", "right"),
        ("事项", "left"),
        ("单位", "left"),
        ("到期", "left"),
        ("状态", "left"),
        ("灯", "left"),
        ("工作日", "right"),
    ):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for i in shown:
        style = LIGHT_STYLE[i.light][1]
        word = STATUS_WORD[i.status]
        table.add_row(
            str(i.id),
            f"{i.milestone} {i.title}",
            i.unit_name,
            str(i.due),
            i.state.value,
            f"[{style}]{word}[/]",
            _workdays(i.workdays_left),
        )
    console.print(table)
    if len(shown) < len(view.items):
        console.print(f"… {len(view.items) - len(shown)} more items (use --limit 0 or --json)")


def item_detail(console: Console, d: ItemDetail) -> None:
    """One item, its prerequisites and its record, times in the plan's timezone."""
    zone = ZoneInfo(d.timezone)
    console.print(f"[bold]#{d.id} {d.milestone} {d.title}[/] — {d.unit_name} ({d.unit})")
    console.print(f"key {d.key} · task {d.task} · state {d.state.value} · {d.percent}%")
    moved = f" (originally {d.original_due})" if d.original_due != d.due else ""
    console.print(f"window {d.start} → due {d.due}{moved}")
    if d.deliverable:
        console.print(f"deliverable: {d.deliverable}", markup=False)
    if d.evidence:
        console.print("evidence required: " + "、".join(d.evidence), markup=False)
    if d.prerequisites:
        console.print("waits for:")
        for p in d.prerequisites:
            console.print(
                f"  #{p.id} {p.key} {p.title} — {p.unit_name}, due {p.due}, {p.state.value}",
                markup=False,
            )
    if d.dependents:
        console.print(f"{d.dependents} other item(s) wait for this one")
    console.print(f"record ({d.timezone}):")
    for e in d.events:
        reason = f" — {e.reason}" if e.reason else ""
        console.print(
            f"  {e.at.astimezone(zone):%Y-%m-%d %H:%M} {e.summary} by {e.actor}{reason}",
            markup=False,
        )
