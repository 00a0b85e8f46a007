"""`duban publish`: the public pages (政务公开) carry the plan's progress and indicators, agree
with the status view, run no script, load nothing from elsewhere, and hold no personal name,
contact, report text or stated problem from the database."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine, String, Text, select
from typer.testing import CliRunner

from domain.queries.context import build_context
from domain.queries.disclosure import disclosure_view
from domain.queries.status import status_view
from domain.rules.context import LightPolicy
from domain.rules.disclosure import PUBLIC_STATES, Tally, disclosure
from duban.cli import app
from models.db import session_scope
from models.enums import Status
from models.orm import full_metadata
from tests.duban.test_cli_owner import duban
from tests.fixtures.web import AS_OF
from tests.web.chromium import phone
from tests.web.test_browser import fits_the_screen

PUBLIC_TABLES = frozenset({"plan", "task", "milestone", "unit", "indicator"})
"""Tables whose names and titles are public (bodies and the plan's own words)."""
PRIVATE_COLUMNS = frozenset(
    {"name", "email", "phone", "note", "problem", "next_steps", "evidence", "actor", "reason",
     "decision_reason", "addresses"}
)  # fmt: skip


def private_texts(engine: Engine) -> set[str]:
    """Every person's name, contact and every text a unit or a coordinator wrote, as stored,
    less what is public anyway (the names of bodies, the plan's titles)."""
    found: set[str] = set()
    public: set[str] = set()
    with engine.connect() as connection:
        for table in full_metadata().sorted_tables:
            if table.name in PUBLIC_TABLES:
                for column in table.columns:
                    if column.name in {"name", "title"}:
                        public.update(str(v) for v in connection.scalars(select(column)))
        for table in full_metadata().sorted_tables:
            if table.name in PUBLIC_TABLES:
                continue
            for column in table.columns:
                if column.name in PRIVATE_COLUMNS and isinstance(column.type, Text | String):
                    for value in connection.scalars(select(column).where(column.is_not(None))):
                        found.update(v for v in re.split(r"[\n，。；]", str(value)) if len(v) >= 2)
    return {text for text in found if not any(text in name for name in public)}


def publish(home_out: Path, *args: str) -> None:
    result = CliRunner().invoke(app, ["publish", "--out", str(home_out), *args])
    assert result.exit_code == 0, result.output
    assert "实施进展公开网页 4 个" in result.output


def test_the_pages_show_progress_and_nothing_personal(queues: Engine, tmp_path: Path) -> None:
    out = tmp_path / "site"
    publish(out, "--as-of", AS_OF.isoformat())
    pages = {p.name: p.read_text(encoding="utf-8") for p in out.iterdir()}
    assert set(pages) == {"index.html", "task-01.html", "task-02.html", "task-03.html"}
    secrets = private_texts(queues)
    assert {"赵六", "设施采购资金未到位", "雨雪天气无法施工"} <= secrets  # the fixture's own words
    for name, html in pages.items():
        leaked = sorted(s for s in secrets if s in html)
        assert not leaked, f"{name} shows {leaked}"
        assert "<script" not in html and not re.search(r"\w@\w", html)
        assert not re.search(r"""(src|href)=["']?(https?:|//)""", html), name
        assert "default-src 'none'" in html
    assert "服务站点选址并公示" in pages["task-03.html"]  # the village task, third
    assert '<a href="task-03.html">' in pages["index.html"]


def test_the_counts_are_the_status_views(queues: Engine) -> None:
    with session_scope(queues) as session:
        ctx = build_context(session, "demo-plan", AS_OF, LightPolicy(5, 25))
        view = disclosure_view(session, ctx)
        status = status_view(session, ctx)
    expected = Tally()
    for s, n in status.statuses.items():
        expected = expected.add(PUBLIC_STATES[Status(s)], n)
    assert view.tally == expected
    assert view.tally.items == sum(status.summary.values()) > 0
    assert [t.tally.items for t in view.tasks] == [t.items for t in status.tasks]


def test_public_states_and_milestone_order() -> None:
    """Done on time and late are 已完成; due soon and behind pace are 推进中; waiting is 未开始;
    M2 comes before M10; a task without items is listed with zeros."""
    counts = [
        ("T1", "M10", "十", Status.DONE_LATE.value, 2),
        ("T1", "M2", "二", Status.DONE_ON_TIME.value, 1),
        ("T1", "M2", "二", Status.BEHIND_PACE.value, 3),
        ("T1", "M2", "二", Status.WAITING.value, 4),
        ("T1", "M10", "十", Status.OVERDUE.value, 5),
    ]
    view = disclosure(
        "某规划", (date(2021, 1, 1), date(2025, 12, 31)), date(2021, 6, 1),
        [("T1", 1, "甲", "民政局"), ("T2", 2, "乙", "组织部")], counts, [],
    )  # fmt: skip
    first, second = view.tasks
    assert [m.title for m in first.milestones] == ["二", "十"]
    assert first.milestones[0].tally == Tally(items=8, done=1, under_way=3, not_started=4)
    assert first.milestones[1].tally == Tally(items=7, done=2, overdue=5)
    assert first.tally == Tally(items=15, done=3, under_way=3, overdue=5, not_started=4)
    assert first.tally.percent_done == 20.0
    assert second.tally == Tally() and second.milestones == []
    assert view.tally == first.tally and view.period == "2021—2025年"


def test_a_folder_that_cannot_be_written_is_said_in_chinese(
    queues: Engine,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    code, said = duban(monkeypatch, capsys, "publish", "--out", str(blocker / "site"))
    assert code == 2 and "Traceback" not in said
    assert f"无法写入 {blocker / 'site'}" in said and "路径中有一段是文件" in said


def test_a_removed_task_loses_its_page(queues: Engine, tmp_path: Path) -> None:
    out = tmp_path / "site"
    out.mkdir()
    (out / "task-09.html").write_text("old")
    (out / "notes.txt").write_text("the webmaster's own file")
    publish(out)
    assert not (out / "task-09.html").exists() and (out / "notes.txt").exists()


@pytest.mark.slow
@pytest.mark.parametrize("width", [360, 1280])
def test_the_pages_read_in_a_browser(queues: Engine, tmp_path: Path, width: int) -> None:
    out = tmp_path / "site"
    publish(out, "--as-of", AS_OF.isoformat())
    for page_name in ("index.html", "task-03.html"):
        browser = tmp_path / f"browser-{width}-{page_name}"
        browser.mkdir()
        with phone(browser, width=width, mobile=width < 800) as page:
            page.open((out / page_name).as_uri())
            fits_the_screen(page, width)
            text = page.evaluate("document.body.innerText")
            assert "实施进展公开" in text and "数据截至2021年12月27日" in text
            page.screenshot(tmp_path / f"{width}-{page_name}.png")
