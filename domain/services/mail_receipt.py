"""The answer to a report mail (回执): what landed (unit, period, items) or why not, in Chinese.

Pure: it composes text from what the intake did; :mod:`domain.services.mail_intake` sends it.
Every answer ends with :func:`marker`, by which a later run knows the mail was answered.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from config.errors import where_of
from domain.queries.mail import LandedItem, Sender
from domain.rules.glossary import MOVES, REPORT_STATES, word, zh_date
from domain.services.intake.inbox import FileOutcome
from models.enums import ItemState

PROBLEMS_SHOWN = 20  # per file; the rest are in the reasons file the coordinator keeps
ITEMS_SHOWN = 20  # per landed file
REPORT_SUFFIXES = (".xlsx", ".csv", ".json")


def marker(key: str) -> str:
    """The last line of every answer to the mail with this key."""
    return f"（来信编号 {key[:16]}）"


@dataclass
class Answer:
    """What to tell the sender of one mail."""

    key: str
    address: str
    subject: str  # the incoming mail's subject
    sender: Sender | None
    outcomes: list[FileOutcome] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)  # attachments that are not report files
    kept: list[str] = field(default_factory=list)  # why the mail itself could not be read
    items: dict[str, list[LandedItem]] = field(default_factory=dict)  # by landed file's sha256


Period = Callable[[date], tuple[date, date]]
"""The report cycle (first and last day) that contains a day."""


def _span(period: date, cycle: Period) -> str:
    first, last = cycle(period)
    shown = f"{last.month}月{last.day}日" if last.year == first.year else zh_date(last)
    return f"{zh_date(first)}至{shown}"


def _moves(moves: dict[str, int]) -> str:
    return "，".join(f"{MOVES[ItemState(s)]} {n}" for s, n in sorted(moves.items()))


def _landed(o: FileOutcome, cycle: Period, items: list[LandedItem]) -> list[str]:
    assert o.landed is not None
    moved = _moves(dict(o.landed.moves))
    when = f"{_span(o.period, cycle)}报送期" if o.period else "本报送期"
    lines = [
        f"《{o.name}》：{o.landed.unit_name}（{o.landed.unit}）{when}的进展 {o.landed.reports} 条"
        + (f"（{moved}）" if moved else "")
        + (f"，指标值 {o.landed.measures} 个" if o.landed.measures else "")
        + f"。{o.landed.unit_name}本期进展计为已报送。"
    ]
    lines += [
        f"  事项编号 {i.item_id} {i.title}：{word(REPORT_STATES, i.state)} {i.percent}%"
        for i in items[:ITEMS_SHOWN]
    ]
    if len(items) > ITEMS_SHOWN:
        lines.append(f"  …… 另有 {len(items) - ITEMS_SHOWN} 项")
    if submitted := o.landed.moves.get(ItemState.SUBMITTED.value):
        lines.append(f"  其中 {submitted} 项已申请办结，待协调单位核验销号。")
    return lines


def _rejected(o: FileOutcome) -> list[str]:
    lines = [f"《{o.name}》共 {len(o.problems)} 个问题："]
    lines += [f"  {where_of(p)}：{p.message}" for p in o.problems[:PROBLEMS_SHOWN]]
    if len(o.problems) > PROBLEMS_SHOWN:
        lines.append(f"  …… 另有 {len(o.problems) - PROBLEMS_SHOWN} 个问题，请向协调单位索取说明")
    return lines


def compose(answer: Answer, cycle: Period, coordinator: str) -> tuple[str, str]:
    """The subject and body of the answer; ``coordinator`` names whom to ask."""
    landed = [o for o in answer.outcomes if o.status == "landed"]
    rejected = [o for o in answer.outcomes if o.status == "rejected"]
    duplicate = [o for o in answer.outcomes if o.status == "duplicate"]
    sections: list[tuple[str, list[str]]] = []
    if landed:
        lines = [x for o in landed for x in _landed(o, cycle, answer.items.get(o.sha256 or "", []))]
        sections.append(("已入库", lines))
    if rejected:
        lines = [line for o in rejected for line in _rejected(o)]
        lines.append(
            "以上文件整份退回，表中内容均未入库；请逐条改正后，将整份文件重新发送到本邮箱。"
        )
        sections.append(("未入库", lines))
    if duplicate:
        sections.append(
            (
                "此前已收到",
                [f"《{o.name}》与{o.first_landed}内容相同，不再重复入库。" for o in duplicate],
            )
        )
    elsewhere = [o for o in answer.outcomes if o.status == "elsewhere"]
    if elsewhere:
        lines = [
            f"《{o.name}》属于规划 {o.other_plan}，已转交该规划，随其收集入库。" for o in elsewhere
        ]
        sections.append(("转交其他规划", lines))
    if answer.kept:
        sections.append(("未能处理", [*answer.kept, "来信已留存，待协调单位查看；内容均未入库。"]))
    body = ["您好！", "", f"督办系统收到您的来信《{answer.subject or '（无主题）'}》：", ""]
    numbers = "一二三四五"
    for n, (title, lines) in enumerate(sections):
        body += [f"{numbers[n]}、{title}", *lines, ""]
    if answer.ignored:
        names = "、".join(f"《{n}》" for n in answer.ignored)
        body.append(f"另有附件{names}不是报送文件（只收 .xlsx、.csv、.json），未处理。")
    units = {(o.landed.unit, o.landed.unit_name) for o in landed if o.landed}
    if answer.sender is None and units:
        shown = "、".join(f"{name}（{code}）" for code, name in sorted(units))
        body.append(
            f"发件地址 {answer.address} 不在本计划的联系人名单中；"
            f"附件凭台账签名确认为{shown}的报送。"
        )
    body += [f"如有疑问，请联系{coordinator}。本邮件由督办系统自动发送。", marker(answer.key)]
    return _subject(landed, rejected, duplicate, answer), "\n".join(body)


def _subject(
    landed: list[FileOutcome],
    rejected: list[FileOutcome],
    duplicate: list[FileOutcome],
    answer: Answer,
) -> str:
    if rejected:
        names = "、".join(f"《{o.name}》" for o in rejected[:3])
        return f"退回：{names}未入库，请改正后重新报送"
    if landed:
        units = sorted({o.landed.unit_name for o in landed if o.landed})
        return f"回执：已收到{'、'.join(units)}的进展报送"
    if duplicate:
        return "回执：来信附件此前已收到，未重复入库"
    if any(o.status == "elsewhere" for o in answer.outcomes):
        return "回执：来信附件已转交所属规划处理"
    return f"未能处理您的来信《{answer.subject or '（无主题）'}》"
