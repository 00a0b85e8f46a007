"""The briefing of a plan past its period (规划期满): instead of the same lists every week, the
plan's end, where the final evaluation is, and only what still moves in the close-out (收尾期):
items done since the last briefing, items still open, and the day reminders stop."""

from __future__ import annotations

from domain.rules.briefing.blocks import Block, Para, Section, month_day
from domain.rules.briefing.leader import brackets
from domain.rules.briefing.model import Briefing, Ended
from domain.rules.glossary import zh_date

ENDED_HEADINGS = ("一、规划期满", "二、收尾期进展")


def plan_ended(view: Briefing, ended: Ended) -> list[Block]:
    folder, _, name = ended.evaluation.rpartition("/")
    return [
        Para(
            f"《{view.masthead.plan_title}》规划期已于{zh_date(ended.end)}期满。"
            "各项指标、重点任务和未办结事项的全面情况以终期评估报告为准，本简报不再重复各项清单。"
        ),
        Para(
            f"终期评估报告由协调员运行 duban evaluate 生成，Word 文件名为 {name}，"
            f"存放在简报文件夹的 {folder.rpartition('/')[2]} 子文件夹中。"
        ),
    ]


def close_out(view: Briefing, ended: Ended) -> list[Block]:
    m, year = view.masthead, view.as_of.year
    blocks: list[Block] = []
    if ended.closed_since:
        named = "、".join(brackets(i.title) + f"（{i.unit}）" for i in ended.closed_items)
        more = ended.closed_since - len(ended.closed_items)
        blocks.append(
            Para(
                f"{m.this_period}新办结事项{ended.closed_since}项："
                + named
                + ("等" if more else "")
                + "。"
            )
        )
    else:
        blocks.append(Para(f"{m.this_period}无新办结事项。"))
    if ended.reminders_until >= view.as_of:
        stop = (
            f"催办提醒发送至{month_day(ended.reminders_until, year)}（收尾期）止，此后不再发送；"
            "如需延长，请协调员在目录 plan.close_out_until 写明日期后同步目录。"
        )
    else:
        stop = f"收尾期已于{month_day(ended.reminders_until, year)}结束，系统不再发送催办提醒。"
    blocks.append(Para(f"尚有到期未办结事项{ended.open_items}项。{stop}"))
    return blocks


def ended_sections(view: Briefing, ended: Ended) -> list[Section]:
    """The two sections of a finished plan's briefing (no annexes)."""
    return [
        Section(ENDED_HEADINGS[0], plan_ended(view, ended)),
        Section(ENDED_HEADINGS[1], close_out(view, ended)),
    ]
