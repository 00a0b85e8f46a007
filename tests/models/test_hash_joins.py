"""Whole-plan queries on PostgreSQL turn nested loops and JIT off for their transaction only."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from models.db import nested_loops_allowed, prefer_hash_joins


def test_the_settings_hold_for_the_transaction_and_no_longer(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's planner settings")
    with Session(engine) as session:
        with session.begin():
            prefer_hash_joins(session)
            shown = [
                session.execute(text(f"SHOW {name}")).scalar()
                for name in ("enable_nestloop", "jit")
            ]
            assert shown == ["off", "off"]
        assert session.execute(text("SHOW enable_nestloop")).scalar() == "on"


def nestloop(session: Session) -> object:
    return session.execute(text("SHOW enable_nestloop")).scalar()


def test_nested_loops_come_back_for_a_block_and_go_again(engine: Engine) -> None:
    """A join on a range of days has no plan but a nested loop: the block allows them, and the
    transaction's setting is back after it, even when the block fails."""
    if engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's planner settings")
    with Session(engine) as session, session.begin():
        prefer_hash_joins(session)
        with nested_loops_allowed(session):
            assert nestloop(session) == "on"
        assert nestloop(session) == "off"
        with pytest.raises(ZeroDivisionError), nested_loops_allowed(session):
            1 / 0  # noqa: B018
        assert nestloop(session) == "off"


def test_without_hash_joins_the_block_changes_nothing(engine: Engine) -> None:
    """In a transaction that kept the server's defaults, or a later one, nothing is set."""
    if engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's planner settings")
    with Session(engine) as session:
        with session.begin():
            prefer_hash_joins(session)
        with session.begin(), nested_loops_allowed(session):
            assert nestloop(session) == "on"
        with session.begin():
            assert nestloop(session) == "on"
