"""The escalation ladder as data the queries join with: which ladder an item follows, its rungs
as a small table, and how long an item may stay on one notice.

For an item on a day, let *d* = working days since its due date (negative before it). Its
ladder is the urgent one, an override, or the default; the level reached is the highest whose
offset ≤ *d*; with ``repeat_every`` *r* the notice repeats, cycle = (d − offset) ÷ r.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import Integer, String, literal, select, union_all
from sqlalchemy.sql.selectable import Subquery

from config.ladder import Ladder, Level, Override


@dataclass(frozen=True)
class PlannedNotice:
    """A notice the ladder calls for on a date, before it is written to the outbox."""

    dedupe_key: str
    kind: str
    item_id: int | None
    unit_id: int
    level: str
    level_name: str
    due: date | None
    cycle: int
    workdays: int
    roles: list[str]
    rule: str


def special_ladders(ladder: Ladder) -> list[tuple[str, Override]]:
    """The ladders that replace the default for some tasks or milestones, in precedence order:
    the urgent one first, then the overrides as listed."""
    named = [("urgent", ladder.urgent)] if ladder.urgent is not None else []
    return named + [(f"override-{i}", o) for i, o in enumerate(ladder.overrides)]


def ladders(ladder: Ladder) -> dict[str, list[Level]]:
    """Ladder name → its levels (default, urgent, override-0, override-1, …)."""
    return {"default": ladder.levels, **{k: o.levels for k, o in special_ladders(ladder)}}


def ladder_of(ladder: Ladder, milestone: str, task: str) -> str:
    """The name of the ladder a milestone's items follow: the first special ladder that names
    its task or milestone, else the default."""
    return next(
        (k for k, o in special_ladders(ladder) if milestone in o.milestones or task in o.tasks),
        "default",
    )


NO_END = 1_000_000
"""Working days overdue past any ladder's last rung."""


def rung_rows(ladder: Ladder) -> list[tuple[str, str, int, int, int]]:
    """Every ladder's levels: (ladder, level, offset, next offset, repeat), the last rung of a
    ladder open-ended (it holds every d from its offset on)."""
    return [
        (key, lv.id, lv.offset, nxt.offset if nxt else NO_END, lv.repeat_every or 0)
        for key, levels in ladders(ladder).items()
        for lv, nxt in zip(levels, [*levels[1:], None], strict=True)
    ]


def longest_stay(ladder: Ladder) -> int | None:
    """The most working days an item stays on one notice of the ladder (one level, one repeat
    cycle); None when a ladder ends with a level that does not repeat."""
    stays = []
    for _, _, offset, nxt, repeat in rung_rows(ladder):
        if nxt == NO_END and not repeat:
            return None
        stays.append(min(repeat or NO_END, nxt - offset))
    return max(stays, default=None)


def rungs(ladder: Ladder) -> Subquery:
    """:func:`rung_rows` as a table: (ladder, level, offset, next_offset, repeat)."""
    # a UNION ALL of one-row SELECTs: SQLite cannot name the columns of a VALUES list
    return union_all(
        *[
            select(
                literal(key, String).label("ladder"),
                literal(level, String).label("level"),
                literal(offset, Integer).label("offset"),
                literal(nxt, Integer).label("next_offset"),
                literal(repeat, Integer).label("repeat"),
            )
            for key, level, offset, nxt, repeat in rung_rows(ladder)
        ]
    ).subquery("rungs")
