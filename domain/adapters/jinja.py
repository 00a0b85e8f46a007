"""The one Jinja2 environment over ``templates/``: HTML templates escaped, text and Markdown not."""

from __future__ import annotations

from functools import cache

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from domain.rules.markdown import md_escape
from templates import TEMPLATES_DIR


def md_strong(text: object) -> str:
    """Bold, with trailing punctuation outside the asterisks: CommonMark does not close
    ``**新完成：**`` when a letter follows, but does close ``**新完成**：``."""
    escaped = md_escape(text)
    core = escaped.rstrip("：:。，,；;")
    return f"**{core}**{escaped[len(core) :]}" if core else escaped


@cache
def environment() -> Environment:
    """Templates by file name (``briefing.html.j2``…); an undefined name in one raises."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        undefined=StrictUndefined,
        autoescape=select_autoescape(["html.j2"], default_for_string=False),
        keep_trailing_newline=True,
    )
    env.filters["md"] = md_escape
    env.filters["strong"] = md_strong
    return env
