"""The briefing's wording and order, once for every format.

:func:`sections` turns the view model into headed sections of paragraphs, tables, lists and
charts, with every Chinese sentence written here; the Markdown and HTML templates and the Word
writer only lay these blocks out. Text from units stays plain text here: each format escapes it.
:mod:`domain.rules.briefing.printed` arranges them as printed.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

from domain.rules.briefing.blocks import (
    Block,
    ChartBlock,
    ListBlock,
    Para,
    Section,
    Subheading,
    TableBlock,
)
from domain.rules.briefing.model import Briefing, UnitRank, UnitRankings
from domain.rules.glossary import LIGHT_NAMES
from models.enums import Light

LIGHT_WORD = LIGHT_NAMES
NUMERALS = "一二三四五六七八九十"


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}%"


def month_day(day: date, year: int | None = None) -> str:
    """12月31日 when the date is in ``year`` (the briefing's), else 2022年3月31日."""
    if year is not None and day.year != year:
        return f"{day.year}年{day.month}月{day.day}日"
    return f"{day.month}月{day.day}日"


def overview(view: Briefing) -> list[Block]:
    o, m = view.overview, view.masthead
    rate = (
        f"截至目前到期应完成事项{o.due_to_date}项，已完成{o.due_done}项，"
        f"按期完成率{_pct(o.on_time_rate)}。"
        if o.due_to_date
        else "截至目前尚无到期事项。"
    )
    sentence = (
        f"《{m.plan_title}》共分解工作事项{o.total}项。截至{m.issued_on_zh}，"
        f"已进入办理期的{o.started}项中：已完成{o.done.count}项，占{_pct(o.done.percent)}"
        + (f"（其中逾期完成{o.done_late}项）" if o.done_late else "")
        + f"；正常推进{o.on_track.count}项，占{_pct(o.on_track.percent)}"
        + (f"（其中{o.due_soon}项临近到期）" if o.due_soon else "")
        + f"；进度滞后{o.behind_pace.count}项，占{_pct(o.behind_pace.percent)}"
        + f"；逾期未完成{o.overdue.count}项，占{_pct(o.overdue.percent)}。"
        + f"另有{o.not_started.count}项尚未启动（未到办理期"
        + (f"，或等待前置事项完成（{o.waiting}项）" if o.waiting else "")
        + "）。"
    )
    return [Subheading("（一）总体情况"), Para(rate + sentence), *changes(view)]


def changes(view: Briefing) -> list[Block]:
    c, m = view.changes, view.masthead
    blocks: list[Block] = [
        Subheading(f"（二）与{m.last_period}相比（{month_day(c.previous_as_of, view.as_of.year)}）")
    ]
    moves = "、".join(f"{LIGHT_WORD[x.before]}转{LIGHT_WORD[x.after]}{x.count}项" for x in c.lights)
    blocks.append(
        Para(
            f"{m.this_period}新增逾期事项{c.newly_overdue}项，新完成事项{c.newly_done}项"
            + (f"，经批准延期{c.extended}项" if c.extended else "")
            + "。"
            + (f"灯色变化：{moves}。" if moves else f"各事项灯色与{m.last_period}相同。")
        )
    )
    for label, items, total in (
        ("新增逾期：", c.newly_overdue_items, c.newly_overdue),
        ("新完成：", c.newly_done_items, c.newly_done),
    ):
        if items:
            listed = "；".join(
                f"{i.unit}“{i.title}”（{month_day(i.due, view.as_of.year)}到期）" for i in items
            )
            more = f"等{total}项" if total > len(items) else ""
            blocks.append(Para(listed + more + "。", lead=label))
    return blocks


def tasks(view: Briefing) -> list[Block]:
    rows = [
        [
            str(t.number),
            f"{t.code} {t.title}",
            t.lead,
            str(t.items),
            str(t.due_to_date),
            str(t.done),
            str(t.behind_pace + t.due_soon),
            str(t.overdue),
            LIGHT_WORD[t.light],
        ]
        for t in view.tasks
    ]
    red = sum(1 for t in view.tasks if t.light == Light.RED)
    yellow = sum(1 for t in view.tasks if t.light == Light.YELLOW)
    return [
        Para(
            f"{len(view.tasks)}项重点任务中，亮红灯{red}项、黄灯{yellow}项"
            "（任务内有逾期事项即亮红灯，有滞后或临期事项亮黄灯）。"
        ),
        TableBlock(
            headers=[
                "序号",
                "重点任务",
                "牵头单位",
                "事项数",
                "到期应完成",
                "已完成",
                "滞后或临期",
                "逾期",
                "灯色",
            ],
            rows=rows,
            lights=[t.light for t in view.tasks],
            light_column=8,
            numeric=frozenset({0, 3, 4, 5, 6, 7}),
            widths=(0.8, 5.2, 2.4, 0.9, 1.0, 0.9, 1.0, 0.8, 1.1),
            note="已完成含提前完成的事项；滞后或临期指进度落后序时进度或临近到期的事项。",
        ),
        ChartBlock("tasks", "图1  重点任务推进情况"),
    ]


def overdue(view: Briefing) -> list[Block]:
    if not view.overdue_items:
        return [Para("截至本期，无逾期未完成事项。")]
    rows = [
        [
            str(n),
            f"{r.milestone} {r.title}",
            r.unit,
            month_day(r.due, view.as_of.year),
            str(r.workdays_overdue) if r.units == 1 else f"最长{r.workdays_overdue}",
            r.level,
            r.reason,
        ]
        for n, r in enumerate(view.overdue, 1)
    ]
    note = "逾期天数按工作日计算；督办层级为督办系统已发出的最高一级提醒。"
    if view.overdue_hidden:
        note += f"另有{view.overdue_hidden}项逾期事项未列出，详见督办系统。"
    return [
        Para(
            f"截至{view.masthead.issued_on_zh}，逾期未完成事项共{view.overdue_items}项，清单如下。"
        ),
        TableBlock(
            headers=["序号", "事项", "责任单位", "到期日", "逾期工作日", "督办层级", "单位说明"],
            rows=rows,
            numeric=frozenset({0, 4}),
            nowrap=frozenset({3, 5}),
            note=note,
            widths=(0.8, 3.6, 2.4, 1.6, 1.3, 1.3, 2.4),
        ),
    ]


def indicators(view: Briefing) -> list[Block]:
    if not view.indicators:
        return [Para("本规划未设置量化指标。")]
    rows = [
        [i.name, i.value, i.target, i.gap, i.reported, LIGHT_WORD[i.light]] for i in view.indicators
    ]
    legend = "；".join(f"{word}：{meaning}" for word, meaning in view.indicator_legend)
    return [
        TableBlock(
            headers=["指标", "当前值", "目标值", "差距", "已报/应报单位", "灯色"],
            rows=rows,
            lights=[i.light for i in view.indicators],
            light_column=5,
            numeric=frozenset({1, 3, 4}),
            widths=(4, 1.3, 1.7, 1, 1.4, 1.2),
            note="当前值为已报送单位分项数据之和的比值。指标灯色——" + legend + "。",
        ),
        ChartBlock("indicators", "图2  指标完成情况"),
    ]


def _names(ranks: list[UnitRank]) -> str:
    return "、".join(f"{r.name}（{_pct(r.rate)}）" for r in ranks) or "暂无"


def rankings(view: Briefing) -> list[Block]:
    if not view.rankings:
        return [Para("本期尚无可比较的单位。")]
    blocks: list[Block] = []
    for n, group in enumerate(view.rankings, 1):
        blocks.append(Subheading(f"（{NUMERALS[n - 1]}）{group.group}（{group.ranked}个参与比较）"))
        blocks.extend(_ranking_paras(group))
    blocks.append(
        Para(
            "按期完成率=按期完成事项÷到期应完成事项；报送及时率=按时报送次数÷应报送次数"
            "（近8个报送周期）。只列前列和靠后单位。"
        )
    )
    return blocks


def _ranking_paras(group: UnitRankings) -> list[Block]:
    return [
        Para(_names(group.completion_leaders), lead="按期完成率靠前："),
        Para(_names(group.completion_laggards), lead="按期完成率靠后："),
        Para(_names(group.timeliness_leaders), lead="报送及时率靠前："),
        Para(_names(group.timeliness_laggards), lead="报送及时率靠后："),
    ]


def problems(view: Briefing) -> list[Block]:
    if not view.problems:
        return [Para(f"{view.masthead.this_period}各单位报送中未反映问题。")]
    rows = [
        [
            str(n),
            p.unit,
            f"{p.milestone} {p.title}" + ("（已逾期）" if p.overdue else ""),
            p.problem,
        ]
        for n, p in enumerate(view.problems, 1)
    ]
    return [
        Para(
            f"{view.masthead.this_period}（{view.masthead.period_zh}）各单位在进展报送中反映的问题如下（原文摘录，"
            "同一节点反映相同问题的单位合并列出，逾期事项在前）。"
        ),
        TableBlock(
            headers=["序号", "反映单位", "事项", "反映的问题"],
            rows=rows,
            numeric=frozenset({0}),
            widths=(0.8, 2.6, 3.4, 5.4),
            note=f"另有{view.problems_hidden}条问题反映，详见督办系统。"
            if view.problems_hidden
            else "",
        ),
    ]


def upcoming(view: Briefing) -> list[Block]:
    until = month_day(view.upcoming_until, view.as_of.year)
    if not view.upcoming:
        return [Para(f"{until}前无到期事项。")]
    rows = [
        [month_day(r.due, view.as_of.year), f"{r.milestone} {r.title}", r.units, str(r.open)]
        for r in view.upcoming
    ]
    waiting = (
        f"另有{view.upcoming_waiting}项同期到期的事项仍在等待前置事项完成，请前置事项责任单位加快办理。"
        if view.upcoming_waiting
        else ""
    )
    return [
        Para(f"{until}前到期的节点共{len(rows)}个，请责任单位抓紧推进、按时办结。{waiting}"),
        TableBlock(
            headers=["到期日", "事项", "责任单位", "未完成数"],
            rows=rows,
            numeric=frozenset({3}),
            nowrap=frozenset({0}),
            widths=(1.6, 4.4, 3.4, 1.2),
        ),
    ]


def legend(view: Briefing) -> list[Block]:
    text = "；".join(f"{word}：{meaning}" for word, meaning in view.legend)
    return [Para(text + "。")]


BODY_ROWS = 10
"""Rows of a long list kept in the body; the rest go to an annex."""


@dataclass(frozen=True)
class Annexed:
    """How a section's table or list goes to an annex when it is long."""

    title: str  # the annex's title
    most: int  # rows the body holds; a longer table or list is cut
    keep: int  # rows the body keeps of a longer one (0: all go to the annex)
    pointer: str  # the body's words where the rows went ({keep}, {rest}, {annex})


ANNEXED: dict[str, Annexed] = {
    "重点任务推进情况": Annexed(
        "重点任务推进情况表", 6, 0, "各重点任务的牵头单位和分项数字见附件{annex}。"
    ),
    "逾期事项清单": Annexed(
        "逾期未完成事项清单（续）",
        BODY_ROWS,
        BODY_ROWS,
        "以上列出前{keep}条，其余{rest}条见附件{annex}。",
    ),
    "存在问题": Annexed(
        "各单位反映的问题（续）",
        BODY_ROWS,
        BODY_ROWS,
        "以上列出前{keep}条，其余{rest}条见附件{annex}。",
    ),
    "下步工作": Annexed("近两周到期事项清单", 3, 0, "清单共{rest}条，见附件{annex}。"),
}
"""Section title → where its long table or list goes (the charts stay in the body)."""


def annexed(blocks: list[Block], rule: Annexed, annex: int) -> tuple[list[Block], Block | None]:
    """The section's blocks with its first table or list longer than ``rule.most`` cut to
    ``rule.keep`` rows and the pointer to the annex (a table's note, else a paragraph where
    the rows were), and the rows cut (None when all fits)."""
    for n, block in enumerate(blocks):
        head: Block
        tail: Block
        if isinstance(block, TableBlock) and len(block.rows) > rule.most:
            head = replace(block, rows=block.rows[: rule.keep], lights=block.lights[: rule.keep])
            tail = replace(block, rows=block.rows[rule.keep :], lights=block.lights[rule.keep :])
            rest = len(tail.rows)
        elif isinstance(block, ListBlock) and len(block.entries) > rule.most:
            head = replace(block, entries=block.entries[: rule.keep])
            tail = replace(block, entries=block.entries[rule.keep :], start=block.start + rule.keep)
            rest = len(tail.entries)
        else:
            continue
        pointer = rule.pointer.format(keep=rule.keep, rest=rest, annex=annex)
        if not rule.keep:
            shown: list[Block] = [Para(pointer)]
        elif isinstance(head, TableBlock):
            shown = [replace(head, note=pointer + head.note)]
        else:
            shown = [head, Para(pointer)]
        return [*blocks[:n], *shown, *blocks[n + 1 :]], tail
    return blocks, None


def sections(view: Briefing) -> list[Section]:
    """The briefing's sections in reading order: the body's, then the annexes (``annex`` > 0)
    holding what the long lists do not show in the body."""
    parts = [
        ("总体进展", overview(view)),
        ("重点任务推进情况", tasks(view)),
        ("逾期事项清单", overdue(view)),
        ("指标完成情况", indicators(view)),
        ("单位推进情况", rankings(view)),
        ("存在问题", problems(view)),
        ("下步工作", upcoming(view)),
    ]
    body: list[Section] = []
    annexes: list[Section] = []
    for n, (title, written) in enumerate(parts):
        shown, moved = written, None
        rule = ANNEXED.get(title)
        if rule is not None:
            number = len(annexes) + 1
            shown, moved = annexed(written, rule, number)
            if moved is not None:
                annexes.append(Section(f"附件{number}", [moved], annex=number, title=rule.title))
        body.append(Section(f"{NUMERALS[n]}、{title}", shown))
    body.append(Section("灯色说明", legend(view)))
    return body + annexes
