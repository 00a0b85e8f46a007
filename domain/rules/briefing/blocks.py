"""The blocks a briefing is written in (paragraphs, subheadings, tables, lists, charts) and the
headed sections that hold them; every format lays out the same blocks."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import ClassVar

from models.enums import Light


@dataclass(frozen=True)
class Para:
    kind: ClassVar[str] = "para"
    text: str
    lead: str = ""  # a bold lead-in (e.g. "新增逾期。")

    def texts(self) -> list[str]:
        """What the block prints (for the fonts' coverage)."""
        return [self.lead, self.text]


@dataclass(frozen=True)
class Subheading:
    kind: ClassVar[str] = "subheading"
    text: str  # （一）总体情况

    def texts(self) -> list[str]:
        return [self.text]


@dataclass(frozen=True)
class TableBlock:
    kind: ClassVar[str] = "table"
    headers: list[str]
    rows: list[list[str]]
    lights: list[Light | None] = field(default_factory=list)  # per row, for the light column
    light_column: int | None = None
    numeric: frozenset[int] = frozenset()  # right-aligned columns
    note: str = ""
    widths: tuple[float, ...] = ()  # relative column widths (Word); equal if empty
    nowrap: frozenset[int] = frozenset()  # columns kept on one line (dates, levels)

    def texts(self) -> list[str]:
        return [*self.headers, *(cell for row in self.rows for cell in row), self.note]


@dataclass(frozen=True)
class ListBlock:
    kind: ClassVar[str] = "list"
    entries: list[tuple[str, str]]  # (bold lead, text)
    start: int = 1  # the first entry's number (an annex continues the body's numbering)

    def texts(self) -> list[str]:
        return [text for entry in self.entries for text in entry]


@dataclass(frozen=True)
class ChartBlock:
    kind: ClassVar[str] = "chart"
    name: str  # the chart's name among the document's charts (the briefing's: tasks)
    caption: str

    def texts(self) -> list[str]:
        return [self.caption]


Block = Para | Subheading | TableBlock | ListBlock | ChartBlock


@dataclass(frozen=True)
class Section:
    heading: str  # 一、总体进展, or 附件1
    blocks: list[Block]
    annex: int = 0  # 0: the body; N: printed after the signature as 附件N
    title: str = ""  # an annex's title (附件标题)

    def texts(self) -> list[str]:
        """What the section prints: heading, title and blocks (for the fonts' coverage)."""
        return [self.heading, self.title, *(t for block in self.blocks for t in block.texts())]


def pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}%"


def month_day(day: date, year: int | None = None) -> str:
    """12月31日 when the date is in ``year`` (the briefing's), else 2022年3月31日."""
    if year is not None and day.year != year:
        return f"{day.year}年{day.month}月{day.day}日"
    return f"{day.month}月{day.day}日"
