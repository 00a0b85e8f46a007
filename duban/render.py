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
from domain.rules.glossary import (
    APPROVALS,
    CATALOG_KINDS,
    CHANNELS,
    EDITION_NAMES,
    INDICATOR_LIGHT_MEANINGS,
    ITEM_STATES,
    LIGHT_MEANINGS,
    LIGHTS,
    MOVES,
    NOTICE_KINDS,
    ROLES,
    SENDING_STATES,
    STATUSES,
    actor_name,
    word,
    zh_date,
)
from duban.render_carry import carried_history
from models.enums import Edition, ItemState, Light, Status

if TYPE_CHECKING:
    from domain.queries.item_detail import ItemDetail
    from domain.rules.indicators import IndicatorValue
    from domain.rules.ladder import PlannedNotice
    from domain.rules.status_views import CompletenessView, StatusView
    from domain.rules.sync_report import SyncReport
    from domain.services.delivery import DeliveryReport
    from domain.services.intake.inbox import FileOutcome
    from tasks_catalog.schema import Catalog

LIGHT_COLOURS = {
    Light.GRAY: "grey58",
    Light.GREEN: "green",
    Light.YELLOW: "yellow",
    Light.RED: "red",
    Light.DONE_LATE: "magenta",
}
LIGHT_STYLE = {light: (LIGHTS[light], LIGHT_COLOURS[light]) for light in Light}
"""Each light's short name and its terminal colour."""

LEGEND = "灯色说明：" + "；".join(
    f"{LIGHTS[light]}={LIGHT_MEANINGS[light]}"
    for light in (Light.GRAY, Light.GREEN, Light.YELLOW, Light.RED, Light.DONE_LATE)
)
INDICATOR_LEGEND = (
    "灯色："
    + "；".join(f"{LIGHTS[light]}={meaning}" for light, meaning in INDICATOR_LIGHT_MEANINGS.items())
    + "。数值为分项之和之比（非各单位比值的平均）。"
)


def catalog_summary(catalog: Catalog, items: int) -> str:
    """The one-line summary of a valid catalogue."""
    milestones = sum(len(t.milestones) for t in catalog.tasks)
    return (
        f"目录 {catalog.plan.id} 校验通过：重点任务 {len(catalog.tasks)} 项，节点 {milestones} 个，"
        f"事项 {items} 项，单位 {len(catalog.units)} 个，指标 {len(catalog.indicators)} 项"
    )


def sync_report(console: Console, report: SyncReport, limit: int | None = 20) -> None:
    """What a sync added, changed and retired; catalogue-level lines first, then item lines."""
    if report.unchanged:
        console.print(f"同步 {report.plan_id}：数据库已与目录一致，没有变化")
        return
    for label, counter in (
        ("新增", report.added),
        ("修改", report.changed),
        ("撤销", report.retired),
        ("恢复", report.restored),
    ):
        if counter:
            parts = "，".join(f"{word(CATALOG_KINDS, kind)} {n}" for kind, n in counter.items())
            console.print(f"同步 {report.plan_id}：{label} {parts}")
    for lines in (report.details, report.item_details):
        shown = lines if limit is None else lines[:limit]
        for line in shown:
            console.print(f"  {line}", markup=False)
        if len(shown) < len(lines):
            console.print(f"  …… 另有 {len(lines) - len(shown)} 条同类变化（--verbose 列出全部）")


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
        console.print(f"[yellow]注意：[/]{warning}")
    if view.items and view.filters:
        items(console, view, item_limit)


DONE = (Status.DONE_ON_TIME, Status.DONE_LATE)
"""An item done needs no count of working days left or overdue."""


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
        status_word = STATUSES[i.status]
        table.add_row(
            str(i.id),
            f"{i.milestone} {i.title}",
            i.unit_name,
            str(i.due),
            ITEM_STATES[i.state],
            f"[{style}]{status_word}[/]",
            "—" if i.status in DONE else _workdays(i.workdays_left),
        )
    console.print(table)
    if len(shown) < len(view.items):
        console.print(f"…… 另有 {len(view.items) - len(shown)} 项（--limit 0 或 --json 列出全部）")


def item_detail(console: Console, d: ItemDetail) -> None:
    """One item, its prerequisites and its record, times in the plan's timezone."""
    zone = ZoneInfo(d.timezone)
    console.print(f"[bold]#{d.id} {d.milestone} {d.title}[/] — {d.unit_name} ({d.unit})")
    console.print(
        f"编号 {d.key} · 重点任务 {d.task} · 状态 {ITEM_STATES[d.state]} · 进度 {d.percent}%"
    )
    moved = f"（原定 {zh_date(d.original_due)}）" if d.original_due != d.due else ""
    console.print(f"办理期 {zh_date(d.start)} 至 {zh_date(d.due)}{moved}")
    if d.deliverable:
        console.print(f"成果：{d.deliverable}", markup=False)
    if d.evidence:
        console.print("办结需佐证：" + "、".join(d.evidence), markup=False)
    if d.prerequisites:
        console.print("前置事项：")
        for p in d.prerequisites:
            console.print(
                f"  #{p.id} {p.key} {p.title} — {p.unit_name}，{zh_date(p.due)}到期，"
                f"{ITEM_STATES[p.state]}",
                markup=False,
            )
    if d.dependents:
        console.print(f"另有 {d.dependents} 项事项以本事项为前置")
    carried_history(console, d.predecessors)  # 结转: the old plan's items it continues
    console.print(f"办理记录（{d.timezone}）：")
    for e in d.events:
        reason = f" — {e.reason}" if e.reason else ""
        console.print(
            f"  {e.at.astimezone(zone):%Y-%m-%d %H:%M} {e.summary}，{actor_name(e.actor)}{reason}",
            markup=False,
        )


def _moves(moves: Counter[str] | dict[str, int]) -> str:
    return "，".join(f"{MOVES[ItemState(s)]} {n}" for s, n in sorted(moves.items()))


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
    for o in outcomes:
        if o.status == "elsewhere":
            console.print(
                f"  留待  {o.name}：属于规划 {o.other_plan}，留在收件箱由该规划收集", markup=False
            )
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
    console.print(INDICATOR_LEGEND, style="grey62")


def completeness(console: Console, view: CompletenessView, limit: int = 15) -> None:
    """Who owes this cycle's report and has not sent it; the least timely units."""
    c = view.cycle
    if view.ended_on is not None:
        console.print(
            f"规划已期满，收尾期于{zh_date(view.ended_on)}结束：此后不再要求报送，"
            "以下是收尾期内最后一期的情况。",
            markup=False,
        )
    console.print(
        f"[bold]报送情况[/] 最近一期 {zh_date(c.start)}至{zh_date(c.end)}（{zh_date(c.due)}截止）："
        f"应报 {view.owed} 个单位，已报 {view.sent} 个（按时 {view.on_time} 个），"
        f"未报 {len(view.missing)} 个"
        + (f"；另有 {view.unasked} 个单位本期无应报事项，也报送了进展" if view.unasked else "")
    )
    if view.missing:
        shown = "、".join(name for _, name in view.missing[:limit])
        more = f" 等{len(view.missing)}个" if len(view.missing) > limit else ""
        console.print(f"  未报：{shown}{more}", markup=False)
    laggards = sorted(
        (u for u in view.units if u.timeliness is not None and u.owed >= 2),
        key=lambda u: (u.timeliness, u.unit),
    )[:5]
    if laggards:
        parts = [f"{u.unit_name} {u.on_time}/{u.owed}" for u in laggards if u.on_time < u.owed]
        if parts:
            console.print(
                f"  按时报送率最低的单位（{zh_date(view.window_start)}至"
                f"{zh_date(view.window_end)}，乡镇不含所辖村、社区）：" + "、".join(parts),
                markup=False,
            )


def urgent_items(console: Console, view: StatusView, limit: int = 10) -> None:
    """The items due soon, then the overdue ones, up to ``limit``."""
    due_soon = [i for i in view.items if i.light == Light.YELLOW]
    overdue = [i for i in view.items if i.light == Light.RED]
    urgent = (due_soon + overdue)[:limit]
    if urgent:
        console.print(
            f"   临近到期 {len(due_soon)} 项、逾期 {len(overdue)} 项；列出前 {len(urgent)} 项："
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
                "level_name": n.level_name,
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
    dry = bool(result["dry_run"])
    prefix = "试运行（不写入、不发送）：" if dry else ""
    due = result["due"]
    levels = Counter(n["level_name"] for n in due)
    console.print(
        f"{prefix}{zh_date(date.fromisoformat(result['as_of']))}应发提醒 {len(due)} 条"
        + ("（" + "，".join(f"{lv} {n}" for lv, n in sorted(levels.items())) + "）" if due else "")
        + "，"
        + ("将" if dry else "")
        + f"新写入待发队列 {result['new_in_outbox']} 条",
        markup=False,
    )
    if dry:
        for n in due if limit is None else due[:limit]:
            roles = "、".join(word(ROLES, r) for r in n["roles"])
            target = f"事项 {n['item']}：" if n["item"] else ""
            console.print(f"  依据：{target}{n['rule']} → {roles}", markup=False)
    if result["quiet_hours"]:
        console.print("  不在发送时段或非工作日：暂不发送")
    verb = "将发送" if dry else "已发送"
    sent = result["sent"]
    for m in sent if limit is None else sent[:limit]:
        console.print(f"  {verb} #{m['message']} 给 {m['recipient']}：{m['subject']}", markup=False)
    if limit is not None and len(sent) > limit:
        console.print(
            f"  …… 另有 {len(sent) - limit} 条消息；`duban notices` 逐条说明每条提醒", markup=False
        )
    for m in result["failed"]:
        console.print(
            f"  [red]发送失败[/] #{m['message']} 给 {escape(m['recipient'])}："
            f"{escape(m['error'] or '')}（保留待发，稍后重试）"
        )
    if result["capped"]:
        console.print(f"  已达每日上限，明天再发：{'、'.join(result['capped'])}", markup=False)


def notices(
    console: Console, rows: list[dict[str, Any]], item: int | None, why: str | None = None
) -> None:
    """The notices with their rule and deliveries; or why there is none."""
    if not rows:
        console.print("没有提醒" + (f"：事项 {item}，{why}" if item and why else ""), markup=False)
        return
    for n in rows:
        target = f"事项 {n['item']}" if n["item"] else "单位报送"
        console.print(
            f"#{n['id']} {word(NOTICE_KINDS, n['kind'])}·{n['level_name']}"
            f" {target}"
            + (f"，{zh_date(date.fromisoformat(n['due']))}到期" if n["due"] else "")
            + f" · {word(SENDING_STATES, n['status'])}"
            # a sent notice's messages are listed below; the tries count for the back-off
            + (f" · 已尝试 {n['attempts']} 次" if n["status"] != "sent" and n["attempts"] else ""),
            markup=False,
        )
        roles = "、".join(word(ROLES, r) for r in n["roles"])
        planned = zh_date(date.fromisoformat(n["planned_on"]))
        console.print(f"    依据：{n['rule']}；发给 {roles}；{planned}列入计划", markup=False)
        for d in n["deliveries"]:
            err = f" — {d['error']}" if d["error"] else ""
            console.print(
                f"    → {d['recipient']}，经{word(CHANNELS, d['channel'])}："
                f"{word(SENDING_STATES, d['status'])}{err}",
                markup=False,
            )
        if n["error"]:
            console.print(f"    最近一次错误：{n['error']}", markup=False)


def _mail_result(mail: dict[str, int]) -> str:
    if "unreachable" in mail:
        return "收信：邮箱无法读取，邮件留待下次"
    if "busy" in mail:
        return "收信：另一个收信任务正在运行，本次跳过"
    return (
        f"收信：处理 {mail['answered']} 封，未能处理 {mail['kept']} 封，"
        f"此前已处理 {mail['repeated']} 封，回复 {mail['replies_sent']} 封"
    )


def run_result(result: Any) -> str:
    """A flow run's result: :func:`flow_result`, or for the daily cycle of every plan a line
    per plan, then the one delivery."""
    if not (isinstance(result, dict) and "plans" in result):
        return flow_result(result)
    lines = [f"规划 {pid}：{flow_result(one)}" for pid, one in result["plans"].items()]
    delivery = result.get("delivery")
    return "\n".join([*lines, *([flow_result({"delivery": delivery})] if delivery else [])])


def flow_result(result: Any) -> str:
    """A flow run's result (the dict of counts its run returns) as one Chinese line; other
    results (a string, say) as they are."""
    if not isinstance(result, dict):
        return str(result)
    parts: list[str] = []
    if "as_of" in result:
        parts.append(f"{zh_date(date.fromisoformat(str(result['as_of'])))}")
    if "skipped" in result:
        parts.append(f"未运行：{result['skipped']}")
    if mail := result.get("mail"):
        parts.append(_mail_result(mail))
    if collected := result.get("collected"):
        parts.append(
            f"收集报送：入库 {collected['landed']} 个文件，退回 {collected['rejected']} 个，"
            f"重复 {collected['duplicate']} 个"
        )
    if lights := result.get("lights"):
        counts = "，".join(f"{LIGHTS[light]} {lights.get(light.value, 0)}" for light in Light)
        parts.append(f"亮灯：{counts}")
    if notices := result.get("notices"):
        partitions = f"（{notices['partitions']} 个分区）" if "partitions" in notices else ""
        parts.append(f"新写入待发提醒 {notices['new']} 条{partitions}")
    if delivery := result.get("delivery"):
        parts.append(
            f"发送：成功 {delivery['sent']} 份，失败 {delivery['failed']} 份"
            + ("，不在发送时段" if delivery.get("quiet") else "")
        )
    if queues := result.get("queues"):
        from domain.rules.desk import QUEUE_TITLES, Queue  # noqa: PLC0415 - not for `status`

        waiting = "，".join(f"{QUEUE_TITLES[Queue(q)]} {n}" for q, n in queues.items())
        parts.append(f"督办待办：{waiting}")
    if "week" in result or "period" in result:
        name = EDITION_NAMES[Edition(result.get("edition", Edition.WEEK))]
        period = result.get("period") or result["week"]
        parts.append(f"{name} {period} 第{result['number']}期，发送 {result['sent']} 份")
    if "approval" in result:
        held = "，不在发送时段，下一个工作日随每日流程发送" if result.get("held") else ""
        parts.append(f"审核：{word(APPROVALS, str(result['approval']))}{held}")
    if "changes" in result:
        parts.append(
            f"目录同步 {result['plan']}："
            + ("无变化" if result["unchanged"] else f"{result['changes']} 处变化")
        )
    known = {"as_of", "skipped", "mail", "collected", "lights", "notices", "delivery", "queues"}
    known |= {"week", "period", "edition"}
    known.add("number")
    known |= {"sent", "approval", "held", "plan", "unchanged", "changes"}
    parts += [f"{key}={value}" for key, value in result.items() if key not in known]
    return "；".join(parts)
