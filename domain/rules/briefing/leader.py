"""Page one of the briefing: 需要领导协调解决的事项, five at most, chosen and worded by rule.

Four kinds of matter qualify:

1. **leadership** — overdue items whose escalation reached the ladder's leadership level (one
   matter per milestone and due date), more working days overdue and more units first;
2. **blocked** — items reported 受阻 whose problem (or next step) names another department of
   the plan (one matter per milestone and wording), more units and overdue first;
3. **indicator** — indicators that cannot reach their target by its date at the pace they moved
   since an earlier date (or whose date has passed unmet), the largest shortfall first;
4. **silent** — units that owed a report and sent none for ``SILENT_CYCLES`` cycles in a row or
   more, one matter per township (with its villages) or department, longest silence first.

Selection: within a kind by severity (ties by the matter's and units' codes); across kinds in
turns — each kind's most severe in the order above, then each kind's second, and so on — so one
kind cannot crowd out the others; the first ``LEADER_ROWS``.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from domain.rules.briefing.facts import ItemFact, TaskFact, TimelinessFact, UnitFact
from domain.rules.briefing.lists import named_units, shorten
from domain.rules.briefing.model import LeaderItem
from domain.rules.glossary import zh_date
from domain.rules.indicators import OPS, IndicatorValue
from models.enums import Status

LEADER_ROWS = 5
SILENT_CYCLES = 3
KINDS = ("leadership", "blocked", "indicator", "silent")
PROBLEM_CHARS = 24
REASON_CHARS = 16


def main_reason(stated: Sequence[str | None]) -> str:
    """The reason most units gave (ties: the first in code-point order), shortened; empty if
    none."""
    said = Counter(r for r in stated if r)
    if not said:
        return ""
    return shorten(min(said, key=lambda r: (-said[r], r)), REASON_CHARS)


@dataclass(frozen=True)
class Candidate:
    """A matter that qualifies for page one, with its severity (larger is more severe) and a
    key that orders equal severities the same way every time."""

    kind: str
    severity: tuple[float, ...]
    key: tuple[str, ...]
    item: LeaderItem


def choose(
    candidates: Sequence[Candidate], limit: int = LEADER_ROWS
) -> tuple[list[LeaderItem], dict[str, int]]:
    """(the matters for page one, how many more of each kind qualified): within a kind most
    severe first, across kinds in turns in the order of :data:`KINDS`."""
    by_kind: dict[str, list[Candidate]] = defaultdict(list)
    for c in candidates:
        by_kind[c.kind].append(c)
    turns: list[tuple[int, int, Candidate]] = []
    for kind, members in by_kind.items():
        members.sort(key=lambda c: (tuple(-s for s in c.severity), c.key))
        order = KINDS.index(kind) if kind in KINDS else len(KINDS)
        turns.extend((n, order, c) for n, c in enumerate(members))
    turns.sort(key=lambda t: (t[0], t[1], t[2].key))
    chosen = [c.item for _, _, c in turns[:limit]]
    return chosen, dict(Counter(c.kind for _, _, c in turns[limit:]))


def brackets(text: str) -> str:
    """Half-width brackets in catalogue titles made full-width, as official Chinese text has."""
    return re.sub(r"\s*\(\s*", "（", re.sub(r"\s*\)", "）", text))


def _aliases(name: str) -> list[str]:
    """The ways a problem may name a department: its name without brackets, the part after
    the county (``…县``, ``…县委``; not for ``…县委员会``, whose rest is generic), and for a
    bureau (``…局``) that part without ``局``."""
    plain = re.sub(r"[（(].*?[）)]", "", name)
    out = [plain]
    if "县" in plain:
        short = plain.rsplit("县", 1)[1]
        if short.startswith("委") and not short.startswith("委员会"):
            short = short[1:]
        if not short.startswith("委员会"):
            out.append(short)
            if short.endswith("局") and not short.endswith("分局") and len(short) >= 3:
                out.append(short[:-1])
    return [a for a in out if len(a) >= 2]


def department_named(text: str, units: dict[str, UnitFact], own: str) -> UnitFact | None:
    """The department of the plan ``text`` names (the longest name found), other than the
    unit ``own`` itself; None when it names none."""
    best: tuple[int, str, UnitFact] | None = None
    for unit in units.values():
        if not unit.is_department or unit.code == own:
            continue
        for alias in _aliases(unit.name):
            if alias in text and (best is None or (len(alias), unit.code) > best[:2]):
                best = (len(alias), unit.code, unit)
    return best[2] if best else None


def day_zh(day: date, as_of: date) -> str:
    """3月31日 in the briefing's year, else 2025年12月31日."""
    return f"{day.month}月{day.day}日" if day.year == as_of.year else zh_date(day)


def leadership_matters(
    items: Sequence[ItemFact],
    leadership: frozenset[int],
    levels: dict[int, str],
    reasons: dict[int, str],
    held_by: dict[int, int],
    tasks: dict[str, TaskFact],
) -> list[Candidate]:
    """Overdue items at the leadership level, one matter per milestone and due date."""
    groups: dict[tuple[str, date], list[ItemFact]] = defaultdict(list)
    for i in items:
        if i.id in leadership and i.status == Status.OVERDUE:
            groups[(i.milestone, i.due)].append(i)
    out = []
    for (milestone, _due), members in groups.items():
        members.sort(key=lambda i: i.unit)
        worst = max(-i.workdays_left for i in members)
        names = named_units([i.unit_name for i in members])
        level = levels.get(members[0].id, "逾期通报")
        said = [reasons.get(i.id) for i in members]
        top = main_reason(said)
        situation = f"逾期{'最长' if len(members) > 1 else ''}{worst}个工作日，已{level}；" + (
            f"主要原因“{top}”" if top else "原因未说明"
        )
        held = sum(held_by.get(i.id, 0) for i in members)
        if held:
            situation += f"；另有{held}项后续事项因此未能启动"
        lead = tasks[members[0].task].lead_name if members[0].task in tasks else ""
        ask = (
            "请督促限期办结。"
            if len(members) == 1
            else f"请责成{brackets(lead) or '牵头单位'}督促限期办结。"
        )
        out.append(
            Candidate(
                "leadership",
                (worst, len(members)),
                (milestone, members[0].unit),
                LeaderItem(
                    kind="leadership",
                    matter=brackets(members[0].title),
                    units=names,
                    situation=situation + "。",
                    ask=ask,
                ),
            )
        )
    return out


def blocked_matters(
    items: Sequence[ItemFact],
    reasons: dict[int, str],
    next_steps: dict[int, str],
    units: dict[str, UnitFact],
) -> list[Candidate]:
    """Blocked items whose unit names another department it needs, one matter per milestone
    and wording."""
    groups: dict[tuple[str, str, str], list[ItemFact]] = defaultdict(list)
    for i in items:
        if not i.blocked:
            continue
        words = reasons.get(i.id, "")
        dept = department_named(f"{words} {next_steps.get(i.id, '')}", units, i.unit)
        if dept is not None and words:
            groups[(i.milestone, words, dept.code)].append(i)
    out = []
    for (milestone, words, dept_code), members in groups.items():
        members.sort(key=lambda i: i.unit)
        overdue = sum(1 for i in members if i.status == Status.OVERDUE)
        dept_name = brackets(units[dept_code].name)
        out.append(
            Candidate(
                "blocked",
                (len(members), overdue),
                (milestone, members[0].unit, words),
                LeaderItem(
                    kind="blocked",
                    matter=brackets(members[0].title),
                    units=named_units([i.unit_name for i in members]),
                    situation=f"受阻，“{shorten(words, PROBLEM_CHARS)}”"
                    + (f"（其中{overdue}项已逾期）" if overdue else "")
                    + "。",
                    ask=f"请协调{dept_name}解决。",
                ),
            )
        )
    return out


def silent_matters(
    timeliness: Sequence[TimelinessFact], units: dict[str, UnitFact]
) -> list[Candidate]:
    """Units silent for :data:`SILENT_CYCLES` cycles or more, one matter per ranking group."""
    groups: dict[str, list[TimelinessFact]] = defaultdict(list)
    for t in timeliness:
        unit = units.get(t.unit)
        if t.silent >= SILENT_CYCLES and unit is not None and unit.group is not None:
            groups[unit.group].append(t)
    out = []
    for group, members in groups.items():
        members.sort(key=lambda t: t.unit)
        longest = max(t.silent for t in members)
        head = brackets(units[group].name)
        out.append(
            Candidate(
                "silent",
                (longest, len(members)),
                (group,),
                LeaderItem(
                    kind="silent",
                    matter="未报送进展",
                    units=named_units([units[t.unit].name for t in members]),
                    situation=f"连续{SILENT_CYCLES}期以上未报（最长{longest}期）。",
                    ask=f"请责成{head}督促报送。",
                ),
            )
        )
    return out


def projected(value: float, then: tuple[date, float], as_of: date, due: date) -> float:
    """The value on ``due`` if it keeps moving at its pace since ``then`` (straight line)."""
    since, before = then
    days = (as_of - since).days
    return value + (value - before) / days * (due - as_of).days if days > 0 else value


def _num(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def indicator_matters(
    values: Sequence[IndicatorValue], baselines: dict[str, tuple[date, float]], as_of: date
) -> list[Candidate]:
    """Indicators unmet whose date has passed, or that will not reach their target by it at
    the pace since their baseline (none without a value or an earlier one)."""
    out = []
    for v in values:
        if v.value is None or OPS[v.target_op](round(v.value, 6), v.target):
            continue
        then = baselines.get(v.id)
        if v.due > as_of:
            if then is None or then[0] >= as_of:
                continue
            end = projected(v.value, then, as_of, v.due)
            if OPS[v.target_op](round(end, 6), v.target):
                continue
            pace = f"按现有进度到期约{_num(end)}{v.unit_of_measure}"
        else:
            end = v.value
            pace = f"已过目标期限{day_zh(v.due, as_of)}"
        op = {">=": "≥", "<=": "≤"}.get(v.target_op, v.target_op)
        lagging = sorted(
            (
                a
                for a in v.townships
                if a.value is not None and not OPS[v.target_op](a.value, v.target)
            ),
            key=lambda a: (abs(v.target - (a.value or 0)), a.code),
            reverse=True,
        )
        shortfall = abs(v.target - end) / abs(v.target) if v.target else abs(end)
        out.append(
            Candidate(
                "indicator",
                (shortfall,),
                (v.id,),
                LeaderItem(
                    kind="indicator",
                    matter=brackets(v.name),
                    units=named_units([a.name for a in lagging]) or "各责任单位",
                    situation=f"当前{_num(v.value)}{v.unit_of_measure}，目标{op}"
                    f"{_num(v.target)}{v.unit_of_measure}；{pace}。",
                    ask="请督促加快推进。",
                ),
            )
        )
    return out
