"""The main job runs end to end on a fresh data directory and prints no error or traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.console import Console

from duban.demo import DEMO_AS_OF, run_demo


@pytest.mark.slow
def test_main_job_runs_clean(tmp_path: Path) -> None:
    """Every step prints; the sample's malformed file is rejected; messages are written."""
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
        "8. escalation on",
    ):
        assert step in text
    assert "1 rejected" in text
    assert "sync again: nothing changed (idempotent)" in text
    assert list((tmp_path / "demo" / "outbox").glob("*.txt"))
    assert list((tmp_path / "demo" / "inbox" / "sample").glob("*/rejected/*/*.reasons.txt"))


def test_every_status_and_light_has_a_chinese_word() -> None:
    """The renderer names every status and light (a new status once crashed the main job)."""
    from duban.render import LIGHT_STYLE, STATUS_WORD  # noqa: PLC0415
    from models.enums import Light, Status  # noqa: PLC0415

    assert set(STATUS_WORD) == set(Status)
    assert set(LIGHT_STYLE) == set(Light)
