"""A receipt (回执) sent to the person who submitted something from the owner's page.

The message is written to the outbox ``sending`` and unclaimed: the next delivery run takes it
over and sends it like any other message. A contact with no e-mail address or notification URL
gets none (the page's receipt is then all they get). Its recipient key,
``<unit>/<role>/receipt``, keeps receipts out of the daily digest cap.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from domain.adapters.channels import channel_for
from domain.queries.receipts import Receipt
from models import clock
from models.orm import Plan, Unit
from models.records import Contact, Message


def receipt_text(receipt: Receipt, unit_name: str, contact_name: str, link: str) -> tuple[str, str]:
    """The receipt's subject and body, in Chinese."""
    subject = f"【回执】{receipt.heading}：{receipt.title}（{receipt.number}）"
    lines = [
        f"{contact_name}同志：",
        "",
        f"督办系统已于 {receipt.received} 收到{unit_name}提交的以下内容。",
        f"回执编号：{receipt.number}",
        f"事项：{receipt.title}（事项编号 {receipt.item_id}）",
        *(f"{label}：{value}" for label, value in receipt.lines),
    ]
    if receipt.sent_for:
        lines.append(f"本单位 {receipt.sent_for} 这一期的进展已记为已报送。")
    lines += ["", f"查看回执：{link}", "", "本邮件由督办系统自动发送。"]
    return subject, "\n".join(lines)


def send_receipt(
    session: Session, plan: Plan, contact_id: int, receipt: Receipt, link: str
) -> int | None:
    """Write the receipt for the contact to the outbox; its message id, or None when the
    contact has no address."""
    contact = session.get(Contact, contact_id)
    unit = session.get(Unit, receipt.unit_id)
    if contact is None or unit is None or not (contact.email or contact.addresses):
        return None
    subject, body = receipt_text(receipt, unit.name, contact.name, link)
    chosen = channel_for(contact.email, list(contact.addresses))
    now = clock.now()
    message = Message(
        plan_id=plan.id,
        recipient=f"{unit.code}/{contact.role}/receipt",
        address=" ".join(contact.addresses) if chosen.name == "webhook" else contact.email,
        channel=chosen.name,
        subject=subject,
        body=body,
        created_on=clock.local_date(now, plan.timezone),
        created_at=now,
        status="sending",
        attempts=0,
        next_attempt_at=None,  # unclaimed: the next delivery run takes it over
        claimed_by=None,
    )
    session.add(message)
    session.flush()
    return message.id
