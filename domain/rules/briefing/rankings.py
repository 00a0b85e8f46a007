"""The briefing's rankings of units.

Townships (each with its villages and communities) and county departments are compared
separately: by on-time completion (done on time ÷ due to date, only units with something due)
and by reporting timeliness (reports on time ÷ reports owed over the last eight cycles). Leaders
are the best ``RANK_SIZE`` above the group's average; laggards the worst ``RANK_SIZE`` below it
(for completion, only units with overdue items).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import date

from domain.rules.briefing.facts import ItemFact, TimelinessFact, UnitFact
from domain.rules.briefing.model import UnitRank, UnitRankings
from models.enums import Status

RANK_SIZE = 3


def leaders_and_laggards(
    ranks: list[UnitRank], *, laggard_needs_overdue: bool
) -> tuple[list[UnitRank], list[UnitRank]]:
    """Leaders: the best ``RANK_SIZE`` above the group's average rate (and above 0 %);
    laggards: the worst ``RANK_SIZE`` below it (for completion, only units with something
    overdue). Ties: more items first for leaders, more overdue first for laggards. With every
    unit at the same rate there are neither."""
    rated = [r for r in ranks if r.rate is not None]
    if not rated:
        return [], []
    mean = sum(r.rate or 0 for r in rated) / len(rated)
    best = sorted(
        (r for r in rated if (r.rate or 0) > max(mean, 0)),
        key=lambda r: (-(r.rate or 0), -r.due, r.code),
    )[:RANK_SIZE]
    worst = sorted(
        (
            r
            for r in rated
            if (r.rate or 0) < min(mean, 100) and (r.overdue > 0 or not laggard_needs_overdue)
        ),
        key=lambda r: (r.rate or 0, -r.overdue, -r.due, r.code),
    )[:RANK_SIZE]
    return best, worst


def common_rate(ranks: Sequence[UnitRank]) -> float | None:
    """The rate every compared unit shares, when there are at least two and all tie."""
    rates = {r.rate for r in ranks if r.rate is not None}
    compared = sum(1 for r in ranks if r.rate is not None)
    return rates.pop() if len(rates) == 1 and compared >= 2 else None


def rankings(
    items: Sequence[ItemFact],
    units: dict[str, UnitFact],
    timeliness: Sequence[TimelinessFact],
    as_of: date,
) -> list[UnitRankings]:
    due: Counter[str] = Counter()
    on_time: Counter[str] = Counter()
    overdue: Counter[str] = Counter()
    for item in items:
        unit = units.get(item.unit)
        group = unit.group if unit is not None else None
        if group is None or item.due > as_of:
            continue
        due[group] += 1
        on_time[group] += item.status == Status.DONE_ON_TIME
        overdue[group] += item.status == Status.OVERDUE
    owed: Counter[str] = Counter()
    sent: Counter[str] = Counter()
    for t in timeliness:
        group = units[t.unit].group if t.unit in units else None
        if group is not None:
            owed[group] += t.owed
            sent[group] += t.on_time
    out = []
    for label, departments in (("乡镇（含所辖村、社区）", False), ("县直部门", True)):
        members = sorted(
            {
                u.group
                for u in units.values()
                if u.group and units[u.group].is_department is departments
            }
        )
        completion = [
            UnitRank(
                code=g,
                name=units[g].name,
                due=due[g],
                on_time=on_time[g],
                overdue=overdue[g],
                rate=round(100 * on_time[g] / due[g], 1) if due[g] else None,
            )
            for g in members
        ]
        timely = [
            UnitRank(
                code=g,
                name=units[g].name,
                due=owed[g],
                on_time=sent[g],
                overdue=owed[g] - sent[g],
                rate=round(100 * sent[g] / owed[g], 1) if owed[g] else None,
            )
            for g in members
        ]
        c_best, c_worst = leaders_and_laggards(completion, laggard_needs_overdue=True)
        t_best, t_worst = leaders_and_laggards(timely, laggard_needs_overdue=False)
        compared = {r.code for r in (*completion, *timely) if r.rate is not None}
        if not compared:
            continue
        out.append(
            UnitRankings(
                group=label,
                completion_tie=common_rate(completion),
                timeliness_tie=common_rate(timely),
                completion_compared=sum(1 for r in completion if r.rate is not None),
                timeliness_compared=sum(1 for r in timely if r.rate is not None),
                completion_leaders=c_best,
                completion_laggards=c_worst,
                timeliness_leaders=t_best,
                timeliness_laggards=t_worst,
                ranked=len(compared),
            )
        )
    return out
