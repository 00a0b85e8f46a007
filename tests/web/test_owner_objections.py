"""A unit's assessment on its own page and its objection (申诉) form, over HTTP to the site
served by uvicorn (as tests/fixtures/web.py serves it): the small plan of
:mod:`tests.domain.test_assessment`, whose fourth quarter's objections may be filed until
2022-01-10 (the fifth working day after the quarter)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import httpx
import pytest
import uvicorn
from sqlalchemy import Engine, select

from config.settings import Settings
from domain.adapters.signing import workbook_secret
from domain.queries.owner_links import issue_link
from duban.web import create_app
from models import clock
from models.db import session_scope
from models.orm import Unit
from models.records import AssessmentObjection, Contact, Message
from tests.domain.test_assessment import TZ, assessed, cli  # noqa: F401 - the fixture
from tests.fixtures.plan_week import item_id

OPEN_DAY = datetime(2022, 1, 5, 10, tzinfo=ZoneInfo(TZ))
LAST_DAY = datetime(2022, 1, 10, 16, tzinfo=ZoneInfo(TZ))
CLOSED_DAY = datetime(2022, 1, 11, 10, tzinfo=ZoneInfo(TZ))


def link(engine: Engine, settings: Settings, unit: str, name: str) -> str:
    """A contact added to ``unit`` and its personal link, issued on 2022-01-04 for 30 days."""
    with session_scope(engine) as session:
        unit_id = session.scalars(select(Unit.id).where(Unit.code == unit)).one()
        contact = Contact(unit_id=unit_id, name=name, role="liaison", email=f"{unit}@example.cn")
        session.add(contact)
        session.flush()
        issued = issue_link(
            session,
            workbook_secret(settings),
            plan_id="assess-plan",
            unit_code=unit,
            contact_id=contact.id,
            now=datetime(2022, 1, 4, 2, tzinfo=UTC),
            days=30,
        )
    return f"/l/{issued.token}"


@pytest.fixture
def site(
    assessed: Engine,  # noqa: F811
    settings: Settings,
    unused_tcp_port: int,
) -> Iterator[httpx.Client]:
    """The owner's site on the assessed plan, served on a free port; a client of it."""
    settings = settings.model_copy(update={"web_posts_per_minute": 100_000})
    config = uvicorn.Config(
        create_app(settings),
        host="127.0.0.1",
        port=unused_tcp_port,
        log_level="warning",
        lifespan="off",
        ws="none",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    url = f"http://127.0.0.1:{unused_tcp_port}"
    try:
        with httpx.Client(base_url=url, follow_redirects=False, timeout=20) as client:
            yield client
    finally:
        server.should_exit = True
        thread.join(10)


def at(moment: datetime) -> AbstractContextManager[datetime]:
    """The clock at ``moment``, for the test and the server's thread alike."""
    return clock.frozen_time(moment)


def objections(engine: Engine) -> list[tuple[str, int, str, str, str]]:
    with session_scope(engine) as session:
        return [
            (o.period, o.item_id, o.part, o.reason, o.actor)
            for o in session.scalars(select(AssessmentObjection).order_by(AssessmentObjection.id))
        ]


def test_the_page_shows_the_score_and_records_an_objection(
    site: httpx.Client,
    assessed: Engine,  # noqa: F811
    settings: Settings,
) -> None:
    """乙乡's page on 2022-01-05: 25.4 points and its lines, until when it may object; the form
    lists its deductions (C not done, C's 23 working days overdue); the objection is recorded
    as the coordinator's command records it, under the contact's name, with a receipt on the
    page and in the outbox; once upheld the page shows both scores."""
    base = link(assessed, settings, "t2", "张三")
    c = item_id(assessed, "C", "t2")
    with at(OPEN_DAY):
        page = site.get(base).text
        assert "2021年第四季度考评" in page and "<strong>25.4</strong> 分" in page
        assert '逾期扣分</th><td class="minus">−4.6' in page
        assert "可在 <strong>2022年1月10日</strong> 前提出申诉" in page
        form = site.get(f"{base}/assessment").text
        assert f'value="completion:{c}"' in form and f'value="overdue:{c}"' in form
        assert "期内逾期 23 个工作日" in form
        sent = site.post(
            f"{base}/assessment",
            data={
                "token": base.split("/")[-1],
                "deduction": f"overdue:{c}",
                "reason": "已按时办理",
            },
        )
        assert sent.status_code == 303 and sent.headers["location"] == f"{base}/objections/1"
        receipt = site.get(f"{base}/objections/1").text
    assert "申诉已登记" in receipt and "20220105-S000001" in receipt
    assert "逾期扣分" in receipt and "待决定" in receipt and "已按时办理" in receipt
    assert "2021年第四季度" in receipt
    assert objections(assessed) == [
        ("2021-Q4", c, "overdue", "已按时办理", "张三（乙乡·个人链接）")
    ]
    with session_scope(assessed) as session:
        mail = session.scalars(select(Message).where(Message.recipient == "t2/liaison/receipt"))
        assert [m.subject for m in mail] == ["【回执】申诉已登记：乡镇建立制度（20220105-S000001）"]
    cli(OPEN_DAY.date(), "assess", "objection", "decide", "1", "--uphold", "--reason", "属实")
    with at(OPEN_DAY):
        page = site.get(base).text
        form = site.get(f"{base}/assessment").text
    assert "<strong>30.0</strong> 分" in page and "申诉前 25.4 分" in page
    assert f'value="overdue:{c}"' not in form  # contested once: not offered again
    assert "成立" in form and "25.4 → 30.0" in form


def test_bad_input_is_refused_in_chinese_and_writes_nothing(
    site: httpx.Client,
    assessed: Engine,  # noqa: F811
    settings: Settings,
) -> None:
    """No deduction chosen and no reason; another unit's item; a reason too long: the form
    again (422) with each reason beside its field."""
    base = link(assessed, settings, "t2", "张三")
    token = base.split("/")[-1]
    other = item_id(assessed, "B", "zzb")
    with at(OPEN_DAY):
        empty = site.post(f"{base}/assessment", data={"token": token, "reason": "  "})
        foreign = site.post(
            f"{base}/assessment",
            data={"token": token, "deduction": f"completion:{other}", "reason": "理由"},
        )
        long = site.post(
            f"{base}/assessment",
            data={"token": token, "deduction": "nonsense", "reason": "长" * 1001},
        )
    assert empty.status_code == 422
    assert "请从列表中选择要申诉的扣分项" in empty.text and "请写明申诉理由" in empty.text
    assert foreign.status_code == 422 and "请从列表中选择要申诉的扣分项" in foreign.text
    assert long.status_code == 422 and "申诉理由最多 1000 字，现为 1001 字" in long.text
    assert objections(assessed) == []


def test_after_the_window_the_page_says_until_when(
    site: httpx.Client,
    assessed: Engine,  # noqa: F811
    settings: Settings,
) -> None:
    """On 2022-01-10 an objection is still taken; on 01-11 the page says the window closed on
    01-10 and a form sent anyway is refused."""
    base = link(assessed, settings, "t2", "张三")
    token, c = base.split("/")[-1], item_id(assessed, "C", "t2")
    with at(LAST_DAY):
        last = site.post(
            f"{base}/assessment",
            data={"token": token, "deduction": f"completion:{c}", "reason": "已办结"},
        )
    assert last.status_code == 303
    with at(CLOSED_DAY):
        page = site.get(base).text
        form = site.get(f"{base}/assessment").text
        late = site.post(
            f"{base}/assessment",
            data={"token": token, "deduction": f"overdue:{c}", "reason": "迟了"},
        )
    assert "本期申诉期已于 2022年1月10日 结束" in page
    assert "申诉期已于 2022年1月10日 结束" in form and "提交申诉" not in form
    assert late.status_code == 422 and "申诉期已于2022年1月10日结束" in late.text
    assert [o[2] for o in objections(assessed)] == ["completion"]


def test_a_forged_link_or_another_sites_form_is_refused(
    site: httpx.Client,
    assessed: Engine,  # noqa: F811
    settings: Settings,
) -> None:
    """An edited token: 403 链接无效, for the page and the form; a form without the link's
    own token: 403 提交被拒绝. Nothing written."""
    base = link(assessed, settings, "t2", "张三")
    forged = base[:-3] + ("AAA" if not base.endswith("AAA") else "BBB")
    c = item_id(assessed, "C", "t2")
    data = {"deduction": f"overdue:{c}", "reason": "理由"}
    with at(OPEN_DAY):
        page = site.get(f"{forged}/assessment")
        posted = site.post(f"{forged}/assessment", data={"token": forged.split("/")[-1], **data})
        tokenless = site.post(f"{base}/assessment", data=data)
        receipt = site.get(f"{forged}/objections/1")
    assert page.status_code == 403 and "链接无效" in page.text
    assert posted.status_code == 403 and "链接无效" in posted.text
    assert tokenless.status_code == 403 and "提交被拒绝" in tokenless.text
    assert receipt.status_code == 403
    assert objections(assessed) == []


def test_a_village_sees_its_townships_score_and_cannot_object(
    site: httpx.Client,
    assessed: Engine,  # noqa: F811
    settings: Settings,
) -> None:
    """甲一村 is assessed with 甲镇: its page shows 甲镇's 83.4 and says 甲镇 objects; a form
    sent anyway is refused; another unit's receipt is not shown."""
    base = link(assessed, settings, "v11", "李四")
    township = link(assessed, settings, "t1", "王五")
    d = item_id(assessed, "C", "t1")
    with at(OPEN_DAY):
        page = site.get(base).text
        refused = site.post(
            f"{base}/assessment",
            data={"token": base.split("/")[-1], "deduction": f"returned:{d}", "reason": "理由"},
        )
        filed = site.post(
            f"{township}/assessment",
            data={"token": township.split("/")[-1], "deduction": f"returned:{d}", "reason": "有据"},
        )
        other = site.get(f"{link(assessed, settings, 't2', '张三')}/objections/1")
    assert "<strong>83.4</strong> 分" in page and "计入甲镇的考评" in page
    assert "请由甲镇在 2022年1月10日 前提出申诉" in page
    assert (
        refused.status_code == 422
        and "本单位的事项计入甲镇的考评，请由甲镇提出申诉" in refused.text
    )
    assert filed.status_code == 303
    assert other.status_code == 404
    assert [o[2] for o in objections(assessed)] == ["returned"]
