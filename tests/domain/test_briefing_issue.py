"""The briefing from a database: a hand-built week, numbering, the files, sending it."""

from __future__ import annotations

import email
import json
import re
from datetime import date
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

import pytest
from docx import Document
from docx.oxml.ns import qn
from docx.shared import Mm, Pt
from sqlalchemy import Engine, func, select
from typer.testing import CliRunner

from config.settings import temporary_settings
from domain.adapters.briefing.documents import render_markdown
from domain.queries.briefing_facts import gather
from domain.queries.completeness import reporting_view
from domain.queries.status import status_view
from domain.rules.briefing.annexes import REASON_CHARS
from domain.rules.briefing.build import build_briefing
from domain.rules.briefing.facts import Facts
from domain.rules.briefing.layout import sections
from domain.rules.context import LightPolicy
from domain.rules.isoweek import IsoWeek
from domain.rules.periods import Period
from domain.services.briefing.distribute import distribute_briefing
from domain.services.briefing.issue import (
    FORMATS,
    BriefingDateError,
    Issued,
    issue_briefing,
    report_day,
)
from duban.cli import app
from models.clock import end_of_working_day, frozen_time
from models.db import session_scope
from models.enums import Light, Status
from models.orm import Plan
from models.records import Briefing, Message
from tests.fixtures.context import context_of
from tests.fixtures.plan_week import AS_OF, HOSTILE, TZ, report


def issue(
    engine: Engine,
    day: date,
    out: Path,
    formats: tuple[str, ...] = FORMATS,
    period: Period | None = None,
) -> Issued:
    with frozen_time(end_of_working_day(day, TZ)), session_scope(engine) as session:
        plan = session.get(Plan, "demo-plan")
        assert plan is not None
        return issue_briefing(
            session,
            plan,
            day,
            formats=list(formats),
            out=out,
            policy=LightPolicy(5, 25),
            fonts="official",
            actor="test",
            period=period,
        )


def test_the_weeks_numbers(week: Engine, tmp_path: Path) -> None:
    view = issue(week, AS_OF, tmp_path).view
    o = view.overview
    # 15 items: M1, M2 ×2 townships, M3 ×4 quarters ×2 townships, M4 ×4 villages
    assert (o.total, o.done.count, o.done_late, o.overdue.count) == (15, 2, 1, 3)
    # M2 waits on M1 and M3 on M2: all ten wait (waiting is decided before "window not open")
    assert (o.not_started.count, o.waiting, o.on_track.count, o.behind_pace.count) == (10, 10, 0, 0)
    assert (o.due_to_date, o.on_time_rate) == (5, 20.0)
    t1, t2 = view.tasks
    assert (t1.items, t1.due_to_date, t1.done, t1.overdue, t1.light) == (11, 1, 0, 1, Light.RED)
    assert (t2.items, t2.due_to_date, t2.done, t2.overdue, t2.light) == (4, 4, 2, 2, Light.RED)
    assert t1.lead == "示例县委组织部"
    assert [(r.unit, r.level, r.reason) for r in view.overdue] == [
        ("示例县委组织部", "逾期通报", "未说明"),  # 70+ working days since 6-30
        ("甲一村", "逾期督办", HOSTILE),  # 7 working days (Oct 8, make-up Sat 9, 11–15)
        ("乙社区", "逾期督办", "未说明"),
    ]
    assert [r.workdays_overdue for r in view.overdue][1:] == [7, 7]
    assert (view.changes.newly_done, view.changes.newly_overdue) == (1, 0)
    assert [(p.unit, p.problem) for p in view.problems] == [("甲一村", HOSTILE)]
    towns = view.rankings[0]
    assert [(r.name, r.rate) for r in towns.completion_leaders] == [("甲镇", 50.0)]
    assert [(r.name, r.rate, r.overdue) for r in towns.completion_laggards] == [("乙乡", 0.0, 1)]
    assert view.upcoming == [] and view.warnings == []
    assert view.masthead.title == "示例规划实施工作简报"
    assert view.masthead.issuer == "示例县民政局"


def test_numbering_regeneration_and_a_new_year(week: Engine, tmp_path: Path) -> None:
    first = issue(week, AS_OF, tmp_path)
    again = issue(week, AS_OF, tmp_path)
    assert (first.number, first.new, again.number, again.new) == (1, True, 1, False)
    assert again.reproduced and again.checksum == first.checksum
    midweek = issue(week, date(2021, 10, 13), tmp_path)  # same ISO week, other numbers
    assert (midweek.number, midweek.reproduced) == (1, False)
    assert issue(week, date(2021, 10, 22), tmp_path).number == 2
    assert issue(week, date(2022, 1, 7), tmp_path).number == 1
    with session_scope(week) as session:
        rows = session.execute(
            select(Briefing.period, Briefing.year, Briefing.number, Briefing.generations).order_by(
                Briefing.id
            )
        ).all()
    assert [tuple(r) for r in rows] == [
        ("2021-W41", 2021, 1, 3),
        ("2021-W42", 2021, 2, 1),
        ("2022-W01", 2022, 1, 1),
    ]


def test_week_option_means_the_weeks_report_day(week: Engine, tmp_path: Path) -> None:
    """Friday, or the last working day before it when Friday is a holiday (National Day)."""
    with session_scope(week) as session:
        plan = session.get(Plan, "demo-plan")
        assert plan is not None
        assert report_day(session, plan, IsoWeek(2021, 41)) == AS_OF
        assert report_day(session, plan, IsoWeek(2021, 39)) == date(2021, 9, 30)  # Oct 1: holiday
    with pytest.raises(BriefingDateError, match="早于规划起始日"):
        issue(week, date(2020, 12, 31), tmp_path)
    with pytest.raises(BriefingDateError, match="一年之后"):
        issue(week, date(2027, 1, 4), tmp_path)


def test_unit_text_is_escaped_in_html_and_markdown(week: Engine, tmp_path: Path) -> None:
    files = issue(week, AS_OF, tmp_path).files
    html = files["html"].read_text(encoding="utf-8")
    assert "<script>" not in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; 资金 | 未到位 **急**" in html
    assert 'src="data:image/png;base64,' in html  # self-contained
    assert "<link" not in html and "<style" not in html  # inline styles only
    markdown = files["md"].read_text(encoding="utf-8")
    assert "<script>" not in markdown
    assert r"\<script\>alert('x')\</script\> 资金 \| 未到位 \*\*急\*\*" in markdown
    assert "](brief-2021-W41-tasks.png)" in markdown
    assert (tmp_path / "demo-plan" / "2021-W41" / "brief-2021-W41-tasks.png").exists()


def test_every_chart_drawn_is_one_the_documents_show(week: Engine, tmp_path: Path) -> None:
    """A PNG beside the briefing is linked from its Markdown (no chart drawn for nobody)."""
    files = issue(week, AS_OF, tmp_path).files
    markdown = files["md"].read_text(encoding="utf-8")
    drawn = sorted(p.name for p in files["md"].parent.glob("*.png"))
    assert drawn == ["brief-2021-W41-tasks.png"]
    assert all(f"]({name})" in markdown for name in drawn)


def test_the_word_document_follows_gb_t_9704(week: Engine, tmp_path: Path) -> None:
    path = issue(week, AS_OF, tmp_path).files["docx"]
    doc = Document(str(path))
    section = doc.sections[0]
    size = (section.page_width, section.page_height, section.top_margin, section.left_margin)
    margins = (section.bottom_margin, section.right_margin)
    expected = (Mm(210), Mm(297), Mm(37), Mm(28), Mm(35), Mm(26))
    for got, want in zip((*size, *margins), expected, strict=True):
        assert got is not None and abs(got - want) < Mm(0.05)  # Word stores twentieths of a point

    def east_asia(style: str) -> tuple[str | None, Pt | None]:
        s = doc.styles[style]
        fonts = s.element.rPr.find(qn("w:rFonts"))
        return fonts.get(qn("w:eastAsia")), s.font.size

    assert east_asia("Normal") == ("仿宋_GB2312", Pt(16))
    assert east_asia("Heading 1") == ("黑体", Pt(16))
    assert east_asia("Heading 2") == ("楷体_GB2312", Pt(16))
    title = doc.paragraphs[0]
    assert title.text == "示例规划实施工作简报"
    assert title.runs[0].font.size == Pt(22)
    assert 'w:eastAsia="方正小标宋简体"' in title.runs[0]._element.xml
    assert doc.paragraphs[1].text == "2021年第1期"
    headings = [p.text for p in doc.paragraphs if p.style.name == "Heading 1"]  # type: ignore[union-attr]
    assert headings == [
        "需要领导协调解决的事项",
        "一、总体进展",
        "二、重点任务推进情况",
        "三、逾期事项清单",
        "四、指标完成情况",
        "五、单位推进情况",
        "六、存在问题",
        "七、下步工作",
        "附件1",  # the overdue list with the units' reasons in full
        "附件2",  # 口径说明
    ]
    # tasks, overdue, indicators, rankings, problems (none due in two weeks); the whole overdue
    # list in the annex
    assert len(doc.tables) == 6
    assert [c.text for c in doc.tables[1].rows[0].cells][:3] == ["序号", "事项", "责任单位"]
    assert doc.tables[1].rows[2].cells[4].text == HOSTILE[: REASON_CHARS - 1] + "…"
    assert HOSTILE in doc.tables[5].rows[2].cells[6].text
    assert len(doc.inline_shapes) == 1  # the task chart; no indicator has a value yet
    footer = section.footer.paragraphs[0]._p.xml
    assert "PAGE" in footer and "— " in footer
    assert doc.settings.odd_and_even_pages_header_footer


def test_sending_to_leadership_over_real_smtp(
    week: Engine, tmp_path: Path, unused_tcp_port: int
) -> None:
    """HTML with inline (cid:) charts, the text version and the DOCX, to each leadership
    contact; the same version is not sent twice."""
    from aiosmtpd.controller import Controller  # noqa: PLC0415
    from aiosmtpd.handlers import Message as Collect  # noqa: PLC0415

    received: list[EmailMessage] = []

    class Handler(Collect):
        def handle_message(self, message: Any) -> None:
            received.append(email.message_from_string(message.as_string(), policy=default_policy))

    issued = issue(week, AS_OF, tmp_path)
    controller = Controller(Handler(), hostname="127.0.0.1", port=unused_tcp_port)
    controller.start()
    try:
        with (
            temporary_settings(
                channel="smtp",
                smtp_host="127.0.0.1",
                smtp_port=unused_tcp_port,
                smtp_security="none",
            ),
            frozen_time(end_of_working_day(AS_OF, TZ)),
        ):
            first = distribute_briefing(week, issued.record_id)
            second = distribute_briefing(week, issued.record_id)
    finally:
        controller.stop()
    assert sorted(m.recipient for m in first.sent) == ["xzf/deputy", "xzf/head"]
    assert second.already and not second.sent
    assert sorted(str(m["To"]) for m in received) == [
        "deputy@example.gov.cn",
        "head@example.gov.cn",
    ]
    mail = received[0]
    assert str(mail["Subject"]) == "【简报】示例规划实施工作简报（2021年第1期）"
    html = mail.get_body(("html",))
    assert html is not None
    html_text = html.get_content()
    assert "data:image" not in html_text and 'src="cid:' in html_text
    images = [p for p in mail.walk() if p.get_content_type() == "image/png"]
    assert len(images) == 1
    cid = str(images[0]["Content-ID"]).strip("<>")
    assert f'src="cid:{cid}"' in html_text
    plain = mail.get_body(("plain",))
    assert plain is not None and "一、总体进展" in plain.get_content()
    (attachment,) = list(mail.iter_attachments())
    assert attachment.get_filename() == "brief-2021-W41.docx"
    assert attachment.get_content().startswith(b"PK")
    with session_scope(week) as session:
        sent = select(func.count()).where(Message.briefing_id == issued.record_id)
        assert session.scalar(sent) == 2
        record = session.get(Briefing, issued.record_id)
        assert record is not None and record.sent_checksum == record.checksum


def test_cli_brief_writes_files_and_rejects_bad_options(week: Engine, tmp_path: Path) -> None:
    runner = CliRunner()
    with frozen_time(end_of_working_day(AS_OF, TZ)):
        result = runner.invoke(
            app, ["brief", "--week", "2021-W41", "--out", str(tmp_path), "--format", "md", "--json"]
        )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["record"]["number"] == 1
    assert payload["briefing"]["overview"]["overdue"]["count"] == 3
    assert Path(payload["record"]["files"]["md"]).exists()
    for args, hint in (
        (["--week", "2021-W99"], "没有第99周"),
        (["--format", "pdf"], "未知的格式 pdf"),
        (["--week", "2021-W41", "--as-of", "2021-10-15"], "只能给一个"),
        (["--send", "--format", "md"], "三种格式都生成"),
    ):
        bad = runner.invoke(app, ["brief", "--out", str(tmp_path), *args])
        assert bad.exit_code == 2, bad.output
        assert hint in bad.output
        assert "Traceback" not in bad.output


class FailingFor:
    """A channel that fails for one recipient the first time, and records what it sent."""

    name = "file"

    def __init__(self, recipient: str) -> None:
        self.recipient, self.failed_once = recipient, False
        self.sent: list[str] = []

    def send(self, message: Any) -> None:
        from domain.adapters.channels import ChannelError  # noqa: PLC0415

        if message.recipient == self.recipient and not self.failed_once:
            self.failed_once = True
            raise ChannelError("mailbox full")
        self.sent.append(message.recipient)


def test_a_retry_after_a_partial_failure_reaches_only_the_missed(
    week: Engine, tmp_path: Path
) -> None:
    issued = issue(week, AS_OF, tmp_path)
    channel = FailingFor("xzf/deputy")
    first = distribute_briefing(week, issued.record_id, channel=channel)
    assert [m.recipient for m in first.failed] == ["xzf/deputy"]
    second = distribute_briefing(week, issued.record_id, channel=channel)
    assert [m.recipient for m in second.sent] == ["xzf/deputy"]
    assert sorted(channel.sent) == ["xzf/deputy", "xzf/head"]  # the head got it once
    assert distribute_briefing(week, issued.record_id, channel=channel).already


def test_smtp_without_leadership_addresses_is_an_error_not_a_file(
    week: Engine, tmp_path: Path
) -> None:
    from config.errors import NotFoundError  # noqa: PLC0415
    from models.records import Contact  # noqa: PLC0415

    issued = issue(week, AS_OF, tmp_path)
    with session_scope(week) as session:
        for contact in session.scalars(select(Contact)):
            contact.email = None
    with (
        temporary_settings(channel="smtp", smtp_host="127.0.0.1"),
        pytest.raises(NotFoundError, match="xzf/head、xzf/deputy 没有电子邮件地址或通知地址"),
    ):
        distribute_briefing(week, issued.record_id)


def test_a_control_character_in_unit_text_does_not_break_the_word_file(
    week: Engine, tmp_path: Path
) -> None:
    report(date(2021, 10, 14), "M4", "v21", "--state", "blocked", "--problem", "资金\x0b未到位")
    files = issue(week, AS_OF, tmp_path).files
    text = "\n".join(
        c.text for t in Document(str(files["docx"])).tables for r in t.rows for c in r.cells
    )
    assert "资金 未到位" in text  # the vertical tab is white space: shown as a space


def test_since_last_week_means_since_the_previous_briefing(week: Engine, tmp_path: Path) -> None:
    """W39 is dated Thursday 9-30 (Friday 10-1 is National Day), W40 Friday 10-8: W40
    compares with 9-30 and covers 10-1 to 10-8, so no day falls between two briefings."""
    issue(week, date(2021, 9, 30), tmp_path)
    view = issue(week, date(2021, 10, 8), tmp_path).view
    assert view.changes.previous_as_of == date(2021, 9, 30)
    assert view.masthead.period_zh == "2021年10月1日至10月8日"
    # M1 (due 6-30) was overdue on both days; the four M4 items (due 9-30) became overdue or
    # were done since: v11 done on time on 9-28 (before), v12/v21/v22 overdue now
    assert view.changes.newly_overdue == 3


def test_a_briefing_of_one_unit_holds_its_subtree_only(week: Engine) -> None:
    """The facts of 甲镇's briefing (a county of a province's plan, say) are the items, reports
    and timeliness of 甲镇 and its villages; the plan's and the other township's are left out."""

    def facts(unit: str | None) -> Facts:
        with session_scope(week) as session:
            plan = session.get(Plan, "demo-plan")
            assert plan is not None
            ctx = context_of(session, AS_OF, pace_margin=25, plan=plan)
            return gather(session, plan, ctx, number=1, year=2021, unit=unit)

    whole, town = facts(None), facts("t1")
    units = {"t1", "v11", "v12"}
    assert {i.unit for i in town.items} <= units
    assert sorted(i.id for i in town.items) == sorted(i.id for i in whole.items if i.unit in units)
    assert set(town.previous) == {i.id for i in town.items}
    assert {t.unit for t in town.timeliness} <= units
    assert {t.unit for t in whole.timeliness} - units, "the whole plan has others"
    assert [p.item_id for p in town.problems] == [p.item_id for p in whole.problems]  # v12's
    assert town.title.endswith("（甲镇）")
    assert build_briefing(town).masthead.title == town.title


def test_the_catalogues_recipients_close_every_format(week: Engine, tmp_path: Path) -> None:
    """The plan's 报、送、发 (synced from the catalogue) are the 版记's lines in the Markdown,
    the HTML and the Word file, dated the day it is printed."""
    with session_scope(week) as session:
        plan = session.get(Plan, "demo-plan")
        assert plan is not None
        plan.briefing_distribution = {
            "report_to": ["县委主要领导", "县政府主要领导"],
            "copy_to": [],
            "issue_to": ["各乡镇"],
        }
    issued = issue(week, AS_OF, tmp_path)
    files = issued.files
    lines = ("报：县委主要领导，县政府主要领导。", "发：各乡镇。", "2021年10月15日印发")
    shown = render_markdown(issued.view, {}, issued.printed)  # the Prefect UI's artifact
    assert all(line in shown for line in lines)
    for fmt in ("md", "html"):
        text = files[fmt].read_text(encoding="utf-8")
        assert all(line in text for line in lines), fmt
        assert not re.search("(?<!报)送：", text)  # no 送 line; 报送 is another word
    word = "\n".join(p.text for p in Document(str(files["docx"])).paragraphs)
    assert all(line in word for line in lines), word[-400:]


def test_section_one_agrees_with_section_two_and_the_status_view(
    week: Engine, tmp_path: Path
) -> None:
    """On the same day: section 一's totals are the sums of section 二's rows and the counts
    of ``duban status``; 本期报送 is the cycle and the counts ``duban status`` prints; page one
    holds 需要领导协调解决的事项 with five matters at most."""
    view = issue(week, AS_OF, tmp_path).view
    with session_scope(week) as session:
        ctx = context_of(session, AS_OF, pace_margin=25)
        status = status_view(session, ctx)
        reporting = reporting_view(session, ctx)
    o, rows, n = view.overview, view.tasks, status.statuses
    assert o.total == sum(r.items for r in rows) == sum(status.summary.values())
    assert o.due_to_date == sum(r.due_to_date for r in rows)
    assert o.due_done + o.ahead_done == sum(r.done for r in rows)
    assert o.due_done + o.ahead_done == n[Status.DONE_ON_TIME] + n[Status.DONE_LATE]
    assert o.due_overdue == o.overdue.count == sum(r.overdue for r in rows) == n[Status.OVERDUE]
    assert o.due_held + o.due_waiting + o.ahead_not_started == sum(r.not_started for r in rows)
    assert o.ahead_not_started + o.due_held + o.due_waiting == (
        n[Status.NOT_STARTED] + n[Status.WAITING]
    )
    assert o.due_done + o.due_overdue + o.due_held + o.due_waiting + o.due_today == o.due_to_date
    assert o.ahead_done + o.ahead_open + o.ahead_not_started == o.ahead == o.total - o.due_to_date
    r = view.reporting
    assert r is not None
    assert (r.start, r.end, r.due) == (
        reporting.cycle.start,
        reporting.cycle.end,
        reporting.cycle.due,
    )
    assert (r.owed, r.sent, r.on_time, r.unasked) == (
        reporting.owed,
        reporting.sent,
        reporting.on_time,
        reporting.unasked,
    )
    assert r.due <= AS_OF  # 本期 is the latest cycle whose report was due by the day
    first = sections(view)[0]
    assert first.heading == "需要领导协调解决的事项"
    assert 1 <= len(view.leader) <= 5
    assert view.leader[0].kind == "leadership"  # M1 at 组织部, overdue 70+ working days
