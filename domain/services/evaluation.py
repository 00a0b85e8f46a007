"""Writing the final evaluation (终期评估): gather the facts on the day, build the view model,
draw the charts and render the files asked for to ``<out>/<plan>/evaluation/`` as
``evaluation-<day>.md`` (charts beside it), ``.html`` (self-contained) and ``.docx``. Nothing is
recorded in the database: regenerating rewrites the files."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from domain.adapters.briefing.fonts import choose_fonts
from domain.adapters.evaluation_charts import indicator_years, yearly_rates
from domain.adapters.evaluation_document import render_html, render_markdown, write_docx
from domain.adapters.files import write_atomically
from domain.queries.evaluation import gather
from domain.rules.context import Context
from domain.rules.evaluation import file_stem, folder_of
from domain.rules.evaluation.build import build_evaluation
from domain.rules.evaluation.layout import all_text, document
from domain.rules.evaluation.model import Evaluation
from models.orm import Plan


@dataclass(frozen=True)
class Written:
    """What :func:`write_evaluation` wrote."""

    view: Evaluation
    files: dict[str, Path]
    charts: dict[str, Path]
    font_notes: list[str]


def write_evaluation(
    session: Session,
    plan: Plan,
    ctx: Context,
    *,
    formats: list[str],
    out: Path,
    fonts: str,
    conclusions: list[str] | None,
) -> Written:
    """The evaluation of ``plan`` on the context's day in ``formats`` under ``out`` (OSError
    when the files cannot be written)."""
    view = build_evaluation(gather(session, plan, ctx), conclusions)
    folder = folder_of(out, plan.id)
    folder.mkdir(parents=True, exist_ok=True)
    stem = file_stem(view.as_of)
    charts: dict[str, Path] = {}
    first = indicator_years(view, folder / f"{stem}-indicators.png")
    if first is not None:
        charts[first.name] = first.path
    second = yearly_rates(view, folder / f"{stem}-years.png")
    charts[second.name] = second.path
    files: dict[str, Path] = {}
    printed = document(view)
    if "md" in formats:
        files["md"] = folder / f"{stem}.md"
        relative = {name: os.path.relpath(path, folder) for name, path in charts.items()}
        write_atomically(files["md"], render_markdown(view, printed, relative).encode("utf-8"))
    if "html" in formats:
        files["html"] = folder / f"{stem}.html"
        write_atomically(files["html"], render_html(view, printed, charts).encode("utf-8"))
    choice = choose_fonts(fonts, all_text(view, printed))
    if "docx" in formats:
        files["docx"] = folder / f"{stem}.docx"
        tmp = folder / f"{stem}.docx.tmp"
        write_docx(view, printed, charts, choice.faces, tmp)
        tmp.replace(files["docx"])
    return Written(view=view, files=files, charts=charts, font_notes=choice.notes)
