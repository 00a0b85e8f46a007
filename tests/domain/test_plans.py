"""Reading a plan by its id: the plan, or a narrow error that says in Chinese what to do."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from config.errors import NotFoundError
from domain.queries.plans import plan_of
from models.db import session_scope


def test_plan_of_finds_a_synced_plan(synced: Engine) -> None:
    """The plan comes back with its catalogue fields."""
    with session_scope(synced) as session:
        plan = plan_of(session, "demo-plan")
        assert (plan.id, plan.title) == ("demo-plan", "示例规划")


def test_plan_of_an_unknown_id_says_to_sync(synced: Engine) -> None:
    """An id the database does not hold is a NotFoundError naming it, not an assertion."""
    with session_scope(synced) as session, pytest.raises(NotFoundError) as raised:
        plan_of(session, "no-such-plan")
    assert "没有规划“no-such-plan”" in str(raised.value)
    assert "duban catalog sync" in str(raised.value)
