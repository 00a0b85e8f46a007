"""The briefing as a Word document (:mod:`domain.adapters.document_writer`'s GB/T 9704 layout)
under a 简报 masthead: the title in red 小标宋 二号, 第N期 under it, then the issuer and the date
above a red rule and the lead line."""

from __future__ import annotations

from pathlib import Path

from docx.shared import Pt

from domain.adapters.briefing.docx_parts import ER_HAO, RED, bottom_rule
from domain.adapters.document_writer import DocumentWriter
from domain.rules.briefing.model import Briefing
from domain.rules.briefing.printed import Printed, document


class BriefingWriter(DocumentWriter):
    """The document writer with the 简报 masthead."""

    def masthead(self, view: Briefing, printed: Printed) -> None:
        m = view.masthead
        self.title(m.title, ER_HAO, after=Pt(6), colour=RED)
        self.centred(f"{m.year}年第{m.number}期")
        bottom_rule(self.issued(m.issuer, m.printed_on_zh))
        self.lead(printed.lead)


def write_docx(
    view: Briefing,
    charts: dict[str, Path],
    faces: dict[str, str],
    path: Path,
    printed: Printed | None = None,
) -> None:
    """Write the briefing to ``path`` (its metadata dated by the briefing, not the clock);
    ``printed``: its :func:`~domain.rules.briefing.printed.document` (default: with the
    default 版记)."""
    if printed is None:
        printed = document(view)
    writer = BriefingWriter(faces, charts)
    writer.masthead(view, printed)
    writer.printed(printed)
    m = view.masthead
    title = f"{m.title}（{m.year}年第{m.number}期）"
    writer.save(path, title=title, author=m.issuer, subject=m.plan_title, day=view.as_of)
