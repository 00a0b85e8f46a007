"""The briefing arranged as printed: the body (正文), its 附件 note and signature (落款), the
annexes (附件) holding the long lists, and the 版记 that closes the document."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta

from domain.rules.briefing.blocks import Section, month_day
from domain.rules.briefing.layout import LEGEND_TITLE, sections
from domain.rules.briefing.model import Briefing


@dataclass(frozen=True)
class Colophon:
    """版记 (GB/T 9704 7.4): the distribution lines, then who printed it and when."""

    lines: list[tuple[str, str]]  # ("报", "县委、县政府主要领导。")
    printer: str
    printed_on: str  # 2021年12月27日印发


@dataclass(frozen=True)
class Printed:
    """The briefing as printed: body, 附件 note, signature (落款), annexes, 版记."""

    lead: str  # under the masthead: the date of the figures, the period, where they are defined
    body: list[Section]
    annex_note: list[str]  # 附件：1. … (the annexes' titles, numbered)
    signature: tuple[str, str]  # issuing unit, date
    annexes: list[Section]
    colophon: Colophon


Distribution = Mapping[str, Sequence[str]]
"""The catalogue's ``briefing_distribution``: 报、送、发 lists of names by key."""
DISTRIBUTION = (("report_to", "报"), ("copy_to", "送"), ("issue_to", "发"))
"""The catalogue's ``briefing_distribution`` keys, as the 版记 names its lines."""
DEFAULT_DISTRIBUTION: dict[str, list[str]] = {
    "report_to": ["本级党委、政府领导"],
    "issue_to": ["规划各责任单位"],
}
"""The 版记 when the catalogue names no recipients."""


def colophon(view: Briefing, distribution: Distribution | None) -> Colophon:
    """The 版记 from the catalogue's recipients (:data:`DEFAULT_DISTRIBUTION` when it names
    none); names separated by commas, each line ending with a full stop."""
    chosen = distribution if distribution and any(distribution.values()) else DEFAULT_DISTRIBUTION
    lines = [(word, "，".join(chosen[key]) + "。") for key, word in DISTRIBUTION if chosen.get(key)]
    m = view.masthead
    return Colophon(lines, m.issuer, f"{m.printed_on_zh}印发")


def document(view: Briefing, distribution: Mapping[str, Sequence[str]] | None = None) -> Printed:
    """The briefing laid out for print; ``distribution``: the catalogue's
    ``briefing_distribution`` (报、送、发 lists of names), if any."""
    everything = sections(view)
    annexes = [s for s in everything if s.annex]
    m = view.masthead
    year = m.printed_on.year
    first = view.changes.previous_as_of + timedelta(days=1)  # the days covered (period_zh)
    legend = [s.annex for s in annexes if s.title == LEGEND_TITLE]
    return Printed(
        lead=f"统计截至{month_day(m.issued_on, year)}，本期{month_day(first, year)}"
        f"至{month_day(m.issued_on, year)}" + (f"，口径见附件{legend[0]}" if legend else "") + "。",
        body=[s for s in everything if not s.annex],
        annex_note=[f"{s.annex}. {s.title}" for s in annexes],
        signature=(view.masthead.issuer, view.masthead.printed_on_zh),
        annexes=annexes,
        colophon=colophon(view, distribution),
    )


def printed_text(printed: Printed, *head: str) -> str:
    """Every character a printed document shows (for the fonts' coverage): its ``head`` (the
    masthead, title… each document prints its own), then ``printed`` from the lead to the 版记."""
    parts = [*head, printed.lead, *printed.annex_note, *printed.signature]
    parts += [t for line in printed.colophon.lines for t in line]
    parts += [printed.colophon.printer, printed.colophon.printed_on]
    parts += [t for section in [*printed.body, *printed.annexes] for t in section.texts()]
    return "".join(parts)
