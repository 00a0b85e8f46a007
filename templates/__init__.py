"""Jinja2 templates for briefings, notices and workbook instructions (Chinese text).

The foundation has none yet; the collection, escalation and briefing work adds them here.
"""

from pathlib import Path

TEMPLATES_DIR = Path(__file__).resolve().parent
