"""Two plans in one installation, the old one in its close-out and the new one under way: one
digest per person across both, each plan's items under its own title (see
:mod:`tests.fixtures.two_plans` for the plans and the hand count of the day)."""

from __future__ import annotations

from collections import Counter
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from config.errors import NotFoundError
from config.ladder import load_ladder
from config.settings import Settings
from domain.adapters.channels import FileChannel
from domain.queries.context import resolve_plan
from domain.rules.context import LightPolicy
from domain.services.briefing.issue import issue_briefing
from domain.services.escalation import run_escalation, run_escalation_plans
from domain.services.intake.inbox import collect
from domain.services.workbooks import write_workbook
from duban.sample import fill_workbook
from models.clock import end_of_working_day, frozen_time
from models.db import session_scope
from models.orm import Milestone, Plan, Unit, WorkItem
from models.records import Briefing, Message, Notice, NoticeDelivery
from tests.fixtures.two_plans import BOTH_DUE, NEW, NEW_TITLE, OLD, OLD_TITLE

TZ = "Asia/Shanghai"


def escalate_both(engine: Engine, settings: Settings) -> dict[str, list[Message]]:
    """Both plans' notices of :data:`BOTH_DUE` planned and delivered to files; the messages by
    recipient."""
    with frozen_time(end_of_working_day(BOTH_DUE, TZ)):
        run_escalation_plans(
            engine,
            [NEW, OLD],
            BOTH_DUE,
            load_ladder(),
            policy=LightPolicy(5),
            channel=FileChannel(settings.home / "outbox"),
        )
    with session_scope(engine) as session:
        messages = list(session.scalars(select(Message).order_by(Message.id)))
        session.expunge_all()
    by: dict[str, list[Message]] = {}
    for m in messages:
        by.setdefault(m.recipient, []).append(m)
    return by


def test_a_person_serving_both_plans_gets_one_digest_grouped_by_plan(
    settings: Settings, two_plans: Engine
) -> None:
    """The coordinating unit's liaison is the old plan's coordinator (two townships 10 working
    days overdue) and owns an item of the new plan due today: one message, the old plan first
    (the earlier period), each part under its title, one greeting, one deadline line, one
    signature, the subject counting both."""
    by = escalate_both(two_plans, settings)
    (mzj,) = by["mzj/liaison"]
    body = mzj.body
    assert body.startswith("示例县民政局联络员：\n")
    assert body.count("示例县民政局联络员：") == 1
    assert body.count("（督办系统发送）") == 1
    old_at, new_at = body.index(f"一、{OLD_TITLE}"), body.index(f"二、{NEW_TITLE}")
    assert old_at < new_at
    old_part, new_part = body[old_at:new_at], body[new_at:]
    assert "乡镇自查验收" in old_part and "乡镇自查验收" not in new_part
    assert "印发分工方案" in new_part and "印发分工方案" not in old_part
    assert "已逾期10个工作日" in old_part and "今天到期" in new_part
    # the plans share the reporting day and the coordinator: said once, after both parts
    assert body.count("本期报送截止：2026年1月16日") == 1 and "本期报送截止" not in old_part
    assert body.index("本期报送截止") > body.index("印发分工方案")
    assert mzj.subject == "【督办】示例县民政局：3项逾期、1项待办"  # a missing report too
    assert mzj.status == "sent" and mzj.plan_id == OLD


def test_every_notice_of_both_plans_is_sent_once_and_the_cap_counts_the_digest_once(
    settings: Settings, two_plans: Engine
) -> None:
    """Each recipient of both plans with the same address gets one message; 乙乡's head, another
    person in the new plan, gets one per plan. Every notice is sent; a second run the same day
    sends nothing, even with a new notice of the other plan for a person who had the digest
    across both (the cap of one digest a day holds across the plans)."""
    by = escalate_both(two_plans, settings)
    counts = {r: len(ms) for r, ms in by.items()}
    assert counts == {
        "mzj/liaison": 1,  # old: coordinator; new: owner of N2
        "mzj/head": 1,  # new: owner of N2
        "t1/head": 1,  # old: 逾期通报; new: 到期催办 — one person
        "t2/head": 2,  # a different address in the new plan: two people
        "t1/liaison": 1,  # new only
        "t2/liaison": 1,  # new only
        "xzf/head": 1,  # old: leadership
    }
    with session_scope(two_plans) as session:
        states = Counter(
            (n.plan_id, n.kind, n.status)
            for n in session.scalars(select(Notice).order_by(Notice.id))
        )
        assert states == {
            (OLD, "ladder", "sent"): 2,  # 甲镇, 乙乡
            (NEW, "ladder", "sent"): 3,  # 甲镇, 乙乡, 民政局
            (OLD, "missing_report", "sent"): 2,
            (NEW, "missing_report", "sent"): 3,
        }
        t1 = session.scalars(select(Message).where(Message.recipient == "t1/head")).one()
        plans = session.scalars(
            select(Notice.plan_id)
            .join(NoticeDelivery, NoticeDelivery.notice_id == Notice.id)
            .where(NoticeDelivery.message_id == t1.id)
        ).all()
        assert sorted(plans) == [NEW, OLD]
    again = escalate_both(two_plans, settings)
    assert {r: len(ms) for r, ms in again.items()} == counts
    late_notice(two_plans, NEW, "t1")  # a new-plan notice for 甲镇's head, the same day
    capped = escalate_both(two_plans, settings)
    assert {r: len(ms) for r, ms in capped.items()} == counts  # its one digest went out today


@pytest.mark.parametrize("plan_id", [OLD, NEW])
def test_a_run_of_one_plan_counts_the_digest_across_both_against_the_cap(
    settings: Settings, two_plans: Engine, plan_id: str
) -> None:
    """After the digests across both plans, a late notice of one plan to 甲镇's head and a run of
    that plan alone (``duban escalate --plan``, one plan's daily cycle) the same day: his one
    digest of the day, recorded under the old plan, counts, so nothing goes; his dry run says
    the same; 乙乡's new head (another address) is not that person."""
    escalate_both(two_plans, settings)
    late_notice(two_plans, plan_id, "t1")
    with frozen_time(end_of_working_day(BOTH_DUE, TZ)):
        _, _, dry = run_escalation(
            two_plans, plan_id, BOTH_DUE, load_ladder(), policy=LightPolicy(5), dry_run=True
        )
        assert (dry.sent, dry.capped) == ([], ["t1/head"])
        _, _, report = run_escalation(
            two_plans,
            plan_id,
            BOTH_DUE,
            load_ladder(),
            policy=LightPolicy(5),
            channel=FileChannel(settings.home / "outbox"),
        )
    assert (report.sent, report.capped) == ([], ["t1/head"])
    with session_scope(two_plans) as session:
        heads = session.scalars(select(Message.recipient).where(Message.recipient == "t1/head"))
        assert len(heads.all()) == 1


def test_a_cap_counts_no_other_persons_digest(settings: Settings, two_plans: Engine) -> None:
    """乙乡's head in the old plan and in the new one are two people (two addresses): the old
    head's digest today does not hold back the new head's from a run of the new plan alone."""
    with frozen_time(end_of_working_day(BOTH_DUE, TZ)):
        for plan_id in (OLD, NEW):
            _, _, report = run_escalation(
                two_plans,
                plan_id,
                BOTH_DUE,
                load_ladder(),
                policy=LightPolicy(5),
                channel=FileChannel(settings.home / "outbox"),
            )
            assert "t2/head" not in report.capped
    with session_scope(two_plans) as session:
        addresses = session.scalars(
            select(Message.address).where(Message.recipient == "t2/head").order_by(Message.id)
        ).all()
    assert addresses == ["t2-h@example.cn", "t2-new-h@example.cn"]


def late_notice(engine: Engine, plan_id: str, unit: str) -> None:
    """A pending ladder notice to ``unit``'s head about its first item of the plan, planned late
    on :data:`BOTH_DUE`."""
    with session_scope(engine) as session:
        unit_id = session.scalars(
            select(Unit.id).where(Unit.plan_id == plan_id, Unit.code == unit)
        ).one()
        item = session.scalars(select(WorkItem).where(WorkItem.unit_id == unit_id)).first()
        assert item is not None
        session.add(
            Notice(
                plan_id=plan_id,
                dedupe_key=f"test-late-{unit}",
                kind="ladder",
                item_id=item.id,
                unit_id=unit_id,
                level="due",
                level_name="到期催办",
                due=item.due,
                cycle=0,
                workdays=0,
                roles=["owner:head"],
                rule="测试",
                planned_on=BOTH_DUE,
                planned_at=end_of_working_day(BOTH_DUE, TZ),
                status="pending",
            )
        )


def test_without_plan_two_plans_are_named_to_choose_from(two_plans: Engine) -> None:
    """A command for one plan, with two plans and no --plan, says which ids there are."""
    with session_scope(two_plans) as session:
        with pytest.raises(NotFoundError) as refused:
            resolve_plan(session, None)
        choices = f"{NEW}（{NEW_TITLE}）；{OLD}（{OLD_TITLE}）"
        assert str(refused.value) == f"数据库中有2个规划，请用 --plan 指定其中一个：{choices}"
        assert resolve_plan(session, OLD).title == OLD_TITLE


def test_each_plan_numbers_its_own_briefings(two_plans: Engine, tmp_path: Path) -> None:
    """The weekly briefings of both plans in the same weeks: each plan's series counts from 第1期
    on its own, and regenerating one plan's week keeps its number."""

    def issue(plan_id: str, day: date) -> int:
        with frozen_time(end_of_working_day(day, TZ)), session_scope(two_plans) as session:
            plan = session.get(Plan, plan_id)
            assert plan is not None
            return issue_briefing(
                session,
                plan,
                day,
                formats=["md"],
                out=tmp_path / plan_id,
                policy=LightPolicy(5),
                fonts="",
                actor="测试",
            ).number

    week3, week4 = date(2026, 1, 16), date(2026, 1, 23)
    assert [issue(OLD, week3), issue(NEW, week3)] == [1, 1]
    assert [issue(OLD, week4), issue(NEW, week3), issue(NEW, week4)] == [2, 1, 2]
    with session_scope(two_plans) as session:
        rows = session.execute(
            select(Briefing.plan_id, Briefing.period, Briefing.number).order_by(Briefing.id)
        ).all()
    assert [tuple(r) for r in rows] == [
        (OLD, "2026-W03", 1),
        (NEW, "2026-W03", 1),
        (OLD, "2026-W04", 2),
        (NEW, "2026-W04", 2),
    ]


def test_a_shared_inbox_leaves_each_plans_workbook_to_that_plan(
    settings: Settings, two_plans: Engine, tmp_path: Path
) -> None:
    """The new plan's signed workbook in the one inbox: the old plan's collection leaves it
    there (not 退回 as someone else's), the new plan's lands it."""
    inbox = settings.home / "inbox"
    inbox.mkdir(parents=True, exist_ok=True)
    with frozen_time(end_of_working_day(BOTH_DUE, TZ)):
        with session_scope(two_plans) as session:
            plan = session.get(Plan, NEW)
            unit = session.scalars(select(Unit).where(Unit.plan_id == NEW, Unit.code == "t1")).one()
            assert plan is not None
            path = write_workbook(session, plan, unit, BOTH_DUE, tmp_path).path
            item = session.scalars(
                select(WorkItem.id)
                .join(Milestone, Milestone.id == WorkItem.milestone_id)
                .where(
                    Milestone.plan_id == NEW,
                    Milestone.code == "N1",
                    WorkItem.unit_id == unit.id,
                )
            ).one()
        fill_workbook(path, {item: {"state": "推进中", "percent": 40, "note": "方案初稿已成"}})
        path.rename(inbox / path.name)
        (left,) = collect(two_plans, OLD, inbox)
        assert (left.status, left.other_plan) == ("elsewhere", NEW)
        assert [p.name for p in inbox.iterdir() if p.is_file()] == [path.name]
        (landed,) = collect(two_plans, NEW, inbox)
    assert landed.status == "landed", landed.problems
    assert landed.landed is not None and landed.landed.reports == 1
