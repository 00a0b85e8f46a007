"""Rendering the briefing as Markdown and HTML from the Jinja2 templates in ``templates/``."""

from __future__ import annotations

import base64
import re
from pathlib import Path

from domain.adapters.briefing.charts import LIGHT_COLOURS
from domain.adapters.jinja import environment
from domain.rules.briefing.model import Briefing
from domain.rules.briefing.printed import Printed, document


def render_markdown(view: Briefing, charts: dict[str, str], printed: Printed | None = None) -> str:
    """``charts``: chart name → path relative to the Markdown file; ``printed``: the
    briefing's :func:`~domain.rules.briefing.printed.document` (default: the default 版记)."""
    doc = document(view) if printed is None else printed
    text = (
        environment().get_template("briefing.md.j2").render(m=view.masthead, doc=doc, charts=charts)
    )
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"


def render_html(view: Briefing, charts: dict[str, Path], printed: Printed | None = None) -> str:
    """One self-contained page: charts embedded as base64 PNG; ``printed`` as for
    :func:`render_markdown`."""
    images = {
        name: base64.b64encode(path.read_bytes()).decode("ascii") for name, path in charts.items()
    }
    text = (
        environment()
        .get_template("briefing.html.j2")
        .render(
            m=view.masthead,
            doc=document(view) if printed is None else printed,
            images=images,
            colours=LIGHT_COLOURS,
        )
    )
    return re.sub(r"\n\s*\n", "\n", text)
