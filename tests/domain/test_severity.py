"""A level's severity is its place in its ladder, never a guess from its id."""

from __future__ import annotations

from config.ladder import Ladder, load_ladder
from domain.services.digest import top_rung as _top_rung
from models.records import Notice


def test_rungs_follow_each_ladders_order() -> None:
    """Each level knows its place in its own ladder (default, urgent, overrides)."""
    rungs = load_ladder().rungs()
    assert rungs["remind-5"] == (0, 5)
    assert rungs["leadership"] == (4, 5)
    assert rungs["urgent-leadership"] == (3, 4)


def test_the_top_rung_is_the_last_level_whatever_its_name() -> None:
    """Renamed levels keep their severity; notices outside the ladder are never the top."""
    ladder = Ladder.model_validate(
        {
            "levels": [
                {"id": "leadership-early", "name": "提醒", "offset": -5, "to": ["owner:liaison"]},
                {"id": "due", "name": "到期", "offset": 0, "to": ["owner:head"]},
                {"id": "county", "name": "通报", "offset": 10, "to": ["leadership"]},
            ]
        }
    )
    rungs = ladder.rungs()

    def top(*levels: str) -> bool:
        return _top_rung([Notice(level=level) for level in levels], rungs)

    assert top("county")
    assert top("due", "county")
    assert not top("leadership-early")  # "leadership" in its id once made it the worst
    assert not top("due", "missing-report", "behind-pace")
