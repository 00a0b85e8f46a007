"""Errors that mean "the user gave us something wrong", as opposed to a bug.

The CLI prints them without a traceback and exits with status 2. Each problem names where it is:
the file, the line (when known) and the field path, so a coordinator can fix it in an editor.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one input, located as precisely as we can."""

    file: Path | None
    line: int | None
    field: str
    message: str
    sheet: str | None = None  # a workbook's sheet other than its main one (指标数据)

    def __str__(self) -> str:
        where = str(self.file) if self.file else "<输入>"
        if self.sheet:
            where += f"[{self.sheet}]"
        if self.line is not None:
            where += f":{self.line}"
        return (
            f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"
        )


def where_of(problem: Problem) -> str:
    """Where a problem is: （“指标数据”表）第N行，列名 / 列名 / 全文件."""
    sheet = f"“{problem.sheet}”表" if problem.sheet else ""
    parts = [f"{sheet}第{problem.line}行"] if problem.line is not None else []
    if sheet and problem.line is None:
        parts.append(sheet)
    if problem.field:
        parts.append(problem.field)
    return "，".join(parts) or "全文件"


@dataclass
class InputError(Exception):
    """Bad input: nothing was written. Carries every problem found, not only the first."""

    summary: str
    problems: list[Problem] = field(default_factory=list)

    def __str__(self) -> str:
        lines = [self.summary, *(f"  {p}" for p in self.problems)]
        return "\n".join(lines)


class NotFoundError(Exception):
    """A name the user typed (plan, item, unit) does not exist."""


class EmptyDatabaseError(NotFoundError):
    """The database holds no plan at all (a new one, or another data directory than meant)."""


class ConflictError(Exception):
    """Another process holds what this one needs (the scheduler lock, say)."""


class SettingError(Exception):
    """A ``DUBAN_*`` setting is wrong, or names something that cannot be used (a database that
    does not answer, a data directory that is a file): nothing was written. Each line is a
    Chinese message that names the setting and says what to do."""

    def __init__(self, *lines: str) -> None:
        super().__init__("\n".join(lines))
        self.lines = list(lines)
