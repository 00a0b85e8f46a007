"""Catalogue entities together with where they were written, for precise error messages."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from config.errors import Problem
from config.yaml_lines import LineIndex, Loc, format_loc
from tasks_catalog.schema import IndicatorSpec, MeasureSpec, PlanSpec, TaskSpec, UnitSpec


@dataclass(frozen=True)
class Where:
    """Where an entity was written: its file and its field path in that file."""

    file: Path
    loc: Loc
    index: LineIndex

    def problem(self, message: str, *sub: str | int) -> Problem:
        """A problem located at this entity, or at a field below it."""
        loc = (*self.loc, *sub)
        return Problem(self.file, self.index.line(loc), format_loc(loc), message)


@dataclass
class Sources:
    """Entities merged from all files of a plan, each with its :class:`Where`."""

    plans: list[tuple[PlanSpec, Where]] = field(default_factory=list)
    units: list[tuple[UnitSpec, Where]] = field(default_factory=list)
    tasks: list[tuple[TaskSpec, Where]] = field(default_factory=list)
    measures: list[tuple[MeasureSpec, Where]] = field(default_factory=list)
    indicators: list[tuple[IndicatorSpec, Where]] = field(default_factory=list)
