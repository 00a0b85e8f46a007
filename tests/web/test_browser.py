"""The owner's pages in a real browser (Debian's chromium, headless) at 360 px: nothing wider
than the screen, 签收 and a report by tapping, screenshots kept."""

from __future__ import annotations

import os
import re
import struct
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from config.settings import temporary_settings
from domain.adapters.channels import FileChannel
from domain.services.resend import resend_notice
from duban.cli import app
from models import clock
from models.db import session_scope
from models.orm import Report, WorkItem
from models.records import EvidenceFile, ItemAck, Message, Notice
from tests.adapters.test_evidence_store import MINIMAL_PDF
from tests.fixtures.plan_week import item_id
from tests.fixtures.web import NOW, OwnerSite
from tests.web.chromium import Page, phone

pytestmark = pytest.mark.slow


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    """Where screenshots go: ``DUBAN_TEST_ARTIFACTS`` if set (CI keeps them), else tmp."""
    folder = Path(os.environ.get("DUBAN_TEST_ARTIFACTS") or tmp_path) / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def fits_the_screen(page: Page, width: int = 360) -> None:
    """No horizontal scrolling: the document is no wider than the window, and neither is any
    element (a long unbroken code or name would push out)."""
    assert page.evaluate("window.innerWidth") == width
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    widest = page.evaluate(
        "Math.max(...Array.from(document.querySelectorAll('body *'),"
        " e => e.getBoundingClientRect().right))"
    )
    assert widest <= width


def png_size(png: bytes) -> tuple[int, int]:
    width, height = struct.unpack(">II", png[16:24])
    return width, height


def test_a_liaison_signs_and_reports_on_a_phone(
    owner_site: OwnerSite, tmp_path: Path, shots: Path
) -> None:
    """At 360 px the list fits; one tap signs every ticked item; a bad percent comes back
    beside its field; a good report lands and the list says so."""
    link = owner_site.links["赵六"]
    new = [item_id(owner_site.engine, m, "v12") for m in ("M4", "M5", "M6")]
    with phone(tmp_path) as page:
        page.open(link)
        fits_the_screen(page)
        assert png_size(page.screenshot(shots / "owner-list.png"))[0] == 360
        ticked = page.evaluate("document.querySelectorAll('input[name=item]:checked').length")
        assert ticked == 3
        page.tap("form button.primary")
        assert "已签收 3 项事项" in page.evaluate("document.body.innerText")
        fits_the_screen(page)
        page.screenshot(shots / "owner-signed.png")

        item = new[1]
        page.open(f"{link}/items/{item}")
        fits_the_screen(page)
        page.evaluate(
            "document.querySelector('input[name=state][value=in_progress]').checked = true;"
            "document.querySelector('#f-percent').value = '百分之四十';"
            "document.querySelector('#f-note').value = '已完成选址'"
        )
        page.tap("form.report button.primary")
        error = page.evaluate("document.querySelector('#percent-error').innerText")
        assert "不是整数" in error
        assert page.evaluate("document.querySelector('#f-note').value") == "已完成选址"
        fits_the_screen(page)
        page.screenshot(shots / "report-error.png")
        page.evaluate("document.querySelector('#f-percent').value = '40'")
        page.tap("form.report button.primary")
        assert "本期进展已提交" in page.evaluate("document.body.innerText")
        fits_the_screen(page)
        page.screenshot(shots / "report-receipt.png")
    with session_scope(owner_site.engine) as session:
        states = session.scalars(select(WorkItem.state).where(WorkItem.id.in_(new))).all()
        assert sorted(states) == ["acknowledged", "acknowledged", "in_progress"]
        assert session.scalars(select(ItemAck.actor).where(ItemAck.item_id.in_(new))).all()
        report = session.scalars(select(Report).where(Report.item_id == item)).one()
        assert (report.percent, report.note) == (40, "已完成选址")


def test_a_dead_link_reads_well_on_a_phone(
    owner_site: OwnerSite, tmp_path: Path, shots: Path
) -> None:
    """The page for a forged link fits the screen and says what to do."""
    with phone(tmp_path) as page:
        page.open(owner_site.links["赵六"][:-6])
        fits_the_screen(page)
        assert "链接无效" in page.evaluate("document.body.innerText")
        page.screenshot(shots / "link-forged.png")


def test_a_liaison_uploads_evidence_and_asks_to_close_on_a_phone(
    owner_site: OwnerSite, tmp_path: Path, shots: Path
) -> None:
    """At 360 px the item page shows the evidence required, the upload, 办结申请 and 延期申请
    forms; 办结申请 without a file is refused beside its form; a PDF picked from the phone is
    uploaded with a receipt; then 办结申请 lands with its receipt."""
    link = owner_site.links["赵六"]
    item = item_id(owner_site.engine, "M5", "v12")
    pdf = tmp_path / "选址公示.pdf"
    pdf.write_bytes(MINIMAL_PDF)
    with phone(tmp_path) as page:
        page.open(f"{link}/items/{item}")
        fits_the_screen(page)
        text = page.evaluate("document.body.innerText")
        assert "本节点办结须附：选址公示照片、村民代表会议记录" in text
        assert "申请办结" in text and "提交延期申请" in text
        page.screenshot(shots / "item-forms.png")
        page.tap("#closing button")
        assert "须先上传" in page.evaluate("document.querySelector('#closing-error').innerText")
        assert page.evaluate("window.scrollY") > 1000  # the answer opens at the refused form
        fits_the_screen(page)
        page.screenshot(shots / "closing-refused.png")
        page.choose_file("#f-file", pdf)
        page.tap("#evidence button")
        text = page.evaluate("document.body.innerText")
        assert "佐证材料已上传" in text and "选址公示.pdf" in text and "回执编号" in text
        fits_the_screen(page)
        page.screenshot(shots / "upload-receipt.png")
        page.open(f"{link}/items/{item}")
        assert "选址公示.pdf" in page.evaluate("document.querySelector('#evidence').innerText")
        page.evaluate("document.querySelector('#f-closing_note').value = '公示期满，无异议'")
        page.tap("#closing button")
        text = page.evaluate("document.body.innerText")
        assert "办结申请已提交" in text and "已记为已报送" in text
        fits_the_screen(page)
        page.screenshot(shots / "closing-receipt.png")
    with session_scope(owner_site.engine) as session:
        work = session.get(WorkItem, item)
        assert work is not None and work.state == "submitted"
        evidence = session.scalars(select(EvidenceFile.name)).all()
        assert evidence == ["选址公示.pdf"]


@pytest.mark.parametrize("owner_site", [{"web_upload_mb": 1}], indirect=True)
def test_a_file_too_large_is_refused_on_the_phone(
    owner_site: OwnerSite, tmp_path: Path, shots: Path
) -> None:
    """A file over the limit, refused before it is read, still shows the item page with the
    reason beside the file field (the browser is not left with a broken connection)."""
    link = owner_site.links["赵六"]
    item = item_id(owner_site.engine, "M5", "v12")
    big = tmp_path / "扫描件.pdf"
    big.write_bytes(MINIMAL_PDF + b"%" + b"0" * (3 * 1024 * 1024))
    with phone(tmp_path) as page:
        page.open(f"{link}/items/{item}")
        page.choose_file("#f-file", big)
        page.tap("#evidence button")
        error = page.evaluate("document.querySelector('#file-error').innerText")
        assert "文件太大" in error and "1 MB" in error
        fits_the_screen(page)
        page.screenshot(shots / "upload-too-large.png")
    with session_scope(owner_site.engine) as session:
        assert session.scalars(select(EvidenceFile)).all() == []


def test_from_the_reminder_in_the_outbox_to_the_coordinators_record(
    owner_site: OwnerSite, tmp_path: Path, shots: Path
) -> None:
    """The whole loop as a liaison lives it: the reminder about the item (re-sent to files, now
    that the site has an address) carries the personal link; on the phone it opens the unit's
    page, one tap signs, a PDF is uploaded and 办结申请 gets its receipt; the coordinator's
    record of the item (`duban item show`) then shows the submission under the liaison's name."""
    item = item_id(owner_site.engine, "M5", "v12")
    with session_scope(owner_site.engine) as session:
        notices = session.execute(
            select(Notice.id, Notice.roles).where(
                Notice.unit_id.in_(select(WorkItem.unit_id).where(WorkItem.id == item))
            )
        ).all()
    notice = next(n for n, roles in notices if "owner:liaison" in roles)
    with temporary_settings(web_base_url=owner_site.url), clock.frozen_time(NOW):
        resend_notice(owner_site.engine, notice, channel=FileChannel(tmp_path / "out"))
    with session_scope(owner_site.engine) as session:
        digest = session.scalars(
            select(Message.body)
            .where(Message.recipient == "v12/liaison")
            .order_by(Message.id.desc())
        ).first()
    assert digest is not None
    found = re.search(rf"点击填报：({re.escape(owner_site.url)}/l/\S+)", digest)
    assert found, digest
    pdf = tmp_path / "公示照片.pdf"
    pdf.write_bytes(MINIMAL_PDF)
    with phone(tmp_path) as page:
        page.open(found.group(1))
        assert "甲一村" in page.evaluate("document.body.innerText")
        page.tap("form[action$='/ack'] button")
        assert "已签收" in page.evaluate("document.body.innerText")
        page.open(f"{found.group(1)}/items/{item}")
        page.choose_file("#f-file", pdf)
        page.tap("#evidence button")
        assert "回执编号" in page.evaluate("document.body.innerText")
        page.open(f"{found.group(1)}/items/{item}")
        page.evaluate("document.querySelector('#f-closing_note').value = '选址已公示七天'")
        page.tap("#closing button")
        text = page.evaluate("document.body.innerText")
        assert "办结申请已提交" in text and "回执编号" in text
        fits_the_screen(page)
        page.screenshot(shots / "from-reminder-receipt.png")
    with temporary_settings(database_url=str(owner_site.engine.url.render_as_string(False))):
        shown = CliRunner().invoke(app, ["item", "show", str(item)])
    assert shown.exit_code == 0, shown.output
    assert "已申请办结，赵六" in shown.output and "公示照片.pdf" in shown.output
