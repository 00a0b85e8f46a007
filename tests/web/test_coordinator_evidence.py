"""The coordinator opens a submitted item's evidence files from the links of the 待核验销号 page:
each link serves its own file, checked, under safe headers, until it expires; any other token,
an expired one or a changed file gets a page in Chinese and no bytes."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from urllib.parse import unquote, urlsplit

import httpx
import pytest
from sqlalchemy import Engine

from config.settings import Settings, temporary_settings
from domain.adapters.signing import workbook_secret
from domain.queries.context import build_context
from domain.queries.desk import desk
from domain.rules.context import LightPolicy
from domain.rules.desk import submitted_page
from domain.rules.evidence_links import evidence_url, expiry
from flows.desk import file_links
from models import clock
from models.db import session_scope
from tests.adapters.test_evidence_store import MINIMAL_PDF, docx_bytes, image_bytes
from tests.fixtures.desk import keep_file
from tests.fixtures.plan_week import item_id
from tests.fixtures.web import AS_OF, NOW, OwnerSite

BASE = "https://duban.example.cn/tb"
FILES = {
    "公示照片.png": (image_bytes("PNG"), "image/png", "inline"),
    "会议记录.pdf": (MINIMAL_PDF, "application/pdf", "inline"),
    "../../联审意见.docx": (
        docx_bytes(),
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "attachment",
    ),
}


@pytest.fixture
def linked(queues: Engine, owner_site: OwnerSite) -> Iterator[tuple[str, dict[str, int]]]:
    """The 待核验销号 page with links (DUBAN_WEB_BASE_URL set), after 甲一村's 办结申请 got
    three real files kept where the running site reads them; the page and each file's number by
    name. The clock is held at NOW."""
    settings = owner_site.settings
    item = item_id(queues, "M5", "v12")
    ids = {
        name: keep_file(queues, settings, item, name, data) for name, (data, _, _) in FILES.items()
    }
    with temporary_settings(web_base_url=BASE) as linked_settings, clock.frozen_time(NOW):
        with session_scope(queues) as s:
            found = desk(s, build_context(s, "demo-plan", AS_OF, LightPolicy(5, 25)))
        links = file_links(linked_settings, found, "Asia/Shanghai")
        assert links is not None
        yield submitted_page(found, str(linked_settings.resolved_evidence), links), ids


def get(site: OwnerSite, path: str) -> httpx.Response:
    with httpx.Client(base_url=site.url, timeout=10) as web:
        return web.get(path)


def links_on(page: str) -> dict[str, str]:
    """Each Markdown link of the page: its text (unescaped) → its path on the site."""
    found = re.findall(r"\[([^\]]+)\]\((\S+?)\)", page)
    return {text.replace("\\", ""): url.removeprefix(BASE) for text, url in found}


def test_each_file_of_the_page_opens_from_its_link(
    linked: tuple[str, dict[str, int]], owner_site: OwnerSite
) -> None:
    """Images and PDF open in the browser, Word downloads; each under its sender's name (only its
    last part), with its own bytes, no sniffing, no script, not cached."""
    page, ids = linked
    links = links_on(page)
    assert set(FILES) < set(links)  # and 乙一村's two, recorded but not kept in these tests
    assert "链接有效至 2022年1月10日" in page
    for name, (data, media, disposition) in FILES.items():
        path = links[name]
        assert path.startswith(f"/coordinator/evidence/{ids[name]}?t=")
        answer = get(owner_site, path)
        assert answer.status_code == 200, name
        assert answer.content == data
        assert answer.headers["content-type"] == media
        head, _, filenames = answer.headers["content-disposition"].partition(";")
        assert head == disposition
        sent = unquote(filenames.split("filename*=UTF-8''")[1])
        assert sent == name.rsplit("/", 1)[-1]
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert "script-src" not in answer.headers["content-security-policy"]
        assert "default-src 'none'" in answer.headers["content-security-policy"]
        assert answer.headers["cache-control"] == "no-store"


def test_a_link_expires_with_a_page_in_chinese(
    linked: tuple[str, dict[str, int]], owner_site: OwnerSite
) -> None:
    page, _ = linked
    path = links_on(page)["公示照片.png"]
    with clock.frozen_time(NOW + timedelta(days=14)):
        answer = get(owner_site, path)
    assert answer.status_code == 403
    assert "链接已过期" in answer.text and "待核验销号" in answer.text
    with clock.frozen_time(NOW + timedelta(days=13, hours=23)):
        assert get(owner_site, path).status_code == 200


def test_another_token_opens_nothing(
    linked: tuple[str, dict[str, int]], owner_site: OwnerSite
) -> None:
    """An edited token, one file's token on another file's number, no token, and a path in
    place of a number: no file's bytes, a page in Chinese."""
    page, ids = linked
    path = links_on(page)["公示照片.png"]
    token = path.split("?t=")[1]
    # a character inside the signature: the last one may carry only padding bits
    edited = path[:-5] + ("A" if path[-5] != "A" else "B") + path[-4:]
    other = f"/coordinator/evidence/{ids['会议记录.pdf']}?t={token}"
    bare = f"/coordinator/evidence/{ids['公示照片.png']}"
    for attempt in (edited, other, bare):
        answer = get(owner_site, attempt)
        assert answer.status_code == 403, attempt
        assert "链接无效" in answer.text
        assert answer.headers["content-type"].startswith("text/html")
    traversal = get(owner_site, f"/coordinator/evidence/..%2F..%2Fduban.db?t={token}")
    assert traversal.status_code == 404
    assert urlsplit(path).query.startswith("t=")


def test_a_file_changed_on_disk_is_not_served(
    linked: tuple[str, dict[str, int]], owner_site: OwnerSite
) -> None:
    page, _ = linked
    path = links_on(page)["会议记录.pdf"]
    kept = next(owner_site.settings.resolved_evidence.rglob("*.pdf"))
    kept.write_bytes(MINIMAL_PDF + b"%changed")
    answer = get(owner_site, path)
    assert answer.status_code == 404
    assert "已被改动" in answer.text and b"%changed" not in answer.content


def test_without_a_public_address_the_page_names_the_command(
    queues: Engine, settings: Settings
) -> None:
    """No DUBAN_WEB_BASE_URL: no links; each file keeps its `duban evidence N` line."""
    with session_scope(queues) as s:
        found = desk(s, build_context(s, "demo-plan", AS_OF, LightPolicy(5, 25)))
    assert file_links(settings, found, "Asia/Shanghai") is None
    page = submitted_page(found, str(settings.resolved_evidence), None)
    assert "](" not in page
    assert all(f"`duban evidence {f.id}`" in page for i in found.submitted for f in i.files)


def test_a_missing_record_or_file_is_said_in_chinese(
    linked: tuple[str, dict[str, int]], owner_site: OwnerSite
) -> None:
    """A genuine link to a number no file has, and one whose kept file is gone: 404 pages that
    say which."""
    page, ids = linked
    secret = workbook_secret(owner_site.settings)
    nobody = evidence_url(BASE, secret, 9999, expiry(NOW)).removeprefix(BASE)
    answer = get(owner_site, nobody)
    assert answer.status_code == 404 and "没有编号为 9999 的佐证材料" in answer.text
    next(owner_site.settings.resolved_evidence.rglob("*.png")).unlink()
    answer = get(owner_site, links_on(page)["公示照片.png"])
    assert answer.status_code == 404
    assert f"佐证材料 {ids['公示照片.png']} 的文件不在存放目录中" in answer.text
