"""What a coordinator sees in the Prefect UI, from the status view (pure functions, no Prefect).

The flows publish these as artifacts: a markdown dashboard of the plan (each key task with its
light counts), a table of overdue items with the escalation level reached, a table of units that
have not sent this cycle's report, the overall completion, and per key task a page of its
milestones and the items that need attention.
"""

from __future__ import annotations

from datetime import date

from domain.rules.desk import DeskUnit, short
from domain.rules.glossary import LIGHTS
from domain.rules.markdown import md_escape
from domain.rules.status_views import CompletenessView, ItemStatus, StatusView, TaskStatus
from models.enums import Light, Status

LIGHT_COLUMNS = tuple(
    (light, LIGHTS[light])
    for light in (Light.GREEN, Light.YELLOW, Light.RED, Light.DONE_LATE, Light.GRAY)
)
DONE = (Status.DONE_ON_TIME, Status.DONE_LATE)
ATTENTION = frozenset({Status.OVERDUE, Status.DUE_SOON, Status.BEHIND_PACE})
"""The statuses of red and yellow items: what a key task's page lists."""
ATTENTION_ROWS = 50
OVERDUE_ROWS = 1000  # the coordinator's overdue table: the longest overdue, whatever the size
ITEM_CHARS = 8  # an item's title in the overdue table (the item number leads to the rest)
MISSING_ROWS = 1000  # the missing-reports table: the first units by code, whatever the size


def completion(view: StatusView) -> float:
    """Items done (on time or late) as a percent of all items of the plan."""
    total = sum(view.statuses.values())
    done = sum(view.statuses[s] for s in DONE)
    return round(100 * done / total, 1) if total else 0.0


def completion_page(view: StatusView) -> str:
    """The plan's completion to one decimal (1.6%, where Prefect's progress artifact would show
    1%), with the counts it comes from and a bar of twenty cells."""
    total = sum(view.statuses.values())
    late = view.statuses[Status.DONE_LATE]
    done = sum(view.statuses[s] for s in DONE)
    percent = completion(view)
    filled = round(percent / 5)
    return (
        f"# 总体完成 {percent}%\n\n"
        f"`{'█' * filled}{'░' * (20 - filled)}` {percent}%\n\n"
        f"截至 {view.as_of.isoformat()}：共 {total} 项工作事项，已完成 {done} 项"
        f"（按期完成 {done - late}，逾期完成 {late}）。\n"
    )


def plan_dashboard(view: StatusView, completeness: CompletenessView | None = None) -> str:
    """The plan at a glance: totals, then one row per key task."""
    lines = [
        f"# {view.plan_title}",
        "",
        f"截至 {view.as_of.isoformat()}：共 {sum(view.summary.values())} 项工作事项，"
        f"完成 {completion(view)}%；"
        + "，".join(f"{word} {view.summary[light]}" for light, word in LIGHT_COLUMNS)
        + "。",
    ]
    if completeness is not None:
        c = completeness
        lines.append(
            f"本期报送（截止 {c.cycle.due.isoformat()}）：应报 {c.owed} 个单位，"
            f"已报 {c.sent}，未报 {c.owed - c.sent}。"
        )
    lines += [
        "",
        "| 任务 | 牵头单位 | 事项 | " + " | ".join(w for _, w in LIGHT_COLUMNS) + " |",
        "|---|---|---:|" + "---:|" * len(LIGHT_COLUMNS),
    ]
    for t in view.tasks:
        counts = " | ".join(str(t.lights[light]) for light, _ in LIGHT_COLUMNS)
        lines.append(
            f"| {t.task} {md_escape(t.title)} | {md_escape(t.lead_name)} | {t.items} | {counts} |"
        )
    lines += [
        "",
        "灯色：绿=正常推进或按期完成，黄=临近到期或进度滞后，红=逾期未完成，灰=未到办理期或等待前置事项。",
    ]
    return "\n".join(lines) + "\n"


def _unit(code: str, name: str, cards: dict[str, DeskUnit]) -> DeskUnit:
    """The unit's card, or a bare one (no township, no contact) when none was looked up."""
    return cards.get(code) or DeskUnit(
        code=code, name=name, township="—", township_code="", contact=None, phone=None
    )


def _contact_cells(u: DeskUnit) -> dict[str, str]:
    return {"联系人": " ".join(p for p in (u.contact, u.phone) if p) or "—"}


def overdue_table(
    items: list[ItemStatus], levels: dict[int, str], cards: dict[str, DeskUnit] | None = None
) -> list[dict[str, str | int]]:
    """Every overdue item with its unit's township and contact (``cards`` by unit code): one
    township's units together, township by township, each unit's most overdue first. The
    item's title comes last, cut to :data:`ITEM_CHARS` characters: Prefect's table keeps each
    cell on one line and has about 840 px beside its side panel in a 1,400 px window."""
    cards = cards or {}
    overdue = sorted(
        (i for i in items if i.status == Status.OVERDUE),
        key=lambda i: (
            _unit(i.unit, i.unit_name, cards).order,
            i.workdays_left,
            i.task,
            i.milestone,
        ),
    )
    return [
        {
            "乡镇": (u := _unit(i.unit, i.unit_name, cards)).township,
            "责任单位": i.unit_name,
            **_contact_cells(u),
            "事项编号": i.id,
            "逾期工作日": -i.workdays_left,
            "督办层级": levels.get(i.id, "—"),
            "事项": f"{i.milestone} {short(i.title, ITEM_CHARS)}",
        }
        for i in overdue
    ]


def missing_reports_table(
    view: CompletenessView, cards: dict[str, DeskUnit] | None = None
) -> list[dict[str, str]]:
    """Units that owe this cycle's report and have not sent it, with township and contact,
    township by township."""
    units = sorted((_unit(code, name, cards or {}) for code, name in view.missing), key=_order)
    return [
        {
            "乡镇": u.township,
            "单位": u.name,
            **_contact_cells(u),
            "单位编码": u.code,
            "本期截止": view.cycle.due.isoformat(),
        }
        for u in units
    ]


def _order(u: DeskUnit) -> tuple[str, str]:
    return u.order


def task_page(
    task: TaskStatus,
    milestones: list[tuple[str, str, dict[Light, int]]],
    attention_items: list[ItemStatus],
    levels: dict[int, str],
    as_of: date,
) -> str:
    """One key task: its milestones with light counts, then the items that need attention
    (red and yellow, most urgent first)."""
    lines = [
        f"# {task.task} {task.title}",
        "",
        f"牵头单位：{task.lead_name}；截至 {as_of.isoformat()} 共 {task.items} 项事项。",
        "",
        "| 节点 | 事项 | " + " | ".join(w for _, w in LIGHT_COLUMNS) + " |",
        "|---|---:|" + "---:|" * len(LIGHT_COLUMNS),
    ]
    for code, title, counts in milestones:
        cells = " | ".join(str(counts[light]) for light, _ in LIGHT_COLUMNS)
        lines.append(f"| {code} {md_escape(title)} | {sum(counts.values())} | {cells} |")
    attention = sorted(
        (i for i in attention_items if i.light in (Light.RED, Light.YELLOW)),
        key=lambda i: (i.workdays_left, i.milestone, i.unit),
    )
    if attention:
        lines += [
            "",
            "## 需关注事项（红灯、黄灯）",
            "",
            "| 事项编号 | 节点 | 责任单位 | 到期日 | 状态 | 督办层级 |",
            "|---:|---|---|---|---|---|",
        ]
        for i in attention[:ATTENTION_ROWS]:
            state = (
                f"逾期{-i.workdays_left}个工作日"
                if i.workdays_left < 0
                else (
                    "进度滞后" if i.status == Status.BEHIND_PACE else f"剩{i.workdays_left}个工作日"
                )
            )
            lines.append(
                f"| {i.id} | {i.milestone} | {md_escape(i.unit_name)} | {i.due.isoformat()} | "
                f"{state} | {levels.get(i.id, '—')} |"
            )
        total = max(len(attention), task.lights[Light.RED] + task.lights[Light.YELLOW])
        if total > ATTENTION_ROWS:
            more = total - ATTENTION_ROWS
            lines.append(f"\n另有 {more} 项，见 `duban status --task {task.task}`。")
    return "\n".join(lines) + "\n"
