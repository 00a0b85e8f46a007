"""Whole-plan queries on PostgreSQL turn nested loops and JIT off for their transaction only."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from models.db import prefer_hash_joins


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
