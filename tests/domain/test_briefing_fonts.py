"""Fonts: official names by default; free fonts that cover every character; charts in CJK."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from config.settings import get_settings
from domain.adapters.briefing.charts import task_progress
from domain.adapters.briefing.fonts import OFFICIAL, choose_fonts, missing_characters
from domain.rules.briefing.build import build_briefing
from domain.rules.briefing.facts import Facts, ItemFact, TaskFact
from models.enums import Status
from tasks_catalog.loader import load_catalog


def shidian_text() -> str:
    catalog, _ = load_catalog(get_settings().catalog)
    names = [u.name for u in catalog.units] + [t.title for t in catalog.tasks]
    return "".join(names) + "〇≥≤²—“”（）：；、"


def test_official_faces_are_named_by_default() -> None:
    assert choose_fonts("official", "七〇七社区").faces == OFFICIAL


def test_free_fonts_cover_every_character_of_the_shidian_plan() -> None:
    """七〇七社区 needs 〇, which the Arphic fonts lack: the chosen fonts have it."""
    text = shidian_text()
    assert "七〇七社区" in text
    choice = choose_fonts("free", text)
    assert set(choice.faces) == set(OFFICIAL)
    for family in choice.faces.values():
        assert missing_characters(family, text) == set(), family


def test_a_font_that_is_not_installed_covers_nothing() -> None:
    assert missing_characters("No Such Font 2021", "甲乙") == {"甲", "乙"}


def test_charts_draw_cjk_without_missing_glyphs_and_reproducibly(tmp_path: Path) -> None:
    """pytest turns warnings into errors, so a missing glyph (matplotlib warns) fails here."""
    due = date(2021, 9, 30)
    facts = Facts(
        plan="p",
        plan_title="规划",
        title="简报",
        issuer="民政局",
        as_of=date(2021, 10, 15),
        number=1,
        yellow_workdays=5,
        items=[ItemFact(1, "T01", "T01-M1", "设施", "c", "七〇七社区", due, Status.OVERDUE, -7)],
        previous={},
        tasks=[TaskFact("T01", 1, "七〇七社区综合服务设施建设", "民政局")],
        units={},
        levels={},
        reasons={},
        problems=[],
        timeliness=[],
        indicators=[],
        warnings=[],
    )
    view = build_briefing(facts)
    first = task_progress(view, tmp_path / "a.png").path.read_bytes()
    second = task_progress(view, tmp_path / "b.png").path.read_bytes()
    assert first.startswith(b"\x89PNG") and first == second
