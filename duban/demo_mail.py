"""The main job's mail part: when a mailbox is set (``DUBAN_IMAP_HOST``), one unit's filled
workbook is put into it as a mail (IMAP APPEND) and ``duban mail-intake``'s own function lands
it and answers the sender; otherwise the workbook goes into the inbox and one line says so.

The demo only touches its own folders of that mailbox (:data:`DEMO_FOLDERS`), never the one
real report mails arrive in.
"""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from pathlib import Path

from rich.console import Console
from sqlalchemy import Engine

from config.errors import SettingError
from config.settings import Settings, get_settings
from domain.adapters.channels import FileChannel
from domain.adapters.mailbox import MailboxError, close, connect, why
from domain.services.mail_intake import mail_intake
from duban.sample_cast import SAMPLE_CONTACT

DEMO_FOLDERS = {
    "imap_folder": "督办演示",
    "imap_done_folder": "督办演示已处理",
    "imap_kept_folder": "督办演示未处理",
}
"""The mailbox folders the demo reads and files into (settings updates)."""
XLSX = ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet")


def mail_in(
    console: Console,
    engine: Engine,
    plan_id: str,
    workbook: Path,
    inbox: Path,
    *,
    unit_name: str,
    address: str,
) -> int:
    """Mail ``workbook`` from ``address`` and run the mail intake; the reports it landed. Without
    a mailbox (or when it cannot be reached) the workbook is moved into ``inbox`` instead and 0
    is returned."""
    settings = get_settings()
    if not settings.imap_host:
        workbook.rename(inbox / workbook.name)
        console.print(
            f"  邮件报送：已跳过（没有设置收信邮箱），{unit_name}的台账改放进收件箱；"
            "要演示邮件报送，请设置 DUBAN_IMAP_HOST、DUBAN_IMAP_USER、DUBAN_IMAP_PASSWORD "
            "后重新运行"
            f"（只用邮箱中的“{settings.imap_folder}”文件夹）",
            markup=False,
            soft_wrap=True,
        )
        return 0
    try:
        _append(settings, workbook, address, unit_name)
        report = mail_intake(engine, plan_id, channel=FileChannel())
    except (*MailboxError, SettingError) as exc:
        workbook.rename(inbox / workbook.name)
        reason = str(exc) if isinstance(exc, SettingError) else why(exc)
        console.print(
            f"  邮件报送：收信邮箱 {settings.imap_host} 无法使用（{reason}），已跳过；"
            f"{unit_name}的台账改放进收件箱",
            markup=False,
            soft_wrap=True,
        )
        return 0
    landed = [f for mail in report.mails for f in mail.files if f.status == "landed"]
    reports = sum(f.landed.reports for f in landed if f.landed)
    kept = sum(mail.status == "kept" for mail in report.mails)
    console.print(
        f"  邮件报送：{settings.imap_host} 的“{settings.imap_folder}”文件夹收到 "
        f"{len(report.mails)} 封，{unit_name}{SAMPLE_CONTACT}邮寄的台账入库 {len(landed)} 个"
        f"（进展 {reports} 条）"
        + (f"，未能处理 {kept} 封" if kept else "")
        + f"；给发件人的回复已写入发件箱 {len(report.delivery.sent)} 封",
        markup=False,
        soft_wrap=True,
    )
    return reports


def _append(settings: Settings, workbook: Path, address: str, unit_name: str) -> None:
    """Put the workbook into the demo's report folder as an unread mail from ``address``."""
    mail = EmailMessage()
    mail["From"] = formataddr((f"{unit_name}{SAMPLE_CONTACT}", address))
    mail["To"] = settings.imap_user or ""
    mail["Subject"] = f"{unit_name}本周进展报送"
    mail["Message-ID"] = make_msgid(domain=address.rsplit("@", 1)[1])
    mail.set_content(f"您好！附件是{unit_name}本周填好的进展台账，请查收。\n\n{SAMPLE_CONTACT}")
    mail.add_attachment(workbook.read_bytes(), *XLSX, filename=workbook.name)
    # logged in on the plain INBOX: the demo's folder may not exist yet
    mailbox = connect(settings.model_copy(update={"imap_folder": "INBOX"}))
    try:
        if not mailbox.folder.exists(settings.imap_folder):
            mailbox.folder.create(settings.imap_folder)
        mailbox.append(mail.as_bytes(), settings.imap_folder, flag_set=[])
    finally:
        close(mailbox)
    workbook.unlink()
