"""The escalation ladder as data: levels, recipients by role, repeats, overrides, urgent items.

The default ladder is ``config/ladder.yaml``; ``DUBAN_LADDER`` points at another file. It is read
with line numbers, so a mistake is reported as ``file:line: field: message``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    model_validator,
)

from config.errors import InputError, Problem
from config.pydantic_words import pydantic_reason
from config.yaml_lines import format_loc, read_yaml

DEFAULT_LADDER = Path(__file__).resolve().parent / "ladder.yaml"
Role = Literal["owner:liaison", "owner:head", "coordinator", "leadership"]
Id = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=40)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Level(Strict):
    """One rung: when it is reached (working days from the due date) and who hears about it."""

    id: Id
    name: str
    offset: int = Field(ge=-60, le=250)
    to: list[Role] = Field(min_length=1)
    repeat_every: int | None = Field(default=None, ge=1, le=60)


def _ordered(levels: list[Level]) -> list[Level]:
    offsets = [level.offset for level in levels]
    if offsets != sorted(offsets) or len(set(offsets)) != len(offsets):
        raise ValueError("各级的 offset 须严格递增")
    ids = [level.id for level in levels]
    if len(set(ids)) != len(ids):
        raise ValueError("各级的 id 不能重复")
    return levels


class Override(Strict):
    """A ladder replacing the default for some tasks or milestones."""

    tasks: list[str] = Field(default_factory=list)
    milestones: list[str] = Field(default_factory=list)
    levels: list[Level] = Field(min_length=1)

    @model_validator(mode="after")
    def _check(self) -> Override:
        _ordered(self.levels)
        return self


class MissingReport(Strict):
    after: int = Field(default=0, ge=0, le=30)
    to: list[Role] = Field(min_length=1)


class BehindPace(Strict):
    """Who hears that an item is behind pace (the margin is the setting DUBAN_PACE_MARGIN)."""

    to: list[Role] = Field(min_length=1)


class Ladder(Strict):
    """The whole policy."""

    levels: list[Level] = Field(min_length=1)
    urgent: Override | None = None
    overrides: list[Override] = Field(default_factory=list)
    missing_report: MissingReport | None = None
    behind_pace: BehindPace | None = None
    daily_cap: int = Field(default=1, ge=1, le=20)

    @model_validator(mode="after")
    def _check(self) -> Ladder:
        _ordered(self.levels)
        ids = [lv.id for lv in self.all_levels()]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(f"这些级别 id 用在了两个阶梯中：{'、'.join(duplicates)}")
        return self

    def rungs(self) -> dict[str, tuple[int, int]]:
        """Level id → (its place in its ladder counted from 0, that ladder's number of levels):
        a level's severity is its order in its ladder, never a guess from its name."""
        ladders = [self.levels, *(o.levels for o in [self.urgent, *self.overrides] if o)]
        return {lv.id: (i, len(levels)) for levels in ladders for i, lv in enumerate(levels)}

    def all_levels(self) -> list[Level]:
        """Every level of every ladder (default, urgent, overrides)."""
        extra = [lv for o in [self.urgent, *self.overrides] if o for lv in o.levels]
        return [*self.levels, *extra]


def load_ladder(path: Path | None = None) -> Ladder:
    """Read and validate a ladder file (default: the shipped one)."""
    path = path or DEFAULT_LADDER
    if not path.exists():
        raise InputError(f"找不到催办阶梯文件：{path}", [Problem(path, None, "", "没有这个文件")])
    data, index, problems = read_yaml(path)
    if not problems:
        try:
            return Ladder.model_validate(data or {})
        except ValidationError as error:
            for detail in error.errors(include_url=False):
                loc = tuple(detail["loc"])
                problems.append(
                    Problem(path, index.line(loc), format_loc(loc), pydantic_reason(detail))
                )
    raise InputError(f"催办阶梯文件 {path} 有误，未使用", problems)
