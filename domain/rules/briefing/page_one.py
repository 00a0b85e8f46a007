"""Page one of the briefing in words: 需要领导协调解决的事项 (chosen by
:mod:`domain.rules.briefing.leader`), then the overall picture in three sentences."""

from __future__ import annotations

from domain.rules.briefing.blocks import Block, ListBlock, Para, pct
from domain.rules.briefing.leader import KINDS
from domain.rules.briefing.leader import brackets as full_width
from domain.rules.briefing.model import Briefing
from models.enums import Light

LEADER_HEADING = "需要领导协调解决的事项"
MORE_WORDS = {
    "leadership": "逾期通报事项{n}项",
    "blocked": "受阻需协调事项{n}项",
    "indicator": "难以达标的指标{n}项",
    "silent": "连续未报送的乡镇或部门{n}个",
}
"""How page one counts the matters of each kind that did not fit."""


def summary(view: Briefing) -> list[str]:
    """The overall picture in three sentences (page one, after the matters)."""
    o, c = view.overview, view.changes
    red = sum(1 for t in view.tasks if t.light == Light.RED)
    yellow = sum(1 for t in view.tasks if t.light == Light.YELLOW)
    first = (
        f"到期应完成{o.due_to_date}项，按期完成率{pct(o.on_time_rate)}，"
        f"逾期未完成{o.due_overdue}项"
        + (f"、因前置事项逾期未启动{o.due_held}项" if o.due_held else "")
        + "。"
        if o.due_to_date
        else "尚无到期应完成事项。"
    )
    second = (
        f"{len(view.tasks)}项重点任务{red}项亮红灯、{yellow}项亮黄灯；"
        f"{view.masthead.this_period}新增逾期{c.newly_overdue}项、新完成{c.newly_done}项。"
    )
    r = view.reporting
    met = sum(1 for i in view.indicators if i.light == Light.GREEN)
    third = (f"最近一期应报{r.owed}个单位、已报{r.sent}个；" if r is not None else "") + (
        f"{len(view.indicators)}项指标{met}项达标。" if view.indicators else "本规划未设量化指标。"
    )
    return [first, second, third]


def leader(view: Briefing) -> list[Block]:
    """需要领导协调解决的事项 (five at most), then the overall picture."""
    blocks: list[Block] = []
    if view.leader:
        blocks.append(
            ListBlock(
                [
                    (f"{x.matter}（{full_width(x.units)}）：", f"{x.situation}{x.ask}")
                    for x in view.leader
                ]
            )
        )
        more = "、".join(
            MORE_WORDS[kind].format(n=view.leader_more[kind])
            for kind in KINDS
            if view.leader_more.get(kind)
        )
        if more:
            blocks.append(Para(f"另有{more}未列出。"))
    else:
        blocks.append(Para("本期无需要领导协调解决的事项。"))
    blocks.append(Para("".join(summary(view)), lead="总体情况："))
    return blocks
