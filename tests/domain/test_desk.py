"""The coordinator's queues (待核验销号, 受阻, 延期申请, 退回待重报) read from the database, and
the township and contact the coordinator's tables carry."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Engine

from domain.queries.desk import desk, unit_cards
from domain.queries.items import move_item
from domain.rules.desk import Desk, Queue, blocked_page, problem_of, returned_page, submitted_page
from models import clock
from models.db import session_scope
from models.enums import ItemState
from tests.fixtures.context import context_of
from tests.fixtures.desk import DONE_NOTE, at
from tests.fixtures.plan_week import item_id
from tests.fixtures.web import AS_OF, BLOCK_REASON, RETURN_REASON


def desk_on(engine: Engine, day: date) -> Desk:
    with session_scope(engine) as s:
        return desk(s, context_of(s, day))


def test_each_queue_lists_its_items_oldest_first_with_its_total(queues: Engine) -> None:
    d = desk_on(queues, AS_OF)
    assert d.totals == {
        Queue.SUBMITTED: 2,
        Queue.BLOCKED: 1,
        Queue.RETURNED: 1,
        Queue.EXTENSIONS: 1,
    }
    assert [(i.unit.name, i.since) for i in d.submitted] == [
        ("乙一村", date(2021, 12, 22)),
        ("甲一村", date(2021, 12, 24)),
    ]
    # 12-22 to Monday 12-27: Thursday, Friday and Monday
    assert [i.waiting for i in d.submitted] == [3, 1]
    (blocked,), (returned,) = d.blocked, d.returned
    assert (blocked.id, blocked.unit.township, blocked.unit.contact) == (
        item_id(queues, "M7", "v12"),
        "甲镇",
        "赵六",
    )
    assert problem_of(blocked) == BLOCK_REASON
    assert (returned.id, returned.reason, returned.actor) == (
        item_id(queues, "M8", "v12"),
        RETURN_REASON,
        "民政局",
    )
    (request,) = d.extensions
    assert (request.item_id, request.proposed_due, request.waiting) == (
        item_id(queues, "M6", "v22"),
        date(2022, 1, 14),
        2,
    )


def test_a_submitted_item_carries_the_units_report_and_its_files(queues: Engine) -> None:
    first = desk_on(queues, AS_OF).submitted[0]
    assert (first.report_note, first.report_on) == (DONE_NOTE, date(2021, 12, 22))
    assert [f.name for f in first.files] == ["公示照片1.jpg", "公示照片2.jpg"]
    sha = first.files[0].sha256
    assert first.files[0].relative_path == f"{sha[:2]}/{sha[2:4]}/{sha}.jpg"
    page = submitted_page(desk_on(queues, AS_OF), "/srv/duban/evidence")
    assert "# 待核验销号：共 2 项" in page
    assert f"存放目录：/srv/duban/evidence/{sha[:2]}/{sha[2:4]}/\n" in page
    assert f"文件名（SHA-256）：{sha}.jpg\n" in page
    assert f"`duban evidence {first.files[0].id}`" in page
    assert "未上传文件" in page  # 甲一村 submitted without a file


def test_the_queues_on_an_earlier_day_are_those_of_that_day(queues: Engine) -> None:
    """Replayed from the history: on 12-21 nothing was submitted yet and nothing requested."""
    d = desk_on(queues, date(2021, 12, 21))
    assert d.totals == {
        Queue.SUBMITTED: 0,
        Queue.BLOCKED: 1,
        Queue.RETURNED: 1,
        Queue.EXTENSIONS: 0,
    }


def test_an_item_leaves_the_queue_when_the_coordinator_acts(queues: Engine) -> None:
    with clock.frozen_time(at(AS_OF)), session_scope(queues) as s:
        blocked = item_id(queues, "M7", "v12")
        move_item(s, blocked, ItemState.IN_PROGRESS, actor="民政局", reason=None)
    d = desk_on(queues, AS_OF)
    assert (d.totals[Queue.BLOCKED], d.blocked) == (0, [])
    assert "目前没有受阻的事项。" in blocked_page(d)


def test_a_page_lists_at_most_its_limit_and_says_how_many_more(queues: Engine) -> None:
    with session_scope(queues) as s:
        d = desk(s, context_of(s, AS_OF), limit=1)
    assert (d.totals[Queue.SUBMITTED], len(d.submitted)) == (2, 1)
    assert "下面列出等待最久的 1 项" in submitted_page(d, "/e")
    assert f"退回理由：民政局退回：{RETURN_REASON}" in returned_page(d)


def test_a_units_card_names_its_township_and_whom_to_call(queues: Engine) -> None:
    """A village's township is its parent; a department is 县直; the liaison comes first."""
    with session_scope(queues) as s:
        cards = unit_cards(s, "demo-plan", ["v12", "t2", "mzj", "v21"])
    assert {c: (u.township, u.contact, u.phone) for c, u in cards.items()} == {
        "v12": ("甲镇", "赵六", None),
        "t2": ("乙乡", None, None),
        "mzj": ("县直", "王五", "0875-1234567"),
        "v21": ("乙乡", None, None),
    }
