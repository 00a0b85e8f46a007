"""Rendering the briefing as Markdown and HTML from the Jinja2 templates in ``templates/``."""

from __future__ import annotations

import base64
import re
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from domain.adapters.briefing.charts import LIGHT_COLOURS
from domain.rules.briefing.layout import sections
from domain.rules.briefing.model import Briefing
from domain.rules.markdown import md_escape
from templates import TEMPLATES_DIR


def md_strong(text: object) -> str:
    """Bold, with trailing punctuation outside the asterisks: CommonMark does not close
    ``**新完成：**`` when a letter follows, but does close ``**新完成**：``."""
    escaped = md_escape(text)
    core = escaped.rstrip("：:。，,；;")
    return f"**{core}**{escaped[len(core) :]}" if core else escaped


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        undefined=StrictUndefined,
        autoescape=select_autoescape(["html.j2"]),
        trim_blocks=False,
        lstrip_blocks=False,
        keep_trailing_newline=True,
    )
    env.filters["md"] = md_escape
    env.filters["strong"] = md_strong
    return env


def render_markdown(view: Briefing, charts: dict[str, str]) -> str:
    """``charts``: chart name → path relative to the Markdown file."""
    text = (
        _environment()
        .get_template("briefing.md.j2")
        .render(m=view.masthead, sections=sections(view), charts=charts)
    )
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"


def render_html(view: Briefing, charts: dict[str, Path]) -> str:
    """One self-contained page: charts embedded as base64 PNG."""
    images = {
        name: base64.b64encode(path.read_bytes()).decode("ascii") for name, path in charts.items()
    }
    text = (
        _environment()
        .get_template("briefing.html.j2")
        .render(m=view.masthead, sections=sections(view), images=images, colours=LIGHT_COLOURS)
    )
    return re.sub(r"\n\s*\n", "\n", text)
