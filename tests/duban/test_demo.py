"""The main job runs end to end on a fresh data directory and prints no error or traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.console import Console

from duban.dates import DEMO_AS_OF
from duban.demo import run_demo


@pytest.mark.slow
def test_main_job_runs_clean(tmp_path: Path) -> None:
    """Every step prints; the sample's malformed file is rejected; messages are written; the
    day's cycle and the week's briefing run as Prefect flows on a dedicated server."""
    console = Console(record=True, width=160)
    run_demo(console, tmp_path / "demo", DEMO_AS_OF)
    text = console.export_text()
    assert "Traceback" not in text
    for step in (
        "1. database created",
        "3. sync",
        "4. SAMPLE reports",
        "5. status on",
        "6. reporting completeness",
        "7. indicators",
        "8. starting a Prefect server for the demo",
        "daily cycle for 2021-12-27 (flow `daily-cycle`)",
        "9. weekly briefing as of 2021-12-27 (flow `weekly-briefing`)",
        "'approval': 'approved'",
    ):
        assert step in text
    assert "warning" not in text.lower()
    assert "退回 1 个" in text
    assert "sync again: nothing changed (idempotent)" in text
    assert list((tmp_path / "demo" / "outbox").glob("*.txt"))
    assert list((tmp_path / "demo" / "inbox" / "sample").glob("*/rejected/*/*.reasons.txt"))
    # the Shidian plan with the sample data renders in every format (warnings are errors here)
    week = tmp_path / "demo" / "briefings" / "shidian-2021-2025" / "2021-W52"
    names = sorted(p.name for p in week.iterdir())
    assert names == [
        "brief-2021-W52-indicators.png",
        "brief-2021-W52-tasks.png",
        "brief-2021-W52.docx",
        "brief-2021-W52.html",
        "brief-2021-W52.md",
    ]
    markdown = (week / "brief-2021-W52.md").read_text(encoding="utf-8")
    for heading in ("一、总体进展", "三、逾期事项清单", "七、下步工作", "灯色说明"):
        assert f"## {heading}" in markdown
    assert "2021年第1期" in markdown
    assert list((tmp_path / "demo" / "outbox").glob("*-xzf-head-brief-2021-W52.docx"))
    # the Prefect server's history stays in the data directory for `duban server`
    assert (tmp_path / "demo" / "prefect" / "prefect.db").exists()


def test_every_status_and_light_has_a_chinese_word() -> None:
    """The glossary names every status, light and item state (a new status once crashed the
    main job)."""
    from domain.glossary import ITEM_STATES, LIGHTS, MOVES, STATUSES  # noqa: PLC0415
    from duban.render import LIGHT_STYLE  # noqa: PLC0415
    from models.enums import ItemState, Light, Status  # noqa: PLC0415

    assert set(STATUSES) == set(Status)
    assert set(LIGHTS) == set(Light) == set(LIGHT_STYLE)
    assert set(ITEM_STATES) == set(MOVES) == set(ItemState)
