"""Dates on the command line: parsing what is typed, and the date the demo is set on."""

from __future__ import annotations

from datetime import date

from duban.cli_words import BadOption

DEMO_AS_OF = date(2021, 12, 27)
"""The demo's date: a Monday in the plan's first year, after six weeks of (sample) reporting."""


def parse_date(value: str | None, option: str = "--as-of") -> date | None:
    """``YYYY-MM-DD`` → date; a clear usage error (exit 2) otherwise."""
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise BadOption(f"{value!r} 不是 2025-06-13 这样的日期", param_hint=option) from exc
