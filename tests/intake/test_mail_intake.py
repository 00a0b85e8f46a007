"""Report mails: read from a real IMAP server (dovecot), landed through the inbox's intake,
answered once through the outbox, and kept with the reason when they cannot be read."""

from __future__ import annotations

import re
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from imap_tools import MailMessage
from pydantic import SecretStr
from sqlalchemy import Engine, func, select

from config.settings import Settings, temporary_settings
from domain.queries.sync import sync_catalog
from domain.services.mail_intake import mail_intake
from domain.services.workbooks import write_workbook
from duban.cli import main
from duban.sample import fill_workbook
from models.clock import frozen_time
from models.db import session_scope
from models.orm import InboxFile, Message, Plan, Report, Unit
from tasks_catalog.loader import load_catalog
from tests.fixtures.catalog import SYNCED_AT, CatalogWriter
from tests.fixtures.imap import Mailbox
from tests.fixtures.words import english_lines
from tests.intake.signed import PERIOD, PLAN
from tests.intake.support import checksums, item_of

LIAISON = "li.jia@t1.example.cn"
DONE, KEPT = "督办已处理", "督办未处理"


def _with_contacts(catalog: dict[str, Any]) -> None:
    for unit in catalog["units"]:
        if unit["id"] == "t1":
            unit["contacts"] = [{"name": "李甲", "role": "liaison", "email": LIAISON}]
        if unit["id"] == "mzj":
            unit["contacts"] = [{"name": "王协调", "role": "liaison", "email": "wang@mzj.example"}]


@pytest.fixture
def plan(
    settings: Settings, engine: Engine, write_catalog: CatalogWriter, mailbox: Mailbox
) -> Iterator[Engine]:
    """The minimal plan with contacts for 甲镇 and the coordinator, the clock held at
    :data:`SYNCED_AT`, and the mail intake pointed at this test's mailbox."""
    with frozen_time(SYNCED_AT), temporary_settings(**mailbox.settings()):
        with session_scope(engine) as session:
            sync_catalog(session, load_catalog(write_catalog(edit=_with_contacts))[0])
        yield engine


def filled_workbook(engine: Engine, folder: Path, state: str = "推进中", note: str = "") -> bytes:
    """甲镇's signed workbook for the week of :data:`PERIOD`, its M2 item filled."""
    with session_scope(engine) as session:
        plan_row = session.get(Plan, PLAN)
        unit = session.scalars(select(Unit).where(Unit.code == "t1")).one()
        assert plan_row is not None
        path = write_workbook(session, plan_row, unit, PERIOD, folder).path
    item = item_of(engine, "M2", "t1")
    fill_workbook(path, {item: {"state": state, "percent": 40, "note": note or "制度初稿已成"}})
    return path.read_bytes()


def mail(
    sender: str,
    subject: str,
    files: dict[str, bytes] | None = None,
    *,
    message_id: str | None = None,
    headers: dict[str, str] | None = None,
) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = "duban@county.example"
    message["Subject"] = subject
    message["Message-ID"] = message_id or f"<{abs(hash((sender, subject)))}@mail.example>"
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content("附件是本周进展，请查收。")
    for name, data in (files or {}).items():
        message.add_attachment(data, maintype="application", subtype="octet-stream", filename=name)
    return message


def replies(engine: Engine) -> list[Message]:
    with session_scope(engine) as session:
        rows = list(
            session.scalars(
                select(Message).where(Message.recipient.startswith("mail/")).order_by(Message.id)
            )
        )
        session.expunge_all()
        return rows


def reports(engine: Engine) -> int:
    with session_scope(engine) as session:
        return session.scalar(select(func.count()).select_from(Report)) or 0


def test_a_mailed_workbook_lands_and_the_sender_gets_a_receipt(
    plan: Engine, mailbox: Mailbox, tmp_path: Path, settings: Settings
) -> None:
    """The workbook lands as from the inbox; the liaison is answered with unit, period and
    items; the mail leaves the inbox for the done folder, read."""
    data = filled_workbook(plan, tmp_path)
    mailbox.append(mail(f"李甲 <{LIAISON}>", "甲镇第26周进展", {"甲镇进展.xlsx": data}))

    report = mail_intake(plan, PLAN)

    [outcome] = report.mails
    assert outcome.status == "answered"
    assert outcome.sender is not None and outcome.sender.unit_code == "t1"
    assert [f.status for f in outcome.files] == ["landed"]
    assert reports(plan) == 1
    with session_scope(plan) as session:
        record = session.scalars(select(InboxFile)).one()
        assert record.name == "甲镇进展.xlsx" and record.status == "landed"
        assert (settings.resolved_inbox / record.kept_at).read_bytes() == data
    [reply] = replies(plan)
    assert reply.address == LIAISON and reply.status == "sent"
    assert reply.subject == "回执：已收到甲镇的进展报送"
    assert "甲镇（t1）2021年6月21日至6月27日报送期的进展 1 条（推进中 1）" in reply.body
    assert "甲镇本期进展计为已报送" in reply.body
    item = item_of(plan, "M2", "t1")
    assert f"  事项 {item} M2 乡镇建立制度：推进中 40%" in reply.body
    assert "如有疑问，请联系示例县民政局王协调（wang@mzj.example）" in reply.body
    outbox = next((settings.home / "outbox").glob(f"{reply.id:06d}-*.txt")).read_text()
    assert f"收件人：{LIAISON}" in outbox and "回执" in outbox
    assert mailbox.messages("INBOX") == []
    [moved] = mailbox.messages(DONE)
    assert "\\Seen" in moved.flags and moved.subject == "甲镇第26周进展"


def test_a_second_run_over_the_same_mails_lands_nothing_and_answers_nobody(
    plan: Engine, mailbox: Mailbox, tmp_path: Path
) -> None:
    """The same mail back in the inbox (same Message-ID) is only filed away again; a new mail
    carrying the same workbook is answered that it came before, and lands nothing."""
    data = filled_workbook(plan, tmp_path)
    first = mail(LIAISON, "进展", {"进展.xlsx": data}, message_id="<once@t1.example.cn>")
    mailbox.append(first)
    mail_intake(plan, PLAN)
    before, answers = checksums(plan), len(replies(plan))

    mailbox.append(first)
    again = mail_intake(plan, PLAN)

    assert [m.status for m in again.mails] == ["repeated"]
    assert checksums(plan) == before and len(replies(plan)) == answers
    assert mailbox.messages("INBOX") == [] and len(mailbox.messages(DONE)) == 2

    mailbox.append(mail(LIAISON, "再发一次", {"进展副本.xlsx": data}, message_id="<copy@t1>"))
    copy = mail_intake(plan, PLAN)
    assert [f.status for m in copy.mails for f in m.files] == ["duplicate"]
    assert reports(plan) == 1
    latest = replies(plan)[-1]
    assert latest.subject == "回执：来信附件此前已收到，未重复入库"
    assert "《进展副本.xlsx》与《进展.xlsx》" in latest.body


def test_a_refused_workbook_is_answered_with_its_reasons_and_nothing_lands(
    plan: Engine, mailbox: Mailbox, tmp_path: Path
) -> None:
    """A wrong state lands nothing; the answer names the row, the column and the reason."""
    data = filled_workbook(plan, tmp_path, state="差不多了")
    before = checksums(plan)
    mailbox.append(mail(LIAISON, "进展", {"进展.xlsx": data}))

    [outcome] = mail_intake(plan, PLAN).mails

    assert [f.status for f in outcome.files] == ["rejected"]
    tables = checksums(plan)
    assert {k: v for k, v in tables.items() if k != "message"} == {
        k: v for k, v in before.items() if k != "message"
    }
    [reply] = replies(plan)
    assert reply.subject == "退回：《进展.xlsx》未入库，请改正后重新报送"
    assert "第2行，本期状态：" in reply.body and "差不多了" in reply.body
    assert "请逐条改正后，将整份文件重新发送到本邮箱" in reply.body
    assert [m.subject for m in mailbox.messages(DONE)] == ["进展"]


def test_mails_that_cannot_be_read_are_kept_with_the_reason_and_never_block_the_others(
    plan: Engine, mailbox: Mailbox, tmp_path: Path, settings: Settings
) -> None:
    """No attachment, too large, automatic, a stranger without a report file: each is kept
    (raw copy and reasons under the data directory, flagged in the kept folder); the good
    mail after them still lands. Only the known liaison without a file is answered."""
    mailbox.append(mail(LIAISON, "忘了附件"))
    mailbox.append(mail("someone@else.example", "广告", {"logo.png": b"\x89PNG..."}))
    mailbox.append(
        mail("mailer-daemon@county.example", "退信", headers={"Auto-Submitted": "auto-replied"})
    )
    mailbox.append(mail(LIAISON, "太大", {"大.xlsx": b"0" * (2 * 2**20)}))
    mailbox.append(mail(LIAISON, "进展", {"进展.xlsx": filled_workbook(plan, tmp_path)}))

    with temporary_settings(mail_max_mb=1):
        report = mail_intake(plan, PLAN)

    status = {m.heading.subject: m for m in report.mails}
    assert [m.status for m in report.mails] == ["kept"] * 4 + ["answered"]
    assert "来信没有报送文件" in status["忘了附件"].kept[0]
    assert status["广告"].ignored == ["logo.png"] and status["广告"].reply_id is None
    assert "退信、自动回复" in status["退信"].kept[0] and status["退信"].reply_id is None
    assert "邮件超过 1 MB，未下载" in status["太大"].kept[0]
    assert reports(plan) == 1
    for kept in (m for m in report.mails if m.status == "kept"):
        assert kept.kept_at is not None and kept.kept_at.is_relative_to(settings.home / "mail")
        assert kept.kept[0] in Path(f"{kept.kept_at}.reasons.txt").read_text()
    kept_raw = status["忘了附件"].kept_at
    assert kept_raw is not None
    assert MailMessage.from_bytes(kept_raw.read_bytes()).subject == "忘了附件"
    assert status["太大"].kept_at is not None and status["太大"].kept_at.read_bytes() == b""
    kept_mails = mailbox.messages(KEPT)
    assert sorted(m.subject for m in kept_mails) == sorted(["忘了附件", "广告", "退信", "太大"])
    assert all("\\Flagged" in m.flags for m in kept_mails)
    answered_to = sorted(r.subject for r in replies(plan))
    assert answered_to == sorted(
        ["未能处理您的来信《太大》", "未能处理您的来信《忘了附件》", "回执：已收到甲镇的进展报送"]
    )
    second = mail_intake(plan, PLAN)
    assert second.mails == []


def test_a_stranger_s_signed_workbook_lands_and_the_receipt_names_the_unit(
    plan: Engine, mailbox: Mailbox, tmp_path: Path
) -> None:
    """The signature proves the unit; the answer says the address is unknown and for whom it
    landed. A picture beside the workbook is named as not taken."""
    data = filled_workbook(plan, tmp_path)
    files = {"进展.xlsx": data, "image001.png": b"\x89PNG"}
    mailbox.append(mail("xiaozhang@163.example", "进展", files))

    [outcome] = mail_intake(plan, PLAN).mails

    assert outcome.sender is None and [f.status for f in outcome.files] == ["landed"]
    [reply] = replies(plan)
    assert reply.address == "xiaozhang@163.example"
    assert "发件地址 xiaozhang@163.example 不在本计划的联系人名单中" in reply.body
    assert "附件凭台账签名确认为甲镇（t1）的报送" in reply.body
    assert "另有附件《image001.png》不是报送文件" in reply.body


def test_the_answer_goes_out_by_real_smtp(
    plan: Engine, mailbox: Mailbox, tmp_path: Path, unused_tcp_port: int
) -> None:
    """With the SMTP channel the receipt reaches a real mail server, addressed to the sender."""
    from aiosmtpd.controller import Controller  # noqa: PLC0415
    from aiosmtpd.handlers import Message as Collect  # noqa: PLC0415

    received: list[Any] = []

    class Handler(Collect):
        def handle_message(self, message: Any) -> None:
            received.append(message)

    controller = Controller(Handler(), hostname="127.0.0.1", port=unused_tcp_port)
    controller.start()
    mailbox.append(mail(LIAISON, "进展", {"进展.xlsx": filled_workbook(plan, tmp_path)}))
    try:
        with temporary_settings(
            channel="smtp", smtp_host="127.0.0.1", smtp_port=unused_tcp_port, smtp_security="none"
        ):
            report = mail_intake(plan, PLAN)
    finally:
        controller.stop()
    assert [s.channel for s in report.delivery.sent] == ["smtp"]
    [got] = received
    assert got["To"] == LIAISON
    assert "回执" in str(got["Subject"]) or "=?utf-8?" in str(got["Subject"])
    body = got.get_payload(decode=True).decode("utf-8")
    assert "甲镇（t1）" in body and "进展 1 条" in body


def test_an_unreachable_mail_server_stops_the_run_and_leaves_the_mails(
    plan: Engine, mailbox: Mailbox, unused_tcp_port: int
) -> None:
    """A wrong port: the run raises a mailbox error; nothing was written."""
    from domain.adapters.mailbox import MailboxError  # noqa: PLC0415

    before = checksums(plan)
    with temporary_settings(imap_port=unused_tcp_port), pytest.raises(MailboxError):
        mail_intake(plan, PLAN)
    assert checksums(plan) == before


def test_the_command_says_mail_by_mail_what_happened_in_chinese(
    plan: Engine,
    mailbox: Mailbox,
    tmp_path: Path,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`duban mail-intake`: one line per mail and per file, the reason of a kept mail, whom it
    answered, the totals; exit 2 while something was refused or kept; then nothing to do."""
    mailbox.append(
        mail(f"李甲 <{LIAISON}>", "第26周进展", {"进展.xlsx": filled_workbook(plan, tmp_path)})
    )
    mailbox.append(mail("someone@else.example", "你好"))

    def duban(*args: str) -> tuple[int, str]:
        monkeypatch.setattr("sys.argv", ["duban", *args])
        try:
            main()
            code = 0
        except SystemExit as stop:
            code = int(stop.code or 0)
        said = capsys.readouterr()
        return code, said.out + said.err

    code, text = duban("mail-intake", "--as-of", "2021-06-25")
    assert code == 2, text
    lines = [line.strip() for line in text.splitlines()]
    assert f"已处理  {LIAISON}（甲镇联络员李甲）《第26周进展》" in lines
    assert "入库  进展.xlsx：甲镇（2021年6月21日所在报送期），进展 1 条" in lines
    assert f"已回复 {LIAISON}（消息 1）" in lines
    assert "未处理  someone@else.example（不在联系人名单中）《你好》" in lines
    assert "未回复（自动邮件，或陌生地址且没有报送文件）" in lines
    assert lines[-1] == "共 2 封：已处理 1 封，未处理 1 封，此前已处理 0 封；回复已发出 1 封"
    addresses = re.compile(r"[\w.+-]+@[\w.-]+")  # looked up, not read
    assert english_lines(addresses.sub(" ", text), {"INBOX"}) == []

    assert duban("mail-intake") == (
        0,
        f"收信邮箱 {mailbox.user}@127.0.0.1:{mailbox.server.port}（INBOX）：没有待处理的邮件\n",
    )
    with temporary_settings(imap_password=SecretStr("wrong")):
        code, text = duban("mail-intake")
    assert code == 1 and "登录被拒绝：请检查 DUBAN_IMAP_USER 和 DUBAN_IMAP_PASSWORD" in text


def test_the_daily_cycle_stage_reads_the_mail_and_survives_a_dead_server(
    plan: Engine, mailbox: Mailbox, tmp_path: Path, unused_tcp_port: int
) -> None:
    """The daily cycle's 收信 stage lands and answers like the command; a mail server that does
    not answer is logged and the cycle goes on (the stage returns instead of failing)."""
    from prefect.logging import disable_run_logger  # noqa: PLC0415

    from flows.stages import read_report_mail  # noqa: PLC0415

    mailbox.append(mail(LIAISON, "进展", {"进展.xlsx": filled_workbook(plan, tmp_path)}))
    with disable_run_logger():
        counts = read_report_mail.fn(PLAN)
        with temporary_settings(imap_port=unused_tcp_port):
            dead = read_report_mail.fn(PLAN)
    assert counts == {
        "answered": 1,
        "kept": 0,
        "repeated": 0,
        "replies_sent": 1,
        "replies_failed": 0,
    }
    assert reports(plan) == 1
    assert dead == {"unreachable": 1}
