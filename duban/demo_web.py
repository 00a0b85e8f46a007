"""The main job's web part: ``duban web``'s own application served by uvicorn on a free local
port while the demo replays its weeks, and the sample units that answer there through their
personal links as a person would in a browser: 签收, progress, an evidence file (a small PDF)
before 办结申请, and one 延期申请.

The site reads the one clock (:mod:`models.clock`), so it lives in whatever day the demo has
frozen; a link is issued that day, as that week's reminder would carry it.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import httpx
from PIL import Image, ImageDraw, ImageFont
from sqlalchemy import Engine

from config.settings import Settings
from domain.adapters.briefing.fonts import CHART_FONT
from domain.adapters.signing import workbook_secret
from domain.queries.owner_links import issue_link
from domain.rules.glossary import zh_date
from domain.rules.reporting import ReportState, parse_report_state
from duban.demo_browser import Browser, Page
from duban.orchestration import free_port
from duban.sample import WebVisit
from models import clock
from models.db import session_scope
from models.orm import Plan

REPLAY_POSTS_PER_MINUTE = 100_000
"""The demo replays weeks within seconds: the per-link limit (forms a minute) is lifted."""
NO_NEWS = "本周无新进展，按计划推进"
STILL_BLOCKED = "问题尚未解决，已报请协调单位协调"
EXTENSION_REASON = "部分住户外出务工，入户核实需待春节返乡后完成，申请延期两个月"
_ITEM = re.compile(r"/items/(\d+)$")
_CODE = re.compile(r'data-milestone="([^"]+)"')
_UNIT = re.compile(r"<h1>([^<]+)</h1>")


@contextmanager
def owner_site(settings: Settings) -> Iterator[str]:
    """The owner's site for ``settings`` on a free loopback port, in a thread; its address."""
    app_settings = settings.model_copy(update={"web_posts_per_minute": REPLAY_POSTS_PER_MINUTE})
    from duban.web.threaded import serving  # noqa: PLC0415 - FastAPI is loaded only when served

    with serving(app_settings, "127.0.0.1", free_port()) as address:
        yield address


@dataclass
class WebTally:
    """What the units did on their pages: 签收 (items), reports landed (each with a receipt,
    办结申请 included), evidence files, 延期申请, and what the pages refused, with the reasons."""

    units: int = 0
    acks: int = 0
    reports: int = 0
    closings: int = 0
    files: int = 0
    extensions: int = 0
    refused: list[str] = field(default_factory=list)

    def __iadd__(self, other: WebTally) -> WebTally:
        for name in ("units", "acks", "reports", "closings", "files", "extensions"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.refused += other.refused
        return self

    def line(self) -> str:
        """The tally in one Chinese line."""
        parts = [f"{self.units} 个单位打开个人链接"]
        if self.acks:
            parts.append(f"签收 {self.acks} 项")
        closing = f"（含申请办结 {self.closings} 项）" if self.closings else ""
        parts.append(f"报送进展 {self.reports} 条{closing}")
        if self.files:
            parts.append(f"上传佐证材料 {self.files} 个")
        if self.extensions:
            parts.append(f"提出延期申请 {self.extensions} 份")
        text = "，".join(parts)
        if self.refused:
            text += f"；页面未通过 {len(self.refused)} 次：{self.refused[0]}"
        return text


def visit_week(
    engine: Engine,
    settings: Settings,
    site: str,
    plan: Plan,
    visits: Sequence[WebVisit],
    *,
    extension: bool,
) -> WebTally:
    """Each unit of ``visits`` opens a link issued now, signs for what is new and reports on
    every item its page lists (its row of the week, or no news); with ``extension``, the first
    unit with an overdue item asks to extend it."""
    tally = WebTally()
    today = clock.local_date(clock.now(), plan.timezone)
    with httpx.Client(timeout=30) as client:
        for visit in visits:
            link = _link(engine, settings, site, plan.id, visit.unit_code)
            browser = Browser(client)
            tally += _visit(browser, link, visit, today)
            if extension and not tally.extensions:
                tally += _extend(browser, link, visit.unit_code, today)
    return tally


def _link(engine: Engine, settings: Settings, site: str, plan_id: str, unit: str) -> str:
    with session_scope(engine) as session:
        issued = issue_link(
            session,
            workbook_secret(settings),
            plan_id=plan_id,
            unit_code=unit,
            contact_id=None,
            now=clock.now(),
            days=settings.link_days,
        )
    return f"{site}/l/{issued.token}"


def _listed(page: Page) -> dict[int, str]:
    """The items a unit's page lists, by id, with their page's address."""
    return {int(m.group(1)): a.href for a in page.links if (m := _ITEM.search(a.href))}


def _visit(browser: Browser, link: str, visit: WebVisit, today: date) -> WebTally:
    tally = WebTally(units=1)
    page = browser.open(link)
    ack = page.form("/ack")
    if ack is not None and ack.boxes:
        signed = browser.submit(ack)
        tally.acks += len(ack.boxes) if signed.status == 200 else 0
    unit = m.group(1) if (m := _UNIT.search(page.text)) else visit.unit_code
    listed = _listed(page)
    for item_id, href in listed.items():
        item = browser.open(href)
        row = visit.rows.get(item_id)
        if row is not None and parse_report_state(str(row["state"])) == ReportState.DONE:
            note = str(row.get("note", ""))
            tally += _close(browser, item, unit, note, today)
            continue
        form = item.form(f"/items/{item_id}")
        assert form is not None, item.url  # every item page has its progress form
        answer = browser.submit(form, _typed(form.fields, row))
        if _is_receipt(answer):
            tally.reports += 1
        else:
            tally.refused.append(_why(answer, f"{unit} 事项 {item_id} 进展"))
    return tally


def _typed(shown: dict[str, str], row: dict[str, Any] | None) -> dict[str, str]:
    """What the person types over the form: the week's row, or, with nothing new, the form as
    it stands (state and percent) and a line saying so."""
    if row is None:
        values = {"note": NO_NEWS}
        if shown.get("state") == ReportState.BLOCKED.value:
            values["problem"] = STILL_BLOCKED
        return values
    state = parse_report_state(str(row["state"]))
    return {
        "state": state.value,
        "percent": str(row["percent"]),
        **{k: str(row.get(k, "")) for k in ("note", "problem", "next_steps")},
    }


def _close(browser: Browser, item: Page, unit: str, note: str, today: date) -> WebTally:
    """Upload the evidence (a PDF), go back to the item, and submit 办结申请."""
    tally = WebTally()
    code = m.group(1) if (m := _CODE.search(item.text)) else ""
    upload = item.form("/files")
    assert upload is not None, item.url
    title = f"{unit} {code} 办结佐证材料"
    answer = browser.submit(upload, file=(f"{code}办结佐证材料.pdf", sample_pdf(title, today)))
    if not _is_receipt(answer):
        tally.refused.append(_why(answer, f"{unit} {code} 上传佐证材料"))
        return tally
    tally.files += 1
    item = browser.open(item.url)  # back to the item, as the receipt's link leads
    closing = item.form("/closing")
    assert closing is not None, item.url
    answer = browser.submit(closing, {"closing_note": note or "已全部完成"})
    if _is_receipt(answer):
        tally.reports += 1
        tally.closings += 1
    else:
        tally.refused.append(_why(answer, f"{unit} {code} 办结申请"))
    return tally


def _extend(browser: Browser, link: str, unit: str, today: date) -> WebTally:
    """延期申请 on the unit's first overdue item (red card), if it has one."""
    tally = WebTally()
    page = browser.open(link)
    red = next((a.href for a in page.links if a.card == "red" and _ITEM.search(a.href)), None)
    if red is None:
        return tally
    item = browser.open(red)
    form = item.form("/extension")
    assert form is not None, item.url
    proposed = today + timedelta(days=61)
    answer = browser.submit(form, {"proposed": proposed.isoformat(), "reason": EXTENSION_REASON})
    if _is_receipt(answer):
        tally.extensions = 1
    else:
        tally.refused.append(_why(answer, f"{unit} 延期申请"))
    return tally


def _is_receipt(answer: Page) -> bool:
    """Whether a form ended on its receipt (回执): what the page sent was kept."""
    return "/receipts/" in answer.url and answer.status == 200


def _why(answer: Page, what: str) -> str:
    reasons = "；".join(e.strip() for e in answer.errors) or f"页面返回 {answer.status}"
    return f"{what}：{reasons}"


def sample_pdf(title: str, today: date) -> bytes:
    """A one-page A4 PDF (an image of the page, as a scanner makes it) saying it is sample
    evidence, set in the Noto Sans CJK font that ships with duban's chart fonts."""
    page = Image.new("L", (595, 842), 255)  # A4 at 72 dpi
    draw = ImageDraw.Draw(page)
    lines = [
        (title, 26),
        (f"生成日期：{zh_date(today)}", 16),
        ("示例佐证材料：由督办演示程序生成，非真实材料", 16),
    ]
    top = 90
    for text, size in lines:
        draw.text((72, top), text, fill=0, font=ImageFont.truetype(str(CHART_FONT), size))
        top += size + 22
    out = io.BytesIO()
    page.save(out, format="PDF", resolution=72, title=title, producer="duban")
    return out.getvalue()
