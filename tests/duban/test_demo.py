"""The main job runs end to end on a fresh data directory and prints no error or traceback."""

from __future__ import annotations

import logging
import re
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import prefect
import pytest
import uvicorn
from rich.console import Console
from sqlalchemy import Engine, func, select

from config.settings import get_settings, temporary_settings
from duban.dates import DEMO_AS_OF
from duban.demo import run_demo
from duban.web import create_app
from models.db import engine_for
from models.orm import InboxFile, Report
from models.records import EvidenceFile, ExtensionRequest
from tasks_catalog.loader import load_catalog
from tests.fixtures.imap import DOVECOT
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


@pytest.fixture
def demo_mailbox(request: pytest.FixtureRequest) -> dict[str, Any]:
    """Settings of an empty mailbox on the tests' dovecot, or none where dovecot is not
    installed (the job then says it skipped the mail part)."""
    if DOVECOT is None:
        return {}
    settings: dict[str, Any] = request.getfixturevalue("mailbox").settings()
    return settings


@pytest.mark.slow
def test_main_job_runs_clean(tmp_path: Path, demo_mailbox: dict[str, Any]) -> None:
    """Every step prints; the sample's malformed file is rejected; messages are written; the
    day's cycle and the week's briefing run as Prefect flows on a dedicated server."""
    console = Console(record=True, width=160)
    ours = OurLogLines()
    logging.setLogRecordFactory(ours)
    try:
        with temporary_settings(**demo_mailbox):
            run_demo(console, tmp_path / "demo", DEMO_AS_OF)
    finally:
        logging.setLogRecordFactory(ours.factory)
    text = console.export_text()
    arrivals(text, tmp_path / "demo", mailed=bool(demo_mailbox))
    the_printed_link_opens_the_units_page(text, tmp_path / "demo")
    assert "Traceback" not in text
    for step in (
        "1. 已创建数据库",
        "3. 把规划目录同步到数据库",
        "4. 示例报送",
        "5. 2021年12月27日的情况",
        "6. 截至2021年12月27日的报送情况",
        "7. 指标",
        "8. 为演示启动 Prefect 服务",
        "2021年12月27日的每日流程（daily-cycle）",
        "9. 截至2021年12月27日的每周简报（weekly-briefing）",
        "审核：通过",
        # before the web units: 灰 3295，绿 55，…，逾期完成 15; item by item, only the six
        # web units' lights moved (their pages do not list items waiting for another)
        "亮灯：灰 3301，绿 50，黄 45，红 133，逾期完成 14",
        "最近一期 2021年12月20日至2021年12月26日（2021年12月24日截止）：应报 147 个单位，"
        "已报 24 个（按时 24 个），未报 123 个",
    ):
        assert step in text.replace("\n", "")  # a long line wraps
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
        "brief-2021-W52-tasks.png",
        "brief-2021-W52.docx",
        "brief-2021-W52.html",
        "brief-2021-W52.md",
    ]
    markdown = (week / "brief-2021-W52.md").read_text(encoding="utf-8")
    assert english_lines(markdown, shidian) == [], english_lines(markdown, shidian)
    for heading in ("需要领导协调解决的事项", "一、总体进展", "七、下步工作"):
        assert f"## {heading}" in markdown
    assert re.search(r"^## 附件\d　口径说明$", markdown, re.MULTILINE)  # the last annex
    # the briefing's 最近一期报送 is the cycle and the counts the job printed for the same day
    assert "最近一期报送（12月20日至12月26日，12月24日截止）应报147个单位，已报24个" in markdown
    assert "2021年第1期" in markdown
    assert list((tmp_path / "demo" / "outbox").glob("*-xzf-head-brief-2021-W52.docx"))
    # the Prefect server's history stays in the data directory for `duban server`
    assert (tmp_path / "demo" / "prefect" / "prefect.db").exists()


def arrivals(text: str, home: Path, *, mailed: bool) -> None:
    """The sample weeks' reports came by the inbox, the owner's pages (over HTTP) and, with a
    mailbox, mail; the printed counts are the database's."""
    assert "第 2 周起" in text and "改用个人链接报送" in text
    weeks = re.findall(r"-week 网页填报：6 个单位打开个人链接.*", text)
    assert len(weeks) == 5, weeks
    assert "页面未通过" not in text
    found = re.search(r"报送方式合计：收件箱台账 (\d+) 条，填报页面 (\d+) 条，邮件 (\d+) 条", text)
    assert found, text
    inbox, web, mail = map(int, found.groups())
    engine = engine_for(f"sqlite:///{home / 'duban.db'}")
    with engine.connect() as db:
        by_link = Report.file_id.is_(None) & Report.actor.like("%·个人链接）")
        assert db.scalar(select(func.count()).where(by_link)) == web > 20
        from_files = db.scalar(select(func.count()).where(Report.file_id.is_not(None)))
        assert from_files == inbox + mail
        uploads = sum(int(n) for n in re.findall(r"上传佐证材料 (\d+) 个", text))
        assert db.scalar(select(func.count()).select_from(EvidenceFile)) == uploads > 0
        requests = db.scalars(select(ExtensionRequest.status)).all()
        assert requests == ["pending"] and "提出延期申请 1 份" in text
    kept = sorted((home / "evidence").rglob("*.pdf"))
    assert len(kept) == uploads and all(p.read_bytes().startswith(b"%PDF-") for p in kept)
    if mailed:
        assert mail == _mailed_rows(engine) > 0
        assert re.search(r"邮件报送：.*“督办演示”文件夹收到 1 封.*入库 1 个", text)
    else:
        assert mail == 0 and "邮件报送：已跳过（没有设置收信邮箱）" in text


def _mailed_rows(engine: Engine) -> int:
    """Reports landed from 组织部's last workbook (mailed, or put into the inbox instead)."""
    with engine.connect() as db:
        return int(
            db.scalar(
                select(func.count())
                .select_from(Report)
                .join(InboxFile, InboxFile.id == Report.file_id)
                .where(InboxFile.name.like("06-zzb-%"))
            )
            or 0
        )


def the_printed_link_opens_the_units_page(text: str, home: Path) -> None:
    """The personal link printed at the end opens the unit's page of ``duban web`` on the
    job's data (the command it prints), today."""
    command = f"`DUBAN_HOME={home} .venv/bin/duban web`"
    assert command in text
    found = re.search(r"^http://[^/\s]+(/l/\S+)$", text, re.M)
    assert found, text
    with temporary_settings(home=home, database_url=None) as settings:
        server = uvicorn.Server(
            uvicorn.Config(create_app(settings), port=0, log_level="warning", lifespan="off")
        )
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 10
        while not server.started:
            assert time.monotonic() < deadline
            time.sleep(0.02)
        try:
            port = server.servers[0].sockets[0].getsockname()[1]
            page = httpx.get(f"http://127.0.0.1:{port}{found.group(1)}", timeout=10)
        finally:
            server.should_exit = True
            thread.join(10)
    assert page.status_code == 200
    assert "示例联络员（联络员），您好" in page.text and "<h1>组军门村</h1>" in page.text


def test_every_status_and_light_has_a_chinese_word() -> None:
    """The glossary names every status, light and item state (a new status once crashed the
    main job)."""
    from domain.rules.glossary import ITEM_STATES, LIGHTS, MOVES, STATUSES  # noqa: PLC0415
    from duban.render import LIGHT_STYLE  # noqa: PLC0415
    from models.enums import ItemState, Light, Status  # noqa: PLC0415

    assert set(STATUSES) == set(Status)
    assert set(LIGHTS) == set(Light) == set(LIGHT_STYLE)
    assert set(ITEM_STATES) == set(MOVES) == set(ItemState)
