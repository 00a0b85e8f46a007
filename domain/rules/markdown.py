"""Text from the catalogue or from units, made safe to put into Markdown."""

from __future__ import annotations

import re

_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|~])")


def md_escape(text: object) -> str:
    """Punctuation that Markdown (or HTML inside it) would read is backslash-escaped, and line
    breaks become spaces so a table row stays one row."""
    flat = " ".join(str(text).split())
    return _MD_SPECIAL.sub(r"\\\1", flat)
