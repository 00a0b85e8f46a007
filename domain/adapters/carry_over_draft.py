"""Write a carry-over draft (结转草稿): the unfinished milestones of an old plan as a catalogue
file, its words and the coordinator's instructions in ``templates/carry_over.yaml.j2``."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

from domain.adapters.jinja import environment
from domain.rules.carry_over import CarryOver
from domain.rules.glossary import ITEM_STATES, zh_date
from tasks_catalog.schema import DUE_TO_FILL

PREFIX = "JZ-"
"""Put before the old task and milestone ids (JZ: 结转), so they do not collide with the new
plan's own."""
COMMENT_CHARS = 60


def yaml_string(text: str) -> str:
    """``text`` as a YAML double-quoted scalar (JSON's string syntax is valid YAML)."""
    return json.dumps(text, ensure_ascii=False)


def one_line(text: str) -> str:
    """``text`` fit for a YAML comment: one line, at most :data:`COMMENT_CHARS` characters."""
    flat = re.sub(r"\s+", " ", text).strip()
    return flat if len(flat) <= COMMENT_CHARS else flat[: COMMENT_CHARS - 1] + "…"


def draft_text(carry: CarryOver, today: date) -> str:
    """The draft catalogue file's text."""
    return (
        environment()
        .get_template("carry_over.yaml.j2")
        .render(
            c=carry,
            today=today,
            prefix=PREFIX,
            to_fill=DUE_TO_FILL,
            yq=yaml_string,
            oneline=one_line,
            zh_date=zh_date,
            states=ITEM_STATES,
        )
    )


def draft_path(out_dir: Path, plan_id: str) -> Path:
    """Where the draft of ``plan_id`` goes in ``out_dir``."""
    return out_dir / f"carry_over_{plan_id}.yaml"


def write_draft(carry: CarryOver, out_dir: Path, today: date) -> Path:
    """Write the draft into ``out_dir`` (created if missing); returns its path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    path = draft_path(out_dir, carry.plan_id)
    path.write_text(draft_text(carry, today), encoding="utf-8")
    return path
