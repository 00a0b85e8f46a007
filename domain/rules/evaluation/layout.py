"""The final evaluation's wording and order, once for every format: headed sections of the
briefing's blocks (:mod:`domain.rules.briefing.blocks`), arranged as printed (body, 附件 note,
signature, annexes) in a :class:`~domain.rules.briefing.printed.Printed`."""

from __future__ import annotations

from domain.rules.briefing.blocks import (
    Block,
    ChartBlock,
    ListBlock,
    Para,
    Section,
    Subheading,
    TableBlock,
    pct,
)
from domain.rules.briefing.layout import NUMERALS
from domain.rules.briefing.leader import brackets
from domain.rules.briefing.printed import Colophon, Printed, printed_text
from domain.rules.evaluation.model import Evaluation, IndicatorResult, Totals
from domain.rules.glossary import zh_date

GROUP_ROWS = 10
"""Townships and departments the body lists with items never closed; all units in the annex."""
UNIT_ROWS = 300
"""Units the annex lists; the rest are counted."""
CONCLUSIONS_TITLE = "评估结论和建议"
NOT_WRITTEN = "待协调员填写。"
CONCLUSIONS_FILE = "评估结论.txt"
"""The conclusions file read from the report's own folder when no other is named."""
HOW_TO_WRITE = (
    f"协调员将评估结论和建议写入本报告所在文件夹的“{CONCLUSIONS_FILE}”（UTF-8 或 GBK 编码的"
    "文本文件，每段一行，以“（一）”等开头的行作小标题；也可用 --conclusions 指定其他文件），"
    "再运行 duban evaluate 重新生成本报告。"
)
YEAR_REPORTS = ("应报", "按时", "及时率")
CHART_INDICATORS = "indicator_years"
CHART_YEARS = "years"
DEFINITIONS: list[tuple[str, str]] = [
    ("工作事项", "一个节点对一个责任单位的一次交办，各项数均按事项计"),
    ("到期应完成", "截止日期在统计日当日或之前的事项"),
    ("按期完成", "在截止日期当日或之前申请办结或核验销号的事项"),
    ("未办结", "到期应完成而在统计日仍未完成的事项，含因前置事项未完成而未启动的"),
    ("按期完成率", "到期应完成事项中按期完成的÷到期应完成事项"),
    ("报送及时率", "截止日在该年内的报送周期中，按时（截止日当日或之前）报送的次数÷应报送的次数"),
    ("指标终期值", "统计日各单位最新报送数据分项之和的比值（非各单位比值的平均）"),
    ("单位说明的原因", "各单位对未办结事项最后一次报送中填写的存在问题，原文摘录"),
]


def _not_due_yet(t: Totals) -> str:
    """The items not due by the day, those already done among them said apart, so the
    sentence's parts add up to the plan's items."""
    later = t.total - t.due
    early = t.on_time - t.due_on_time  # done on time, due after the day
    if not later:
        return ""
    return f"；尚未到期{later}项" + (f"（其中已提前完成{early}项）" if early else "")


def overview(view: Evaluation) -> list[Block]:
    t = view.totals
    span = f"{zh_date(view.period_start)}至{zh_date(view.period_end)}"
    if view.ended:
        when = f"规划期为{span}，已于{zh_date(view.period_end)}期满。"
    else:
        when = f"规划期为{span}，尚未期满；以下为截至{view.as_of_zh}的情况。"
    done = (
        f"《{view.plan_title}》{when}规划共分解工作事项{t.total}项，截至{view.as_of_zh}"
        f"到期应完成{t.due}项，其中按期完成{t.due_on_time}项、逾期完成{t.late}项、"
        f"未办结{t.open_due}项，按期完成率{pct(t.on_time_rate)}" + _not_due_yet(t) + "。"
    )
    blocks: list[Block] = [Para(done)]
    if view.indicators:
        reached = sum(1 for i in view.indicators if i.met)
        missed = sum(1 for i in view.indicators if i.met is False)
        empty = len(view.indicators) - reached - missed
        blocks.append(
            Para(
                f"{len(view.indicators)}项规划指标中，达到目标值{reached}项，未达到{missed}项"
                + (f"，无报送数据{empty}项" if empty else "")
                + "。"
            )
        )
    if view.close_out_last is not None:
        blocks.append(
            Para(
                f"规划期满后的收尾期至{zh_date(view.close_out_last)}，此后系统不再发送催办提醒；"
                "未办结事项由协调员决定结转或终止。"
            )
        )
    return blocks


def indicator_table(view: Evaluation) -> list[Block]:
    if not view.indicators:
        return [Para("本规划未设置指标。")]
    rows = [
        [
            str(n),
            i.name,
            i.value_text,
            i.target_text,
            _verdict(i),
            f"{i.units_reported}/{i.units_in_scope}",
            _data_days(i),
        ]
        for n, i in enumerate(view.indicators, 1)
    ]
    missed = [i for i in view.indicators if i.met is False]
    blocks: list[Block] = [
        Para(
            f"截至{view.as_of_zh}各项指标的终期值与目标值如下，逐年变化见图1。"
            if len(view.years) > 1
            else f"截至{view.as_of_zh}各项指标的终期值与目标值如下。"
        ),
        TableBlock(
            headers=["序号", "指标", "终期值", "目标值", "是否达到", "报送单位", "数据时间"],
            rows=rows,
            numeric=frozenset({0}),
            nowrap=frozenset({4, 5}),
            widths=(0.8, 4.2, 1.7, 1.9, 1.6, 1.5, 2.6),
            note="报送单位：已报送数据的单位数/应报单位数；数据时间：所用各单位最新数据的报送日期。",
        ),
    ]
    if missed:
        gaps = "；".join(f"{i.name}（{i.value_text}，目标{i.target_text}）" for i in missed)
        blocks.append(Para(f"未达到目标值的指标：{gaps}。"))
    if len(view.years) > 1 and any(v is not None for i in view.indicators for _, v in i.yearly):
        blocks.append(ChartBlock(CHART_INDICATORS, "图1  各项指标逐年完成情况"))
    return blocks


def _verdict(i: IndicatorResult) -> str:
    return {True: "达到", False: "未达到", None: "无数据"}[i.met]


def _data_days(i: IndicatorResult) -> str:
    if i.data_from is None or i.data_to is None:
        return "—"
    first, last = i.data_from, i.data_to
    if first == last:
        return f"{first:%Y.%m.%d}"
    return f"{first:%Y.%m.%d}—{last:%Y.%m.%d}"


def tasks(view: Evaluation) -> list[Block]:
    ahead = any(t.milestones_not_due for t in view.tasks)
    headers = ["任务", "牵头单位", "节点", "按期办结", "逾期办结", "未办结", "事项按期完成率"]
    widths: tuple[float, ...] = (4.6, 2.6, 1.1, 1.5, 1.5, 1.3, 2.2)
    if ahead:
        headers.insert(6, "未到期")
        widths = (*widths[:6], 1.3, widths[6])
    rows = []
    for t in view.tasks:
        counts = [t.milestones, t.milestones_on_time, t.milestones_late, t.milestones_never]
        if ahead:
            counts.append(t.milestones_not_due)
        title = brackets(f"{t.number}. {t.title}")
        rows.append([title, t.lead, *map(str, counts), pct(t.on_time_rate)])
    never = sorted((t for t in view.tasks if t.never), key=lambda t: -t.never)
    lead = "各重点任务节点的办结情况和事项按期完成率如下。"
    if never:
        worst = "、".join(f"任务{t.number}（{t.never}项）" for t in never[:3])
        lead += f"未办结事项较多的是{worst}。"
    return [
        Para(lead),
        TableBlock(
            headers=headers,
            rows=rows,
            numeric=frozenset(range(2, len(headers))),
            widths=widths,
            note="节点按其全部事项（各责任单位、各次）计：全部按期完成的为按期办结，"
            "全部完成而有逾期的为逾期办结，尚有到期事项未完成的为未办结。",
        ),
    ]


def never_closed(view: Evaluation, annex: int) -> list[Block]:
    t = view.totals
    if not t.open_due:
        return [Para("到期应完成事项均已办结。")]
    units = len(view.open_units)
    held = f"；其中因前置事项未完成而未启动的{t.held}项" if t.held else ""
    rows = [
        [g.name, str(g.units), str(g.items), brackets(g.reasons)]
        for g in view.open_groups[:GROUP_ROWS]
    ]
    more = len(view.open_groups) - len(rows)
    return [
        Para(
            f"到期未办结事项{t.open_due}项，涉及{units}个单位{held}。按乡镇（含所辖村、社区）"
            f"和县直部门汇总如下，"
            + (f"列出未办结事项最多的{len(rows)}个，" if more > 0 else "")
            + f"各单位的清单和原因见附件{annex}。"
        ),
        TableBlock(
            headers=["乡镇、部门", "单位数", "未办结", "单位说明的主要原因"],
            rows=rows,
            numeric=frozenset({1, 2}),
            widths=(3.0, 1.3, 1.3, 8.0),
            nowrap=frozenset({0, 1, 2}),
            note="原因为各单位最后一次报送中填写的存在问题，原文摘录；括号内为涉及事项数。",
        ),
    ]


def open_annex(view: Evaluation) -> list[Block]:
    shown = view.open_units[:UNIT_ROWS]
    rows = [
        [str(n), u.group, u.name, str(u.items), brackets(u.titles), brackets(u.reasons)]
        for n, u in enumerate(shown, 1)
    ]
    rest = len(view.open_units) - len(shown)
    return [
        TableBlock(
            headers=["序号", "乡镇、部门", "单位", "未办结", "事项", "最后说明的原因"],
            rows=rows,
            numeric=frozenset({0, 3}),
            widths=(0.9, 1.8, 3.0, 1.2, 3.6, 4.4),
            note=f"另有{rest}个单位，详见督办系统（duban status）。" if rest else "",
        )
    ]


def problems(view: Evaluation) -> list[Block]:
    if not view.problems:
        return [Para("规划期内各单位报送中未反映问题。")]
    rows = [
        [str(n), p.problem, str(p.reports), str(p.units), p.tasks]
        for n, p in enumerate(view.problems, 1)
    ]
    return [
        Para(
            "规划期内各单位在进展报送中反映的问题，按原文归并、以反映单位多少排序如下"
            + (f"（另有{view.problems_more}条不同的问题未列出）" if view.problems_more else "")
            + "。"
        ),
        TableBlock(
            headers=["序号", "反映的问题（原文）", "次数", "单位数", "涉及任务（序号）"],
            rows=rows,
            numeric=frozenset({0, 2, 3}),
            nowrap=frozenset({2, 3}),
            widths=(0.9, 8.4, 1.2, 1.4, 2.6),
        ),
    ]


def years(view: Evaluation) -> list[Block]:
    rows = [
        [
            f"{y.year}年",
            str(y.due),
            str(y.on_time),
            str(y.late),
            str(y.never),
            pct(y.on_time_rate),
            str(y.owed),
            str(y.reported_on_time),
            pct(y.timeliness),
        ]
        for y in view.years
    ]
    blocks: list[Block] = [
        Para("按年度统计当年到期事项的完成情况和当年各报送周期的报送情况如下，见图2。"),
        TableBlock(
            headers=[*("年度", "到期", "按期", "逾期完成", "未办结", "按期完成率"), *YEAR_REPORTS],
            rows=rows,
            numeric=frozenset(range(1, 9)),
            nowrap=frozenset({0}),
            widths=(1.5, 1.2, 1.2, 1.6, 1.4, 1.9, 1.3, 1.3, 1.5),
        ),
        ChartBlock(CHART_YEARS, "图2  逐年按期完成率和报送及时率"),
    ]
    return blocks


def conclusions(view: Evaluation) -> list[Block]:
    if view.conclusions is None:
        return [Para(NOT_WRITTEN), Para(HOW_TO_WRITE)]
    out: list[Block] = []
    for line in view.conclusions:
        if line.startswith("（") and "）" in line[:5] and len(line) <= 30:
            out.append(Subheading(line))
        else:
            out.append(Para(line))
    return out


def legend() -> list[Block]:
    return [ListBlock([(f"{word}：", meaning + "。") for word, meaning in DEFINITIONS])]


def sections(view: Evaluation) -> list[Section]:
    """The body's sections in reading order, then the annexes: the units' list of items
    never closed (when there are any), and the 口径说明."""
    annexes: list[Section] = []
    if view.open_units:
        annexes.append(Section("附件1", open_annex(view), annex=1, title="到期未办结事项清单"))
    annexes.append(
        Section(f"附件{len(annexes) + 1}", legend(), annex=len(annexes) + 1, title="口径说明")
    )
    parts = [
        ("总体情况", overview(view)),
        ("指标完成情况", indicator_table(view)),
        ("重点任务完成情况", tasks(view)),
        ("未办结事项及原因", never_closed(view, 1)),
        ("各单位反映的主要问题", problems(view)),
        ("逐年按期完成和报送情况", years(view)),
        (CONCLUSIONS_TITLE, conclusions(view)),
    ]
    body = [Section(f"{NUMERALS[n]}、{title}", blocks) for n, (title, blocks) in enumerate(parts)]
    return body + annexes


def document(view: Evaluation) -> Printed:
    """The evaluation laid out for print: lead, body, 附件 note, signature, annexes (no 版记)."""
    everything = sections(view)
    annexes = [s for s in everything if s.annex]
    legend_number = annexes[-1].annex
    return Printed(
        lead=f"统计截至{view.as_of_zh}"
        + ("" if view.ended else f"（规划期至{zh_date(view.period_end)}，尚未期满）")
        + f"，口径见附件{legend_number}。",
        body=[s for s in everything if not s.annex],
        annex_note=[f"{s.annex}. {s.title}" for s in annexes],
        signature=(view.issuer, view.as_of_zh),
        annexes=annexes,
        colophon=Colophon([], view.issuer, f"{view.as_of_zh}印发"),
    )


def all_text(view: Evaluation, printed: Printed | None = None) -> str:
    """Every character the document shows (for the fonts' coverage); ``printed``: its
    :func:`document`, when already laid out."""
    return printed_text(document(view) if printed is None else printed, view.title, view.issuer)
