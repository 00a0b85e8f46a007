"""The owner's pages over real HTTP (uvicorn on a free port): what a link shows, what it
refuses, and what 签收 and a progress report write."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from itsdangerous import URLSafeSerializer
from sqlalchemy import select

from domain.queries.owner_links import revoke_links
from domain.rules.owner_links import LinkClaim, seal
from models import clock
from models.db import session_scope
from models.orm import ItemTransition, Report, Unit, WorkItem
from models.records import ItemAck, Notice
from tests.fixtures.db import table_checksums
from tests.fixtures.plan_week import item_id
from tests.fixtures.web import (
    BLOCK_REASON,
    NOW,
    RETURN_REASON,
    OwnerSite,
    contact_of,
)

ZHAO = "赵六（甲一村·个人链接）"


def get(url: str, **kwargs: object) -> httpx.Response:
    return httpx.get(url, follow_redirects=False, timeout=10, **kwargs)  # type: ignore[arg-type]


def post(url: str, data: object, **kwargs: object) -> httpx.Response:
    return httpx.post(url, data=data, follow_redirects=False, timeout=10, **kwargs)  # type: ignore[arg-type]


def token_of(link: str) -> str:
    return link.rsplit("/", 1)[1]


def claim_in(token: str) -> LinkClaim:
    """What a token says, read without checking its signature (to forge it)."""
    _, body = URLSafeSerializer(b"").loads_unsafe(token)
    plan, unit, contact, key, expires = body
    return LinkClaim(plan, unit, contact, key, datetime.fromtimestamp(expires, UTC))


def field_block(html: str, name: str) -> str:
    """The form block (fieldset or div) holding the input named ``name``."""
    for block in re.findall(
        r"<(?:fieldset|div) class=\"field[^\"]*\">.*?</(?:fieldset|div)>|"
        r"<fieldset[^>]*>.*?</fieldset>",
        html,
        re.S,
    ):
        if f'name="{name}"' in block:
            return str(block)
    raise AssertionError(f"no field {name} in the page")


def test_the_page_lists_what_needs_something(owner_site: OwnerSite) -> None:
    """The unit's overdue, due-soon, blocked and returned items are listed with light, due date,
    working days, evidence and the reasons; no other unit's item is."""
    page = get(owner_site.links["赵六"])
    assert page.status_code == 200
    html = page.text
    assert "甲一村" in html and "赵六（联络员）" in html
    urgent = html.split("需要处理的事项")[1]
    for milestone in ("M4", "M5", "M6", "M7", "M8"):
        assert f'data-milestone="{milestone}"' in urgent
    m5 = urgent.split('data-milestone="M5"')[1].split("</li>")[0]
    assert "2021年12月1日（已逾期 18 个工作日）" in m5  # Dec 2–27: 18 working days
    assert "红灯" in urgent.split('data-milestone="M5"')[0].rsplit("<li", 1)[1]
    assert "选址公示照片、村民代表会议记录" in m5
    m6 = urgent.split('data-milestone="M6"')[1].split("</li>")[0]
    assert "还剩 3 个工作日" in m6 and "临近到期" in m6
    assert RETURN_REASON in urgent and BLOCK_REASON in urgent
    shown = re.sub(r"<[^>]*>", " ", html)  # what a person reads: no catalogue codes
    assert not re.search(r"\b[TM]\d+\b", shown), re.findall(r".{0,12}\b[TM]\d+\b", shown)
    others = item_id(owner_site.engine, "M5", "v22")
    assert f"/items/{others}" not in html
    assert "乙一村" not in html


def test_pages_run_no_script_and_load_nothing_from_elsewhere(owner_site: OwnerSite) -> None:
    """Every page carries a policy that allows no script and only this site's stylesheet."""
    page = get(owner_site.links["赵六"])
    policy = page.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "script-src" not in policy
    assert page.headers["cache-control"] == "no-store"
    assert page.headers["referrer-policy"] == "no-referrer"
    assert "<script" not in page.text and "http" not in page.text.split("<body>")[1]
    css = get(f"{owner_site.url}/static/web.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: t[:-5] + ("A" if t[-5] != "A" else "B") + t[-4:],  # signature edited
        lambda t: t[: len(t) // 2],  # cut short in copying
        lambda _t: "WyJkZW1vLXBsYW4iLCJ2MjIiLDQsIngiLDQxMDI0NDQ4MDBd.forged",  # made up
        lambda t: seal(b"another key" * 3, claim_in(t)),  # the same claim under another key
    ],
    ids=["edited", "cut", "made-up", "other-key"],
)
def test_a_forged_link_gets_a_chinese_403(owner_site: OwnerSite, mangle: object) -> None:
    """An edited, truncated or made-up link opens nothing and says what to do."""
    token = token_of(owner_site.links["赵六"])
    page = get(f"{owner_site.url}/l/{mangle(token)}")  # type: ignore[operator]
    assert page.status_code == 403
    assert "链接无效" in page.text and "王五" not in page.text
    assert "民政局" in page.text and "0875-1234567" in page.text  # whom to ask
    assert "Traceback" not in page.text and "甲一村" not in page.text


def test_an_expired_link_gets_a_chinese_410(owner_site: OwnerSite) -> None:
    """A link past its days says so, with the date and whom to ask; a new one works."""
    link = owner_site.link("赵六", days=1)
    assert get(link).status_code == 200
    with clock.frozen_time(NOW + timedelta(days=1)):
        page = get(link)
        assert page.status_code == 410
        assert "链接已过期" in page.text and "2021年12月28日" in page.text
        assert "下一次提醒" in page.text and "甲一村" not in page.text
        assert get(owner_site.link("赵六")).status_code == 200


def test_a_revoked_link_gets_a_chinese_410(owner_site: OwnerSite) -> None:
    """Revoking a contact's links ends them all, and only theirs; the next link works."""
    old = owner_site.links["赵六"]
    with session_scope(owner_site.engine) as session:
        revoke_links(session, contact_of(owner_site.engine, "赵六"))
    page = get(old)
    assert page.status_code == 410 and "链接已停用" in page.text
    assert get(owner_site.links["孙八"]).status_code == 200
    fresh = owner_site.link("赵六")
    assert fresh != old and get(fresh).status_code == 200
    assert get(old).status_code == 410


def test_one_tap_acknowledges_several_items_under_the_contacts_name(
    owner_site: OwnerSite,
) -> None:
    """签收 moves each new item to 已签收 and acknowledges each waiting reminder level, logged
    under the contact's name; the page then says how many."""
    link = owner_site.links["赵六"]
    ids = [item_id(owner_site.engine, m, "v12") for m in ("M4", "M5", "M6")]
    with session_scope(owner_site.engine) as session:
        levels = {
            (n.item_id, n.level, n.due)
            for n in session.scalars(
                select(Notice).where(Notice.item_id.in_(ids), Notice.kind == "ladder")
            )
        }
    assert levels, "the ladder reminded 甲一村 of its overdue items"
    answer = post(f"{link}/ack", {"token": token_of(link), "item": [str(i) for i in ids]})
    assert answer.status_code == 303
    assert answer.headers["location"].endswith("?signed=3&already=0")
    with session_scope(owner_site.engine) as session:
        states = dict(
            session.execute(select(WorkItem.id, WorkItem.state).where(WorkItem.id.in_(ids))).all()
        )
        assert set(states.values()) == {"acknowledged"}
        moves = session.scalars(
            select(ItemTransition).where(
                ItemTransition.item_id.in_(ids), ItemTransition.to_state == "acknowledged"
            )
        ).all()
        assert sorted(m.item_id for m in moves) == sorted(ids)
        assert {m.actor for m in moves} == {ZHAO}
        acks = session.scalars(select(ItemAck).where(ItemAck.item_id.in_(ids))).all()
        assert {(a.item_id, a.level, a.due) for a in acks} == levels
        assert {a.actor for a in acks} == {ZHAO}
    page = get(f"{owner_site.url}{answer.headers['location']}")
    assert "已签收 3 项事项" in page.text
    again = post(f"{link}/ack", {"token": token_of(link), "item": [str(ids[0])]})
    assert again.headers["location"].endswith("?signed=0&already=1")


def test_a_progress_report_lands_through_the_intake_with_its_audit_rows(
    owner_site: OwnerSite,
) -> None:
    """A valid report is one report row and one lifecycle move, under the contact's name."""
    link = owner_site.links["赵六"]
    item = item_id(owner_site.engine, "M5", "v12")
    form = get(f"{link}/items/{item}")
    assert form.status_code == 200 and 'name="percent"' in form.text
    answer = post(
        f"{link}/items/{item}",
        {
            "token": token_of(link),
            "state": "in_progress",
            "percent": "40",
            "note": "已完成选址，公示中",
            "problem": "",
            "next_steps": "公示期满后报乡镇审核",
        },
    )
    assert answer.status_code == 303, answer.text
    with session_scope(owner_site.engine) as session:
        report = session.scalars(select(Report).where(Report.item_id == item)).one()
        assert (report.state, report.percent, report.actor) == ("in_progress", 40, ZHAO)
        assert report.note == "已完成选址，公示中" and report.next_steps == "公示期满后报乡镇审核"
        work = session.get(WorkItem, item)
        assert work is not None and (work.state, work.percent) == ("in_progress", 40)
        move = session.scalars(
            select(ItemTransition).where(
                ItemTransition.item_id == item, ItemTransition.from_state.is_not(None)
            )
        ).one()
        assert (move.to_state, move.actor) == ("in_progress", ZHAO)
    receipt = get(f"{owner_site.url}{answer.headers['location']}")
    assert receipt.status_code == 200 and "本期进展已提交" in receipt.text
    assert re.search(r"20211227-B\d{6}", receipt.text)
    shown = re.sub(r"<[^>]*>", " ", receipt.text)  # the links' tokens may hold "M5"
    assert f"服务站点选址并公示（事项编号 {item}）" in shown and "M5" not in shown
    assert "已记为<strong>已报送" in receipt.text


@pytest.mark.parametrize(
    ("milestone", "values", "field", "words"),
    [
        ("M5", {"state": "in_progress", "percent": "七十"}, "percent", "不是整数"),
        ("M5", {"state": "in_progress", "percent": "170"}, "percent", "超出范围"),
        ("M5", {"state": "blocked", "percent": "10"}, "problem", "受阻原因"),
        ("M5", {"state": "finished"}, "state", "不是可选的状态"),
        ("M5", {"state": "done", "percent": "100"}, "state", "办结申请"),
        ("M5", {"percent": "10"}, "state", "本期状态未填"),
        ("M8", {"state": "not_started"}, "state", "倒退"),
    ],
    ids=[
        "not-a-number",
        "over-100",
        "blocked-without-why",
        "unknown-state",
        "done",
        "no-state",
        "backwards",
    ],
)
def test_a_refused_report_shows_the_reason_beside_its_field_and_writes_nothing(
    owner_site: OwnerSite, milestone: str, values: dict[str, str], field: str, words: str
) -> None:
    """Reading and rule errors come back (422) beside the field they concern, the typed values
    kept, and the database is exactly as before."""
    link = owner_site.links["赵六"]
    item = item_id(owner_site.engine, milestone, "v12")
    assert get(f"{link}/items/{item}").status_code == 200
    before = table_checksums(owner_site.engine)
    plan = "<b>下周开会</b>"
    answer = post(f"{link}/items/{item}", {"token": token_of(link), "next_steps": plan, **values})
    assert answer.status_code == 422
    block = field_block(answer.text, field)
    assert "field-error" in block and words in block, block
    others = [f for f in ("state", "percent", "problem", "note", "next_steps") if f != field]
    assert all("field-error" not in field_block(answer.text, f) for f in others)
    assert "&lt;b&gt;下周开会&lt;/b&gt;" in field_block(answer.text, "next_steps")
    assert table_checksums(owner_site.engine) == before


def test_another_units_items_are_neither_shown_nor_changed(owner_site: OwnerSite) -> None:
    """A link opens only its own unit's items: every other unit's is a 404, and a 签收 naming
    one of them changes nothing at all, not even the unit's own items named with it."""
    link = owner_site.links["赵六"]
    own, foreign = item_id(owner_site.engine, "M4", "v12"), item_id(owner_site.engine, "M4", "v22")
    get(link)
    before = table_checksums(owner_site.engine)
    assert get(f"{link}/items/{foreign}").status_code == 404
    answer = post(f"{link}/items/{foreign}", {"token": token_of(link), "state": "in_progress"})
    assert answer.status_code == 404 and "不属于本单位" in answer.text
    answer = post(f"{link}/ack", {"token": token_of(link), "item": [str(own), str(foreign)]})
    assert answer.status_code == 404
    answer = post(f"{link}/ack", {"token": token_of(link), "item": ["1 OR 1=1"]})
    assert answer.status_code == 404
    with session_scope(owner_site.engine) as session:
        everyone_elses = session.scalars(
            select(WorkItem.id).join(Unit, Unit.id == WorkItem.unit_id).where(Unit.code != "v12")
        ).all()
    assert len(everyone_elses) > 20
    for other in everyone_elses:
        assert get(f"{link}/items/{other}").status_code == 404
        answer = post(f"{link}/ack", {"token": token_of(link), "item": [str(other)]})
        assert answer.status_code == 404
    assert table_checksums(owner_site.engine) == before


def test_a_form_needs_the_links_own_token_and_this_site(owner_site: OwnerSite) -> None:
    """A post without the link's token, with another person's, or from another site is
    refused (403) and changes nothing."""
    link = owner_site.links["赵六"]
    item = str(item_id(owner_site.engine, "M4", "v12"))
    get(link)
    before = table_checksums(owner_site.engine)
    for data, headers in [
        ({"item": item}, {}),
        ({"item": item, "token": token_of(owner_site.links["孙八"])}, {}),
        ({"item": item, "token": token_of(link)}, {"Sec-Fetch-Site": "cross-site"}),
    ]:
        answer = post(f"{link}/ack", data, headers=headers)
        assert answer.status_code == 403 and "提交被拒绝" in answer.text
    assert table_checksums(owner_site.engine) == before


def test_unknown_pages_are_chinese(owner_site: OwnerSite) -> None:
    """A wrong address or method gets a Chinese page, not JSON."""
    page = get(f"{owner_site.url}/nothing/here")
    assert page.status_code == 404 and "页面不存在" in page.text
    assert get(f"{owner_site.links['赵六']}/ack").status_code == 405
    assert get(f"{owner_site.links['赵六']}/items/abc").status_code == 404
