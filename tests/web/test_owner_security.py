"""What a personal link cannot do: touch another unit's items through any form, send forms
without its own token, send more forms than a person would, or read another unit's receipts;
a revoked link stores nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from domain.queries.owner_links import revoke_links
from models.db import session_scope
from models.orm import Unit, WorkItem
from tests.adapters.test_evidence_store import MINIMAL_PDF
from tests.fixtures.db import table_checksums
from tests.fixtures.plan_week import item_id
from tests.fixtures.web import OwnerSite, contact_of
from tests.web.test_owner_pages import get, post, token_of
from tests.web.test_owner_submissions import stored_files, upload


def test_every_other_units_item_is_refused_by_every_form(owner_site: OwnerSite) -> None:
    """For each item of every other unit: the page, a report, an upload, 办结申请 and 延期申请
    are all 404; nothing is written to the database or the evidence store."""
    link = owner_site.links["赵六"]
    token = token_of(link)
    get(link)
    with session_scope(owner_site.engine) as session:
        others = session.scalars(
            select(WorkItem.id).join(Unit, Unit.id == WorkItem.unit_id).where(Unit.code != "v12")
        ).all()
    assert len(others) > 20
    before = table_checksums(owner_site.engine)
    for other in others:
        answers = {
            "page": get(f"{link}/items/{other}"),
            "report": post(f"{link}/items/{other}", {"token": token, "state": "in_progress"}),
            "upload": upload(link, other, "公示.pdf", MINIMAL_PDF),
            "closing": post(f"{link}/items/{other}/closing", {"token": token}),
            "extension": post(
                f"{link}/items/{other}/extension",
                {"token": token, "proposed": "2023-01-31", "reason": "资金未到位"},
            ),
        }
        for form, answer in answers.items():
            assert answer.status_code == 404, (other, form, answer.status_code)
            assert "不属于本单位" in answer.text
    assert table_checksums(owner_site.engine) == before
    assert stored_files(owner_site) == []


def test_a_receipt_is_shown_only_to_its_own_unit(owner_site: OwnerSite) -> None:
    """孙八's receipt number opens for 孙八's link and is a 404 for 赵六's, as is a made-up
    or malformed number."""
    sun, zhao = owner_site.links["孙八"], owner_site.links["赵六"]
    item = item_id(owner_site.engine, "M5", "v22")
    answer = upload(sun, item, "公示.pdf", MINIMAL_PDF)
    assert answer.status_code == 303
    number = answer.headers["location"].rsplit("/", 1)[1]
    assert get(f"{sun}/receipts/{number}").status_code == 200
    for guess in (number, number.replace("F", "B"), "20211227-F999999", "..%2F..%2Fetc", "x"):
        page = get(f"{zhao}/receipts/{guess}")
        assert page.status_code == 404 and "公示.pdf" not in page.text


def test_new_forms_need_the_links_own_token_and_this_site(owner_site: OwnerSite) -> None:
    """Upload, 办结申请 and 延期申请 without the link's token, with another's, or from another
    site are refused (403) and change nothing."""
    link = owner_site.links["赵六"]
    item = item_id(owner_site.engine, "M6", "v12")
    get(link)
    before = table_checksums(owner_site.engine)
    sun = token_of(owner_site.links["孙八"])
    cross_site = {"Sec-Fetch-Site": "cross-site"}
    for token, headers in [(None, {}), (sun, {}), (token_of(link), cross_site)]:
        data = {"proposed": "2022-01-28", "reason": "资金未到位"}
        if token is not None:
            data["token"] = token
        for path in ("closing", "extension"):
            answer = post(f"{link}/items/{item}/{path}", data, headers=headers)
            assert answer.status_code == 403 and "提交被拒绝" in answer.text
        answer = upload(link, item, "公示.pdf", MINIMAL_PDF, token=token or "", headers=headers)
        assert answer.status_code == 403
    assert table_checksums(owner_site.engine) == before
    assert stored_files(owner_site) == []


@pytest.mark.parametrize("owner_site", [{"web_posts_per_minute": 3}], indirect=True)
def test_a_link_that_posts_too_often_is_slowed_down(owner_site: OwnerSite) -> None:
    """Past DUBAN_WEB_POSTS_PER_MINUTE forms a link gets a Chinese 429 page (nothing written);
    another link is not affected."""
    link = owner_site.links["赵六"]
    item = item_id(owner_site.engine, "M6", "v12")
    form = {"token": token_of(link), "state": "in_progress", "percent": "10"}
    for _ in range(3):
        assert post(f"{link}/items/{item}", form).status_code in {303, 422}
    before = table_checksums(owner_site.engine)
    answer = post(f"{link}/items/{item}", form)
    assert answer.status_code == 429 and "提交过于频繁" in answer.text
    assert answer.headers["retry-after"] == "60"
    assert upload(link, item, "公示.pdf", MINIMAL_PDF).status_code == 429
    assert table_checksums(owner_site.engine) == before
    sun = owner_site.links["孙八"]
    other = item_id(owner_site.engine, "M6", "v22")
    sun_form = {"token": token_of(sun), "state": "in_progress", "percent": "10"}
    assert post(f"{sun}/items/{other}", sun_form).status_code == 303


def test_a_revoked_link_stores_nothing(owner_site: OwnerSite) -> None:
    """After `duban link revoke`, an upload through the old link gets the Chinese 410 page."""
    link = owner_site.links["赵六"]
    item = item_id(owner_site.engine, "M5", "v12")
    with session_scope(owner_site.engine) as session:
        revoke_links(session, contact_of(owner_site.engine, "赵六"))
    answer = upload(link, item, "公示.pdf", MINIMAL_PDF)
    assert answer.status_code == 410 and "链接已停用" in answer.text
    assert stored_files(owner_site) == []
