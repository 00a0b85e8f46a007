"""The final evaluation of a plan (规划实施终期评估): facts, view model, wording."""

from __future__ import annotations

from datetime import date
from pathlib import Path

FOLDER = "evaluation"
"""The evaluation's files go to ``<briefings>/<plan>/evaluation/``."""


def file_stem(as_of: date) -> str:
    """``evaluation-2025-12-31``: the files' name without its extension."""
    return f"evaluation-{as_of.isoformat()}"


def folder_of(out: Path, plan_id: str) -> Path:
    """Where a plan's evaluation files (and the coordinator's conclusions) go under ``out``."""
    return out / plan_id / FOLDER
