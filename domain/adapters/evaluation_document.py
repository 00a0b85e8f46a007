"""The final evaluation as Markdown, HTML (the Jinja2 templates ``evaluation.*.j2``) and a Word
document in the briefing's GB/T 9704 style: title 小标宋 二号, the issuer and date under a rule,
body 仿宋 三号, headings 黑体 and 楷体, tables 五号, charts at printed width, annexes each on a new
page (:mod:`domain.adapters.document_writer` lays out the blocks)."""

from __future__ import annotations

import base64
import re
from pathlib import Path

from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING, WD_TAB_ALIGNMENT
from docx.shared import Mm, Pt

from domain.adapters.briefing.charts import LIGHT_COLOURS
from domain.adapters.briefing.docx_parts import ER_HAO, SAN_HAO, TEXT_WIDTH_MM, add_run, bottom_rule
from domain.adapters.document_writer import DocumentWriter
from domain.adapters.jinja import environment
from domain.rules.briefing.printed import Printed
from domain.rules.evaluation.layout import document
from domain.rules.evaluation.model import Evaluation


def render_markdown(view: Evaluation, charts: dict[str, str]) -> str:
    """``charts``: chart name → path relative to the Markdown file."""
    text = (
        environment()
        .get_template("evaluation.md.j2")
        .render(v=view, doc=document(view), charts=charts)
    )
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"


def render_html(view: Evaluation, charts: dict[str, Path]) -> str:
    """One self-contained page: charts embedded as base64 PNG."""
    images = {
        name: base64.b64encode(path.read_bytes()).decode("ascii") for name, path in charts.items()
    }
    text = (
        environment()
        .get_template("evaluation.html.j2")
        .render(v=view, doc=document(view), images=images, colours=LIGHT_COLOURS)
    )
    return re.sub(r"\n\s*\n", "\n", text)


class EvaluationWriter(DocumentWriter):
    """The document writer with a report's title instead of the 简报 masthead."""

    def cover(self, view: Evaluation, printed: Printed) -> None:
        """The title centred (小标宋 二号, black: a report, not a 简报's red masthead), the
        issuer left and the date right above a rule, then the lead."""
        title = self.doc.add_paragraph(style="Title")
        title.alignment = WD_ALIGN_PARAGRAPH.CENTER
        title.paragraph_format.line_spacing_rule = WD_LINE_SPACING.AT_LEAST
        title.paragraph_format.space_after = Pt(12)
        add_run(title, view.title, self.faces["title"], ER_HAO)
        issued = self.doc.add_paragraph()
        issued.paragraph_format.tab_stops.add_tab_stop(Mm(TEXT_WIDTH_MM), WD_TAB_ALIGNMENT.RIGHT)
        add_run(issued, f"{view.issuer}\t{view.as_of_zh}", self.faces["body"], SAN_HAO)
        bottom_rule(issued, colour="000000", size=8)
        lead = self.doc.add_paragraph()
        lead.paragraph_format.first_line_indent = Pt(32)
        add_run(lead, printed.lead, self.faces["body"], SAN_HAO)


def write_docx(
    view: Evaluation, charts: dict[str, Path], faces: dict[str, str], path: Path
) -> None:
    """Write the evaluation to ``path`` (its metadata dated by the evaluation day)."""
    printed = document(view)
    writer = EvaluationWriter(faces, charts)
    writer.cover(view, printed)
    for section in printed.body:
        writer.section(section)
    writer.closing(printed)
    for section in printed.annexes:
        writer.section(section)
    writer.save(path, title=view.title, author=view.issuer, subject=view.plan_title, day=view.as_of)
