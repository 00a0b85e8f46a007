"""The 考评通报 (assessment notice) as data: the period's scores laid out in the briefing's
blocks (:mod:`domain.rules.briefing.blocks`), under a 文头, a 文号 and a title, and closed by the
briefing's signature and 版记 (:class:`~domain.rules.briefing.printed.Printed`).

The body says how scores are worked out (口径, from the rules themselves), ranks departments
apart from townships (with their villages) on the scores after the upheld objections, says each
tie, puts each unit's lost points into words, and lists the objections decided with both scores.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from config.assessment import AssessmentRules
from domain.rules.assessment import UnitScore, ranked
from domain.rules.assessment_periods import AssessedPeriod
from domain.rules.briefing.blocks import Block, Para, Section, TableBlock
from domain.rules.briefing.printed import (
    DEFAULT_DISTRIBUTION,
    DISTRIBUTION,
    Colophon,
    Distribution,
    Printed,
)
from domain.rules.glossary import ASSESSMENT_GROUPS, ASSESSMENT_PARTS, zh_date

NUMERALS = "一二三四五六七八九十"
RANKING = ["名次", "单位", "得分", "按期完成", "报送及时", "规范办理", "主要失分"]
OBJECTION_HEADERS = ["单位", "事项", "申诉项目", "决定", "决定理由", "申诉前", "申诉后"]


@dataclass(frozen=True)
class DecidedObjection:
    """An objection to the period's assessment, decided (by ``decided_on``), with the unit's
    score before and after the decision."""

    unit_name: str
    item_id: int
    milestone: str
    title: str
    part: str
    upheld: bool
    decided_on: date
    decision_reason: str
    score_before: Decimal
    score_after: Decimal


@dataclass(frozen=True)
class NoticeFacts:
    """Everything a notice says: scores after the upheld objections, the units' scores before
    them where they differ (``before``), the objections decided and the number still pending."""

    plan_title: str
    masthead: str  # 文头, e.g. 施甸县城乡社区服务体系建设规划实施考评通报
    issuer: str
    period: AssessedPeriod
    issued_on: date
    year: int  # the year the number counts in (〔2022〕)
    number: int
    rules: AssessmentRules
    scores: Sequence[UnitScore]
    before: Mapping[str, Decimal]
    decided: Sequence[DecidedObjection]
    pending: int
    objection_deadline: date
    distribution: Distribution | None = None


@dataclass(frozen=True)
class Notice:
    """The notice as printed: 文头, 文号, 标题, 主送, then the briefing's printed parts."""

    masthead: str
    number: str  # 考评〔2022〕1号
    title: str
    addressee: str
    printed: Printed
    numbers: str
    """Every figure the notice states, as text: its checksum tells a changed notice."""


def notice_masthead(plan_title: str, briefing_title: str | None) -> str:
    """The 文头: the briefing's title with 考评通报 for 工作简报 (or 简报), else the plan's
    title + 实施考评通报."""
    for ending in ("工作简报", "简报"):
        if briefing_title and briefing_title.endswith(ending):
            return briefing_title.removesuffix(ending) + "考评通报"
    return f"{plan_title}实施考评通报"


def points(value: Decimal) -> str:
    return f"{value:.1f}"


def method(rules: AssessmentRules, deadline: date) -> str:
    """口径 in one paragraph, every number from the rules."""
    c, t, k = rules.completion, rules.timeliness, rules.conduct
    total = c.points + t.points + k.points

    def per(word: str, each: Decimal, cap: Decimal, unit: str) -> str:
        if each == 0:
            return f"{word}不扣分"
        return f"{word}每{unit}扣 {_n(each)} 分（最多扣 {_n(cap)} 分）"

    deductions = "，".join(
        [
            per("期内逾期", k.overdue.per_workday, k.overdue.cap, "个工作日"),
            per("核验退回", k.returned.each, k.returned.cap, "次"),
            per("到期后批准延期", k.late_extension.each, k.late_extension.cap, "次"),
            per("到期前批准延期", k.early_extension.each, k.early_extension.cap, "次"),
        ]
    )
    return (
        f"考评满分 {_n(total)} 分。按期完成 {_n(c.points)} 分，按本期到期（含此前到期未办结）"
        f"事项所属重点任务的权重分配，按期办结得全分，逾期办结按 {_n(c.late_credit)} 计，"
        f"未办结不得分；报送及时 {_n(t.points)} 分，按按时报送次数占应报送次数的比例计分；"
        f"规范办理基础分 {_n(k.points)} 分，{deductions}，扣完为止。本期无到期事项或无应报"
        f"进展的，该项按满分计。乡镇与所辖村（社区）合并考评，县直部门单独考评，两类分别排名；"
        f"得分相同的名次并列。对扣分有异议的，可在{zh_date(deadline)}前（期末后 "
        f"{rules.objections.within_workdays} 个工作日内）提出申诉，经审核成立的重新计分，"
        "原得分一并留档。"
    )


def _n(value: Decimal) -> str:
    return f"{value.normalize():f}"


def lost_in_words(s: UnitScore, rules: AssessmentRules) -> str:
    """Where a unit lost points, in words: 按期完成失 15.0 分（应完成 2 项，按期完成 1 项）…"""
    c = s.counts
    parts = []
    lost = rules.completion.points - s.part("completion")
    if lost > 0:
        parts.append(f"按期完成失 {points(lost)} 分（应完成 {c.due} 项，{_done(s, c.on_time)}）")
    lost = rules.timeliness.points - s.part("timeliness")
    if lost > 0:
        parts.append(
            f"报送及时失 {points(lost)} 分（应报送 {c.owed} 次，按时 {c.sent_on_time} 次）"
        )
    caps = {
        "overdue": rules.conduct.overdue.cap,
        "returned": rules.conduct.returned.cap,
        "late_extension": rules.conduct.late_extension.cap,
        "early_extension": rules.conduct.early_extension.cap,
    }
    for part, cap in caps.items():
        taken = -s.part(part)
        if taken > 0:
            more = f"期内逾期共 {c.overdue_workdays} 个工作日" if part == "overdue" else ""
            if taken >= cap:
                more += ("，" if more else "") + "已达扣分上限"
            more = f"（{more}）" if more else ""
            parts.append(
                f"{ASSESSMENT_PARTS[part].removesuffix('扣分')}扣 {points(taken)} 分{more}"
            )
    if s.part("floor") > 0:
        parts.append(f"规范办理扣分以基础分为限，退还 {points(s.part('floor'))} 分")
    return "；".join(parts) + "。" if parts else "未失分。"


def _done(s: UnitScore, on_time: int) -> str:
    """How the items due were done, from the 按期完成 line's working (按期完成 1 项，逾期完成
    1 项，未完成 0 项), or the count on time alone."""
    basis = next((line.basis for line in s.lines if line.part == "completion"), "")
    said = basis.partition("：")[2].partition("；")[0]
    return re.sub(r"（按 [^）]* 计）", "", said) if said else f"按期完成 {on_time} 项"


def _main_loss(s: UnitScore, rules: AssessmentRules) -> str:
    """The ranking's 主要失分 cell: each part that cost points, with the points (「逾期失2.0分」:
    points, not days or items)."""
    lost = {
        "按期完成": rules.completion.points - s.part("completion"),
        "报送及时": rules.timeliness.points - s.part("timeliness"),
        **{
            ASSESSMENT_PARTS[p].removesuffix("扣分"): -s.part(p)
            for p in ("overdue", "returned", "late_extension", "early_extension")
        },
    }
    return "、".join(f"{word}失{points(v)}分" for word, v in lost.items() if v > 0) or "无"


def ties(group: Sequence[tuple[int, UnitScore]]) -> str:
    """Every shared rank of a group said plainly, or that there is none."""
    shared: dict[int, list[UnitScore]] = {}
    for rank, s in group:
        shared.setdefault(rank, []).append(s)
    said = [
        f"{'、'.join(s.name for s in same)}得分相同（{points(same[0].score)} 分），并列第 {rank} 名"
        for rank, same in shared.items()
        if len(same) > 1
    ]
    return "；".join(said) + "。" if said else "本组没有并列名次。"


def _ranking(facts: NoticeFacts, kind: str, heading: str) -> Section | None:
    group = ranked(s for s in facts.scores if ASSESSMENT_GROUPS.get(s.kind) == kind)
    if not group:
        return None
    changed = any(s.unit in facts.before for _, s in group)
    headers = RANKING + (["申诉前得分"] if changed else [])
    rows = []
    for rank, s in group:
        conduct = s.score - s.part("completion") - s.part("timeliness")
        row = [str(rank), s.name, points(s.score), points(s.part("completion"))]
        row += [points(s.part("timeliness")), points(conduct), _main_loss(s, facts.rules)]
        if changed:
            row.append(points(facts.before[s.unit]) if s.unit in facts.before else "")
        rows.append(row)
    numeric = frozenset({0, 2, 3, 4, 5} | ({7} if changed else set()))
    table = TableBlock(
        headers=headers,
        rows=rows,
        numeric=numeric,
        widths=(3, 11, 4, 5, 5, 5, 12, *((5,) if changed else ())),
        nowrap=frozenset({0, 2, 3, 4, 5}),
        note="得分为申诉决定后的得分。" if changed else "",
    )
    ahead = Para(f"共 {len(group)} 个单位参加排名。{ties(group)}")
    return Section(heading, [ahead, table])


def _losses(facts: NoticeFacts) -> list[Block]:
    blocks: list[Block] = []
    for kind in dict.fromkeys(ASSESSMENT_GROUPS.values()):
        for _, s in ranked(x for x in facts.scores if ASSESSMENT_GROUPS.get(x.kind) == kind):
            if s.score < 100:
                lead = f"{s.name}（{points(s.score)} 分）："
                blocks.append(Para(lost_in_words(s, facts.rules), lead=lead))
    if not blocks:
        blocks.append(Para("各单位均得满分，无失分。"))
    idle = sorted(s.name for s in facts.scores if not s.assessed)
    if idle:
        blocks.append(Para(f"本期无到期事项、无应报进展，不参加排名的单位：{'、'.join(idle)}。"))
    return blocks


def _objections(facts: NoticeFacts) -> list[Block]:
    pending = (
        f"尚有 {facts.pending} 件申诉待决定，决定后重新计分并另行通报。" if facts.pending else ""
    )
    if not facts.decided:
        return [Para(("本期考评没有已决定的申诉。" + pending) if pending else "本期考评无申诉。")]
    upheld = sum(o.upheld for o in facts.decided)
    rows = [
        [
            o.unit_name,
            f"#{o.item_id} {o.milestone} {o.title}",
            ASSESSMENT_PARTS[o.part],
            "成立" if o.upheld else "不成立",
            o.decision_reason,
            points(o.score_before),
            points(o.score_after),
        ]
        for o in facts.decided
    ]
    said = (
        f"已决定申诉 {len(facts.decided)} 件，其中成立 {upheld} 件、不成立 "
        f"{len(facts.decided) - upheld} 件；成立的已重新计分，排名按重新计分后的得分，"
        f"申诉前的得分一并列出。{pending}"
    )
    table = TableBlock(
        headers=OBJECTION_HEADERS,
        rows=rows,
        numeric=frozenset({5, 6}),
        widths=(8, 14, 6, 4, 12, 4, 4),
        nowrap=frozenset({3, 5, 6}),
    )
    return [Para(said), table]


def colophon(facts: NoticeFacts) -> Colophon:
    """The 版记 from the catalogue's recipients, as the briefing's."""
    d = facts.distribution
    chosen = d if d and any(d.values()) else DEFAULT_DISTRIBUTION
    lines = [(word, "，".join(chosen[key]) + "。") for key, word in DISTRIBUTION if chosen.get(key)]
    return Colophon(lines, facts.issuer, f"{zh_date(facts.issued_on)}印发")


def build_notice(facts: NoticeFacts) -> Notice:
    """The notice of ``facts``, ready for every format."""
    p = facts.period
    sections = [Section("考评口径", [Para(method(facts.rules, facts.objection_deadline))])]
    groups = (("department", "县直部门考评结果"), ("township", "乡镇考评结果"))
    for kind, name in ((ASSESSMENT_GROUPS[k], heading) for k, heading in groups):
        found = _ranking(facts, kind, name)
        if found is not None:
            sections.append(found)
    sections.append(Section("主要失分情况", _losses(facts)))
    sections.append(Section("申诉处理情况", _objections(facts)))
    body = [Section(f"{NUMERALS[n]}、{s.heading}", s.blocks) for n, s in enumerate(sections)]
    lead = (
        f"根据考评细则，现将{p.label}（{zh_date(p.start)}至{zh_date(p.end)}）"
        f"{facts.plan_title}各责任单位的考评结果通报如下。"
    )
    printed = Printed(
        lead=lead,
        body=body,
        annex_note=[],
        signature=(facts.issuer, zh_date(facts.issued_on)),
        annexes=[],
        colophon=colophon(facts),
    )
    return Notice(
        masthead=facts.masthead,
        number=f"考评〔{facts.year}〕{facts.number}号",
        title=f"关于{p.label}规划实施考评情况的通报",
        addressee="各责任单位：",
        printed=printed,
        numbers=_numbers(facts),
    )


def _numbers(facts: NoticeFacts) -> str:
    """The figures of the notice (scores, lines, objections) as canonical JSON."""
    return json.dumps(
        {
            "period": facts.period.key,
            "units": [
                [s.unit, str(s.score), [[line.part, str(line.points)] for line in s.lines]]
                for s in sorted(facts.scores, key=lambda s: s.unit)
            ],
            "before": {k: str(v) for k, v in sorted(facts.before.items())},
            "decided": [
                [o.item_id, o.part, o.upheld, str(o.score_before), str(o.score_after)]
                for o in facts.decided
            ],
            "pending": facts.pending,
        },
        ensure_ascii=False,
        sort_keys=True,
    )
