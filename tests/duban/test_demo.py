"""The main job runs end to end on a fresh data directory and prints no error or traceback."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import prefect
import pytest
from rich.console import Console

from config.settings import get_settings
from duban.dates import DEMO_AS_OF
from duban.demo import run_demo
from tasks_catalog.loader import load_catalog
from tests.fixtures.words import catalog_identifiers, english_lines


class OurLogLines:
    """A log record factory keeping the messages our flows and stages log through Prefect's run
    loggers (Prefect sets up its own handlers, so none is added to them). Prefect's own lines
    ("Beginning flow run …", "Finished in state Completed()") come from Prefect's modules on
    the same loggers and are left out by where they were logged from."""

    def __init__(self) -> None:
        self.factory = logging.getLogRecordFactory()
        self.lines: list[str] = []

    def __call__(self, *args: Any, **kwargs: Any) -> logging.LogRecord:
        record = self.factory(*args, **kwargs)
        ours = not Path(record.pathname).resolve().is_relative_to(PREFECT)
        if record.name.startswith(("prefect.flow_runs", "prefect.task_runs")) and ours:
            self.lines.append(record.getMessage())
        return record


PREFECT = Path(prefect.__file__).resolve().parent


@pytest.mark.slow
def test_main_job_runs_clean(tmp_path: Path) -> None:
    """Every step prints; the sample's malformed file is rejected; messages are written; the
    day's cycle and the week's briefing run as Prefect flows on a dedicated server."""
    console = Console(record=True, width=160)
    ours = OurLogLines()
    logging.setLogRecordFactory(ours)
    try:
        run_demo(console, tmp_path / "demo", DEMO_AS_OF)
    finally:
        logging.setLogRecordFactory(ours.factory)
    text = console.export_text()
    assert "Traceback" not in text
    for step in (
        "1. 已创建数据库",
        "3. 把规划目录同步到数据库",
        "4. 示例报送",
        "5. 2021年12月27日的情况",
        "6. 2021年12月24日所在周的报送情况",
        "7. 指标",
        "8. 为演示启动 Prefect 服务",
        "2021年12月27日的每日流程（daily-cycle）",
        "9. 截至2021年12月27日的每周简报（weekly-briefing）",
        "审核：通过",
        "亮灯：灰 3295，绿 55，黄 45，红 133，逾期完成 15",
    ):
        assert step in text
    assert "注意" not in text
    assert "退回 1 个" in text
    assert "再同步一次：没有变化（幂等）" in text
    digests = sorted((tmp_path / "demo" / "outbox").glob("*.txt"))
    reasons = list((tmp_path / "demo" / "inbox" / "sample").glob("*/rejected/*/*.reasons.txt"))
    assert digests and reasons
    # everything a person reads is Chinese: the job's narration (Prefect's own log lines go to
    # its loggers, not to this console), the reasons files, the digests and the briefing
    shidian = catalog_identifiers(load_catalog(get_settings().catalog)[0])
    read = [text, *(p.read_text(encoding="utf-8") for p in [*reasons, *digests[:20]])]
    assert len(ours.lines) > 10
    read.append("\n".join(ours.lines))
    for words in read:
        assert english_lines(words, shidian) == [], english_lines(words, shidian)
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
    assert english_lines(markdown, shidian) == [], english_lines(markdown, shidian)
    for heading in ("一、总体进展", "三、逾期事项清单", "七、下步工作", "灯色说明"):
        assert f"## {heading}" in markdown
    assert "2021年第1期" in markdown
    assert list((tmp_path / "demo" / "outbox").glob("*-xzf-head-brief-2021-W52.docx"))
    # the Prefect server's history stays in the data directory for `duban server`
    assert (tmp_path / "demo" / "prefect" / "prefect.db").exists()


def test_every_status_and_light_has_a_chinese_word() -> None:
    """The glossary names every status, light and item state (a new status once crashed the
    main job)."""
    from domain.rules.glossary import ITEM_STATES, LIGHTS, MOVES, STATUSES  # noqa: PLC0415
    from duban.render import LIGHT_STYLE  # noqa: PLC0415
    from models.enums import ItemState, Light, Status  # noqa: PLC0415

    assert set(STATUSES) == set(Status)
    assert set(LIGHTS) == set(Light) == set(LIGHT_STYLE)
    assert set(ITEM_STATES) == set(MOVES) == set(ItemState)
