"""Parsing dates typed on the command line."""

from __future__ import annotations

from datetime import date

import typer

from domain.workdays import zh_date

__all__ = ["parse_date", "zh_date"]


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
