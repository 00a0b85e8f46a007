"""The main job's smaller parts: the mail step without a mailbox, the browser that reads the
owner's pages, and the sample evidence file."""

from __future__ import annotations

import socket
from datetime import date
from pathlib import Path

import httpx
from rich.console import Console
from sqlalchemy import Engine

from config.settings import Settings, temporary_settings
from domain.adapters.evidence_store import EvidenceKind, store
from duban.demo_browser import Browser
from duban.demo_mail import mail_in
from duban.demo_web import sample_pdf

WORKBOOK = "06-zzb-中共施甸县委组织部-2021-12-20.xlsx"


def _mail(engine: Engine, tmp_path: Path) -> tuple[int, list[str], Path]:
    workbook = tmp_path / "mail" / WORKBOOK
    workbook.parent.mkdir()
    workbook.write_bytes(b"PK\x03\x04 a workbook")
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    console = Console(record=True, width=100)
    landed = mail_in(
        console,
        engine,
        "demo-plan",
        workbook,
        inbox,
        unit_name="中共施甸县委组织部",
        address="liaison-zzb@sample.invalid",
    )
    return landed, console.export_text().splitlines(), inbox


def test_without_a_mailbox_one_line_says_so_and_the_workbook_goes_to_the_inbox(
    settings: Settings, engine: Engine, tmp_path: Path
) -> None:
    """With no DUBAN_IMAP_HOST the mail step is one line (skipped, and how to turn it on) and
    the workbook that would have been mailed waits in the inbox instead."""
    assert settings.imap_host is None
    landed, lines, inbox = _mail(engine, tmp_path)
    assert landed == 0
    [line] = lines
    assert "邮件报送：已跳过（没有设置收信邮箱）" in line and "DUBAN_IMAP_HOST" in line
    assert "中共施甸县委组织部的台账改放进收件箱" in line
    assert [p.name for p in inbox.iterdir()] == [WORKBOOK]


def test_an_unreachable_mailbox_is_said_in_chinese_and_the_workbook_goes_to_the_inbox(
    engine: Engine, tmp_path: Path
) -> None:
    """A mailbox that refuses the connection does not stop the job: one line says why."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again: nobody listens there
    updates = {"imap_host": "127.0.0.1", "imap_port": port, "imap_security": "none"}
    with temporary_settings(**updates, imap_user="demo", imap_password="x"):
        landed, lines, inbox = _mail(engine, tmp_path)
    assert landed == 0
    [line] = lines
    assert "收信邮箱 127.0.0.1 无法使用（连接被拒绝" in line and "已跳过" in line
    assert [p.name for p in inbox.iterdir()] == [WORKBOOK]


PAGE = """<html><body><h1>甲村</h1>
<form method="post" action="/l/T/ack"><input type="hidden" name="token" value="T">
<ol><li class="card red"><input type="checkbox" name="item" value="7" checked>
<a class="go" href="/l/T/items/7">填报进展</a></li>
<li class="card green"><a href="/l/T/items/9">填报进展</a></li></ol></form>
<form method="post" action="/l/T/items/7#report"><input type="hidden" name="token" value="T">
<input type="radio" name="state" value="not_started">
<input type="radio" name="state" value="in_progress" checked>
<input name="percent" type="text" value="60"><textarea name="note">已完成&amp;过半</textarea>
<p class="field-error" id="percent-error">进度不能下降</p></form>
<form method="post" action="/l/T/items/7/files" enctype="multipart/form-data">
<input type="hidden" name="token" value="T"><input type="file" name="file"></form>
</body></html>"""


def test_the_browser_reads_forms_as_a_browser_would_send_them() -> None:
    """Hidden fields, the checked radio, text and textarea values, checkboxes, where each form
    goes, the cards' links and the errors beside fields are read from the page."""
    answer = httpx.Response(200, text=PAGE, request=httpx.Request("GET", "http://x/l/T"))
    page = Browser.page_of(answer)
    ack, report, upload = page.forms
    assert ack.action == "http://x/l/T/ack" and ack.boxes == [("item", "7", True)]
    assert page.form("/items/7") is report and report.action.endswith("/items/7#report")
    assert report.fields == {
        "token": "T",
        "state": "in_progress",
        "percent": "60",
        "note": "已完成&过半",
    }
    assert upload.multipart and upload.fields == {"token": "T"}
    assert [(a.href, a.card) for a in page.links] == [
        ("http://x/l/T/items/7", "red"),
        ("http://x/l/T/items/9", "green"),
    ]
    assert page.errors == ["进度不能下降"]


def test_the_sample_evidence_is_a_pdf_the_store_accepts(tmp_path: Path) -> None:
    """The generated evidence is judged a PDF by its content, and says what it is."""
    data = sample_pdf("甲村 T08-M1 办结佐证材料", date(2021, 12, 10))
    kept = store(tmp_path, data, max_bytes=1024 * 1024)
    assert kept.kind == EvidenceKind.PDF and kept.size == len(data) < 100_000
    assert "甲村 T08-M1 办结佐证材料".encode("utf-16-be") in data  # its title, for readers
