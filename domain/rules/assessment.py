"""The assessment (考评) of one unit over one period, as a pure function of its facts.

A unit's score is the sum of its lines, each in tenths of a point (exact decimals):

1. 按期完成: ``completion.points`` × Σ credit × weight ÷ Σ weight over the items due in the
   period (credit 1 when done on or before the due date, ``late_credit`` when done after it, 0
   when not done); full points when nothing was due. Each item's share is its tenths of that
   line, the odd tenths going to the largest remainders (largest remainder method), so the
   items add up to the line.
2. 报送及时: ``timeliness.points`` × reports on time ÷ reports owed; full when none was owed.
3. 规范办理: ``conduct.points``, less each deduction up to its cap (working days overdue within
   the period, items returned at verification, extensions approved after the due date, and
   those approved before it, by default free), and never less than zero.

A township is assessed with its villages and communities; a department alone.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from config.assessment import TENTH, AssessmentRules, PerEvent
from domain.rules.glossary import ASSESSMENT_PARTS, zh_date
from models.enums import UnitKind


def overdue_workdays(*, due: int, done: int | None, before: int, last: int) -> int:
    """Working days within a period on which an item was past due and not done, from ordinals
    (working days counted up to and including a day): its due date ``due``, the day it was done
    ``done`` (None: not done), the day before the period ``before`` and its last day ``last``.
    The day it was done late counts (done one working day late: one day)."""
    end = last if done is None else min(done, last)
    return max(0, end - max(due, before))


def assessed_unit(kind: str, code: str, parent: str | None, parent_kind: str | None) -> str:
    """The unit whose score a unit's facts count for: a village or community under a township
    counts for the township; any other unit for itself."""
    village = kind in {UnitKind.VILLAGE.value, UnitKind.COMMUNITY.value}
    if village and parent is not None and parent_kind == UnitKind.TOWNSHIP.value:
        return parent
    return code


@dataclass(frozen=True)
class ItemFact:
    """One work item the period counts: due within it, or due before it and not done when it
    began (``carried``, 结转); ``done_on`` None: not done by the assessment day."""

    item_id: int
    unit: str
    unit_name: str
    milestone: str
    title: str
    weight: Decimal
    due: date
    done_on: date | None
    carried: bool
    overdue_workdays: int
    counted: bool = True
    """False: excused from 按期完成 by an upheld objection."""


@dataclass(frozen=True)
class EventFact:
    """An item returned at verification (``kind`` returned) or an extension approved (``kind``
    extension, ``old_due`` and ``new_due`` set) on ``day``."""

    kind: str
    item_id: int
    unit_name: str
    milestone: str
    title: str
    day: date
    reason: str | None = None
    old_due: date | None = None
    new_due: date | None = None

    @property
    def early(self) -> bool:
        """An extension approved on or before the due date it moved."""
        return self.old_due is not None and self.day <= self.old_due


@dataclass(frozen=True)
class CycleFact:
    """A reporting cycle a unit owed a report for, and how it was sent (by the cycle's due
    day, later within the assessment, or not)."""

    unit_name: str
    start: date
    end: date
    due: date
    on_time: bool
    sent: bool


@dataclass(frozen=True)
class UnitFacts:
    """Everything counted for one assessed unit (a township's with its villages')."""

    unit: str
    name: str
    kind: str
    items: tuple[ItemFact, ...] = ()
    events: tuple[EventFact, ...] = ()
    owed: int = 0
    on_time: int = 0
    cycles: tuple[CycleFact, ...] = ()
    """The owed cycles in detail (for an explanation; the counts alone score)."""


@dataclass(frozen=True)
class Detail:
    """One item, cycle or event behind a line, with the points it carries (None: none)."""

    text: str
    points: Decimal | None = None


@dataclass(frozen=True)
class Line:
    """One line of a score: its part, signed points, how they were worked out, and the facts."""

    part: str
    points: Decimal
    basis: str
    details: tuple[Detail, ...] = ()

    @property
    def title(self) -> str:
        """The part's Chinese name."""
        return ASSESSMENT_PARTS[self.part]


@dataclass(frozen=True)
class Counts:
    """What a score was worked out from, in numbers a ranking can show."""

    due: int  # items counted for 按期完成
    on_time: int  # of them, done on or before the due date
    owed: int  # reports owed
    sent_on_time: int  # of them, sent by the cycle's due day
    overdue_workdays: int


@dataclass(frozen=True)
class UnitScore:
    """A unit's score: the sum of its lines. ``assessed`` False: nothing to assess."""

    unit: str
    name: str
    kind: str
    score: Decimal
    lines: tuple[Line, ...]
    assessed: bool
    counts: Counts

    def part(self, name: str) -> Decimal:
        """The points of one part (0 when the score has no such line)."""
        return sum((line.points for line in self.lines if line.part == name), Decimal(0))


def _tenths(value: Fraction) -> int:
    """A non-negative exact value in tenths, rounded half up."""
    scaled = value * 10
    return int(scaled) + (1 if scaled - int(scaled) >= Fraction(1, 2) else 0)


def _points(tenths: int) -> Decimal:
    return (Decimal(tenths) * TENTH).quantize(TENTH)


def _num(value: Decimal | Fraction) -> str:
    """A number as a person writes it: 60, 0.5, 48.75."""
    if isinstance(value, Fraction):
        value = Decimal(value.numerator) / Decimal(value.denominator)
    return f"{value.quantize(Decimal('0.01'), ROUND_HALF_UP).normalize():f}"


def allocate(total: int, shares: Sequence[Fraction]) -> list[int]:
    """Split ``total`` tenths over ``shares`` (exact, in tenths, summing to about ``total``) by
    the largest remainder method: each gets its whole tenths, the rest go one by one to the
    largest fractions (the earlier share first on a tie)."""
    floors = [int(s) for s in shares]
    left = total - sum(floors)
    order = sorted(range(len(shares)), key=lambda i: (-(shares[i] - floors[i]), i))
    for i in order[: max(left, 0)]:
        floors[i] += 1
    return floors


def _completion(rules: AssessmentRules, items: Sequence[ItemFact]) -> Line:
    points = Fraction(rules.completion.points)
    counted = sorted((i for i in items if i.counted), key=lambda i: (i.due, i.item_id))
    weight = sum((Fraction(i.weight) for i in counted), Fraction(0))
    if not counted:
        return Line("completion", _points(_tenths(points)), "本期没有到期的事项，按满分计")
    late = Fraction(rules.completion.late_credit)

    def credit(i: ItemFact) -> Fraction:
        if i.done_on is None:
            return Fraction(0)
        return Fraction(1) if i.done_on <= i.due else late

    earned = sum((credit(i) * Fraction(i.weight) for i in counted), Fraction(0))
    total = _tenths(points * earned / weight)
    shares = allocate(
        total, [points * credit(i) * Fraction(i.weight) * 10 / weight for i in counted]
    )
    details = tuple(
        Detail(f"{_item(i)}，{_done(i, late)}，权重 {_num(i.weight)}", _points(n))
        for i, n in zip(counted, shares, strict=True)
    )
    on_time = sum(1 for i in counted if credit(i) == 1 and i.done_on is not None)
    done_late = sum(1 for i in counted if i.done_on is not None and i.done_on > i.due)
    basis = (
        f"应完成 {len(counted)} 项（其中结转 {sum(i.carried for i in counted)} 项，"
        f"权重合计 {_num(weight)}）：按期完成 {on_time} 项，"
        f"逾期完成 {done_late} 项（按 {_num(late)} 计），"
        f"未完成 {len(counted) - on_time - done_late} 项；"
        f"{_num(points)} × {_num(earned)} ÷ {_num(weight)}"
    )
    return Line("completion", _points(total), basis, details)


def _item(i: ItemFact) -> str:
    due = f"结转，{zh_date(i.due)}到期" if i.carried else f"{zh_date(i.due)}到期"
    return f"#{i.item_id} {i.milestone} {i.title}（{i.unit_name}），{due}"


def _done(i: ItemFact, late: Fraction) -> str:
    if i.done_on is None:
        return "未完成"
    if i.done_on <= i.due:
        return f"{zh_date(i.done_on)}办结（按期）"
    return f"{zh_date(i.done_on)}办结（逾期，按 {_num(late)} 计）"


def _timeliness(rules: AssessmentRules, facts: UnitFacts) -> Line:
    points = Fraction(rules.timeliness.points)
    if facts.owed == 0:
        return Line("timeliness", _points(_tenths(points)), "本期没有应报送的进展，按满分计")
    total = _tenths(points * facts.on_time / facts.owed)
    basis = (
        f"应报送 {facts.owed} 次，按时 {facts.on_time} 次；"
        f"{_num(points)} × {facts.on_time} ÷ {facts.owed}"
    )
    details = tuple(_cycles(name, cycles) for name, cycles in _by_unit(facts.cycles))
    return Line("timeliness", _points(total), basis, details)


def _by_unit(cycles: Iterable[CycleFact]) -> list[tuple[str, list[CycleFact]]]:
    """The cycles of each unit that did not report on time in all of them, by unit name."""
    grouped: dict[str, list[CycleFact]] = {}
    for c in sorted(cycles, key=lambda c: (c.unit_name, c.due, c.start)):
        grouped.setdefault(c.unit_name, []).append(c)
    return [(n, cs) for n, cs in grouped.items() if not all(c.on_time for c in cs)]


def _cycles(name: str, cycles: list[CycleFact]) -> Detail:
    """One unit's record: owed, on time, and the due days of those sent late or not at all."""
    late = "、".join(_cycle(c) for c in cycles if c.sent and not c.on_time)
    silent = "、".join(_cycle(c) for c in cycles if not c.sent)
    text = f"{name}：应报送 {len(cycles)} 次，按时 {sum(c.on_time for c in cycles)} 次"
    text += f"；逾期报送：{late}" if late else ""
    text += f"；未报送：{silent}" if silent else ""
    return Detail(text)


def _cycle(c: CycleFact) -> str:
    """A cycle by its days and its due day: 9月27日至10月3日（10月8日截止）; with the years
    when it spans two (2020年12月28日至2021年1月3日（2021年1月4日截止））."""
    if c.start.year == c.end.year == c.due.year:
        return f"{_md(c.start)}至{_md(c.end)}（{_md(c.due)}截止）"
    return f"{zh_date(c.start)}至{zh_date(c.end)}（{zh_date(c.due)}截止）"


def _md(day: date) -> str:
    return f"{day.month}月{day.day}日"


def _deduction(part: str, each: Decimal, cap: Decimal, facts: Iterable[tuple[str, int]]) -> Line:
    """A deduction of ``each`` per unit of count, at most ``cap``, from (text, count) facts."""
    listed = [(text, n) for text, n in facts if n > 0]
    count = sum(n for _, n in listed)
    raw = each * count
    taken = min(raw, cap)
    if each == 0:
        basis = f"{count} 项，不扣分"
    else:
        basis = f"{count} × {_num(each)} = {_num(raw)}" + (
            f"，以 {_num(cap)} 为限" if raw > cap else f"（上限 {_num(cap)}）"
        )
    details = tuple(Detail(text, -(each * n).quantize(TENTH) or None) for text, n in listed)
    return Line(part, -taken.quantize(TENTH), basis, details)


def _event_order(e: EventFact) -> tuple[date, str, int, date, date, str]:
    """A total order of events, so the lines never depend on the order facts came in."""
    return (e.day, e.kind, e.item_id, e.old_due or e.day, e.new_due or e.day, e.reason or "")


def _conduct(rules: AssessmentRules, facts: UnitFacts) -> list[Line]:
    c = rules.conduct
    events = sorted(facts.events, key=_event_order)
    overdue = [
        (f"{_item(i)}，期内逾期 {i.overdue_workdays} 个工作日", i.overdue_workdays)
        for i in sorted(facts.items, key=lambda i: (i.due, i.item_id))
    ]
    returned = [
        (
            f"#{e.item_id} {e.milestone} {e.title}（{e.unit_name}），{zh_date(e.day)}退回"
            + (f"：{e.reason}" if e.reason else ""),
            1,
        )
        for e in events
        if e.kind == "returned"
    ]

    def extensions(early: bool, rule: PerEvent) -> tuple[Decimal, Decimal, list[tuple[str, int]]]:
        listed = [
            (
                f"#{e.item_id} {e.milestone} {e.title}（{e.unit_name}），{zh_date(e.day)}批准延期，"
                f"时限 {zh_date(e.old_due)} → {zh_date(e.new_due)}",
                1,
            )
            for e in events
            if e.kind == "extension" and e.early == early and e.old_due and e.new_due
        ]
        return rule.each, rule.cap, listed

    lines = [
        Line("conduct", c.points.quantize(TENTH), f"基础分 {_num(c.points)}"),
        _deduction("overdue", c.overdue.per_workday, c.overdue.cap, overdue),
        _deduction("returned", c.returned.each, c.returned.cap, returned),
        _deduction("late_extension", *extensions(False, c.late_extension)),
        _deduction("early_extension", *extensions(True, c.early_extension)),
    ]
    taken = -sum((line.points for line in lines[1:]), Decimal(0))
    if taken > c.points:
        back = (taken - c.points).quantize(TENTH)
        lines.append(
            Line("floor", back, f"扣分 {_num(taken)} 超过基础分，以 {_num(c.points)} 为限")
        )
    return lines


def score(rules: AssessmentRules, facts: UnitFacts) -> UnitScore:
    """The unit's score and its lines, which add up to it exactly."""
    lines = (_completion(rules, facts.items), _timeliness(rules, facts), *_conduct(rules, facts))
    assessed = bool(facts.owed or facts.events or facts.items)
    total = sum((line.points for line in lines), Decimal(0)).quantize(TENTH)
    counted = [i for i in facts.items if i.counted]
    counts = Counts(
        due=len(counted),
        on_time=sum(1 for i in counted if i.done_on is not None and i.done_on <= i.due),
        owed=facts.owed,
        sent_on_time=facts.on_time,
        overdue_workdays=sum(i.overdue_workdays for i in facts.items),
    )
    return UnitScore(facts.unit, facts.name, facts.kind, total, lines, assessed, counts)


def ranked(scores: Iterable[UnitScore]) -> list[tuple[int, UnitScore]]:
    """Assessed units best first (by code on a tie), each with its rank; equal scores share a
    rank and the next rank skips (1, 2, 2, 4)."""
    ordered = sorted((s for s in scores if s.assessed), key=lambda s: (-s.score, s.unit))
    out: list[tuple[int, UnitScore]] = []
    for n, s in enumerate(ordered, start=1):
        rank = out[-1][0] if out and out[-1][1].score == s.score else n
        out.append((rank, s))
    return out
