"""The item page's other forms over real HTTP: evidence files, 办结申请 and 延期申请, each
answered with a receipt (回执) and written under the contact's name — or refused beside its
field with nothing written."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from PIL import Image
from sqlalchemy import select

from domain.adapters.channels import OutgoingMessage
from domain.queries.completeness import completeness_view
from domain.queries.context import build_context
from domain.queries.item_detail import item_detail
from domain.queries.items import move_item, verify_item
from domain.rules.context import LightPolicy
from domain.services.delivery import deliver
from models import clock
from models.db import session_scope
from models.enums import ItemState
from models.orm import Report, WorkItem
from models.records import EvidenceFile, ExtensionRequest, Message
from tests.adapters.test_evidence_store import MINIMAL_PDF
from tests.fixtures.db import table_checksums
from tests.fixtures.plan_week import item_id
from tests.fixtures.web import AS_OF, NOW, OwnerSite
from tests.web.test_owner_pages import ZHAO, field_block, get, post, token_of

PHOTO_NAME = "选址公示照片.jpg"


def photo() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (30, 120, 200)).save(buffer, format="JPEG")
    return buffer.getvalue()


def upload(
    link: str,
    item: int,
    name: str,
    data: bytes,
    token: str | None = None,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    """POST one file to an item's upload form, as a browser does (multipart)."""
    return httpx.post(
        f"{link}/items/{item}/files",
        data={"token": token if token is not None else token_of(link)},
        files={"file": (name, data, "application/octet-stream")},
        headers=headers,
        follow_redirects=False,
        timeout=10,
    )


def stored_files(site: OwnerSite) -> list[Path]:
    root = site.settings.resolved_evidence
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def test_an_evidence_file_is_kept_by_content_listed_and_receipted(owner_site: OwnerSite) -> None:
    """A photo lands in the store under its SHA-256, is recorded against the item under the
    contact's name, listed on the item page and in the item's record, and gets a receipt;
    the same bytes again are recorded once."""
    link = owner_site.links["赵六"]
    item = item_id(owner_site.engine, "M5", "v12")
    data = photo()
    answer = upload(link, item, PHOTO_NAME, data)
    assert answer.status_code == 303, answer.text
    assert re.search(r"/receipts/20211227-F\d{6}$", answer.headers["location"])
    receipt = get(f"{owner_site.url}{answer.headers['location']}")
    assert receipt.status_code == 200
    assert "佐证材料已上传" in receipt.text and PHOTO_NAME in receipt.text
    assert "JPG 图片" in receipt.text and "2021年12月27日 10:00" in receipt.text
    [kept] = stored_files(owner_site)
    assert kept.read_bytes() == data and kept.suffix == ".jpg"
    with session_scope(owner_site.engine) as session:
        row = session.scalars(select(EvidenceFile)).one()
        assert (row.item_id, row.actor, row.name, row.kind) == (item, ZHAO, PHOTO_NAME, "jpg")
        assert kept.name == f"{row.sha256}.jpg" and row.size == len(data)
        record = item_detail(session, item).events
        assert any(e.kind == "evidence" and PHOTO_NAME in e.summary for e in record)
    page = get(f"{link}/items/{item}")
    assert PHOTO_NAME in page.text.split('id="evidence"')[1]
    listed = get(link).text.split('data-milestone="M5"')[1].split("</li>")[0]
    assert "已上传佐证材料 1 个" in listed
    again = upload(link, item, "another name.jpg", data)
    assert again.status_code == 303 and again.headers["location"].endswith("?again=1")
    assert "未重复保存" in get(f"{owner_site.url}{again.headers['location']}").text
    with session_scope(owner_site.engine) as session:
        assert len(session.scalars(select(EvidenceFile)).all()) == 1


@pytest.mark.parametrize(
    ("name", "data", "words"),
    [
        ("公示.pdf", "这不是PDF".encode(), "不支持这种文件"),
        ("照片.jpg", b"", "请先选择要上传的文件"),
        ("宏.pdf", MINIMAL_PDF.replace(b"/Type/Catalog", b"/Type/Catalog/JS(x)"), "脚本"),
    ],
    ids=["text-named-pdf", "empty", "pdf-with-script"],
)
def test_a_refused_file_is_named_beside_the_field_and_nothing_is_kept(
    owner_site: OwnerSite, name: str, data: bytes, words: str
) -> None:
    """A file judged by its content, not its name, is refused (422) with the reason beside the
    file field; neither the database nor the store changes."""
    link = owner_site.links["赵六"]
    item = item_id(owner_site.engine, "M5", "v12")
    get(link)
    before = table_checksums(owner_site.engine)
    answer = upload(link, item, name, data)
    assert answer.status_code == 422
    assert words in field_block(answer.text, "file")
    assert table_checksums(owner_site.engine) == before and stored_files(owner_site) == []


@pytest.mark.parametrize("owner_site", [{"web_upload_mb": 1, "web_upload_files": 2}], indirect=True)
def test_uploads_have_a_size_and_a_count_limit(owner_site: OwnerSite) -> None:
    """A file over DUBAN_WEB_UPLOAD_MB is refused before it is read (413); an item holds at
    most DUBAN_WEB_UPLOAD_FILES files; both say so in Chinese beside the field."""
    link = owner_site.links["赵六"]
    item = item_id(owner_site.engine, "M5", "v12")
    big = MINIMAL_PDF + b"%" + b"0" * (1024 * 1024 + 100 * 1024)
    answer = upload(link, item, "扫描件.pdf", big)
    assert answer.status_code == 413
    assert "文件太大" in field_block(answer.text, "file") and "1 MB" in answer.text
    assert stored_files(owner_site) == []
    for n in range(2):
        assert upload(link, item, f"{n}.pdf", MINIMAL_PDF + bytes([n])).status_code == 303
    third = upload(link, item, "2.pdf", MINIMAL_PDF + b"2")
    assert third.status_code == 422 and "达到上限" in third.text
    assert len(stored_files(owner_site)) == 2


def test_a_path_in_the_file_name_is_only_shown(owner_site: OwnerSite) -> None:
    """A name with folders (either slash) is stored under the content's checksum only; the
    name shown is its last part."""
    link = owner_site.links["赵六"]
    item = item_id(owner_site.engine, "M5", "v12")
    answer = upload(link, item, "../../../etc/cron.d/..\\..\\x.pdf", MINIMAL_PDF)
    assert answer.status_code == 303
    [kept] = stored_files(owner_site)
    assert kept.is_relative_to(owner_site.settings.resolved_evidence)
    assert re.fullmatch(r"[0-9a-f]{64}\.pdf", kept.name)
    with session_scope(owner_site.engine) as session:
        assert session.scalars(select(EvidenceFile.name)).one() == "x.pdf"


def test_closing_is_refused_until_the_evidence_is_uploaded(owner_site: OwnerSite) -> None:
    """办结申请 on a milestone that lists evidence is refused, naming that evidence, until a
    file is uploaded; then it lands as a report of 已完成 through the same lifecycle (已申请办结),
    with the files as its evidence, and the coordinator can close it."""
    link = owner_site.links["赵六"]
    item = item_id(owner_site.engine, "M5", "v12")
    page = get(f"{link}/items/{item}").text
    assert "本节点办结须附：<strong>选址公示照片、村民代表会议记录" in page
    before = table_checksums(owner_site.engine)
    form = {"token": token_of(link), "closing_note": "选址已公示七天，无异议"}
    refused = post(f"{link}/items/{item}/closing", form)
    assert refused.status_code == 422
    reason = refused.text.split('id="closing-error"')[1].split("</p>")[0]
    assert "选址公示照片、村民代表会议记录" in reason and "须先上传" in reason
    assert "选址已公示七天，无异议" in refused.text  # what was typed is kept
    assert table_checksums(owner_site.engine) == before
    assert upload(link, item, PHOTO_NAME, photo()).status_code == 303
    answer = post(f"{link}/items/{item}/closing", form)
    assert answer.status_code == 303, answer.text
    receipt = get(f"{owner_site.url}{answer.headers['location']}").text
    assert "办结申请已提交" in receipt and "已完成" in receipt and "已记为<strong>已报送" in receipt
    with session_scope(owner_site.engine) as session:
        report = session.scalars(select(Report).where(Report.item_id == item)).one()
        assert (report.state, report.percent, report.actor) == ("done", 100, ZHAO)
        assert report.evidence == f"网页上传：{PHOTO_NAME}（共 1 个文件）"
        work = session.get(WorkItem, item)
        assert work is not None and work.state == "submitted"
        assert verify_item(session, item, actor="民政局", note=None).to_state == "closed"


def test_a_returned_item_needs_a_new_file_before_closing_again(owner_site: OwnerSite) -> None:
    """After 退回, the files uploaded before do not count for a new 办结申请."""
    link = owner_site.links["赵六"]
    item = item_id(owner_site.engine, "M5", "v12")
    form = {"token": token_of(link), "closing_note": "已公示"}
    assert upload(link, item, PHOTO_NAME, photo()).status_code == 303
    assert post(f"{link}/items/{item}/closing", form).status_code == 303
    with clock.frozen_time(NOW + timedelta(hours=1)), session_scope(owner_site.engine) as s:
        move_item(s, item, ItemState.RETURNED, actor="民政局", reason="照片不清晰")
    with clock.frozen_time(NOW + timedelta(hours=2)):
        refused = post(f"{link}/items/{item}/closing", form)
        assert refused.status_code == 422 and "退回后须重新上传" in refused.text
        assert upload(link, item, "会议记录.pdf", MINIMAL_PDF).status_code == 303
        assert post(f"{link}/items/{item}/closing", form).status_code == 303


def test_a_milestone_without_listed_evidence_closes_without_files(owner_site: OwnerSite) -> None:
    """办结申请 on a milestone that lists no evidence needs no file."""
    link = owner_site.links["赵六"]
    item = item_id(owner_site.engine, "M6", "v12")
    answer = post(f"{link}/items/{item}/closing", {"token": token_of(link), "closing_note": ""})
    assert answer.status_code == 303, answer.text
    with session_scope(owner_site.engine) as session:
        work = session.get(WorkItem, item)
        assert work is not None and work.state == "submitted"


def test_a_web_report_counts_as_the_units_report_for_the_cycle(owner_site: OwnerSite) -> None:
    """Before its first report of the week 甲一村 is missing; a progress report on the page
    makes the cycle's report sent."""
    link = owner_site.links["赵六"]
    policy = LightPolicy(yellow_workdays=5, pace_margin=25)

    def missing() -> list[str]:
        with clock.frozen_time(NOW), session_scope(owner_site.engine) as session:
            ctx = build_context(session, "demo-plan", AS_OF, policy)
            return [code for code, _ in completeness_view(session, ctx, rates=False).missing]

    assert "v12" in missing()
    item = item_id(owner_site.engine, "M6", "v12")
    form = {"token": token_of(link), "state": "in_progress", "percent": "50", "note": "张贴中"}
    assert post(f"{link}/items/{item}", form).status_code == 303
    assert "v12" not in missing()


def test_a_receipt_goes_to_the_submitters_outbox_when_they_have_an_address(
    owner_site: OwnerSite,
) -> None:
    """赵六 (who has an e-mail address) gets the receipt as a message that the next delivery
    run sends; 孙八 (who has none) gets the page only."""
    for name, unit in (("赵六", "v12"), ("孙八", "v22")):
        link = owner_site.links[name]
        item = item_id(owner_site.engine, "M6", unit)
        form = {"token": token_of(link), "state": "in_progress", "percent": "30"}
        answer = post(f"{link}/items/{item}", form)
        assert answer.status_code == 303
    number = answer.headers["location"].rsplit("/", 1)[1]
    with session_scope(owner_site.engine) as session:
        [message] = session.scalars(select(Message).where(Message.recipient.like("%/receipt")))
        assert message.recipient == "v12/liaison/receipt"
        assert message.address == "zhaoliu@example.cn" and message.status == "sending"
        assert message.claimed_by is None and "回执" in message.subject
        assert "赵六同志" in message.body and "已记为已报送" in message.body
        assert number not in message.body  # 孙八's receipt is not in 赵六's message
    sent: list[OutgoingMessage] = []

    class Recording:
        name = "file"

        def send(self, message: OutgoingMessage) -> None:
            sent.append(message)

    deliver(owner_site.engine, "demo-plan", cap=10, channel=Recording())
    [receipt] = [m for m in sent if m.recipient == "v12/liaison/receipt"]
    assert receipt.address == "zhaoliu@example.cn" and "回执编号" in receipt.body
    with session_scope(owner_site.engine) as session:
        assert (
            session.scalars(select(Message.status).where(Message.id == receipt.message_id)).one()
            == "sent"
        )


def test_an_extension_request_waits_for_the_coordinator(owner_site: OwnerSite) -> None:
    """延期申请 with a date and a reason is kept pending with a receipt; the item's deadline does
    not move; a second request for the same item waits for the first."""
    link = owner_site.links["赵六"]
    item = item_id(owner_site.engine, "M6", "v12")
    form = {"token": token_of(link), "proposed": "2022-01-28", "reason": "元旦前后村民外出务工"}
    answer = post(f"{link}/items/{item}/extension", form)
    assert answer.status_code == 303, answer.text
    receipt = get(f"{owner_site.url}{answer.headers['location']}").text
    assert "延期申请已提交" in receipt and "2022年1月28日" in receipt and "待审批" in receipt
    with session_scope(owner_site.engine) as session:
        row = session.scalars(select(ExtensionRequest)).one()
        assert (row.status, row.actor, row.reason) == ("pending", ZHAO, "元旦前后村民外出务工")
        work = session.get(WorkItem, item)
        assert work is not None and str(work.due) == "2021-12-30"
    page = get(f"{link}/items/{item}").text
    assert "申请延期至 2022年1月28日，等待督办协调单位审批" in page
    listed = get(link).text.split('data-milestone="M6"')[1].split("</li>")[0]
    assert "延期申请待审批（拟延期至 2022年1月28日）" in listed
    second = post(f"{link}/items/{item}/extension", form)
    assert second.status_code == 422 and "已有一份待审批的延期申请" in second.text


@pytest.mark.parametrize(
    ("proposed", "reason", "field", "words"),
    [
        ("", "资金未到位", "proposed", "请填写"),
        ("下个月", "资金未到位", "proposed", "不是有效的日期"),
        ("2021-12-30", "资金未到位", "proposed", "应晚于当前完成时限（2021年12月30日）"),
        ("2023-06-30", "资金未到位", "proposed", "不能超过一年"),
        ("2022-01-28", "  ", "reason", "请写明延期原因"),
    ],
    ids=["no-date", "not-a-date", "not-later", "too-far", "no-reason"],
)
def test_a_refused_extension_request_says_why_beside_its_field(
    owner_site: OwnerSite, proposed: str, reason: str, field: str, words: str
) -> None:
    """A bad date or a missing reason comes back beside its field (422), nothing written."""
    link = owner_site.links["赵六"]
    item = item_id(owner_site.engine, "M6", "v12")
    get(link)
    before = table_checksums(owner_site.engine)
    form = {"token": token_of(link), "proposed": proposed, "reason": reason}
    answer = post(f"{link}/items/{item}/extension", form)
    assert answer.status_code == 422
    assert words in field_block(answer.text, field)
    assert table_checksums(owner_site.engine) == before
