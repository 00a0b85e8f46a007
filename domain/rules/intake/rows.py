"""What a report file says, after reading and before checking it against the database."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from config.errors import Problem
from domain.rules.reporting import ReportState

# (field, Chinese header) of the progress sheet / CSV; English headers work too.
REPORT_COLUMNS: list[tuple[str, str]] = [
    ("item", "事项编号"),
    ("task", "任务"),
    ("milestone", "节点"),
    ("title", "事项名称"),
    ("due", "到期日"),
    ("current_state", "当前状态"),
    ("current_percent", "当前进度%"),
    ("state", "本期状态"),
    ("percent", "本期进度%"),
    ("note", "进展情况"),
    ("problem", "存在问题"),
    ("next_steps", "下步计划"),
    ("evidence", "佐证材料"),
]
INPUT_FIELDS = ("state", "percent", "note", "problem", "next_steps", "evidence")
MEASURE_COLUMNS: list[tuple[str, str]] = [
    ("measure", "指标项代码"),
    ("name", "指标项"),
    ("unit_of_measure", "计量单位"),
    ("previous", "上期值"),
    ("value", "本期值"),
]
CSV_EXTRA: list[tuple[str, str]] = [
    ("unit", "单位代码"),
    ("period", "报送期"),
    ("signature", "签名"),
]

_ALL_COLUMNS = REPORT_COLUMNS + MEASURE_COLUMNS + CSV_EXTRA
FIELD_TO_HEADER = dict(_ALL_COLUMNS)
HEADER_TO_FIELD = {**{zh: f for f, zh in _ALL_COLUMNS}, **{f: f for f, _ in _ALL_COLUMNS}}


@dataclass(frozen=True)
class ReportRow:
    """One item's report as written by the unit."""

    row: int
    unit: str | None
    item_id: int
    state: ReportState
    percent: int | None
    note: str | None
    problem: str | None
    next_steps: str | None
    evidence: str | None
    milestone: str | None = None  # the row's 节点 cell, checked against the item's milestone


@dataclass(frozen=True)
class MeasureRow:
    """One measure value as written by the unit."""

    row: int
    unit: str | None
    measure: str
    value: float


@dataclass
class ParsedFile:
    """A report file read into rows; ``problems`` are what reading alone already found."""

    path: Path
    kind: str
    plan: str | None = None
    unit: str | None = None
    period: date | None = None
    signed_items: set[int] | None = None
    signed: bool = False  # duban's signature proves who sent it (workbook or template rows)
    reports: list[ReportRow] = field(default_factory=list)
    measures: list[MeasureRow] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    sheet: str | None = None  # the workbook sheet being read, when it is not the main one

    def problem(self, row: int | None, column: str, message: str) -> None:
        """Record a problem at a row (line) and column of this file (and of :attr:`sheet`)."""
        header = FIELD_TO_HEADER.get(column, column)
        if self.kind == "json":  # JSON has no useful line numbers: name the entry instead
            where = f"第{row}条" if row is not None else ""
            self.problems.append(Problem(self.path, None, f"{where} {column}".strip(), message))
            return
        self.problems.append(Problem(self.path, row, header, message, self.sheet))

    def add(self, row: ReportRow | MeasureRow | None) -> None:
        """Keep a row that was read (None: blank, or its problems are recorded)."""
        if isinstance(row, MeasureRow):
            self.measures.append(row)
        elif isinstance(row, ReportRow):
            self.reports.append(row)
