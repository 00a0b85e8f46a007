"""Parsing dates typed on the command line."""

from __future__ import annotations

from datetime import date

import typer


def parse_date(value: str | None, option: str = "--as-of") -> date | None:
    """``YYYY-MM-DD`` → date; a clear usage error (exit 2) otherwise."""
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise typer.BadParameter(
            f"{value!r} is not a date like 2025-06-13", param_hint=option
        ) from exc


def zh_date(day: date) -> str:
    """2025-06-13 → 2025年6月13日 (the house style for Chinese text)."""
    return f"{day.year}年{day.month}月{day.day}日"
