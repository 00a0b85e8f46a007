"""The 考评通报 written out: Markdown and HTML from ``templates/assessment_report.*.j2``, and a
Word file in the briefing's GB/T 9704 look (:mod:`domain.adapters.document_writer`): a red
文头, the 文号 centred under it above a red rule, the title in 小标宋 二号, 主送, the body, the
signature and the 版记."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

from docx.shared import Pt

from domain.adapters.briefing.docx_parts import ER_HAO, RED, SAN_HAO, add_run, bottom_rule
from domain.adapters.document_writer import DocumentWriter
from domain.adapters.jinja import environment
from domain.rules.assessment_report import Notice
from domain.rules.briefing.printed import printed_text

MASTHEAD_PT = Pt(26)
"""The 文头's size: larger than the title, as a 发文机关标志 is."""


def render_markdown(notice: Notice) -> str:
    """The notice as Markdown (the Prefect UI, a mail's text part)."""
    text = (
        environment().get_template("assessment_report.md.j2").render(n=notice, doc=notice.printed)
    )
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"


def render_html(notice: Notice) -> str:
    """The notice as one self-contained page (inline styles, an e-mail body)."""
    text = (
        environment().get_template("assessment_report.html.j2").render(n=notice, doc=notice.printed)
    )
    return re.sub(r"\n\s*\n", "\n", text)


class NoticeWriter(DocumentWriter):
    """The document writer with a 文件-style head instead of the 简报 masthead."""

    def head(self, notice: Notice) -> None:
        self.title(notice.masthead, MASTHEAD_PT, after=Pt(12), colour=RED)
        bottom_rule(self.centred(notice.number), size=18)
        self.title(notice.title, ER_HAO, after=Pt(12), before=Pt(24))
        to = self.doc.add_paragraph()
        add_run(to, notice.addressee, self.faces["body"], SAN_HAO)
        self.para(notice.printed.lead)


def all_text(notice: Notice) -> str:
    """Every character the notice shows (for the fonts' coverage)."""
    heads = (notice.masthead, notice.number, notice.title, notice.addressee)
    return printed_text(notice.printed, *heads)


def write_docx(notice: Notice, faces: dict[str, str], path: Path, issued_on: date) -> None:
    """Write the notice to ``path`` (its metadata dated by the notice, not the clock)."""
    writer = NoticeWriter(faces, {})
    writer.head(notice)
    writer.printed(notice.printed)
    writer.save(
        path,
        title=f"{notice.title}（{notice.number}）",
        author=notice.printed.signature[0],
        subject=notice.masthead,
        day=issued_on,
    )
