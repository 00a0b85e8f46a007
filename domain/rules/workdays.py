"""Working-day calendar: which days are working days, and a running count (ordinal) of them.

China moves working days around holidays (调休): 2026-10-10 is a Saturday and a working day;
2026-10-01 is a Thursday and a holiday. ``chinesecalendar`` knows the State Council's notices
for 2004–2026; for other years we fall back to Monday–Friday and say so loudly. A local override
file can correct or extend any day.

The ordinal of a day is the number of working days from a fixed epoch (2004-01-01, the first day
chinesecalendar knows) up to and including it, so "N working days between a and b" is
``ordinal(b) - ordinal(a)`` — a subtraction that also works inside SQL once the calendar is a
table, and any stretch of days can be added to the table without renumbering the rest.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from config.errors import InputError, Problem
from config.pydantic_words import pydantic_reason
from domain.rules.glossary import zh_date

SATURDAY = 5
EPOCH = date(2004, 1, 1)
LONGEST_REST = 31
"""More rest days in a row than any calendar has (the longest Chinese holiday, with its weekends,
is 9): a deadline is never postponed further, and a calendar that says so is wrong."""


@dataclass(frozen=True)
class Day:
    """One day of the calendar."""

    day: date
    is_workday: bool
    ordinal: int
    source: str  # chinesecalendar | override | fallback
    note: str | None


class Override(BaseModel):
    """A local correction: this date is (or is not) a working day."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    date: date
    workday: bool
    note: str | None = None


class OverrideFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    days: list[Override] = Field(default_factory=list)


@lru_cache(maxsize=16384)
def official_day(day: date) -> tuple[bool, str | None] | None:
    """(is working day, holiday's Chinese name) from chinesecalendar, or None if it lacks the
    year. chinesecalendar (its tables of every year) loads only when a calendar is built."""
    import chinese_calendar  # noqa: PLC0415

    try:
        workday = chinese_calendar.is_workday(day)
        _, name = chinese_calendar.get_holiday_detail(day)
    except NotImplementedError:
        return None
    return bool(workday), holiday_names().get(name, name) if name else None


@lru_cache(maxsize=1)
def holiday_names() -> dict[str, str]:
    """chinesecalendar's holiday names (English) → the Chinese ones it also carries."""
    import chinese_calendar  # noqa: PLC0415

    return {h.value: h.chinese for h in chinese_calendar.Holiday}


def build_calendar(
    first: date, last: date, overrides: Mapping[date, Override] | None = None
) -> tuple[list[Day], list[int]]:
    """Every day from ``first`` to ``last`` with its epoch-based ordinal; and fallback years."""
    if first < EPOCH:
        raise ValueError(f"工作日日历从{zh_date(EPOCH)}开始；{zh_date(first)}早于此日")
    overrides = overrides or {}
    days: list[Day] = []
    fallback_years: set[int] = set()
    ordinal = 0
    current = EPOCH
    while current <= last:
        if current in overrides:
            o = overrides[current]
            workday, source, note = o.workday, "override", o.note
        elif (official := official_day(current)) is not None:
            workday, source, note = official[0], "chinesecalendar", official[1]
        else:
            workday, source, note = current.weekday() < SATURDAY, "fallback", None
            if current >= first:
                fallback_years.add(current.year)
        ordinal += workday
        if current >= first:
            days.append(Day(current, workday, ordinal, source, note))
        current += timedelta(days=1)
    return days, sorted(fallback_years)


def fallback_warning(years: list[int]) -> str:
    """The warning printed whenever a fallback year is in use."""
    listed = "、".join(f"{y}年" for y in years)
    return (
        f"工作日日历：chinesecalendar 没有{listed}的节假日安排，暂按周一至周五计算。"
        "请把当年国务院节假日安排写入工作日调整文件（DUBAN_CALENDAR_OVERRIDES），"
        "或升级 chinesecalendar。"
    )


def load_overrides(path: Path | None) -> dict[date, Override]:
    """Read a YAML override file (``days: [{date, workday, note}]``); InputError if invalid."""
    if path is None:
        return {}
    if not path.exists():
        raise InputError(f"找不到工作日调整文件：{path}", [Problem(path, None, "", "没有这个文件")])
    from config.yaml_lines import format_loc, read_yaml  # noqa: PLC0415 - YAML only when a file is set

    data, index, problems = read_yaml(path)
    if not problems:
        try:
            parsed = OverrideFile.model_validate(data or {})
        except ValidationError as error:
            for detail in error.errors(include_url=False):
                loc = tuple(detail["loc"])
                problems.append(
                    Problem(path, index.line(loc), format_loc(loc), pydantic_reason(detail))
                )
    if problems:
        raise InputError(f"工作日调整文件 {path} 有误，未使用", problems)
    result: dict[date, Override] = {}
    for i, override in enumerate(parsed.days):
        if override.date in result:
            loc = ("days", i, "date")
            raise InputError(
                f"工作日调整文件 {path} 有误，未使用",
                [Problem(path, index.line(loc), format_loc(loc), f"{override.date} 列了两次")],
            )
        result[override.date] = override
    return result


def postpone(day: date, is_workday: Callable[[date], bool]) -> date:
    """顺延: a deadline that falls on a rest day moves to the next working day; one on a working
    day stays. The one rule for every deadline (milestones, extensions, reporting cycles);
    ValueError when no working day comes within :data:`LONGEST_REST` days."""
    moved = day
    while not is_workday(moved):
        moved += timedelta(days=1)
        if moved - day > timedelta(days=LONGEST_REST):
            raise ValueError(f"{zh_date(day)}之后{LONGEST_REST}天内没有工作日：请检查工作日日历")
    return moved
