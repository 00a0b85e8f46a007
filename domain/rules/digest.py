"""A digest's content, as people read it: its lines grouped and, for those who oversee many units,
summed up.

A liaison reads each of the unit's items (at most :data:`DETAIL_LIMIT`); a unit's head, the
coordinator and leadership read a summary: counts by key task and by township, and the items
longest overdue, identical rows (same milestone, due date and timing) grouped into one line
that names the first unit and the count.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass

DETAIL_LIMIT = 10
"""Items a liaison's digest lists one by one; the rest are counted (the link shows them all)."""
TOP_LIMIT = 10
"""Grouped lines of the items longest overdue in a summary."""
TASK_LIMIT = 8
"""Key tasks counted line by line in a summary; the rest share one line."""
PLACES_PER_LINE = 4
"""Townships counted on one line of a summary."""
COUNTY = "县直部门"
"""Where a county department's items are counted among the townships."""


@dataclass(frozen=True)
class DigestItem:
    """One notice of a digest, about one item (or one missing report) of one unit."""

    level_name: str
    task: str
    title: str
    unit_name: str
    place: str
    due_zh: str
    timing: str
    overdue: int
    state_label: str
    percent: int
    evidence: str


@dataclass(frozen=True)
class DigestLine:
    """Items with the same milestone, due date and timing, as one line."""

    level_name: str
    title: str
    units: tuple[str, ...]
    due_zh: str
    timing: str
    overdue: int
    state_label: str
    percent: int
    evidence: str

    @property
    def who(self) -> str:
        """The units in words: one name, or the first and the count."""
        if len(self.units) == 1:
            return self.units[0]
        return f"{self.units[0]}等{len(self.units)}个单位"


@dataclass(frozen=True)
class Count:
    """How many items a key task or a township has in a digest, and how many are overdue."""

    name: str
    items: int
    overdue: int

    @property
    def text(self) -> str:
        if self.overdue == self.items:
            return f"{self.name} {self.items}项逾期"
        if self.overdue:
            return f"{self.name} {self.items}项（逾期{self.overdue}项）"
        return f"{self.name} {self.items}项"


@dataclass(frozen=True)
class Summary:
    """A digest summed up: counts by key task and by township, and the lines most overdue."""

    tasks: tuple[Count, ...]
    other_tasks: Count | None
    places: tuple[tuple[Count, ...], ...]
    top: tuple[DigestLine, ...]
    top_overdue: bool
    shown: int
    total: int

    @property
    def complete(self) -> bool:
        """Whether every item and unit is named (else the full list goes along)."""
        return self.shown == self.total and all(len(line.units) == 1 for line in self.top)

    @property
    def counted(self) -> bool:
        """Whether the counts are worth their lines: more items than a short list holds."""
        return self.total > TOP_LIMIT or self.shown < self.total


def timing(kind: str, overdue: int, percent: int, due_zh: str = "") -> str:
    """When a line's item is due, in words: working days overdue or left, or the pace or report
    a notice of that ``kind`` is about (``overdue`` < 0 is days left; ``due_zh`` the report's
    due day)."""
    if kind == "behind_pace":
        return f"当前进度{percent}%，滞后于序时进度"
    if kind == "missing_report":
        if not overdue:
            return "本期进展今天截止报送"
        since = f"{due_zh}截止，" if due_zh else "截止日"
        return f"本期进展未报送（{since}已过{overdue}个工作日）"
    if overdue > 0:
        return f"已逾期{overdue}个工作日"
    return "今天到期" if overdue == 0 else f"还剩{-overdue}个工作日"


def grouped(items: list[DigestItem]) -> list[DigestLine]:
    """Identical rows as one line each, most overdue first (of equal days, the larger group),
    units in the order they first appear."""
    groups: dict[tuple[str, str, str, str], list[DigestItem]] = defaultdict(list)
    for item in items:
        groups[(item.level_name, item.title, item.due_zh, item.timing)].append(item)
    lines = [
        DigestLine(
            level_name=level,
            title=title,
            units=tuple(dict.fromkeys(i.unit_name for i in members)),
            due_zh=due,
            timing=when,
            overdue=members[0].overdue,
            state_label=members[0].state_label if len(members) == 1 else "",
            percent=members[0].percent if len(members) == 1 else 0,
            evidence=members[0].evidence,
        )
        for (level, title, due, when), members in groups.items()
    ]
    return sorted(lines, key=lambda line: (-line.overdue, -len(line.units)))


def _counts(items: list[DigestItem], key: str) -> list[Count]:
    total: Counter[str] = Counter()
    late: Counter[str] = Counter()
    for item in items:
        name = str(getattr(item, key))
        total[name] += 1
        late[name] += item.overdue > 0
    return [Count(n, c, late[n]) for n, c in sorted(total.items(), key=lambda kv: (-kv[1], kv[0]))]


def summarize(items: list[DigestItem], *, top: int = TOP_LIMIT, tasks: int = TASK_LIMIT) -> Summary:
    """The summary of a digest for someone overseeing many items (see the module docstring)."""
    by_task = _counts(items, "task")
    tasks = tasks + 1 if len(by_task) == tasks + 1 else tasks  # no "其余1项任务"
    rest = by_task[tasks:]
    other = (
        Count(f"其余{len(rest)}项任务", sum(c.items for c in rest), sum(c.overdue for c in rest))
        if rest
        else None
    )
    places = _counts(items, "place")
    rows = tuple(
        tuple(places[i : i + PLACES_PER_LINE]) for i in range(0, len(places), PLACES_PER_LINE)
    )
    lines = grouped(items)
    late = [line for line in lines if line.overdue > 0 and "未报送" not in line.timing]
    chosen = (late or lines)[:top]
    return Summary(
        tasks=tuple(by_task[:tasks]),
        other_tasks=other,
        places=rows if len(places) > 1 else (),
        top=tuple(chosen),
        top_overdue=bool(late),
        shown=sum(len(line.units) for line in chosen),
        total=len(items),
    )


def digest_subject(name: str, overdue: int, soon: int) -> str:
    """``【督办】施甸县民政局：2项逾期、3项待办``."""
    parts = ([f"{overdue}项逾期"] if overdue else []) + ([f"{soon}项待办"] if soon else [])
    return f"【督办】{name}：" + "、".join(parts)
