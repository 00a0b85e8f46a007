"""Reminders written for people: grouped rows, summaries for those who oversee many units, a
personal link and the unit's workbook for its liaison, the deadline and the coordinator's contact
in every message, at most 40 lines on a county-sized plan."""

from __future__ import annotations

import csv
import email
import io
import re
from datetime import UTC, date, datetime
from email.message import EmailMessage
from email.policy import default
from pathlib import Path
from typing import Any

import openpyxl
from sqlalchemy import Engine, select

from config.ladder import load_ladder
from config.settings import Settings, temporary_settings
from domain.adapters.channels import FileChannel
from domain.adapters.signing import workbook_secret
from domain.queries.digest import reporting_deadline
from domain.queries.escalation import due_notices
from domain.queries.outbox import write_outbox
from domain.queries.owner_links import open_link
from domain.queries.sync import sync_catalog
from domain.rules.digest import DigestItem, grouped, summarize
from domain.services.delivery import deliver
from models.clock import end_of_working_day, frozen_time
from models.db import session_scope
from models.orm import Plan
from models.records import Message
from tasks_catalog.loader import load_catalog
from tests.fixtures.catalog import CatalogWriter
from tests.fixtures.context import context_of

TZ = "Asia/Shanghai"
DUE = date(2021, 6, 30)
LEADERSHIP_DAY = date(2021, 7, 14)  # 10 working days after DUE: the ladder's last level
TOWNSHIPS, VILLAGES_EACH = 13, 11
BASE_URL = "https://duban.example.gov.cn/tb"


def item(unit: str, place: str, title: str = "设施摸底", overdue: int = 5, task: str = "甲") -> Any:
    return DigestItem(
        level_name="逾期通报",
        task=task,
        title=title,
        unit_name=unit,
        place=place,
        due_zh="2021年9月30日",
        timing=f"已逾期{overdue}个工作日",
        overdue=overdue,
        state_label="已交办",
        percent=0,
        evidence="摸底表",
    )


def test_identical_rows_are_one_line_naming_the_first_unit_and_the_count() -> None:
    """128 villages late on the same milestone and day read as one line; most overdue first,
    and of equal days the larger group first."""
    items = [item(f"村{i}", "甲镇") for i in range(128)]
    alone = [item("县委组织部", "县直部门", "联审", 9), item("民宗局", "县直部门", "宣传月", 5)]
    lines = grouped([alone[1], *items, alone[0]])
    assert [(line.title, line.who) for line in lines] == [
        ("联审", "县委组织部"),
        ("设施摸底", "村0等128个单位"),
        ("宣传月", "民宗局"),
    ]


def test_a_summary_counts_by_task_and_township_and_keeps_the_ten_longest_overdue() -> None:
    """Counts by key task and township; the ten groups longest overdue; what they cover."""
    items = [
        item(f"{t}镇村{v}", f"{t}镇", title=f"节点{t}-{v % 12}", overdue=v, task=f"任务{v % 3}")
        for t in range(5)
        for v in range(1, 25)
    ]
    s = summarize(items)
    assert s.total == 120 and s.counted
    assert sorted((c.name, c.items, c.overdue) for c in s.tasks) == [
        ("任务0", 40, 40),
        ("任务1", 40, 40),
        ("任务2", 40, 40),
    ]
    assert sum(c.items for row in s.places for c in row) == 120 and len(s.places) == 2
    assert len(s.top) == 10 and s.top[0].overdue == 24
    assert s.top_overdue and s.shown == 10
    assert [line.overdue for line in s.top] == sorted(
        (line.overdue for line in s.top), reverse=True
    )


def county_catalog(c: dict[str, Any], townships: int = TOWNSHIPS) -> None:
    """``townships`` of 11 villages each, six tasks all due on DUE (villages, townships, one
    department), every unit with a liaison and a head; the coordinator's liaison has a phone."""
    county = [u for u in c["units"] if u["kind"] == "department"]
    units = list(county)
    for t in range(1, townships + 1):
        units.append({"id": f"t{t}", "name": f"第{t}镇", "kind": "township", "parent": "xzf"})
        units += [
            {"id": f"v{t}-{v}", "name": f"第{t}镇{v}村", "kind": "village", "parent": f"t{t}"}
            for v in range(1, VILLAGES_EACH + 1)
        ]
    for u in units:
        u["contacts"] = [
            {"name": f"{u['name']}联络员", "role": "liaison", "email": f"{u['id']}-l@example.cn"},
            {"name": f"{u['name']}负责人", "role": "head", "email": f"{u['id']}-h@example.cn"},
        ]
    units[1]["contacts"][0]["phone"] = "0875-1234567"  # mzj, the coordinating unit
    c["units"] = units
    c["plan"]["declared_village_units"] = townships * VILLAGES_EACH
    fan = ["villages", "villages", "villages", "townships", "townships", "zzb", "mzj"]
    c["tasks"] = [
        {
            "number": n,
            "title": f"重点任务{n}",
            "lead": "mzj",
            "milestones": [
                {
                    "id": f"M{n}{k}",
                    "title": f"第{n}项工作{'之' + str(k) if k else ''}",
                    "due": DUE,
                    "start": date(2021, 3, 1),
                    "evidence": ["会议纪要"],
                    **({"owner": f} if f in {"zzb", "mzj"} else {"fan_out": f}),
                }
                for k in range(8 if f == "mzj" else 1)  # the coordinator's own: eight
            ],
        }
        for n, f in enumerate(fan, start=1)
    ]
    c["measures"], c["indicators"] = [], []


def a_day_of_reminders(
    settings: Settings,
    engine: Engine,
    write_catalog: CatalogWriter,
    day: date,
    townships: int = TOWNSHIPS,
    *,
    by_mail: bool = False,
) -> list[Message]:
    """The county plan synced, the ladder's notices of ``day`` planned and delivered to files
    (or by the channel the settings name)."""
    county = write_catalog(edit=lambda c: county_catalog(c, townships))
    with frozen_time(datetime(2021, 3, 1, 2, tzinfo=UTC)), session_scope(engine) as session:
        sync_catalog(session, load_catalog(county)[0])
    with frozen_time(end_of_working_day(day, TZ)):
        with session_scope(engine) as session:
            ctx = context_of(session, day, plan="demo-plan")
            write_outbox(session, ctx, due_notices(session, ctx, load_ladder()))
        files = None if by_mail else FileChannel(settings.home / "outbox")
        deliver(engine, "demo-plan", cap=1, channel=files)
    with session_scope(engine) as session:
        messages = list(session.scalars(select(Message).order_by(Message.id)))
        session.expunge_all()
    return messages


def test_every_digest_on_a_county_sized_plan_is_short_and_actionable(
    settings: Settings, engine: Engine, write_catalog: CatalogWriter
) -> None:
    """1,000 items ten working days overdue: each digest at most 40 lines, no command line, no
    milestone code, with the reporting deadline and the coordinator's phone; the leadership's
    is a summary with the full list attached; a liaison's carries a working personal link and
    the unit's workbook."""
    with temporary_settings(web_base_url=BASE_URL, link_days=30):
        messages = a_day_of_reminders(settings, engine, write_catalog, LEADERSHIP_DAY)
    villages = TOWNSHIPS * VILLAGES_EACH
    assert len(messages) > villages  # each village's head, the townships, mzj, xzf, zzb
    for m in messages:
        assert len(m.body.splitlines()) <= 40, (m.recipient, m.body)
        words = re.sub(r"https://\S+", "", m.body)  # a link's token is random letters
        assert "duban " not in words and not re.search(r"(?<![A-Za-z])[MT]\d+|事项编号", words)
        assert "本期报送截止：2021年7月16日" in m.body  # Friday of the week
        assert "联系：示例县民政局（督办协调单位，电话 0875-1234567）" in m.body
    by = {m.recipient: m for m in messages}
    lead = by["xzf/head"]
    assert (
        f"第1项工作：第1镇1村等{villages}个单位，2021年6月30日到期，已逾期10个工作日" in lead.body
    )
    assert "按乡镇：" in lead.body and "按重点任务：" in lead.body
    (full,) = [Path(a) for a in lead.attachments or []]
    with full.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    assert len(rows) - 1 == 3 * villages + 2 * TOWNSHIPS + 1 + 8
    assert rows[0][0] == "责任单位" and {r[1] for r in rows[1:]} >= {"第1镇", "县直部门"}
    # a village head reads its own item without its own name repeated
    head = by["v3-4/head"].body
    assert "第1项工作，2021年6月30日到期，已逾期10个工作日" in head
    # the coordinator (mzj's liaison): three of its own eight items, then everyone's summary
    coordinator = by["mzj/liaison"].body
    assert "3. 【逾期通报】第7项工作之" in coordinator
    assert "另有5项，见下面的填报链接" in coordinator
    assert "各责任单位事项（共" in coordinator and "请督促各责任单位按时反馈" in coordinator


def test_a_liaison_gets_a_personal_link_that_opens_and_the_units_workbook(
    settings: Settings, engine: Engine, write_catalog: CatalogWriter
) -> None:
    """On the due day the liaison's digest lists the item, links to the contact's own page
    (valid link_days from the reminder) and attaches the unit's current workbook."""
    with temporary_settings(web_base_url=BASE_URL, link_days=30):
        messages = a_day_of_reminders(settings, engine, write_catalog, DUE, townships=2)
    liaison = next(m for m in messages if m.recipient == "v2-5/liaison")
    assert "1. 【到期催办】第1项工作，2021年6月30日到期，今天到期" in liaison.body
    assert "当前：已交办；办结需佐证：会议纪要" in liaison.body
    match = re.search(rf"点击填报：{re.escape(BASE_URL)}/l/(\S+)", liaison.body)
    assert match and "有效期至2021年7月30日" in liaison.body
    with session_scope(engine) as session:
        later = datetime(2021, 7, 29, 2, tzinfo=UTC)
        owner = open_link(session, workbook_secret(settings), match.group(1), later)
        assert (owner.unit_name, owner.contact_name) == ("第2镇5村", "第2镇5村联络员")
    (workbook,) = [Path(a) for a in liaison.attachments or []]
    assert workbook.name in liaison.body and workbook.stat().st_size < 100_000
    book = openpyxl.load_workbook(workbook, read_only=True)
    try:  # a read-only workbook keeps its file open until closed
        rows = book["进展填报"].iter_rows(min_row=3, values_only=True)
        assert [r[3] for r in rows][:1] == ["第1项工作"]
    finally:
        book.close()
    copied = list((settings.home / "outbox").glob(f"*-v2-5-liaison-{workbook.name}"))
    assert copied  # the file channel keeps the attachment beside the text


def test_a_liaisons_mail_carries_the_workbook_through_a_real_smtp_server(
    settings: Settings, engine: Engine, write_catalog: CatalogWriter, unused_tcp_port: int
) -> None:
    """By mail (aiosmtpd): the text with the link, and the workbook as an .xlsx attachment that
    opens."""
    from aiosmtpd.controller import Controller  # noqa: PLC0415
    from aiosmtpd.handlers import Message as Collect  # noqa: PLC0415

    received: list[email.message.EmailMessage] = []

    class Handler(Collect):
        def handle_message(self, message: Any) -> None:
            raw = message.as_bytes()
            received.append(email.message_from_bytes(raw, _class=EmailMessage, policy=default))

    controller = Controller(Handler(), hostname="127.0.0.1", port=unused_tcp_port)
    controller.start()
    try:
        with temporary_settings(
            channel="smtp",
            smtp_host="127.0.0.1",
            smtp_port=unused_tcp_port,
            smtp_security="none",
            web_base_url=BASE_URL,
        ):
            a_day_of_reminders(settings, engine, write_catalog, DUE, townships=1, by_mail=True)
    finally:
        controller.stop()
    mail = next(m for m in received if m["To"] == "v1-3-l@example.cn")
    text = mail.get_body(("plain",))
    assert text is not None and f"点击填报：{BASE_URL}/l/" in text.get_content()
    (part,) = mail.iter_attachments()
    assert part.get_filename() == "进展填报表-第1镇3村-2021-06-30.xlsx"
    book = openpyxl.load_workbook(io.BytesIO(part.get_content()), read_only=True)
    assert "进展填报" in book.sheetnames
    book.close()


def test_without_a_web_address_a_digest_has_no_link_and_says_whom_to_ask(
    settings: Settings, engine: Engine, write_catalog: CatalogWriter
) -> None:
    """No DUBAN_WEB_BASE_URL: a link to this machine would not open on a phone, so there is
    none; the digest points to the attached workbook and the coordinating unit."""
    messages = a_day_of_reminders(settings, engine, write_catalog, DUE, townships=2)
    liaison = next(m for m in messages if m.recipient == "v2-5/liaison")
    assert "点击填报" not in liaison.body and "/l/" not in liaison.body
    assert "填报链接暂未开通：请填写附件中的填报表交回，或与示例县民政局联系报送进展。" in (
        liaison.body
    )


DEADLINES = {
    date(2021, 6, 21): date(2021, 6, 25),  # Monday: Friday of the week
    date(2021, 6, 25): date(2021, 6, 25),  # the due day itself
    date(2021, 6, 26): date(2021, 7, 2),  # Saturday: next week's
    date(2025, 1, 27): date(2025, 2, 5),  # Jan 28 – Feb 4 off
    date(2025, 2, 5): date(2025, 2, 5),  # the moved day itself
}


def test_the_reporting_deadline_is_the_cycles_due_day_moved_off_rest_days(synced: Engine) -> None:
    """本期报送截止: this week's Friday; after it, next week's; a Friday in the Spring Festival
    holiday (2025-01-31) moves to the next working day, Wednesday 2025-02-05."""
    with session_scope(synced) as session:
        plan = session.get(Plan, "demo-plan")
        assert plan is not None
        deadline = {day: reporting_deadline(session, plan, day) for day in DEADLINES}
    assert deadline == DEADLINES
