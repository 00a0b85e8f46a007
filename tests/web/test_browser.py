"""The owner's pages in a real browser (Debian's chromium, headless) at 360 px: nothing wider
than the screen, 签收 and a report by tapping, screenshots kept."""

from __future__ import annotations

import os
import struct
from pathlib import Path

import pytest
from sqlalchemy import select

from models.db import session_scope
from models.orm import ItemAck, Report, WorkItem
from tests.fixtures.plan_week import item_id
from tests.fixtures.web import OwnerSite
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
