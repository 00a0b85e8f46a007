"""How results look in a terminal (rich). JSON output does not go through here."""

from __future__ import annotations

from collections import Counter
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from config.errors import where_of
from domain.rules.workdays import zh_date
from models.enums import Light, Status

if TYPE_CHECKING:
    from domain.queries.item_detail import ItemDetail
    from domain.rules.indicators import IndicatorValue
    from domain.rules.ladder import PlannedNotice
    from domain.rules.status_views import CompletenessView, StatusView
    from domain.rules.sync_report import SyncReport
    from domain.services.delivery import DeliveryReport
    from domain.services.intake.inbox import FileOutcome
    from tasks_catalog.schema import Catalog

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
    Status.BEHIND_PACE: "进度滞后",
    Status.OVERDUE: "逾期",
    Status.DONE_ON_TIME: "按期完成",
    Status.DONE_LATE: "逾期完成",
}

LEGEND = (
    "灯色说明: 灰=未到办理期或等待前置事项 · 绿=正常推进或按期完成 · "
    "黄={n}个工作日内到期或进度滞后于序时进度 · 红=已逾期未完成 · 逾期完成=超期后完成(单列统计)"
)


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


STATE_WORDS = {
    "acknowledged": "签收",
    "in_progress": "推进中",
    "submitted": "申请办结",
    "blocked": "受阻",
    "returned": "退回",
    "closed": "销号",
}


def _moves(moves: Counter[str] | dict[str, int]) -> str:
    return "，".join(f"{STATE_WORDS.get(s, s)} {n}" for s, n in sorted(moves.items()))


def collect_report(
    console: Console, inbox: Path, outcomes: list[FileOutcome], *, per_file: bool = True
) -> None:
    """One line per file (or totals only), then every reason for each rejected file."""
    if not outcomes:
        console.print(f"收件箱 {inbox}：没有待处理的报送文件", markup=False)
        return
    landed = [o for o in outcomes if o.status == "landed"]
    rejected = [o for o in outcomes if o.status == "rejected"]
    duplicates = [o for o in outcomes if o.status == "duplicate"]
    for o in landed if per_file else []:
        assert o.landed is not None
        file_moves = _moves(o.landed.moves)
        console.print(
            f"  入库  {o.name}：{o.landed.unit_name}，进展 {o.landed.reports} 条"
            + (f"（{file_moves}）" if file_moves else "")
            + (f"，指标值 {o.landed.measures} 个" if o.landed.measures else "")
            + (f"；未签名，由 {o.vouched_by} 核实导入" if o.vouched_by else ""),
            markup=False,
        )
    for o in duplicates:
        console.print(f"  重复  {o.name}：与 {o.first_landed}内容相同，不再重复入库", markup=False)
    for o in rejected:
        console.print(
            f"  [red]退回[/]  {escape(o.name)}：{len(o.problems)} 个问题，均未入库；"
            f"说明见 {escape(str(o.error_report))}"
        )
        for p in o.problems[:10]:
            console.print(f"      {where_of(p)}：{p.message}", markup=False)
        if len(o.problems) > 10:
            console.print(f"      …… 另有 {len(o.problems) - 10} 个问题，见说明文件")
    reports = sum(o.landed.reports for o in landed if o.landed)
    measures = sum(o.landed.measures for o in landed if o.landed)
    moves: Counter[str] = Counter()
    for o in landed:
        moves.update(o.landed.moves if o.landed else {})
    moved = _moves(moves)
    console.print(
        f"  {inbox.name}：入库 {len(landed)} 个文件（进展 {reports} 条"
        + (f"；{moved}" if moved else "")
        + (f"；指标值 {measures} 个" if measures else "")
        + f"），退回 {len(rejected)} 个，重复 {len(duplicates)} 个",
        markup=False,
    )


def collect_json(outcomes: list[FileOutcome]) -> dict[str, object]:
    """The documented shape of `duban collect --json`."""
    files = []
    for o in outcomes:
        entry: dict[str, object] = {
            "file": o.name,
            "sha256": o.sha256,
            "status": o.status,
            "kept_at": None if o.kept_at is None else str(o.kept_at),
        }
        if o.vouched_by is not None:
            entry["vouched_by"] = o.vouched_by
        if o.landed is not None:
            entry |= {
                "unit": o.landed.unit,
                "reports": o.landed.reports,
                "moves": dict(o.landed.moves),
                "measures": o.landed.measures,
            }
        if o.problems:
            entry["problems"] = [
                {"row": p.line, "column": p.field, "message": p.message} for p in o.problems
            ]
            entry["error_report"] = str(o.error_report)
        files.append(entry)
    return {"files": files}


def _fmt(value: float | None) -> str:
    return "—" if value is None else f"{value:,.1f}"


def indicators(
    console: Console, as_of: date, values: list[IndicatorValue], *, townships: bool = False
) -> None:
    """The indicator table, optionally with a table of township values per indicator."""
    table = Table(header_style="bold", title=f"指标完成情况 — 截至 {zh_date(as_of)}")
    for name, justify in (
        ("指标", "left"),
        ("当前值", "right"),
        ("目标", "right"),
        ("差距", "right"),
        ("已报/应报", "right"),
        ("灯", "left"),
    ):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for v in values:
        word, style = LIGHT_STYLE[v.light]
        target = f"{v.target_op} {v.target:g}{v.unit_of_measure}" + (
            "(力争)" if v.aspirational else ""
        )
        table.add_row(
            v.name,
            f"{_fmt(v.value)}{v.unit_of_measure if v.value is not None else ''}",
            target,
            _fmt(v.gap),
            f"{v.units_reported}/{v.units_in_scope}",
            f"[{style}]{word}[/]",
        )
    console.print(table)
    if townships:
        for v in values:
            towns = Table(header_style="bold", title=f"{v.name} — 分乡镇")
            towns.add_column("乡镇")
            towns.add_column("值", justify="right")
            towns.add_column("已报/应报", justify="right")
            for t in v.townships:
                towns.add_row(t.name, _fmt(t.value), f"{t.units_reported}/{t.units_in_scope}")
            console.print(towns)
    console.print(
        "灯色: 绿=已达标 · 黄=未达标(未到期限) · 红=到期未达标 · 灰=尚无数据。"
        "数值为分项之和之比(非各单位比值的平均)。",
        style="grey62",
    )


def completeness(console: Console, view: CompletenessView, limit: int = 15) -> None:
    """Who owes this cycle's report and has not sent it; the least timely units."""
    c = view.cycle
    console.print(
        f"[bold]报送情况[/] 本期 {c.start}–{c.end} (截止 {c.due}): 应报 {view.owed} "
        f"个单位, 已报 {view.sent}, 未报 {len(view.missing)}"
    )
    if view.missing:
        shown = "、".join(name for _, name in view.missing[:limit])
        more = f" 等{len(view.missing)}个" if len(view.missing) > limit else ""
        console.print(f"  未报: {shown}{more}", markup=False)
    laggards = sorted(
        (u for u in view.units if u.timeliness is not None and u.owed >= 2),
        key=lambda u: (u.timeliness, u.unit),
    )[:5]
    if laggards:
        parts = [f"{u.unit_name} {u.on_time}/{u.owed}" for u in laggards if u.on_time < u.owed]
        if parts:
            console.print(
                f"  按时报送率最低 ({view.window_start}–{view.window_end}): " + "、".join(parts),
                markup=False,
            )


def urgent_items(console: Console, view: StatusView, limit: int = 10) -> None:
    """The items due soon, then the overdue ones, up to ``limit``."""
    due_soon = [i for i in view.items if i.light == Light.YELLOW]
    overdue = [i for i in view.items if i.light == Light.RED]
    urgent = (due_soon + overdue)[:limit]
    if urgent:
        console.print(
            f"   {len(due_soon)} items due soon and {len(overdue)} overdue; "
            f"the first {len(urgent)}:"
        )
        items(console, view.model_copy(update={"items": urgent}), limit=None)


def escalation_json(
    day: date, due: list[PlannedNotice], new: int, report: DeliveryReport
) -> dict[str, object]:
    """The documented shape of `duban escalate --json`."""
    return {
        "as_of": day.isoformat(),
        "due": [
            {
                "key": n.dedupe_key,
                "kind": n.kind,
                "item": n.item_id,
                "level": n.level,
                "rule": n.rule,
                "roles": n.roles,
            }
            for n in due
        ],
        "new_in_outbox": new,
        "quiet_hours": report.quiet,
        "sent": [
            {"message": m.id, "recipient": m.recipient, "channel": m.channel, "subject": m.subject}
            for m in report.sent
        ],
        "failed": [
            {"message": m.id, "recipient": m.recipient, "error": m.error} for m in report.failed
        ],
        "capped": report.capped,
        "dry_run": False,
    }


def escalation(console: Console, result: dict[str, Any], limit: int | None = 20) -> None:
    """What the ladder called for and what was (or, in a dry run, would be) sent."""
    prefix = "dry run (nothing written or sent): " if result["dry_run"] else ""
    due = result["due"]
    levels = Counter(n["level"] for n in due)
    console.print(
        f"{prefix}escalation for {result['as_of']}: {len(due)} notices due ("
        + ", ".join(f"{n} {lv}" for lv, n in sorted(levels.items()))
        + "), "
        + (
            f"{result['new_in_outbox']} would be new in the outbox"
            if result["dry_run"]
            else f"{result['new_in_outbox']} new in the outbox"
        )
    )
    if result["dry_run"]:
        for n in due if limit is None else due[:limit]:
            console.print(
                f"  why: item {n['item']}: {n['rule']} → {', '.join(n['roles'])}"
                if n["item"]
                else f"  why: {n['rule']} → {', '.join(n['roles'])}",
                markup=False,
            )
    if result["quiet_hours"]:
        console.print("  outside delivery hours or not a working day: nothing sent now")
    verb = "would send" if result["dry_run"] else "sent"
    sent = result["sent"]
    for m in sent if limit is None else sent[:limit]:
        console.print(f"  {verb} #{m['message']} to {m['recipient']}: {m['subject']}", markup=False)
    if limit is not None and len(sent) > limit:
        console.print(
            f"  … and {len(sent) - limit} more messages; `duban notices` explains each notice"
        )
    for m in result["failed"]:
        console.print(
            f"  [red]failed[/] #{m['message']} to {m['recipient']}: {m['error']} "
            "(kept pending, retried later)"
        )
    if result["capped"]:
        console.print(f"  daily cap reached, waiting for tomorrow: {', '.join(result['capped'])}")


def notices(
    console: Console, rows: list[dict[str, Any]], item: int | None, why: str | None = None
) -> None:
    """The notices with their rule and deliveries; or why there is none."""
    if not rows:
        console.print("no notices" + (f" for item {item}: {why}" if item and why else ""))
        return
    for n in rows:
        console.print(
            f"#{n['id']} {n['kind']} {n['level']} ({n['level_name']}) "
            f"{'item ' + str(n['item']) if n['item'] else 'unit report'} due {n['due']} · "
            f"{n['status']} · attempts {n['attempts']}",
            markup=False,
        )
        console.print(
            f"    why: {n['rule']}; to {', '.join(n['roles'])}; planned {n['planned_on']}",
            markup=False,
        )
        for d in n["deliveries"]:
            err = f" — {d['error']}" if d["error"] else ""
            console.print(
                f"    → {d['recipient']} via {d['channel']}: {d['status']}{err}", markup=False
            )
        if n["error"]:
            console.print(f"    last error: {n['error']}", markup=False)
