"""Shared pieces of the mail intake tests: contacts, a filled workbook, a mail, the answers."""

from __future__ import annotations

from email.message import EmailMessage
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, select

from domain.services.workbooks import write_workbook
from duban.sample import fill_workbook
from models.db import session_scope
from models.orm import Plan, Report, Unit
from models.records import Message
from tests.intake.signed import PERIOD, PLAN
from tests.intake.support import item_of

LIAISON = "li.jia@t1.example.cn"
DONE, KEPT = "督办已处理", "督办未处理"


def with_contacts(catalog: dict[str, Any]) -> None:
    for unit in catalog["units"]:
        if unit["id"] == "t1":
            unit["contacts"] = [{"name": "李甲", "role": "liaison", "email": LIAISON}]
        if unit["id"] == "mzj":
            unit["contacts"] = [{"name": "王协调", "role": "liaison", "email": "wang@mzj.example"}]


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
