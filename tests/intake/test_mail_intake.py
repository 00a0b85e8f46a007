"""Report mails: read from a real IMAP server (dovecot), landed through the inbox's intake,
answered once through the outbox, and kept with the reason when they cannot be read."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from imap_tools import MailMessage
from sqlalchemy import Engine, select

from config.settings import Settings, temporary_settings
from domain.services.mail_intake import mail_intake
from models.db import session_scope
from models.orm import InboxFile
from tests.fixtures.imap import Mailbox
from tests.intake.mailing import DONE, KEPT, LIAISON, filled_workbook, mail, replies, reports
from tests.intake.signed import PLAN, sign_csv, sign_json
from tests.intake.support import checksums, item_of


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
    assert f"  事项编号 {item} 乡镇建立制度：推进中 40%" in reply.body
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
    assert "第3行，本期状态：" in reply.body and "差不多了" in reply.body  # title, header, row
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


def test_an_unreachable_mail_server_stops_the_run_and_leaves_the_mails(
    plan: Engine, mailbox: Mailbox, unused_tcp_port: int
) -> None:
    """A wrong port: the run raises a mailbox error; nothing was written."""
    from domain.adapters.mailbox import MailboxError  # noqa: PLC0415

    before = checksums(plan)
    with temporary_settings(imap_port=unused_tcp_port), pytest.raises(MailboxError):
        mail_intake(plan, PLAN)
    assert checksums(plan) == before


def test_csv_and_json_templates_land_from_one_mail(plan: Engine, mailbox: Mailbox) -> None:
    """Signed CSV and JSON templates attached to one mail land in order, one receipt for both."""
    item = item_of(plan, "M2", "t1")
    csv = sign_csv(f"单位代码,事项编号,本期状态,本期进度%\nt1,{item},推进中,40\n").encode()
    document = sign_json(
        {"unit": "t1", "reports": [{"item": item, "state": "推进中", "percent": 50}]}
    )
    files = {"进展.csv": csv, "进展.json": json.dumps(document, ensure_ascii=False).encode()}
    mailbox.append(mail(LIAISON, "模板", files))

    [outcome] = mail_intake(plan, PLAN).mails

    assert [(f.name, f.status) for f in outcome.files] == [
        ("进展.csv", "landed"),
        ("进展.json", "landed"),
    ]
    [reply] = replies(plan)
    assert f"事项编号 {item} 乡镇建立制度：推进中 40%" in reply.body
    assert f"事项编号 {item} 乡镇建立制度：推进中 50%" in reply.body
