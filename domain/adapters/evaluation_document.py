"""The final evaluation as Markdown, HTML (the Jinja2 templates ``evaluation.*.j2``) and a Word
document in the briefing's GB/T 9704 style: title 小标宋 二号, the issuer and date under a rule,
body 仿宋 三号, headings 黑体 and 楷体, tables 五号, charts at printed width, annexes each on a new
page (:mod:`domain.adapters.document_writer` lays out the blocks)."""

from __future__ import annotations

import base64
import re
from pathlib import Path

from docx.shared import Pt

from domain.adapters.briefing.charts import LIGHT_COLOURS
from domain.adapters.briefing.docx_parts import ER_HAO, bottom_rule
from domain.adapters.document_writer import DocumentWriter
from domain.adapters.jinja import environment
from domain.rules.briefing.printed import Printed
from domain.rules.evaluation.model import Evaluation


def render_markdown(view: Evaluation, printed: Printed, charts: dict[str, str]) -> str:
    """``printed``: the evaluation's :func:`~domain.rules.evaluation.layout.document`;
    ``charts``: chart name → path relative to the Markdown file."""
    text = environment().get_template("evaluation.md.j2").render(v=view, doc=printed, charts=charts)
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"


def render_html(view: Evaluation, printed: Printed, charts: dict[str, Path]) -> str:
    """One self-contained page: charts embedded as base64 PNG."""
    images = {
        name: base64.b64encode(path.read_bytes()).decode("ascii") for name, path in charts.items()
    }
    text = (
        environment()
        .get_template("evaluation.html.j2")
        .render(v=view, doc=printed, images=images, colours=LIGHT_COLOURS)
    )
    return re.sub(r"\n\s*\n", "\n", text)


class EvaluationWriter(DocumentWriter):
    """The document writer with a report's title instead of the 简报 masthead."""

    def cover(self, view: Evaluation, printed: Printed) -> None:
        """The title centred (小标宋 二号, black: a report, not a 简报's red masthead), the
        issuer left and the date right above a rule, then the lead."""
        self.title(view.title, ER_HAO, after=Pt(12), split=False)
        bottom_rule(self.issued(view.issuer, view.as_of_zh), colour="000000", size=8)
        self.lead(printed.lead)


def write_docx(
    view: Evaluation, printed: Printed, charts: dict[str, Path], faces: dict[str, str], path: Path
) -> None:
    """Write the evaluation to ``path`` (its metadata dated by the evaluation day)."""
    writer = EvaluationWriter(faces, charts)
    writer.cover(view, printed)
    writer.printed(printed, colophon=False)
    writer.save(path, title=view.title, author=view.issuer, subject=view.plan_title, day=view.as_of)
