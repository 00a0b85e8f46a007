"""Mail intake as it runs: the command, the daily cycle's stage, answers by real SMTP, and
answers that could not be sent."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy import Engine

from config.settings import Settings, temporary_settings
from domain.services.mail_intake import mail_intake
from duban.cli import main
from tests.fixtures.imap import Mailbox
from tests.fixtures.words import english_lines
from tests.intake.mailing import LIAISON, filled_workbook, mail, replies, reports
from tests.intake.signed import PLAN


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


def test_an_answer_that_could_not_be_sent_goes_out_on_the_next_run(
    plan: Engine, mailbox: Mailbox, tmp_path: Path, unused_tcp_port: int
) -> None:
    """The mail server for answers is down: the answer stays failed in the outbox and the mail
    is handled; the next run sends that same answer once the server is back, and no other."""
    from aiosmtpd.controller import Controller  # noqa: PLC0415
    from aiosmtpd.handlers import Message as Collect  # noqa: PLC0415

    received: list[Any] = []

    class Handler(Collect):
        def handle_message(self, message: Any) -> None:
            received.append(message)

    smtp = {"channel": "smtp", "smtp_host": "127.0.0.1", "smtp_port": unused_tcp_port}
    mailbox.append(mail(LIAISON, "进展", {"进展.xlsx": filled_workbook(plan, tmp_path)}))
    with temporary_settings(**smtp, smtp_security="none"):
        first = mail_intake(plan, PLAN)
        [failed] = replies(plan)
        assert failed.status == "failed" and len(first.delivery.failed) == 1
        assert mailbox.messages("INBOX") == []
        controller = Controller(Handler(), hostname="127.0.0.1", port=unused_tcp_port)
        controller.start()
        try:
            second = mail_intake(plan, PLAN)
        finally:
            controller.stop()
    assert second.mails == [] and [s.id for s in second.delivery.sent] == [failed.id]
    [sent] = replies(plan)
    assert sent.status == "sent" and len(received) == 1 and received[0]["To"] == LIAISON
