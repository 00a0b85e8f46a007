"""The briefing's wording and order, once for every format.

:func:`sections` turns the view model into headed sections of paragraphs, tables, lists and
charts (:mod:`~domain.rules.briefing.blocks`), with every Chinese sentence written here or, for
page one, in :mod:`~domain.rules.briefing.page_one`; the Markdown and HTML templates and the Word
writer only lay these blocks out. Text from units stays plain text here: each format escapes it.
:mod:`domain.rules.briefing.printed` arranges them as printed.
"""

from __future__ import annotations

from domain.rules.briefing.annexes import ANNEXED, annexed
from domain.rules.briefing.blocks import (
    Block,
    ChartBlock,
    ListBlock,
    Para,
    Section,
    Subheading,
    TableBlock,
    month_day,
    pct,
)
from domain.rules.briefing.ended import ended_sections
from domain.rules.briefing.leader import brackets as full_width
from domain.rules.briefing.lists import few_units
from domain.rules.briefing.model import Briefing, UnitRank, UnitRankings
from domain.rules.briefing.page_one import LEADER_HEADING, leader
from domain.rules.glossary import LIGHT_NAMES
from models.enums import Light

__all__ = [
    "LEADER_HEADING",
    "Block",
    "ChartBlock",
    "ListBlock",
    "Para",
    "Section",
    "Subheading",
    "TableBlock",
    "sections",
]

LIGHT_WORD = LIGHT_NAMES
NAMED_CHANGES = 3
"""New overdue items named under 与上周相比; the rest, and the newly done, are counted."""
NUMERALS = "一二三四五六七八九十"


def overview(view: Briefing) -> list[Block]:
    o, m = view.overview, view.masthead
    if o.due_to_date:
        parts = [
            f"已完成{o.due_done}项（按期{o.due_on_time}项、逾期完成{o.due_done - o.due_on_time}项）"
        ]
        parts.append(f"逾期未完成{o.due_overdue}项")
        if o.due_held:
            parts.append(f"因前置事项逾期未启动{o.due_held}项")
        if o.due_waiting:
            parts.append(f"等待前置事项完成{o.due_waiting}项")
        if o.due_today:
            parts.append(f"当日到期尚在办理{o.due_today}项")
        due = (
            f"到期应完成事项{o.due_to_date}项，其中"
            + "，".join(parts)
            + f"；按期完成率{pct(o.on_time_rate)}。"
        )
    else:
        due = "尚无到期应完成事项。"
    ahead = (
        f"未到期事项{o.ahead}项，其中已提前完成{o.ahead_done}项，正在办理{o.ahead_open}项"
        + (f"（进度滞后{o.ahead_behind}项）" if o.ahead_behind else "")
        + f"，尚未启动{o.ahead_not_started}项。"
    )
    sentence = f"《{m.plan_title}》共分解工作事项{o.total}项。{due}{ahead}"
    return [Para(sentence), *changes(view)]


def changes(view: Briefing) -> list[Block]:
    c, m = view.changes, view.masthead
    blocks: list[Block] = []
    since = f"与{m.last_period}（{month_day(c.previous_as_of, view.as_of.year)}）相比："
    moves = "、".join(f"{LIGHT_WORD[x.before]}转{LIGHT_WORD[x.after]}{x.count}项" for x in c.lights)
    shown = c.newly_overdue_items[:NAMED_CHANGES]
    named = "；".join(f"{full_width(i.unit)}“{full_width(i.title)}”" for i in shown)
    if named and c.newly_overdue > len(shown):
        named += "等"
    blocks.append(
        Para(
            f"{m.this_period}新增逾期{c.newly_overdue}项"
            + (f"（{named}）" if named else "")
            + f"，新完成{c.newly_done}项"
            + (f"，经批准延期{c.extended}项" if c.extended else "")
            + "。"
            + (f"灯色变化：{moves}。" if moves else f"各事项灯色与{m.last_period}相同。"),
            lead=since,
        )
    )
    return blocks


def tasks(view: Briefing) -> list[Block]:
    rows = [
        [
            str(t.number),
            full_width(t.title),
            full_width(t.lead),
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
        Para(f"{len(view.tasks)}项重点任务中，亮红灯{red}项、黄灯{yellow}项。"),
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
    held = sum(r.units for r in view.overdue if r.held)
    if not view.overdue_items and not held:
        return [Para("截至本期，无逾期未完成事项。")]
    rows = [
        [
            str(n),
            full_width(r.title),
            full_width(r.unit),
            month_day(r.due, view.as_of.year),
            str(r.workdays_overdue) if r.units == 1 else f"最长{r.workdays_overdue}",
            r.level,
            r.reason,
        ]
        for n, r in enumerate(view.overdue, 1)
    ]
    note = "逾期天数按工作日计算；督办层级为督办系统已发出的最近一级提醒。"
    if view.overdue_hidden:
        note += f"另有{view.overdue_hidden}项逾期事项未列出，详见督办系统。"
    return [
        Para(
            f"逾期未完成{view.overdue_items}项"
            + (f"、因前置事项逾期未启动{held}项" if held else "")
            + "："
        ),
        TableBlock(
            headers=["序号", "事项", "责任单位", "到期日", "逾期天数", "督办层级", "单位说明"],
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
    return [
        TableBlock(
            headers=["指标", "当前值", "目标值", "差距", "报送单位", "灯色"],
            rows=rows,
            lights=[i.light for i in view.indicators],
            light_column=5,
            numeric=frozenset({1, 3, 4}),
            nowrap=frozenset({2}),
            widths=(9, 1, 1, 1, 1, 1),
        ),
    ]


def _names(ranks: list[UnitRank]) -> str:
    return "、".join(f"{full_width(r.name)}（{_shortpct(r.rate)}）" for r in ranks) or "—"


def _shortpct(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}".rstrip("0").rstrip(".") + "%"


def reporting(view: Briefing) -> str:
    """最近一期报送: the same cycle and counts as ``duban status`` on the same day."""
    r = view.reporting
    if r is None:
        return ""
    span = f"{month_day(r.start, view.as_of.year)}至{month_day(r.end, view.as_of.year)}"
    return (
        f"最近一期报送（{span}，{month_day(r.due, view.as_of.year)}截止）应报{r.owed}个单位，"
        f"已报{r.sent}个（按时{r.on_time}个），未报{r.owed - r.sent}个"
        + (f"；另有{r.unasked}个单位本期无应报事项，也报送了进展" if r.unasked else "")
        + "。"
    )


def rankings(view: Briefing) -> list[Block]:
    """最近一期报送, then one table: per group and measure, the best and the worst units."""
    line = reporting(view)
    if not view.rankings:
        return [Para(line + "本期尚无可比较的单位。")]
    rows = [row for group in view.rankings for row in _ranking_rows(group)]
    compared = "、".join(f"{_who(g)}{g.ranked}个" for g in view.rankings)
    return [
        *([Para(line)] if line else []),
        Para(f"排名如下（参与比较：{compared}）。"),
        TableBlock(
            headers=["比较项", "靠前", "靠后"],
            rows=rows,
            nowrap=frozenset({0}),
            widths=(2.4, 4.8, 4.8),
        ),
    ]


def _ranking_cells(
    who: str,
    tie: float | None,
    compared: int,
    best: list[UnitRank],
    worst: list[UnitRank],
) -> list[str]:
    if tie is not None:
        return [f"各{who}均为{_shortpct(tie)}，无先后之分", "—"]
    if not compared:
        return [f"尚无可比较的{who}", "—"]
    if not best and not worst:
        return [f"各{who}相差不大，不作排名", "—"]
    return [_names(best), _names(worst)]


def _who(group: UnitRankings) -> str:
    return "县直部门" if group.group == "县直部门" else "乡镇"


def _ranking_rows(group: UnitRankings) -> list[list[str]]:
    """The group's two rows: 按期完成率 and 报送及时率, each with its best and worst units."""
    who = _who(group)
    return [
        [
            f"{who}按期完成率",
            *_ranking_cells(
                who,
                group.completion_tie,
                group.completion_compared,
                group.completion_leaders,
                group.completion_laggards,
            ),
        ],
        [
            f"{who}报送及时率",
            *_ranking_cells(
                who,
                group.timeliness_tie,
                group.timeliness_compared,
                group.timeliness_leaders,
                group.timeliness_laggards,
            ),
        ],
    ]


def problems(view: Briefing) -> list[Block]:
    if not view.problems:
        return [Para(f"{view.masthead.this_period}各单位报送中未反映问题。")]
    rows = [
        [str(n), full_width(few_units(p.unit, p.units)), full_width(p.title), p.problem]
        for n, p in enumerate(view.problems, 1)
    ]
    late = any(p.overdue for p in view.problems)
    m = view.masthead
    return [
        Para(
            f"{m.this_period}各单位反映的问题如下（原文摘录"
            + ("，逾期事项在前" if late else "")
            + "）。"
        ),
        TableBlock(
            headers=["序号", "反映单位", "事项", "反映的问题"],
            rows=rows,
            numeric=frozenset({0}),
            widths=(0.8, 1.9, 4.4, 7.1),
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
        [month_day(r.due, view.as_of.year), full_width(r.title), full_width(r.units), str(r.open)]
        for r in view.upcoming
    ]
    waiting = (
        f"；另有{view.upcoming_waiting}项尚在等待前置事项，请前置事项责任单位加快办理"
        if view.upcoming_waiting
        else ""
    )
    return [
        Para(f"{until}前到期的节点{len(rows)}个，请责任单位按时办结{waiting}。"),
        TableBlock(
            headers=["到期日", "事项", "责任单位", "未完成数"],
            rows=rows,
            numeric=frozenset({3}),
            nowrap=frozenset({0}),
            widths=(1.6, 4.4, 3.4, 1.2),
        ),
    ]


LEGEND_TITLE = "口径说明"
INDICATOR_TERMS = "当前值为已报送单位分项数据之和的比值；报送单位为已报送数据的单位数/应报单位数。"


def legend(view: Briefing) -> list[Block]:
    """口径说明: each figure defined once, then the lights of items and of indicators."""
    lights = "；".join(f"{word}：{meaning}" for word, meaning in view.legend)
    blocks: list[Block] = [
        ListBlock([(f"{word}：", meaning + "。") for word, meaning in view.definitions]),
        Para(lights + "。", lead="灯色："),
    ]
    if view.indicators:
        marks = "；".join(f"{word}：{meaning}" for word, meaning in view.indicator_legend)
        blocks.append(Para(INDICATOR_TERMS, lead="指标："))
        blocks.append(Para(marks + "。", lead="指标灯色："))
    return blocks


def sections(view: Briefing) -> list[Section]:
    """The briefing's sections in reading order: what needs the leader first, the body's, then
    the annexes (``annex`` > 0) holding what the long lists do not show in the body and, last,
    the 口径说明 the body points to; a plan past its period gets :mod:`.ended`'s two sections."""
    if view.ended is not None:
        return ended_sections(view, view.ended)
    parts = [
        ("总体进展", overview(view)),
        ("重点任务推进情况", tasks(view)),
        ("逾期事项清单", overdue(view)),
        ("指标完成情况", indicators(view)),
        ("单位推进情况", rankings(view)),
        ("存在问题", problems(view)),
        ("下步工作", upcoming(view)),
    ]
    body: list[Section] = [Section(LEADER_HEADING, leader(view))]
    annexes: list[Section] = []
    for n, (title, written) in enumerate(parts):
        shown, moved = written, None
        rule = ANNEXED.get(title)
        if rule is not None:
            number = len(annexes) + 1
            shown, moved = annexed(written, rule, number)
            if moved is not None:
                charts = [b for b in shown if isinstance(b, ChartBlock)] if rule.charts else []
                shown = [b for b in shown if b not in charts]
                annexes.append(
                    Section(f"附件{number}", [moved, *charts], annex=number, title=rule.title)
                )
        body.append(Section(f"{NUMERALS[n]}、{title}", shown))
    number = len(annexes) + 1
    annexes.append(Section(f"附件{number}", legend(view), annex=number, title=LEGEND_TITLE))
    return body + annexes
