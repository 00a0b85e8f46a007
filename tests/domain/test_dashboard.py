"""The coordinator's view (what the flows publish as artifacts), and which failures retry."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine

from config.errors import InputError
from domain.queries.briefing_facts import escalation_levels
from domain.queries.completeness import completeness_view
from domain.queries.desk import unit_cards
from domain.queries.status import milestone_lights, status_view, task_page_status
from domain.rules.dashboard import (
    ATTENTION,
    ATTENTION_ROWS,
    completion,
    completion_page,
    missing_reports_table,
    overdue_table,
    plan_dashboard,
    task_page,
)
from domain.rules.desk import DeskUnit
from models.db import session_scope
from tests.fixtures.context import context_of
from tests.fixtures.plan_week import AS_OF
from tests.fixtures.web import AS_OF as AS_OF_VILLAGES


def views(engine: Engine) -> tuple[Any, Any, dict[int, str], dict[str, DeskUnit]]:
    with session_scope(engine) as session:
        ctx = context_of(session, AS_OF, plan="demo-plan")
        view = status_view(session, ctx, with_items=True)
        done = completeness_view(session, ctx)
        levels = escalation_levels(session, "demo-plan", AS_OF, {i.id: i.due for i in view.items})
        cards = unit_cards(session, "demo-plan", {i.unit for i in view.items})
    return view, done, levels, cards


def test_dashboard_overdue_and_missing_tables(week: Engine) -> None:
    view, done, levels, cards = views(week)
    board = plan_dashboard(view, done)
    assert "| T01 加强领导 | 示例县委组织部 | 11 | 0 | 0 | 1 | 0 | 10 |" in board
    assert "| T02 服务设施 | 示例县民政局 | 4 | 1 | 0 | 2 | 1 | 0 |" in board
    rows = overdue_table(view.items, levels, cards)
    # county departments first, then township by township (甲镇 t1, 乙乡 t2)
    assert [(r["乡镇"], r["责任单位"], r["逾期工作日"], r["督办层级"]) for r in rows] == [
        ("县直", "示例县委组织部", 73, "逾期通报"),
        ("甲镇", "甲一村", 7, "逾期督办"),
        ("乙乡", "乙社区", 7, "逾期督办"),
    ]
    # three units have open overdue items this week; only 甲一村 (v12) reported (on 10-11)
    missing = missing_reports_table(done, cards)
    assert [(r["乡镇"], r["单位"], r["本期截止"]) for r in missing] == [
        ("县直", "示例县委组织部", "2021-10-15"),
        ("乙乡", "乙社区", "2021-10-15"),
    ]
    assert completion(view) == round(100 * 2 / 15, 1)
    assert completion_page(view).startswith(f"# 总体完成 {round(100 * 2 / 15, 1)}%")


def test_the_tables_name_whom_to_call(village_plan: Engine) -> None:
    """The liaison of a unit, with the phone the catalogue gives."""
    with session_scope(village_plan) as session:
        ctx = context_of(session, AS_OF_VILLAGES, plan="demo-plan")
        view = status_view(session, ctx, with_items=True)
        cards = unit_cards(session, "demo-plan", {i.unit for i in view.items})
    rows = overdue_table(view.items, {}, cards)
    people = {(r["责任单位"], r["联系人"]) for r in rows}
    assert ("甲一村", "赵六") in people and ("乙一村", "孙八") in people
    assert list(rows[0])[-1] == "事项"
    assert all(r["乡镇"] in ("县直", "甲镇", "乙乡") for r in rows)


def test_a_task_page_lists_what_needs_attention(week: Engine) -> None:
    view, _, levels, _ = views(week)
    t2 = next(t for t in view.tasks if t.task == "T02")
    with session_scope(week) as session:
        ctx = context_of(session, AS_OF, plan="demo-plan")
        milestones = milestone_lights(session, ctx, task="T02")
        # the daily cycle's page: the same task, milestones and items from one count
        paged, paged_milestones = task_page_status(
            session, ctx, task="T02", only_statuses=ATTENTION, item_limit=ATTENTION_ROWS
        )
    attention = [i for i in view.items if i.task == "T02" and i.status in ATTENTION]
    assert (paged.tasks, paged_milestones, paged.items) == ([t2], milestones, attention)
    page = task_page(t2, milestones, [i for i in view.items if i.task == "T02"], levels, AS_OF)
    assert "| M4 设施摸底 | 4 | 1 | 0 | 2 | 1 | 0 |" in page
    assert "逾期7个工作日" in page and "逾期督办" in page


@pytest.mark.parametrize(
    ("error", "retried"),
    [
        (ConnectionError("database went away"), True),
        (TimeoutError("smtp"), True),
        (InputError("bad catalogue"), False),
        (ValueError("a bug"), False),
    ],
)
def test_only_transient_failures_are_retried(error: Exception, retried: bool) -> None:
    from prefect.states import Failed  # noqa: PLC0415

    from flows.common import retry_on_transient_errors  # noqa: PLC0415

    state: Any = Failed(data=error)
    assert retry_on_transient_errors(None, None, state) is retried  # type: ignore[arg-type]
